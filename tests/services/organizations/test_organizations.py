"""Organizations: the organization and its root, OUs, created and invited accounts, SCPs and their attachments."""

import json

import pytest
from botocore.exceptions import ClientError

from tests.helpers import code_of, error_of, message_of
from tests.policy.servers import client_as

SCP = "SERVICE_CONTROL_POLICY"
DENY_S3 = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}
)


@pytest.fixture
def org(overcast):
    client = overcast.client("organizations")
    client.create_organization(FeatureSet="ALL")
    return client


def root_id(org):
    return org.list_roots()["Roots"][0]["Id"]


def test_create_organization_makes_the_caller_management(overcast):
    client = overcast.client("organizations")
    with pytest.raises(ClientError) as raised:
        client.describe_organization()
    assert code_of(raised) == "AWSOrganizationsNotInUseException"
    organization = client.create_organization(FeatureSet="ALL")["Organization"]
    assert organization["Id"].startswith("o-") and organization["MasterAccountId"] == "000000000000"
    assert organization["Arn"] == f"arn:aws:organizations::000000000000:organization/{organization['Id']}"
    with pytest.raises(ClientError) as raised:
        client.create_organization()
    assert code_of(raised) == "AlreadyInOrganizationException"
    accounts = client.list_accounts()["Accounts"]
    assert [a["Id"] for a in accounts] == ["000000000000"]


def test_organizational_units_and_moving_accounts(org):
    root = root_id(org)
    prod = org.create_organizational_unit(ParentId=root, Name="PROD")["OrganizationalUnit"]
    assert prod["Id"].startswith("ou-")
    with pytest.raises(ClientError) as raised:
        org.create_organizational_unit(ParentId=root, Name="PROD")
    assert code_of(raised) == "DuplicateOrganizationalUnitException"
    status = org.create_account(Email="prod@example.com", AccountName="prod")["CreateAccountStatus"]
    assert status["State"] == "SUCCEEDED" and len(status["AccountId"]) == 12
    account = status["AccountId"]
    assert (
        org.describe_create_account_status(CreateAccountRequestId=status["Id"])["CreateAccountStatus"][
            "AccountId"
        ]
        == account
    )
    org.move_account(AccountId=account, SourceParentId=root, DestinationParentId=prod["Id"])
    assert org.list_parents(ChildId=account)["Parents"] == [{"Id": prod["Id"], "Type": "ORGANIZATIONAL_UNIT"}]
    children = org.list_children(ParentId=prod["Id"], ChildType="ACCOUNT")["Children"]
    assert children == [{"Id": account, "Type": "ACCOUNT"}]
    assert [a["Id"] for a in org.list_accounts_for_parent(ParentId=prod["Id"])["Accounts"]] == [account]
    with pytest.raises(ClientError) as raised:
        org.delete_organizational_unit(OrganizationalUnitId=prod["Id"])
    assert code_of(raised) == "OrganizationalUnitNotEmptyException"
    assert org.describe_account(AccountId=account)["Account"]["JoinedMethod"] == "CREATED"


def test_created_account_is_a_tenant_reachable_through_its_access_role(overcast, org):
    account = org.create_account(Email="dev@example.com", AccountName="dev")["CreateAccountStatus"][
        "AccountId"
    ]
    role = f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole"
    credentials = overcast.client("sts").assume_role(RoleArn=role, RoleSessionName="admin")["Credentials"]
    member_iam = client_as(overcast, "iam", credentials)
    member_iam.create_user(UserName="only-in-member")
    assert [u["UserName"] for u in member_iam.list_users()["Users"]] == ["only-in-member"]
    assert overcast.client("iam").list_users()["Users"] == []  # the management account's IAM is separate
    attached = member_iam.list_attached_role_policies(RoleName="OrganizationAccountAccessRole")[
        "AttachedPolicies"
    ]
    assert attached[0]["PolicyName"] == "AdministratorAccess"


