"""Assuming roles: a trust policy that refuses a user, and cross-account role assumption between two accounts
of an organization, under `--iam enforce`."""

import pytest
from botocore.exceptions import ClientError

from tests.helpers import code_of, message_of
from tests.policy.servers import client_as, document, user_with_key

MANAGEMENT = "000000000000"


def test_trust_policy_refuses_a_user(enforced):
    admin = enforced.client("iam")
    alice = user_with_key(enforced, "alice")
    mallory = user_with_key(enforced, "mallory")
    role = admin.create_role(
        RoleName="billing",
        AssumeRolePolicyDocument=document(
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{MANAGEMENT}:user/alice"},
                "Action": "sts:AssumeRole",
            }
        ),
    )["Role"]["Arn"]
    admin.attach_role_policy(RoleName="billing", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    # both users may call sts:AssumeRole as far as their own policies go
    for name in ("alice", "mallory"):
        admin.put_user_policy(
            UserName=name,
            PolicyName="assume",
            PolicyDocument=document({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}),
        )

    with pytest.raises(ClientError) as raised:
        client_as(enforced, "sts", mallory).assume_role(RoleArn=role, RoleSessionName="sneaky")
    assert code_of(raised) == "AccessDenied"
    assert message_of(raised) == (
        f"User: arn:aws:iam::{MANAGEMENT}:user/mallory is not authorized to perform: "
        f"sts:AssumeRole on resource: {role}"
    )

    session = client_as(enforced, "sts", alice).assume_role(RoleArn=role, RoleSessionName="alice-billing")
    as_role = client_as(enforced, "iam", session["Credentials"])
    assert as_role.list_roles()["Roles"][0]["RoleName"] == "billing"
    with pytest.raises(ClientError):
        as_role.create_user(UserName="nope")


def test_cross_account_role_assumption(enforced):
    org = enforced.client("organizations")
    org.create_organization(FeatureSet="ALL")
    member = org.create_account(Email="audit@example.com", AccountName="audit")["CreateAccountStatus"][
        "AccountId"
    ]
    setup = enforced.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole", RoleSessionName="setup"
    )["Credentials"]
    member_iam = client_as(enforced, "iam", setup)
    # In the member account: a role trusting the management account (its admins decide who may use it)
    auditor = member_iam.create_role(
        RoleName="auditor",
        AssumeRolePolicyDocument=document(
            {"Effect": "Allow", "Principal": {"AWS": MANAGEMENT}, "Action": "sts:AssumeRole"}
        ),
    )["Role"]["Arn"]
    member_iam.attach_role_policy(RoleName="auditor", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")

    carol = user_with_key(enforced, "carol")
    carol_sts = client_as(enforced, "sts", carol)
    with pytest.raises(ClientError):  # the trust policy trusts the account: carol's own policy must allow too
        carol_sts.assume_role(RoleArn=auditor, RoleSessionName="carol")
    enforced.client("iam").put_user_policy(
        UserName="carol",
        PolicyName="audit",
        PolicyDocument=document(
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": f"arn:aws:iam::{member}:role/auditor"}
        ),
    )
    session = carol_sts.assume_role(RoleArn=auditor, RoleSessionName="carol")["Credentials"]
    identity = client_as(enforced, "sts", session).get_caller_identity()
    assert identity["Account"] == member
    assert identity["Arn"] == f"arn:aws:sts::{member}:assumed-role/auditor/carol"
    audited = client_as(enforced, "iam", session)
    assert {r["RoleName"] for r in audited.list_roles()["Roles"]} == {
        "OrganizationAccountAccessRole",
        "auditor",
    }
    with pytest.raises(ClientError):
        audited.delete_role(RoleName="auditor")
