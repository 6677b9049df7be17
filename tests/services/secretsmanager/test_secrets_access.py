"""Under --iam enforce: a secret's value needs secretsmanager:GetSecretValue and, through Secrets Manager,
kms:Decrypt on its key; the AWS managed key aws/secretsmanager is usable through the service alone."""

import json

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of, message_of
from tests.policy.servers import client_as, document, user_with_key


def _client(enforced, name, *actions):
    credentials = user_with_key(enforced, name)
    enforced.client("iam").put_user_policy(
        UserName=name,
        PolicyName="p",
        PolicyDocument=document({"Effect": "Allow", "Action": list(actions), "Resource": "*"}),
    )
    return client_as(enforced, "secretsmanager", credentials)


def test_the_default_key_needs_no_kms_permission(enforced):
    enforced.client("secretsmanager").create_secret(Name="app", SecretString="v")
    reader = _client(enforced, "reader", "secretsmanager:GetSecretValue")
    assert reader.get_secret_value(SecretId="app")["SecretString"] == "v"


def test_a_customer_key_needs_kms_decrypt(enforced):
    key = enforced.client("kms").create_key()["KeyMetadata"]["Arn"]
    enforced.client("secretsmanager").create_secret(Name="guarded", SecretString="v", KmsKeyId=key)
    reader = _client(enforced, "reader2", "secretsmanager:GetSecretValue")
    with pytest.raises(ClientError) as raised:
        reader.get_secret_value(SecretId="guarded")
    assert error_of(raised)[0] == "AccessDeniedException"
    assert "kms:Decrypt" in message_of(raised)
    trusted = _client(enforced, "trusted", "secretsmanager:GetSecretValue", "kms:Decrypt")
    assert trusted.get_secret_value(SecretId="guarded")["SecretString"] == "v"
    writer = _client(enforced, "writer", "secretsmanager:PutSecretValue")
    with pytest.raises(ClientError) as raised:
        writer.put_secret_value(SecretId="guarded", SecretString="w")
    assert "kms:GenerateDataKey" in message_of(raised)


def test_a_resource_policy_denies_even_an_allowed_user(enforced):
    sm = enforced.client("secretsmanager")
    arn = sm.create_secret(Name="locked", SecretString="v")["ARN"]
    reader = _client(enforced, "reader3", "secretsmanager:GetSecretValue")
    sm.put_resource_policy(
        SecretId="locked",
        ResourcePolicy=document(
            {
                "Effect": "Deny",
                "Principal": {"AWS": "arn:aws:iam::000000000000:user/reader3"},
                "Action": "secretsmanager:GetSecretValue",
                "Resource": "*",
            }
        ),
    )
    with pytest.raises(ClientError) as raised:
        reader.get_secret_value(SecretId=arn)
    assert error_of(raised) == ("AccessDeniedException", 400)
    assert "with an explicit deny in a resource-based policy" in message_of(raised)


def test_rotate_secret_needs_the_function_to_allow_secrets_manager(enforced):
    enforced.client("iam").create_role(
        RoleName="rotation",
        AssumeRolePolicyDocument=document(
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ),
    )
    lam = enforced.client("lambda")
    function = lam.create_function(
        FunctionName="rotator",
        Runtime="python3.11",
        Role="arn:aws:iam::000000000000:role/rotation",
        Handler="app.handler",
        Code={"ZipFile": _package()},
    )["FunctionArn"]
    sm = enforced.client("secretsmanager")
    sm.create_secret(Name="rotated", SecretString="{}")
    with pytest.raises(ClientError) as raised:
        sm.rotate_secret(SecretId="rotated", RotationLambdaARN=function, RotateImmediately=False)
    assert error_of(raised) == ("AccessDeniedException", 400)
    assert "secretsmanager.amazonaws.com" in message_of(raised)
    lam.add_permission(
        FunctionName="rotator",
        StatementId="secrets",
        Action="lambda:InvokeFunction",
        Principal="secretsmanager.amazonaws.com",
    )
    sm.rotate_secret(SecretId="rotated", RotationLambdaARN=function, RotateImmediately=False)
    assert sm.describe_secret(SecretId="rotated")["RotationEnabled"] is True


def _package() -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return None\n")
    return buffer.getvalue()


def test_a_value_read_again_is_decrypted_again_for_each_caller(enforced):
    """A repeated GetSecretValue may be answered from memory (state/answers.py), but its KMS Decrypt is still
    authorized for the caller in hand and recorded each time: two sessions of one role under the same session
    name (one ARN) differ in their session policy, and the one without kms:Decrypt is refused."""
    key = enforced.client("kms").create_key()["KeyMetadata"]["Arn"]
    enforced.client("secretsmanager").create_secret(Name="shared", SecretString="v", KmsKeyId=key)
    iam = enforced.client("iam")
    iam.create_role(
        RoleName="readers",
        AssumeRolePolicyDocument=document(
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
                "Action": "sts:AssumeRole",
            }
        ),
    )
    allowed = ["secretsmanager:GetSecretValue", "kms:Decrypt"]
    iam.put_role_policy(
        RoleName="readers",
        PolicyName="p",
        PolicyDocument=document({"Effect": "Allow", "Action": allowed, "Resource": "*"}),
    )
    sts = enforced.client("sts")
    role = "arn:aws:iam::000000000000:role/readers"
    full = client_as(
        enforced, "secretsmanager", sts.assume_role(RoleArn=role, RoleSessionName="same")["Credentials"]
    )
    narrowed = sts.assume_role(
        RoleArn=role,
        RoleSessionName="same",
        Policy=document({"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*"}),
    )["Credentials"]
    narrow = client_as(enforced, "secretsmanager", narrowed)
    assert [full.get_secret_value(SecretId="shared")["SecretString"] for _ in range(3)] == ["v"] * 3
    with pytest.raises(ClientError) as raised:
        narrow.get_secret_value(SecretId="shared")
    assert error_of(raised)[0] == "AccessDeniedException" and "kms:Decrypt" in message_of(raised)
    assert full.get_secret_value(SecretId="shared")["SecretString"] == "v"
    trail = enforced.client("cloudtrail")
    decrypts = trail.lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "Decrypt"}]
    )
    outcomes = [json.loads(e["CloudTrailEvent"]).get("errorCode") for e in decrypts["Events"]]
    assert outcomes == [None, "AccessDeniedException", None, None, None]  # newest first
