"""EventBridge Pipes: an SQS source, filters, input templates, targets."""

import io
import json
import zipfile

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of
from tests.waiting import wait_for

ROLE = "arn:aws:iam::000000000000:role/pipe"


@pytest.fixture
def pipes(overcast):
    return overcast.client("pipes")


def test_a_pipe_filters_reshapes_and_delivers(pipes, sqs, make_queue, receive):
    source_url, source = make_queue("orders-in")
    target_url, target = make_queue("orders-out")
    created = pipes.create_pipe(
        Name="big-orders",
        RoleArn=ROLE,
        Source=source,
        SourceParameters={
            "FilterCriteria": {
                "Filters": [{"Pattern": json.dumps({"body": {"total": [{"numeric": [">", 100]}]}})}]
            },
            "SqsQueueParameters": {"BatchSize": 5},
        },
        Target=target,
        TargetParameters={
            "InputTemplate": '{"order": <$.body.id>, "pipe": "<aws.pipes.pipe-name>", "from": "<$.eventSource>"}'
        },
    )
    assert created["Arn"] == "arn:aws:pipes:us-east-1:000000000000:pipe/big-orders"
    assert created["CurrentState"] == "CREATING" and created["DesiredState"] == "RUNNING"
    for order_id, total in ((1, 50), (2, 500), (3, 99)):
        sqs.send_message(QueueUrl=source_url, MessageBody=json.dumps({"id": order_id, "total": total}))
    delivered = receive(target_url)
    assert [json.loads(m["Body"]) for m in delivered] == [
        {"order": 2, "pipe": "big-orders", "from": "aws:sqs"}
    ]

    def source_empty():
        attributes = sqs.get_queue_attributes(QueueUrl=source_url, AttributeNames=["All"])["Attributes"]
        return (
            attributes["ApproximateNumberOfMessages"] == "0"
            and attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
        )

    wait_for(source_empty)  # the filtered-out messages are consumed too
    described = pipes.describe_pipe(Name="big-orders")
    assert (
        described["CurrentState"] == "RUNNING"
        and described["Source"] == source
        and described["Target"] == target
    )


def test_without_a_template_the_target_gets_the_sqs_record(pipes, sqs, make_queue, receive):
    source_url, source = make_queue("raw-in")
    target_url, target = make_queue("raw-out")
    pipes.create_pipe(Name="raw", RoleArn=ROLE, Source=source, Target=target)
    sqs.send_message(QueueUrl=source_url, MessageBody="plain text")
    record = json.loads(receive(target_url)[0]["Body"])
    assert record["body"] == "plain text" and record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == source and record["awsRegion"] == "us-east-1"
    assert set(record) >= {"messageId", "receiptHandle", "attributes", "messageAttributes", "md5OfBody"}


def test_a_stopped_pipe_leaves_the_messages(pipes, sqs, make_queue, receive):
    source_url, source = make_queue("paused-in")
    target_url, target = make_queue("paused-out")
    pipes.create_pipe(Name="paused", RoleArn=ROLE, Source=source, Target=target, DesiredState="STOPPED")
    sqs.send_message(QueueUrl=source_url, MessageBody="waiting")
    assert pipes.describe_pipe(Name="paused")["CurrentState"] == "STOPPED"
    assert sqs.receive_message(QueueUrl=target_url, WaitTimeSeconds=1).get("Messages") is None
    assert pipes.start_pipe(Name="paused")["CurrentState"] == "STARTING"
    assert json.loads(receive(target_url)[0]["Body"])["body"] == "waiting"
    assert pipes.stop_pipe(Name="paused")["CurrentState"] == "STOPPING"


def test_pipe_management(pipes, make_queue):
    _, source = make_queue("managed-in")
    _, target = make_queue("managed-out")
    arn = pipes.create_pipe(Name="p1", RoleArn=ROLE, Source=source, Target=target, Tags={"team": "a"})["Arn"]
    with pytest.raises(ClientError) as raised:
        pipes.create_pipe(Name="p1", RoleArn=ROLE, Source=source, Target=target)
    assert error_of(raised) == ("ConflictException", 409)
    assert pipes.list_tags_for_resource(resourceArn=arn)["tags"] == {"team": "a"}
    listed = pipes.list_pipes(NamePrefix="p")["Pipes"]
    assert [(p["Name"], p["Source"], p["Target"]) for p in listed] == [("p1", source, target)]
    pipes.update_pipe(Name="p1", RoleArn=ROLE, Description="now described")
    assert pipes.describe_pipe(Name="p1")["Description"] == "now described"
    assert pipes.delete_pipe(Name="p1")["CurrentState"] == "DELETING"
    with pytest.raises(ClientError) as raised:
        pipes.describe_pipe(Name="p1")
    assert error_of(raised) == ("NotFoundException", 404)
    with pytest.raises(ClientError) as raised:
        pipes.create_pipe(
            Name="bad",
            RoleArn=ROLE,
            Source=source,
            Target=target,
            SourceParameters={"FilterCriteria": {"Filters": [{"Pattern": '{"body": {}}'}]}},
        )
    assert error_of(raised) == ("ValidationException", 400)


ENRICH = """
def handler(event, context):
    return [{"enriched": record["body"].upper()} for record in event]
"""


@pytest.mark.slow
def test_a_lambda_enrichment_reshapes_the_batch(overcast, pipes, sqs, make_queue, receive):
    source_url, source = make_queue("enrich-in")
    target_url, target = make_queue("enrich-out")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", ENRICH)
    function = overcast.client("lambda").create_function(
        FunctionName="enricher",
        Runtime="python3.11",
        Role="arn:aws:iam::000000000000:role/r",
        Handler="app.handler",
        Code={"ZipFile": buffer.getvalue()},
    )["FunctionArn"]
    pipes.create_pipe(Name="enriched", RoleArn=ROLE, Source=source, Enrichment=function, Target=target)
    sqs.send_message(QueueUrl=source_url, MessageBody="hello")
    assert json.loads(receive(target_url, timeout=60)[0]["Body"]) == {"enriched": "HELLO"}
