"""SQS queues through boto3: create, attributes, URLs, listing, tags, permissions, purge, delete."""

import json

import pytest
from botocore.exceptions import ClientError

from tests.helpers import code_of, error_of, message_of
from tests.policy.servers import client_as, document, user_with_key


@pytest.fixture
def sqs(overcast):
    return overcast.client("sqs")


def test_create_queue_has_aws_defaults(sqs):
    url = sqs.create_queue(QueueName="orders")["QueueUrl"]
    assert url.endswith("/000000000000/orders")
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["VisibilityTimeout"] == "30"
    assert attributes["DelaySeconds"] == "0"
    assert attributes["MessageRetentionPeriod"] == "345600"
    assert attributes["MaximumMessageSize"] == "1048576"
    assert attributes["ReceiveMessageWaitTimeSeconds"] == "0"
    assert attributes["SqsManagedSseEnabled"] == "true"
    assert attributes["QueueArn"] == "arn:aws:sqs:us-east-1:000000000000:orders"
    assert attributes["ApproximateNumberOfMessages"] == "0"
    assert "FifoQueue" not in attributes


def test_create_queue_is_idempotent_with_same_attributes(sqs):
    first = sqs.create_queue(QueueName="same", Attributes={"VisibilityTimeout": "60"})["QueueUrl"]
    assert sqs.create_queue(QueueName="same", Attributes={"VisibilityTimeout": "60"})["QueueUrl"] == first
    with pytest.raises(ClientError) as raised:
        sqs.create_queue(QueueName="same", Attributes={"VisibilityTimeout": "61"})
    assert raised.value.response["Error"]["Code"] in ("QueueAlreadyExists", "QueueNameExists")


@pytest.mark.parametrize(
    "name, value",
    [
        ("VisibilityTimeout", "43201"),
        ("DelaySeconds", "901"),
        ("MessageRetentionPeriod", "59"),
        ("MessageRetentionPeriod", "1209601"),
        ("MaximumMessageSize", "1023"),
        ("MaximumMessageSize", "1048577"),
        ("ReceiveMessageWaitTimeSeconds", "21"),
        ("VisibilityTimeout", "abc"),
        ("Policy", "[]"),
        ("RedriveAllowPolicy", json.dumps({"redrivePermission": "byQueue", "sourceQueueArns": "arn"})),
        ("RedriveAllowPolicy", json.dumps({"redrivePermission": "byQueue", "sourceQueueArns": [1]})),
        ("RedriveAllowPolicy", json.dumps({"redrivePermission": "allowSome"})),
    ],
)
def test_attribute_ranges_are_enforced(sqs, name, value):
    with pytest.raises(ClientError) as raised:
        sqs.create_queue(QueueName="bad", Attributes={name: value})
    assert code_of(raised) == "InvalidAttributeValue"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_unknown_and_fifo_only_attributes_are_refused_on_standard_queues(sqs):
    with pytest.raises(ClientError) as raised:
        sqs.create_queue(QueueName="std", Attributes={"ContentBasedDeduplication": "true"})
    assert code_of(raised) == "InvalidAttributeName"
    url = sqs.create_queue(QueueName="std")["QueueUrl"]
    with pytest.raises(ClientError) as raised:
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["NoSuchAttribute"])
    assert code_of(raised) == "InvalidAttributeName"


def test_invalid_queue_names(sqs):
    for name in ("has space", "x" * 81, "dot.name"):
        with pytest.raises(ClientError) as raised:
            sqs.create_queue(QueueName=name)
        assert code_of(raised) == "InvalidParameterValue"
    with pytest.raises(ClientError):
        sqs.create_queue(QueueName="needs-attribute.fifo")


