"""Change sets, nested stacks, notifications, drift, the registry, template summaries, termination
protection, stack policies, macros (AWS::Include, AWS::LanguageExtensions)."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of, message_of
from tests.services.cloudformation.helpers import body, events, outputs, settled
from tests.waiting import wait_for

QUEUE = {
    "Parameters": {
        "Name": {"Type": "String", "Default": "cs-queue"},
        "Delay": {"Type": "Number", "Default": 0},
    },
    "Resources": {
        "Queue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {"QueueName": {"Ref": "Name"}, "DelaySeconds": {"Ref": "Delay"}},
        },
        "Policy": {
            "Type": "AWS::SQS::QueuePolicy",
            "Properties": {
                "Queues": [{"Ref": "Queue"}],
                "PolicyDocument": {
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": "*",
                            "Action": "sqs:SendMessage",
                            "Resource": {"Fn::GetAtt": ["Queue", "Arn"]},
                        }
                    ]
                },
            },
        },
    },
}


def test_change_sets_plan_execute_and_report_no_changes(overcast):
    cfn = overcast.client("cloudformation")
    created = cfn.create_change_set(
        StackName="cs", ChangeSetName="first", ChangeSetType="CREATE", TemplateBody=body(QUEUE)
    )
    stack = cfn.describe_stacks(StackName="cs")["Stacks"][0]
    assert stack["StackStatus"] == "REVIEW_IN_PROGRESS"
    described = cfn.describe_change_set(ChangeSetName=created["Id"])
    assert (described["Status"], described["ExecutionStatus"]) == ("CREATE_COMPLETE", "AVAILABLE")
    assert sorted(
        (c["ResourceChange"]["Action"], c["ResourceChange"]["LogicalResourceId"])
        for c in described["Changes"]
    ) == [
        ("Add", "Policy"),
        ("Add", "Queue"),
    ]
    cfn.execute_change_set(ChangeSetName="first", StackName="cs")
    assert settled(cfn, "cs")["StackStatus"] == "CREATE_COMPLETE"

    # A new delay is an in-place change; a new name replaces the queue, and the policy that names it.
    cfn.create_change_set(
        StackName="cs",
        ChangeSetName="delay",
        UsePreviousTemplate=True,
        Parameters=[
            {"ParameterKey": "Delay", "ParameterValue": "5"},
            {"ParameterKey": "Name", "UsePreviousValue": True},
        ],
    )
    changes = cfn.describe_change_set(ChangeSetName="delay", StackName="cs")["Changes"]
    assert [
        (c["ResourceChange"]["LogicalResourceId"], c["ResourceChange"]["Replacement"]) for c in changes
    ] == [("Queue", "False")]
    assert changes[0]["ResourceChange"]["Details"][0]["Target"] == {
        "Attribute": "Properties",
        "Name": "DelaySeconds",
        "RequiresRecreation": "Never",
        "Path": "/Properties/DelaySeconds",
        "AttributeChangeType": "Modify",
    }
    cfn.create_change_set(
        StackName="cs",
        ChangeSetName="rename",
        UsePreviousTemplate=True,
        Parameters=[{"ParameterKey": "Name", "ParameterValue": "cs-other"}],
    )
    changes = {
        c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"]
        for c in cfn.describe_change_set(ChangeSetName="rename", StackName="cs")["Changes"]
    }
    assert changes["Queue"]["Replacement"] == "True"
    assert changes["Policy"]["Details"][0]["Evaluation"] == "Dynamic"
    summaries = cfn.list_change_sets(StackName="cs")["Summaries"]
    assert [(s["ChangeSetName"], s["ExecutionStatus"]) for s in summaries] == [
        ("first", "EXECUTE_COMPLETE"),  # executing one deletes the others; it stays, executed
        ("delay", "AVAILABLE"),
        ("rename", "AVAILABLE"),
    ]
    cfn.delete_change_set(ChangeSetName="delay", StackName="cs")
    cfn.execute_change_set(ChangeSetName="rename", StackName="cs")
    stack = settled(cfn, "cs")
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    queues = [u.rsplit("/", 1)[-1] for u in overcast.client("sqs").list_queues()["QueueUrls"]]
    assert queues == ["cs-other"]
    assert [s["ChangeSetName"] for s in cfn.list_change_sets(StackName="cs")["Summaries"]] == ["rename"]

    cfn.create_change_set(
        StackName="cs",
        ChangeSetName="same",
        UsePreviousTemplate=True,
        Parameters=[{"ParameterKey": "Name", "UsePreviousValue": True}],
    )
    same = cfn.describe_change_set(ChangeSetName="same", StackName="cs")
    assert (same["Status"], same["ExecutionStatus"]) == ("FAILED", "UNAVAILABLE")
    assert (
        same["StatusReason"]
        == "The submitted information didn't contain changes. Submit different information to create a change set."
    )
    with pytest.raises(ClientError) as raised:
        cfn.execute_change_set(ChangeSetName="same", StackName="cs")
    assert error_of(raised) == ("InvalidChangeSetStatus", 400)
    with pytest.raises(ClientError) as raised:
        cfn.describe_change_set(ChangeSetName="nope", StackName="cs")
    assert error_of(raised) == ("ChangeSetNotFound", 404)
    assert message_of(raised) == "ChangeSet [nope] does not exist"
    # Deleting by name succeeds while the stack exists, change set or not (the CDK does so before its own).
    assert (
        cfn.delete_change_set(ChangeSetName="nope", StackName="cs")["ResponseMetadata"]["HTTPStatusCode"]
        == 200
    )
    with pytest.raises(ClientError) as raised:
        cfn.delete_change_set(ChangeSetName="nope", StackName="no-such-stack")
    assert error_of(raised) == ("ChangeSetNotFound", 404)


CHILD = {
    "Parameters": {"Prefix": {"Type": "String"}},
    "Resources": {
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": {"Fn::Sub": "${Prefix}-topic"}}}
    },
    "Outputs": {"TopicArn": {"Value": {"Ref": "Topic"}}},
}


def test_nested_stacks_from_a_template_url(overcast):
    cfn, s3 = overcast.client("cloudformation"), overcast.client("s3")
    s3.create_bucket(Bucket="templates")
    s3.put_object(Bucket="templates", Key="child.json", Body=body(CHILD).encode())
    parent = {
        "Resources": {
            "Child": {
                "Type": "AWS::CloudFormation::Stack",
                "Properties": {
                    "TemplateURL": "https://templates.s3.amazonaws.com/child.json",
                    "Parameters": {"Prefix": "nested"},
                },
            }
        },
        "Outputs": {"Topic": {"Value": {"Fn::GetAtt": ["Child", "Outputs.TopicArn"]}}},
    }
    cfn.create_stack(StackName="parent", TemplateBody=body(parent))
    stack = settled(cfn, "parent")
    assert stack["StackStatus"] == "CREATE_COMPLETE", events(cfn, "parent")
    assert outputs(stack)["Topic"] == "arn:aws:sns:us-east-1:000000000000:nested-topic"
    child_arn = cfn.describe_stack_resource(StackName="parent", LogicalResourceId="Child")[
        "StackResourceDetail"
    ]["PhysicalResourceId"]
    child = cfn.describe_stacks(StackName=child_arn)["Stacks"][0]
    assert child["ParentId"] == stack["StackId"] and child["RootId"] == stack["StackId"]
    assert child["StackName"].startswith("parent-Child-")
    cfn.delete_stack(StackName="parent")
    assert settled(cfn, stack["StackId"])["StackStatus"] == "DELETE_COMPLETE"
    assert cfn.describe_stacks(StackName=child_arn)["Stacks"][0]["StackStatus"] == "DELETE_COMPLETE"
    assert overcast.client("sns").list_topics()["Topics"] == []


def test_stack_events_are_published_to_notification_topics(overcast):
    cfn, sns, sqs = overcast.client("cloudformation"), overcast.client("sns"), overcast.client("sqs")
    topic = sns.create_topic(Name="stack-events")["TopicArn"]
    url = sqs.create_queue(QueueName="stack-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    cfn.create_stack(
        StackName="noisy",
        TemplateBody=body({"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}),
        NotificationARNs=[topic],
    )
    assert settled(cfn, "noisy")["NotificationARNs"] == [topic]
    received: list[str] = []

    def all_events():
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            received.append(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return len(received) >= 5

    wait_for(all_events, timeout=30)
    last = [
        body
        for body in received
        if "ResourceStatus='CREATE_COMPLETE'" in body and "LogicalResourceId='noisy'" in body
    ]
    assert last and "ResourceType='AWS::CloudFormation::Stack'" in last[0] and "StackName='noisy'" in last[0]


def test_drift_detection_reads_the_live_resources(overcast):
    cfn, sqs = overcast.client("cloudformation"), overcast.client("sqs")
    template = {
        "Resources": {
            "Q": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "drifting", "VisibilityTimeout": 30}}
        }
    }
    cfn.create_stack(StackName="drift", TemplateBody=body(template))
    settled(cfn, "drift")
    detection = cfn.detect_stack_drift(StackName="drift")["StackDriftDetectionId"]
    assert (
        cfn.describe_stack_drift_detection_status(StackDriftDetectionId=detection)["StackDriftStatus"]
        == "IN_SYNC"
    )
    url = sqs.get_queue_url(QueueName="drifting")["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "90"})
    detection = cfn.detect_stack_drift(StackName="drift")["StackDriftDetectionId"]
    status = cfn.describe_stack_drift_detection_status(StackDriftDetectionId=detection)
    assert (status["StackDriftStatus"], status["DriftedStackResourceCount"]) == ("DRIFTED", 1)
    drift = cfn.describe_stack_resource_drifts(StackName="drift")["StackResourceDrifts"][0]
    assert drift["StackResourceDriftStatus"] == "MODIFIED"
    assert drift["PropertyDifferences"] == [
        {
            "PropertyPath": "/VisibilityTimeout",
            "ExpectedValue": "30",
            "ActualValue": '"90"',
            "DifferenceType": "NOT_EQUAL",
        }
    ]
    assert (
        cfn.describe_stacks(StackName="drift")["Stacks"][0]["DriftInformation"]["StackDriftStatus"]
        == "DRIFTED"
    )
    sqs.delete_queue(QueueUrl=url)
    resource = cfn.detect_stack_resource_drift(StackName="drift", LogicalResourceId="Q")["StackResourceDrift"]
    assert resource["StackResourceDriftStatus"] == "DELETED"


def test_the_registry_lists_what_overcast_supports(overcast):
    cfn = overcast.client("cloudformation")
    names = [
        t["TypeName"]
        for t in cfn.list_types(
            Visibility="PUBLIC", Type="RESOURCE", Filters={"TypeNamePrefix": "AWS::SQS::"}
        )["TypeSummaries"]
    ]
    assert names == ["AWS::SQS::Queue", "AWS::SQS::QueueInlinePolicy", "AWS::SQS::QueuePolicy"]
    described = cfn.describe_type(Type="RESOURCE", TypeName="AWS::SQS::Queue")
    schema = json.loads(described["Schema"])
    assert schema["primaryIdentifier"] == ["/properties/QueueUrl"]
    assert "/properties/QueueName" in schema["createOnlyProperties"]
    with pytest.raises(ClientError) as raised:
        cfn.describe_type(Type="RESOURCE", TypeName="AWS::Nope::Thing")
    assert error_of(raised) == ("TypeNotFoundException", 404)


def test_unsupported_types_fail_the_stack_with_a_clear_reason(overcast):
    cfn = overcast.client("cloudformation")
    cfn.create_stack(
        StackName="unknown", TemplateBody=body({"Resources": {"Thing": {"Type": "AWS::Nope::Thing"}}})
    )
    assert settled(cfn, "unknown")["StackStatus"] == "ROLLBACK_COMPLETE"
    failed = [e for e in events(cfn, "unknown") if e["ResourceStatus"] == "CREATE_FAILED"]
    assert failed[0]["ResourceStatusReason"] == "Resource type AWS::Nope::Thing is not supported by Overcast"


def test_validate_template_and_summary(overcast):
    cfn = overcast.client("cloudformation")
    template = {
        "Description": "roles",
        "Parameters": {
            "Env": {
                "Type": "String",
                "Default": "dev",
                "AllowedValues": ["dev", "prod"],
                "Description": "where",
            }
        },
        "Resources": {
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {"RoleName": "named", "AssumeRolePolicyDocument": {}},
            }
        },
    }
    validated = cfn.validate_template(TemplateBody=body(template))
    assert validated["Parameters"] == [
        {"ParameterKey": "Env", "DefaultValue": "dev", "NoEcho": False, "Description": "where"}
    ]
    assert validated["Capabilities"] == ["CAPABILITY_NAMED_IAM"]
    assert (
        validated["CapabilitiesReason"] == "The following resource(s) require capabilities: [AWS::IAM::Role]"
    )
    summary = cfn.get_template_summary(TemplateBody=body(template))
    assert summary["ResourceTypes"] == ["AWS::IAM::Role"]
    assert summary["Parameters"][0]["ParameterConstraints"] == {"AllowedValues": ["dev", "prod"]}
    assert summary["ResourceIdentifierSummaries"] == [
        {
            "ResourceType": "AWS::IAM::Role",
            "LogicalResourceIds": ["Role"],
            "ResourceIdentifiers": ["RoleName"],
        }
    ]
    with pytest.raises(ClientError) as raised:
        cfn.create_stack(StackName="roles", TemplateBody=body(template), Capabilities=["CAPABILITY_IAM"])
    assert error_of(raised) == ("InsufficientCapabilitiesException", 400)
    assert message_of(raised) == "Requires capabilities : [CAPABILITY_NAMED_IAM]"


def test_termination_protection_and_stack_policies(overcast):
    cfn = overcast.client("cloudformation")
    template = {
        "Parameters": {"Delay": {"Type": "Number", "Default": 0}},
        "Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"DelaySeconds": {"Ref": "Delay"}}}},
    }
    policy = {
        "Statement": [
            {"Effect": "Allow", "Action": "Update:*", "Principal": "*", "Resource": "*"},
            {
                "Effect": "Deny",
                "Action": "Update:Modify",
                "Principal": "*",
                "Resource": "LogicalResourceId/Q",
            },
        ]
    }
    cfn.create_stack(
        StackName="guarded",
        TemplateBody=body(template),
        EnableTerminationProtection=True,
        StackPolicyBody=json.dumps(policy),
    )
    assert settled(cfn, "guarded")["EnableTerminationProtection"] is True
    with pytest.raises(ClientError) as raised:
        cfn.delete_stack(StackName="guarded")
    assert message_of(raised) == "Stack [guarded] cannot be deleted while TerminationProtection is enabled"
    assert json.loads(cfn.get_stack_policy(StackName="guarded")["StackPolicyBody"]) == policy
    cfn.update_stack(
        StackName="guarded",
        UsePreviousTemplate=True,
        Parameters=[{"ParameterKey": "Delay", "ParameterValue": "3"}],
    )
    stack = settled(cfn, "guarded")
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    failed = [e for e in events(cfn, "guarded") if e["ResourceStatus"] == "UPDATE_FAILED"]
    assert failed[0]["ResourceStatusReason"].startswith("Action denied by stack policy")
    cfn.update_termination_protection(StackName="guarded", EnableTerminationProtection=False)
    cfn.delete_stack(StackName="guarded")
    assert settled(cfn, stack["StackId"])["StackStatus"] == "DELETE_COMPLETE"


def test_include_and_language_extensions(overcast):
    cfn, s3, sqs = overcast.client("cloudformation"), overcast.client("s3"), overcast.client("sqs")
    s3.create_bucket(Bucket="snippets")
    s3.put_object(
        Bucket="snippets",
        Key="queue.yaml",
        Body=b"Type: AWS::SQS::Queue\nProperties:\n  QueueName: included-queue\n",
    )
    template = """
