"""A second in-process server with `--iam enforce`, for tests of what IAM allows and denies.

Its fixtures `enforced_server` and `enforced` are registered for every test by tests/conftest.py.
"""

import json
from collections.abc import Iterator

import pytest

from overcast.config import Config
from overcast.testing import OvercastServer


@pytest.fixture(scope="module")
def enforced_server() -> Iterator[OvercastServer]:
    with OvercastServer(Config(ephemeral=True, log_level="warning", iam="enforce")) as server:
        yield server


@pytest.fixture
def enforced(enforced_server: OvercastServer) -> Iterator[OvercastServer]:
    yield enforced_server
    enforced_server.reset()


def client_as(server: OvercastServer, service: str, credentials: dict, region: str = "us-east-1"):
    """A client signing with an access key (CreateAccessKey's AccessKey or STS's Credentials)."""
    return server.client(
        service,
        region=region,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials.get("SessionToken"),
    )


def user_with_key(server: OvercastServer, name: str, *policy_arns: str, account_client=None) -> dict:
    iam = account_client or server.client("iam")
    iam.create_user(UserName=name)
    for arn in policy_arns:
        iam.attach_user_policy(UserName=name, PolicyArn=arn)
    return iam.create_access_key(UserName=name)["AccessKey"]


def document(*statements) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})
