"""Node.js under Overcast's bootstrap and custom runtimes (provided.al2023) running their own bootstrap."""

import base64
import shutil

import pytest

from tests.helpers import code_of, message_of

needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")

NODE_ECHO = """
exports.handler = async (event, context) => {
  console.log("value1 =", event.key1);
  return { key1: event.key1, requestId: context.awsRequestId, name: context.functionName };
};
"""


@needs_node
def test_node_function_runs(lam, make_function, invoke_json):
    make_function("node-echo", handler="index.handler", runtime="nodejs20.x", files={"index.js": NODE_ECHO})
    response, body = invoke_json("node-echo", {"key1": "value1"}, LogType="Tail")
    request_id = response["ResponseMetadata"]["RequestId"]
    assert "FunctionError" not in response, body
    assert body == {"key1": "value1", "requestId": request_id, "name": "node-echo"}
    log = base64.b64decode(response["LogResult"]).decode()
    assert f"\t{request_id}\tINFO\tvalue1 = value1" in log
    assert f"REPORT RequestId: {request_id}" in log


@needs_node
def test_node_error_uses_trace(lam, make_function, invoke_json):
    source = "exports.handler = async () => { throw new Error('Something went wrong'); };"
    make_function("node-boom", handler="index.handler", runtime="nodejs20.x", files={"index.js": source})
    response, body = invoke_json("node-boom")
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Error"
    assert body["errorMessage"] == "Something went wrong"
    assert body["trace"][0] == "Error: Something went wrong"


@needs_node
def test_node_esm_and_callback_handlers(lam, make_function, invoke_json):
    make_function(
        "node-esm",
        handler="index.handler",
        runtime="nodejs22.x",
        files={"index.mjs": "export const handler = async (event) => event.n * 2;"},
    )
    assert invoke_json("node-esm", {"n": 21})[1] == 42
    make_function(
        "node-cb",
        handler="lib/main.go",
        runtime="nodejs20.x",
        files={"lib/main.js": "exports.go = (event, context, callback) => callback(null, 'done');"},
    )
    assert invoke_json("node-cb")[1] == "done"


NODE_HUNGRY = """
exports.handler = async (event) => {
  if (event.buffer) return Buffer.alloc(event.buffer << 20, 1).length >> 20;  // off the V8 heap
  const kept = [];
  for (let i = 0; i < event.heap; i++) kept.push(new Array(1 << 17).fill(i + 0.5));  // on it, 1 MB each
  return kept.length;
};
"""


@needs_node
def test_node_memory_limit_is_enforced(lam, make_function, invoke_json):
    make_function(
        "node-hungry",
        handler="index.handler",
        runtime="nodejs20.x",
        files={"index.js": NODE_HUNGRY},
        MemorySize=128,
    )
    assert invoke_json("node-hungry", {"buffer": 32})[1] == 32
    assert invoke_json("node-hungry", {"heap": 16})[1] == 16
    response, body = invoke_json("node-hungry", {"buffer": 1024})  # refused by the process's data limit
    assert response["FunctionError"] == "Unhandled" and body["errorType"] == "RangeError"
    # V8 stops at its heap limit (--max-old-space-size): the runtime process dies
    response, body = invoke_json("node-hungry", {"heap": 1024})
    assert response["FunctionError"] == "Unhandled" and body["errorType"] == "Runtime.ExitError"
    assert invoke_json("node-hungry", {"heap": 16})[1] == 16  # a fresh environment serves the next call


@needs_node
def test_node_handler_not_found(lam, make_function, invoke_json):
    make_function(
        "node-nohandler", handler="index.missing", runtime="nodejs20.x", files={"index.js": NODE_ECHO}
    )
    response, body = invoke_json("node-nohandler")
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.HandlerNotFound"
    assert body["errorMessage"] == "index.missing is undefined or not exported"


SHELL_BOOTSTRAP = """#!/bin/sh
set -eu
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
while true; do
  HEADERS="$(mktemp)"
  EVENT=$(curl -sS -D "$HEADERS" "$API/invocation/next")
  REQUEST_ID=$(grep -i Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  echo "handling $REQUEST_ID"
  curl -sS -X POST "$API/invocation/$REQUEST_ID/response" -d "{\\"echo\\": $EVENT, \\"handler\\": \\"$_HANDLER\\"}" > /dev/null
done
"""


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_custom_runtime_runs_its_bootstrap(lam, package, invoke_json):
    lam.create_function(
        FunctionName="shell",
        Runtime="provided.al2023",
        Role="arn:aws:iam::000000000000:role/r",
        Handler="function.handler",
        Code={"ZipFile": package({"bootstrap": SHELL_BOOTSTRAP}, {"bootstrap": 0o755})},
    )
    response, body = invoke_json("shell", {"hello": "world"}, LogType="Tail")
    assert body == {"echo": {"hello": "world"}, "handler": "function.handler"}
    assert (
        "handling " + response["ResponseMetadata"]["RequestId"]
        in base64.b64decode(response["LogResult"]).decode()
    )
    assert invoke_json("shell", {"n": 2})[1]["echo"] == {"n": 2}  # warm: the same bootstrap loop


def test_custom_runtime_without_bootstrap(lam, package, invoke_json):
    lam.create_function(
        FunctionName="nobootstrap",
        Runtime="provided.al2",
        Role="arn:aws:iam::000000000000:role/r",
        Handler="x",
        Code={"ZipFile": package({"readme.txt": "no bootstrap here"})},
    )
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as raised:
        invoke_json("nobootstrap")
    assert code_of(raised) == "InvalidRuntimeException"
    assert "bootstrap" in message_of(raised)


def test_runtime_not_available_is_a_clear_error(lam, make_function, invoke_json):
    make_function("java", handler="example.Handler::handleRequest", runtime="java21", files={"a.txt": "x"})
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as raised:
        invoke_json("java")
    assert code_of(raised) == "InvalidRuntimeException"
    assert "java21" in message_of(raised)


def test_layers_are_on_the_search_path(lam, package, make_function, invoke_json):
    layer = lam.publish_layer_version(
        LayerName="helpers",
        Content={"ZipFile": package({"python/helper.py": "def greet():\n    return 'from layer'\n"})},
        CompatibleRuntimes=["python3.11"],
    )
    assert layer["Version"] == 1
    source = "import helper\ndef handler(event, context):\n    return helper.greet()\n"
    make_function("with-layer", source, Layers=[layer["LayerVersionArn"]])
    assert invoke_json("with-layer")[1] == "from layer"
