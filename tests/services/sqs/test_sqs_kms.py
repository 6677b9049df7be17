"""Queues encrypted with a KMS key: senders and receivers go through KMS, as with AWS's SQS."""

import pytest
from botocore.exceptions import ClientError

from tests.policy.servers import client_as, document, user_with_key


def _error(call) -> dict:
    """The error a call fails with, as botocore reports it (SQS's query code, KMS's message)."""
    with pytest.raises(ClientError) as raised:
        call()
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return raised.value.response["Error"]


def _code(call) -> str:
    return _error(call)["Code"]


def _kms_queue(overcast, name: str, key_id: str, reuse: int = 300) -> str:
    return overcast.client("sqs").create_queue(
        QueueName=name,
        Attributes={"KmsMasterKeyId": key_id, "KmsDataKeyReusePeriodSeconds": str(reuse)},
    )["QueueUrl"]


def test_a_disabled_key_stops_sends_once_the_data_key_reuse_period_ends(overcast):
    sqs, kms = overcast.client("sqs"), overcast.client("kms")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    url = _kms_queue(overcast, "sealed", key, reuse=60)
    sqs.send_message(QueueUrl=url, MessageBody="first")
    kms.disable_key(KeyId=key)
    sqs.send_message(QueueUrl=url, MessageBody="within the reuse period")  # the data key is still good
    overcast.advance_clock(61)
    refused = _error(lambda: sqs.send_message(QueueUrl=url, MessageBody="too late"))
    assert refused["Code"] == "KMS.DisabledException"
    assert refused["Message"].startswith(f"arn:aws:kms:us-east-1:000000000000:key/{key} is disabled.")
    assert "(Service: AWSKMS; Status Code: 400; Error Code: DisabledException;" in refused["Message"]
    kms.enable_key(KeyId=key)
    sqs.send_message(QueueUrl=url, MessageBody="again")
    bodies = [m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]]
    assert sorted(bodies) == ["again", "first", "within the reuse period"]


def test_a_missing_key_is_refused_at_send_not_at_creation(overcast):
    """(On a fresh server this is also KMS's first use, inside SQS's failing transaction: KMS must still work
    afterwards, its tables made again with the provider.)"""
    sqs = overcast.client("sqs")
    url = _kms_queue(overcast, "unkeyed", "alias/no-such-key")
    assert _code(lambda: sqs.send_message(QueueUrl=url, MessageBody="x")) == "KMS.NotFoundException"
    assert (
        _code(lambda: sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "x"}]))
        == "KMS.NotFoundException"
    )


def test_a_receiver_needs_decrypt_on_the_queue_key(enforced):
    kms = enforced.client("kms")
    key = kms.create_key()["KeyMetadata"]["Arn"]
    url = _kms_queue(enforced, "private", key)
    iam = enforced.client("iam")
    sqs_all = {"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}
    writer = user_with_key(enforced, "writer")
    iam.put_user_policy(
        UserName="writer",
        PolicyName="p",
        PolicyDocument=document(
            sqs_all, {"Effect": "Allow", "Action": "kms:GenerateDataKey", "Resource": key}
        ),
    )
    reader = user_with_key(enforced, "reader")
    iam.put_user_policy(UserName="reader", PolicyName="p", PolicyDocument=document(sqs_all))
    client_as(enforced, "sqs", writer).send_message(QueueUrl=url, MessageBody="secret")
    as_reader = client_as(enforced, "sqs", reader)
    denied = _error(lambda: as_reader.receive_message(QueueUrl=url))
    assert denied["Code"] == "KMS.AccessDeniedException"
    assert "kms:Decrypt" in denied["Message"]
    assert _code(lambda: as_reader.send_message(QueueUrl=url, MessageBody="x")) == "KMS.AccessDeniedException"
    iam.put_user_policy(
        UserName="reader",
        PolicyName="p",
        PolicyDocument=document(sqs_all, {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key}),
    )
    received = as_reader.receive_message(QueueUrl=url)["Messages"]  # the denied receive left the message
    assert [m["Body"] for m in received] == ["secret"]


def test_kms_works_after_a_send_that_failed_on_it(overcast):
    sqs, kms = overcast.client("sqs"), overcast.client("kms")
    url = _kms_queue(overcast, "unkeyed-too", "alias/still-no-such-key")
    _error(lambda: sqs.send_message(QueueUrl=url, MessageBody="x"))
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    assert key in {k["KeyId"] for k in kms.list_keys()["Keys"]}
