"""The developer notes' Lambda stories, end to end through a real server: S3 upload → function → DynamoDB
write, SQS → function with partial batch failures and a poison message reaching the DLQ, a DynamoDB stream
feeding a function, an asynchronous invocation of a failing function reaching its dead-letter queue after 3
attempts, alias traffic shifting from version 1 to version 2, throttling once reserved concurrency is used
up, and a function calling S3 with exactly its execution role's permissions."""

import io
import json
import threading
import time
import zipfile

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.policy.servers import document
from tests.waiting import wait_for

TRUST = document(
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
)


def zip_of(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


def function(server, name: str, source: str, role: str | None = None, **kwargs) -> str:
    iam = server.client("iam")
    if role is None:
        role = iam.create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    return server.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": zip_of(source)},
        **kwargs,
    )["FunctionArn"]


THUMBNAILER = """
import boto3, urllib.parse
def handler(event, context):
    table = boto3.client("dynamodb")
    for record in event["Records"]:
        key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
        table.put_item(TableName="uploads", Item={
            "key": {"S": key},
            "bucket": {"S": record["s3"]["bucket"]["name"]},
            "size": {"N": str(record["s3"]["object"]["size"])},
            "event": {"S": record["eventName"]},
        })
"""


def test_s3_upload_invokes_a_function_that_writes_to_dynamodb(overcast):
    s3, ddb, lam = overcast.client("s3"), overcast.client("dynamodb"), overcast.client("lambda")
    ddb.create_table(
        TableName="uploads",
        KeySchema=[{"AttributeName": "key", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "key", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    arn = function(overcast, "on-upload", THUMBNAILER)
    s3.create_bucket(Bucket="photos")
    notification = {
        "LambdaFunctionConfigurations": [
            {
                "LambdaFunctionArn": arn,
                "Events": ["s3:ObjectCreated:*"],
                "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": ".jpg"}]}},
            }
        ]
    }
    lam.add_permission(
        FunctionName="on-upload",
        StatementId="s3",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn="arn:aws:s3:::photos",
    )
    s3.put_bucket_notification_configuration(Bucket="photos", NotificationConfiguration=notification)
    assert (
        s3.get_bucket_notification_configuration(Bucket="photos")["LambdaFunctionConfigurations"][0][
            "LambdaFunctionArn"
        ]
        == arn
    )

    # the filtered-out upload goes first: had it been sent to the function, it would have had a head start
    # on the .jpg one that is waited for below
    s3.put_object(Bucket="photos", Key="notes.txt", Body=b"ignored")
    s3.put_object(Bucket="photos", Key="holiday/beach day.jpg", Body=b"x" * 1234)
    item = wait_for(
        lambda: ddb.get_item(TableName="uploads", Key={"key": {"S": "holiday/beach day.jpg"}}).get("Item")
    )
    assert item["bucket"] == {"S": "photos"} and item["size"] == {"N": "1234"}
    assert item["event"] == {"S": "ObjectCreated:Put"}
    # "nothing else arrives" has no outcome to poll for: a short settle period, which a busy machine can
    # only make less searching, never make fail
    time.sleep(0.3)
    assert ddb.scan(TableName="uploads")["Count"] == 1


PARTIAL = """
import json, os
def handler(event, context):
    failed = []
    for record in event["Records"]:
        print("processing", record["body"])
        if record["body"] == "poison":
            failed.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failed}
"""


def test_sqs_partial_batch_failure_sends_the_poison_message_to_the_dlq(overcast):
    sqs, lam, logs = overcast.client("sqs"), overcast.client("lambda"), overcast.client("logs")
    dlq = sqs.create_queue(QueueName="orders-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue = sqs.create_queue(
        QueueName="orders",
        Attributes={
            "VisibilityTimeout": "30",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"}),
        },
    )["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    function(overcast, "orders-worker", PARTIAL)
    for body in ("order-1", "poison", "order-2"):
        sqs.send_message(QueueUrl=queue, MessageBody=body)
    lam.create_event_source_mapping(
        EventSourceArn=queue_arn,
        FunctionName="orders-worker",
        BatchSize=10,
        MaximumBatchingWindowInSeconds=1,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )

    def in_queue() -> int:
        attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )

    def processed() -> list[str]:
        try:
            events = logs.filter_log_events(
                logGroupName="/aws/lambda/orders-worker", filterPattern="processing"
            )
        except ClientError:  # the log group appears with the first shipped batch
            return []
        return [e["message"].split()[-1] for e in events["events"]]

    wait_for(lambda: in_queue() == 1)  # the two good orders are deleted, the poison one is in flight
    # it comes back after its visibility timeout and fails a second time...
    overcast.advance_clock("31s")
    wait_for(lambda: processed().count("poison") == 2)
    # ...and once more: the third receive is over maxReceiveCount, so the queue moves it to the DLQ
    overcast.advance_clock("31s")
    moved = wait_for(lambda: sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=1).get("Messages"))
    assert [m["Body"] for m in moved] == ["poison"]
    assert in_queue() == 0

    seen = wait_for(lambda: (found := processed()).count("poison") == 2 and found)
    assert seen.count("order-1") == 1 and seen.count("order-2") == 1


