"""Export tasks: a group's events of a time range written to S3, as AWS lays them out."""

import gzip
import time
from datetime import UTC, datetime

import pytest
from botocore.exceptions import ClientError

from tests.helpers import code_of
from tests.waiting import wait_for


def _finished(logs, task_id):
    def status():
        task = logs.describe_export_tasks(taskId=task_id)["exportTasks"][0]
        return task if task["status"]["code"] not in ("PENDING", "RUNNING") else None

    return wait_for(status, timeout=20)


def test_events_of_the_range_land_in_the_bucket(overcast, logs):
    s3 = overcast.client("s3")
    s3.create_bucket(Bucket="log-archive")
    logs.create_log_group(logGroupName="/app/web")
    base = (int(time.time()) - 3600) * 1000  # an hour ago, on a whole second
    for stream, offset in (("a", 0), ("b", 10)):
        logs.create_log_stream(logGroupName="/app/web", logStreamName=stream)
        logs.put_log_events(
            logGroupName="/app/web",
            logStreamName=stream,
            logEvents=[
                {"timestamp": base + offset + 1, "message": f"{stream} first"},
                {"timestamp": base + offset + 2, "message": f"{stream} second"},
                {"timestamp": base + 5000, "message": f"{stream} too late"},
            ],
        )
    task_id = logs.create_export_task(
        taskName="nightly",
        logGroupName="/app/web",
        fromTime=base,
        to=base + 1000,
        destination="log-archive",
        destinationPrefix="web",
    )["taskId"]
    task = _finished(logs, task_id)
    assert task["status"] == {"code": "COMPLETED", "message": "Completed successfully"}
    assert (task["taskName"], task["logGroupName"], task["destination"], task["destinationPrefix"]) == (
        "nightly",
        "/app/web",
        "log-archive",
        "web",
    )
    assert task["from"] == base and task["to"] == base + 1000
    assert task["executionInfo"]["completionTime"] >= task["executionInfo"]["creationTime"]
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="log-archive")["Contents"])
    assert keys == sorted(
        ["web/aws-logs-write-test", f"web/{task_id}/a/000000.gz", f"web/{task_id}/b/000000.gz"]
    )
    test_object = s3.get_object(Bucket="log-archive", Key="web/aws-logs-write-test")["Body"].read()
    assert test_object == b"Permission Check Successful"
    lines = gzip.decompress(
        s3.get_object(Bucket="log-archive", Key=f"web/{task_id}/b/000000.gz")["Body"].read()
    )
    second = datetime.fromtimestamp(base / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    assert lines.decode().splitlines() == [f"{second}.011Z b first", f"{second}.012Z b second"]

    with pytest.raises(ClientError) as raised:
        logs.cancel_export_task(taskId=task_id)
    assert code_of(raised) == "InvalidOperationException"
    assert [t["taskId"] for t in logs.describe_export_tasks(statusCode="COMPLETED")["exportTasks"]] == [
        task_id
    ]


def test_an_export_to_a_missing_bucket_fails(logs):
    logs.create_log_group(logGroupName="/app/lost")
    task_id = logs.create_export_task(
        logGroupName="/app/lost", fromTime=0, to=1, destination="no-such-bucket"
    )["taskId"]
    task = _finished(logs, task_id)
    assert task["status"]["code"] == "FAILED" and task["destinationPrefix"] == "exportedlogs"
    with pytest.raises(ClientError) as raised:
        logs.create_export_task(logGroupName="/app/none", fromTime=0, to=1, destination="x")
    assert code_of(raised) == "ResourceNotFoundException"
