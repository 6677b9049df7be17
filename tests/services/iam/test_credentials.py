"""Access keys, login profiles and the password policy, account alias, virtual MFA with real TOTP codes."""

import base64
import csv
import io

import pytest
from botocore.exceptions import ClientError

from overcast.services.iam.keys import totp
from tests.helpers import code_of, error_of, message_of


def test_access_keys_sign_requests_and_are_limited_to_two(overcast):
    iam = overcast.client("iam")
    iam.create_user(UserName="alice")
    first = iam.create_access_key(UserName="alice")["AccessKey"]
    assert first["AccessKeyId"].startswith("AKIA") and len(first["AccessKeyId"]) == 20
    assert len(first["SecretAccessKey"]) == 40 and first["Status"] == "Active"
    iam.create_access_key(UserName="alice")
    with pytest.raises(ClientError) as raised:
        iam.create_access_key(UserName="alice")
    assert message_of(raised) == "Cannot exceed quota for AccessKeysPerUser: 2"
    sts = overcast.client(
        "sts", aws_access_key_id=first["AccessKeyId"], aws_secret_access_key=first["SecretAccessKey"]
    )
    assert sts.get_caller_identity()["Arn"] == "arn:aws:iam::000000000000:user/alice"
    used = iam.get_access_key_last_used(AccessKeyId=first["AccessKeyId"])
    assert used["UserName"] == "alice" and "LastUsedDate" in used["AccessKeyLastUsed"]


def test_wrong_secret_is_refused(overcast):
    iam = overcast.client("iam")
    iam.create_user(UserName="alice")
    key = iam.create_access_key(UserName="alice")["AccessKey"]
    sts = overcast.client("sts", aws_access_key_id=key["AccessKeyId"], aws_secret_access_key="wrong" * 8)
    with pytest.raises(ClientError) as raised:
        sts.get_caller_identity()
    assert code_of(raised) == "SignatureDoesNotMatch"


def test_issued_keys_upload_objects_and_the_body_is_held_to_its_signed_hash(overcast):
    """A verified signature covers x-amz-content-sha256; S3 bodies stream, so they are checked as they arrive."""
    iam = overcast.client("iam")
    iam.create_user(UserName="alice")
    key = iam.create_access_key(UserName="alice")["AccessKey"]
    s3 = overcast.client(
        "s3", aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"]
    )
    s3.create_bucket(Bucket="alices")
    s3.put_object(Bucket="alices", Key="a.txt", Body=b"signed body")
    assert s3.get_object(Bucket="alices", Key="a.txt")["Body"].read() == b"signed body"

    def tamper(request, **_):
        request.body = b"other body!"  # same length, after signing

    s3.meta.events.register("before-send.s3.PutObject", tamper)
    with pytest.raises(ClientError) as raised:
        s3.put_object(Bucket="alices", Key="b.txt", Body=b"signed body")
    assert code_of(raised) == "XAmzContentSHA256Mismatch"
    assert error_of(raised)[1] == 400
    keys = [o["Key"] for o in overcast.client("s3").list_objects_v2(Bucket="alices")["Contents"]]
    assert keys == ["a.txt"]


def test_inactive_key_is_refused(overcast):
    iam = overcast.client("iam")
    iam.create_user(UserName="alice")
    key = iam.create_access_key(UserName="alice")["AccessKey"]
    iam.update_access_key(UserName="alice", AccessKeyId=key["AccessKeyId"], Status="Inactive")
    assert iam.list_access_keys(UserName="alice")["AccessKeyMetadata"][0]["Status"] == "Inactive"
    sts = overcast.client(
        "sts", aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"]
    )
    with pytest.raises(ClientError) as raised:
        sts.get_caller_identity()
    assert code_of(raised) == "InvalidClientTokenId"


def test_password_policy_validates_login_profiles(overcast):
    iam = overcast.client("iam")
    iam.create_user(UserName="bob")
    iam.update_account_password_policy(MinimumPasswordLength=12, RequireNumbers=True, RequireSymbols=True)
    policy = iam.get_account_password_policy()["PasswordPolicy"]
    assert policy["MinimumPasswordLength"] == 12 and policy["RequireSymbols"]
    with pytest.raises(ClientError) as raised:
        iam.create_login_profile(UserName="bob", Password="short1!")
    assert code_of(raised) == "PasswordPolicyViolation"
    with pytest.raises(ClientError):
        iam.create_login_profile(UserName="bob", Password="longenoughbutnonumber!")
    iam.create_login_profile(UserName="bob", Password="long-enough-42!", PasswordResetRequired=True)
    assert iam.get_login_profile(UserName="bob")["LoginProfile"]["PasswordResetRequired"] is True
    iam.delete_account_password_policy()
    with pytest.raises(ClientError) as raised:
        iam.get_account_password_policy()
    assert code_of(raised) == "NoSuchEntity"


