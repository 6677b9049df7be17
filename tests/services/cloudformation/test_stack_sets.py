"""StackSets (self-managed): one template as stack instances in several accounts and regions, made through
the administration and execution roles."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of
from tests.policy.servers import client_as, document
from tests.services.cloudformation.helpers import body, events
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


def test_self_managed_instances_act_as_the_execution_role(enforced):
    """Under --iam enforce the instance stacks are made by the target account's execution role, assumed
    through the administration role: what the execution role may do is what the instances may make."""
    org = enforced.client("organizations")
    org.create_organization(FeatureSet="ALL")
    target = org.create_account(Email="fleet@example.com", AccountName="fleet")["CreateAccountStatus"][
        "AccountId"
    ]
    session = enforced.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{target}:role/OrganizationAccountAccessRole", RoleSessionName="admin"
    )["Credentials"]
    iam, target_iam = enforced.client("iam"), client_as(enforced, "iam", session)
    iam.create_role(
        RoleName="AWSCloudFormationStackSetAdministrationRole",
        AssumeRolePolicyDocument=trust({"Service": "cloudformation.amazonaws.com"}),
    )
    iam.put_role_policy(
        RoleName="AWSCloudFormationStackSetAdministrationRole",
        PolicyName="assume-execution",
        PolicyDocument=document(
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Resource": "arn:aws:iam::*:role/AWSCloudFormationStackSetExecutionRole",
            }
        ),
    )
    target_iam.create_role(
        RoleName="AWSCloudFormationStackSetExecutionRole",
        AssumeRolePolicyDocument=trust({"AWS": "arn:aws:iam::000000000000:root"}),
    )
    target_iam.put_role_policy(
        RoleName="AWSCloudFormationStackSetExecutionRole",
        PolicyName="queues-only",
        PolicyDocument=document(
            {"Effect": "Allow", "Action": ["cloudformation:*", "sqs:*"], "Resource": "*"}
        ),
    )
    cfn = enforced.client("cloudformation")

    cfn.create_stack_set(StackSetName="queues", TemplateBody=body(TEMPLATE))
    operation = cfn.create_stack_instances(StackSetName="queues", Accounts=[target], Regions=["us-east-1"])
    assert finished(cfn, "queues", operation["OperationId"])["Status"] == "SUCCEEDED"
    assert client_as(enforced, "sqs", session).get_queue_url(QueueName="fleet-queue")

    topics = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "fleet-topic"}}}}
    cfn.create_stack_set(StackSetName="topics", TemplateBody=body(topics))
    operation = cfn.create_stack_instances(StackSetName="topics", Accounts=[target], Regions=["us-east-1"])
    assert finished(cfn, "topics", operation["OperationId"])["Status"] == "FAILED"
    target_cfn = client_as(enforced, "cloudformation", session)
    (stack,) = [
        s for s in target_cfn.describe_stacks()["Stacks"] if s["StackName"].startswith("StackSet-topics-")
    ]
    (failure,) = [e for e in events(target_cfn, stack["StackId"]) if e["ResourceStatus"] == "CREATE_FAILED"]
    assert "is not authorized to perform: sns:CreateTopic" in failure["ResourceStatusReason"]
    assert (
        f"arn:aws:sts::{target}:assumed-role/AWSCloudFormationStackSetExecutionRole/"
        in (failure["ResourceStatusReason"])
    )

    # An execution role that does not trust the administration account cannot be reached.
    target_iam.update_assume_role_policy(
        RoleName="AWSCloudFormationStackSetExecutionRole",
        PolicyDocument=trust({"AWS": "arn:aws:iam::999999999999:root"}),
    )
    cfn.create_stack_set(StackSetName="untrusted", TemplateBody=body(TEMPLATE))
    operation = cfn.create_stack_instances(StackSetName="untrusted", Accounts=[target], Regions=["us-east-1"])
    assert finished(cfn, "untrusted", operation["OperationId"])["Status"] == "FAILED"
    (result,) = cfn.list_stack_set_operation_results(
        StackSetName="untrusted", OperationId=operation["OperationId"]
    )["Summaries"]
    assert result["StatusReason"] == (
        f"Account {target} should have 'AWSCloudFormationStackSetExecutionRole' role with trust relationship "
        "to Role 'AWSCloudFormationStackSetAdministrationRole'."
    )
