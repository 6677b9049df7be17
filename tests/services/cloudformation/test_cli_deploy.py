"""`aws cloudformation package` and `deploy` (change sets under the hood) of the notes' SAM hello-world:
the function and its table (the API part needs API Gateway)."""

from __future__ import annotations

import json
import textwrap

import pytest

from tests.helpers import AWS_V1, AWS_V2, aws

APP = textwrap.dedent(
    """
    import json
    import os

    import boto3

    region_name = os.environ["REGION_NAME"]
    table_name = os.environ["TABLE_NAME"]
    dynamo = boto3.client("dynamodb", region_name=region_name)


    def respond(err, res=None):
        return {
            "statusCode": "400" if err else "200",
            "body": str(err) if err else json.dumps(res),
            "headers": {"Content-Type": "application/json"},
        }


    def lambda_handler(event, context):
        return respond(None, res=dynamo.scan(TableName=table_name))
    """
)

TEMPLATE = textwrap.dedent(
    """
    AWSTemplateFormatVersion: '2010-09-09'
    Transform: AWS::Serverless-2016-10-31
    Description: A hello world application.
    Resources:
      helloworldpython3:
        Type: AWS::Serverless::Function
        Properties:
          Handler: app.lambda_handler
          Runtime: python3.11
          CodeUri: src/
          Description: A hello world application.
          MemorySize: 128
          Timeout: 10
          Environment:
            Variables:
              TABLE_NAME: !Ref MyTable
              REGION_NAME: !Ref AWS::Region
          Policies:
            - DynamoDBCrudPolicy:
                TableName: !Ref MyTable
      MyTable:
        Type: AWS::Serverless::SimpleTable
        Properties:
          PrimaryKey:
            Name: greeting
            Type: String
          ProvisionedThroughput:
            ReadCapacityUnits: 1
            WriteCapacityUnits: 1
    Outputs:
      Function:
        Value: !Ref helloworldpython3
      Table:
        Value: !Ref MyTable
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("cli", ["v1", "v2"])
def test_package_and_deploy_the_sam_hello_world(overcast, tmp_path, cli):
    program = AWS_V2 if cli == "v2" else AWS_V1

    def run(*args: str, output: str = "json") -> str:
        # The CLI v2 here (2.9) makes `package`'s S3 client without --endpoint-url (and predates
        # AWS_ENDPOINT_URL): v1 packages for both, each CLI deploys.
        return aws(
            overcast,
            *args,
            cli=AWS_V1 if args[:2] == ("cloudformation", "package") else program,
            output=output,
        )

    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(APP)
    (tmp_path / "template.yml").write_text(TEMPLATE)
    run("s3", "mb", "s3://john-code-sam", output="text")
    run(
        "cloudformation",
        "package",
        "--s3-bucket",
        "john-code-sam",
        "--template-file",
        str(tmp_path / "template.yml"),
        "--output-template-file",
        str(tmp_path / "generated.yml"),
        output="text",
    )
    packaged = (tmp_path / "generated.yml").read_text()
    assert "s3://john-code-sam/" in packaged
    run(
        "cloudformation",
        "deploy",
        "--template-file",
        str(tmp_path / "generated.yml"),
        "--stack-name",
        "hello-world-sam-stack",
        "--capabilities",
        "CAPABILITY_IAM",
        output="text",
    )
    cfn = overcast.client("cloudformation")
    stack = cfn.describe_stacks(StackName="hello-world-sam-stack")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    types = {
        r["ResourceType"]
        for r in cfn.list_stack_resources(StackName="hello-world-sam-stack")["StackResourceSummaries"]
    }
    assert types == {"AWS::Lambda::Function", "AWS::IAM::Role", "AWS::DynamoDB::Table"}
    processed = cfn.get_template(StackName="hello-world-sam-stack", TemplateStage="Processed")["TemplateBody"]
    assert "AWS::Serverless::Function" not in json.dumps(processed)

    lam, dynamodb = overcast.client("lambda"), overcast.client("dynamodb")
    answer = json.loads(lam.invoke(FunctionName=outputs["Function"])["Payload"].read())
    assert answer["statusCode"] == "200"
    assert json.loads(answer["body"])["Items"] == []
    dynamodb.put_item(TableName=outputs["Table"], Item={"greeting": {"S": "hi"}})
    answer = json.loads(lam.invoke(FunctionName=outputs["Function"])["Payload"].read())
    assert json.loads(answer["body"])["Items"] == [{"greeting": {"S": "hi"}}]

    # The same template again: the change set has no changes, which deploy reports.
    again = run(
        "cloudformation",
        "deploy",
        "--template-file",
        str(tmp_path / "generated.yml"),
        "--stack-name",
        "hello-world-sam-stack",
        "--capabilities",
        "CAPABILITY_IAM",
        "--no-fail-on-empty-changeset",
        output="text",
    )
    assert "No changes to deploy" in again