def test_account_alias(overcast):
    iam = overcast.client("iam")
    iam.create_account_alias(AccountAlias="my-company")
    assert iam.list_account_aliases()["AccountAliases"] == ["my-company"]
    other = overcast.client("iam", aws_access_key_id="111111111111", aws_secret_access_key="x")
    with pytest.raises(ClientError) as raised:
        other.create_account_alias(AccountAlias="my-company")
    assert code_of(raised) == "EntityAlreadyExists"
    iam.delete_account_alias(AccountAlias="my-company")
    assert iam.list_account_aliases()["AccountAliases"] == []


def current_codes(overcast, seed: str) -> tuple[str, str]:
    step = int(overcast.platform.clock.now() // 30)
    return totp(seed, step - 1), totp(seed, step)


def test_virtual_mfa_requires_two_consecutive_codes(overcast):
    iam = overcast.client("iam")
    iam.create_user(UserName="carol")
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="carol-phone")["VirtualMFADevice"]
    serial, seed = device["SerialNumber"], device["Base32StringSeed"].decode()
    assert serial == "arn:aws:iam::000000000000:mfa/carol-phone"
    base64.b32decode(seed)  # a real base32 seed an authenticator app accepts
    with pytest.raises(ClientError) as raised:
        iam.enable_mfa_device(
            UserName="carol", SerialNumber=serial, AuthenticationCode1="123456", AuthenticationCode2="654321"
        )
    assert code_of(raised) == "InvalidAuthenticationCode"
    first, second = current_codes(overcast, seed)
    iam.enable_mfa_device(
        UserName="carol", SerialNumber=serial, AuthenticationCode1=first, AuthenticationCode2=second
    )
    assert iam.list_mfa_devices(UserName="carol")["MFADevices"][0]["SerialNumber"] == serial
    assigned = iam.list_virtual_mfa_devices(AssignmentStatus="Assigned")["VirtualMFADevices"]
    assert assigned[0]["User"]["UserName"] == "carol"
    with pytest.raises(ClientError) as raised:
        iam.delete_virtual_mfa_device(SerialNumber=serial)
    assert code_of(raised) == "DeleteConflict"
    iam.deactivate_mfa_device(UserName="carol", SerialNumber=serial)
    iam.delete_virtual_mfa_device(SerialNumber=serial)


def test_credential_report(overcast):
    iam = overcast.client("iam")
    iam.create_user(UserName="dave")
    iam.create_access_key(UserName="dave")
    with pytest.raises(ClientError) as raised:
        iam.get_credential_report()
    assert code_of(raised) == "ReportNotPresent"
    assert iam.generate_credential_report()["State"] == "STARTED"
    assert iam.generate_credential_report()["State"] == "COMPLETE"
    report = iam.get_credential_report()
    rows = list(csv.DictReader(io.StringIO(report["Content"].decode())))
    assert report["ReportFormat"] == "text/csv"
    assert rows[0]["user"] == "<root_account>"
    assert rows[1]["user"] == "dave" and rows[1]["access_key_1_active"] == "true"
    assert rows[1]["access_key_2_active"] == "false"


def test_account_summary_and_authorization_details(overcast):
    iam = overcast.client("iam")
    iam.create_user(UserName="erin")
    iam.create_group(GroupName="g")
    iam.add_user_to_group(GroupName="g", UserName="erin")
    iam.attach_user_policy(UserName="erin", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    summary = iam.get_account_summary()["SummaryMap"]
    assert summary["Users"] == 1 and summary["Groups"] == 1 and summary["AccessKeysPerUserQuota"] == 2
    details = iam.get_account_authorization_details()
    user = details["UserDetailList"][0]
    assert user["GroupList"] == ["g"] and user["AttachedManagedPolicies"][0]["PolicyName"] == "ReadOnlyAccess"
    assert any(p["PolicyName"] == "ReadOnlyAccess" for p in details["Policies"])
    only_users = iam.get_account_authorization_details(Filter=["User"])
    assert only_users["GroupDetailList"] == [] and len(only_users["UserDetailList"]) == 1
