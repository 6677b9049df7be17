"""Streams encrypted with a KMS key: StartStreamEncryption checks the key, producers and consumers go through
KMS (GenerateDataKey, Decrypt), as with AWS's Kinesis."""

import pytest
from botocore.exceptions import ClientError

from tests.policy.servers import client_as, document, user_with_key


def _error(call) -> dict:
    with pytest.raises(ClientError) as raised:
        call()
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return raised.value.response["Error"]


def test_a_disabled_key_stops_puts_once_the_data_key_is_renewed(overcast, kinesis):
    kms = overcast.client("kms")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    kinesis.create_stream(StreamName="sealed", ShardCount=1)
    kinesis.start_stream_encryption(StreamName="sealed", EncryptionType="KMS", KeyId=key)
    assert kinesis.put_record(StreamName="sealed", Data=b"1", PartitionKey="k")["EncryptionType"] == "KMS"
    kms.disable_key(KeyId=key)
    kinesis.put_record(StreamName="sealed", Data=b"2", PartitionKey="k")  # within the data key's five minutes
    overcast.advance_clock(301)
    refused = _error(lambda: kinesis.put_record(StreamName="sealed", Data=b"3", PartitionKey="k"))
    assert refused["Code"] == "KMSDisabledException"
    assert refused["Message"].startswith(f"arn:aws:kms:us-east-1:000000000000:key/{key} is disabled.")
    records = [{"Data": b"4", "PartitionKey": "k"}]
    assert _error(lambda: kinesis.put_records(StreamName="sealed", Records=records))["Code"] == (
        "KMSDisabledException"
    )
    kms.enable_key(KeyId=key)
    kinesis.put_record(StreamName="sealed", Data=b"5", PartitionKey="k")


def test_a_missing_key_is_refused_when_encryption_starts(kinesis):
    kinesis.create_stream(StreamName="unkeyed", ShardCount=1)
    refused = _error(
        lambda: kinesis.start_stream_encryption(
            StreamName="unkeyed", EncryptionType="KMS", KeyId="alias/no-such-key"
        )
    )
    assert refused["Code"] == "KMSNotFoundException"
    assert (
        kinesis.describe_stream_summary(StreamName="unkeyed")["StreamDescriptionSummary"]["EncryptionType"]
        == "NONE"
    )


def test_a_consumer_needs_decrypt_on_the_stream_key(enforced):
    key = enforced.client("kms").create_key()["KeyMetadata"]["Arn"]
    admin = enforced.client("kinesis")
    admin.create_stream(StreamName="private", ShardCount=1)
    admin.start_stream_encryption(StreamName="private", EncryptionType="KMS", KeyId=key)
    admin.put_record(StreamName="private", Data=b"secret", PartitionKey="k")
    iam = enforced.client("iam")
    kinesis_all = {"Effect": "Allow", "Action": "kinesis:*", "Resource": "*"}
    reader = user_with_key(enforced, "reader")
    iam.put_user_policy(UserName="reader", PolicyName="p", PolicyDocument=document(kinesis_all))
    as_reader = client_as(enforced, "kinesis", reader)
    shard = as_reader.list_shards(StreamName="private")["Shards"][0]["ShardId"]
    iterator = as_reader.get_shard_iterator(
        StreamName="private", ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    denied = _error(lambda: as_reader.get_records(ShardIterator=iterator))
    assert denied["Code"] == "KMSAccessDeniedException"
    assert "kms:Decrypt" in denied["Message"]
    assert _error(lambda: as_reader.put_record(StreamName="private", Data=b"x", PartitionKey="k"))[
        "Code"
    ] == ("KMSAccessDeniedException")
    iam.put_user_policy(
        UserName="reader",
        PolicyName="p",
        PolicyDocument=document(kinesis_all, {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key}),
    )
    assert [r["Data"] for r in as_reader.get_records(ShardIterator=iterator)["Records"]] == [b"secret"]
