"""Stories from the notes (reference seeds-004 §9): envelope encryption of a large file kept in S3, the
application's configuration in Parameter Store and Secrets Manager, and the CLI a developer types."""

import base64
import json
import os

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tests.helpers import aws, error_of


def test_envelope_encryption_of_a_1_mib_file_kept_in_s3(overcast):
    kms, s3 = overcast.client("kms"), overcast.client("s3")
    key = kms.create_key(Description="backups")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/backups", TargetKeyId=key)
    document = os.urandom(1024 * 1024)
    with pytest.raises(ClientError) as raised:  # KMS itself encrypts at most 4 KiB
        kms.encrypt(KeyId="alias/backups", Plaintext=document)
    assert error_of(raised)[0] == "ValidationException"
    context = {"bucket": "backups", "object": "db.dump"}
    data_key = kms.generate_data_key(KeyId="alias/backups", KeySpec="AES_256", EncryptionContext=context)
    nonce = os.urandom(12)
    s3.create_bucket(Bucket="backups")
    s3.put_object(
        Bucket="backups",
        Key="db.dump",
        Body=nonce + AESGCM(data_key["Plaintext"]).encrypt(nonce, document, None),
        Metadata={"encrypted-key": base64.b64encode(data_key["CiphertextBlob"]).decode()},
    )
    stored = s3.get_object(Bucket="backups", Key="db.dump")
    encrypted_key = base64.b64decode(stored["Metadata"]["encrypted-key"])
    body = stored["Body"].read()
    plaintext_key = kms.decrypt(CiphertextBlob=encrypted_key, EncryptionContext=context)["Plaintext"]
    assert AESGCM(plaintext_key).decrypt(body[:12], body[12:], None) == document
    kms.disable_key(KeyId=key)
    with pytest.raises(ClientError) as raised:
        kms.decrypt(CiphertextBlob=encrypted_key, EncryptionContext=context)
    assert error_of(raised)[0] == "DisabledException"


def test_an_application_reads_its_configuration(overcast):
    ssm, sm = overcast.client("ssm"), overcast.client("secretsmanager")
    for stage in ("dev", "prod"):
        ssm.put_parameter(
            Name=f"/finance/app/{stage}/db-url", Value=f"db.{stage}.internal:5432", Type="String"
        )
        ssm.put_parameter(Name=f"/finance/app/{stage}/api-key", Value=f"{stage}-key", Type="SecureString")
    sm.create_secret(Name="finance/db", SecretString=json.dumps({"username": "app", "password": "pw"}))
    prod = ssm.get_parameters_by_path(Path="/finance/app/prod", WithDecryption=True)["Parameters"]
    assert {p["Name"].rsplit("/", 1)[1]: p["Value"] for p in prod} == {
        "api-key": "prod-key",
        "db-url": "db.prod.internal:5432",
    }
    both = ssm.get_parameters_by_path(Path="/finance/app", Recursive=True)["Parameters"]
    assert len(both) == 4
    via_ssm = ssm.get_parameter(Name="/aws/reference/secretsmanager/finance/db", WithDecryption=True)[
        "Parameter"
    ]
    assert json.loads(via_ssm["Value"])["password"] == "pw"
    ami = ssm.get_parameter(Name="/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64")
    assert ami["Parameter"]["Value"].startswith("ami-")


@pytest.mark.slow
def test_the_aws_cli(overcast, tmp_path):
    key = aws(overcast, "kms", "create-key", "--description", "cli")["KeyMetadata"]["KeyId"]
    (tmp_path / "plain.txt").write_bytes(b"from the command line")
    blob = aws(
        overcast, "kms", "encrypt", "--key-id", key, "--plaintext", f"fileb://{tmp_path / 'plain.txt'}"
    )
    (tmp_path / "blob").write_bytes(base64.b64decode(blob["CiphertextBlob"]))
    answer = aws(overcast, "kms", "decrypt", "--ciphertext-blob", f"fileb://{tmp_path / 'blob'}")
    assert base64.b64decode(answer["Plaintext"]) == b"from the command line"
    aws(overcast, "ssm", "put-parameter", "--name", "/cli/p", "--value", "v", "--type", "SecureString")
    got = aws(overcast, "ssm", "get-parameter", "--name", "/cli/p", "--with-decryption")
    assert got["Parameter"]["Value"] == "v"
    aws(overcast, "secretsmanager", "create-secret", "--name", "cli-secret", "--secret-string", "s")
    assert (
        aws(overcast, "secretsmanager", "get-secret-value", "--secret-id", "cli-secret")["SecretString"]
        == "s"
    )
