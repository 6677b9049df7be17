"""The issue's acceptance stories: a distributed Map over a 1,000-line CSV in S3 writing its results to S3; the
same workflow in JSONata and in JSONPath giving the same output; a one-day Wait that completes when the clock
moves a day and survives a restart of a real `overcast start` process."""

import json

import pytest

from tests.server_process import ServerProcess
from tests.services.stepfunctions.conftest import TRUST, finished, history, run, types
from tests.waiting import wait_for


def test_distributed_map_over_a_csv_in_s3_writes_results_to_s3(overcast, sfn, machine):
    s3 = overcast.client("s3")
    s3.create_bucket(Bucket="data")
    lines = ["sku,qty,price"] + [f"sku-{i},{i % 7 + 1},{i % 10}.5" for i in range(1000)]
    s3.put_object(Bucket="data", Key="orders.csv", Body="\n".join(lines).encode())
    definition = {
        "StartAt": "Lines",
        "States": {
            "Lines": {
                "Type": "Map",
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:getObject",
                    "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
                    "Parameters": {"Bucket": "data", "Key.$": "$.key"},
                },
                "ItemSelector": {"line.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index"},
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "Price",
                    "States": {
                        "Price": {
                            "Type": "Pass",
                            "Parameters": {
                                "sku.$": "$.line.sku",
                                "index.$": "$.index",
                                "label.$": "States.Format('{} x {}', $.line.qty, $.line.sku)",
                            },
                            "End": True,
                        }
                    },
                },
                "MaxConcurrency": 100,
                "Label": "prices",
                "ResultWriter": {
                    "Resource": "arn:aws:states:::s3:putObject",
                    "Parameters": {"Bucket": "data", "Prefix": "results"},
                },
                "End": True,
            }
        },
    }
    done = run(sfn, machine(definition, name="csv"), {"key": "orders.csv"})
    assert done["status"] == "SUCCEEDED", done
    output = json.loads(done["output"])
    manifest_key = output["ResultWriterDetails"]["Key"]
    assert output["ResultWriterDetails"]["Bucket"] == "data" and manifest_key.startswith("results/")
    manifest = json.loads(s3.get_object(Bucket="data", Key=manifest_key)["Body"].read())
    assert manifest["MapRunArn"] == output["MapRunArn"] and manifest["DestinationBucket"] == "data"
    [succeeded] = manifest["ResultFiles"]["SUCCEEDED"]
    results = json.loads(s3.get_object(Bucket="data", Key=succeeded["Key"])["Body"].read())
    assert len(results) == 1000 and {r["Status"] for r in results} == {"SUCCEEDED"}
    outputs = [json.loads(r["Output"]) for r in results]
    assert outputs[0] == {"sku": "sku-0", "index": 0, "label": "1 x sku-0"}
    assert outputs[999] == {"sku": "sku-999", "index": 999, "label": "6 x sku-999"}
    run_info = sfn.describe_map_run(mapRunArn=output["MapRunArn"])
    assert run_info["status"] == "SUCCEEDED" and run_info["maxConcurrency"] == 100
    assert run_info["itemCounts"]["succeeded"] == 1000 and run_info["itemCounts"]["total"] == 1000
    assert run_info["itemCounts"]["resultsWritten"] == 1000
    assert ":mapRun:csv/prices:" in output["MapRunArn"]
    listed = sfn.list_map_runs(executionArn=done["executionArn"])["mapRuns"]
    assert [r["mapRunArn"] for r in listed] == [output["MapRunArn"]]
    kinds = types(history(sfn, done["executionArn"]))  # iterations keep their history out of the parent's
    assert kinds == [
        "ExecutionStarted",
        "MapStateEntered",
        "MapStateStarted",
        "MapRunStarted",
        "MapRunSucceeded",
        "MapStateSucceeded",
        "MapStateExited",
        "ExecutionSucceeded",
    ]


def test_distributed_map_tolerated_failures_and_batches(overcast, sfn, machine):
    items = [{"n": i} for i in range(10)]
    definition = {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemBatcher": {"MaxItemsPerBatch": 3, "BatchInput": {"run.$": "$.run"}},
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                    "StartAt": "Check",
                    "States": {
                        "Check": {
                            "Type": "Choice",
                            "Choices": [{"Variable": "$.Items[0].n", "NumericEquals": 9, "Next": "Bad"}],
                            "Default": "Ok",
                        },
                        "Bad": {"Type": "Fail", "Error": "LastBatch"},
                        "Ok": {"Type": "Pass", "End": True},
                    },
                },
                "ToleratedFailureCount": 1,
                "End": True,
            }
        },
    }
    done = run(sfn, machine(definition, name="batches"), {"items": items, "run": "r1"})
    assert done["status"] == "SUCCEEDED", done
    output = json.loads(done["output"])
    assert [len(batch.get("Items", [])) for batch in output[:3]] == [3, 3, 3]
    assert output[0]["BatchInput"] == {"run": "r1"}
    assert output[3] == {"Error": "LastBatch"}
    strict = json.loads(json.dumps(definition))
    strict["States"]["Each"]["ToleratedFailureCount"] = 0
    failed = run(sfn, machine(strict, name="strict"), {"items": items, "run": "r2"})
    assert failed["status"] == "FAILED" and failed["error"] == "States.ExceedToleratedFailureThreshold"


