"""KMS test helpers: a client per Region against the session's server."""

import pytest


@pytest.fixture
def kms(overcast):
    return overcast.client("kms")


@pytest.fixture
def key(kms):
    """A symmetric customer managed key's id."""
    return kms.create_key(Description="test key")["KeyMetadata"]["KeyId"]
