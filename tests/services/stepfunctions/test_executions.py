"""Executions through boto3: every state type, input/output processing, errors and their handling on the
virtual clock, history events, the execution API (list, stop, redrive, sync Express) and TestState."""

import json

from tests.services.stepfunctions.conftest import code, failure, finished, history, run, types
from tests.waiting import wait_for

MISSING_FUNCTION = "arn:aws:lambda:us-east-1:000000000000:function:does-not-exist"


def test_pass_choice_parallel_map_and_the_history(sfn, machine):
    definition = {
        "Comment": "every flow state",
        "StartAt": "Seed",
        "States": {
            "Seed": {
                "Type": "Pass",
                "Result": {"n": 3, "items": [1, 2, 3]},
                "ResultPath": "$.seed",
                "Next": "Pick",
            },
            "Pick": {
                "Type": "Choice",
                "Choices": [
                    {
                        "And": [
                            {"Variable": "$.seed.n", "NumericGreaterThan": 2},
                            {"Variable": "$.seed.items", "IsPresent": True},
                        ],
                        "Next": "Both",
                    },
                ],
                "Default": "Never",
            },
            "Both": {
                "Type": "Parallel",
                "Branches": [
                    {
                        "StartAt": "Square",
                        "States": {
                            "Square": {
                                "Type": "Map",
                                "ItemsPath": "$.seed.items",
                                "MaxConcurrency": 2,
                                "ItemSelector": {
                                    "value.$": "$$.Map.Item.Value",
                                    "index.$": "$$.Map.Item.Index",
                                },
                                "ItemProcessor": {
                                    "StartAt": "Echo",
                                    "States": {"Echo": {"Type": "Pass", "End": True}},
                                },
                                "End": True,
                            }
                        },
                    },
                    {
                        "StartAt": "Greet",
                        "States": {
                            "Greet": {
                                "Type": "Pass",
                                "Parameters": {"text.$": "States.Format('n={}', $.seed.n)"},
                                "End": True,
                            }
                        },
                    },
                ],
                "ResultSelector": {"mapped.$": "$[0]", "greeting.$": "$[1].text"},
                "ResultPath": "$.out",
                "OutputPath": "$.out",
                "Next": "Done",
            },
            "Never": {"Type": "Fail", "Error": "Unexpected"},
            "Done": {"Type": "Succeed"},
        },
    }
    arn = machine(definition, name="flow")
    done = run(sfn, arn, {"start": True})
    assert done["status"] == "SUCCEEDED"
    assert json.loads(done["output"]) == {
        "mapped": [{"value": 1, "index": 0}, {"value": 2, "index": 1}, {"value": 3, "index": 2}],
        "greeting": "n=3",
    }
    events = history(sfn, done["executionArn"])
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    kinds = types(events)
    assert kinds[:6] == [
        "ExecutionStarted",
        "PassStateEntered",
        "PassStateExited",
        "ChoiceStateEntered",
        "ChoiceStateExited",
        "ParallelStateEntered",
    ]
    assert kinds[-4:] == [
        "ParallelStateExited",
        "SucceedStateEntered",
        "SucceedStateExited",
        "ExecutionSucceeded",
    ]
    assert kinds.count("MapIterationStarted") == 3 and kinds.count("MapIterationSucceeded") == 3
    started = events[0]["executionStartedEventDetails"]
    assert json.loads(started["input"]) == {"start": True} and started["roleArn"].endswith("role/sfn-role")
    entered = events[1]["stateEnteredEventDetails"]
    assert entered["name"] == "Seed" and json.loads(entered["input"]) == {"start": True}
    assert events[1]["previousEventId"] == 1
    reverse = sfn.get_execution_history(executionArn=done["executionArn"], reverseOrder=True, maxResults=1)
    assert reverse["events"][0]["type"] == "ExecutionSucceeded" and reverse["nextToken"]


