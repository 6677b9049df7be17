"""An organization whose SCP denies s3:* on the PROD OU: denied in PROD even for the account's admin role,
allowed in DEV and in the management account (SCPs never restrict it)."""

import json

import pytest
from botocore.exceptions import ClientError

from tests.helpers import code_of, message_of
from tests.policy.servers import client_as

DENY_S3 = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}
)


def admin_session(server, account: str) -> dict:
    return server.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole", RoleSessionName="admin"
    )["Credentials"]


def test_scp_denies_s3_in_prod_only(enforced):
    org = enforced.client("organizations")
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    org.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
    units = {
        name: org.create_organizational_unit(ParentId=root, Name=name)["OrganizationalUnit"]["Id"]
        for name in ("PROD", "DEV")
    }
    accounts = {}
    for name, unit in units.items():
        account = org.create_account(Email=f"{name}@example.com", AccountName=name)["CreateAccountStatus"][
            "AccountId"
        ]
        org.move_account(AccountId=account, SourceParentId=root, DestinationParentId=unit)
        accounts[name] = account
    policy = org.create_policy(
        Name="no-s3-in-prod", Description="", Type="SERVICE_CONTROL_POLICY", Content=DENY_S3
    )["Policy"]["PolicySummary"]["Id"]
    org.attach_policy(PolicyId=policy, TargetId=units["PROD"])

    prod_s3 = client_as(enforced, "s3", admin_session(enforced, accounts["PROD"]))
    with pytest.raises(ClientError) as raised:
        prod_s3.create_bucket(Bucket="prod-data-bucket")
    assert code_of(raised) == "AccessDenied"
    assert "with an explicit deny in a service control policy" in message_of(raised)
    with pytest.raises(ClientError):
        prod_s3.list_buckets()

    dev_s3 = client_as(enforced, "s3", admin_session(enforced, accounts["DEV"]))
    dev_s3.create_bucket(Bucket="dev-data-bucket")
    assert [b["Name"] for b in dev_s3.list_buckets()["Buckets"]] == ["dev-data-bucket"]

    enforced.client("s3").create_bucket(Bucket="management-bucket")  # the management account is exempt

    # the same SCP, seen by the simulator-style check on IAM: other services stay allowed in PROD
    prod_iam = client_as(enforced, "iam", admin_session(enforced, accounts["PROD"]))
    prod_iam.list_roles()

    # detaching the SCP lifts the denial
    org.detach_policy(PolicyId=policy, TargetId=units["PROD"])
    prod_s3.create_bucket(Bucket="prod-data-bucket")
