import io
import zipfile

import pytest

from tests.waiting import wait_for

ROLE = "arn:aws:iam::000000000000:role/firehose-role"
BUCKET = "delivery-bucket"


@pytest.fixture
def firehose(overcast):
    return overcast.client("firehose")


@pytest.fixture
def s3(overcast):
    client = overcast.client("s3")
    client.create_bucket(Bucket=BUCKET)
    return client


def s3_destination(**extra):
    return {"RoleARN": ROLE, "BucketARN": f"arn:aws:s3:::{BUCKET}", **extra}


def objects(s3, bucket=BUCKET) -> dict[str, bytes]:
    """{key: body} of the bucket's objects, in the order they were written."""
    listed = sorted(
        s3.list_objects_v2(Bucket=bucket).get("Contents", []), key=lambda o: (o["LastModified"], o["Key"])
    )
    return {o["Key"]: s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in listed}


def delivered(s3, count=1, bucket=BUCKET, timeout=30.0) -> dict[str, bytes]:
    """Wait until the bucket holds at least `count` objects; {key: body}."""
    return wait_for(lambda: (found := objects(s3, bucket)) and len(found) >= count and found, timeout=timeout)


def zipped(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()