def test_invitation_handshake(overcast, org):
    member = "222233334444"
    handshake = org.invite_account_to_organization(Target={"Id": member, "Type": "ACCOUNT"}, Notes="join us")[
        "Handshake"
    ]
    assert handshake["State"] == "OPEN" and handshake["Id"].startswith("h-")
    invited = overcast.client("organizations", aws_access_key_id=member, aws_secret_access_key="x")
    assert [h["Id"] for h in invited.list_handshakes_for_account()["Handshakes"]] == [handshake["Id"]]
    with pytest.raises(ClientError):
        org.accept_handshake(HandshakeId=handshake["Id"])  # only the invited account may accept
    accepted = invited.accept_handshake(HandshakeId=handshake["Id"])["Handshake"]
    assert accepted["State"] == "ACCEPTED"
    assert invited.describe_organization()["Organization"]["MasterAccountId"] == "000000000000"
    assert org.describe_account(AccountId=member)["Account"]["JoinedMethod"] == "INVITED"
    invited.leave_organization()
    with pytest.raises(ClientError):
        org.describe_account(AccountId=member)


def test_expired_handshake_cannot_be_accepted(overcast, org):
    member = "222233334444"
    handshake = org.invite_account_to_organization(Target={"Id": member, "Type": "ACCOUNT"})["Handshake"]
    overcast.advance_clock("16d")
    invited = overcast.client("organizations", aws_access_key_id=member, aws_secret_access_key="x")
    with pytest.raises(ClientError) as raised:
        invited.accept_handshake(HandshakeId=handshake["Id"])
    assert code_of(raised) == "InvalidHandshakeTransitionException"


def test_service_control_policies(org):
    root = root_id(org)
    policy = org.create_policy(Name="deny-s3", Description="no S3", Type=SCP, Content=DENY_S3)["Policy"][
        "PolicySummary"
    ]
    with pytest.raises(ClientError) as raised:
        org.attach_policy(PolicyId=policy["Id"], TargetId=root)
    assert code_of(raised) == "PolicyTypeNotEnabledException"
    enabled = org.enable_policy_type(RootId=root, PolicyType=SCP)["Root"]
    assert enabled["PolicyTypes"] == [{"Type": SCP, "Status": "ENABLED"}]
    # FullAWSAccess is attached to every target when SCPs are enabled
    on_root = org.list_policies_for_target(TargetId=root, Filter=SCP)["Policies"]
    assert [p["Name"] for p in on_root] == ["FullAWSAccess"]
    unit = org.create_organizational_unit(ParentId=root, Name="PROD")["OrganizationalUnit"]["Id"]
    org.attach_policy(PolicyId=policy["Id"], TargetId=unit)
    with pytest.raises(ClientError) as raised:
        org.attach_policy(PolicyId=policy["Id"], TargetId=unit)
    assert code_of(raised) == "DuplicatePolicyAttachmentException"
    names = {p["Name"] for p in org.list_policies_for_target(TargetId=unit, Filter=SCP)["Policies"]}
    assert names == {"FullAWSAccess", "deny-s3"}
    assert [t["TargetId"] for t in org.list_targets_for_policy(PolicyId=policy["Id"])["Targets"]] == [unit]
    with pytest.raises(ClientError) as raised:
        org.delete_policy(PolicyId=policy["Id"])
    assert code_of(raised) == "PolicyInUseException"
    org.detach_policy(PolicyId=policy["Id"], TargetId=unit)
    with pytest.raises(ClientError) as raised:
        org.detach_policy(PolicyId="p-FullAWSAccess", TargetId=unit)
    assert code_of(raised) == "ConstraintViolationException"
    org.delete_policy(PolicyId=policy["Id"])
    assert [p["Name"] for p in org.list_policies(Filter=SCP)["Policies"]] == ["FullAWSAccess"]


def test_malformed_scp(org):
    with pytest.raises(ClientError) as raised:
        org.create_policy(Name="bad", Description="", Type=SCP, Content="{nope")
    assert code_of(raised) == "MalformedPolicyDocumentException"


def test_member_cannot_manage_the_organization(overcast, org):
    account = org.create_account(Email="m@example.com", AccountName="m")["CreateAccountStatus"]["AccountId"]
    member = overcast.client("organizations", aws_access_key_id=account, aws_secret_access_key="x")
    assert member.describe_organization()["Organization"]["MasterAccountId"] == "000000000000"
    with pytest.raises(ClientError) as raised:
        member.list_accounts()
    assert code_of(raised) == "AccessDeniedException"


def test_delete_organization_requires_no_members(org):
    org.create_account(Email="m@example.com", AccountName="m")
    with pytest.raises(ClientError) as raised:
        org.delete_organization()
    assert code_of(raised) == "OrganizationNotEmptyException"


