"""Task integrations against real services: Lambda (a function ARN and lambda:invoke), SNS, SQS, DynamoDB,
AWS SDK integrations with AWS's error names, nested executions (.sync, .sync:2), .waitForTaskToken with a
worker reading SQS, and activities with heartbeats — the notes' order-processing story end to end."""

import json

from tests.services.stepfunctions.conftest import code, finished, history, run, types
from tests.waiting import wait_for

VALIDATE = """
def handler(event, context):
    if not event.get("items"):
        raise ValueError("an order needs items")
    return {**event, "total": sum(i["price"] * i["qty"] for i in event["items"])}
"""

CHARGE = """
class PaymentGatewayTimeout(Exception):
    pass

class PaymentDeclined(Exception):
    pass

def handler(event, context):
    order = event["order"]
    if event["attempt"] < 1:  # the gateway times out the first time for every order
        raise PaymentGatewayTimeout("gateway did not answer")
    if order["card"] == "declined":
        raise PaymentDeclined("card declined for order " + order["id"])
    return {"charged": order["total"], "receipt": "r-" + order["id"]}
"""


def order_machine(validate_arn: str, topic_arn: str) -> dict:
    """The notes' workflow: validate → charge (retried) → notify (SNS) ∥ record (DynamoDB); a declined payment
    is caught into a compensation branch."""
    return {
        "Comment": "order processing",
        "StartAt": "Validate",
        "States": {
            "Validate": {"Type": "Task", "Resource": validate_arn, "Next": "Charge"},
            "Charge": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {
                    "FunctionName": "charge",
                    "Payload": {"order.$": "$", "attempt.$": "$$.State.RetryCount"},
                },
                "ResultSelector": {"receipt.$": "$.Payload.receipt", "charged.$": "$.Payload.charged"},
                "ResultPath": "$.payment",
                "Retry": [
                    {
                        "ErrorEquals": ["PaymentGatewayTimeout"],
                        "IntervalSeconds": 1,
                        "MaxAttempts": 2,
                        "BackoffRate": 2.0,
                    }
                ],
                "Catch": [
                    {"ErrorEquals": ["PaymentDeclined"], "ResultPath": "$.error", "Next": "Compensate"}
                ],
                "Next": "Fulfil",
            },
            "Fulfil": {
                "Type": "Parallel",
                "Branches": [
                    {
                        "StartAt": "Notify",
                        "States": {
                            "Notify": {
                                "Type": "Task",
                                "Resource": "arn:aws:states:::sns:publish",
                                "Parameters": {
                                    "TopicArn": topic_arn,
                                    "Message.$": "States.Format('order {} paid', $.id)",
                                },
                                "End": True,
                            }
                        },
                    },
                    {
                        "StartAt": "Record",
                        "States": {
                            "Record": {
                                "Type": "Task",
                                "Resource": "arn:aws:states:::dynamodb:putItem",
                                "Parameters": {
                                    "TableName": "orders",
                                    "Item": {
                                        "id": {"S.$": "$.id"},
                                        "receipt": {"S.$": "$.payment.receipt"},
                                        "total": {"N.$": "States.JsonToString($.total)"},
                                    },
                                },
                                "End": True,
                            }
                        },
                    },
                ],
                "ResultPath": None,
                "Next": "Done",
            },
            "Done": {"Type": "Succeed"},
            "Compensate": {
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:putItem",
                "Parameters": {
                    "TableName": "orders",
                    "Item": {
                        "id": {"S.$": "$.id"},
                        "status": {"S": "CANCELLED"},
                        "reason": {"S.$": "$.error.Error"},
                    },
                },
                "ResultPath": None,
                "Next": "PaymentFailed",
            },
            "PaymentFailed": {"Type": "Fail", "Error": "PaymentFailed", "Cause": "the card was declined"},
        },
    }