def test_wait_sleeps_on_the_virtual_clock(overcast, sfn, machine):
    definition = {
        "StartAt": "Nap",
        "States": {
            "Nap": {"Type": "Wait", "SecondsPath": "$.seconds", "Next": "Until"},
            "Until": {"Type": "Wait", "TimestampPath": "$.until", "End": True},
        },
    }
    arn = machine(definition, name="waits")
    execution = sfn.start_execution(
        stateMachineArn=arn, input=json.dumps({"seconds": 3600, "until": "2000-01-01T00:00:00Z"})
    )["executionArn"]
    wait_for(lambda: "WaitStateEntered" in types(history(sfn, execution)))
    assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"
    overcast.advance_clock("1h")
    done = finished(sfn, execution)
    assert done["status"] == "SUCCEEDED"  # the timestamp in the past does not wait at all


def test_retry_intervals_follow_the_clock_then_catch(overcast, sfn, machine):
    definition = {
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": MISSING_FUNCTION,
                "Retry": [
                    {
                        "ErrorEquals": ["Lambda.ResourceNotFoundException"],
                        "IntervalSeconds": 60,
                        "BackoffRate": 2.0,
                        "MaxAttempts": 2,
                    }
                ],
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Recover"}],
                "Next": "Done",
            },
            "Recover": {"Type": "Pass", "End": True},
            "Done": {"Type": "Succeed"},
        },
    }
    arn = machine(definition, name="retries")
    execution = sfn.start_execution(stateMachineArn=arn, input='{"order": 7}')["executionArn"]
    wait_for(lambda: types(history(sfn, execution)).count("LambdaFunctionFailed") == 1)
    overcast.advance_clock(60)
    wait_for(lambda: types(history(sfn, execution)).count("LambdaFunctionFailed") == 2)
    assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"  # the next wait is 120 s
    overcast.advance_clock(120)
    done = finished(sfn, execution)
    assert done["status"] == "SUCCEEDED"
    output = json.loads(done["output"])
    assert output["order"] == 7 and output["error"]["Error"] == "Lambda.ResourceNotFoundException"
    kinds = types(history(sfn, execution))
    assert kinds.count("LambdaFunctionScheduled") == 3
    assert kinds[-3:] == ["PassStateEntered", "PassStateExited", "ExecutionSucceeded"]


def test_fail_state_paths_and_an_uncaught_error(sfn, machine):
    definition = {
        "StartAt": "Boom",
        "States": {
            "Boom": {
                "Type": "Fail",
                "ErrorPath": "$.code",
                "CausePath": "States.Format('order {} failed', $.id)",
            }
        },
    }
    done = run(sfn, machine(definition, name="fails"), {"code": "OrderError", "id": 9})
    assert done["status"] == "FAILED" and done["error"] == "OrderError" and done["cause"] == "order 9 failed"
    assert types(history(sfn, done["executionArn"]))[-2:] == ["FailStateEntered", "ExecutionFailed"]


def test_runtime_errors_fail_the_execution_even_with_catch_all(sfn, machine):
    definition = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "X", "States": {"X": {"Type": "Pass", "InputPath": "$.nope", "End": True}}}
                ],
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Succeed"},
        },
    }
    done = run(sfn, machine(definition, name="runtime"))
    assert done["status"] == "FAILED" and done["error"] == "States.Runtime"
    assert "Invalid path '$.nope'" in done["cause"]


def test_no_choice_matched_and_parallel_branch_failure_caught(sfn, machine):
    definition = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "Branches": [
                    {
                        "StartAt": "C",
                        "States": {
                            "C": {
                                "Type": "Choice",
                                "Choices": [{"Variable": "$.x", "StringEquals": "never", "Next": "D"}],
                            },
                            "D": {"Type": "Succeed"},
                        },
                    },
                    {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 86400, "End": True}}},
                ],
                "Catch": [
                    {"ErrorEquals": ["States.NoChoiceMatched"], "ResultPath": "$.why", "Next": "Caught"}
                ],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    done = run(sfn, machine(definition, name="branchfail"), {"x": "y"})
    assert done["status"] == "SUCCEEDED"
    assert json.loads(done["output"])["why"]["Error"] == "States.NoChoiceMatched"
    assert "ParallelStateFailed" in types(history(sfn, done["executionArn"]))


