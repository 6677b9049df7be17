"""Roles, managed policies with versions, inline policies, attachments, AWS managed policies, instance profiles."""

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


def doc(action="s3:GetObject"):
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]}
    )


def test_role_round_trip(overcast):
    iam = overcast.client("iam")
    role = iam.create_role(
        RoleName="fn",
        AssumeRolePolicyDocument=TRUST,
        Description="runs code",
        MaxSessionDuration=7200,
        Path="/service/",
        Tags=[{"Key": "k", "Value": "v"}],
    )["Role"]
    assert role["RoleId"].startswith("AROA") and role["Arn"] == "arn:aws:iam::000000000000:role/service/fn"
    got = iam.get_role(RoleName="fn")["Role"]
    assert got["AssumeRolePolicyDocument"] == json.loads(TRUST)
    assert got["MaxSessionDuration"] == 7200 and got["Description"] == "runs code"
    assert got["Tags"] == [{"Key": "k", "Value": "v"}]


def test_max_session_duration_is_bounded(overcast):
    with pytest.raises(ClientError) as raised:
        overcast.client("iam").create_role(
            RoleName="r", AssumeRolePolicyDocument=TRUST, MaxSessionDuration=50000
        )
    assert error_of(raised)[1] == 400


def test_trust_policy_is_validated(overcast):
    bad = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]}
    )
    with pytest.raises(ClientError) as raised:
        overcast.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument=bad)
    assert (code_of(raised), message_of(raised)) == (
        "MalformedPolicyDocument",
        "Missing required field Principal",
    )


def test_malformed_policy_messages(overcast):
    iam = overcast.client("iam")
    with pytest.raises(ClientError) as raised:
        iam.create_policy(PolicyName="p", PolicyDocument="{not json")
    assert (code_of(raised), message_of(raised)) == ("MalformedPolicyDocument", "Syntax errors in policy.")
    misspelt = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Principle": "*"}],
        }
    )
    with pytest.raises(ClientError) as raised:
        iam.create_policy(PolicyName="p", PolicyDocument=misspelt)
    assert code_of(raised) == "MalformedPolicyDocument"
    with pytest.raises(ClientError) as raised:
        iam.create_policy(
            PolicyName="p", PolicyDocument=json.dumps({"Version": "2012-10-18", "Statement": []})
        )
    assert (code_of(raised), message_of(raised)) == (
        "MalformedPolicyDocument",
        "The policy failed legacy parsing",
    )


def test_policy_versions_limit_and_default(overcast):
    iam = overcast.client("iam")
    arn = iam.create_policy(PolicyName="p", PolicyDocument=doc())["Policy"]["Arn"]
    assert arn == "arn:aws:iam::000000000000:policy/p"
    for i in range(4):
        version = iam.create_policy_version(PolicyArn=arn, PolicyDocument=doc(f"s3:Put{i}"))["PolicyVersion"]
    assert version["VersionId"] == "v5" and not version["IsDefaultVersion"]
    with pytest.raises(ClientError) as raised:
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=doc())
    assert code_of(raised) == "LimitExceeded"
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v3")
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v3"
    with pytest.raises(ClientError) as raised:
        iam.delete_policy_version(PolicyArn=arn, VersionId="v3")
    assert code_of(raised) == "DeleteConflict"
    iam.delete_policy_version(PolicyArn=arn, VersionId="v1")
    versions = [v["VersionId"] for v in iam.list_policy_versions(PolicyArn=arn)["Versions"]]
    assert sorted(versions) == ["v2", "v3", "v4", "v5"]
    assert (
        iam.get_policy_version(PolicyArn=arn, VersionId="v3")["PolicyVersion"]["Document"]["Statement"][0][
            "Action"
        ]
        == "s3:Put1"
    )


def test_attach_and_detach_counts(overcast):
    iam = overcast.client("iam")
    arn = iam.create_policy(PolicyName="p", PolicyDocument=doc())["Policy"]["Arn"]
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)
    iam.attach_role_policy(RoleName="r", PolicyArn=arn)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 1
    assert iam.list_attached_role_policies(RoleName="r")["AttachedPolicies"] == [
        {"PolicyName": "p", "PolicyArn": arn}
    ]
    assert iam.list_entities_for_policy(PolicyArn=arn)["PolicyRoles"][0]["RoleName"] == "r"
    with pytest.raises(ClientError) as raised:
        iam.delete_policy(PolicyArn=arn)
    assert code_of(raised) == "DeleteConflict"
    with pytest.raises(ClientError) as raised:
        iam.delete_role(RoleName="r")
    assert code_of(raised) == "DeleteConflict"
    iam.detach_role_policy(RoleName="r", PolicyArn=arn)
    iam.delete_policy(PolicyArn=arn)
    iam.delete_role(RoleName="r")