def test_order_processing_story(overcast, sfn, machine, lambda_function):
    validate_arn = lambda_function("validate", VALIDATE)
    lambda_function("charge", CHARGE)
    sns, sqs, ddb = overcast.client("sns"), overcast.client("sqs"), overcast.client("dynamodb")
    topic = sns.create_topic(Name="orders")["TopicArn"]
    queue = sqs.create_queue(QueueName="notifications")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"}
    )
    ddb.create_table(
        TableName="orders",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    arn = machine(order_machine(validate_arn, topic), name="orders")

    order = {"id": "o-1", "card": "good", "items": [{"price": 5, "qty": 2}, {"price": 1, "qty": 3}]}
    paid = finished(
        sfn, sfn.start_execution(stateMachineArn=arn, input=json.dumps(order))["executionArn"], timeout=90
    )
    assert paid["status"] == "SUCCEEDED", paid
    output = json.loads(paid["output"])
    assert output["total"] == 13 and output["payment"] == {"receipt": "r-o-1", "charged": 13}
    item = ddb.get_item(TableName="orders", Key={"id": {"S": "o-1"}})["Item"]
    assert item == {"id": {"S": "o-1"}, "receipt": {"S": "r-o-1"}, "total": {"N": "13"}}
    message = wait_for(lambda: sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages"))
    assert message[0]["Body"] == "order o-1 paid"
    events = history(sfn, paid["executionArn"])
    assert types(events)[:14] == [
        "ExecutionStarted",
        "TaskStateEntered",
        "LambdaFunctionScheduled",
        "LambdaFunctionStarted",
        "LambdaFunctionSucceeded",
        "TaskStateExited",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskFailed",  # the gateway timed out: retried
        "TaskScheduled",
        "TaskStarted",
        "TaskSucceeded",
        "TaskStateExited",
    ]
    parallel = types(events)[14:-5]
    assert parallel[:2] == ["ParallelStateEntered", "ParallelStateStarted"]
    assert sorted(parallel[2:]) == sorted(
        ["TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskStateExited"] * 2
    )
    assert types(events)[-5:] == [
        "ParallelStateSucceeded",
        "ParallelStateExited",
        "SucceedStateEntered",
        "SucceedStateExited",
        "ExecutionSucceeded",
    ]
    failed = [e for e in events if e["type"] == "TaskFailed"][0]["taskFailedEventDetails"]
    assert failed["error"] == "PaymentGatewayTimeout" and failed["resourceType"] == "lambda"
    assert json.loads(failed["cause"])["errorMessage"] == "gateway did not answer"

    declined = {**order, "id": "o-2", "card": "declined"}
    done = finished(
        sfn, sfn.start_execution(stateMachineArn=arn, input=json.dumps(declined))["executionArn"], timeout=90
    )
    assert done["status"] == "FAILED" and done["error"] == "PaymentFailed"
    assert ddb.get_item(TableName="orders", Key={"id": {"S": "o-2"}})["Item"]["status"] == {"S": "CANCELLED"}
    kinds = types(history(sfn, done["executionArn"]))
    assert kinds[kinds.index("TaskFailed", kinds.index("TaskFailed") + 1) :] == [
        "TaskFailed",  # PaymentDeclined: caught into the compensation branch
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSucceeded",
        "TaskStateExited",
        "FailStateEntered",
        "ExecutionFailed",
    ]


def test_wait_for_task_token_through_sqs_and_a_worker(overcast, sfn, machine):
    sqs = overcast.client("sqs")
    queue = sqs.create_queue(QueueName="approvals")["QueueUrl"]
    definition = {
        "StartAt": "Approve",
        "States": {
            "Approve": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {
                    "QueueUrl": queue,
                    "MessageBody": {"token.$": "$$.Task.Token", "order.$": "$.id"},
                },
                "HeartbeatSeconds": 600,
                "TimeoutSeconds": 3600,
                "Catch": [{"ErrorEquals": ["Rejected"], "ResultPath": "$.rejection", "Next": "Rejected"}],
                "Next": "Approved",
            },
            "Approved": {"Type": "Pass", "End": True},
            "Rejected": {"Type": "Fail", "Error": "Rejected"},
        },
    }
    arn = machine(definition, name="approvals")

    def worker(decision: str) -> None:
        """What an approval service does: read the message, answer with its token."""
        body = json.loads(
            wait_for(lambda: sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages"))[0][
                "Body"
            ]
        )
        sfn.send_task_heartbeat(taskToken=body["token"])
        if decision == "yes":
            sfn.send_task_success(taskToken=body["token"], output=json.dumps({"approved": body["order"]}))
        else:
            sfn.send_task_failure(taskToken=body["token"], error="Rejected", cause="not today")

    execution = sfn.start_execution(stateMachineArn=arn, input='{"id": "o-9"}')["executionArn"]
    worker("yes")
    done = finished(sfn, execution)
    assert done["status"] == "SUCCEEDED" and json.loads(done["output"]) == {"approved": "o-9"}
    kinds = types(history(sfn, execution))
    assert kinds[:6] == [
        "ExecutionStarted",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSubmitted",
        "TaskSucceeded",
    ]
    execution = sfn.start_execution(stateMachineArn=arn, input='{"id": "o-10"}')["executionArn"]
    worker("no")
    assert finished(sfn, execution)["error"] == "Rejected"


def test_task_token_timeouts_on_the_clock(overcast, sfn, machine):
    sqs = overcast.client("sqs")
    queue = sqs.create_queue(QueueName="slow")["QueueUrl"]
    definition = {
        "StartAt": "Ask",
        "States": {
            "Ask": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {"QueueUrl": queue, "MessageBody.$": "$$.Task.Token"},
                "HeartbeatSeconds": 60,
                "End": True,
            }
        },
    }
    execution = sfn.start_execution(stateMachineArn=machine(definition, name="beats"))["executionArn"]
    token = wait_for(lambda: sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages"))[0][
        "Body"
    ]
    overcast.advance_clock(61)
    done = finished(sfn, execution)
    assert done["status"] == "FAILED" and done["error"] == "States.HeartbeatTimeout"
    assert types(history(sfn, execution))[-2:] == ["TaskTimedOut", "ExecutionFailed"]
    assert code(lambda: sfn.send_task_success(taskToken=token, output="{}")) == "TaskTimedOut"
    assert code(lambda: sfn.send_task_success(taskToken="nope", output="{}")) == "InvalidToken"


