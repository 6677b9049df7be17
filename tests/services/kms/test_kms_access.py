"""Who may use a key: key policies (the default one, custom ones, cross-account), grants with encryption-context
constraints, AWS managed keys usable only through their service, evaluated under --iam enforce."""

import json

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of, message_of
from tests.policy.servers import client_as, document, user_with_key

ACCOUNT = "000000000000"


def _user(enforced, name, *statements):
    iam = enforced.client("iam")
    credentials = user_with_key(enforced, name)
    if statements:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=document(*statements))
    return client_as(enforced, "kms", credentials)


def _allow(*actions, resource="*"):
    return {"Effect": "Allow", "Action": list(actions), "Resource": resource}


def test_default_key_policy_lets_iam_policies_decide(enforced):
    admin = enforced.client("kms")
    key = admin.create_key()["KeyMetadata"]["Arn"]
    blob = admin.encrypt(KeyId=key, Plaintext=b"x")["CiphertextBlob"]
    allowed = _user(enforced, "reader", _allow("kms:Decrypt"))
    assert allowed.decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"
    denied = _user(enforced, "nobody", _allow("kms:Encrypt"))
    with pytest.raises(ClientError) as raised:
        denied.decrypt(CiphertextBlob=blob)
    assert (
        error_of(raised) == ("AccessDeniedException", 400) or error_of(raised)[0] == "AccessDeniedException"
    )
    assert message_of(raised) == (
        f"User: arn:aws:iam::{ACCOUNT}:user/nobody is not authorized to perform: kms:Decrypt on resource: {key} "
        "because no identity-based policy allows the kms:Decrypt action"
    )
    explicit = _user(
        enforced, "denied", _allow("kms:*"), {"Effect": "Deny", "Action": "kms:Decrypt", "Resource": key}
    )
    with pytest.raises(ClientError) as raised:
        explicit.decrypt(CiphertextBlob=blob)
    assert "with an explicit deny in an identity-based policy" in message_of(raised)


def test_a_key_policy_without_the_account_makes_iam_policies_useless(enforced):
    admin = enforced.client("kms")
    keyadmin = _user(enforced, "keyadmin", _allow("kms:*"))
    policy = document(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/keyadmin"},
            "Action": "kms:*",
            "Resource": "*",
        }
    )
    with pytest.raises(ClientError) as raised:  # the root would lock itself out
        admin.create_key(
            Policy=document(
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/x"},
                    "Action": "kms:Encrypt",
                    "Resource": "*",
                }
            )
        )
    assert error_of(raised)[0] == "MalformedPolicyDocumentException"
    assert (
        message_of(raised) == "The new key policy will not allow you to update the key policy in the future."
    )
    key = admin.create_key(Policy=policy, BypassPolicyLockoutSafetyCheck=True)["KeyMetadata"]["Arn"]
    other = _user(enforced, "poweruser", _allow("kms:*"))
    with pytest.raises(ClientError) as raised:
        other.encrypt(KeyId=key, Plaintext=b"x")
    assert message_of(raised).endswith("because no resource-based policy allows the kms:Encrypt action")
    with pytest.raises(ClientError) as raised:  # not even the account's root
        admin.encrypt(KeyId=key, Plaintext=b"x")
    assert error_of(raised)[0] == "AccessDeniedException"
    assert keyadmin.encrypt(KeyId=key, Plaintext=b"x")["KeyId"] == key


def test_put_key_policy_validates(kms, key):
    with pytest.raises(ClientError) as raised:
        kms.put_key_policy(KeyId=key, PolicyName="default", Policy="{not json")
    assert error_of(raised)[0] == "MalformedPolicyDocumentException"
    bad_principal = document(
        {"Effect": "Allow", "Principal": {"AWS": "someone"}, "Action": "kms:*", "Resource": "*"}
    )
    with pytest.raises(ClientError) as raised:
        kms.put_key_policy(KeyId=key, PolicyName="default", Policy=bad_principal)
    assert message_of(raised) == "Policy contains a statement with one or more invalid principals."
    good = document(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    )
    kms.put_key_policy(KeyId=key, PolicyName="default", Policy=good)
    assert kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"] == good
    assert kms.list_key_policies(KeyId=key)["PolicyNames"] == ["default"]


