"""Lambda-backed macros (AWS::CloudFormation::Macro): a stack registers a macro over a Python function, and
other templates use it in their Transform section and in Fn::Transform; the function receives AWS's event
(fragment, params, templateParameterValues, requestId) and its answer becomes the processed template."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of, message_of
from tests.services.cloudformation.helpers import body, events, outputs, settled

# The macro: in the Transform section it adds a queue per name in the template's `Queues` parameter and
# records what it was sent in the stack's description; in Fn::Transform it upper-cases params["Text"];
# params["Fail"] makes it answer as a failing macro does.
MACRO_CODE = """
import json

def handler(event, context):
    params = event["params"] or {}
    answer = {"requestId": event["requestId"], "status": "success"}
    if params.get("Fail") == "message":
        return {**answer, "status": "failure", "errorMessage": "no queues for you"}
    if params.get("Fail") == "silent":
        return {**answer, "status": "failure"}
    if params.get("Fail") == "malformed":
        return {"requestId": "someone-else", "status": "success", "fragment": {}}
    if "Text" in params:
        return {**answer, "fragment": params["Text"].upper()}
    fragment = event["fragment"]
    names = event["templateParameterValues"]["Queues"].split(",")
    for name in names:
        fragment["Resources"]["Queue" + name] = {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": name}}
    fragment["Description"] = json.dumps(
        {"transformId": event["transformId"], "region": event["region"], "account": event["accountId"],
         "sawTransform": "Transform" in fragment, "params": params}
    )
    return {**answer, "fragment": fragment}
"""

MACRO_STACK = {
    "Resources": {
        "Role": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            },
        },
        "Function": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Runtime": "python3.11",
                "Handler": "index.handler",
                "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                "Timeout": 30,
                "Code": {"ZipFile": MACRO_CODE},
            },
        },
        "Macro": {
            "Type": "AWS::CloudFormation::Macro",
            "Properties": {"Name": "Queues", "FunctionName": {"Fn::GetAtt": ["Function", "Arn"]}},
        },
    },
    "Outputs": {"Macro": {"Value": {"Ref": "Macro"}}},
}


def using(transform: object, **extra: object) -> str:
    return body(
        {
            "Transform": transform,
            "Parameters": {"Queues": {"Type": "String", "Default": "alpha"}},
            "Resources": {
                "Topic": {
                    "Type": "AWS::SNS::Topic",
                    "Properties": {
                        "DisplayName": {"Fn::Transform": {"Name": "Queues", "Parameters": {"Text": "shout"}}}
                    },
                }
            },
            **extra,
        }
    )


@pytest.fixture
def macro(overcast):
    cfn = overcast.client("cloudformation")
    cfn.create_stack(StackName="macro", TemplateBody=body(MACRO_STACK), Capabilities=["CAPABILITY_IAM"])
    stack = settled(cfn, "macro", timeout=120)
    assert stack["StackStatus"] == "CREATE_COMPLETE", events(cfn, "macro")
    assert outputs(stack) == {"Macro": "Queues"}
    return cfn


def test_a_lambda_backed_macro_processes_the_templates_that_name_it(overcast, macro):
    cfn = macro
    with pytest.raises(ClientError) as raised:
        cfn.create_stack(StackName="user", TemplateBody=using("Queues"))
    assert error_of(raised) == ("InsufficientCapabilitiesException", 400)
    assert message_of(raised) == "Requires capabilities : [CAPABILITY_AUTO_EXPAND]"

    cfn.create_stack(
        StackName="user",
        TemplateBody=using("Queues"),
        Parameters=[{"ParameterKey": "Queues", "ParameterValue": "alpha,beta"}],
        Capabilities=["CAPABILITY_AUTO_EXPAND"],
    )
    stack = settled(cfn, "user", timeout=60)
    assert stack["StackStatus"] == "CREATE_COMPLETE", events(cfn, "user")
    sent = json.loads(stack["Description"])
    assert sent == {
        "transformId": "000000000000::Queues",
        "region": "us-east-1",
        "account": "000000000000",
        "sawTransform": False,
        "params": {},
    }
    sqs = overcast.client("sqs")
    assert {url.rsplit("/", 1)[1] for url in sqs.list_queues()["QueueUrls"]} >= {"alpha", "beta"}
    # Fn::Transform ran first, on its own snippet: the topic's display name is the macro's answer.
    topic = next(
        r["PhysicalResourceId"]
        for r in cfn.list_stack_resources(StackName="user")["StackResourceSummaries"]
        if r["LogicalResourceId"] == "Topic"
    )
    attributes = overcast.client("sns").get_topic_attributes(TopicArn=topic)["Attributes"]
    assert attributes["DisplayName"] == "SHOUT"
    # The processed template is what the macro made; the original keeps the Transform.
    processed = cfn.get_template(StackName="user", TemplateStage="Processed")["TemplateBody"]
    processed = processed if isinstance(processed, dict) else json.loads(processed)
    assert {"Topic", "Queuealpha", "Queuebeta"} == set(processed["Resources"])
    assert "Transform" not in processed
    original = cfn.get_template(StackName="user", TemplateStage="Original")["TemplateBody"]
    original = original if isinstance(original, dict) else json.loads(original)
    assert original["Transform"] == "Queues"

    # Through a change set (aws cloudformation deploy's road) the macro runs without the capability.
    cfn.create_change_set(
        StackName="user",
        ChangeSetName="more",
        TemplateBody=using("Queues"),
        Parameters=[{"ParameterKey": "Queues", "ParameterValue": "alpha,beta,gamma"}],
    )
    change_set = cfn.describe_change_set(StackName="user", ChangeSetName="more")
    for _ in range(100):
        if change_set["Status"] in ("CREATE_COMPLETE", "FAILED"):
            break
        change_set = cfn.describe_change_set(StackName="user", ChangeSetName="more")
    assert change_set["Status"] == "CREATE_COMPLETE", change_set.get("StatusReason")
    added = {c["ResourceChange"]["LogicalResourceId"] for c in change_set["Changes"]}
    assert added == {"Queuegamma"}


def test_transform_parameters_reach_the_macro(overcast, macro):
    cfn = macro
    cfn.create_stack(
        StackName="params",
        TemplateBody=using([{"Name": "Queues", "Parameters": {"Colour": "blue"}}]),
        Capabilities=["CAPABILITY_AUTO_EXPAND"],
    )
    stack = settled(cfn, "params", timeout=60)
    assert stack["StackStatus"] == "CREATE_COMPLETE", events(cfn, "params")
    assert json.loads(stack["Description"])["params"] == {"Colour": "blue"}


@pytest.mark.parametrize(
    ("fail", "message"),
    [
        ("message", "Transform 000000000000::Queues failed with: no queues for you"),
        ("silent", "Transform 000000000000::Queues failed without an error message."),
        ("malformed", "Received malformed response from transform 000000000000::Queues"),
    ],
)
def test_a_failing_macro_fails_the_request_with_its_message(overcast, macro, fail, message):
    cfn = macro
    with pytest.raises(ClientError) as raised:
        cfn.create_stack(
            StackName="failing",
            TemplateBody=using([{"Name": "Queues", "Parameters": {"Fail": fail}}]),
            Capabilities=["CAPABILITY_AUTO_EXPAND"],
        )
    assert error_of(raised) == ("ValidationError", 400)
    assert message_of(raised) == message
    names = [s["StackName"] for s in cfn.list_stacks()["StackSummaries"]]
    assert "failing" not in names


def test_macro_names_are_unique_and_go_with_their_stack(overcast, macro):
    cfn = macro
    cfn.create_stack(StackName="again", TemplateBody=body(MACRO_STACK), Capabilities=["CAPABILITY_IAM"])
    stack = settled(cfn, "again", timeout=120)
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    reasons = [
        e.get("ResourceStatusReason") for e in events(cfn, "again") if e["LogicalResourceId"] == "Macro"
    ]
    assert "Resource of type 'AWS::CloudFormation::Macro' with identifier 'Queues' already exists." in reasons

    macro_id = cfn.describe_stacks(StackName="macro")["Stacks"][0]["StackId"]
    cfn.delete_stack(StackName="macro")
    assert settled(cfn, macro_id, timeout=60)["StackStatus"] == "DELETE_COMPLETE"
    with pytest.raises(ClientError) as raised:
        cfn.create_stack(
            StackName="orphan", TemplateBody=using("Queues"), Capabilities=["CAPABILITY_AUTO_EXPAND"]
        )
    assert error_of(raised) == ("ValidationError", 400)
    assert message_of(raised) == "No transform named 000000000000::Queues found."