JSONPATH_WORKFLOW = {
    "StartAt": "Prices",
    "States": {
        "Prices": {
            "Type": "Map",
            "ItemsPath": "$.lines",
            "ItemSelector": {"line.$": "$$.Map.Item.Value", "rate.$": "$.rate"},
            "ItemProcessor": {
                "StartAt": "Line",
                "States": {
                    "Line": {
                        "Type": "Pass",
                        "Parameters": {"sku.$": "$.line.sku", "cost.$": "States.MathAdd($.line.qty, $.rate)"},
                        "End": True,
                    }
                },
            },
            "ResultPath": "$.priced",
            "Next": "Size",
        },
        "Size": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.priced[2]", "IsPresent": True, "Next": "Large"}],
            "Default": "Small",
        },
        "Large": {
            "Type": "Pass",
            "Parameters": {"size": "large", "skus.$": "$.priced[*].sku", "first.$": "$.priced[0]"},
            "Next": "Both",
        },
        "Small": {"Type": "Pass", "Parameters": {"size": "small"}, "Next": "Both"},
        "Both": {
            "Type": "Parallel",
            "Branches": [
                {
                    "StartAt": "Count",
                    "States": {
                        "Count": {
                            "Type": "Pass",
                            "Parameters": {"count.$": "States.ArrayLength($.skus)"},
                            "End": True,
                        }
                    },
                },
                {
                    "StartAt": "Echo",
                    "States": {"Echo": {"Type": "Pass", "OutputPath": "$.first", "End": True}},
                },
            ],
            "ResultSelector": {"count.$": "$[0].count", "first.$": "$[1]"},
            "ResultPath": "$.summary",
            "OutputPath": "$.summary",
            "End": True,
        },
    },
}

JSONATA_WORKFLOW = {
    "QueryLanguage": "JSONata",
    "StartAt": "Prices",
    "States": {
        "Prices": {
            "Type": "Map",
            "Items": "{% $states.input.lines %}",
            "ItemSelector": {
                "line": "{% $states.context.Map.Item.Value %}",
                "rate": "{% $states.input.rate %}",
            },
            "ItemProcessor": {
                "StartAt": "Line",
                "States": {
                    "Line": {
                        "Type": "Pass",
                        "Output": {
                            "sku": "{% $states.input.line.sku %}",
                            "cost": "{% $states.input.line.qty + $states.input.rate %}",
                        },
                        "End": True,
                    }
                },
            },
            "Assign": {"priced": "{% $states.result %}"},
            "Next": "Size",
        },
        "Size": {
            "Type": "Choice",
            "Choices": [{"Condition": "{% $count($priced) > 2 %}", "Next": "Large"}],
            "Default": "Small",
        },
        "Large": {
            "Type": "Pass",
            "Output": {"size": "large", "skus": "{% $priced.sku %}", "first": "{% $priced[0] %}"},
            "Next": "Both",
        },
        "Small": {"Type": "Pass", "Output": {"size": "small"}, "Next": "Both"},
        "Both": {
            "Type": "Parallel",
            "Branches": [
                {
                    "StartAt": "Count",
                    "States": {
                        "Count": {
                            "Type": "Pass",
                            "Output": {"count": "{% $count($states.input.skus) %}"},
                            "End": True,
                        }
                    },
                },
                {
                    "StartAt": "Echo",
                    "States": {"Echo": {"Type": "Pass", "Output": "{% $states.input.first %}", "End": True}},
                },
            ],
            "Output": {"count": "{% $states.result[0].count %}", "first": "{% $states.result[1] %}"},
            "End": True,
        },
    },
}


def test_the_same_workflow_in_jsonata_and_jsonpath_gives_the_same_output(sfn, machine):
    data = {"rate": 10, "lines": [{"sku": "a", "qty": 1}, {"sku": "b", "qty": 2}, {"sku": "c", "qty": 3}]}
    by_path = run(sfn, machine(JSONPATH_WORKFLOW, name="by-path"), data)
    by_jsonata = run(sfn, machine(JSONATA_WORKFLOW, name="by-jsonata"), data)
    assert by_path["status"] == by_jsonata["status"] == "SUCCEEDED", (by_path, by_jsonata)
    expected = {"count": 3, "first": {"sku": "a", "cost": 11}}
    assert json.loads(by_path["output"]) == json.loads(by_jsonata["output"]) == expected


@pytest.mark.slow
def test_a_one_day_wait_completes_when_the_clock_moves_and_survives_a_restart(tmp_path):
    server = ServerProcess(tmp_path)
    try:
        iam, sfn = server.client("iam"), server.client("stepfunctions")
        role = iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
        definition = {
            "StartAt": "Sleep",
            "States": {
                "Sleep": {"Type": "Wait", "Seconds": 86400, "Next": "Wake"},
                "Wake": {"Type": "Pass", "Parameters": {"woke.$": "$$.State.EnteredTime"}, "End": True},
            },
        }
        arn = sfn.create_state_machine(name="day", definition=json.dumps(definition), roleArn=role)[
            "stateMachineArn"
        ]
        execution = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
        wait_for(lambda: "WaitStateEntered" in types(history(sfn, execution)))
        server.stop()  # the execution is mid-wait: its state is only in the data directory now
        server = ServerProcess(tmp_path, port=server.port)
        sfn = server.client("stepfunctions")
        assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"
        assert server.cli("clock", "advance", "1d").returncode == 0
        done = finished(sfn, execution)
        assert done["status"] == "SUCCEEDED"
        kinds = types(history(sfn, execution))
        assert kinds == [
            "ExecutionStarted",
            "WaitStateEntered",
            "WaitStateExited",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded",
        ]
        started = history(sfn, execution)[0]["timestamp"]
        woke = json.loads(done["output"])["woke"]
        assert woke[:10] > started.strftime("%Y-%m-%d")  # the Pass state ran a day later, on the clock
    finally:
        server.stop()
