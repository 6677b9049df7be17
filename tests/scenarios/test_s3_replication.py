"""Story: cross-region replication. A versioned bucket in us-east-1 replicates to a versioned bucket in
eu-west-1: new objects arrive with the same version id and data, the source says COMPLETED and the replica
REPLICA; delete markers follow when the rule says so; a deletion of a specific version does not; replicas
are not replicated onward (no chaining A→B→C); a rule's prefix filter and destination storage class hold."""

import pytest

from tests.waiting import wait_for


def _replicated(source, replica, source_bucket, replica_bucket, key):
    """Write `key` and wait for its replica: replications run in the order of the writes, so whatever an
    earlier write would have replicated has been replicated by then (a barrier, instead of a pause)."""
    version = source.put_object(Bucket=source_bucket, Key=key, Body=b"barrier")["VersionId"]
    wait_for(
        lambda: any(
            v["Key"] == key and v["VersionId"] == version
            for v in replica.list_object_versions(Bucket=replica_bucket, Prefix=key).get("Versions", [])
        )
    )


def _rule(rule_id, destination, priority=1, prefix="", delete_markers="Enabled", **destination_extra):
    return {
        "ID": rule_id,
        "Priority": priority,
        "Status": "Enabled",
        "Filter": {"Prefix": prefix},
        "DeleteMarkerReplication": {"Status": delete_markers},
        "Destination": {"Bucket": f"arn:aws:s3:::{destination}", **destination_extra},
    }


def _versioned(client, name, region=None):
    if region:
        client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    else:
        client.create_bucket(Bucket=name)
    client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})


@pytest.fixture
def buckets(overcast):
    east, west = overcast.client("s3"), overcast.client("s3", region="eu-west-1")
    _versioned(east, "records-us")
    _versioned(west, "records-eu", "eu-west-1")
    _versioned(east, "records-archive")
    role = "arn:aws:iam::000000000000:role/s3-replication"
    east.put_bucket_replication(
        Bucket="records-us",
        ReplicationConfiguration={"Role": role, "Rules": [_rule("to-eu", "records-eu")]},
    )
    # The replica bucket replicates too: replicas must not travel on to the archive.
    west.put_bucket_replication(
        Bucket="records-eu",
        ReplicationConfiguration={"Role": role, "Rules": [_rule("to-archive", "records-archive")]},
    )
    return east, west


def test_cross_region_replication(buckets):
    east, west = buckets
    assert west.get_bucket_location(Bucket="records-eu")["LocationConstraint"] == "eu-west-1"
    put = east.put_object(Bucket="records-us", Key="2024/report.csv", Body=b"a,b\n1,2\n")
    version = put["VersionId"]
    assert east.head_object(Bucket="records-us", Key="2024/report.csv")["ReplicationStatus"] in (
        "PENDING",
        "COMPLETED",
    )
    replica = wait_for(lambda: west.list_object_versions(Bucket="records-eu").get("Versions"))
    assert [(v["Key"], v["VersionId"]) for v in replica] == [("2024/report.csv", version)]
    got = west.get_object(Bucket="records-eu", Key="2024/report.csv")
    assert got["Body"].read() == b"a,b\n1,2\n" and got["ReplicationStatus"] == "REPLICA"
    assert got["ETag"] == put["ETag"]
    wait_for(
        lambda: (
            east.head_object(Bucket="records-us", Key="2024/report.csv")["ReplicationStatus"] == "COMPLETED"
        )
    )
    assert "Versions" not in east.list_object_versions(Bucket="records-archive")  # no chaining

    marker = east.delete_object(Bucket="records-us", Key="2024/report.csv")["VersionId"]
    markers = wait_for(lambda: west.list_object_versions(Bucket="records-eu").get("DeleteMarkers"))
    assert [m["VersionId"] for m in markers] == [marker]
    east.delete_object(Bucket="records-us", Key="2024/report.csv", VersionId=version)  # not replicated
    _replicated(east, west, "records-us", "records-eu", "2024/barrier")
    versions = west.list_object_versions(Bucket="records-eu", Prefix="2024/report.csv")["Versions"]
    assert [v["VersionId"] for v in versions] == [version]
    assert "Versions" not in east.list_object_versions(Bucket="records-archive")  # still no chaining


def test_filters_storage_class_and_failure(overcast):
    s3 = overcast.client("s3")
    _versioned(s3, "photos")
    _versioned(s3, "photos-backup")
    s3.put_bucket_replication(
        Bucket="photos",
        ReplicationConfiguration={
            "Role": "arn:aws:iam::000000000000:role/r",
            "Rules": [
                _rule(
                    "raw", "photos-backup", prefix="raw/", delete_markers="Disabled", StorageClass="GLACIER"
                )
            ],
        },
    )
    s3.put_object(Bucket="photos", Key="raw/1.dng", Body=b"raw")
    s3.put_object(Bucket="photos", Key="thumbs/1.jpg", Body=b"thumb")
    assert "ReplicationStatus" not in s3.head_object(Bucket="photos", Key="thumbs/1.jpg")
    backup = wait_for(lambda: s3.list_object_versions(Bucket="photos-backup").get("Versions"))
    assert [(v["Key"], v["StorageClass"]) for v in backup] == [("raw/1.dng", "GLACIER")]
    s3.delete_object(Bucket="photos", Key="raw/1.dng")  # delete marker replication is disabled
    _replicated(s3, s3, "photos", "photos-backup", "raw/barrier.dng")
    assert "DeleteMarkers" not in s3.list_object_versions(Bucket="photos-backup")

    s3.put_bucket_versioning(Bucket="photos-backup", VersioningConfiguration={"Status": "Suspended"})
    s3.put_object(Bucket="photos", Key="raw/2.dng", Body=b"raw 2")
    wait_for(lambda: s3.head_object(Bucket="photos", Key="raw/2.dng")["ReplicationStatus"] == "FAILED")
