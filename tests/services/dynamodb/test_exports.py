"""Exports to S3: the table as it was at ExportTime, in AWS's layout (manifests, gzipped DynamoDB JSON)."""

import gzip
import json
import time
from datetime import UTC, datetime

import pytest
from botocore.exceptions import ClientError

from tests.helpers import code_of
from tests.waiting import wait_for


def _finished(ddb, arn):
    def status():
        found = ddb.describe_export(ExportArn=arn)["ExportDescription"]
        return found if found["ExportStatus"] != "IN_PROGRESS" else None

    return wait_for(status, timeout=20)


def test_a_table_exported_as_it_was(overcast, ddb, make_table):
    s3 = overcast.client("s3")
    s3.create_bucket(Bucket="lake")
    make_table("Orders")
    table_arn = ddb.describe_table(TableName="Orders")["Table"]["TableArn"]
    with pytest.raises(ClientError) as raised:  # point-in-time recovery first
        ddb.export_table_to_point_in_time(TableArn=table_arn, S3Bucket="lake")
    assert code_of(raised) == "PointInTimeRecoveryUnavailableException"
    ddb.update_continuous_backups(
        TableName="Orders", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    ddb.put_item(
        TableName="Orders", Item={"pk": {"S": "o1"}, "total": {"N": "12.5"}, "raw": {"B": b"\x00\x01"}}
    )
    ddb.put_item(TableName="Orders", Item={"pk": {"S": "o2"}, "tags": {"SS": ["a", "b"]}})
    time.sleep(0.05)
    moment = datetime.now(UTC)
    time.sleep(0.05)
    ddb.put_item(TableName="Orders", Item={"pk": {"S": "o3"}})  # after ExportTime: not exported
    ddb.delete_item(TableName="Orders", Key={"pk": {"S": "o1"}})  # after ExportTime: still exported

    started = ddb.export_table_to_point_in_time(
        TableArn=table_arn, S3Bucket="lake", S3Prefix="exports", ExportTime=moment
    )["ExportDescription"]
    assert started["ExportStatus"] == "IN_PROGRESS" and started["ExportArn"].startswith(
        f"{table_arn}/export/"
    )
    assert (started["ExportFormat"], started["ExportType"], started["S3Bucket"]) == (
        "DYNAMODB_JSON",
        "FULL_EXPORT",
        "lake",
    )
    done = _finished(ddb, started["ExportArn"])
    assert done["ExportStatus"] == "COMPLETED" and done["ItemCount"] == 2 and done["EndTime"]
    export_id = started["ExportArn"].rsplit("/", 1)[1]
    base = f"exports/AWSDynamoDB/{export_id}"
    assert done["ExportManifest"] == f"{base}/manifest-summary.json"
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="lake")["Contents"]}
    assert {
        f"{base}/manifest-summary.json",
        f"{base}/manifest-files.json",
        f"{base}/manifest-summary.md5",
    } <= keys
    summary = json.loads(s3.get_object(Bucket="lake", Key=f"{base}/manifest-summary.json")["Body"].read())
    assert (summary["exportArn"], summary["itemCount"], summary["outputFormat"]) == (
        started["ExportArn"],
        2,
        "DYNAMODB_JSON",
    )
    files = [
        json.loads(line)
        for line in s3.get_object(Bucket="lake", Key=summary["manifestFilesS3Key"])["Body"]
        .read()
        .splitlines()
    ]
    data = gzip.decompress(s3.get_object(Bucket="lake", Key=files[0]["dataFileS3Key"])["Body"].read())
    items = sorted((json.loads(line)["Item"] for line in data.splitlines()), key=lambda item: item["pk"]["S"])
    assert items == [
        {"pk": {"S": "o1"}, "total": {"N": "12.5"}, "raw": {"B": "AAE="}},
        {"pk": {"S": "o2"}, "tags": {"SS": ["a", "b"]}},
    ]
    assert files[0]["itemCount"] == 2
    summaries = ddb.list_exports(TableArn=table_arn)["ExportSummaries"]
    assert summaries == [
        {"ExportArn": started["ExportArn"], "ExportStatus": "COMPLETED", "ExportType": "FULL_EXPORT"}
    ]


def test_export_errors(ddb, make_table):
    with pytest.raises(ClientError) as raised:
        ddb.export_table_to_point_in_time(
            TableArn="arn:aws:dynamodb:us-east-1:000000000000:table/none", S3Bucket="bucket"
        )
    assert code_of(raised) == "TableNotFoundException"
    with pytest.raises(ClientError) as raised:
        ddb.describe_export(
            ExportArn="arn:aws:dynamodb:us-east-1:000000000000:table/none/export/01234567890123-abcdef12"
        )
    assert code_of(raised) == "ExportNotFoundException"
    make_table("Lost")
    ddb.update_continuous_backups(
        TableName="Lost", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    arn = ddb.describe_table(TableName="Lost")["Table"]["TableArn"]
    started = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket="no-such-bucket")["ExportDescription"]
    failed = _finished(ddb, started["ExportArn"])
    assert failed["ExportStatus"] == "FAILED" and failed["FailureCode"] == "NoSuchBucket"
