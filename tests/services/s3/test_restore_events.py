"""s3:ObjectRestore:Post when RestoreObject starts a restore of an archived object, s3:ObjectRestore:Completed
when the copy is ready on the virtual clock (from S3 itself, with glacierEventData), in AWS's record format;
the Completed event also comes after a restart of a real server."""

import json
import re
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import boto3
from botocore.config import Config

from tests.server_process import ServerProcess

DAY = 86400


def receive(sqs, url, wanted: int, timeout: float = 30.0) -> list[dict]:
    records = []
    deadline = time.monotonic() + timeout
    while len(records) < wanted and time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        ):
            body = json.loads(message["Body"])
            records += body.get("Records", [])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return records


def nothing_more(sqs, url) -> bool:
    return not sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages")


def iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def setup(s3, sqs, bucket: str, events: list[str], **flt) -> str:
    url = sqs.create_queue(QueueName=f"{bucket}-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    entry = {"Id": "restores", "QueueArn": arn, "Events": events}
    if flt:
        entry["Filter"] = {"Key": {"FilterRules": [{"Name": k, "Value": v} for k, v in flt.items()]}}
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={"QueueConfigurations": [entry]},
        SkipDestinationValidation=True,
    )
    return url


def test_post_then_completed_on_the_virtual_clock(overcast, s3, bucket):
    sqs = overcast.client("sqs")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    url = setup(s3, sqs, bucket, ["s3:ObjectRestore:*"])
    put = s3.put_object(Bucket=bucket, Key="archive/2020.tar", Body=b"x" * 1234, StorageClass="GLACIER")
    started = overcast.platform.clock.now()
    restored = s3.restore_object(
        Bucket=bucket,
        Key="archive/2020.tar",
        RestoreRequest={"Days": 2, "GlacierJobParameters": {"Tier": "Expedited"}},
    )
    assert restored["ResponseMetadata"]["HTTPStatusCode"] == 202

    (post,) = receive(sqs, url, 1)
    assert post["eventName"] == "ObjectRestore:Post" and post["eventVersion"] == "2.1"
    assert post["eventSource"] == "aws:s3" and post["awsRegion"] == "us-east-1"
    assert post["userIdentity"]["principalId"].startswith("AWS:")
    assert post["s3"]["configurationId"] == "restores"
    assert post["s3"]["object"] == {
        "key": "archive/2020.tar",
        "size": 1234,
        "eTag": put["ETag"].strip('"'),
        "versionId": put["VersionId"],
        "sequencer": post["s3"]["object"]["sequencer"],
    }
    assert "glacierEventData" not in post

    overcast.advance_clock("4m")  # Expedited takes 5 minutes
    assert nothing_more(sqs, url)
    overcast.advance_clock("2m")
    (done,) = receive(sqs, url, 1)
    head = s3.head_object(Bucket=bucket, Key="archive/2020.tar")
    assert 'ongoing-request="false"' in head["Restore"]
    ready = started + 5 * 60
    expires = (ready + 2 * DAY) // DAY * DAY + DAY  # 2 days after the copy is ready, to the next midnight UTC
    expiry = re.search(r'expiry-date="([^"]+)"', head["Restore"]).group(1)
    assert parsedate_to_datetime(expiry).timestamp() == expires
    assert done["eventName"] == "ObjectRestore:Completed" and done["eventVersion"] == "2.1"
    assert done["userIdentity"] == {"principalId": "AmazonCustomer:000000000000"}
    assert done["requestParameters"] == {"sourceIPAddress": "s3.amazonaws.com"}
    assert abs(datetime.fromisoformat(done["eventTime"]).timestamp() - ready) < 1
    assert done["s3"]["object"]["key"] == "archive/2020.tar"
    assert done["s3"]["object"]["versionId"] == put["VersionId"]
    assert done["s3"]["object"]["size"] == 1234
    assert done["glacierEventData"] == {
        "restoreEventData": {
            "lifecycleRestorationExpiryTime": iso(expires),
            "lifecycleRestoreStorageClass": "GLACIER",
        }
    }
    # once only; extending a finished restore (200) is no new restore
    extended = s3.restore_object(Bucket=bucket, Key="archive/2020.tar", RestoreRequest={"Days": 5})
    assert extended["ResponseMetadata"]["HTTPStatusCode"] == 200
    overcast.advance_clock("1d")
    assert nothing_more(sqs, url)