def test_activities_with_a_polling_worker_and_heartbeat_timeout(overcast, sfn, machine):
    activity = sfn.create_activity(name="review")["activityArn"]
    assert sfn.describe_activity(activityArn=activity)["name"] == "review"
    definition = {
        "StartAt": "Review",
        "States": {
            "Review": {
                "Type": "Task",
                "Resource": activity,
                "HeartbeatSeconds": 30,
                "TimeoutSeconds": 300,
                "End": True,
            }
        },
    }
    arn = machine(definition, name="reviews")
    execution = sfn.start_execution(stateMachineArn=arn, input='{"doc": 1}')["executionArn"]
    task = sfn.get_activity_task(activityArn=activity, workerName="w1")
    assert json.loads(task["input"]) == {"doc": 1}
    sfn.send_task_success(taskToken=task["taskToken"], output='{"ok": true}')
    done = finished(sfn, execution)
    assert done["status"] == "SUCCEEDED" and json.loads(done["output"]) == {"ok": True}
    kinds = types(history(sfn, execution))
    assert kinds == [
        "ExecutionStarted",
        "TaskStateEntered",
        "ActivityScheduled",
        "ActivityStarted",
        "ActivitySucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]
    started = [e for e in history(sfn, execution) if e["type"] == "ActivityStarted"][0]
    assert started["activityStartedEventDetails"] == {"workerName": "w1"}
    lazy = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    sfn.get_activity_task(activityArn=activity)
    overcast.advance_clock(31)
    done = finished(sfn, lazy)
    assert done["error"] == "States.HeartbeatTimeout"
    assert types(history(sfn, lazy))[-2:] == ["ActivityTimedOut", "ExecutionFailed"]
    assert [a["name"] for a in sfn.list_activities()["activities"]] == ["review"]


def test_nested_executions_sync_and_sync2(sfn, machine):
    child = machine(
        {
            "StartAt": "Double",
            "States": {
                "Double": {"Type": "Pass", "Parameters": {"value.$": "States.MathAdd($.n, $.n)"}, "End": True}
            },
        },
        name="child",
    )
    parent = machine(
        {
            "StartAt": "Sync",
            "States": {
                "Sync": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::states:startExecution.sync",
                    "Parameters": {"StateMachineArn": child, "Input": {"n.$": "$.n"}},
                    "ResultPath": "$.one",
                    "Next": "Sync2",
                },
                "Sync2": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::states:startExecution.sync:2",
                    "Parameters": {"StateMachineArn": child, "Input": {"n": 5}},
                    "ResultSelector": {"out.$": "$.Output"},
                    "ResultPath": "$.two",
                    "End": True,
                },
            },
        },
        name="parent",
    )
    done = run(sfn, parent, {"n": 2})
    assert done["status"] == "SUCCEEDED", done
    output = json.loads(done["output"])
    assert json.loads(output["one"]["Output"]) == {"value": 4} and output["one"]["Status"] == "SUCCEEDED"
    assert output["two"] == {"out": {"value": 10}}
    children = sfn.list_executions(stateMachineArn=child)["executions"]
    assert len(children) == 2 and {c["status"] for c in children} == {"SUCCEEDED"}