def test_execution_timeout(overcast, sfn, machine):
    definition = {
        "TimeoutSeconds": 30,
        "StartAt": "W",
        "States": {"W": {"Type": "Wait", "Seconds": 600, "End": True}},
    }
    execution = sfn.start_execution(stateMachineArn=machine(definition, name="slow"))["executionArn"]
    wait_for(lambda: "WaitStateEntered" in types(history(sfn, execution)))
    overcast.advance_clock(31)
    done = finished(sfn, execution)
    assert done["status"] == "TIMED_OUT"
    assert types(history(sfn, execution))[-1] == "ExecutionTimedOut"


def test_start_is_idempotent_by_name_for_standard(sfn, machine):
    arn = machine(
        {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}}, name="idem"
    )
    first = sfn.start_execution(stateMachineArn=arn, name="once", input='{"a": 1}')
    again = sfn.start_execution(stateMachineArn=arn, name="once", input='{"a": 1}')
    assert (
        again["executionArn"] == first["executionArn"] == f"{arn.replace('stateMachine', 'execution')}:once"
    )
    clash = failure(lambda: sfn.start_execution(stateMachineArn=arn, name="once", input='{"a": 2}'))
    assert clash["Code"] == "ExecutionAlreadyExists"
    assert clash["Message"] == f"Execution Already Exists: '{first['executionArn']}'"
    assert code(lambda: sfn.start_execution(stateMachineArn=arn, input="{nope")) == "InvalidExecutionInput"
    missing = arn + "-missing"
    assert code(lambda: sfn.start_execution(stateMachineArn=missing)) == "StateMachineDoesNotExist"


def test_stop_list_and_describe(sfn, machine):
    arn = machine(
        {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}}, name="lists"
    )
    executions = [sfn.start_execution(stateMachineArn=arn, name=f"e{i}")["executionArn"] for i in range(3)]
    stopped = sfn.stop_execution(executionArn=executions[0], error="Manual", cause="operator")
    assert stopped["stopDate"]
    described = sfn.describe_execution(executionArn=executions[0])
    assert (
        described["status"] == "ABORTED"
        and described["error"] == "Manual"
        and described["cause"] == "operator"
    )
    assert types(history(sfn, executions[0]))[-1] == "ExecutionAborted"
    running = sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING")["executions"]
    assert sorted(e["name"] for e in running) == ["e1", "e2"]
    page = sfn.list_executions(stateMachineArn=arn, maxResults=2)
    rest = sfn.list_executions(stateMachineArn=arn, maxResults=2, nextToken=page["nextToken"])
    assert [e["name"] for e in page["executions"] + rest["executions"]] == ["e2", "e1", "e0"]
    for_execution = sfn.describe_state_machine_for_execution(executionArn=executions[1])
    assert (
        for_execution["stateMachineArn"] == arn and json.loads(for_execution["definition"])["StartAt"] == "W"
    )
    assert code(lambda: sfn.describe_execution(executionArn=executions[0] + "x")) == "ExecutionDoesNotExist"


def test_redrive_starts_again_from_the_failed_state(overcast, sfn, machine):
    definition = {
        "StartAt": "First",
        "States": {
            "First": {"Type": "Pass", "Result": "ran", "ResultPath": "$.first", "Next": "Check"},
            "Check": {"Type": "Task", "Resource": MISSING_FUNCTION, "End": True},
        },
    }
    done = run(sfn, machine(definition, name="redrive"))
    assert done["status"] == "FAILED" and done["redriveStatus"] == "REDRIVABLE"
    redriven = sfn.redrive_execution(executionArn=done["executionArn"])
    assert redriven["redriveDate"]
    again = finished(sfn, done["executionArn"])
    assert again["status"] == "FAILED" and again["redriveCount"] == 1
    events = history(sfn, done["executionArn"])
    kinds = types(events)
    assert kinds.count("PassStateEntered") == 1 and "ExecutionRedriven" in kinds
    # the redriven run numbers its events on from the first run's last, one by one
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    assert all(0 <= e["previousEventId"] < e["id"] for e in events)
    assert kinds.count("TaskStateEntered") == 2
    succeeded = run(
        sfn, machine({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}, name="fine")
    )
    assert (
        code(lambda: sfn.redrive_execution(executionArn=succeeded["executionArn"]))
        == "ExecutionNotRedrivable"
    )