def test_a_created_account_gets_its_access_role_whatever_the_scps(enforced):
    """The role is made through IAM's API in the new account before it joins, so the organization's SCPs
    (here: no IAM at all) do not stand in the way; once it has joined, they bind the account."""
    org = enforced.client("organizations")
    org.create_organization(FeatureSet="ALL")
    root = root_id(org)
    org.enable_policy_type(RootId=root, PolicyType=SCP)
    no_iam = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "iam:*", "Resource": "*"}]}
    )
    policy = org.create_policy(Name="no-iam", Description="", Type=SCP, Content=no_iam)["Policy"]
    org.attach_policy(PolicyId=policy["PolicySummary"]["Id"], TargetId=root)
    status = org.create_account(Email="new@example.com", AccountName="new", RoleName="Admin")
    account = status["CreateAccountStatus"]["AccountId"]
    role = f"arn:aws:iam::{account}:role/Admin"
    credentials = enforced.client("sts").assume_role(RoleArn=role, RoleSessionName="admin")["Credentials"]
    assert client_as(enforced, "s3", credentials).list_buckets()["Buckets"] == []  # AdministratorAccess
    with pytest.raises(ClientError) as raised:
        client_as(enforced, "iam", credentials).list_attached_role_policies(RoleName="Admin")
    assert code_of(raised) == "AccessDenied"
    assert "with an explicit deny in a service control policy" in message_of(raised)
    on_account = org.list_policies_for_target(TargetId=account, Filter=SCP)["Policies"]
    assert [p["Name"] for p in on_account] == ["FullAWSAccess"]
    with pytest.raises(ClientError) as raised:  # the e-mail address is taken now
        org.create_account(Email="new@example.com", AccountName="again")
    assert code_of(raised) == "DuplicateAccountException"


def test_lists_page_with_max_results_and_next_token(org):
    for name in ("a", "b"):
        org.create_account(Email=f"{name}@example.com", AccountName=name)
    everything = org.list_accounts()
    assert len(everything["Accounts"]) == 3 and "NextToken" not in everything
    first = org.list_accounts(MaxResults=2)
    assert len(first["Accounts"]) == 2 and first["NextToken"]
    rest = org.list_accounts(MaxResults=2, NextToken=first["NextToken"])
    assert "NextToken" not in rest
    assert first["Accounts"] + rest["Accounts"] == everything["Accounts"]
    pages = list(org.get_paginator("list_accounts").paginate(PaginationConfig={"PageSize": 1}))
    assert [a for page in pages for a in page["Accounts"]] == everything["Accounts"] and len(pages) == 3
    for token in ("nonsense", first["NextToken"]):  # made up, or another listing's
        with pytest.raises(ClientError) as raised:
            org.list_roots(NextToken=token)
        assert error_of(raised) == ("InvalidInputException", 400)
        assert raised.value.response["Reason"] == "INVALID_PAGINATION_TOKEN"


def test_delegated_administrators(overcast, org):
    member = org.create_account(Email="sec@example.com", AccountName="security")["CreateAccountStatus"][
        "AccountId"
    ]
    other = org.create_account(Email="dev@example.com", AccountName="dev")["CreateAccountStatus"]["AccountId"]
    org.register_delegated_administrator(AccountId=member, ServicePrincipal="iam.amazonaws.com")
    org.register_delegated_administrator(AccountId=member, ServicePrincipal="guardduty.amazonaws.com")
    with pytest.raises(ClientError) as raised:
        org.register_delegated_administrator(AccountId=member, ServicePrincipal="iam.amazonaws.com")
    assert (code_of(raised), message_of(raised)) == (
        "AccountAlreadyRegisteredException",
        "The provided account is already a delegated administrator for your organization.",
    )
    with pytest.raises(ClientError) as raised:
        org.register_delegated_administrator(AccountId="000000000000", ServicePrincipal="iam.amazonaws.com")
    assert code_of(raised) == "ConstraintViolationException"
    assert raised.value.response["Reason"] == "CANNOT_REGISTER_MASTER_AS_DELEGATED_ADMINISTRATOR"

    admins = org.list_delegated_administrators()["DelegatedAdministrators"]
    assert [(a["Id"], a["Name"]) for a in admins] == [(member, "security")] and admins[0][
        "DelegationEnabledDate"
    ]
    assert (
        org.list_delegated_administrators(ServicePrincipal="ssm.amazonaws.com")["DelegatedAdministrators"]
        == []
    )
    services = org.list_delegated_services_for_account(AccountId=member)["DelegatedServices"]
    assert {s["ServicePrincipal"] for s in services} == {"iam.amazonaws.com", "guardduty.amazonaws.com"}
    delegate = overcast.client("organizations", aws_access_key_id=member, aws_secret_access_key="x")
    assert [a["Id"] for a in delegate.list_delegated_administrators()["DelegatedAdministrators"]] == [member]
    outsider = overcast.client("organizations", aws_access_key_id=other, aws_secret_access_key="x")
    with pytest.raises(ClientError) as raised:
        outsider.list_delegated_administrators()
    assert code_of(raised) == "AccessDeniedException"

    org.deregister_delegated_administrator(AccountId=member, ServicePrincipal="guardduty.amazonaws.com")
    with pytest.raises(ClientError) as raised:
        org.deregister_delegated_administrator(AccountId=member, ServicePrincipal="guardduty.amazonaws.com")
    assert (code_of(raised), message_of(raised)) == (
        "AccountNotRegisteredException",
        "The provided account is not a registered delegated administrator for your organization.",
    )
    with pytest.raises(ClientError) as raised:
        org.list_delegated_services_for_account(AccountId=other)
    assert code_of(raised) == "AccountNotRegisteredException"
    org.remove_account_from_organization(AccountId=member)
    assert org.list_delegated_administrators()["DelegatedAdministrators"] == []


