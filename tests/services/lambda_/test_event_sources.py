"""Event source mappings: SQS queues and DynamoDB streams polled by Lambda, through a real server and boto3."""

import json

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of
from tests.waiting import wait_for

RECORD_BODIES = """
import json, os
def handler(event, context):
    with open(os.environ["OUT"], "a") as out:
        out.write(json.dumps([r["body"] for r in event["Records"]]) + "\\n")
    return {"batchItemFailures": []}
"""

# fails every message whose body is "poison", reporting only those (ReportBatchItemFailures)
PARTIAL = """
import json, os
def handler(event, context):
    failed = []
    with open(os.environ["OUT"], "a") as out:
        for record in event["Records"]:
            out.write(record["body"] + "\\n")
            if record["body"] == "poison":
                failed.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failed}
"""

STREAM_RECORDER = """
import json, os
def handler(event, context):
    with open(os.environ["OUT"], "a") as out:
        for record in event["Records"]:
            out.write(json.dumps(record) + "\\n")
    if os.environ.get("FAIL"):
        raise RuntimeError("cannot process")
"""


def lines(path):
    return path.read_text().splitlines() if path.exists() else []


@pytest.fixture
def sqs(overcast):
    return overcast.client("sqs")


def queue(sqs, name, **attributes):
    url = sqs.create_queue(QueueName=name, Attributes={k: str(v) for k, v in attributes.items()})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def visible_count(sqs, url) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def test_mapping_api_and_errors(lam, make_function, sqs):
    make_function("consumer")
    url, arn = queue(sqs, "jobs")
    created = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="consumer", BatchSize=5)
    assert created["State"] == "Creating"
    assert created["BatchSize"] == 5 and created["EventSourceArn"] == arn
    assert created["FunctionArn"] == "arn:aws:lambda:us-east-1:000000000000:function:consumer"
    uuid = created["UUID"]
    got = lam.get_event_source_mapping(UUID=uuid)
    assert got["State"] == "Enabled" and got["LastProcessingResult"] == "No records processed"
    listed = lam.list_event_source_mappings(FunctionName="consumer")["EventSourceMappings"]
    assert [m["UUID"] for m in listed] == [uuid]
    assert lam.list_event_source_mappings(EventSourceArn=arn)["EventSourceMappings"][0]["UUID"] == uuid

    updated = lam.update_event_source_mapping(UUID=uuid, Enabled=False, BatchSize=3)
    assert updated["State"] == "Disabling" and updated["BatchSize"] == 3
    assert lam.get_event_source_mapping(UUID=uuid)["State"] == "Disabled"

    with pytest.raises(ClientError) as raised:
        lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="consumer")
    assert error_of(raised) == ("ResourceConflictException", 409)
    with pytest.raises(ClientError) as raised:
        lam.create_event_source_mapping(
            EventSourceArn="arn:aws:sqs:us-east-1:000000000000:missing", FunctionName="consumer"
        )
    assert error_of(raised) == ("InvalidParameterValueException", 400)
    with pytest.raises(ClientError) as raised:
        lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="nobody")
    assert error_of(raised) == ("ResourceNotFoundException", 404)
    _, other = queue(sqs, "other")
    with pytest.raises(ClientError) as raised:
        lam.create_event_source_mapping(EventSourceArn=other, FunctionName="consumer", BatchSize=50)
    assert error_of(raised) == ("InvalidParameterValueException", 400)
    with pytest.raises(ClientError) as raised:
        lam.create_event_source_mapping(
            EventSourceArn=other, FunctionName="consumer", StartingPosition="LATEST"
        )
    assert error_of(raised) == ("InvalidParameterValueException", 400)

    deleted = lam.delete_event_source_mapping(UUID=uuid)
    assert deleted["State"] == "Deleting"
    with pytest.raises(ClientError) as raised:
        lam.get_event_source_mapping(UUID=uuid)
    assert error_of(raised) == ("ResourceNotFoundException", 404)