def test_fifo_queue_defaults(sqs):
    url = sqs.create_queue(QueueName="jobs.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["FifoQueue"] == "true"
    assert attributes["ContentBasedDeduplication"] == "false"
    assert attributes["DeduplicationScope"] == "queue"
    assert attributes["FifoThroughputLimit"] == "perQueue"


def test_set_and_get_selected_attributes(sqs):
    url = sqs.create_queue(QueueName="tune")["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "5", "DelaySeconds": "10"})
    got = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout", "DelaySeconds"])
    assert got["Attributes"] == {"VisibilityTimeout": "5", "DelaySeconds": "10"}


def test_kms_and_sqs_managed_encryption_are_exclusive(sqs):
    url = sqs.create_queue(QueueName="enc", Attributes={"KmsMasterKeyId": "alias/aws/sqs"})["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["KmsMasterKeyId"] == "alias/aws/sqs"
    assert attributes["KmsDataKeyReusePeriodSeconds"] == "300"
    assert attributes["SqsManagedSseEnabled"] == "false"


def test_queue_url_forms_all_resolve(sqs, overcast):
    sqs.create_queue(QueueName="forms")
    for url in (
        "http://sqs.us-east-1.localhost.localstack.cloud:4566/000000000000/forms",
        "http://localhost:4566/000000000000/forms",
        "https://sqs.us-east-1.amazonaws.com/000000000000/forms",
    ):
        sqs.send_message(QueueUrl=url, MessageBody="hi")
    got = sqs.get_queue_attributes(
        QueueUrl="http://localhost:4566/000000000000/forms", AttributeNames=["ApproximateNumberOfMessages"]
    )
    assert got["Attributes"]["ApproximateNumberOfMessages"] == "3"


def test_returned_url_uses_request_host(sqs, overcast):
    url = sqs.get_queue_url(QueueName=sqs.create_queue(QueueName="hosted")["QueueUrl"].rsplit("/", 1)[1])[
        "QueueUrl"
    ]
    assert url == f"{overcast.endpoint}/000000000000/hosted"


def test_get_queue_url_and_missing_queue(sqs):
    sqs.create_queue(QueueName="present")
    assert sqs.get_queue_url(QueueName="present", QueueOwnerAWSAccountId="000000000000")["QueueUrl"].endswith(
        "/present"
    )
    with pytest.raises(ClientError) as raised:
        sqs.get_queue_url(QueueName="absent")
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "NonExistentQueue" in code_of(raised) or code_of(raised) == "QueueDoesNotExist"
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName="absent")


def test_list_queues_prefix_and_pagination(sqs):
    for name in ("app-a", "app-b", "app-c", "other"):
        sqs.create_queue(QueueName=name)
    assert len(sqs.list_queues()["QueueUrls"]) == 4
    assert [u.rsplit("/", 1)[1] for u in sqs.list_queues(QueueNamePrefix="app-")["QueueUrls"]] == [
        "app-a",
        "app-b",
        "app-c",
    ]
    first = sqs.list_queues(QueueNamePrefix="app-", MaxResults=2)
    assert len(first["QueueUrls"]) == 2 and first["NextToken"]
    second = sqs.list_queues(QueueNamePrefix="app-", MaxResults=2, NextToken=first["NextToken"])
    assert [u.rsplit("/", 1)[1] for u in second["QueueUrls"]] == ["app-c"]
    assert "NextToken" not in second
    assert "QueueUrls" not in sqs.list_queues(QueueNamePrefix="none")
    for token in ("not-a-token", first["NextToken"][:-2]):
        with pytest.raises(ClientError) as raised:
            sqs.list_queues(MaxResults=2, NextToken=token)
        assert error_of(raised) == ("InvalidParameterValue", 400)
        assert message_of(raised) == "Invalid NextToken value."


def test_queues_are_scoped_by_region_and_account(overcast):
    east = overcast.client("sqs")
    west = overcast.client("sqs", region="eu-west-1")
    other = overcast.client("sqs", aws_access_key_id="111111111111", aws_secret_access_key="x")
    east.create_queue(QueueName="scoped")
    assert "QueueUrls" not in west.list_queues()
    assert "QueueUrls" not in other.list_queues()


def test_tags(sqs):
    url = sqs.create_queue(QueueName="tagged", tags={"team": "a"})["QueueUrl"]
    sqs.tag_queue(QueueUrl=url, Tags={"env": "dev"})
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "a", "env": "dev"}
    sqs.untag_queue(QueueUrl=url, TagKeys=["team"])
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"env": "dev"}


def test_tag_limits(sqs):
    many = {f"k{i}": "v" for i in range(51)}
    with pytest.raises(ClientError) as raised:
        sqs.create_queue(QueueName="crowded", tags=many)
    assert error_of(raised) == ("InvalidParameterValue", 400)
    assert message_of(raised) == "Too many tags added for queue. The maximum is 50."
    url = sqs.create_queue(QueueName="crowded", tags={f"k{i}": "v" for i in range(50)})["QueueUrl"]
    with pytest.raises(ClientError) as raised:
        sqs.tag_queue(QueueUrl=url, Tags={"one-more": "v"})
    assert message_of(raised) == "Too many tags added for queue. The maximum is 50."
    sqs.tag_queue(QueueUrl=url, Tags={"k0": "replaced"})  # overwriting a key adds none
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"]["k0"] == "replaced"


def test_add_and_remove_permission_edit_the_policy(sqs):
    url = sqs.create_queue(QueueName="shared")["QueueUrl"]
    sqs.add_permission(QueueUrl=url, Label="let-b", AWSAccountIds=["222222222222"], Actions=["SendMessage"])
    policy = json.loads(
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"]
    )
    assert policy["Statement"][0]["Sid"] == "let-b"
    assert policy["Statement"][0]["Action"] == "SQS:SendMessage"
    sqs.remove_permission(QueueUrl=url, Label="let-b")
    assert "Attributes" not in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])


def test_purge_once_per_minute(sqs, overcast):
    url = sqs.create_queue(QueueName="purged")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x")
    sqs.purge_queue(QueueUrl=url)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    with pytest.raises(ClientError) as raised:
        sqs.purge_queue(QueueUrl=url)
    assert code_of(raised) == "AWS.SimpleQueueService.PurgeQueueInProgress"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    overcast.advance_clock("61s")
    sqs.purge_queue(QueueUrl=url)


