"""Stacks of SQS queues: create, describe, events, resources, outputs, update, delete."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of, message_of
from tests.services.cloudformation.helpers import body, events, outputs, settled, statuses

QUEUES = """
AWSTemplateFormatVersion: "2010-09-09"
Description: two queues
Parameters:
  Suffix:
    Type: String
    Default: one
Resources:
  Dead:
    Type: AWS::SQS::Queue
  Work:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub "work-${Suffix}"
      VisibilityTimeout: 45
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt Dead.Arn
        maxReceiveCount: 3
Outputs:
  WorkUrl:
    Value: !Ref Work
  DeadArn:
    Value: !GetAtt Dead.Arn
    Export:
      Name: dead-arn
"""


def test_create_describe_and_delete_a_stack_of_queues(overcast):
    cfn, sqs = overcast.client("cloudformation"), overcast.client("sqs")
    stack_id = cfn.create_stack(StackName="queues", TemplateBody=QUEUES)["StackId"]
    assert stack_id.startswith("arn:aws:cloudformation:us-east-1:000000000000:stack/queues/")
    stack = settled(cfn, "queues")
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack
    assert stack["Description"] == "two queues"
    assert stack["Parameters"] == [{"ParameterKey": "Suffix", "ParameterValue": "one"}]
    values = outputs(stack)
    url = sqs.get_queue_url(QueueName="work-one")["QueueUrl"]
    assert values["WorkUrl"].endswith("/000000000000/work-one")
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["VisibilityTimeout"] == "45"
    assert values["DeadArn"] in attributes["RedrivePolicy"]
    dead_name = values["DeadArn"].rsplit(":", 1)[-1]
    assert dead_name.startswith("queues-Dead-")
    assert statuses(cfn, "queues", "Work") == ["CREATE_IN_PROGRESS", "CREATE_IN_PROGRESS", "CREATE_COMPLETE"]
    stack_events = events(cfn, "queues")
    assert stack_events[0]["ResourceStatus"] == "CREATE_IN_PROGRESS"
    assert stack_events[0]["ResourceStatusReason"] == "User Initiated"
    assert stack_events[-1]["ResourceStatus"] == "CREATE_COMPLETE"
    assert stack_events[-1]["ResourceType"] == "AWS::CloudFormation::Stack"
    resources = cfn.list_stack_resources(StackName="queues")["StackResourceSummaries"]
    assert {r["LogicalResourceId"]: r["ResourceStatus"] for r in resources} == {
        "Dead": "CREATE_COMPLETE",
        "Work": "CREATE_COMPLETE",
    }
    detail = cfn.describe_stack_resource(StackName="queues", LogicalResourceId="Work")["StackResourceDetail"]
    assert detail["PhysicalResourceId"] == values["WorkUrl"]
    assert cfn.list_exports()["Exports"] == [
        {"ExportingStackId": stack_id, "Name": "dead-arn", "Value": values["DeadArn"]}
    ]
    assert "Work" in cfn.get_template(StackName="queues")["TemplateBody"]

    cfn.delete_stack(StackName="queues")
    deleted = settled(cfn, stack_id)
    assert deleted["StackStatus"] == "DELETE_COMPLETE"
    assert "QueueUrls" not in sqs.list_queues()
    with pytest.raises(ClientError) as raised:
        cfn.describe_stacks(StackName="queues")
    assert error_of(raised) == ("ValidationError", 400)
    assert message_of(raised) == "Stack with id queues does not exist"
    summaries = cfn.list_stacks(StackStatusFilter=["DELETE_COMPLETE"])["StackSummaries"]
    assert [s["StackId"] for s in summaries] == [stack_id]


def test_update_in_place_and_by_replacement(overcast):
    cfn, sqs = overcast.client("cloudformation"), overcast.client("sqs")
    cfn.create_stack(StackName="upd", TemplateBody=QUEUES)
    assert settled(cfn, "upd")["StackStatus"] == "CREATE_COMPLETE"
    changed = QUEUES.replace("VisibilityTimeout: 45", "VisibilityTimeout: 60")
    cfn.update_stack(
        StackName="upd",
        TemplateBody=changed,
        Parameters=[{"ParameterKey": "Suffix", "UsePreviousValue": True}],
    )
    assert settled(cfn, "upd")["StackStatus"] == "UPDATE_COMPLETE"
    url = sqs.get_queue_url(QueueName="work-one")["QueueUrl"]
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"] == {
        "VisibilityTimeout": "60"
    }
    with pytest.raises(ClientError) as raised:
        cfn.update_stack(StackName="upd", TemplateBody=changed)
    assert message_of(raised) == "No updates are to be performed."
    # A new QueueName replaces the queue: the new one is made, then the old one deleted.
    cfn.update_stack(
        StackName="upd",
        TemplateBody=changed,
        Parameters=[{"ParameterKey": "Suffix", "ParameterValue": "two"}],
    )
    stack = settled(cfn, "upd")
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    names = sorted(u.rsplit("/", 1)[-1] for u in sqs.list_queues()["QueueUrls"])
    assert "work-two" in names and "work-one" not in names
    assert statuses(cfn, "upd", "Work")[-5:] == [
        "UPDATE_IN_PROGRESS",  # requires the creation of a new physical resource
        "UPDATE_IN_PROGRESS",  # resource creation initiated
        "UPDATE_COMPLETE",
        "DELETE_IN_PROGRESS",  # the old queue, in the cleanup
        "DELETE_COMPLETE",
    ]
    assert outputs(stack)["WorkUrl"].endswith("/work-two")


def test_template_errors_are_validation_errors(overcast):
    cfn = overcast.client("cloudformation")
    cases = [
        ("{", "Template format error: JSON not well-formed. (line 1,  column 2)"),
        (body({"Resources": {}}), "Template format error: At least one Resources member must be defined."),
        (
            body(
                {
                    "Resources": {
                        "Q": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Ref": "Nope"}}}
                    }
                }
            ),
            "Template format error: Unresolved resource dependencies [Nope] in the Resources block of the template",
        ),
        (
            body(
                {
                    "Resources": {
                        "A": {"Type": "AWS::SQS::Queue", "DependsOn": "B"},
                        "B": {"Type": "AWS::SQS::Queue", "DependsOn": "A"},
                    }
                }
            ),
            "Circular dependency between resources: [A, B]",
        ),
        (
            body(
                {
                    "Resources": {
                        "Q": {
                            "Type": "AWS::SQS::Queue",
                            "Properties": {"QueueName": {"Fn::GetAtt": ["Q2", "Nope"]}},
                        },
                        "Q2": {"Type": "AWS::SQS::Queue"},
                    }
                }
            ),
            "Template error: resource Q2 does not support attribute type Nope in Fn::GetAtt",
        ),
    ]
    for template, message in cases:
        with pytest.raises(ClientError) as raised:
            cfn.create_stack(StackName="bad", TemplateBody=template)
        assert error_of(raised) == ("ValidationError", 400), template
        assert message_of(raised) == message