def test_sqs_messages_are_delivered_in_batches_and_deleted(lam, make_function, sqs, tmp_path):
    out = tmp_path / "out.txt"
    make_function("batcher", RECORD_BODIES, Environment={"Variables": {"OUT": str(out)}})
    url, arn = queue(sqs, "work")
    for first in (0, 10, 20):  # 23 messages: more than one DeleteMessageBatch (10 entries) per batch
        entries = [{"Id": str(i), "MessageBody": f"m{i:02}"} for i in range(first, min(first + 10, 23))]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)
    lam.create_event_source_mapping(
        EventSourceArn=arn, FunctionName="batcher", BatchSize=30, MaximumBatchingWindowInSeconds=1
    )
    bodies = wait_for(
        lambda: (
            sum((json.loads(line) for line in lines(out)), [])
            if len(sum((json.loads(line) for line in lines(out)), [])) == 23
            else None
        )
    )
    assert sorted(bodies) == [f"m{i:02}" for i in range(23)]
    wait_for(lambda: visible_count(sqs, url) == 0)
    mapping = lam.list_event_source_mappings(FunctionName="batcher")["EventSourceMappings"][0]
    assert mapping["LastProcessingResult"] == "OK"


def test_sqs_event_has_aws_record_shape(lam, make_function, sqs, tmp_path):
    out = tmp_path / "out.txt"
    source = (
        "import json, os\ndef handler(event, context):\n"
        "    open(os.environ['OUT'], 'a').write(json.dumps(event) + '\\n')\n"
    )
    make_function("shape", source, Environment={"Variables": {"OUT": str(out)}})
    url, arn = queue(sqs, "shaped")
    sqs.send_message(
        QueueUrl=url,
        MessageBody="hello",
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "greeting"}},
    )
    lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="shape")
    event = json.loads(wait_for(lambda: lines(out))[0])
    record = event["Records"][0]
    assert record["body"] == "hello" and record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == arn and record["awsRegion"] == "us-east-1"
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert "SentTimestamp" in record["attributes"]
    assert record["messageAttributes"]["kind"]["stringValue"] == "greeting"
    assert record["messageAttributes"]["kind"]["dataType"] == "String"
    assert record["md5OfBody"] == "5d41402abc4b2a76b9719d911017c592"


def test_partial_batch_failure_and_poison_message_reaches_the_dlq(
    overcast, lam, make_function, sqs, tmp_path
):
    out = tmp_path / "out.txt"
    make_function("partial", PARTIAL, Environment={"Variables": {"OUT": str(out)}})
    dlq_url, dlq_arn = queue(sqs, "dead")
    url, arn = queue(
        sqs,
        "orders",
        VisibilityTimeout=30,
        RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}),
    )
    for body in ("good-1", "poison", "good-2"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    lam.create_event_source_mapping(
        EventSourceArn=arn,
        FunctionName="partial",
        FunctionResponseTypes=["ReportBatchItemFailures"],
        MaximumBatchingWindowInSeconds=1,
    )
    wait_for(lambda: "poison" in lines(out) and visible_count(sqs, url) == 1)
    # the good messages were deleted; the poison one waits out its visibility timeout, fails again,
    # and after maxReceiveCount receives the queue's redrive policy moves it to the dead-letter queue
    overcast.advance_clock(31)
    wait_for(lambda: lines(out).count("poison") == 2)
    overcast.advance_clock(31)
    found = wait_for(lambda: sqs.receive_message(QueueUrl=dlq_url, WaitTimeSeconds=1).get("Messages"))
    assert [m["Body"] for m in found] == ["poison"]
    assert sorted(set(lines(out))) == ["good-1", "good-2", "poison"]
    assert lines(out).count("good-1") == 1


def test_function_error_leaves_the_whole_batch(overcast, lam, make_function, sqs, tmp_path):
    out = tmp_path / "out.txt"
    source = (
        "import os\ndef handler(event, context):\n"
        "    open(os.environ['OUT'], 'a').write(str(len(event['Records'])) + '\\n')\n"
        "    raise ValueError('nope')\n"
    )
    make_function("failing", source, Environment={"Variables": {"OUT": str(out)}})
    url, arn = queue(sqs, "stuck", VisibilityTimeout=60)
    sqs.send_message(QueueUrl=url, MessageBody="a")
    uuid = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="failing")["UUID"]
    wait_for(lambda: lines(out))
    wait_for(lambda: lam.get_event_source_mapping(UUID=uuid)["LastProcessingResult"].startswith("PROBLEM"))
    lam.update_event_source_mapping(UUID=uuid, Enabled=False)
    assert visible_count(sqs, url) == 1


