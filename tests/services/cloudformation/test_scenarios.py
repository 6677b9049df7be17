"""The notes' CloudFormation stories: rollback with the failing resource's reason, cross-stack exports and
imports, parameters with mappings and conditions, and a custom resource backed by a Python function."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of, message_of
from tests.services.cloudformation.helpers import body, events, outputs, settled, statuses
from tests.waiting import wait_for

ROLLBACK = {
    "Resources": {
        "Good": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "good-bucket-of-the-stack"}},
        "Bad": {"Type": "AWS::S3::Bucket", "DependsOn": "Good", "Properties": {"BucketName": "Bad_Bucket"}},
    }
}


def test_a_failing_resource_rolls_the_stack_back_with_its_reason(overcast):
    cfn, s3 = overcast.client("cloudformation"), overcast.client("s3")
    cfn.create_stack(StackName="rollback", TemplateBody=body(ROLLBACK))
    stack = settled(cfn, "rollback")
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    stack_events = [e for e in events(cfn, "rollback") if e["LogicalResourceId"] == "rollback"]
    assert [e["ResourceStatus"] for e in stack_events] == [
        "CREATE_IN_PROGRESS",
        "ROLLBACK_IN_PROGRESS",
        "ROLLBACK_COMPLETE",
    ]
    assert stack_events[1]["ResourceStatusReason"] == (
        "The following resource(s) failed to create: [Bad]. Rollback requested by user."
    )
    failed = [e for e in events(cfn, "rollback") if e["ResourceStatus"] == "CREATE_FAILED"]
    assert [e["LogicalResourceId"] for e in failed] == ["Bad"]
    assert "The specified bucket is not valid." in failed[0]["ResourceStatusReason"]
    assert statuses(cfn, "rollback", "Good")[-2:] == ["DELETE_IN_PROGRESS", "DELETE_COMPLETE"]
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == []
    # A stack in ROLLBACK_COMPLETE can only be deleted.
    with pytest.raises(ClientError) as raised:
        cfn.update_stack(StackName="rollback", TemplateBody=body(ROLLBACK))
    assert message_of(raised).endswith("is in ROLLBACK_COMPLETE state and can not be updated.")
    cfn.delete_stack(StackName="rollback")
    assert settled(cfn, stack["StackId"])["StackStatus"] == "DELETE_COMPLETE"


def test_disable_rollback_keeps_what_was_created(overcast):
    cfn, s3 = overcast.client("cloudformation"), overcast.client("s3")
    cfn.create_stack(StackName="kept", TemplateBody=body(ROLLBACK), DisableRollback=True)
    stack = settled(cfn, "kept")
    assert stack["StackStatus"] == "CREATE_FAILED"
    assert stack["DisableRollback"] is True
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["good-bucket-of-the-stack"]
    cfn.delete_stack(StackName="kept")
    assert settled(cfn, stack["StackId"])["StackStatus"] == "DELETE_COMPLETE"
    assert s3.list_buckets()["Buckets"] == []


def test_a_failed_update_kept_without_rollback_is_fixed_by_the_next_change_set(overcast):
    """`cdk deploy --no-rollback`'s road: the update fails and stays UPDATE_FAILED; the next change set,
    without the failing resource, removes it and completes the stack."""
    cfn, s3 = overcast.client("cloudformation"), overcast.client("s3")
    good = {"Resources": {"Good": ROLLBACK["Resources"]["Good"]}}
    cfn.create_stack(StackName="fixed", TemplateBody=body(good))
    assert settled(cfn, "fixed")["StackStatus"] == "CREATE_COMPLETE"

    def change(name: str, template: dict) -> dict:
        cfn.create_change_set(StackName="fixed", ChangeSetName=name, TemplateBody=body(template))
        return wait_for(
            lambda: (
                (found := cfn.describe_change_set(StackName="fixed", ChangeSetName=name))["Status"]
                in ("CREATE_COMPLETE", "FAILED")
                and found
            ),
            timeout=30,
        )

    assert change("broken", ROLLBACK)["Status"] == "CREATE_COMPLETE"
    cfn.execute_change_set(StackName="fixed", ChangeSetName="broken", DisableRollback=True)
    assert settled(cfn, "fixed")["StackStatus"] == "UPDATE_FAILED"

    fix = change("fix", good)
    assert fix["Status"] == "CREATE_COMPLETE", fix.get("StatusReason")
    assert [
        (c["ResourceChange"]["Action"], c["ResourceChange"]["LogicalResourceId"]) for c in fix["Changes"]
    ] == [("Remove", "Bad")]
    cfn.execute_change_set(StackName="fixed", ChangeSetName="fix")
    assert settled(cfn, "fixed")["StackStatus"] == "UPDATE_COMPLETE"
    resources = cfn.list_stack_resources(StackName="fixed")["StackResourceSummaries"]
    assert [(r["LogicalResourceId"], r["ResourceStatus"]) for r in resources] == [("Good", "CREATE_COMPLETE")]
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["good-bucket-of-the-stack"]


NETWORK = {
    "Resources": {"Shared": {"Type": "AWS::SQS::Queue"}},
    "Outputs": {
        "SharedArn": {"Value": {"Fn::GetAtt": ["Shared", "Arn"]}, "Export": {"Name": "SSHSecurityGroup"}}
    },
}
APP = {
    "Resources": {
        "Consumer": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "RedrivePolicy": {
                    "deadLetterTargetArn": {"Fn::ImportValue": "SSHSecurityGroup"},
                    "maxReceiveCount": 5,
                }
            },
        }
    }
}


def test_an_export_in_use_blocks_the_exporting_stack_deletion(overcast):
    cfn, sqs = overcast.client("cloudformation"), overcast.client("sqs")
    cfn.create_stack(StackName="network", TemplateBody=body(NETWORK))
    network = settled(cfn, "network")
    assert network["StackStatus"] == "CREATE_COMPLETE"
    cfn.create_stack(StackName="app", TemplateBody=body(APP))
    assert settled(cfn, "app")["StackStatus"] == "CREATE_COMPLETE"
    assert cfn.list_imports(ExportName="SSHSecurityGroup")["Imports"] == ["app"]
    consumer = cfn.describe_stack_resource(StackName="app", LogicalResourceId="Consumer")[
        "StackResourceDetail"
    ]
    redrive = sqs.get_queue_attributes(
        QueueUrl=consumer["PhysicalResourceId"], AttributeNames=["RedrivePolicy"]
    )
    assert outputs(network)["SharedArn"] in redrive["Attributes"]["RedrivePolicy"]

    cfn.delete_stack(StackName="network")
    blocked = settled(cfn, "network")
    assert blocked["StackStatus"] == "DELETE_FAILED"
    assert blocked["StackStatusReason"] == "Export SSHSecurityGroup cannot be deleted as it is in use by app"
    assert sqs.get_queue_url(QueueName=outputs(network)["SharedArn"].rsplit(":", 1)[-1])

    # A second stack cannot export the same name.
    cfn.create_stack(StackName="clash", TemplateBody=body(NETWORK))
    clash = settled(cfn, "clash")
    assert clash["StackStatus"] == "ROLLBACK_COMPLETE"
    reasons = [
        e.get("ResourceStatusReason", "")
        for e in events(cfn, "clash")
        if e["ResourceStatus"] == "ROLLBACK_IN_PROGRESS"
    ]
    assert reasons == ["Export with name SSHSecurityGroup is already exported by stack network"]

    cfn.delete_stack(StackName="app")
    wait_for(lambda: not [s for s in cfn.describe_stacks()["Stacks"] if s["StackName"] == "app"])
    with pytest.raises(ClientError) as raised:
        cfn.list_imports(ExportName="SSHSecurityGroup")
    assert message_of(raised) == "Export 'SSHSecurityGroup' is not imported by any stack."
    cfn.delete_stack(StackName="network")
    assert settled(cfn, network["StackId"])["StackStatus"] == "DELETE_COMPLETE"
    assert cfn.list_exports()["Exports"] == []


MAPPINGS = """
Parameters:
  EnvType:
    Type: String
    AllowedValues: [dev, prod]
    Default: dev
  Retention:
    Type: Number
    MinValue: 60
    MaxValue: 1209600
    Default: 345600
