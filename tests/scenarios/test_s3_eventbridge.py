"""An S3 upload with EventBridge notifications on triggers a rule whose pattern matches a key prefix and a size
range, whose input transformer reshapes the event, and whose SQS target receives it (issue 22's story)."""

import json

from tests.waiting import wait_for


def test_upload_reaches_a_queue_through_a_rule(overcast):
    s3, events, sqs = overcast.client("s3"), overcast.client("events"), overcast.client("sqs")
    s3.create_bucket(Bucket="uploads")
    s3.put_bucket_notification_configuration(
        Bucket="uploads", NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    url = sqs.create_queue(QueueName="big-reports")["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    pattern = {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {
            "bucket": {"name": ["uploads"]},
            "object": {"key": [{"prefix": "reports/"}], "size": [{"numeric": [">=", 10, "<", 1000]}]},
        },
    }
    events.put_rule(Name="big-reports", EventPattern=json.dumps(pattern))
    transformer = {
        "InputPathsMap": {"key": "$.detail.object.key", "size": "$.detail.object.size"},
        "InputTemplate": '{"report": <key>, "bytes": <size>}',
    }
    events.put_targets(
        Rule="big-reports", Targets=[{"Id": "q", "Arn": queue, "InputTransformer": transformer}]
    )
    s3.put_object(Bucket="uploads", Key="reports/small.csv", Body=b"tiny")  # too small
    s3.put_object(Bucket="uploads", Key="images/big.png", Body=b"x" * 100)  # wrong prefix
    s3.put_object(Bucket="uploads", Key="reports/q1.csv", Body=b"x" * 100)
    messages = wait_for(lambda: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages"))
    assert [json.loads(m["Body"]) for m in messages] == [{"report": "reports/q1.csv", "bytes": 100}]
    s3.delete_object(Bucket="uploads", Key="reports/q1.csv")  # Object Deleted: not this rule's
    s3.put_object(Bucket="uploads", Key="reports/q2.csv", Body=b"y" * 50)  # the barrier: matched, after
    later = wait_for(lambda: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages"))
    assert [json.loads(m["Body"])["report"] for m in later] == ["reports/q2.csv"]


def test_no_eventbridge_configuration_no_events(overcast):
    s3, events, sqs = overcast.client("s3"), overcast.client("events"), overcast.client("sqs")
    s3.create_bucket(Bucket="quiet")
    url = sqs.create_queue(QueueName="all-s3")["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    # CloudTrail's "AWS API Call via CloudTrail" events (CreateBucket) also come from aws.s3, delivered a little
    # later, as AWS's are: they are not what this test is about.
    pattern = {
        "source": ["aws.s3", "barrier"],
        "detail-type": [{"anything-but": "AWS API Call via CloudTrail"}],
    }
    events.put_rule(Name="all-s3", EventPattern=json.dumps(pattern))
    events.put_targets(Rule="all-s3", Targets=[{"Id": "q", "Arn": queue}])
    s3.put_object(Bucket="quiet", Key="k", Body=b"v")
    events.put_events(Entries=[{"Source": "barrier", "DetailType": "B", "Detail": "{}"}])
    messages = wait_for(lambda: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages"))
    assert [json.loads(m["Body"])["source"] for m in messages] == ["barrier"]
