"""Environment variables under a customer managed key (KMSKeyArn): sealed through KMS when set, decrypted when
an execution environment starts; KMS's refusals as Invoke's 502 KMS*Exception errors."""

import json

import pytest
from botocore.exceptions import ClientError

from tests.services.lambda_.conftest import zip_of

SHOWS_SECRET = """
import os
def handler(event, context):
    return os.environ["SECRET"]
"""


def test_a_function_reads_its_variables_until_the_key_is_disabled(
    lam, make_function, invoke_json, settled, overcast
):
    kms = overcast.client("kms")
    key = kms.create_key()["KeyMetadata"]["Arn"]
    created = make_function(
        "sealed", SHOWS_SECRET, KMSKeyArn=key, Environment={"Variables": {"SECRET": "s3cret"}}
    )
    assert created["KMSKeyArn"] == key
    settled("sealed")
    assert invoke_json("sealed")[1] == "s3cret"
    kms.disable_key(KeyId=key)
    lam.update_function_configuration(FunctionName="sealed", Description="a new environment")
    settled("sealed")
    with pytest.raises(ClientError) as raised:
        lam.invoke(FunctionName="sealed", Payload=b"{}")
    error = raised.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 502
    assert error["Error"]["Code"] == "KMSDisabledException"
    assert error["Error"]["Message"].startswith("Lambda was unable to decrypt the environment variables")
    kms.enable_key(KeyId=key)
    assert invoke_json("sealed")[1] == "s3cret"
    lam.update_function_configuration(FunctionName="sealed", KMSKeyArn="")
    settled("sealed")
    assert "KMSKeyArn" not in lam.get_function_configuration(FunctionName="sealed")


def test_a_key_that_cannot_be_used_is_refused_when_the_function_is_configured(lam, make_function):
    with pytest.raises(ClientError) as raised:
        make_function(
            "unsealed",
            SHOWS_SECRET,
            KMSKeyArn="arn:aws:kms:us-east-1:000000000000:key/00000000-0000-0000-0000-000000000000",
            Environment={"Variables": {"SECRET": "x"}},
        )
    error = raised.value.response["Error"]
    assert error["Code"] == "InvalidParameterValueException"
    assert "KMS Exception: NotFoundException" in error["Message"]
    with pytest.raises(ClientError):
        lam.get_function(FunctionName="unsealed")  # nothing was created


def test_the_execution_role_decrypts_the_variables(enforced):
    iam, lam = enforced.client("iam"), enforced.client("lambda")
    key = enforced.client("kms").create_key()["KeyMetadata"]["Arn"]
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    role = iam.create_role(RoleName="runner", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    lam.create_function(
        FunctionName="guarded",
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": zip_of({"app.py": SHOWS_SECRET})},
        KMSKeyArn=key,
        Environment={"Variables": {"SECRET": "s3cret"}},
    )
    with pytest.raises(ClientError) as raised:
        lam.invoke(FunctionName="guarded", Payload=b"{}")
    error = raised.value.response
    assert (error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Code"]) == (
        502,
        "KMSAccessDeniedException",
    )
    assert "KMS Exception: AccessDeniedExceptionKMS Message: " in error["Error"]["Message"]
    decrypt = {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key}
    iam.put_role_policy(
        RoleName="runner",
        PolicyName="decrypt",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [decrypt]}),
    )
    answer = lam.invoke(FunctionName="guarded", Payload=b"{}")
    assert json.loads(answer["Payload"].read()) == "s3cret"
