"""Story: logs move to Glacier after 30 days and expire after a year; an archived log is restored to read it."""

import pytest
from botocore.exceptions import ClientError

from tests.helpers import code_of, error_of
from tests.waiting import wait_for


def _canary(s3):
    """A bucket whose object expires after a day: once it is gone, a sweep has run on the moved clock, and
    every other bucket was swept in that same pass (a barrier for "nothing happened yet")."""
    s3.create_bucket(Bucket="sweep-canary")
    s3.put_bucket_lifecycle_configuration(
        Bucket="sweep-canary",
        LifecycleConfiguration={
            "Rules": [{"ID": "day", "Filter": {}, "Status": "Enabled", "Expiration": {"Days": 1}}]
        },
    )
    s3.put_object(Bucket="sweep-canary", Key="canary", Body=b"")
    return lambda: "Contents" not in s3.list_objects_v2(Bucket="sweep-canary")


def test_logs_transition_to_glacier_then_expire(overcast):
    s3 = overcast.client("s3")
    s3.create_bucket(Bucket="app-logs")
    s3.put_bucket_lifecycle_configuration(
        Bucket="app-logs",
        TransitionDefaultMinimumObjectSize="varies_by_storage_class",  # small logs may go to Glacier
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "archive-logs",
                    "Filter": {"Prefix": "logs/"},
                    "Status": "Enabled",
                    "Transitions": [{"Days": 30, "StorageClass": "GLACIER"}],
                    "Expiration": {"Days": 365},
                }
            ]
        },
    )
    s3.put_object(Bucket="app-logs", Key="logs/2026-01-01.log", Body=b"GET / 200")
    s3.put_object(Bucket="app-logs", Key="keep/readme.txt", Body=b"not a log")
    swept = _canary(s3)

    overcast.advance_clock("29d")
    assert wait_for(swept)
    assert s3.head_object(Bucket="app-logs", Key="logs/2026-01-01.log").get("StorageClass") is None

    overcast.advance_clock("2d")
    assert wait_for(
        lambda: s3.head_object(Bucket="app-logs", Key="logs/2026-01-01.log").get("StorageClass") == "GLACIER"
    )
    assert s3.head_object(Bucket="app-logs", Key="keep/readme.txt").get("StorageClass") is None
    with pytest.raises(ClientError) as raised:
        s3.get_object(Bucket="app-logs", Key="logs/2026-01-01.log")
    assert error_of(raised) == ("InvalidObjectState", 403)

    # Restore for 2 days with the Expedited tier (minutes on the virtual clock).
    accepted = s3.restore_object(
        Bucket="app-logs",
        Key="logs/2026-01-01.log",
        RestoreRequest={"Days": 2, "GlacierJobParameters": {"Tier": "Expedited"}},
    )
    assert accepted["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert s3.head_object(Bucket="app-logs", Key="logs/2026-01-01.log")["Restore"] == 'ongoing-request="true"'
    with pytest.raises(ClientError) as raised:
        s3.restore_object(Bucket="app-logs", Key="logs/2026-01-01.log", RestoreRequest={"Days": 2})
    assert code_of(raised) == "RestoreAlreadyInProgress"
    overcast.advance_clock("6m")
    assert (
        'ongoing-request="false"' in s3.head_object(Bucket="app-logs", Key="logs/2026-01-01.log")["Restore"]
    )
    assert s3.get_object(Bucket="app-logs", Key="logs/2026-01-01.log")["Body"].read() == b"GET / 200"
    overcast.advance_clock("3d")
    with pytest.raises(ClientError):
        s3.get_object(Bucket="app-logs", Key="logs/2026-01-01.log")

    overcast.advance_clock("335d")
    assert wait_for(
        lambda: (
            "Contents" in s3.list_objects_v2(Bucket="app-logs")
            and [o["Key"] for o in s3.list_objects_v2(Bucket="app-logs")["Contents"]] == ["keep/readme.txt"]
        )
    )


def test_abort_incomplete_uploads_and_noncurrent_versions(overcast):
    s3 = overcast.client("s3")
    s3.create_bucket(Bucket="tidy")
    s3.put_bucket_versioning(Bucket="tidy", VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_lifecycle_configuration(
        Bucket="tidy",
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "tidy",
                    "Filter": {},
                    "Status": "Enabled",
                    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
                    "NoncurrentVersionExpiration": {"NoncurrentDays": 10},
                    "Expiration": {"ExpiredObjectDeleteMarker": True},
                }
            ]
        },
    )
    s3.create_multipart_upload(Bucket="tidy", Key="abandoned")
    s3.put_object(Bucket="tidy", Key="doc", Body=b"v1")
    s3.put_object(Bucket="tidy", Key="doc", Body=b"v2")
    s3.put_object(Bucket="tidy", Key="gone", Body=b"x")
    s3.delete_object(Bucket="tidy", Key="gone")
    overcast.advance_clock("11d")

    def tidy():
        versions = s3.list_object_versions(Bucket="tidy")
        return (
            not s3.list_multipart_uploads(Bucket="tidy").get("Uploads")
            and [v["Key"] for v in versions.get("Versions", [])] == ["doc"]
            and not versions.get("DeleteMarkers")
        )

    def tidy_after_another_sweep():
        # First sweep removes the noncurrent versions; a later one may be what removes the then-lonely
        # delete marker: moving the clock a second starts one at once (the rules count in days)
        if tidy():
            return True
        overcast.advance_clock("1s")
        return False

    assert wait_for(tidy_after_another_sweep)