def test_the_organizations_resource_policy(overcast, org):
    member = org.create_account(Email="ops@example.com", AccountName="ops")["CreateAccountStatus"][
        "AccountId"
    ]
    other = org.create_account(Email="x@example.com", AccountName="x")["CreateAccountStatus"]["AccountId"]
    with pytest.raises(ClientError) as raised:
        org.describe_resource_policy()
    assert (code_of(raised), message_of(raised)) == (
        "ResourcePolicyNotFoundException",
        "We can't find a resource policy request with the parameter that you specified.",
    )
    content = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "Delegate",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{member}:root"},
                    "Action": ["organizations:Describe*", "organizations:List*"],
                    "Resource": "*",
                }
            ],
        }
    )
    policy = org.put_resource_policy(Content=content)["ResourcePolicy"]
    summary = policy["ResourcePolicySummary"]
    org_id = org.describe_organization()["Organization"]["Id"]
    assert summary["Id"].startswith("rp-") and policy["Content"] == content
    assert summary["Arn"] == f"arn:aws:organizations::000000000000:resourcepolicy/{org_id}/{summary['Id']}"
    assert org.put_resource_policy(Content=content)["ResourcePolicy"]["ResourcePolicySummary"] == summary
    named = overcast.client("organizations", aws_access_key_id=member, aws_secret_access_key="x")
    assert named.describe_resource_policy()["ResourcePolicy"] == policy
    stranger = overcast.client("organizations", aws_access_key_id=other, aws_secret_access_key="x")
    with pytest.raises(ClientError) as raised:
        stranger.describe_resource_policy()
    assert code_of(raised) == "AccessDeniedException"
    with pytest.raises(ClientError) as raised:
        org.put_resource_policy(Content="not json")
    assert code_of(raised) == "MalformedPolicyDocumentException"
    org.delete_resource_policy()
    with pytest.raises(ClientError) as raised:
        org.delete_resource_policy()
    assert code_of(raised) == "ResourcePolicyNotFoundException"


def test_closing_a_member_account(org):
    member = org.create_account(Email="old@example.com", AccountName="old")["CreateAccountStatus"][
        "AccountId"
    ]
    assert org.describe_account(AccountId=member)["Account"]["Status"] == "ACTIVE"
    org.close_account(AccountId=member)
    account = org.describe_account(AccountId=member)["Account"]
    assert (account["Status"], account["State"]) == ("SUSPENDED", "CLOSED")
    assert member in [a["Id"] for a in org.list_accounts()["Accounts"]]  # it stays in the organization
    with pytest.raises(ClientError) as raised:
        org.close_account(AccountId=member)
    assert (code_of(raised), message_of(raised)) == (
        "AccountAlreadyClosedException",
        "You attempted to close an account that is already closed.",
    )
    with pytest.raises(ClientError) as raised:
        org.close_account(AccountId="000000000000")
    assert code_of(raised) == "ConstraintViolationException"
