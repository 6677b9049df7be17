"""Workers never outlive the server, queued events survive a restart, code from S3, logs in CloudWatch Logs."""

import json
import os

import boto3
import pytest

from overcast.config import Config
from overcast.services import is_available
from overcast.testing import OvercastServer
from tests.waiting import wait_for

from .conftest import PY_ECHO, ROLE, zip_of

PID = "import os\ndef handler(event, context):\n    return os.getpid()\n"


def client(server: OvercastServer, service: str):
    return boto3.client(
        service,
        region_name="us-east-1",
        endpoint_url=server.endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie is dead too
        return stat.read().split()[2] != "Z"


def test_workers_die_with_the_server(tmp_path):
    server = OvercastServer(Config(ephemeral=True, log_level="warning")).start()
    try:
        lam = client(server, "lambda")
        lam.create_function(
            FunctionName="pid",
            Runtime="python3.11",
            Role=ROLE,
            Handler="app.handler",
            Code={"ZipFile": zip_of({"app.py": PID})},
        )
        pid = json.loads(lam.invoke(FunctionName="pid")["Payload"].read())
        assert alive(pid)
    finally:
        server.stop()
    wait_for(lambda: not alive(pid))


def logged(server: OvercastServer, function: str, pattern: str) -> list[str]:
    """The lines of a function's CloudWatch log matching `pattern` (none before its log group exists)."""
    logs = client(server, "logs")
    try:
        events = logs.filter_log_events(logGroupName=f"/aws/lambda/{function}", filterPattern=pattern)
    except logs.exceptions.ResourceNotFoundException:
        return []
    return [e["message"] for e in events["events"]]


@pytest.mark.skipif(not is_available("logs"), reason="the settled attempt is seen in CloudWatch Logs")
def test_queued_event_survives_a_restart(tmp_path):
    out = tmp_path / "out.txt"
    source = (
        f"def handler(event, context):\n    open({str(out)!r}, 'a').write(str(event['n']) + '\\n')\n    "
        f"raise RuntimeError('fail')\n"
    )
    config = Config(data_dir=tmp_path / "data", log_level="warning")
    server = OvercastServer(config).start()
    try:
        lam = client(server, "lambda")
        lam.create_function(
            FunctionName="durable",
            Runtime="python3.11",
            Role=ROLE,
            Handler="app.handler",
            Code={"ZipFile": zip_of({"app.py": source})},
        )
        lam.put_function_event_invoke_config(FunctionName="durable", MaximumRetryAttempts=1)
        lam.invoke(FunctionName="durable", InvocationType="Event", Payload=b'{"n": 1}')
        # the attempt's log is shipped after its failure is settled: the retry now waits a virtual minute
        wait_for(lambda: logged(server, "durable", "REPORT"))
        assert out.read_text() == "1\n"
    finally:
        server.stop()
    server = OvercastServer(Config(data_dir=tmp_path / "data", log_level="warning")).start()
    try:
        # providers load on first use: until the server starts them at boot (a platform hook), touch Lambda
        client(server, "lambda").list_functions()
        server.advance_clock("61s")
        wait_for(lambda: out.read_text() == "1\n1\n")  # retried by the restarted server
    finally:
        server.stop()


def test_code_from_s3(overcast, lam, invoke_json):
    s3 = overcast.client("s3")
    s3.create_bucket(Bucket="code")
    s3.put_object(Bucket="code", Key="echo.zip", Body=zip_of({"app.py": PY_ECHO}))
    created = lam.create_function(
        FunctionName="from-s3",
        Runtime="python3.11",
        Role=ROLE,
        Handler="app.handler",
        Code={"S3Bucket": "code", "S3Key": "echo.zip"},
    )
    assert created["CodeSize"] > 0
    assert invoke_json("from-s3", {"a": 1})[1]["event"] == {"a": 1}


def test_configuration_change_starts_fresh_environments(lam, make_function, invoke_json):
    source = "import os\ndef handler(event, context):\n    return os.environ.get('MODE')\n"
    make_function("modes", source, Environment={"Variables": {"MODE": "one"}})
    assert invoke_json("modes")[1] == "one"
    lam.update_function_configuration(FunctionName="modes", Environment={"Variables": {"MODE": "two"}})
    assert invoke_json("modes")[1] == "two"


def test_runtime_interpreter_is_named_in_the_log(lam, make_function, invoke_json):
    import base64

    make_function("py312", runtime="python3.12")
    response, _ = invoke_json("py312", LogType="Tail")
    log = base64.b64decode(response["LogResult"]).decode()
    init = next(line for line in log.splitlines() if line.startswith("INIT_START"))
    assert "Runtime Version: python:3.12." in init or "Overcast: python3.12 runs on Python" in init


@pytest.mark.skipif(not is_available("logs"), reason="no logs service")
def test_invocation_logs_reach_cloudwatch_logs(overcast, lam, make_function, invoke_json):
    make_function("logged")
    response, _ = invoke_json("logged", {"hello": "logs"})
    request_id = response["ResponseMetadata"]["RequestId"]
    logs = overcast.client("logs")

    def shipped() -> tuple[list[dict], list[str]] | None:
        groups = logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/logged")["logGroups"]
        if not any(g["logGroupName"] == "/aws/lambda/logged" for g in groups):
            return None
        streams = logs.describe_log_streams(logGroupName="/aws/lambda/logged").get("logStreams", [])
        if not streams:
            return None
        events = logs.get_log_events(
            logGroupName="/aws/lambda/logged", logStreamName=streams[0]["logStreamName"]
        )["events"]
        messages = [e["message"] for e in events]
        return (streams, messages) if any(m.startswith("REPORT") for m in messages) else None

    streams, messages = wait_for(shipped)
    assert f"START RequestId: {request_id} Version: $LATEST" in messages
    assert any("got {'hello': 'logs'}" in m for m in messages)
    assert any(m.startswith(f"REPORT RequestId: {request_id}") for m in messages)
    assert "[$LATEST]" in streams[0]["logStreamName"]
