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
    yield overcast_server
    overcast_server.reset()
