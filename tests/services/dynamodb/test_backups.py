"""On-demand backups and point-in-time recovery on the virtual clock."""

import time
from datetime import UTC, datetime

import pytest
from botocore.exceptions import ClientError


def put(ddb, table, key, value):
    ddb.put_item(TableName=table, Item={"pk": {"S": key}, "v": {"S": value}})


def keys(ddb, table):
    return sorted((i["pk"]["S"], i["v"]["S"]) for i in ddb.scan(TableName=table)["Items"])


def test_backup_and_restore(ddb, make_table):
    make_table(
        "Source",
        extra_definitions=[{"AttributeName": "v", "AttributeType": "S"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_v",
                "KeySchema": [{"AttributeName": "v", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    put(ddb, "Source", "a", "1")
    put(ddb, "Source", "b", "2")
    backup = ddb.create_backup(TableName="Source", BackupName="nightly")["BackupDetails"]
    assert backup["BackupStatus"] == "AVAILABLE" and backup["BackupArn"].startswith(
        "arn:aws:dynamodb:us-east-1:000000000000:table/Source/backup/"
    )
    put(ddb, "Source", "c", "3")
    restored = ddb.restore_table_from_backup(TargetTableName="Copy", BackupArn=backup["BackupArn"])[
        "TableDescription"
    ]
    assert restored["RestoreSummary"]["SourceBackupArn"] == backup["BackupArn"]
    assert keys(ddb, "Copy") == [("a", "1"), ("b", "2")]
    by_index = ddb.query(
        TableName="Copy",
        IndexName="by_v",
        KeyConditionExpression="v = :v",
        ExpressionAttributeValues={":v": {"S": "2"}},
    )["Items"]
    assert [i["pk"]["S"] for i in by_index] == ["b"]
    described = ddb.describe_backup(BackupArn=backup["BackupArn"])["BackupDescription"]
    assert described["SourceTableDetails"]["ItemCount"] == 2
    assert [b["BackupName"] for b in ddb.list_backups(TableName="Source")["BackupSummaries"]] == ["nightly"]
    with pytest.raises(ClientError) as raised:
        ddb.restore_table_from_backup(TargetTableName="Copy", BackupArn=backup["BackupArn"])
    assert raised.value.response["Error"]["Code"] == "TableAlreadyExistsException"
    ddb.delete_backup(BackupArn=backup["BackupArn"])
    with pytest.raises(ClientError) as raised:
        ddb.describe_backup(BackupArn=backup["BackupArn"])
    assert raised.value.response["Error"]["Code"] == "BackupNotFoundException"


def test_point_in_time_recovery(overcast, ddb, make_table):
    make_table("Ledger")
    put(ddb, "Ledger", "before", "0")
    with pytest.raises(ClientError) as raised:
        ddb.restore_table_to_point_in_time(
            SourceTableName="Ledger", TargetTableName="Never", UseLatestRestorableTime=True
        )
    assert raised.value.response["Error"]["Code"] == "PointInTimeRecoveryUnavailableException"
    status = ddb.update_continuous_backups(
        TableName="Ledger", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )["ContinuousBackupsDescription"]
    assert status["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    overcast.advance_clock("1h")
    put(ddb, "Ledger", "a", "1")
    overcast.advance_clock("1h")
    moment = datetime.fromtimestamp(
        time.time() + 2 * 3600 + 1, UTC
    )  # the virtual now, between the two writes
    overcast.advance_clock("1h")
    put(ddb, "Ledger", "a", "2")
    ddb.delete_item(TableName="Ledger", Key={"pk": {"S": "before"}})
    ddb.restore_table_to_point_in_time(
        SourceTableName="Ledger", TargetTableName="Then", RestoreDateTime=moment
    )
    assert keys(ddb, "Then") == [("a", "1"), ("before", "0")]
    ddb.restore_table_to_point_in_time(
        SourceTableName="Ledger", TargetTableName="Now", UseLatestRestorableTime=True
    )
    assert keys(ddb, "Now") == [("a", "2")]
    ledger = ddb.describe_table(TableName="Ledger")["Table"]["TableArn"]
    ddb.restore_table_to_point_in_time(
        SourceTableArn=ledger, TargetTableName="ByArn", UseLatestRestorableTime=True
    )
    assert keys(ddb, "ByArn") == [("a", "2")]
    with pytest.raises(ClientError) as raised:
        ddb.restore_table_to_point_in_time(
            SourceTableName="Ledger", TargetTableName="Old", RestoreDateTime=datetime(2000, 1, 1, tzinfo=UTC)
        )
    assert raised.value.response["Error"]["Code"] == "InvalidRestoreTimeException"
