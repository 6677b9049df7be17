import pytest


@pytest.fixture
def cloudwatch(overcast):
    return overcast.client("cloudwatch")


@pytest.fixture
def sqs(overcast):
    return overcast.client("sqs")


@pytest.fixture
def sns(overcast):
    return overcast.client("sns")
