"""A new user's first minutes, as the README tells them, and Overcast installed the way a user installs it.

- The README's quick start, verbatim, on a fresh clone with a HOME that has no AWS configuration: `make run`,
  then (from another shell) its client line and first command.
- A wheel built from the checkout and installed into a clean virtualenv without the dev extras serves the
  APIs, and a Python Lambda function that imports boto3 runs there (AWS's Python runtimes ship boto3).

Both build virtualenvs from PyPI: slow, run in CI.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.server_process import free_port

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


def quick_start_blocks() -> list[str]:
    """The README's first two shell blocks: how to serve, and the client line with its first command."""
    text = (REPO / "README.md").read_text()
    return re.findall(r"^```sh\n(.*?)^```", text, re.M | re.S)[:2]


def wait_for_health(endpoint: str, process: subprocess.Popen, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(endpoint + "/_overcast/health", timeout=2).read()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    f"no server: {process.stdout.read() if process.poll() is not None else ''}"
                ) from None
            time.sleep(0.2)


def stop(process: subprocess.Popen) -> str:
    os.killpg(process.pid, signal.SIGINT)
    try:
        return process.communicate(timeout=30)[0]
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        return process.communicate()[0]


@pytest.mark.timeout(1200)
def test_readme_quick_start_on_a_fresh_clone(tmp_path):
    if shutil.which("aws") is None and not Path("/usr/bin/aws").exists():
        pytest.skip("the README's first command is the AWS CLI")
    clone = tmp_path / "overcast"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True, timeout=120)
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "VIRTUAL_ENV", "PYTHON"))}
    env.update(HOME=str(home), PATH=os.environ["PATH"].replace(f"{Path(sys.executable).parent}:", ""))
    env["PIP_CACHE_DIR"] = os.environ.get("PIP_CACHE_DIR") or str(
        Path.home() / ".cache" / "pip"
    )  # speed only
    serve, client = quick_start_blocks()
    assert "make run" in serve and "overcast env" in client
    port = free_port()
    server = subprocess.Popen(
        ["make", "run", f"ARGS=--port {port}"],
        cwd=clone,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        wait_for_health(f"http://127.0.0.1:{port}", server, 600)
        script = client.replace("overcast env)", f"overcast env --endpoint http://localhost:{port})")
        done = subprocess.run(
            ["bash", "-ec", script], cwd=clone, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["Account"] == "000000000000"
    finally:
        output = stop(server)
    assert "deprecated" not in output  # no setuptools license warning
    assert f"data:    {clone / '.overcast'}" in output and "Overcast stopped" in output


LAMBDA_CODE = """
import boto3, botocore
def handler(event, context):
    return {"boto3": boto3.__version__, "buckets": len(boto3.client("s3").list_buckets()["Buckets"])}
"""


@pytest.mark.timeout(1200)
def test_wheel_without_dev_extras_serves_and_runs_python_functions(tmp_path):
    import io
    import zipfile

    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(REPO)],
        check=True,
        timeout=600,
    )
    wheel = next(dist.glob("overcast-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    subprocess.run([venv / "bin" / "pip", "install", "-q", str(wheel)], check=True, timeout=600)
    port = free_port()
    server = subprocess.Popen(
        [venv / "bin" / "overcast", "start", "--ephemeral", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        endpoint = f"http://127.0.0.1:{port}"
        wait_for_health(endpoint, server, 60)
        import boto3

        def client(service: str):
            return boto3.client(
                service,
                endpoint_url=endpoint,
                region_name="us-east-1",
                aws_access_key_id="test",
                aws_secret_access_key="test",
            )

        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as zipped:
            zipped.writestr("app.py", LAMBDA_CODE)
        lam = client("lambda")
        lam.create_function(
            FunctionName="uses-boto3",
            Runtime="python3.12",
            Role="arn:aws:iam::000000000000:role/lambda",
            Handler="app.handler",
            Code={"ZipFile": archive.getvalue()},
        )
        client("s3").create_bucket(Bucket="seen-from-the-function")
        answer = lam.invoke(FunctionName="uses-boto3")
        payload = json.loads(answer["Payload"].read())
        assert "FunctionError" not in answer, payload
        assert payload["buckets"] == 1 and payload["boto3"]
    finally:
        stop(server)
