"""Odd input to KMS, Secrets Manager and Parameter Store gets a 4xx with the service's error, never a 500."""

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of


def _status(call) -> int:
    with pytest.raises(ClientError) as raised:
        call()
    return error_of(raised)[1]


def test_odd_kms_input(overcast, kms, key):
    ecc = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    rsa = kms.create_key(KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]["KeyId"]
    agreement = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")["KeyMetadata"]["KeyId"]
    calls = [
        lambda: kms.verify(
            KeyId=ecc, Message=b"m", Signature=b"\x00garbage", SigningAlgorithm="ECDSA_SHA_256"
        ),
        lambda: kms.sign(KeyId=ecc, Message=b"m", SigningAlgorithm="RSASSA_PSS_SHA_256"),
        lambda: kms.decrypt(CiphertextBlob=b"x" * 300, KeyId=rsa, EncryptionAlgorithm="RSAES_OAEP_SHA_256"),
        lambda: kms.encrypt(KeyId=rsa, Plaintext=b"x" * 300, EncryptionAlgorithm="RSAES_OAEP_SHA_256"),
        lambda: kms.encrypt(KeyId=rsa, Plaintext=b"x", EncryptionAlgorithm="SYMMETRIC_DEFAULT"),
        lambda: kms.derive_shared_secret(
            KeyId=agreement, KeyAgreementAlgorithm="ECDH", PublicKey=b"not a key"
        ),
        lambda: kms.get_public_key(KeyId=key),
        lambda: kms.decrypt(CiphertextBlob=b"\x01" + b"9" * 12 + b"\x07" + b"x" * 60),
        lambda: kms.describe_key(KeyId="arn:aws:s3:::bucket"),
        lambda: kms.describe_key(KeyId="arn:aws:kms:us-east-1:000000000000:key/"),
        lambda: kms.create_grant(KeyId=key, GranteePrincipal="nobody", Operations=["Decrypt"]),
        lambda: kms.retire_grant(GrantToken="not-a-token"),
        lambda: kms.revoke_grant(KeyId=key, GrantId="short"),
        lambda: kms.get_key_policy(KeyId=key, PolicyName="other"),
        lambda: kms.import_key_material(
            KeyId=key,
            ImportToken=b"t",
            EncryptedKeyMaterial=b"m",
            ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE",
        ),
        lambda: kms.list_aliases(Marker="nonsense"),
        lambda: kms.generate_data_key_pair(KeyId=ecc, KeyPairSpec="RSA_2048"),
        lambda: kms.create_key(KeySpec="SM2", KeyUsage="SIGN_VERIFY"),
    ]
    assert [400 <= _status(call) < 500 for call in calls] == [True] * len(calls)


def test_odd_secrets_manager_input(overcast):
    sm = overcast.client("secretsmanager")
    sm.create_secret(Name="s", SecretString="v")
    calls = [
        lambda: sm.get_secret_value(SecretId="arn:aws:secretsmanager:us-east-1:000000000000:secret:nothing"),
        lambda: sm.get_secret_value(SecretId="arn:aws:sqs:us-east-1:000000000000:q"),
        lambda: sm.get_secret_value(SecretId="s", VersionId="11111111-1111-1111-1111-111111111111"),
        lambda: sm.get_secret_value(SecretId="s", VersionStage="NOPE"),
        lambda: sm.put_secret_value(SecretId="s"),
        lambda: sm.create_secret(Name="bad name!"),
        lambda: sm.put_resource_policy(SecretId="s", ResourcePolicy="[]"),
        lambda: sm.update_secret_version_stage(
            SecretId="s", VersionStage="X", MoveToVersionId="missing-version-id-00000000000000"
        ),
        lambda: sm.list_secrets(NextToken="garbage"),
        lambda: sm.get_random_password(
            PasswordLength=4,
            ExcludeLowercase=True,
            ExcludeUppercase=True,
            ExcludeNumbers=True,
            ExcludePunctuation=True,
        ),
        lambda: sm.rotate_secret(
            SecretId="s",
            RotationLambdaARN="arn:aws:lambda:us-east-1:000000000000:function:f",
            RotationRules={"ScheduleExpression": "cron(a b c d e f)"},
        ),
        lambda: sm.batch_get_secret_value(),
    ]
    assert [400 <= _status(call) < 500 for call in calls] == [True] * len(calls)


def test_odd_parameter_store_input(overcast):
    ssm = overcast.client("ssm")
    ssm.put_parameter(Name="/p", Value="v", Type="String")
    calls = [
        lambda: ssm.put_parameter(
            Name="/q",
            Value="v",
            Type="String",
            Tier="Advanced",
            Policies='[{"Type": "Expiration", "Attributes": "x"}]',
        ),
        lambda: ssm.put_parameter(Name="/q", Value="v", Type="String", Tier="Advanced", Policies="not json"),
        lambda: ssm.put_parameter(
            Name="/q",
            Value="v",
            Type="String",
            Tier="Advanced",
            Policies='[{"Type": "Expiration", "Attributes": {"Timestamp": "soon"}}]',
        ),
        lambda: ssm.put_parameter(Name="/q", Value="v", Type="String", AllowedPattern="(unclosed"),
        lambda: ssm.put_parameter(Name="/q", Value="v", Type="String", DataType="image"),
        lambda: ssm.get_parameter(Name="/p:"),
        lambda: ssm.get_parameter(Name="/p:label-that-is-not-there"),
        lambda: ssm.get_parameters_by_path(Path="no-slash"),
        lambda: ssm.get_parameters_by_path(Path="/", NextToken="garbage"),
        lambda: ssm.describe_parameters(
            ParameterFilters=[{"Key": "Path", "Option": "Sideways", "Values": ["/"]}]
        ),
        lambda: ssm.label_parameter_version(Name="/p", ParameterVersion=7, Labels=["x"]),
        lambda: ssm.get_parameter_history(Name="/none"),
        lambda: ssm.create_document(Name="Doc", Content="[1, 2]"),
        lambda: ssm.get_document(Name="Doc"),
        lambda: ssm.list_tags_for_resource(ResourceType="MaintenanceWindow", ResourceId="mw-1"),
    ]
    assert [400 <= _status(call) < 500 for call in calls] == [True] * len(calls)
