"""Every implemented operation, driven with inputs generated from its model (valid and hostile values, members
left out), through a real server and a real botocore client that does not validate: no answer may be a 500, a
hang or a body the client cannot parse. Deterministic (seeded per operation) and bounded (CASES per operation,
a read timeout per request)."""

from __future__ import annotations

import datetime
import random
import zlib

import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, FlexibleChecksumError, ParamValidationError, ReadTimeoutError
from botocore.parsers import ResponseParserError

from overcast.protocol.models import get_service_model
from overcast.services import PROVIDERS, is_available
from overcast.services.base import serves
from tests.protocol.examples import ExampleGenerator

pytestmark = pytest.mark.slow

CASES = 6
# Answers that are not failures of ours: 501 (a part not implemented, said at once), 503 (slow down).
ALLOWED_5XX = {501, 503}
# Operations that would start long-lived work with any input (EC2's RunInstances boots sandboxes), and services
# whose endpoints botocore builds from an input (S3 Control puts the account id in the host name).
SKIPPED: set[tuple[str, str]] = set()
SKIPPED_SERVICES = {"s3control"}

HOSTILE_STRINGS = [
    "",
    " ",
    "a\x01b",
    "../../etc/passwd",
    "é漢字🙂",
    "x" * 5000,
    "*",
    "arn:aws:sqs:us-east-1:000000000000:nope",
    "{{resolve:ssm:/x}}",
    '<a>&"',
    "%00%ff",
    "-1",
]
HOSTILE_NUMBERS = [-1, 0, 2**63, 10**12]


class Fuzzer(ExampleGenerator):
    """The example generator, with hostile scalars and members left out, at random (seeded)."""

    def __init__(self, rng: random.Random) -> None:
        super().__init__()
        self.rng = rng

    def _structure(self, shape, stack, name_hint, top=False):
        out = super()._structure(shape, stack, name_hint, top)
        if out and self.rng.random() < 0.2:  # sometimes leave a member out, required or not
            out.pop(self.rng.choice(sorted(out)))
        return out

    def scalar(self, shape, name_hint: str, location: str | None = None):
        valid = super().scalar(shape, name_hint, location)
        if self.rng.random() < 0.5:
            return valid
        kind = shape.type_name
        if kind == "string" and not shape.serialization.get("jsonvalue"):
            return self.rng.choice(HOSTILE_STRINGS)
        if kind in ("integer", "long"):
            return self.rng.choice(HOSTILE_NUMBERS)
        if kind in ("float", "double"):
            return self.rng.choice([-1.5, 1e300, 0.0])
        if kind == "blob":
            return bytes(self.rng.randrange(256) for _ in range(self.rng.choice([0, 3, 300])))
        if kind == "timestamp":
            return self.rng.choice(
                [
                    datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC),
                    datetime.datetime(2200, 1, 1, tzinfo=datetime.UTC),
                ]
            )
        return valid


def _operations() -> list[tuple[str, str]]:
    import importlib

    found = []
    for service, target in sorted(PROVIDERS.items()):
        if not is_available(service) or service in SKIPPED_SERVICES:
            continue
        module, name = target.split(":")
        provider = getattr(importlib.import_module(module), name)
        for operation in get_service_model(service).operation_names:
            if (service, operation) not in SKIPPED and serves(provider, operation):
                found.append((service, operation))
    return found


@pytest.fixture(scope="module")
def clients(overcast_server):
    session = botocore.session.get_session()
    config = Config(
        retries={"max_attempts": 0},
        parameter_validation=False,
        read_timeout=30,
        connect_timeout=10,
        inject_host_prefix=False,
        s3={"addressing_style": "path"},
    )
    made: dict[str, object] = {}

    def client(service: str):
        if service not in made:
            made[service] = session.create_client(
                service,
                region_name="us-east-1",
                endpoint_url=overcast_server.endpoint,
                aws_access_key_id="test",
                aws_secret_access_key="test",
                config=config,
            )
        return made[service]

    return client


@pytest.mark.parametrize(("service", "operation"), _operations())
def test_no_500_no_hang_no_garbage(overcast, clients, service, operation):
    from botocore import xform_name

    client = clients(service)
    model = get_service_model(service).operation_model(operation)
    method = getattr(client, xform_name(operation))
    rng = random.Random(zlib.crc32(f"{service}.{operation}".encode()))
    for case in range(CASES):
        params = Fuzzer(rng).structure(model.input_shape) if model.input_shape is not None else {}
        try:
            answer = method(**params)
        except ClientError as error:
            status = error.response["ResponseMetadata"].get("HTTPStatusCode", 0)
            assert status < 500 or status in ALLOWED_5XX, (case, params, error.response.get("Error"))
            continue
        except ReadTimeoutError:
            pytest.fail(f"no answer within 30 s to {operation}({params!r})")
        except ResponseParserError as error:
            pytest.fail(f"an answer the client cannot parse to {operation}({params!r}): {error}")
        except (ParamValidationError, FlexibleChecksumError, KeyError, ValueError, TypeError, UnicodeError):
            continue  # the client itself refused or could not send these values: nothing reached the server
        _drain(answer)


def _drain(answer: dict) -> None:
    """Read streamed bodies to their end: a stream that breaks mid-way is a failure too."""
    for value in answer.values():
        read = getattr(value, "read", None)
        if callable(read):
            read()
        elif hasattr(value, "__iter__") and hasattr(value, "_event_generator"):
            for _ in value:
                pass
