"""Story: uploads to a bucket land as events in an SQS queue, with IAM enforced. S3 sends as the
s3.amazonaws.com service principal, so the queue's access policy must let it: without one, configuring the
notification fails (S3's test event cannot be delivered); with the documented policy (SendMessage for
s3.amazonaws.com, conditioned on aws:SourceArn and aws:SourceAccount), it succeeds and every upload under
the suffix filter arrives in the real event format."""

import json
import time

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of


def _receive(sqs, url, wanted):
    bodies = []
    deadline = time.monotonic() + 30  # long polls, until the events are in or a busy machine's deadline
    while time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in messages.get("Messages", []):
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        if len(bodies) >= wanted:
            break
    return bodies


def test_event_notification_into_a_queue_with_its_access_policy(enforced):
    s3, sqs = enforced.client("s3"), enforced.client("sqs")
    s3.create_bucket(Bucket="photo-uploads")
    url = sqs.create_queue(QueueName="photo-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    notification = {
        "QueueConfigurations": [
            {
                "Id": "new-photos",
                "QueueArn": arn,
                "Events": ["s3:ObjectCreated:*"],
                "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": ".jpg"}]}},
            }
        ]
    }
    with pytest.raises(ClientError) as raised:  # the queue does not let S3 send yet
        s3.put_bucket_notification_configuration(
            Bucket="photo-uploads", NotificationConfiguration=notification
        )
    assert error_of(raised) == ("InvalidArgument", 400)

    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "s3.amazonaws.com"},
                "Action": "SQS:SendMessage",
                "Resource": arn,
                "Condition": {
                    "ArnLike": {"aws:SourceArn": "arn:aws:s3:::photo-uploads"},
                    "StringEquals": {"aws:SourceAccount": "000000000000"},
                },
            }
        ],
    }
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    s3.put_bucket_notification_configuration(Bucket="photo-uploads", NotificationConfiguration=notification)
    assert _receive(sqs, url, 1)[0]["Event"] == "s3:TestEvent"

    s3.put_object(Bucket="photo-uploads", Key="2024/cat.jpg", Body=b"meow")
    s3.put_object(Bucket="photo-uploads", Key="notes.txt", Body=b"not a photo")
    (event,) = _receive(sqs, url, 1)
    record = event["Records"][0]
    assert record["eventSource"] == "aws:s3" and record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["bucket"]["arn"] == "arn:aws:s3:::photo-uploads"
    assert record["s3"]["object"]["key"] == "2024/cat.jpg" and record["s3"]["object"]["size"] == 4
    assert record["s3"]["configurationId"] == "new-photos"

    other = "arn:aws:s3:::someone-elses-bucket"
    policy["Statement"][0]["Condition"]["ArnLike"]["aws:SourceArn"] = other
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    with pytest.raises(ClientError):  # the policy names another bucket: S3 may not send for this one
        s3.put_bucket_notification_configuration(
            Bucket="photo-uploads", NotificationConfiguration=notification
        )
