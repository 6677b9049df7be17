"""pytest plugin (entry point `pytest11`): the `overcast` fixture.

One in-memory server per test session; each test that uses `overcast` gets `AWS_ENDPOINT_URL`, region and
credentials pointing at it, and a clean state afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from overcast.testing import OvercastServer

_ENV = ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION", "AWS_REGION")


@pytest.fixture(scope="session")
def overcast_server() -> Iterator[OvercastServer]:
    """One in-memory Overcast server for the whole test session (a real HTTP server on a free loopback port,
    in a background thread), with AWS_ENDPOINT_URL, credentials (test/test) and region (us-east-1) exported so
    every boto3/AWS SDK client in the session talks to it. State is kept between tests: use `overcast`."""
    saved = {name: os.environ.get(name) for name in _ENV}
    with OvercastServer() as server:
        os.environ.update(
            AWS_ENDPOINT_URL=server.endpoint,
            AWS_ACCESS_KEY_ID=server.config.root_access_key,
            AWS_SECRET_ACCESS_KEY=server.config.root_secret_key,
            AWS_DEFAULT_REGION="us-east-1",
            AWS_REGION="us-east-1",
        )
        try:
            yield server
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


@pytest.fixture
def overcast(overcast_server: OvercastServer) -> Iterator[OvercastServer]:
    """The session's Overcast server, emptied after the test. `overcast.client("s3")` makes a boto3 client,
    `overcast.advance_clock("3d")` moves the virtual clock, `overcast.reset()` deletes every resource,
    `overcast.health()` reports the services, `overcast.endpoint` is its URL."""
    yield overcast_server
    overcast_server.reset()
