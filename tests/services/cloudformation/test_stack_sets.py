"""StackSets (self-managed): one template as stack instances in several accounts and regions."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of
from tests.services.cloudformation.helpers import body
from tests.waiting import wait_for

TEMPLATE = {
    "Parameters": {"Retention": {"Type": "Number", "Default": 345600}},
    "Resources": {
        "Queue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {"QueueName": "fleet-queue", "MessageRetentionPeriod": {"Ref": "Retention"}},
        }
    },
}
TARGET = "111122223333"


def trust(principal: dict) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}],
        }
    )


def finished(cfn, name: str, operation_id: str) -> dict:
    def check():
        operation = cfn.describe_stack_set_operation(StackSetName=name, OperationId=operation_id)[
            "StackSetOperation"
        ]
        return operation if operation["Status"] in ("SUCCEEDED", "FAILED") else None

    return wait_for(check, timeout=60)


def test_self_managed_stack_set_across_accounts_and_regions(overcast):
    cfn = overcast.client("cloudformation")
    cfn.create_stack_set(StackSetName="fleet", TemplateBody=body(TEMPLATE))
    assert cfn.describe_stack_set(StackSetName="fleet")["StackSet"]["PermissionModel"] == "SELF_MANAGED"

    # Without the administration and execution roles the instances cannot be deployed.
    operation = cfn.create_stack_instances(StackSetName="fleet", Accounts=[TARGET], Regions=["us-east-1"])[
        "OperationId"
    ]
    assert finished(cfn, "fleet", operation)["Status"] == "FAILED"
    results = cfn.list_stack_set_operation_results(StackSetName="fleet", OperationId=operation)["Summaries"]
    assert (
        results[0]["Status"] == "FAILED"
        and "AWSCloudFormationStackSetAdministrationRole" in results[0]["StatusReason"]
    )
    cfn.delete_stack_instances(
        StackSetName="fleet", Accounts=[TARGET], Regions=["us-east-1"], RetainStacks=False
    )
    wait_for(lambda: not cfn.list_stack_instances(StackSetName="fleet")["Summaries"])

    overcast.client("iam").create_role(
        RoleName="AWSCloudFormationStackSetAdministrationRole",
        AssumeRolePolicyDocument=trust({"Service": "cloudformation.amazonaws.com"}),
    )
    target_iam = overcast.client("iam", aws_access_key_id=TARGET, aws_secret_access_key="test")
    target_iam.create_role(
        RoleName="AWSCloudFormationStackSetExecutionRole",
        AssumeRolePolicyDocument=trust({"AWS": "arn:aws:iam::000000000000:root"}),
    )
    operation = cfn.create_stack_instances(
        StackSetName="fleet", Accounts=[TARGET], Regions=["us-east-1", "eu-west-1"]
    )["OperationId"]
    assert finished(cfn, "fleet", operation)["Status"] == "SUCCEEDED"
    instances = cfn.list_stack_instances(StackSetName="fleet")["Summaries"]
    assert sorted((i["Account"], i["Region"], i["Status"]) for i in instances) == [
        (TARGET, "eu-west-1", "CURRENT"),
        (TARGET, "us-east-1", "CURRENT"),
    ]
    for region in ("us-east-1", "eu-west-1"):
        sqs = overcast.client("sqs", region=region, aws_access_key_id=TARGET, aws_secret_access_key="test")
        assert sqs.get_queue_url(QueueName="fleet-queue")["QueueUrl"].endswith(f"/{TARGET}/fleet-queue")
        stacks = overcast.client(
            "cloudformation", region=region, aws_access_key_id=TARGET, aws_secret_access_key="test"
        ).describe_stacks()["Stacks"]
        assert stacks[0]["StackName"].startswith("StackSet-fleet-")

    operation = cfn.update_stack_set(
        StackSetName="fleet",
        UsePreviousTemplate=True,
        Parameters=[{"ParameterKey": "Retention", "ParameterValue": "86400"}],
    )["OperationId"]
    assert finished(cfn, "fleet", operation)["Status"] == "SUCCEEDED"
    sqs = overcast.client("sqs", region="eu-west-1", aws_access_key_id=TARGET, aws_secret_access_key="test")
    url = sqs.get_queue_url(QueueName="fleet-queue")["QueueUrl"]
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["MessageRetentionPeriod"])[
        "Attributes"
    ] == {"MessageRetentionPeriod": "86400"}

    with pytest.raises(ClientError) as raised:
        cfn.delete_stack_set(StackSetName="fleet")
    assert error_of(raised) == ("StackSetNotEmptyException", 409)
    operation = cfn.delete_stack_instances(
        StackSetName="fleet", Accounts=[TARGET], Regions=["us-east-1", "eu-west-1"], RetainStacks=False
    )["OperationId"]
    assert finished(cfn, "fleet", operation)["Status"] == "SUCCEEDED"
    assert cfn.list_stack_instances(StackSetName="fleet")["Summaries"] == []
    assert "QueueUrls" not in sqs.list_queues()
    cfn.delete_stack_set(StackSetName="fleet")
    with pytest.raises(ClientError) as raised:
        cfn.describe_stack_set(StackSetName="fleet")
    assert error_of(raised) == ("StackSetNotFoundException", 404)
    assert [s["StackSetName"] for s in cfn.list_stack_sets(Status="DELETED")["Summaries"]] == ["fleet"]
    assert cfn.list_stack_sets(Status="ACTIVE")["Summaries"] == []