def test_aws_managed_policies_have_real_documents(overcast):
    iam = overcast.client("iam")
    arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    policy = iam.get_policy(PolicyArn=arn)["Policy"]
    version = iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])["PolicyVersion"]
    assert set(version["Document"]["Statement"][0]["Action"]) == {
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    }
    names = {p["PolicyName"] for p in iam.list_policies(Scope="AWS", MaxItems=1000)["Policies"]}
    assert {"AdministratorAccess", "ReadOnlyAccess", "AmazonS3FullAccess", "AWSLambda_FullAccess"} <= names
    with pytest.raises(ClientError) as raised:
        iam.attach_user_policy(UserName="x", PolicyArn="arn:aws:iam::aws:policy/NoSuchPolicy")
    assert code_of(raised) == "NoSuchEntity"


def test_managed_policy_quota_per_role(overcast):
    iam = overcast.client("iam")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)
    for i in range(10):
        arn = iam.create_policy(PolicyName=f"p{i}", PolicyDocument=doc())["Policy"]["Arn"]
        iam.attach_role_policy(RoleName="r", PolicyArn=arn)
    extra = iam.create_policy(PolicyName="p10", PolicyDocument=doc())["Policy"]["Arn"]
    with pytest.raises(ClientError) as raised:
        iam.attach_role_policy(RoleName="r", PolicyArn=extra)
    assert (code_of(raised), message_of(raised)) == (
        "LimitExceeded",
        "Cannot exceed quota for PoliciesPerRole: 10",
    )


def test_inline_policies(overcast):
    iam = overcast.client("iam")
    iam.create_group(GroupName="g")
    iam.put_group_policy(GroupName="g", PolicyName="read", PolicyDocument=doc())
    got = iam.get_group_policy(GroupName="g", PolicyName="read")
    assert got["PolicyDocument"]["Statement"][0]["Action"] == "s3:GetObject"
    iam.delete_group_policy(GroupName="g", PolicyName="read")
    with pytest.raises(ClientError) as raised:
        iam.get_group_policy(GroupName="g", PolicyName="read")
    assert code_of(raised) == "NoSuchEntity"


def test_instance_profiles(overcast):
    iam = overcast.client("iam")
    iam.create_role(RoleName="ec2", AssumeRolePolicyDocument=TRUST)
    profile = iam.create_instance_profile(InstanceProfileName="web")["InstanceProfile"]
    assert profile["InstanceProfileId"].startswith("AIPA")
    iam.add_role_to_instance_profile(InstanceProfileName="web", RoleName="ec2")
    assert (
        iam.get_instance_profile(InstanceProfileName="web")["InstanceProfile"]["Roles"][0]["RoleName"]
        == "ec2"
    )
    with pytest.raises(ClientError) as raised:
        iam.add_role_to_instance_profile(InstanceProfileName="web", RoleName="ec2")
    assert code_of(raised) == "LimitExceeded"
    assert (
        iam.list_instance_profiles_for_role(RoleName="ec2")["InstanceProfiles"][0]["InstanceProfileName"]
        == "web"
    )
    iam.remove_role_from_instance_profile(InstanceProfileName="web", RoleName="ec2")
    iam.delete_instance_profile(InstanceProfileName="web")


def test_permissions_boundary(overcast):
    iam = overcast.client("iam")
    boundary = "arn:aws:iam::aws:policy/AmazonS3FullAccess"
    iam.create_user(UserName="u", PermissionsBoundary=boundary)
    assert iam.get_user(UserName="u")["User"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary
    iam.delete_user_permissions_boundary(UserName="u")
    assert "PermissionsBoundary" not in iam.get_user(UserName="u")["User"]


def test_service_linked_role(overcast):
    iam = overcast.client("iam")
    role = iam.create_service_linked_role(AWSServiceName="autoscaling.amazonaws.com")["Role"]
    assert role["RoleName"] == "AWSServiceRoleForAutoScaling"
    assert role["Path"] == "/aws-service-role/autoscaling.amazonaws.com/"
    with pytest.raises(ClientError) as raised:
        iam.delete_role(RoleName=role["RoleName"])
    assert code_of(raised) == "UnmodifiableEntity"
    iam.delete_service_linked_role(RoleName=role["RoleName"])


def test_policy_size_and_resource_format(overcast):
    iam = overcast.client("iam")
    iam.create_user(UserName="big")
    actions = [f"s3:Action{i:04d}" for i in range(200)]
    with pytest.raises(ClientError) as raised:
        iam.put_user_policy(UserName="big", PolicyName="p", PolicyDocument=doc(actions))
    assert (code_of(raised), message_of(raised)) == (
        "LimitExceeded",
        "Maximum policy size of 2048 bytes exceeded for user big",
    )
    not_arn = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "my-bucket"}],
        }
    )
    with pytest.raises(ClientError) as raised:
        iam.create_policy(PolicyName="p", PolicyDocument=not_arn)
    assert (code_of(raised), message_of(raised)) == (
        "MalformedPolicyDocument",
        'Resource my-bucket must be in ARN format or "*".',
    )