def test_express_sync_executions(sfn, sfn_sync, machine):
    arn = machine(
        {
            "StartAt": "A",
            "States": {
                "A": {"Type": "Pass", "Parameters": {"doubled.$": "States.MathAdd($.n, $.n)"}, "End": True}
            },
        },
        name="quick",
        type="EXPRESS",
    )
    result = sfn_sync.start_sync_execution(stateMachineArn=arn, input='{"n": 21}', name="one")
    assert result["status"] == "SUCCEEDED" and json.loads(result["output"]) == {"doubled": 42}
    assert result["executionArn"].startswith("arn:aws:states:us-east-1:000000000000:express:quick:one:")
    assert result["billingDetails"]["billedMemoryUsedInMB"] == 64
    failed = sfn_sync.start_sync_execution(stateMachineArn=arn, input='{"n": "x"}')
    assert failed["status"] == "FAILED" and failed["error"] == "States.IntrinsicFailure"
    standard = machine({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}, name="std")
    assert (
        code(lambda: sfn_sync.start_sync_execution(stateMachineArn=standard))
        == "StateMachineTypeNotSupported"
    )
    assert code(lambda: sfn.list_executions(stateMachineArn=arn)) == "StateMachineTypeNotSupported"
    assert code(lambda: sfn.describe_execution(executionArn=result["executionArn"])) == "InvalidArn"


def test_express_async_runs_and_leaves_no_history(sfn, machine):
    arn = machine(
        {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}, name="fire", type="EXPRESS"
    )
    started = sfn.start_execution(stateMachineArn=arn, input="{}")
    assert ":express:fire:" in started["executionArn"]


def test_jsonata_assign_output_and_variable_scopes(sfn, machine):
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Init",
        "States": {
            "Init": {
                "Type": "Pass",
                "Assign": {"rate": 2, "label": "{% 'order-' & $states.input.id %}"},
                "Output": "{% $states.input.items %}",
                "Next": "Each",
            },
            "Each": {
                "Type": "Map",
                "Items": "{% $states.input %}",
                "ItemSelector": {
                    "value": "{% $states.context.Map.Item.Value %}",
                    "index": "{% $states.context.Map.Item.Index %}",
                },
                "ItemProcessor": {
                    "StartAt": "Price",
                    "States": {
                        "Price": {
                            "Type": "Pass",
                            "Assign": {"inner": 1},
                            "Output": "{% $states.input.value * $rate %}",
                            "End": True,
                        }
                    },
                },
                "Assign": {"total": "{% $sum($states.result) %}"},
                "Output": {"label": "{% $label %}", "prices": "{% $states.result %}"},
                "Next": "Decide",
            },
            "Decide": {
                "Type": "Choice",
                "Choices": [
                    {
                        "Condition": "{% $total > 10 %}",
                        "Next": "Big",
                        "Output": "{% $merge([$states.input, {'total': $total}]) %}",
                    }
                ],
                "Default": "Small",
            },
            "Big": {"Type": "Succeed"},
            "Small": {"Type": "Fail", "Error": "Small"},
        },
    }
    done = run(sfn, machine(definition, name="jsonata"), {"id": 5, "items": [1, 2, 3]})
    assert done["status"] == "SUCCEEDED"
    assert json.loads(done["output"]) == {"label": "order-5", "prices": [2, 4, 6], "total": 12}
    exited = [e for e in history(sfn, done["executionArn"]) if e["type"] == "PassStateExited"][0]
    assert exited["stateExitedEventDetails"]["assignedVariables"] == {"rate": "2", "label": '"order-5"'}


