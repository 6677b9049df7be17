"""The `overcast` command as a user runs it: a real server process with a persistent data directory."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.server_process import OVERCAST, ServerProcess, free_port

AWS_V1 = str(Path(sys.executable).with_name("aws"))


@pytest.fixture
def server(tmp_path):
    started = ServerProcess(tmp_path / "data")
    yield started
    if started.process.poll() is None:
        started.stop(signal.SIGKILL)


def test_status_reports_health(server):
    result = server.cli("status")
    assert result.returncode == 0, result.stderr
    health = json.loads(result.stdout)
    assert health["status"] == "running" and health["persistent"] is True


def test_clock_advance_set_and_show(server):
    shown = server.cli("clock", "advance", "3d")
    assert shown.returncode == 0 and "+259200 s" in shown.stdout
    assert server.cli("clock", "set", "2030-01-01T00:00:00Z").stdout.startswith("2030-01-01T00:00")
    assert server.cli("clock", "show").stdout.startswith("2030-01-01T00:00")
    assert server.cli("clock", "advance", "soon").returncode != 0


def test_reset_asks_before_deleting_a_persistent_data_dir(server):
    s3 = server.client("s3")
    s3.create_bucket(Bucket="kept")
    refused = server.cli("reset")  # no terminal to ask on: refused without --yes
    assert refused.returncode == 1 and "Not without --yes" in refused.stderr
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["kept"]
    answered = subprocess.run(
        [OVERCAST, "reset", "--endpoint", server.endpoint, "--yes"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert answered.returncode == 0 and "every resource deleted" in answered.stdout
    assert s3.list_buckets()["Buckets"] == []


def test_version_both_ways():
    for args in (["version"], ["--version"]):
        version = subprocess.run([OVERCAST, *args], capture_output=True, text=True, timeout=30)
        assert version.returncode == 0 and version.stdout.startswith("overcast 0."), args


def test_env_points_clients_at_the_server(server):
    exports = subprocess.run(
        [OVERCAST, "env", "--endpoint", server.endpoint], capture_output=True, text=True, timeout=30
    ).stdout
    env = dict(line.removeprefix("export ").split("=", 1) for line in exports.splitlines())
    assert env["AWS_ENDPOINT_URL"] == server.endpoint and env["AWS_DEFAULT_REGION"] == "us-east-1"
    bare = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    done = subprocess.run(
        [AWS_V1, "sts", "get-caller-identity"],
        env={**bare, **env, "HOME": "/nonexistent"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["Account"] == "000000000000"
    profile = subprocess.run(
        [OVERCAST, "env", "--profile", "local", "--endpoint", server.endpoint],
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout
    assert profile.startswith("[profile local]\n") and f"endpoint_url = {server.endpoint}" in profile


def test_a_taken_port_is_one_line_and_a_failure(server):
    taken = subprocess.run(
        [OVERCAST, "start", "--port", str(server.port), "--ephemeral"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert taken.returncode == 1
    assert taken.stderr.strip().splitlines() == [
        f"overcast: cannot listen on 127.0.0.1:{server.port}: Address already in use"
    ]
    assert "Overcast" not in taken.stdout + taken.stderr.replace("overcast:", "")


def test_start_says_where_and_stop_says_so(tmp_path):
    started = ServerProcess(tmp_path / "data")
    output = started.stop(signal.SIGINT)
    assert f"data:    {tmp_path / 'data'}" in output
    assert output.rstrip().endswith("Overcast stopped")


def test_the_endpoint_itself_tells_a_person_what_it_is(server):
    import urllib.request

    page = urllib.request.urlopen(
        urllib.request.Request(server.endpoint + "/", headers={"Accept": "text/html"})
    )
    text = page.read().decode()
    assert page.headers["content-type"].startswith("text/html") and "<h1>Overcast" in text
    assert "AWS_ENDPOINT_URL" in text and "/_overcast/health" in text
    facts = json.loads(urllib.request.urlopen(server.endpoint + "/").read())
    assert (
        facts["persistent"] is True
        and facts["clients"]["AWS_ENDPOINT_URL"] == f"http://127.0.0.1:{server.port}"
    )
    info = json.loads(urllib.request.urlopen(server.endpoint + "/_localstack/info").read())
    assert info["version"] == facts["version"] and info["is_docker"] is False
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(server.endpoint + "/_overcast/no-such-thing")
    assert missing.value.code == 404 and "no internal endpoint" in json.loads(missing.value.read())["error"]
    # a signed GET / is still S3's ListBuckets
    assert server.client("s3").list_buckets()["Buckets"] == []


def test_clock_survives_restart_and_sigterm_stops_cleanly(tmp_path):
    data = tmp_path / "data"
    first = ServerProcess(data)
    first.cli("clock", "set", "2031-06-01T00:00:00Z")
    first.stop(signal.SIGTERM)
    # The server finishes in-flight requests, shuts the store (checkpointing the WAL), then re-raises SIGTERM.
    assert first.process.returncode in (0, -signal.SIGTERM)
    assert not (data / "overcast.db-wal").exists() or (data / "overcast.db-wal").stat().st_size == 0
    second = ServerProcess(data)
    try:
        assert second.cli("clock", "show").stdout.startswith("2031-06-01")
    finally:
        second.stop()


def test_no_server_is_a_clear_error(tmp_path):
    result = subprocess.run(
        [OVERCAST, "status", "--endpoint", f"http://127.0.0.1:{free_port()}"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0 and "no server at" in result.stderr


def test_bad_flag_value_is_refused(tmp_path):
    result = subprocess.run([OVERCAST, "start", "--iam", "maybe"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2


def test_environment_variables_configure_start(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "OVERCAST_PORT": str(port),
        "OVERCAST_DATA_DIR": str(tmp_path / "env-data"),
        "OVERCAST_DEFAULT_ACCOUNT": "111122223333",
        "OVERCAST_LOG_LEVEL": "info",
    }
    process = subprocess.Popen(
        [OVERCAST, "start"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                import boto3

                sts = boto3.client(
                    "sts",
                    endpoint_url=f"http://127.0.0.1:{port}",
                    region_name="us-east-1",
                    aws_access_key_id="test",
                    aws_secret_access_key="test",
                )
                assert sts.get_caller_identity()["Account"] == "111122223333"
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        assert (tmp_path / "env-data" / "overcast.db").exists()
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=20)
    assert "sts.GetCallerIdentity 200" in output and "111122223333 us-east-1" in output


def _aws(binary: str, endpoint: str, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }
    env.pop("AWS_ENDPOINT_URL", None)
    return subprocess.run(
        [binary, "--endpoint-url", endpoint, *args], capture_output=True, text=True, env=env, timeout=60
    )


@pytest.mark.slow
@pytest.mark.parametrize("binary", [AWS_V1, "/usr/bin/aws"], ids=["cli-v1", "cli-v2"])
def test_aws_cli_get_caller_identity(server, binary):
    if not shutil.which(binary):
        pytest.skip(f"{binary} is not installed (.ci/run installs it)")
    result = _aws(binary, server.endpoint, "sts", "get-caller-identity")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["Arn"] == "arn:aws:iam::000000000000:root"


@pytest.mark.slow
@pytest.mark.parametrize("binary", [AWS_V1, "/usr/bin/aws"], ids=["cli-v1", "cli-v2"])
def test_aws_cli_unimplemented_operation_fails_fast(server, binary):
    if not shutil.which(binary):
        pytest.skip(f"{binary} is not installed (.ci/run installs it)")
    started = time.monotonic()
    result = _aws(binary, server.endpoint, "codecommit", "list-repositories")
    assert result.returncode != 0
    assert "NotImplemented" in result.stderr
    assert time.monotonic() - started < 30


def test_spin_setting_is_checked_and_zero_turns_it_off(tmp_path):
    refused = subprocess.run(
        [OVERCAST, "start", "--spin-us", "-5"], capture_output=True, text=True, timeout=30
    )
    assert refused.returncode == 2 and "--spin-us" in refused.stderr
    quiet = ServerProcess(tmp_path / "data", "--spin-us", "0")  # never polls after a response
    try:
        assert quiet.cli("status").returncode == 0
    finally:
        quiet.stop()


def test_a_second_server_on_the_same_data_dir_is_refused(tmp_path):
    first = ServerProcess(tmp_path / "data")
    try:
        second = subprocess.run(
            [OVERCAST, "start", "--port", str(free_port()), "--data-dir", str(tmp_path / "data")],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert second.returncode == 1 and "in use by another Overcast" in second.stderr
        assert first.cli("status").returncode == 0  # the first one goes on serving
    finally:
        first.stop()


def test_each_request_is_logged_once_in_one_line(tmp_path):
    server = ServerProcess(tmp_path / "data")
    sqs = server.client("sqs", region="eu-west-1")
    sqs.create_queue(QueueName="logged")
    for _ in range(3):
        sqs.list_queues()
    output = server.stop()
    assert output.count("sqs.CreateQueue 200") == 1
    assert output.count("sqs.ListQueues 200") == 3
    assert "000000000000 eu-west-1" in output


def test_services_used_before_a_restart_resume_without_a_request(tmp_path):
    data = tmp_path / "data"
    first = ServerProcess(data)
    s3 = first.client("s3")
    s3.create_bucket(Bucket="resumed")
    s3.put_bucket_lifecycle_configuration(
        Bucket="resumed",
        LifecycleConfiguration={
            "Rules": [{"ID": "a-day", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 1}}]
        },
    )
    s3.put_object(Bucket="resumed", Key="old", Body=b"x")
    first.stop()
    second = ServerProcess(data)
    try:
        deadline = time.monotonic() + 30
        while json.loads(second.cli("status").stdout or "{}").get("services", {}).get("s3") != "running":
            assert time.monotonic() < deadline, "S3 was not started after the restart"
            time.sleep(0.05)
        health = json.loads(second.cli("status").stdout)
        assert health["services"]["dynamodb"] == "available"  # never used here: still not loaded
        second.cli("clock", "advance", "3d")
        s3 = second.client("s3")
        while s3.list_objects_v2(Bucket="resumed").get("KeyCount"):
            assert time.monotonic() < deadline + 30, "the lifecycle rule did not expire the object"
            time.sleep(0.05)
    finally:
        second.stop()