def test_filters_and_event_names(overcast, s3, bucket):
    sqs = overcast.client("sqs")
    url = setup(s3, sqs, bucket, ["s3:ObjectRestore:Completed"], prefix="cold/")
    for key in ("cold/a", "warm/b"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"data", StorageClass="DEEP_ARCHIVE")
        s3.restore_object(
            Bucket=bucket, Key=key, RestoreRequest={"Days": 1, "GlacierJobParameters": {"Tier": "Bulk"}}
        )
    assert nothing_more(sqs, url)  # no Post event: not configured
    overcast.advance_clock("49h")  # DEEP_ARCHIVE Bulk: 48 hours
    (done,) = receive(sqs, url, 1)
    assert done["eventName"] == "ObjectRestore:Completed" and done["s3"]["object"]["key"] == "cold/a"
    assert "versionId" not in done["s3"]["object"]
    assert done["glacierEventData"]["restoreEventData"]["lifecycleRestoreStorageClass"] == "DEEP_ARCHIVE"
    assert nothing_more(sqs, url)


def test_a_restore_deleted_before_it_completes_sends_nothing(overcast, s3, bucket):
    sqs = overcast.client("sqs")
    url = setup(s3, sqs, bucket, ["s3:ObjectRestore:Completed"])
    s3.put_object(Bucket=bucket, Key="k", Body=b"old", StorageClass="GLACIER")
    s3.restore_object(Bucket=bucket, Key="k", RestoreRequest={"Days": 1})
    s3.put_object(Bucket=bucket, Key="k", Body=b"new")  # overwritten (in place) before the copy is ready
    s3.put_object(Bucket=bucket, Key="gone", Body=b"x", StorageClass="GLACIER")
    s3.restore_object(Bucket=bucket, Key="gone", RestoreRequest={"Days": 1})
    s3.delete_object(Bucket=bucket, Key="gone")
    overcast.advance_clock("6h")
    assert nothing_more(sqs, url)


def test_completed_after_a_restart(tmp_path):
    def clients(server):
        kwargs = dict(
            endpoint_url=server.endpoint,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(retries={"max_attempts": 1}),
        )
        return boto3.client("s3", **kwargs), boto3.client("sqs", **kwargs)

    server = ServerProcess(tmp_path)
    try:
        s3, sqs = clients(server)
        s3.create_bucket(Bucket="vault")
        url = setup(s3, sqs, "vault", ["s3:ObjectRestore:*"])
        s3.put_object(Bucket="vault", Key="tape", Body=b"t", StorageClass="GLACIER")
        s3.restore_object(Bucket="vault", Key="tape", RestoreRequest={"Days": 3})  # Standard: 5 hours
        assert [r["eventName"] for r in receive(sqs, url, 1)] == ["ObjectRestore:Post"]
    finally:
        server.stop()
    server = ServerProcess(tmp_path)
    try:
        s3, sqs = clients(server)
        # (S3 starts, and with it its workers, on its first request after the restart)
        assert s3.head_object(Bucket="vault", Key="tape")["Restore"] == 'ongoing-request="true"'
        assert server.cli("clock", "advance", "4h").returncode == 0
        assert nothing_more(sqs, url)
        assert server.cli("clock", "advance", "2h").returncode == 0
        (done,) = receive(sqs, url, 1)
        assert done["eventName"] == "ObjectRestore:Completed" and done["s3"]["object"]["key"] == "tape"
    finally:
        server.stop()