def test_jsonata_errors_are_query_evaluation_errors(sfn, machine):
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Bad",
        "States": {"Bad": {"Type": "Pass", "Output": "{% $states.input.a + 'x' %}", "End": True}},
    }
    done = run(sfn, machine(definition, name="badata"), {"a": 1})
    assert done["status"] == "FAILED" and done["error"] == "States.QueryEvaluationError"


def test_test_state_runs_one_state_with_inspection_data(sfn_sync, role):
    state = {
        "Type": "Pass",
        "InputPath": "$.order",
        "Parameters": {"id.$": "$.id"},
        "ResultPath": "$.copy",
        "Next": "Later",
    }
    result = sfn_sync.test_state(
        definition=json.dumps(state), roleArn=role, input='{"order": {"id": 3}}', inspectionLevel="DEBUG"
    )
    assert result["status"] == "SUCCEEDED" and result["nextState"] == "Later"
    # ResultPath places the result into the state's original input (InputPath only shaped what went in)
    assert json.loads(result["output"]) == {"order": {"id": 3}, "copy": {"id": 3}}
    assert json.loads(result["inspectionData"]["afterInputPath"]) == {"id": 3}
    assert json.loads(result["inspectionData"]["afterParameters"]) == {"id": 3}
    choice = {
        "Type": "Choice",
        "Choices": [{"Variable": "$.n", "NumericGreaterThan": 1, "Next": "Big"}],
        "Default": "Small",
    }
    assert sfn_sync.test_state(definition=json.dumps(choice), input='{"n": 5}')["nextState"] == "Big"
    task = {
        "Type": "Task",
        "Resource": MISSING_FUNCTION,
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "F"}],
        "End": True,
    }
    caught = sfn_sync.test_state(definition=json.dumps(task), roleArn=role, input="{}")
    assert caught["status"] == "CAUGHT_ERROR" and caught["nextState"] == "F"
    assert caught["error"] == "Lambda.ResourceNotFoundException"
    assert (
        code(lambda: sfn_sync.test_state(definition='{"Type": "Nope"}', input="{}")) == "ValidationException"
    )


def test_inline_map_iteration_failure_fails_the_map_into_its_catch(sfn, machine):
    definition = {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "MaxConcurrency": 1,
                "ItemProcessor": {
                    "StartAt": "Check",
                    "States": {
                        "Check": {
                            "Type": "Choice",
                            "Choices": [{"Variable": "$", "NumericGreaterThan": 2, "Next": "TooBig"}],
                            "Default": "Ok",
                        },
                        "TooBig": {"Type": "Fail", "Error": "TooBig", "Cause": "over two"},
                        "Ok": {"Type": "Succeed"},
                    },
                },
                "Catch": [{"ErrorEquals": ["TooBig"], "ResultPath": "$.failure", "Next": "Handled"}],
                "End": True,
            },
            "Handled": {"Type": "Pass", "End": True},
        },
    }
    done = run(sfn, machine(definition, name="mapfail"), {"items": [1, 2, 3, 4]})
    assert done["status"] == "SUCCEEDED"
    assert json.loads(done["output"])["failure"] == {"Error": "TooBig", "Cause": "over two"}
    kinds = types(history(sfn, done["executionArn"]))
    assert kinds.count("MapIterationStarted") == 3  # one at a time: the fourth never started
    assert kinds.count("MapIterationFailed") == 1 and "MapStateFailed" in kinds


def test_result_path_into_a_non_object_is_a_match_failure(sfn, machine):
    definition = {
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "Result": 1, "ResultPath": "$.x", "End": True}},
    }
    done = run(sfn, machine(definition, name="rpmf"), [1, 2])
    assert done["status"] == "FAILED" and done["error"] == "States.ResultPathMatchFailure"


