"""Helpers for Lambda tests: deployment packages built in memory, functions created through boto3."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from tests.waiting import wait_for

ROLE = "arn:aws:iam::000000000000:role/lambda-role"


def zip_of(files: dict[str, str], modes: dict[str, int] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (modes or {}).get(name, 0o644) << 16
            archive.writestr(info, text)
    return buffer.getvalue()


PY_ECHO = """
import os
def handler(event, context):
    print("got", event)
    return {"event": event, "request_id": context.aws_request_id, "version": os.environ["AWS_LAMBDA_FUNCTION_VERSION"]}
"""


@pytest.fixture
def lam(overcast):
    return overcast.client("lambda")


@pytest.fixture
def make_function(lam):
    def make(
        name: str,
        source: str = PY_ECHO,
        handler: str = "app.handler",
        runtime: str = "python3.11",
        files: dict[str, str] | None = None,
        **kwargs,
    ):
        package = zip_of(files or {"app.py": source})
        return lam.create_function(
            FunctionName=name,
            Runtime=runtime,
            Role=ROLE,
            Handler=handler,
            Code={"ZipFile": package},
            **kwargs,
        )

    return make


@pytest.fixture
def invoke_json(lam):
    """Invoke with a JSON event; returns (response, decoded payload)."""

    def invoke(name: str, event=None, **kwargs):
        response = lam.invoke(
            FunctionName=name, Payload=json.dumps(event if event is not None else {}), **kwargs
        )
        return response, json.loads(response["Payload"].read() or b"null")

    return invoke


@pytest.fixture
def package():
    return zip_of


@pytest.fixture
def settled(lam):
    """Wait until a function's last update is no longer InProgress (AWS users wait the same way, with the
    function_updated_v2 waiter) before the next update or PublishVersion."""

    def wait(name: str) -> dict:
        return wait_for(
            lambda: (
                (c := lam.get_function_configuration(FunctionName=name))["LastUpdateStatus"] == "Successful"
                and c
            ),
            timeout=30,
        )

    return wait
