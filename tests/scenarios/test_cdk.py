"""The CDK end to end: `cdk bootstrap`, `cdk deploy` of an app with a bucket, a queue, a table and a function
fed by the queue (an SQS event source) with its role; an order sent to the queue reaches the table and the
bucket; `cdk diff` shows nothing; `cdk destroy` removes it all."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.cdk import cdk
from tests.waiting import wait_for


def needs_bootstrap_services(overcast) -> None:
    """What the bootstrap template uses besides CloudFormation's own: an SSM parameter for its version
    (/cdk-bootstrap/hnb659fds/version), and the AWS managed policy AWSCloudFormationReadOnlyAccess that its
    deployment action role attaches."""
    try:
        overcast.client("ssm").get_parameter(Name="/overcast/probe")
    except ClientError as error:
        if error.response["Error"]["Code"] == "NotImplemented":
            pytest.skip("cdk bootstrap needs SSM Parameter Store (AWS::SSM::Parameter), not in this build")
    try:
        overcast.client("iam").get_policy(PolicyArn="arn:aws:iam::aws:policy/AWSCloudFormationReadOnlyAccess")
    except ClientError as error:
        if error.response["Error"]["Code"] == "NoSuchEntity":
            pytest.skip(
                "cdk bootstrap attaches the AWS managed policy AWSCloudFormationReadOnlyAccess, not in IAM's data"
            )


def receipt_of(s3, bucket: str, order: str) -> bytes | None:
    """The order's receipt, once the function has written it (after the table's item)."""
    try:
        return s3.get_object(Bucket=bucket, Key=f"receipts/{order}.json")["Body"].read()
    except ClientError as error:
        if error.response["Error"]["Code"] == "NoSuchKey":
            return None
        raise


@pytest.mark.slow
def test_cdk_bootstrap_deploy_diff_destroy(overcast, tmp_path):
    needs_bootstrap_services(overcast)
    cfn = overcast.client("cloudformation")
    cdk(overcast.endpoint, "bootstrap", "aws://000000000000/us-east-1", output=tmp_path / "out")
    toolkit = cfn.describe_stacks(StackName="CDKToolkit")["Stacks"][0]
    assert toolkit["StackStatus"] == "CREATE_COMPLETE"
    toolkit_outputs = {o["OutputKey"]: o["OutputValue"] for o in toolkit["Outputs"]}
    assert toolkit_outputs["BucketName"] == "cdk-hnb659fds-assets-000000000000-us-east-1"
    version = overcast.client("ssm").get_parameter(Name="/cdk-bootstrap/hnb659fds/version")["Parameter"][
        "Value"
    ]
    assert toolkit_outputs["BootstrapVersion"] == version
    assert overcast.client("ecr").describe_repositories()["repositories"][0]["repositoryName"] == (
        "cdk-hnb659fds-container-assets-000000000000-us-east-1"
    )

    cdk(overcast.endpoint, "deploy", "OvercastOrders", output=tmp_path / "out")
    stack = cfn.describe_stacks(StackName="OvercastOrders")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    types = {
        r["ResourceType"]
        for r in cfn.list_stack_resources(StackName="OvercastOrders")["StackResourceSummaries"]
    }
    assert {
        "AWS::S3::Bucket",
        "AWS::SQS::Queue",
        "AWS::DynamoDB::Table",
        "AWS::Lambda::Function",
        "AWS::IAM::Role",
        "AWS::Lambda::EventSourceMapping",
        "AWS::IAM::Policy",
    } <= types

    sqs, dynamodb, s3 = overcast.client("sqs"), overcast.client("dynamodb"), overcast.client("s3")
    sqs.send_message(QueueUrl=outputs["QueueUrl"], MessageBody=json.dumps({"id": "o-1", "item": "tea"}))
    item = wait_for(
        lambda: dynamodb.get_item(TableName=outputs["TableName"], Key={"id": {"S": "o-1"}}).get("Item"),
        timeout=60,
    )
    assert item["item"] == {"S": "tea"} and item["release"] == {"S": "1"}
    receipt = wait_for(lambda: receipt_of(s3, outputs["BucketName"], "o-1"), timeout=30)
    assert json.loads(receipt) == {"id": "o-1", "item": "tea"}

    diff = cdk(overcast.endpoint, "diff", "OvercastOrders", output=tmp_path / "out")
    assert "There were no differences" in diff.stdout + diff.stderr

    # The next release: `cdk deploy` again updates the function and the queue in place.
    cdk(overcast.endpoint, "deploy", "OvercastOrders", "-c", "release=2", output=tmp_path / "out")
    stack = cfn.describe_stacks(StackName="OvercastOrders")["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    assert {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]} == outputs
    attributes = sqs.get_queue_attributes(QueueUrl=outputs["QueueUrl"], AttributeNames=["VisibilityTimeout"])
    assert attributes["Attributes"]["VisibilityTimeout"] == "45"
    sqs.send_message(QueueUrl=outputs["QueueUrl"], MessageBody=json.dumps({"id": "o-2", "item": "cake"}))
    item = wait_for(
        lambda: dynamodb.get_item(TableName=outputs["TableName"], Key={"id": {"S": "o-2"}}).get("Item"),
        timeout=60,
    )
    assert item["release"] == {"S": "2"}
    assert wait_for(lambda: receipt_of(s3, outputs["BucketName"], "o-2"), timeout=30)
    diff = cdk(overcast.endpoint, "diff", "OvercastOrders", "-c", "release=2", output=tmp_path / "out")
    assert "There were no differences" in diff.stdout + diff.stderr

    for key in ("receipts/o-1.json", "receipts/o-2.json"):
        s3.delete_object(Bucket=outputs["BucketName"], Key=key)
    cdk(overcast.endpoint, "destroy", "OvercastOrders", "--force", output=tmp_path / "out")
    assert [s["StackName"] for s in cfn.describe_stacks()["Stacks"]] == ["CDKToolkit"]
    assert outputs["TableName"] not in overcast.client("dynamodb").list_tables()["TableNames"]


KITCHEN_SERVICES = {
    "stepfunctions": ("list_state_machines", {}),
    "kinesis": ("list_streams", {}),
    "secretsmanager": ("list_secrets", {}),
    "kms": ("list_keys", {}),
    "events": ("list_rules", {}),
    "cloudwatch": ("describe_alarms", {}),
}


@pytest.mark.slow
def test_cdk_constructs_across_services(overcast, tmp_path):
    """The kitchen app: the constructs users reach for first, deployed as CDK writes them, used, updated (a
    replacement and an in-place change), diffed and destroyed."""
    needs_bootstrap_services(overcast)
    for service, (operation, params) in KITCHEN_SERVICES.items():
        try:
            getattr(overcast.client(service), operation)(**params)
        except ClientError as error:
            if error.response["Error"]["Code"] == "NotImplemented":
                pytest.skip(f"the kitchen app needs {service}, not in this build")
    cfn = overcast.client("cloudformation")
    cdk(overcast.endpoint, "bootstrap", "aws://000000000000/us-east-1", output=tmp_path / "out")
    cdk(overcast.endpoint, "deploy", "OvercastKitchen", output=tmp_path / "out", app="kitchen.js")
    stack = cfn.describe_stacks(StackName="OvercastKitchen")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    out = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}

    # The topic feeds the queue; the state machine calls the function; the parameter and secret are there.
    overcast.client("sns").publish(TopicArn=out["TopicArn"], Message="hello")
    sqs = overcast.client("sqs")
    received = wait_for(
        lambda: sqs.receive_message(QueueUrl=out["QueueUrl"], WaitTimeSeconds=1).get("Messages"), timeout=30
    )
    assert received[0]["Body"] == "hello"
    sfn = overcast.client("stepfunctions")
    execution = sfn.start_execution(stateMachineArn=out["MachineArn"], input=json.dumps({"n": 21}))
    finished = wait_for(
        lambda: (
            (found := sfn.describe_execution(executionArn=execution["executionArn"]))["status"] != "RUNNING"
            and found
        ),
        timeout=60,
    )
    assert (finished["status"], json.loads(finished["output"])) == ("SUCCEEDED", {"doubled": 42})
    assert overcast.client("ssm").get_parameter(Name="/kitchen/colour")["Parameter"]["Value"] == "blue"
    secret = json.loads(
        overcast.client("secretsmanager").get_secret_value(SecretId=out["SecretArn"])["SecretString"]
    )
    assert secret["user"] == "app" and len(secret["password"]) == 32
    encryption = overcast.client("s3").get_bucket_encryption(Bucket=out["BucketName"])
    rule = encryption["ServerSideEncryptionConfiguration"]["Rules"][0]["ApplyServerSideEncryptionByDefault"]
    assert rule["SSEAlgorithm"] == "aws:kms"
    table = overcast.client("dynamodb").describe_table(TableName=out["TableName"])["Table"]
    assert [index["IndexName"] for index in table["GlobalSecondaryIndexes"]] == ["byOwner"]
    assert overcast.client("kinesis").describe_stream_summary(StreamName=out["StreamName"])

    diff = cdk(overcast.endpoint, "diff", "OvercastKitchen", output=tmp_path / "out", app="kitchen.js")
    assert "There were no differences" in diff.stdout + diff.stderr
    diff = cdk(
        overcast.endpoint,
        "diff",
        "OvercastKitchen",
        "-c",
        "release=2",
        output=tmp_path / "out",
        app="kitchen.js",
    )
    assert "KeySchema (requires replacement)" in diff.stdout + diff.stderr
    cdk(
        overcast.endpoint,
        "deploy",
        "OvercastKitchen",
        "-c",
        "release=2",
        output=tmp_path / "out",
        app="kitchen.js",
    )
    stack = cfn.describe_stacks(StackName="OvercastKitchen")["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    new_table = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}["TableName"]
    assert new_table != out["TableName"]
    tables = overcast.client("dynamodb").list_tables()["TableNames"]
    assert new_table in tables and out["TableName"] not in tables
    alarms = overcast.client("cloudwatch").describe_alarms()["MetricAlarms"]
    assert [alarm["Threshold"] for alarm in alarms] == [3.0]

    cdk(overcast.endpoint, "destroy", "OvercastKitchen", "--force", output=tmp_path / "out", app="kitchen.js")
    assert [s["StackName"] for s in cfn.describe_stacks()["Stacks"]] == ["CDKToolkit"]
    assert overcast.client("stepfunctions").list_state_machines()["stateMachines"] == []
