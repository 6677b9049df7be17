"""Centralized root access: Organizations' trusted access for IAM, IAM's root credentials management and root
sessions, and STS AssumeRoot giving the management account a member's root, held to a root-task policy."""

import pytest
from botocore.exceptions import ClientError

from tests.helpers import code_of
from tests.policy.servers import client_as, user_with_key

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
UNLOCK_S3 = {"arn": "arn:aws:iam::aws:policy/root-task/S3UnlockBucketPolicy"}


def _organization(server):
    """An organization of the default account with one created member; the member's id."""
    org = server.client("organizations")
    org.create_organization(FeatureSet="ALL")
    return org.create_account(Email="member@example.com", AccountName="member")["CreateAccountStatus"][
        "AccountId"
    ]


def _refused(call, **params):
    with pytest.raises(ClientError) as raised:
        call(**params)
    return code_of(raised)


def test_root_sessions_need_trusted_access_and_the_management_account(overcast):
    member = _organization(overcast)
    iam, org = overcast.client("iam"), overcast.client("organizations")
    assert _refused(iam.list_organizations_features) == "ServiceAccessNotEnabledException"

    org.enable_aws_service_access(ServicePrincipal="iam.amazonaws.com")
    enabled = org.list_aws_service_access_for_organization()["EnabledServicePrincipals"]
    assert [p["ServicePrincipal"] for p in enabled] == ["iam.amazonaws.com"] and enabled[0]["DateEnabled"]
    org_id = org.describe_organization()["Organization"]["Id"]
    assert iam.list_organizations_features()["EnabledFeatures"] == []
    answer = iam.enable_organizations_root_credentials_management()
    assert (answer["OrganizationId"], answer["EnabledFeatures"]) == (org_id, ["RootCredentialsManagement"])
    answer = iam.enable_organizations_root_sessions()
    assert answer["EnabledFeatures"] == ["RootCredentialsManagement", "RootSessions"]

    member_iam = overcast.client("iam", aws_access_key_id=member, aws_secret_access_key="x")
    assert (
        _refused(member_iam.list_organizations_features)
        == "AccountNotManagementOrDelegatedAdministratorException"
    )
    assert _refused(member_iam.enable_organizations_root_sessions) == "CallerIsNotManagementAccountException"

    iam.disable_organizations_root_credentials_management()
    assert iam.list_organizations_features()["EnabledFeatures"] == ["RootSessions"]
    org.disable_aws_service_access(ServicePrincipal="iam.amazonaws.com")
    assert org.list_aws_service_access_for_organization()["EnabledServicePrincipals"] == []
    assert _refused(iam.list_organizations_features) == "ServiceAccessNotEnabledException"


def test_assume_root_is_the_members_root_for_a_task(overcast):
    member = _organization(overcast)
    overcast.client("organizations").enable_aws_service_access(ServicePrincipal="iam.amazonaws.com")
    iam = overcast.client("iam")
    admin = client_as(overcast, "sts", user_with_key(overcast, "admin", ADMIN))
    denied = _refused(admin.assume_root, TargetPrincipal=member, TaskPolicyArn=UNLOCK_S3)
    assert denied == "AccessDenied"  # root sessions not enabled yet
    iam.enable_organizations_root_sessions()

    answer = admin.assume_root(TargetPrincipal=member, TaskPolicyArn=UNLOCK_S3)
    credentials = answer["Credentials"]
    assert credentials["AccessKeyId"].startswith("ASIA")
    short = admin.assume_root(TargetPrincipal=member, TaskPolicyArn=UNLOCK_S3, DurationSeconds=60)
    default = (credentials["Expiration"] - short["Credentials"]["Expiration"]).total_seconds()
    assert 830 <= default <= 840 + 5  # 900 seconds by default
    root = client_as(overcast, "sts", credentials).get_caller_identity()
    assert (root["Account"], root["UserId"], root["Arn"]) == (member, member, f"arn:aws:iam::{member}:root")

    by_arn = admin.assume_root(TargetPrincipal=f"arn:aws:iam::{member}:root", TaskPolicyArn=UNLOCK_S3)
    assert by_arn["Credentials"]["AccessKeyId"] != credentials["AccessKeyId"]
    for target, task in (
        ("111122223333", UNLOCK_S3),  # not a member
        ("000000000000", UNLOCK_S3),  # the management account itself
        (member, {"arn": "arn:aws:iam::aws:policy/AdministratorAccess"}),  # not a root task
    ):
        assert _refused(admin.assume_root, TargetPrincipal=target, TaskPolicyArn=task) == "AccessDenied"
    root_caller = overcast.client("sts")  # the management account's root user may not
    assert (
        _refused(root_caller.assume_root, TargetPrincipal=member, TaskPolicyArn=UNLOCK_S3) == "AccessDenied"
    )


