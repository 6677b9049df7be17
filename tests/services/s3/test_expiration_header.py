"""x-amz-expiration: PUT, GET, HEAD, CopyObject and CompleteMultipartUpload announce when a lifecycle rule
expires the object (the object's time plus the days, rounded up to the next midnight UTC, or the rule's
date; the earliest rule wins; the rule id URL-encoded), and the lifecycle worker expires it at that moment."""

from datetime import UTC, datetime
from email.utils import formatdate, parsedate_to_datetime

from tests.waiting import wait_for

MiB = 1024 * 1024
DAY = 86400


def lifecycle(s3, bucket, *rules):
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": list(rules)})


def rule(rule_id, days=None, date=None, status="Enabled", **flt):
    expiration = {"Days": days} if days is not None else {"Date": date}
    return {"ID": rule_id, "Filter": flt, "Status": status, "Expiration": expiration}


def expected(moment: float, rule_id: str) -> str:
    return f'expiry-date="{formatdate(moment, usegmt=True)}", rule-id="{rule_id}"'


def after_days(last_modified: datetime, days: int) -> float:
    """Midnight UTC after last_modified + days (what AWS announces and acts on)."""
    moment = last_modified.timestamp() + days * DAY
    return (moment // DAY + 1) * DAY


def test_no_rule_no_header(s3, bucket):
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert "Expiration" not in put
    assert "Expiration" not in s3.head_object(Bucket=bucket, Key="k")
    lifecycle(s3, bucket, rule("off", days=1, status="Disabled"), rule("other", days=1, Prefix="logs/"))
    assert "Expiration" not in s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert "Expiration" not in s3.get_object(Bucket=bucket, Key="k")


def test_days_rounded_to_midnight_on_put_get_head(s3, bucket):
    lifecycle(s3, bucket, rule("expire logs/old", days=3, Prefix="logs/"))
    put = s3.put_object(Bucket=bucket, Key="logs/a", Body=b"x")
    head = s3.head_object(Bucket=bucket, Key="logs/a")
    want = expected(after_days(head["LastModified"], 3), "expire%20logs%2Fold")
    assert put["Expiration"] == want
    assert head["Expiration"] == want
    assert s3.get_object(Bucket=bucket, Key="logs/a")["Expiration"] == want
    when = parsedate_to_datetime(want.split('"')[1])
    assert (when.hour, when.minute, when.second) == (0, 0, 0)
    assert 3 * DAY < (when - head["LastModified"]).total_seconds() <= 4 * DAY
    assert "Expiration" not in s3.put_object(Bucket=bucket, Key="other/a", Body=b"x")


def test_earliest_rule_wins_and_filters_apply(s3, bucket):
    lifecycle(
        s3,
        bucket,
        rule("late", days=30),
        rule("dated", date=datetime(2031, 1, 1, tzinfo=UTC), Prefix="tmp/"),
        rule("tagged", days=2, Tag={"Key": "class", "Value": "scratch"}),
        rule("big", days=1, ObjectSizeGreaterThan=1000),
    )
    plain = s3.put_object(Bucket=bucket, Key="doc", Body=b"x")
    modified = s3.head_object(Bucket=bucket, Key="doc")["LastModified"]
    assert plain["Expiration"] == expected(after_days(modified, 30), "late")
    tagged = s3.put_object(Bucket=bucket, Key="t", Body=b"x", Tagging="class=scratch")
    assert 'rule-id="tagged"' in tagged["Expiration"]
    assert 'rule-id="big"' in s3.put_object(Bucket=bucket, Key="b", Body=b"x" * 2000)["Expiration"]
    # a date in 2031 is later than 30 days from now: "late" still wins for tmp/ keys
    assert 'rule-id="late"' in s3.put_object(Bucket=bucket, Key="tmp/x", Body=b"x")["Expiration"]
    lifecycle(s3, bucket, rule("dated", date=datetime(2031, 1, 1, tzinfo=UTC), Prefix="tmp/"))
    assert s3.head_object(Bucket=bucket, Key="tmp/x")["Expiration"] == (
        'expiry-date="Wed, 01 Jan 2031 00:00:00 GMT", rule-id="dated"'
    )


def test_copy_and_complete_multipart_upload(s3, bucket):
    lifecycle(s3, bucket, rule("week", days=7))
    s3.put_object(Bucket=bucket, Key="src", Body=b"x")
    copied = s3.copy_object(Bucket=bucket, Key="dst", CopySource=f"{bucket}/src")
    assert copied["Expiration"] == expected(after_days(copied["CopyObjectResult"]["LastModified"], 7), "week")
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=b"p")["ETag"]
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=upload, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]}
    )
    modified = s3.head_object(Bucket=bucket, Key="mp")["LastModified"]
    assert done["Expiration"] == expected(after_days(modified, 7), "week")


def test_a_rule_without_id_is_named(s3, bucket):
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket,
        LifecycleConfiguration={"Rules": [{"Filter": {}, "Status": "Enabled", "Expiration": {"Days": 5}}]},
    )
    rule_id = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"][0]["ID"]
    assert rule_id
    assert f'rule-id="{rule_id}"' in s3.put_object(Bucket=bucket, Key="k", Body=b"x")["Expiration"]


def test_versioned_only_the_current_version(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    lifecycle(s3, bucket, rule("month", days=30))
    first = s3.put_object(Bucket=bucket, Key="k", Body=b"1")["VersionId"]
    s3.put_object(Bucket=bucket, Key="k", Body=b"2")
    assert "Expiration" in s3.head_object(Bucket=bucket, Key="k")
    assert "Expiration" not in s3.head_object(Bucket=bucket, Key="k", VersionId=first)


def _gone(s3, bucket, key) -> bool:
    return "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix=key)


def test_the_worker_expires_at_the_announced_moment(overcast, s3, bucket):
    lifecycle(s3, bucket, rule("three", days=3))
    announced = s3.put_object(Bucket=bucket, Key="k", Body=b"x")["Expiration"]
    moment = parsedate_to_datetime(announced.split('"')[1]).timestamp()
    # a canary due a day earlier: once it is gone, a sweep ran on the moved clock, and saw "k" too
    s3.create_bucket(Bucket=f"{bucket}-canary")
    lifecycle(s3, f"{bucket}-canary", rule("one", days=1))
    s3.put_object(Bucket=f"{bucket}-canary", Key="c", Body=b"x")

    overcast.advance_clock(moment - 2 - overcast.platform.clock.now())
    assert wait_for(lambda: _gone(s3, f"{bucket}-canary", "c"))
    assert not _gone(s3, bucket, "k")  # 3 days and more have passed, but not the midnight after them
    overcast.advance_clock(3)
    assert wait_for(lambda: _gone(s3, bucket, "k"))