def test_default_key_policy_text(kms, key):
    policy = json.loads(kms.get_key_policy(KeyId=key)["Policy"])
    assert policy == {
        "Version": "2012-10-17",
        "Id": "key-default-1",
        "Statement": [
            {
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }


def test_grants_allow_with_their_constraints_until_revoked(enforced):
    admin = enforced.client("kms")
    key = admin.create_key()["KeyMetadata"]["KeyId"]
    user = _user(enforced, "grantee")  # no IAM policy at all
    grantee = f"arn:aws:iam::{ACCOUNT}:user/grantee"
    grant = admin.create_grant(
        KeyId=key,
        GranteePrincipal=grantee,
        Operations=["Encrypt", "Decrypt"],
        Constraints={"EncryptionContextSubset": {"tenant": "a"}},
        Name="tenant-a",
    )
    blob = user.encrypt(KeyId=key, Plaintext=b"x", EncryptionContext={"tenant": "a", "more": "1"})[
        "CiphertextBlob"
    ]
    assert (
        user.decrypt(CiphertextBlob=blob, EncryptionContext={"tenant": "a", "more": "1"})["Plaintext"] == b"x"
    )
    with pytest.raises(ClientError) as raised:
        user.encrypt(KeyId=key, Plaintext=b"x", EncryptionContext={"tenant": "b"})
    assert error_of(raised)[0] == "AccessDeniedException"
    with pytest.raises(ClientError) as raised:
        user.generate_data_key(KeyId=key, KeySpec="AES_256", EncryptionContext={"tenant": "a"})
    assert error_of(raised)[0] == "AccessDeniedException"
    listed = admin.list_grants(KeyId=key)["Grants"]
    assert [(g["GrantId"], g["Name"], g["GranteePrincipal"]) for g in listed] == [
        (grant["GrantId"], "tenant-a", grantee)
    ]
    assert listed[0]["Constraints"] == {"EncryptionContextSubset": {"tenant": "a"}}
    assert listed[0]["IssuingAccount"] == f"arn:aws:iam::{ACCOUNT}:root"
    again = admin.create_grant(
        KeyId=key,
        GranteePrincipal=grantee,
        Operations=["Encrypt", "Decrypt"],
        Constraints={"EncryptionContextSubset": {"tenant": "a"}},
        Name="tenant-a",
    )
    assert again["GrantId"] == grant["GrantId"]  # the same named grant again
    admin.revoke_grant(KeyId=key, GrantId=grant["GrantId"])
    with pytest.raises(ClientError) as raised:
        user.decrypt(CiphertextBlob=blob, EncryptionContext={"tenant": "a", "more": "1"})
    assert error_of(raised)[0] == "AccessDeniedException"


def test_retire_grant_by_token_and_retirable_listing(kms, key):
    grant = kms.create_grant(
        KeyId=key,
        GranteePrincipal=f"arn:aws:iam::{ACCOUNT}:role/app",
        RetiringPrincipal=f"arn:aws:iam::{ACCOUNT}:role/ops",
        Operations=["Decrypt"],
    )
    retirable = kms.list_retirable_grants(RetiringPrincipal=f"arn:aws:iam::{ACCOUNT}:role/ops")["Grants"]
    assert [g["GrantId"] for g in retirable] == [grant["GrantId"]]
    kms.retire_grant(GrantToken=grant["GrantToken"])
    assert kms.list_grants(KeyId=key)["Grants"] == []
    with pytest.raises(ClientError) as raised:
        kms.revoke_grant(KeyId=key, GrantId=grant["GrantId"])
    assert error_of(raised)[0] == "NotFoundException"
    with pytest.raises(ClientError) as raised:
        kms.encrypt(KeyId=key, Plaintext=b"x", GrantTokens=["bogus"])
    assert error_of(raised)[0] == "InvalidGrantTokenException"


def test_an_aws_managed_key_is_used_only_through_its_service(enforced):
    admin = enforced.client("kms")
    assert admin.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]["KeyManager"] == "AWS"
    with pytest.raises(ClientError) as raised:
        admin.encrypt(KeyId="alias/aws/s3", Plaintext=b"x")
    assert error_of(raised)[0] == "AccessDeniedException"


def test_cross_account_use_through_the_key_policy(enforced):
    org = enforced.client("organizations")
    org.create_organization(FeatureSet="ALL")
    other = org.create_account(Email="b@example.com", AccountName="b")["CreateAccountStatus"]["AccountId"]
    session = enforced.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{other}:role/OrganizationAccountAccessRole", RoleSessionName="bee"
    )["Credentials"]
    foreign = client_as(enforced, "kms", session)
    admin = enforced.client("kms")
    key = admin.create_key()["KeyMetadata"]["Arn"]
    blob = admin.encrypt(KeyId=key, Plaintext=b"shared")["CiphertextBlob"]
    with pytest.raises(ClientError) as raised:
        foreign.decrypt(CiphertextBlob=blob, KeyId=key)
    assert message_of(raised).endswith("because no resource-based policy allows the kms:Decrypt action")
    policy = json.loads(admin.get_key_policy(KeyId=key)["Policy"])
    policy["Statement"].append(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{other}:root"},
            "Action": "kms:Decrypt",
            "Resource": "*",
        }
    )
    admin.put_key_policy(KeyId=key, PolicyName="default", Policy=json.dumps(policy))
    assert foreign.decrypt(CiphertextBlob=blob, KeyId=key)["Plaintext"] == b"shared"
    assert (
        foreign.decrypt(CiphertextBlob=blob)["Plaintext"] == b"shared"
    )  # the blob names the other account's key