def test_an_assume_root_session_may_do_its_task_and_nothing_else(enforced):
    member = _organization(enforced)
    enforced.client("organizations").enable_aws_service_access(ServicePrincipal="iam.amazonaws.com")
    enforced.client("iam").enable_organizations_root_sessions()
    access = enforced.client("sts").assume_role(  # the member's admin role, as Organizations made it
        RoleArn=f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole", RoleSessionName="admin"
    )["Credentials"]
    member_s3 = client_as(enforced, "s3", access)
    member_s3.create_bucket(Bucket="locked-out")
    admin = client_as(enforced, "sts", user_with_key(enforced, "admin", ADMIN))
    credentials = admin.assume_root(TargetPrincipal=member, TaskPolicyArn=UNLOCK_S3)["Credentials"]
    task = client_as(enforced, "s3", credentials)
    task.put_bucket_policy(
        Bucket="locked-out",
        Policy='{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"AWS":"*"},'
        '"Action":"s3:GetObject","Resource":"arn:aws:s3:::locked-out/*"}]}',
    )
    assert "Deny" in task.get_bucket_policy(Bucket="locked-out")["Policy"]
    task.delete_bucket_policy(Bucket="locked-out")
    assert _refused(task.list_objects_v2, Bucket="locked-out") == "AccessDenied"
    assert _refused(task.put_object, Bucket="locked-out", Key="k", Body=b"x") == "AccessDenied"
    # SCPs still apply to the session, and see it as aws:AssumedRoot
    org = enforced.client("organizations")
    root_id = org.list_roots()["Roots"][0]["Id"]
    org.enable_policy_type(RootId=root_id, PolicyType="SERVICE_CONTROL_POLICY")
    scp = org.create_policy(
        Name="no-root-unlock",
        Description="",
        Type="SERVICE_CONTROL_POLICY",
        Content='{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:GetBucketPolicy",'
        '"Resource":"*","Condition":{"Bool":{"aws:AssumedRoot":"true"}}}]}',
    )["Policy"]["PolicySummary"]["Id"]
    org.attach_policy(PolicyId=scp, TargetId=member)
    member_s3.put_bucket_policy(
        Bucket="locked-out",
        Policy='{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"AWS":"*"},'
        '"Action":"s3:GetObject","Resource":"arn:aws:s3:::locked-out/*"}]}',
    )
    assert "Deny" in member_s3.get_bucket_policy(Bucket="locked-out")["Policy"]  # not an assumed root
    assert _refused(task.get_bucket_policy, Bucket="locked-out") == "AccessDenied"


def test_iams_delegated_administrator_may_assume_root_and_list_the_features(overcast):
    member = _organization(overcast)
    org = overcast.client("organizations")
    security = org.create_account(Email="sec@example.com", AccountName="security")["CreateAccountStatus"][
        "AccountId"
    ]
    org.enable_aws_service_access(ServicePrincipal="iam.amazonaws.com")
    overcast.client("iam").enable_organizations_root_sessions()
    delegate_iam = overcast.client("iam", aws_access_key_id=security, aws_secret_access_key="x")
    assert (
        _refused(delegate_iam.list_organizations_features)
        == "AccountNotManagementOrDelegatedAdministratorException"
    )
    admin = client_as(
        overcast, "sts", user_with_key(overcast, "sec-admin", ADMIN, account_client=delegate_iam)
    )
    assert _refused(admin.assume_root, TargetPrincipal=member, TaskPolicyArn=UNLOCK_S3) == "AccessDenied"

    org.register_delegated_administrator(AccountId=security, ServicePrincipal="iam.amazonaws.com")
    assert delegate_iam.list_organizations_features()["EnabledFeatures"] == ["RootSessions"]
    assert _refused(delegate_iam.enable_organizations_root_credentials_management) == (
        "CallerIsNotManagementAccountException"
    )
    credentials = admin.assume_root(TargetPrincipal=member, TaskPolicyArn=UNLOCK_S3)["Credentials"]
    assert (
        client_as(overcast, "sts", credentials).get_caller_identity()["Arn"] == f"arn:aws:iam::{member}:root"
    )
