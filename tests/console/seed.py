"""A little of everything, made with boto3, for the console's views to show (and the screenshots)."""

from __future__ import annotations

import io
import json
import zipfile

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)
STATES_TRUST = TRUST.replace("lambda.amazonaws.com", "states.amazonaws.com")

GREETER = """
def handler(event, context):
    print("greeting", event.get("name", "world"))
    return {"greeting": "hello " + event.get("name", "world")}
"""


def zip_of(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


def function(server, name: str, source: str = GREETER) -> str:
    role = server.client("iam").create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument=TRUST)
    return server.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=role["Role"]["Arn"],
        Handler="app.handler",
        Code={"ZipFile": zip_of(source)},
    )["FunctionArn"]


def seed(server) -> dict[str, str]:
    s3 = server.client("s3")
    s3.create_bucket(Bucket="photos")
    s3.put_bucket_versioning(Bucket="photos", VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_tagging(Bucket="photos", Tagging={"TagSet": [{"Key": "team", "Value": "zoo"}]})
    for key in ("cats/tom.jpg", "cats/tom.jpg", "dogs/rex.jpg", "readme.txt"):
        s3.put_object(Bucket="photos", Key=key, Body=b"pixels of " + key.encode())

    sqs = server.client("sqs")
    dlq = sqs.create_queue(QueueName="orders-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    orders = sqs.create_queue(
        QueueName="orders",
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"})},
    )["QueueUrl"]
    sqs.send_message(QueueUrl=orders, MessageBody=json.dumps({"order": 1}))
    sqs.send_message(QueueUrl=dlq, MessageBody="a poison message")

    sns = server.client("sns")
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="ops@example.com")
    sns.publish(TopicArn=topic, Message="disk almost full", Subject="disk")

    ddb = server.client("dynamodb")
    ddb.create_table(
        TableName="pets",
        KeySchema=[
            {"AttributeName": "kind", "KeyType": "HASH"},
            {"AttributeName": "name", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "kind", "AttributeType": "S"},
            {"AttributeName": "name", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    for kind, name, age in (("cat", "tom", 3), ("cat", "felix", 5), ("dog", "rex", 7)):
        ddb.put_item(
            TableName="pets",
            Item={
                "kind": {"S": kind},
                "name": {"S": name},
                "age": {"N": str(age)},
                "tags": {"SS": ["a", "b"]},
            },
        )

    function_arn = function(server, "greeter")
    server.client("lambda").invoke(FunctionName="greeter", Payload=b'{"name": "seed"}')

    logs = server.client("logs")
    logs.create_log_group(logGroupName="/app/web")
    logs.create_log_stream(logGroupName="/app/web", logStreamName="web-1")
    now = int(server.advance_clock("0s")["epoch"] * 1000)
    logs.put_log_events(
        logGroupName="/app/web",
        logStreamName="web-1",
        logEvents=[{"timestamp": now - 1000 * i, "message": f"GET /pets/{i} 200"} for i in range(5, 0, -1)],
    )

    iam = server.client("iam")
    iam.create_user(UserName="alice")
    policy = iam.create_policy(
        PolicyName="read-photos",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
            }
        ),
    )["Policy"]["Arn"]
    iam.attach_user_policy(UserName="alice", PolicyArn=policy)

    role = iam.create_role(RoleName="states-role", AssumeRolePolicyDocument=STATES_TRUST)["Role"]["Arn"]
    definition = {
        "StartAt": "Check",
        "States": {
            "Check": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.ok", "BooleanEquals": True, "Next": "Done"}],
                "Default": "Wait",
            },
            "Wait": {"Type": "Pass", "Next": "Done"},
            "Done": {"Type": "Succeed"},
        },
    }
    sfn = server.client("stepfunctions")
    machine = sfn.create_state_machine(name="checker", definition=json.dumps(definition), roleArn=role)
    execution = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], input='{"ok": true}')

    kinesis = server.client("kinesis")
    kinesis.create_stream(StreamName="clicks", ShardCount=2)
    kinesis.put_record(StreamName="clicks", PartitionKey="user-1", Data=b'{"click": 1}')

    events = server.client("events")
    events.put_rule(Name="on-order", EventPattern=json.dumps({"source": ["shop"]}))
    events.put_targets(Rule="on-order", Targets=[{"Id": "q", "Arn": dlq_arn}])

    cloudwatch = server.client("cloudwatch")
    cloudwatch.put_metric_data(
        Namespace="Shop",
        MetricData=[{"MetricName": "Orders", "Value": value} for value in (3, 5, 4)],
    )
    return {
        "queue": orders,
        "dlq": dlq,
        "topic": topic,
        "function": function_arn,
        "machine": machine["stateMachineArn"],
        "execution": execution["executionArn"],
    }
