"""Fixtures for the S3 tests: a boto3 client against the in-process server and a fresh bucket."""

import uuid

import pytest
from botocore.config import Config


@pytest.fixture
def s3(overcast):
    return overcast.client("s3", config=Config(retries={"max_attempts": 1, "mode": "standard"}))


@pytest.fixture
def bucket(s3) -> str:
    name = f"test-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name
