"""IAM as AWS answers it (issue 14): every AWS managed policy, service-linked roles as AWS creates them, the
role shapes of CreateRole/GetRole/ListRoles, and IAM's policy grammar texts."""

import json

import pytest
from botocore.exceptions import ClientError

from tests.helpers import code_of, error_of, message_of

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)


def test_common_aws_managed_policies_attach_with_their_documents(overcast):
    iam = overcast.client("iam")
    iam.create_role(RoleName="fn", AssumeRolePolicyDocument=TRUST)
    for arn in (
        "arn:aws:iam::aws:policy/service-role/AWSLambdaRole",
        "arn:aws:iam::aws:policy/AWSLambdaExecute",
        "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
        "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
    ):
        iam.attach_role_policy(RoleName="fn", PolicyArn=arn)
    attached = iam.list_attached_role_policies(RoleName="fn")["AttachedPolicies"]
    assert {p["PolicyName"] for p in attached} == {
        "AWSLambdaRole",
        "AWSLambdaExecute",
        "AmazonSSMManagedInstanceCore",
        "AmazonECSTaskExecutionRolePolicy",
    }
    policy = iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaRole")["Policy"]
    assert policy["Path"] == "/service-role/" and policy["AttachmentCount"] == 1
    assert policy["PolicyId"].startswith("ANPA") and len(policy["PolicyId"]) == 21
    version = iam.get_policy_version(PolicyArn=policy["Arn"], VersionId=policy["DefaultVersionId"])
    statement = version["PolicyVersion"]["Document"]["Statement"][0]
    assert statement["Action"] == ["lambda:InvokeFunction"] and statement["Resource"] == ["*"]
    with pytest.raises(ClientError) as raised:
        iam.get_policy_version(PolicyArn=policy["Arn"], VersionId="v99")
    assert code_of(raised) == "NoSuchEntity"


def test_list_policies_scope_aws_pages_through_every_managed_policy(overcast):
    iam = overcast.client("iam")
    pages = iam.get_paginator("list_policies").paginate(Scope="AWS", PaginationConfig={"PageSize": 1000})
    policies = [p for page in pages for p in page["Policies"]]
    assert len(policies) > 1300
    assert len({p["Arn"] for p in policies}) == len(policies)
    paths = {p["Path"] for p in policies}
    assert {"/", "/service-role/", "/aws-service-role/", "/job-function/"} <= paths
    by_name = {p["PolicyName"]: p for p in policies}
    assert by_name["ReadOnlyAccess"]["DefaultVersionId"] != "v1"  # the current version, not the first
    service_role = iam.list_policies(Scope="AWS", PathPrefix="/service-role/", MaxItems=1000)["Policies"]
    assert service_role and all(p["Path"] == "/service-role/" for p in service_role)
    assert iam.list_policies(Scope="Local")["Policies"] == []


def test_service_linked_roles_as_aws_creates_them(overcast):
    iam = overcast.client("iam")
    role = iam.create_service_linked_role(AWSServiceName="acm.amazonaws.com")["Role"]
    assert role["RoleName"] == "AWSServiceRoleForCertificateManager"
    assert role["Path"] == "/aws-service-role/acm.amazonaws.com/"
    assert "MaxSessionDuration" not in role
    attached = iam.list_attached_role_policies(RoleName=role["RoleName"])["AttachedPolicies"]
    assert attached == [
        {
            "PolicyName": "CertificateManagerServiceRolePolicy",
            "PolicyArn": "arn:aws:iam::aws:policy/aws-service-role/CertificateManagerServiceRolePolicy",
        }
    ]
    with pytest.raises(ClientError) as raised:
        iam.create_service_linked_role(AWSServiceName="acm.amazonaws.com")
    assert (code_of(raised), message_of(raised)) == (
        "InvalidInput",
        "Service role name AWSServiceRoleForCertificateManager has been taken in this account, "
        "please try a different suffix.",
    )
    with pytest.raises(ClientError) as raised:
        iam.create_service_linked_role(AWSServiceName="ecs.amazonaws.com", CustomSuffix="x")
    assert error_of(raised) == ("InvalidInput", 400)
    assert message_of(raised) == "Custom suffix is not allowed for ecs.amazonaws.com"
    custom = iam.create_service_linked_role(AWSServiceName="autoscaling.amazonaws.com", CustomSuffix="blue")
    assert custom["Role"]["RoleName"] == "AWSServiceRoleForAutoScaling_blue"
    task = iam.delete_service_linked_role(RoleName=role["RoleName"])["DeletionTaskId"]
    prefix = "task/aws-service-role/acm.amazonaws.com/AWSServiceRoleForCertificateManager/"
    assert task.startswith(prefix) and len(task) == len(prefix) + 36
    assert iam.get_service_linked_role_deletion_status(DeletionTaskId=task)["Status"] == "SUCCEEDED"


