"""What recording calls costs: the S3 PUT and SQS SendMessage hot paths again, with a logging trail whose
advanced event selectors log their data events (every call then becomes a CloudTrail record). Not measured by
default: `--ops s3-put-object-1k-trailed,sqs-send-message-trailed` beside s3-put-object-1k, sqs-send-message
(which, as data events nobody selected, are only classified, not recorded)."""

import json

_BODY_1K = bytes(range(256)) * 4
_TARGET = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101"


def _cloudtrail(action: str, params: dict) -> dict:
    return {
        "service": "cloudtrail",
        "method": "POST",
        "path": "/",
        "headers": {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"{_TARGET}.{action}"},
        "body": json.dumps(params),
    }


_SELECTORS = [
    {
        "Name": "objects and messages",
        "FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]},
            {"Field": "resources.type", "Equals": ["AWS::S3::Object", "AWS::SQS::Queue"]},
        ],
    }
]
_TRAIL = [
    {"service": "s3", "method": "PUT", "path": "/overcast-bench-trail-logs", "headers": {}, "body": ""},
    _cloudtrail("CreateTrail", {"Name": "bench-trail", "S3BucketName": "overcast-bench-trail-logs"}),
    _cloudtrail("PutEventSelectors", {"TrailName": "bench-trail", "AdvancedEventSelectors": _SELECTORS}),
    _cloudtrail("StartLogging", {"Name": "bench-trail"}),
]
_SQS = {"Content-Type": "application/x-amz-json-1.0"}

OPERATIONS = [
    {
        "name": "s3-put-object-1k-trailed",
        "service": "s3",
        "protocol": "rest-xml",
        "method": "PUT",
        "path": "/overcast-bench-trailed/object-1k",
        "headers": {},
        "body": _BODY_1K,
        "sign": "presign",
        "setup": [
            *_TRAIL,
            {"service": "s3", "method": "PUT", "path": "/overcast-bench-trailed", "headers": {}, "body": ""},
        ],
    },
    {
        "name": "sqs-send-message-trailed",
        "service": "sqs",
        "protocol": "json",
        "method": "POST",
        "path": "/",
        "headers": {**_SQS, "X-Amz-Target": "AmazonSQS.SendMessage"},
        "body": '{"QueueUrl": "${queue_url}", "MessageBody": "hello from the benchmark"}',
        "setup": [
            *_TRAIL,
            {
                "service": "sqs",
                "method": "POST",
                "path": "/",
                "headers": {**_SQS, "X-Amz-Target": "AmazonSQS.CreateQueue"},
                "body": json.dumps({"QueueName": "overcast-bench-send-trailed"}),
                "capture": {"queue_url": "QueueUrl"},
            },
        ],
    },
]