Transform: AWS::LanguageExtensions
Parameters:
  Names:
    Type: CommaDelimitedList
    Default: alpha,beta
Resources:
  Included:
    Fn::Transform:
      Name: AWS::Include
      Parameters:
        Location: s3://snippets/queue.yaml
  Fn::ForEach::Queues:
    - Name
    - !Ref Names
    - Queue${Name}:
        Type: AWS::SQS::Queue
        Properties:
          QueueName: !Sub "each-${Name}"
          Tags:
            - Key: count
              Value: !ToJsonString {count: !Length [a, b, c]}
Outputs:
  Length:
    Value: !Length [1, 2]
"""
    cfn.create_stack(StackName="macros", TemplateBody=template)
    stack = settled(cfn, "macros")
    assert stack["StackStatus"] == "CREATE_COMPLETE", events(cfn, "macros")
    names = sorted(u.rsplit("/", 1)[-1] for u in sqs.list_queues()["QueueUrls"])
    assert names == ["each-alpha", "each-beta", "included-queue"]
    url = sqs.get_queue_url(QueueName="each-alpha")["QueueUrl"]
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"count": '{"count":3}'}
    assert outputs(stack) == {"Length": "2"}
    processed = cfn.get_template(StackName="macros", TemplateStage="Processed")["TemplateBody"]
    assert "QueueAlpha" in json.dumps(processed) or "Queuealpha" in json.dumps(processed)


def test_an_import_change_set_adopts_an_existing_queue(overcast):
    cfn, sqs = overcast.client("cloudformation"), overcast.client("sqs")
    url = sqs.create_queue(QueueName="adopted")["QueueUrl"]
    template = {
        "Resources": {
            "Adopted": {
                "Type": "AWS::SQS::Queue",
                "DeletionPolicy": "Retain",
                "Properties": {"QueueName": "adopted"},
            }
        }
    }
    cfn.create_change_set(
        StackName="adopting",
        ChangeSetName="import",
        ChangeSetType="IMPORT",
        TemplateBody=body(template),
        ResourcesToImport=[
            {
                "ResourceType": "AWS::SQS::Queue",
                "LogicalResourceId": "Adopted",
                "ResourceIdentifier": {"QueueUrl": url},
            }
        ],
    )
    changes = cfn.describe_change_set(StackName="adopting", ChangeSetName="import")["Changes"]
    assert [(c["ResourceChange"]["Action"], c["ResourceChange"]["PhysicalResourceId"]) for c in changes] == [
        ("Import", url)
    ]
    cfn.execute_change_set(StackName="adopting", ChangeSetName="import")
    stack = settled(cfn, "adopting")
    assert stack["StackStatus"] == "IMPORT_COMPLETE"
    resource = cfn.describe_stack_resource(StackName="adopting", LogicalResourceId="Adopted")[
        "StackResourceDetail"
    ]
    assert (resource["PhysicalResourceId"], resource["ResourceStatus"]) == (url, "IMPORT_COMPLETE")
    cfn.delete_stack(StackName="adopting")
    assert settled(cfn, stack["StackId"])["StackStatus"] == "DELETE_COMPLETE"
    assert sqs.get_queue_url(QueueName="adopted")["QueueUrl"] == url  # retained, as its DeletionPolicy says


SAM_FUNCTION = {
    "Transform": "AWS::Serverless-2016-10-31",
    "Resources": {
        "Queue": {"Type": "AWS::SQS::Queue"},
        "Worker": {
            "Type": "AWS::Serverless::Function",
            "Properties": {
                "Runtime": "python3.12",
                "Handler": "index.handler",
                "InlineCode": "def handler(event, context):\n    return len(event['Records'])\n",
                "Events": {
                    "Work": {"Type": "SQS", "Properties": {"Queue": {"Fn::GetAtt": ["Queue", "Arn"]}}}
                },
                "Policies": [{"SQSPollerPolicy": {"QueueName": {"Fn::GetAtt": ["Queue", "QueueName"]}}}],
            },
        },
    },
}


def test_the_sam_transform_takes_the_stacks_region_not_the_servers_environment(overcast, monkeypatch):
    """`overcast start` in a shell that names no AWS region: the SAM translator still knows the stack's."""
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/overcast-test-config")
    cfn = overcast.client("cloudformation", region="eu-west-1")
    cfn.create_stack(
        StackName="sam-region",
        TemplateBody=body(SAM_FUNCTION),
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    stack = settled(cfn, "sam-region", timeout=60)
    assert stack["StackStatus"] == "CREATE_COMPLETE", events(cfn, "sam-region")
    resources = {
        r["LogicalResourceId"]: r
        for r in cfn.list_stack_resources(StackName="sam-region")["StackResourceSummaries"]
    }
    mapping = resources["WorkerWork"]["PhysicalResourceId"]
    source = overcast.client("lambda", region="eu-west-1").get_event_source_mapping(UUID=mapping)[
        "EventSourceArn"
    ]
    assert source.startswith("arn:aws:sqs:eu-west-1:000000000000:")