Mappings:
  RegionMap:
    us-east-1: {HVM64: ami-0ff8a91507f77f867, Name: east}
    eu-west-1: {HVM64: ami-047bb4163c506cd98, Name: west}
Conditions:
  CreateProdResources: !Equals [!Ref EnvType, prod]
  NotProd: !Not [!Condition CreateProdResources]
Resources:
  Always:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Join ["-", [!FindInMap [RegionMap, !Ref "AWS::Region", Name], !Ref EnvType, !Select [0, !Split [",", "a,b"]]]]
      MessageRetentionPeriod: !Ref Retention
      Tags:
        - Key: ami
          Value: !FindInMap [RegionMap, !Ref "AWS::Region", HVM64]
  ProdOnly:
    Type: AWS::SQS::Queue
    Condition: CreateProdResources
    Properties:
      DelaySeconds: !If [CreateProdResources, 5, !Ref "AWS::NoValue"]
Outputs:
  Name:
    Value: !GetAtt Always.QueueName
  Prod:
    Condition: CreateProdResources
    Value: !Ref ProdOnly
  Stack:
    Value: !Sub "${AWS::StackName} in ${AWS::Region} of ${AWS::AccountId} (${AWS::Partition}, ${AWS::URLSuffix})"
"""


def test_parameters_mappings_and_conditions(overcast):
    cfn, sqs = overcast.client("cloudformation"), overcast.client("sqs")
    cfn.create_stack(StackName="dev", TemplateBody=MAPPINGS)
    dev = settled(cfn, "dev")
    assert dev["StackStatus"] == "CREATE_COMPLETE"
    assert outputs(dev) == {
        "Name": "east-dev-a",
        "Stack": "dev in us-east-1 of 000000000000 (aws, amazonaws.com)",
    }
    assert [
        r["LogicalResourceId"] for r in cfn.list_stack_resources(StackName="dev")["StackResourceSummaries"]
    ] == ["Always"]
    url = sqs.get_queue_url(QueueName="east-dev-a")["QueueUrl"]
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"ami": "ami-0ff8a91507f77f867"}

    cfn.update_stack(
        StackName="dev",
        TemplateBody=MAPPINGS,
        Parameters=[{"ParameterKey": "EnvType", "ParameterValue": "prod"}],
    )
    prod = settled(cfn, "dev")
    assert prod["StackStatus"] == "UPDATE_COMPLETE"
    resources = {
        r["LogicalResourceId"] for r in cfn.list_stack_resources(StackName="dev")["StackResourceSummaries"]
    }
    assert resources == {"Always", "ProdOnly"}
    assert outputs(prod)["Name"] == "east-prod-a"
    delay = sqs.get_queue_attributes(QueueUrl=outputs(prod)["Prod"], AttributeNames=["DelaySeconds"])[
        "Attributes"
    ]
    assert delay == {"DelaySeconds": "5"}

    for values, message in (
        (
            [{"ParameterKey": "EnvType", "ParameterValue": "test"}],
            "Parameter 'EnvType' must be one of AllowedValues",
        ),
        (
            [{"ParameterKey": "Retention", "ParameterValue": "10"}],
            "Parameter 'Retention' must be a number not less than 60",
        ),
        ([{"ParameterKey": "Retention", "ParameterValue": "ten"}], "Parameter 'Retention' must be a number"),
        (
            [{"ParameterKey": "Nope", "ParameterValue": "x"}],
            "Parameters: [Nope] do not exist in the template",
        ),
    ):
        with pytest.raises(ClientError) as raised:
            cfn.create_stack(StackName="other", TemplateBody=MAPPINGS, Parameters=values)
        assert error_of(raised) == ("ValidationError", 400)
        assert message_of(raised) == message
    with pytest.raises(ClientError) as raised:
        cfn.create_stack(
            StackName="other",
            TemplateBody=body(
                {"Parameters": {"Key": {"Type": "String"}}, "Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}
            ),
        )
    assert message_of(raised) == "Parameters: [Key] must have values"


NO_ECHO = {
    "Parameters": {"Secret": {"Type": "String", "NoEcho": True}},
    "Resources": {
        "Q": {"Type": "AWS::SQS::Queue", "Properties": {"Tags": [{"Key": "s", "Value": {"Ref": "Secret"}}]}}
    },
}


def test_no_echo_parameters_are_masked(overcast):
    cfn = overcast.client("cloudformation")
    cfn.create_stack(
        StackName="secret",
        TemplateBody=body(NO_ECHO),
        Parameters=[{"ParameterKey": "Secret", "ParameterValue": "hunter2"}],
    )
    stack = settled(cfn, "secret")
    assert stack["Parameters"] == [{"ParameterKey": "Secret", "ParameterValue": "****"}]


FUNCTION_CODE = """
import cfnresponse