def test_fifo_queue_keeps_group_order(lam, make_function, sqs, tmp_path):
    out = tmp_path / "out.txt"
    make_function("ordered", RECORD_BODIES, Environment={"Variables": {"OUT": str(out)}})
    url, arn = queue(sqs, "events.fifo", FifoQueue="true", ContentBasedDeduplication="true")
    for i in range(12):
        sqs.send_message(QueueUrl=url, MessageBody=f"{i}", MessageGroupId="g")
    with pytest.raises(ClientError) as raised:
        lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="ordered", BatchSize=11)
    assert error_of(raised) == ("InvalidParameterValueException", 400)
    lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="ordered", BatchSize=5)
    seen = wait_for(
        lambda: (flat := sum((json.loads(line) for line in lines(out)), [])) and len(flat) == 12 and flat
    )
    assert seen == [str(i) for i in range(12)]
    assert all(len(json.loads(line)) <= 5 for line in lines(out))


def test_disabled_mapping_does_not_poll(lam, make_function, sqs, tmp_path):
    out = tmp_path / "out.txt"
    make_function("idle", RECORD_BODIES, Environment={"Variables": {"OUT": str(out)}})
    url, arn = queue(sqs, "paused")
    uuid = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="idle", Enabled=False)["UUID"]
    sqs.send_message(QueueUrl=url, MessageBody="later")
    # a barrier instead of a pause: a mapping created after the disabled one polls and delivers; by then
    # the disabled mapping has had the same chance, and must not have taken its message
    busy_url, busy_arn = queue(sqs, "busy")
    sqs.send_message(QueueUrl=busy_url, MessageBody="now")
    lam.create_event_source_mapping(EventSourceArn=busy_arn, FunctionName="idle")
    wait_for(lambda: lines(out) == ['["now"]'])
    counts = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    assert counts == {"ApproximateNumberOfMessages": "1", "ApproximateNumberOfMessagesNotVisible": "0"}
    lam.update_event_source_mapping(UUID=uuid, Enabled=True)
    wait_for(lambda: lines(out) == ['["now"]', '["later"]'])


# -- DynamoDB Streams ------------------------------------------------------------------------------


@pytest.fixture
def ddb(overcast):
    return overcast.client("dynamodb")


def stream_table(ddb, name):
    created = ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    return created["TableDescription"]["LatestStreamArn"]


def test_dynamodb_stream_records_reach_the_function(lam, make_function, ddb, tmp_path):
    out = tmp_path / "out.txt"
    make_function("watcher", STREAM_RECORDER, Environment={"Variables": {"OUT": str(out)}})
    stream = stream_table(ddb, "things")
    ddb.put_item(TableName="things", Item={"pk": {"S": "before"}})
    with pytest.raises(ClientError) as raised:
        lam.create_event_source_mapping(EventSourceArn=stream, FunctionName="watcher")
    assert error_of(raised) == ("InvalidParameterValueException", 400)
    mapping = lam.create_event_source_mapping(
        EventSourceArn=stream, FunctionName="watcher", StartingPosition="LATEST", BatchSize=10
    )
    assert mapping["StartingPosition"] == "LATEST" and mapping["MaximumRetryAttempts"] == -1
    ddb.put_item(TableName="things", Item={"pk": {"S": "a"}, "n": {"N": "1"}})
    ddb.update_item(
        TableName="things",
        Key={"pk": {"S": "a"}},
        UpdateExpression="SET n = :two",
        ExpressionAttributeValues={":two": {"N": "2"}},
    )
    ddb.delete_item(TableName="things", Key={"pk": {"S": "a"}})
    records = wait_for(lambda: len(lines(out)) == 3 and [json.loads(line) for line in lines(out)])
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    assert records[0]["dynamodb"]["NewImage"] == {"pk": {"S": "a"}, "n": {"N": "1"}}
    assert records[1]["dynamodb"]["OldImage"]["n"] == {"N": "1"}
    assert records[2]["dynamodb"]["Keys"] == {"pk": {"S": "a"}}
    assert records[0]["eventSource"] == "aws:dynamodb" and records[0]["eventSourceARN"] == stream
    assert isinstance(records[0]["dynamodb"]["ApproximateCreationDateTime"], int | float)


