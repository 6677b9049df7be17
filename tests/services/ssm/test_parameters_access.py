"""Under --iam enforce: a SecureString's value needs kms:Decrypt on its key (a customer key), but reading it
without decryption does not; the AWS managed key aws/ssm works through Parameter Store alone."""

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of, message_of
from tests.policy.servers import client_as, document, user_with_key


def _ssm(enforced, name, *actions):
    credentials = user_with_key(enforced, name)
    enforced.client("iam").put_user_policy(
        UserName=name,
        PolicyName="p",
        PolicyDocument=document({"Effect": "Allow", "Action": list(actions), "Resource": "*"}),
    )
    return client_as(enforced, "ssm", credentials)


def test_secure_string_under_a_customer_key_needs_kms_decrypt(enforced):
    key = enforced.client("kms").create_key()["KeyMetadata"]["Arn"]
    admin = enforced.client("ssm")
    admin.put_parameter(Name="/prod/db/password", Value="s3cret", Type="SecureString", KeyId=key)
    reader = _ssm(enforced, "app", "ssm:GetParameter")
    assert reader.get_parameter(Name="/prod/db/password")["Parameter"]["Type"] == "SecureString"
    with pytest.raises(ClientError) as raised:
        reader.get_parameter(Name="/prod/db/password", WithDecryption=True)
    assert error_of(raised)[0] == "AccessDeniedException"
    assert f"kms:Decrypt on resource: {key}" in message_of(raised)
    decrypter = _ssm(enforced, "app2", "ssm:GetParameter", "kms:Decrypt")
    assert (
        decrypter.get_parameter(Name="/prod/db/password", WithDecryption=True)["Parameter"]["Value"]
        == "s3cret"
    )


def test_the_aws_managed_key_works_through_parameter_store(enforced):
    enforced.client("ssm").put_parameter(Name="/dev/token", Value="t", Type="SecureString")
    reader = _ssm(enforced, "dev", "ssm:GetParameter")
    assert reader.get_parameter(Name="/dev/token", WithDecryption=True)["Parameter"]["Value"] == "t"
    with pytest.raises(ClientError) as raised:
        reader.get_parameters_by_path(Path="/dev")
    assert error_of(raised) == ("AccessDeniedException", 400)
