"""The AWS CLI (v1) creating and invoking Python, Node.js and custom-runtime functions."""

import base64
import json
import shutil

import pytest

from tests.helpers import aws

from .conftest import ROLE, zip_of
from .test_runtimes import NODE_ECHO, SHELL_BOOTSTRAP

PYTHON_ECHO = "def handler(event, context):\n    print('value1 =', event['key1'])\n    return event['key1']\n"


def create_and_invoke(overcast, tmp_path, name: str, runtime: str, handler: str, files: dict, modes=None):
    package = tmp_path / f"{name}.zip"
    package.write_bytes(zip_of(files, modes))
    created = aws(
        overcast,
        "lambda",
        "create-function",
        "--function-name",
        name,
        "--runtime",
        runtime,
        "--handler",
        handler,
        "--role",
        ROLE,
        "--zip-file",
        f"fileb://{package}",
    )
    assert created["FunctionName"] == name
    out = tmp_path / f"{name}.json"
    payload = json.dumps({"key1": "value1"})  # CLI v1 sends --payload as given (v2 would want base64)
    result = aws(
        overcast,
        "lambda",
        "invoke",
        "--function-name",
        name,
        "--payload",
        payload,
        "--log-type",
        "Tail",
        str(out),
    )
    assert result["StatusCode"] == 200 and "FunctionError" not in result, out.read_text()
    return json.loads(out.read_text()), base64.b64decode(result["LogResult"]).decode()


@pytest.mark.slow
def test_cli_python_function(overcast, tmp_path):
    body, log = create_and_invoke(
        overcast, tmp_path, "cli-py", "python3.11", "app.handler", {"app.py": PYTHON_ECHO}
    )
    assert body == "value1"
    assert "value1 = value1" in log and "REPORT RequestId:" in log
    listed = aws(overcast, "lambda", "list-functions")["Functions"]
    assert [f["FunctionName"] for f in listed] == ["cli-py"]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_cli_node_function(overcast, tmp_path):
    body, log = create_and_invoke(
        overcast, tmp_path, "cli-node", "nodejs20.x", "index.handler", {"index.js": NODE_ECHO}
    )
    assert body["key1"] == "value1"
    assert "INFO\tvalue1 = value1" in log


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_cli_custom_runtime(overcast, tmp_path):
    body, _ = create_and_invoke(
        overcast,
        tmp_path,
        "cli-shell",
        "provided.al2023",
        "function.handler",
        {"bootstrap": SHELL_BOOTSTRAP},
        {"bootstrap": 0o755},
    )
    assert body["echo"] == {"key1": "value1"}
