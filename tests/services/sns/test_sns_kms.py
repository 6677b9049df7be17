"""Topics encrypted with a KMS key: publishers go through KMS (GenerateDataKey and Decrypt, through SNS), as
with AWS's SNS."""

import pytest
from botocore.exceptions import ClientError

from tests.policy.servers import client_as, document, user_with_key


def _error(call) -> dict:
    with pytest.raises(ClientError) as raised:
        call()
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return raised.value.response["Error"]


def _topic(overcast, name: str, key_id: str) -> str:
    return overcast.client("sns").create_topic(Name=name, Attributes={"KmsMasterKeyId": key_id})["TopicArn"]


def test_a_disabled_key_stops_publishing_once_the_data_key_is_no_longer_reused(overcast):
    sns, kms = overcast.client("sns"), overcast.client("kms")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    topic = _topic(overcast, "sealed", key)
    sns.publish(TopicArn=topic, Message="first")
    kms.disable_key(KeyId=key)
    sns.publish(TopicArn=topic, Message="within five minutes")  # the data key is still good
    overcast.advance_clock(301)
    refused = _error(lambda: sns.publish(TopicArn=topic, Message="too late"))
    assert refused["Code"] == "KMSDisabled"
    assert refused["Message"].startswith(f"arn:aws:kms:us-east-1:000000000000:key/{key} is disabled.")
    assert "(Service: AWSKMS; Status Code: 400; Error Code: DisabledException;" in refused["Message"]
    batch = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[{"Id": "a", "Message": "x"}])
    assert [(f["Id"], f["Code"], f["SenderFault"]) for f in batch["Failed"]] == [("a", "KMSDisabled", True)]
    kms.enable_key(KeyId=key)
    assert sns.publish(TopicArn=topic, Message="again")["MessageId"]


def test_a_missing_key_is_refused_at_publish(overcast):
    sns = overcast.client("sns")
    topic = _topic(overcast, "unkeyed", "alias/no-such-key")
    assert _error(lambda: sns.publish(TopicArn=topic, Message="x"))["Code"] == "KMSNotFound"
    plain = sns.create_topic(Name="plain")["TopicArn"]
    assert sns.publish(TopicArn=plain, Message="x")["MessageId"]  # a topic without a key needs no KMS


def test_a_publisher_needs_generate_data_key_and_decrypt(enforced):
    key = enforced.client("kms").create_key()["KeyMetadata"]["Arn"]
    topic = _topic(enforced, "private", key)
    iam = enforced.client("iam")
    publish = {"Effect": "Allow", "Action": "sns:Publish", "Resource": "*"}
    publisher = user_with_key(enforced, "publisher")
    iam.put_user_policy(UserName="publisher", PolicyName="p", PolicyDocument=document(publish))
    as_publisher = client_as(enforced, "sns", publisher)
    denied = _error(lambda: as_publisher.publish(TopicArn=topic, Message="x"))
    assert denied["Code"] == "KMSAccessDenied"
    assert "kms:GenerateDataKey" in denied["Message"]
    generate = {"Effect": "Allow", "Action": "kms:GenerateDataKey", "Resource": key}
    iam.put_user_policy(UserName="publisher", PolicyName="p", PolicyDocument=document(publish, generate))
    denied = _error(lambda: as_publisher.publish(TopicArn=topic, Message="x"))
    assert denied["Code"] == "KMSAccessDenied"
    assert "kms:Decrypt" in denied["Message"]
    decrypt = {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key}
    iam.put_user_policy(
        UserName="publisher", PolicyName="p", PolicyDocument=document(publish, generate, decrypt)
    )
    assert as_publisher.publish(TopicArn=topic, Message="x")["MessageId"]
