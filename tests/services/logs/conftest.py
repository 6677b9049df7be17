import time

import pytest


@pytest.fixture
def logs(overcast):
    return overcast.client("logs")


@pytest.fixture
def now_ms():
    return int(time.time() * 1000)


@pytest.fixture
def stream(logs):
    """A log group /test/app with one stream 'main'."""
    logs.create_log_group(logGroupName="/test/app")
    logs.create_log_stream(logGroupName="/test/app", logStreamName="main")
    return ("/test/app", "main")