def test_delete_queue_then_recreate_after_60_seconds(sqs, overcast):
    url = sqs.create_queue(QueueName="gone", tags={"old": "yes"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x")
    sqs.delete_queue(QueueUrl=url)
    with pytest.raises(ClientError):
        sqs.send_message(QueueUrl=url, MessageBody="x")
    with pytest.raises(ClientError) as raised:
        sqs.create_queue(QueueName="gone")
    assert "QueueDeletedRecently" in code_of(raised)
    overcast.advance_clock("61s")
    url = sqs.create_queue(QueueName="gone")["QueueUrl"]
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    assert "Tags" not in sqs.list_queue_tags(QueueUrl=url)  # the deleted queue's tags went with it


def test_redrive_policy_needs_an_existing_dlq_of_the_same_type(sqs):
    with pytest.raises(ClientError) as raised:
        sqs.create_queue(
            QueueName="src",
            Attributes={
                "RedrivePolicy": json.dumps(
                    {"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:nope", "maxReceiveCount": 3}
                )
            },
        )
    assert code_of(raised) == "InvalidParameterValue"
    sqs.create_queue(QueueName="dlq.fifo", Attributes={"FifoQueue": "true"})
    with pytest.raises(ClientError):
        sqs.create_queue(
            QueueName="src",
            Attributes={
                "RedrivePolicy": json.dumps(
                    {
                        "deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:dlq.fifo",
                        "maxReceiveCount": 3,
                    }
                )
            },
        )
    sqs.create_queue(QueueName="dlq")
    with pytest.raises(ClientError):
        sqs.create_queue(
            QueueName="src",
            Attributes={
                "RedrivePolicy": json.dumps(
                    {"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:dlq", "maxReceiveCount": 1001}
                )
            },
        )


def test_list_dead_letter_source_queues(sqs):
    dlq = sqs.create_queue(QueueName="dead")["QueueUrl"]
    arn = "arn:aws:sqs:us-east-1:000000000000:dead"
    for name in ("s1", "s2"):
        sqs.create_queue(
            QueueName=name,
            Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": "2"})},
        )
    sqs.create_queue(QueueName="unrelated")
    urls = sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"]
    assert [u.rsplit("/", 1)[1] for u in urls] == ["s1", "s2"]
    sqs.set_queue_attributes(
        QueueUrl=sqs.get_queue_url(QueueName="s1")["QueueUrl"], Attributes={"RedrivePolicy": ""}
    )
    assert len(sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"]) == 1


def test_per_message_group_throughput_needs_message_group_deduplication(sqs):
    fifo = {"FifoQueue": "true"}
    with pytest.raises(ClientError) as raised:
        sqs.create_queue(
            QueueName="fast.fifo", Attributes={**fifo, "FifoThroughputLimit": "perMessageGroupId"}
        )
    assert code_of(raised) == "InvalidAttributeValue"
    assert "DeduplicationScope" in raised.value.response["Error"]["Message"]
    url = sqs.create_queue(
        QueueName="fast.fifo",
        Attributes={**fifo, "FifoThroughputLimit": "perMessageGroupId", "DeduplicationScope": "messageGroup"},
    )["QueueUrl"]
    with pytest.raises(ClientError) as raised:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"DeduplicationScope": "queue"})
    assert code_of(raised) == "InvalidAttributeValue"
    sqs.set_queue_attributes(
        QueueUrl=url, Attributes={"DeduplicationScope": "queue", "FifoThroughputLimit": "perQueue"}
    )
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (attributes["DeduplicationScope"], attributes["FifoThroughputLimit"]) == ("queue", "perQueue")


def test_queue_tags_are_resource_tags_under_enforce(enforced):
    sqs = enforced.client("sqs")
    tagged = sqs.create_queue(QueueName="tagged", tags={"team": "red"})["QueueUrl"]
    untagged = sqs.create_queue(QueueName="untagged")["QueueUrl"]
    key = user_with_key(enforced, "red")
    enforced.client("iam").put_user_policy(
        UserName="red",
        PolicyName="red-queues",
        PolicyDocument=document(
            {
                "Effect": "Allow",
                "Action": "sqs:SendMessage",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:ResourceTag/team": "red"}},
            }
        ),
    )
    red = client_as(enforced, "sqs", key)
    red.send_message(QueueUrl=tagged, MessageBody="allowed")
    with pytest.raises(ClientError) as raised:
        red.send_message(QueueUrl=untagged, MessageBody="refused")
    assert code_of(raised) == "AccessDenied"
    sqs.untag_queue(QueueUrl=tagged, TagKeys=["team"])
    with pytest.raises(ClientError) as raised:
        red.send_message(QueueUrl=tagged, MessageBody="refused")
    assert code_of(raised) == "AccessDenied"
