"""docs/clients.md works: each snippet that can run here is run, as written, against a real server.

Snippets are the fenced blocks whose info string names them (```python boto3); the endpoint
`http://localhost:4566` is replaced by the test server's and `my-bucket` by a bucket of the test's own."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.helpers import AWS_V1, AWS_V2, need
from tests.js import run_node_text

pytestmark = pytest.mark.slow

DOC = Path(__file__).resolve().parents[2] / "docs" / "clients.md"
FENCE = re.compile(r"^```(\w+) ([\w-]+)\n(.*?)^```", re.M | re.S)
BIN = Path(sys.executable).parent


def snippet(name: str, overcast, bucket: str) -> str:
    blocks = {found[1]: found[2] for found in FENCE.findall(DOC.read_text())}
    return blocks[name].replace("http://localhost:4566", overcast.endpoint).replace("my-bucket", bucket)


@pytest.fixture
def bucket():
    return f"doc-{uuid.uuid4().hex[:10]}"


def bare_env(**extra: str) -> dict[str, str]:
    """The environment of a new shell on a machine with no AWS configuration."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return {**env, "HOME": "/nonexistent", "AWS_PAGER": "", **extra}


def run(args: list[str], env: dict[str, str], cwd: Path | None = None) -> str:
    done = subprocess.run(args, capture_output=True, text=True, env=env, cwd=cwd, timeout=120)
    assert done.returncode == 0, f"{args}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_env_snippet(overcast, bucket):
    # `overcast env` prints the endpoint it is given, or AWS_ENDPOINT_URL's: here, the test server's.
    env = bare_env(PATH=f"{BIN}:{os.environ['PATH']}", AWS_ENDPOINT_URL=overcast.endpoint)
    out = run(["bash", "-ec", snippet("env", overcast, bucket)], env)
    assert '"Account": "000000000000"' in out


def test_boto3_snippet(overcast, bucket):
    out = run([sys.executable, "-c", snippet("boto3", overcast, bucket)], bare_env())
    assert out.strip() == "hello"


@pytest.mark.parametrize("cli", [AWS_V1, AWS_V2], ids=["cli-v1", "cli-v2"])
def test_aws_cli_snippet(overcast, bucket, cli):
    need(cli)
    script = snippet("aws-cli", overcast, bucket).replace("aws ", f"{cli} ")
    out = run(["bash", "-ec", script], bare_env())
    assert "hello.txt" in out


def test_js_sdk_snippet(overcast, bucket):
    assert run_node_text(overcast.endpoint, snippet("js-sdk", overcast, bucket)).strip() == "hello"


def test_rclone_snippet(overcast, bucket, tmp_path):
    rclone = need("rclone")
    config = tmp_path / "rclone.conf"
    config.write_text(snippet("rclone", overcast, bucket))
    env = bare_env()
    run([rclone, "--config", str(config), "mkdir", f"overcast:{bucket}"], env)
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "a.txt").write_text("a")
    run([rclone, "--config", str(config), "copy", str(tmp_path / "dir"), f"overcast:{bucket}/dir"], env)
    assert "dir/a.txt" in run([rclone, "--config", str(config), "ls", f"overcast:{bucket}"], env)


def test_s3cmd_snippet(overcast, bucket, tmp_path):
    s3cmd = need("s3cmd")
    config = tmp_path / "s3cfg"
    endpoint_host = overcast.endpoint.removeprefix("http://")
    config.write_text(snippet("s3cmd", overcast, bucket).replace("localhost:4566", endpoint_host))
    env = bare_env()
    run([s3cmd, "-c", str(config), "mb", f"s3://{bucket}"], env)
    assert f"s3://{bucket}" in run([s3cmd, "-c", str(config), "ls"], env)


SYNC_EXECUTION = """
import json, boto3
sfn = boto3.client("stepfunctions")
role = "arn:aws:iam::000000000000:role/sfn"
machine = sfn.create_state_machine(
    name="doc-sync-{suffix}", roleArn=role, type="EXPRESS",
    definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
)["stateMachineArn"]
print(sfn.start_sync_execution(stateMachineArn=machine, input='{"hi": 1}')["output"])
"""


def test_overcast_env_lets_prefixed_hosts_reach_the_endpoint(overcast, bucket, tmp_path):
    """StartSyncExecution would go to sync-localhost without the setting `overcast env` exports."""
    env = bare_env(PATH=f"{BIN}:{os.environ['PATH']}", AWS_ENDPOINT_URL=overcast.endpoint)
    exports = run([str(BIN / "overcast"), "env"], env)
    assert "export AWS_DISABLE_HOST_PREFIX_INJECTION=true" in exports
    script = tmp_path / "sync.py"
    script.write_text(SYNC_EXECUTION.replace("{suffix}", bucket))
    out = run(["bash", "-ec", f'eval "$(overcast env)"\n{sys.executable} {script}'], env)
    assert json.loads(out) == {"hi": 1}