def test_dynamodb_stream_failure_retries_then_goes_to_on_failure_destination(
    lam, make_function, ddb, sqs, tmp_path
):
    out = tmp_path / "out.txt"
    make_function("fragile", STREAM_RECORDER, Environment={"Variables": {"OUT": str(out), "FAIL": "1"}})
    stream = stream_table(ddb, "ledger")
    failures_url, failures_arn = queue(sqs, "stream-failures")
    lam.create_event_source_mapping(
        EventSourceArn=stream,
        FunctionName="fragile",
        StartingPosition="TRIM_HORIZON",
        MaximumRetryAttempts=2,
        DestinationConfig={"OnFailure": {"Destination": failures_arn}},
    )
    ddb.put_item(TableName="ledger", Item={"pk": {"S": "x"}})
    found = wait_for(lambda: sqs.receive_message(QueueUrl=failures_url, WaitTimeSeconds=1).get("Messages"))
    record = json.loads(found[0]["Body"])
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert record["DDBStreamBatchInfo"]["batchSize"] == 1
    assert record["DDBStreamBatchInfo"]["streamArn"] == stream
    assert len(lines(out)) == 3  # the first attempt and two retries


def test_filter_criteria_drop_unmatched_sqs_messages(lam, make_function, sqs, tmp_path):
    out = tmp_path / "out.txt"
    make_function("picky", RECORD_BODIES, Environment={"Variables": {"OUT": str(out)}})
    url, arn = queue(sqs, "mixed")
    with pytest.raises(ClientError) as raised:
        lam.create_event_source_mapping(
            EventSourceArn=arn, FunctionName="picky", FilterCriteria={"Filters": [{"Pattern": "{not json"}]}
        )
    assert error_of(raised) == ("InvalidParameterValueException", 400)
    bodies = [
        json.dumps({"kind": "order", "total": 120}),
        json.dumps({"kind": "order", "total": 5}),
        json.dumps({"kind": "order", "total": 100.5}),
        json.dumps({"kind": "refund", "total": 300}),
        "plain text",
    ]
    for body in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=body)
    pattern = {"body": {"kind": ["order"], "total": [{"numeric": [">", 100]}]}}
    lam.create_event_source_mapping(
        EventSourceArn=arn,
        FunctionName="picky",
        MaximumBatchingWindowInSeconds=1,
        FilterCriteria={"Filters": [{"Pattern": json.dumps(pattern)}]},
    )
    wait_for(lambda: visible_count(sqs, url) == 0)  # unmatched messages are deleted too, as AWS does
    seen = sum((json.loads(line) for line in lines(out)), [])
    assert sorted(seen) == sorted([bodies[0], bodies[2]])


def test_filter_criteria_on_stream_records(lam, make_function, ddb, tmp_path):
    out = tmp_path / "out.txt"
    make_function("inserts", STREAM_RECORDER, Environment={"Variables": {"OUT": str(out)}})
    stream = stream_table(ddb, "filtered")
    lam.create_event_source_mapping(
        EventSourceArn=stream,
        FunctionName="inserts",
        StartingPosition="TRIM_HORIZON",
        FilterCriteria={"Filters": [{"Pattern": json.dumps({"eventName": ["INSERT"]})}]},
    )
    ddb.put_item(TableName="filtered", Item={"pk": {"S": "a"}})
    ddb.put_item(TableName="filtered", Item={"pk": {"S": "a"}, "v": {"N": "1"}})
    ddb.delete_item(TableName="filtered", Key={"pk": {"S": "a"}})
    ddb.put_item(TableName="filtered", Item={"pk": {"S": "b"}})
    records = wait_for(lambda: len(lines(out)) == 2 and [json.loads(line) for line in lines(out)])
    assert [(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in records] == [
        ("INSERT", "a"),
        ("INSERT", "b"),
    ]
