"""SSE-KMS objects are read and written through KMS as the caller (issue 19's acceptance): a user denied
kms:Decrypt on the bucket's key cannot read, even with s3:GetObject; a disabled key stops reads and writes;
re-enabling it restores them."""

import pytest
from botocore.exceptions import ClientError

from tests.policy.servers import client_as, document, user_with_key


def _error(call) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as raised:
        call()
    response = raised.value.response
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Message"],
    )


def test_reading_needs_decrypt_on_the_key_and_an_enabled_key(enforced):
    kms, s3, iam = enforced.client("kms"), enforced.client("s3"), enforced.client("iam")
    key = kms.create_key(Description="bucket key")["KeyMetadata"]["Arn"]
    s3.create_bucket(Bucket="vault")
    s3.put_bucket_encryption(
        Bucket="vault",
        ServerSideEncryptionConfiguration={
            "Rules": [
                {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}}
            ]
        },
    )
    s3_all = {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}
    writer = user_with_key(enforced, "writer")
    iam.put_user_policy(
        UserName="writer",
        PolicyName="p",
        PolicyDocument=document(
            s3_all, {"Effect": "Allow", "Action": "kms:GenerateDataKey", "Resource": key}
        ),
    )
    reader = user_with_key(enforced, "reader")
    iam.put_user_policy(UserName="reader", PolicyName="p", PolicyDocument=document(s3_all))
    as_writer, as_reader = client_as(enforced, "s3", writer), client_as(enforced, "s3", reader)

    put = as_writer.put_object(Bucket="vault", Key="plans.txt", Body=b"the plans")
    assert (put["ServerSideEncryption"], put["SSEKMSKeyId"]) == ("aws:kms", key)
    code, status, message = _error(lambda: as_reader.get_object(Bucket="vault", Key="plans.txt"))
    assert (code, status) == ("AccessDenied", 403)
    assert "kms:Decrypt" in message
    assert (
        as_reader.head_object(Bucket="vault", Key="plans.txt")["SSEKMSKeyId"] == key
    )  # metadata needs no key
    code, status, _ = _error(lambda: as_reader.put_object(Bucket="vault", Key="mine.txt", Body=b"x"))
    assert (code, status) == ("AccessDenied", 403)

    iam.put_user_policy(
        UserName="reader",
        PolicyName="p",
        PolicyDocument=document(s3_all, {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key}),
    )
    assert as_reader.get_object(Bucket="vault", Key="plans.txt")["Body"].read() == b"the plans"

    kms.disable_key(KeyId=key)
    code, status, _ = _error(lambda: as_reader.get_object(Bucket="vault", Key="plans.txt"))
    assert (code, status) == ("KMS.DisabledException", 400)
    code, status, _ = _error(lambda: as_writer.put_object(Bucket="vault", Key="more.txt", Body=b"x"))
    assert (code, status) == ("KMS.DisabledException", 400)
    kms.enable_key(KeyId=key)
    assert as_reader.get_object(Bucket="vault", Key="plans.txt")["Body"].read() == b"the plans"


def test_a_missing_key_is_refused_with_s3s_words(overcast):
    s3 = overcast.client("s3")
    s3.create_bucket(Bucket="nokey")
    code, status, message = _error(
        lambda: s3.put_object(
            Bucket="nokey",
            Key="k",
            Body=b"x",
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId="alias/nothing-here",
        )
    )
    assert (code, status, message) == ("KMS.NotFoundException", 400, "Invalid keyId alias/nothing-here")