def test_aws_sdk_integrations_and_error_names(overcast, sfn, machine):
    overcast.client("s3").create_bucket(Bucket="reports")
    definition = {
        "StartAt": "Put",
        "States": {
            "Put": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:s3:putObject",
                "Parameters": {"Bucket": "reports", "Key": "r.txt", "Body.$": "$.text"},
                "ResultPath": None,
                "Next": "Get",
            },
            "Get": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
                "Parameters": {"bucket": "reports", "key": "r.txt"},
                "ResultSelector": {"body.$": "$.Body"},
                "Next": "Missing",
            },
            "Missing": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:dynamodb:getItem",
                "Parameters": {"TableName": "nope", "Key": {"id": {"S": "1"}}},
                "Catch": [
                    {
                        "ErrorEquals": ["DynamoDb.ResourceNotFoundException"],
                        "ResultPath": "$.error",
                        "Next": "Done",
                    }
                ],
                "Next": "Done",
            },
            "Done": {"Type": "Succeed"},
        },
    }
    done = run(sfn, machine(definition, name="sdk"), {"text": "hello report"})
    assert done["status"] == "SUCCEEDED", done
    output = json.loads(done["output"])
    assert output["body"] == "hello report"
    assert output["error"]["Error"] == "DynamoDb.ResourceNotFoundException"
    body = overcast.client("s3").get_object(Bucket="reports", Key="r.txt")["Body"].read()
    assert body == b"hello report"


def test_an_unknown_resource_fails_the_task(sfn, machine):
    definition = {
        "StartAt": "T",
        "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::glue:nothing", "End": True}},
    }
    done = run(sfn, machine(definition, name="unknown"))
    assert done["status"] == "FAILED" and done["error"] == "States.Runtime"


def test_a_result_over_256_kib_is_a_terminal_data_limit_error(overcast, sfn, machine):
    s3 = overcast.client("s3")
    s3.create_bucket(Bucket="big")
    s3.put_object(Bucket="big", Key="blob", Body=b"x" * (300 * 1024))
    definition = {
        "StartAt": "Get",
        "States": {
            "Get": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
                "Parameters": {"Bucket": "big", "Key": "blob"},
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Succeed"},
        },
    }
    done = run(sfn, machine(definition, name="big"))
    assert done["status"] == "FAILED" and done["error"] == "States.DataLimitExceeded"