def test_role_shapes_per_operation(overcast):
    iam = overcast.client("iam")
    boundary = "arn:aws:iam::aws:policy/AmazonS3FullAccess"
    created = iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST, PermissionsBoundary=boundary)
    assert "MaxSessionDuration" not in created["Role"] and "RoleLastUsed" not in created["Role"]
    assert created["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary
    got = iam.get_role(RoleName="r")["Role"]
    assert got["RoleLastUsed"] == {} and got["MaxSessionDuration"] == 3600
    listed = iam.list_roles()["Roles"][0]
    assert "PermissionsBoundary" not in listed and "RoleLastUsed" not in listed
    assert listed["MaxSessionDuration"] == 3600


def test_trust_policy_that_is_not_json(overcast):
    iam = overcast.client("iam")
    with pytest.raises(ClientError) as raised:
        iam.create_role(RoleName="r", AssumeRolePolicyDocument="assume-role-policy.json")
    assert (code_of(raised), message_of(raised)) == (
        "MalformedPolicyDocument",
        "This policy contains invalid Json",
    )


def test_a_policy_arn_that_is_no_arn_is_a_validation_error(overcast):
    iam = overcast.client("iam")
    iam.create_role(RoleName="parsed", AssumeRolePolicyDocument=TRUST)
    iam.create_user(UserName="parsed")
    bare = "service-role/AWSLambdaBasicExecutionRole-1234"  # CloudFormation's identifier, not an ARN
    calls = [
        (iam.attach_role_policy, {"RoleName": "parsed"}),
        (iam.attach_user_policy, {"UserName": "parsed"}),
        (iam.detach_role_policy, {"RoleName": "parsed"}),
        (iam.get_policy, {}),
        (iam.list_policy_versions, {}),
    ]
    for call, params in calls:
        with pytest.raises(ClientError) as raised:
            call(PolicyArn=bare, **params)
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert (code_of(raised), message_of(raised)) == (
            "ValidationError",
            "Invalid ARN:  Could not be parsed!",
        )
    with pytest.raises(ClientError) as raised:  # checked before the role is looked up
        iam.attach_role_policy(RoleName="nobody", PolicyArn=bare)
    assert code_of(raised) == "ValidationError"
    with pytest.raises(ClientError) as raised:  # an ARN that names nothing is still NoSuchEntity
        iam.attach_role_policy(RoleName="parsed", PolicyArn="arn:aws:iam::000000000000:policy/none")
    assert code_of(raised) == "NoSuchEntity"


def test_virtual_mfa_device_tags(overcast):
    iam = overcast.client("iam")
    device = iam.create_virtual_mfa_device(
        VirtualMFADeviceName="phone", Tags=[{"Key": "team", "Value": "ops"}]
    )
    serial = device["VirtualMFADevice"]["SerialNumber"]
    assert device["VirtualMFADevice"]["Tags"] == [{"Key": "team", "Value": "ops"}]
    png = device["VirtualMFADevice"]["QRCodePNG"]  # the otpauth:// URI of the seed, for authenticator apps
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and png[12:16] == b"IHDR"
    assert int.from_bytes(png[16:20], "big") >= 100  # at least a version-3 symbol at 4 pixels a module
    iam.tag_mfa_device(SerialNumber=serial, Tags=[{"Key": "cost", "Value": "1"}])
    assert iam.list_mfa_device_tags(SerialNumber=serial)["Tags"] == [
        {"Key": "cost", "Value": "1"},
        {"Key": "team", "Value": "ops"},
    ]
    iam.untag_mfa_device(SerialNumber=serial, TagKeys=["team"])
    assert iam.list_mfa_device_tags(SerialNumber=serial)["Tags"] == [{"Key": "cost", "Value": "1"}]
    missing = "arn:aws:iam::000000000000:mfa/none"
    with pytest.raises(ClientError) as raised:
        iam.list_mfa_device_tags(SerialNumber=missing)
    assert (code_of(raised), message_of(raised)) == (
        "NoSuchEntity",
        f"MFA Device with serial number {missing} does not exist.",
    )
    iam.delete_virtual_mfa_device(SerialNumber=serial)
    again = iam.create_virtual_mfa_device(VirtualMFADeviceName="phone")["VirtualMFADevice"]["SerialNumber"]
    assert iam.list_mfa_device_tags(SerialNumber=again)["Tags"] == []  # the old device's tags went with it


def test_security_token_service_preferences_show_in_the_account_summary(overcast):
    iam = overcast.client("iam")
    assert iam.get_account_summary()["SummaryMap"]["GlobalEndpointTokenVersion"] == 1
    iam.set_security_token_service_preferences(GlobalEndpointTokenVersion="v2Token")
    assert iam.get_account_summary()["SummaryMap"]["GlobalEndpointTokenVersion"] == 2
    iam.set_security_token_service_preferences(GlobalEndpointTokenVersion="v1Token")
    assert iam.get_account_summary()["SummaryMap"]["GlobalEndpointTokenVersion"] == 1


def test_context_keys_of_a_principals_policies(overcast):
    iam = overcast.client("iam")
    iam.create_user(UserName="keys")
    iam.create_group(GroupName="keyed")
    iam.add_user_to_group(GroupName="keyed", UserName="keys")
    conditioned = lambda op, key: json.dumps(  # noqa: E731
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {op: {key: "x"}}}
            ],
        }
    )
    iam.put_user_policy(
        UserName="keys", PolicyName="own", PolicyDocument=conditioned("StringEquals", "aws:SourceVpc")
    )
    iam.put_group_policy(
        GroupName="keyed", PolicyName="group", PolicyDocument=conditioned("IpAddress", "aws:SourceIp")
    )
    arn = iam.get_user(UserName="keys")["User"]["Arn"]
    found = iam.get_context_keys_for_principal_policy(
        PolicySourceArn=arn, PolicyInputList=[conditioned("StringLike", "s3:prefix")]
    )["ContextKeyNames"]
    assert {key.lower() for key in found} == {"aws:sourcevpc", "aws:sourceip", "s3:prefix"}
    with pytest.raises(ClientError) as raised:
        iam.get_context_keys_for_principal_policy(PolicySourceArn="arn:aws:iam::000000000000:user/ghost")
    assert code_of(raised) == "NoSuchEntity"