def handler(event, context):
    props = event["ResourceProperties"]
    if event["RequestType"] == "Delete":
        cfnresponse.send(event, context, cfnresponse.SUCCESS, {}, event["PhysicalResourceId"])
        return
    if props.get("Fail") == "yes":
        cfnresponse.send(event, context, cfnresponse.FAILED, {}, reason="asked to fail")
        return
    total = int(props["A"]) + int(props["B"])
    cfnresponse.send(event, context, cfnresponse.SUCCESS, {"Sum": str(total), "Kind": event["RequestType"]}, "sum-" + str(total))
"""


def custom_template(a: int, fail: str = "no") -> str:
    return json.dumps(
        {
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
                "Adder": {
                    "Type": "AWS::Lambda::Function",
                    "Properties": {
                        "Runtime": "python3.11",
                        "Handler": "index.handler",
                        "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                        "Timeout": 30,
                        "Code": {"ZipFile": FUNCTION_CODE},
                    },
                },
                "Sum": {
                    "Type": "Custom::Adder",
                    "Properties": {
                        "ServiceToken": {"Fn::GetAtt": ["Adder", "Arn"]},
                        "A": a,
                        "B": 2,
                        "Fail": fail,
                    },
                },
            },
            "Outputs": {"Sum": {"Value": {"Fn::GetAtt": ["Sum", "Sum"]}}, "Id": {"Value": {"Ref": "Sum"}}},
        }
    )


def test_a_custom_resource_backed_by_a_python_function(overcast):
    cfn = overcast.client("cloudformation")
    with pytest.raises(ClientError) as raised:
        cfn.create_stack(StackName="custom", TemplateBody=custom_template(1))
    assert error_of(raised) == ("InsufficientCapabilitiesException", 400)
    assert message_of(raised) == "Requires capabilities : [CAPABILITY_IAM]"
    cfn.create_stack(StackName="custom", TemplateBody=custom_template(1), Capabilities=["CAPABILITY_IAM"])
    stack = settled(cfn, "custom", timeout=120)
    assert stack["StackStatus"] == "CREATE_COMPLETE", events(cfn, "custom")
    assert outputs(stack) == {"Sum": "3", "Id": "sum-3"}
    # An update that changes the physical id replaces the resource: the old one gets a Delete.
    cfn.update_stack(StackName="custom", TemplateBody=custom_template(5), Capabilities=["CAPABILITY_IAM"])
    stack = settled(cfn, "custom", timeout=120)
    assert stack["StackStatus"] == "UPDATE_COMPLETE", events(cfn, "custom")
    assert outputs(stack) == {"Sum": "7", "Id": "sum-7"}
    # A FAILED response fails the resource with the provider's reason, and the update rolls back.
    cfn.update_stack(
        StackName="custom", TemplateBody=custom_template(5, fail="yes"), Capabilities=["CAPABILITY_IAM"]
    )
    stack = settled(cfn, "custom", timeout=120)
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE", events(cfn, "custom")
    failed = [e for e in events(cfn, "custom") if e["ResourceStatus"] == "UPDATE_FAILED"]
    assert (
        "Received response status [FAILED] from custom resource. Message returned: asked to fail"
        in failed[0]["ResourceStatusReason"]
    )
    assert outputs(stack) == {"Sum": "7", "Id": "sum-7"}
    cfn.delete_stack(StackName="custom")
    assert settled(cfn, stack["StackId"], timeout=120)["StackStatus"] == "DELETE_COMPLETE"


def test_rules_assert_on_parameters(overcast):
    cfn = overcast.client("cloudformation")
    template = {
        "Parameters": {
            "Env": {"Type": "String", "Default": "dev"},
            "Size": {"Type": "String", "Default": "small"},
        },
        "Rules": {
            "ProdIsLarge": {
                "RuleCondition": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
                "Assertions": [
                    {
                        "Assert": {"Fn::Contains": [["large", "xlarge"], {"Ref": "Size"}]},
                        "AssertDescription": "Production stacks must be large",
                    }
                ],
            }
        },
        "Resources": {"Q": {"Type": "AWS::SQS::Queue"}},
    }
    with pytest.raises(ClientError) as raised:
        cfn.create_stack(
            StackName="ruled",
            TemplateBody=body(template),
            Parameters=[{"ParameterKey": "Env", "ParameterValue": "prod"}],
        )
    assert error_of(raised) == ("ValidationError", 400)
    assert message_of(raised) == "Production stacks must be large"
    cfn.create_stack(
        StackName="ruled",
        TemplateBody=body(template),
        Parameters=[
            {"ParameterKey": "Env", "ParameterValue": "prod"},
            {"ParameterKey": "Size", "ParameterValue": "large"},
        ],
    )
    assert settled(cfn, "ruled")["StackStatus"] == "CREATE_COMPLETE"


# The notes' template, with one change: its image id (ami-a4c7edb2) no longer exists in AWS either, so the
# image comes from SSM's public parameter for the latest Amazon Linux, as templates written today do it.
EC2_TEMPLATE = """
Parameters:
  SecurityGroupDescription:
    Description: Security Group Description
    Type: String
  LatestAmiId:
    Type: AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>
    Default: /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64
