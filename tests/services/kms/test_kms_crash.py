"""kill -9 of a real server right after KMS, Secrets Manager and Parameter Store writes were acknowledged: after
a restart on the same data directory every key still decrypts what it encrypted, every secret and SecureString
reads back, and a scheduled deletion still happens on the clock."""

import signal

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of
from tests.server_process import ServerProcess
from tests.waiting import wait_for

pytestmark = pytest.mark.slow


def test_everything_acknowledged_survives_kill_9(tmp_path):
    server = ServerProcess(tmp_path)
    try:
        kms = server.client("kms")
        key = kms.create_key()["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName="alias/crash", TargetKeyId=key)
        before = kms.encrypt(KeyId="alias/crash", Plaintext=b"before rotation")["CiphertextBlob"]
        kms.rotate_key_on_demand(KeyId=key)
        after = kms.encrypt(KeyId=key, Plaintext=b"after rotation")["CiphertextBlob"]
        doomed = kms.create_key()["KeyMetadata"]["KeyId"]
        kms.schedule_key_deletion(KeyId=doomed, PendingWindowInDays=7)
        server.client("secretsmanager").create_secret(Name="crash/db", SecretString="p@ss")
        server.client("ssm").put_parameter(Name="/crash/token", Value="t0k", Type="SecureString", KeyId=key)
    finally:
        server.stop(signal.SIGKILL)
    server = ServerProcess(tmp_path)
    try:
        kms = server.client("kms")
        assert kms.decrypt(CiphertextBlob=before)["Plaintext"] == b"before rotation"
        assert kms.decrypt(CiphertextBlob=after)["Plaintext"] == b"after rotation"
        assert server.client("secretsmanager").get_secret_value(SecretId="crash/db")["SecretString"] == "p@ss"
        parameter = server.client("ssm").get_parameter(Name="/crash/token", WithDecryption=True)["Parameter"]
        assert parameter["Value"] == "t0k"
        server.cli("clock", "advance", "8d")

        def deleted():
            try:
                kms.describe_key(KeyId=doomed)
            except ClientError as error:
                return error_of(error)[0] == "NotFoundException"
            return False

        wait_for(deleted)
    finally:
        server.stop()
