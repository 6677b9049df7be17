"""Story: a team turns on versioning to protect a report, deletes it by mistake, and gets it back."""

import pytest
from botocore.exceptions import ClientError

from tests.helpers import code_of


def test_accidental_delete_is_undone_by_removing_the_delete_marker(overcast):
    s3 = overcast.client("s3")
    s3.create_bucket(Bucket="reports")
    s3.put_bucket_versioning(Bucket="reports", VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket="reports", Key="q1.csv", Body=b"draft")["VersionId"]
    second = s3.put_object(Bucket="reports", Key="q1.csv", Body=b"final")["VersionId"]

    marker = s3.delete_object(Bucket="reports", Key="q1.csv")
    assert marker["DeleteMarker"] is True
    with pytest.raises(ClientError) as raised:
        s3.get_object(Bucket="reports", Key="q1.csv")
    assert code_of(raised) == "NoSuchKey"
    assert s3.list_objects_v2(Bucket="reports")["KeyCount"] == 0

    history = s3.list_object_versions(Bucket="reports", Prefix="q1.csv")
    assert [v["VersionId"] for v in history["Versions"]] == [second, first]
    assert history["DeleteMarkers"][0]["IsLatest"] is True

    s3.delete_object(Bucket="reports", Key="q1.csv", VersionId=marker["VersionId"])
    assert s3.get_object(Bucket="reports", Key="q1.csv")["Body"].read() == b"final"
    assert s3.get_object(Bucket="reports", Key="q1.csv", VersionId=first)["Body"].read() == b"draft"

    # Rolling back: copy the old version over the current one (a new version, nothing is lost).
    s3.copy_object(
        Bucket="reports", Key="q1.csv", CopySource={"Bucket": "reports", "Key": "q1.csv", "VersionId": first}
    )
    assert s3.get_object(Bucket="reports", Key="q1.csv")["Body"].read() == b"draft"
    assert len(s3.list_object_versions(Bucket="reports")["Versions"]) == 3
