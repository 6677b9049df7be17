"""kms/api.py, the road other services take to KMS (S3 SSE-KMS, SQS/SNS SSE, Lambda environments, ...): data
keys made and decrypted as the caller through a service, with the key's state, key policy and IAM deciding."""

import asyncio

import pytest

from overcast.errors import ServiceError
from overcast.services.kms import api as kms_api
from tests.policy.servers import document, user_with_key

ACCOUNT = "000000000000"


def on_server(server, function, *args, **kwargs):
    """Run `function` on the server's event loop, as a service's operation would."""

    async def run():
        result = function(*args, **kwargs)
        return await result if asyncio.iscoroutine(result) else result

    return asyncio.run_coroutine_threadsafe(run(), server._server.loop).result(timeout=30)


def principal_of(server, name, *actions):
    key = user_with_key(server, name)
    if actions:
        server.client("iam").put_user_policy(
            UserName=name,
            PolicyName="p",
            PolicyDocument=document({"Effect": "Allow", "Action": list(actions), "Resource": "*"}),
        )
    return server.platform.credentials.lookup(key["AccessKeyId"]).principal


def test_aws_managed_key_through_its_service_only(enforced):
    platform = enforced.platform
    user = principal_of(enforced, "s3user", "s3:*")
    context = {"aws:s3:arn": "arn:aws:s3:::bucket/key"}
    data_key = on_server(
        enforced,
        kms_api.generate_data_key,
        platform,
        user,
        ACCOUNT,
        "us-east-1",
        "alias/aws/s3",
        context,
        via="s3",
    )
    assert len(data_key.plaintext) == 32 and ":key/" in data_key.key_arn
    plaintext = on_server(
        enforced,
        kms_api.decrypt,
        platform,
        user,
        ACCOUNT,
        "us-east-1",
        data_key.ciphertext,
        context,
        via="s3",
    )
    assert plaintext == data_key.plaintext
    with pytest.raises(ServiceError) as raised:  # the key of S3, asked for through SQS
        on_server(
            enforced,
            kms_api.decrypt,
            platform,
            user,
            ACCOUNT,
            "us-east-1",
            data_key.ciphertext,
            context,
            via="sqs",
        )
    assert raised.value.code == "AccessDeniedException"
    info = on_server(
        enforced, kms_api.describe_key, platform, user, ACCOUNT, "us-east-1", "alias/aws/s3", via="s3"
    )
    assert info.manager == "AWS" and info.arn == data_key.key_arn


def test_customer_key_needs_the_callers_kms_permissions_and_an_enabled_key(enforced):
    platform = enforced.platform
    admin = enforced.client("kms")
    key = admin.create_key()["KeyMetadata"]["Arn"]
    context = {"aws:sqs:arn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:q"}
    without = principal_of(enforced, "plain", "sqs:*")
    with pytest.raises(ServiceError) as raised:
        on_server(
            enforced,
            kms_api.generate_data_key,
            platform,
            without,
            ACCOUNT,
            "us-east-1",
            key,
            context,
            via="sqs",
        )
    assert raised.value.code == "AccessDeniedException"
    assert "kms:GenerateDataKey" in raised.value.message
    user = principal_of(enforced, "kmsuser", "sqs:*", "kms:GenerateDataKey", "kms:Decrypt")
    data_key = on_server(
        enforced,
        kms_api.generate_data_key_async,
        platform,
        user,
        ACCOUNT,
        "us-east-1",
        key,
        context,
        via="sqs",
    )
    assert (
        on_server(
            enforced,
            kms_api.decrypt_async,
            platform,
            user,
            ACCOUNT,
            "us-east-1",
            data_key.ciphertext,
            context,
            via="sqs",
        )
        == data_key.plaintext
    )
    with pytest.raises(ServiceError) as raised:
        on_server(
            enforced,
            kms_api.decrypt,
            platform,
            user,
            ACCOUNT,
            "us-east-1",
            data_key.ciphertext,
            {"other": "x"},
            via="sqs",
        )
    assert raised.value.code == "InvalidCiphertextException"
    admin.disable_key(KeyId=key)
    with pytest.raises(ServiceError) as raised:
        on_server(
            enforced,
            kms_api.decrypt,
            platform,
            user,
            ACCOUNT,
            "us-east-1",
            data_key.ciphertext,
            context,
            via="sqs",
        )
    assert raised.value.code == "DisabledException"
    admin.enable_key(KeyId=key)
    assert (
        on_server(
            enforced,
            kms_api.decrypt,
            platform,
            user,
            ACCOUNT,
            "us-east-1",
            data_key.ciphertext,
            context,
            via="sqs",
        )
        == data_key.plaintext
    )


def test_references_for_cloudformation(overcast):
    from overcast.services.secretsmanager import api as secrets_api
    from overcast.services.ssm import api as ssm_api

    platform = overcast.platform
    root = platform.credentials.root.principal
    ssm = overcast.client("ssm")
    ssm.put_parameter(Name="/app/url", Value="v1", Type="String")
    ssm.put_parameter(Name="/app/url", Value="v2", Type="String", Overwrite=True)
    ssm.put_parameter(Name="/app/secret", Value="s", Type="SecureString")
    assert (
        on_server(overcast, ssm_api.parameter_value, platform, root, ACCOUNT, "us-east-1", "/app/url") == "v2"
    )
    assert (
        on_server(overcast, ssm_api.parameter_value, platform, root, ACCOUNT, "us-east-1", "/app/url:1")
        == "v1"
    )
    secure = on_server(
        overcast, ssm_api.parameter_value, platform, root, ACCOUNT, "us-east-1", "/app/secret", decrypt=True
    )
    assert secure == "s"
    sm = overcast.client("secretsmanager")
    arn = sm.create_secret(Name="db", SecretString='{"username": "app", "port": 5432}')["ARN"]
    resolve = secrets_api.resolve_reference
    assert (
        on_server(overcast, resolve, platform, root, ACCOUNT, "us-east-1", "db:SecretString:username")
        == "app"
    )
    assert (
        on_server(overcast, resolve, platform, root, ACCOUNT, "us-east-1", f"{arn}:SecretString:port")
        == "5432"
    )
    assert on_server(overcast, resolve, platform, root, ACCOUNT, "us-east-1", "db").startswith("{")
    with pytest.raises(ServiceError) as raised:
        on_server(overcast, resolve, platform, root, ACCOUNT, "us-east-1", "db:SecretString:missing")
    assert raised.value.code == "ValidationError"