Resources:
  MyInstance:
    Type: AWS::EC2::Instance
    Properties:
      AvailabilityZone: us-east-1a
      ImageId: !Ref LatestAmiId
      InstanceType: t2.micro
      SecurityGroups:
        - !Ref SSHSecurityGroup
        - !Ref ServerSecurityGroup
  MyEIP:
    Type: AWS::EC2::EIP
    Properties:
      InstanceId: !Ref MyInstance
  SSHSecurityGroup:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: Enable SSH access via port 22
      SecurityGroupIngress:
      - CidrIp: 0.0.0.0/0
        FromPort: 22
        IpProtocol: tcp
        ToPort: 22
  ServerSecurityGroup:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: !Ref SecurityGroupDescription
      SecurityGroupIngress:
      - IpProtocol: tcp
        FromPort: 80
        ToPort: 80
        CidrIp: 0.0.0.0/0
      - IpProtocol: tcp
        FromPort: 22
        ToPort: 22
        CidrIp: 192.168.1.1/32
"""


def test_the_notes_ec2_instance_with_security_groups_and_an_elastic_ip(overcast):
    ec2 = overcast.client("ec2")
    try:
        ec2.describe_instances()
    except ClientError as error:
        if error.response["Error"]["Code"] == "NotImplemented":
            pytest.skip("EC2 instances are not in this build")
        raise
    cfn = overcast.client("cloudformation")
    cfn.create_stack(
        StackName="ec2",
        TemplateBody=EC2_TEMPLATE,
        Parameters=[{"ParameterKey": "SecurityGroupDescription", "ParameterValue": "web"}],
    )
    stack = settled(cfn, "ec2", timeout=120)
    assert stack["StackStatus"] == "CREATE_COMPLETE", [
        (e["LogicalResourceId"], e.get("ResourceStatusReason"))
        for e in events(cfn, "ec2")
        if "FAILED" in e["ResourceStatus"]
    ]
    resources = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cfn.list_stack_resources(StackName="ec2")["StackResourceSummaries"]
    }
    assert len(resources) == 4
    instance = ec2.describe_instances(InstanceIds=[resources["MyInstance"]])["Reservations"][0]["Instances"][
        0
    ]
    assert sorted(group["GroupName"] for group in instance["SecurityGroups"]) == sorted(
        [resources["SSHSecurityGroup"], resources["ServerSecurityGroup"]]
    )
    address = ec2.describe_addresses(PublicIps=[resources["MyEIP"]])["Addresses"][0]
    assert address["InstanceId"] == resources["MyInstance"]
    server = ec2.describe_security_groups(GroupNames=[resources["ServerSecurityGroup"]])["SecurityGroups"][0]
    assert sorted((p["FromPort"], p["IpRanges"][0]["CidrIp"]) for p in server["IpPermissions"]) == [
        (22, "192.168.1.1/32"),
        (80, "0.0.0.0/0"),
    ]