AUDITOR = """
import boto3
def handler(event, context):
    audit = boto3.client("dynamodb")
    for record in event["Records"]:
        image = record["dynamodb"].get("NewImage") or record["dynamodb"]["OldImage"]
        audit.put_item(TableName="audit", Item={
            "id": {"S": record["eventID"]},
            "account": image["account"],
            "change": {"S": record["eventName"]},
        })
"""


def test_dynamodb_stream_feeds_an_audit_function(overcast):
    ddb, lam = overcast.client("dynamodb"), overcast.client("lambda")
    accounts = ddb.create_table(
        TableName="accounts",
        KeySchema=[{"AttributeName": "account", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "account", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]
    ddb.create_table(
        TableName="audit",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    function(overcast, "auditor", AUDITOR)
    lam.create_event_source_mapping(
        EventSourceArn=accounts["LatestStreamArn"],
        FunctionName="auditor",
        StartingPosition="TRIM_HORIZON",
        BatchSize=2,
    )
    ddb.put_item(TableName="accounts", Item={"account": {"S": "a-1"}, "balance": {"N": "10"}})
    ddb.update_item(
        TableName="accounts",
        Key={"account": {"S": "a-1"}},
        UpdateExpression="SET balance = :b",
        ExpressionAttributeValues={":b": {"N": "5"}},
    )
    ddb.put_item(TableName="accounts", Item={"account": {"S": "a-2"}, "balance": {"N": "1"}})
    ddb.delete_item(TableName="accounts", Key={"account": {"S": "a-1"}})
    items = wait_for(lambda: (found := ddb.scan(TableName="audit")["Items"]) and len(found) == 4 and found)
    changes = sorted((i["account"]["S"], i["change"]["S"]) for i in items)
    assert changes == [("a-1", "INSERT"), ("a-1", "MODIFY"), ("a-1", "REMOVE"), ("a-2", "INSERT")]


CHARGER = """
def handler(event, context):
    print("charging order", event["order"], "request", context.aws_request_id)
    raise RuntimeError("payment provider unavailable")
"""


def queue_arn(sqs, url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def test_failing_async_invocation_reaches_the_dead_letter_queue_after_three_attempts(overcast):
    sqs, lam, logs = overcast.client("sqs"), overcast.client("lambda"), overcast.client("logs")
    dlq = sqs.create_queue(QueueName="charge-dlq")["QueueUrl"]
    function(overcast, "charge", CHARGER, DeadLetterConfig={"TargetArn": queue_arn(sqs, dlq)})
    accepted = lam.invoke(FunctionName="charge", InvocationType="Event", Payload=json.dumps({"order": 42}))
    assert accepted["StatusCode"] == 202
    request_id = accepted["ResponseMetadata"]["RequestId"]

    def attempts() -> list[str]:
        try:
            events = logs.filter_log_events(logGroupName="/aws/lambda/charge", filterPattern="charging")
        except ClientError:  # the log group appears with the first shipped batch
            return []
        return [e["message"].split()[-1] for e in events["events"]]

    # the first attempt fails at once; AWS retries after a minute, then after two more (virtual clock)
    assert wait_for(lambda: len(attempts()) == 1)
    overcast.advance_clock("61s")
    assert wait_for(lambda: len(attempts()) == 2)
    assert not sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=0).get("Messages")  # one retry left
    overcast.advance_clock("121s")
    dead = wait_for(lambda: sqs.receive_message(QueueUrl=dlq, MessageAttributeNames=["All"]).get("Messages"))
    assert len(dead) == 1 and json.loads(dead[0]["Body"]) == {"order": 42}
    attributes = {name: value["StringValue"] for name, value in dead[0]["MessageAttributes"].items()}
    assert attributes["RequestID"] == request_id
    assert attributes["ErrorMessage"] == "payment provider unavailable"
    assert "ErrorCode" in attributes
    # three attempts in all, each with the same request id
    assert wait_for(lambda: (seen := attempts()) and len(seen) == 3 and seen) == [request_id] * 3


VERSIONED = """
VERSION_TEXT = {text!r}
def handler(event, context):
    return {{"says": VERSION_TEXT, "version": context.function_version}}
"""


def test_alias_shifts_traffic_from_version_1_to_version_2(overcast):
    lam = overcast.client("lambda")
    function(overcast, "checkout", VERSIONED.format(text="v1"), Publish=True)
    lam.update_function_code(FunctionName="checkout", ZipFile=zip_of(VERSIONED.format(text="v2")))
    lam.get_waiter("function_updated_v2").wait(FunctionName="checkout")  # as deploy scripts do on AWS
    assert lam.publish_version(FunctionName="checkout")["Version"] == "2"
    lam.create_alias(FunctionName="checkout", Name="live", FunctionVersion="1")

    def invoke_live(times: int) -> list[str]:
        versions = []
        for _ in range(times):
            response = lam.invoke(FunctionName="checkout", Qualifier="live", Payload=b"{}")
            answer = json.loads(response["Payload"].read())
            # the version that ran is the one reported, and its own code answered
            assert answer == {
                "says": f"v{response['ExecutedVersion']}",
                "version": response["ExecutedVersion"],
            }
            versions.append(response["ExecutedVersion"])
        return versions

    assert set(invoke_live(10)) == {"1"}

    # canary: half of the traffic goes to version 2
    routed = lam.update_alias(
        FunctionName="checkout", Name="live", RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}}
    )
    assert routed["FunctionVersion"] == "1"
    assert routed["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.5}}
    shifted = invoke_live(100)
    assert 20 <= shifted.count("2") <= 80 and shifted.count("1") + shifted.count("2") == 100

    # promotion: everything on version 2, version 1 still callable by number
    lam.update_alias(FunctionName="checkout", Name="live", FunctionVersion="2", RoutingConfig={})
    live = lam.get_alias(FunctionName="checkout", Name="live")
    assert live["FunctionVersion"] == "2" and not live.get("RoutingConfig", {}).get(
        "AdditionalVersionWeights"
    )
    assert set(invoke_live(10)) == {"2"}
    assert lam.invoke(FunctionName="checkout", Qualifier="1")["ExecutedVersion"] == "1"


GATED = """
import json, os, time
def handler(event, context):
    gate = os.environ["GATE"]
    open(os.path.join(gate, "started-" + event["job"]), "w").close()
    deadline = time.time() + 60
    while not os.path.exists(os.path.join(gate, "open")) and time.time() < deadline:
        time.sleep(0.01)
    open(os.path.join(gate, "done-" + event["job"]), "w").close()
    return event["job"]
"""


def test_invocations_beyond_reserved_concurrency_are_throttled(overcast, tmp_path):
    lam = overcast.client("lambda")
    strict = overcast.client("lambda", config=Config(retries={"total_max_attempts": 1}))  # shows the 429
    function(overcast, "exporter", GATED, Timeout=90, Environment={"Variables": {"GATE": str(tmp_path)}})
    lam.put_function_concurrency(FunctionName="exporter", ReservedConcurrentExecutions=2)
    assert lam.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == 998

    answers: dict[str, str] = {}

    def run(job: str) -> None:
        response = overcast.client("lambda").invoke(FunctionName="exporter", Payload=json.dumps({"job": job}))
        answers[job] = json.loads(response["Payload"].read())

    running = [threading.Thread(target=run, args=(job,)) for job in ("a", "b")]
    for thread in running:
        thread.start()
    try:
        wait_for(lambda: (tmp_path / "started-a").exists() and (tmp_path / "started-b").exists())
        # both reserved environments are busy: a third synchronous call is refused, not queued
        with pytest.raises(ClientError) as raised:
            strict.invoke(FunctionName="exporter", Payload=json.dumps({"job": "c"}))
        error = raised.value.response
        assert error["Error"]["Code"] == "TooManyRequestsException"
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
        assert error["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
        assert not (tmp_path / "started-c").exists()
        # an asynchronous call is accepted and waits for a free slot
        queued = lam.invoke(FunctionName="exporter", InvocationType="Event", Payload=json.dumps({"job": "d"}))
        assert queued["StatusCode"] == 202
    finally:
        (tmp_path / "open").touch()
        for thread in running:
            thread.join()
    assert answers == {"a": "a", "b": "b"}
    wait_for(lambda: (tmp_path / "done-d").exists())
    assert (
        json.loads(strict.invoke(FunctionName="exporter", Payload=json.dumps({"job": "e"}))["Payload"].read())
        == "e"
    )


READER = """
import boto3
def handler(event, context):
    s3 = boto3.client("s3")
    results = {}
    for bucket in ("public-reports", "payroll"):
        try:
            results[bucket] = s3.get_object(Bucket=bucket, Key="latest.txt")["Body"].read().decode()
        except Exception as error:
            results[bucket] = error.response["Error"]["Code"]
    results["identity"] = boto3.client("sts").get_caller_identity()["Arn"]
    return results
"""


@pytest.mark.slow
def test_function_calls_s3_with_its_roles_permissions(enforced):
    iam, s3, lam = enforced.client("iam"), enforced.client("s3"), enforced.client("lambda")
    for bucket in ("public-reports", "payroll"):
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="latest.txt", Body=f"{bucket} data".encode())
    role = iam.create_role(RoleName="report-reader", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    iam.put_role_policy(
        RoleName="report-reader",
        PolicyName="read-reports",
        PolicyDocument=document(
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::public-reports/*"},
            {"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"},
        ),
    )
    function(enforced, "reader", READER, role=role)
    # S3 may invoke a function only when the function's resource policy lets it
    s3.create_bucket(Bucket="inbox")
    notification = {
        "LambdaFunctionConfigurations": [
            {
                "LambdaFunctionArn": "arn:aws:lambda:us-east-1:000000000000:function:reader",
                "Events": ["s3:ObjectCreated:*"],
            }
        ]
    }
    with pytest.raises(ClientError) as raised:
        s3.put_bucket_notification_configuration(Bucket="inbox", NotificationConfiguration=notification)
    assert raised.value.response["Error"]["Code"] == "InvalidArgument"
    lam.add_permission(
        FunctionName="reader",
        StatementId="s3",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn="arn:aws:s3:::inbox",
    )
    s3.put_bucket_notification_configuration(Bucket="inbox", NotificationConfiguration=notification)

    result = json.loads(lam.invoke(FunctionName="reader")["Payload"].read())
    assert result == {
        "public-reports": "public-reports data",
        "payroll": "AccessDenied",
        "identity": "arn:aws:sts::000000000000:assumed-role/report-reader/reader",
    }

    # a role Lambda may not assume (no trust for lambda.amazonaws.com) is refused at creation, as in AWS
    untrusted = iam.create_role(
        RoleName="not-for-lambda",
        AssumeRolePolicyDocument=document(
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ),
    )["Role"]["Arn"]
    with pytest.raises(ClientError) as raised:
        function(enforced, "stranded", READER, role=untrusted)
    assert raised.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert "cannot be assumed by Lambda" in raised.value.response["Error"]["Message"]
    # and a role whose trust is withdrawn later fails the next cold start
    iam.update_assume_role_policy(
        RoleName="report-reader",
        PolicyDocument=document(
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ),
    )
    lam.update_function_configuration(FunctionName="reader", Description="new environments")
    with pytest.raises(ClientError) as raised:
        lam.invoke(FunctionName="reader")
    assert raised.value.response["Error"]["Code"] == "InvalidParameterValueException"


@pytest.mark.slow
def test_queue_is_polled_with_the_execution_roles_permissions(enforced):
    sqs, lam, iam = enforced.client("sqs"), enforced.client("lambda"), enforced.client("iam")
    queue = sqs.create_queue(QueueName="jobs")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    function(enforced, "job-runner", "def handler(event, context):\n    print(event['Records'][0]['body'])\n")
    with pytest.raises(ClientError) as raised:
        lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="job-runner")
    assert raised.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert "execution role does not have permissions" in raised.value.response["Error"]["Message"]
    iam.attach_role_policy(
        RoleName="job-runner-role",
        PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole",
    )
    lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="job-runner")
    sqs.send_message(QueueUrl=queue, MessageBody="job-1")

    def remaining() -> int:
        attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )

    wait_for(lambda: remaining() == 0)