def test_jsonata_catch_sees_the_error_output(sfn, machine):
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "Branches": [
                    {
                        "StartAt": "F",
                        "States": {
                            "F": {
                                "Type": "Fail",
                                "Error": "{% 'Bad' & $states.input.kind %}",
                                "Cause": "nope",
                            }
                        },
                    }
                ],
                "Catch": [
                    {
                        "ErrorEquals": ["BadInput"],
                        "Next": "Handled",
                        "Assign": {"seen": "{% $states.errorOutput.Error %}"},
                        "Output": {"error": "{% $states.errorOutput %}", "input": "{% $states.input %}"},
                    }
                ],
                "End": True,
            },
            "Handled": {
                "Type": "Pass",
                "Output": {"seen": "{% $seen %}", "was": "{% $states.input %}"},
                "End": True,
            },
        },
    }
    done = run(sfn, machine(definition, name="jcatch"), {"kind": "Input"})
    assert done["status"] == "SUCCEEDED"
    assert json.loads(done["output"]) == {
        "seen": "BadInput",
        "was": {"error": {"Error": "BadInput", "Cause": "nope"}, "input": {"kind": "Input"}},
    }


def test_wait_until_a_future_timestamp_on_the_clock(overcast, sfn, machine):
    import datetime

    soon = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=30)
    definition = {"StartAt": "W", "States": {"W": {"Type": "Wait", "TimestampPath": "$.at", "End": True}}}
    execution = sfn.start_execution(
        stateMachineArn=machine(definition, name="until"),
        input=json.dumps({"at": soon.strftime("%Y-%m-%dT%H:%M:%SZ")}),
    )["executionArn"]
    wait_for(lambda: "WaitStateEntered" in types(history(sfn, execution)))
    overcast.advance_clock("29d")
    assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"
    overcast.advance_clock("2d")
    assert finished(sfn, execution)["status"] == "SUCCEEDED"


def test_nested_sync_child_failure_fails_the_parent_task(sfn, machine):
    child = machine(
        {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "ChildBroke"}}}, name="badchild"
    )
    parent = machine(
        {
            "StartAt": "Run",
            "States": {
                "Run": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::states:startExecution.sync:2",
                    "Parameters": {"StateMachineArn": child},
                    "End": True,
                }
            },
        },
        name="badparent",
    )
    done = run(sfn, parent)
    assert done["status"] == "FAILED" and done["error"] == "States.TaskFailed"
    assert json.loads(done["cause"])["Error"] == "ChildBroke"


def test_stopping_an_execution_invalidates_its_task_token(overcast, sfn, machine):
    sqs = overcast.client("sqs")
    queue = sqs.create_queue(QueueName="tokens")["QueueUrl"]
    definition = {
        "StartAt": "Ask",
        "States": {
            "Ask": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {"QueueUrl": queue, "MessageBody.$": "$$.Task.Token"},
                "End": True,
            }
        },
    }
    execution = sfn.start_execution(stateMachineArn=machine(definition, name="stopped"))["executionArn"]
    token = wait_for(lambda: sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages"))[0][
        "Body"
    ]
    sfn.stop_execution(executionArn=execution)
    assert code(lambda: sfn.send_task_success(taskToken=token, output="{}")) == "TaskTimedOut"
    assert sfn.describe_execution(executionArn=execution)["status"] == "ABORTED"


def test_stopping_a_parent_stops_the_child_it_waits_for(sfn, machine):
    child = machine(
        {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}}, name="kid"
    )
    parent = machine(
        {
            "StartAt": "Run",
            "States": {
                "Run": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::states:startExecution.sync",
                    "Parameters": {"StateMachineArn": child},
                    "End": True,
                }
            },
        },
        name="mom",
    )
    execution = sfn.start_execution(stateMachineArn=parent)["executionArn"]
    wait_for(lambda: "TaskSubmitted" in types(history(sfn, execution)))
    [kid] = sfn.list_executions(stateMachineArn=child)["executions"]
    sfn.stop_execution(executionArn=execution)
    assert sfn.describe_execution(executionArn=kid["executionArn"])["status"] == "ABORTED"
