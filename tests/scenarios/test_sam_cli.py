"""The notes' SAM hello-world through the SAM CLI: `sam build` then `sam deploy` (its managed bucket stack,
the upload, a change set through the SAM transform), then the function reads the table; the next version
deployed as an update; `sam delete`."""

from __future__ import annotations

import json
import re

import pytest
from botocore.exceptions import ClientError

from tests.sam import sam
from tests.services.cloudformation.test_cli_deploy import APP, TEMPLATE

API_TEMPLATE = TEMPLATE.replace(
    "      Policies:\n",
    "      Events:\n        HelloWorld:\n          Type: Api\n          Properties:\n            Path: /hello\n"
    "            Method: get\n      Policies:\n",
)
assert API_TEMPLATE != TEMPLATE

DEPLOY_ARGS = (
    "--stack-name",
    "sam-app",
    "--resolve-s3",
    "--capabilities",
    "CAPABILITY_IAM",
    "--no-confirm-changeset",
    "--no-fail-on-empty-changeset",
    "--region",
    "us-east-1",
)


@pytest.mark.slow
def test_sam_build_and_deploy_the_hello_world(overcast, tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(APP)
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    sam(overcast.endpoint, "build", cwd=tmp_path)
    assert (tmp_path / ".aws-sam" / "build" / "helloworldpython3" / "app.py").exists()
    deployed = sam(overcast.endpoint, "deploy", *DEPLOY_ARGS, cwd=tmp_path)
    assert "Successfully created/updated stack - sam-app" in deployed.stdout
    cfn = overcast.client("cloudformation")
    managed = cfn.describe_stacks(StackName="aws-sam-cli-managed-default")["Stacks"][0]
    assert managed["StackStatus"] == "CREATE_COMPLETE"
    stack = cfn.describe_stacks(StackName="sam-app")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    overcast.client("dynamodb").put_item(TableName=outputs["Table"], Item={"greeting": {"S": "hi"}})
    answer = json.loads(overcast.client("lambda").invoke(FunctionName=outputs["Function"])["Payload"].read())
    assert answer["statusCode"] == "200"
    assert json.loads(answer["body"])["Items"] == [{"greeting": {"S": "hi"}}]

    # The next version of the code: build and deploy again update the function in place.
    (tmp_path / "src" / "app.py").write_text(APP.replace('"200"', '"201"'))
    sam(overcast.endpoint, "build", cwd=tmp_path)
    deployed = sam(overcast.endpoint, "deploy", *DEPLOY_ARGS, cwd=tmp_path)
    assert "Successfully created/updated stack - sam-app" in deployed.stdout
    stack = cfn.describe_stacks(StackName="sam-app")["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    answer = json.loads(overcast.client("lambda").invoke(FunctionName=outputs["Function"])["Payload"].read())
    assert answer["statusCode"] == "201"

    # sam delete: the stack and the artifacts it uploaded to the managed bucket go.
    bucket = {o["OutputKey"]: o["OutputValue"] for o in managed.get("Outputs", [])}["SourceBucket"]
    s3 = overcast.client("s3")
    before = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}
    packaged = cfn.get_template(StackName="sam-app", TemplateStage="Original")["TemplateBody"]
    (code,) = re.findall(
        rf"s3://{bucket}/([0-9a-f]+)", packaged if isinstance(packaged, str) else json.dumps(packaged)
    )
    assert code in before and len(before) == 4  # each deploy uploaded its code and its template
    sam(
        overcast.endpoint,
        "delete",
        "--stack-name",
        "sam-app",
        "--no-prompts",
        "--region",
        "us-east-1",
        cwd=tmp_path,
    )
    assert "sam-app" not in [s["StackName"] for s in cfn.describe_stacks()["Stacks"]]
    left = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}
    assert code not in left and len(left) == 2  # the deployed release's artifacts went; the first's stay
    assert outputs["Table"] not in overcast.client("dynamodb").list_tables()["TableNames"]


@pytest.mark.slow
def test_sam_hello_world_with_its_api(overcast, tmp_path):
    try:
        overcast.client("apigateway").get_rest_apis()
    except ClientError as error:
        if error.response["Error"]["Code"] == "NotImplemented":
            pytest.skip("the SAM hello-world's API needs API Gateway, not in this build")
        raise
    import urllib.request

    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(APP)
    (tmp_path / "template.yaml").write_text(API_TEMPLATE)
    sam(overcast.endpoint, "build", cwd=tmp_path)
    sam(
        overcast.endpoint,
        "deploy",
        "--stack-name",
        "sam-api",
        "--resolve-s3",
        "--capabilities",
        "CAPABILITY_IAM",
        "--no-confirm-changeset",
        "--region",
        "us-east-1",
        cwd=tmp_path,
    )
    cfn = overcast.client("cloudformation")
    resources = {
        r["ResourceType"] for r in cfn.list_stack_resources(StackName="sam-api")["StackResourceSummaries"]
    }
    assert {
        "AWS::ApiGateway::RestApi",
        "AWS::ApiGateway::Deployment",
        "AWS::ApiGateway::Stage",
        "AWS::Lambda::Permission",
    } <= resources
    api = [
        r
        for r in cfn.list_stack_resources(StackName="sam-api")["StackResourceSummaries"]
        if r["ResourceType"] == "AWS::ApiGateway::RestApi"
    ][0]
    url = f"{overcast.endpoint}/restapis/{api['PhysicalResourceId']}/Prod/_user_request_/hello"
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "application/json"
        assert json.loads(response.read())["Items"] == []
