"""Real clients against the server: AWS CLI v1 and v2 (`aws s3` and `s3api`), rclone, s3cmd."""

import os
import shutil
import subprocess
import time
import urllib.request

import pytest

from tests.helpers import AWS_V1, AWS_V2, aws

pytestmark = pytest.mark.slow

CLI_V1, CLI_V2 = AWS_V1, AWS_V2


def _cli_version(path: str) -> str:
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=60)
    except OSError:
        return ""
    return (out.stdout or out.stderr).strip()


CLIS = [pytest.param(CLI_V1, id="cli-v1")]
if os.path.exists(CLI_V2) and _cli_version(CLI_V2).startswith("aws-cli/2"):
    CLIS.append(pytest.param(CLI_V2, id="cli-v2"))
else:
    CLIS.append(
        pytest.param(CLI_V2, id="cli-v2", marks=pytest.mark.skip(reason="AWS CLI v2 is not installed"))
    )


def _run(args: list[str], overcast, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run a client other than the AWS CLI (rclone, s3cmd) with test credentials; it must succeed."""
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_PAGER": "",
        **(env or {}),
    }
    env.pop("AWS_CA_BUNDLE", None)  # plain http here; rclone refuses a CA bundle it cannot apply
    result = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.mark.parametrize("cli", CLIS)
def test_aws_s3_cp_sync_ls_presign(cli, overcast, tmp_path):
    def cli_text(*args: str) -> str:
        return aws(overcast, *args, cli=cli, output="text")

    cli_text("s3", "mb", "s3://cli-bucket")
    small = tmp_path / "small.txt"
    small.write_text("hello from the cli")
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(20 * 1024 * 1024))  # multipart with the CLI's 8 MiB parts
    cli_text("s3", "cp", str(small), "s3://cli-bucket/docs/small.txt")
    cli_text("s3", "cp", str(big), "s3://cli-bucket/big.bin")
    listing = cli_text("s3", "ls", "s3://cli-bucket/", "--recursive")
    assert "docs/small.txt" in listing and "big.bin" in listing
    back = tmp_path / "back.bin"
    cli_text("s3", "cp", "s3://cli-bucket/big.bin", str(back))
    assert back.read_bytes() == big.read_bytes()

    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "a.txt").write_text("a")
    (tree / "sub" / "b.txt").write_text("b")
    # S3's LastModified has whole seconds: files written in the second they are uploaded would look newer
    for written in (tree / "a.txt", tree / "sub" / "b.txt"):
        os.utime(written, (time.time() - 5, time.time() - 5))
    cli_text("s3", "sync", str(tree), "s3://cli-bucket/tree")
    again = cli_text("s3", "sync", str(tree), "s3://cli-bucket/tree")
    assert again.strip() == ""  # nothing changed: sync compares sizes and times from ListObjectsV2
    mirror = tmp_path / "mirror"
    cli_text("s3", "sync", "s3://cli-bucket/tree", str(mirror))
    assert (mirror / "sub" / "b.txt").read_text() == "b"

    url = cli_text("s3", "presign", "s3://cli-bucket/docs/small.txt", "--expires-in", "300").strip()
    with urllib.request.urlopen(url) as response:
        assert response.read() == b"hello from the cli"

    head = aws(overcast, "s3api", "head-object", "--bucket", "cli-bucket", "--key", "big.bin", cli=cli)
    assert head["ContentLength"] == 20971520
    cli_text("s3", "rm", "s3://cli-bucket", "--recursive")
    cli_text("s3", "rb", "s3://cli-bucket")


@pytest.mark.skipif(shutil.which("rclone") is None, reason="rclone is not installed")
def test_rclone(overcast, tmp_path):
    env = {
        "RCLONE_CONFIG_OC_TYPE": "s3",
        "RCLONE_CONFIG_OC_PROVIDER": "Other",
        "RCLONE_CONFIG_OC_ENDPOINT": overcast.endpoint,
        "RCLONE_CONFIG_OC_ACCESS_KEY_ID": "test",
        "RCLONE_CONFIG_OC_SECRET_ACCESS_KEY": "test",
        "RCLONE_CONFIG_OC_REGION": "us-east-1",
        "RCLONE_CONFIG_OC_FORCE_PATH_STYLE": "true",
    }
    source = tmp_path / "src"
    (source / "nested").mkdir(parents=True)
    (source / "one.txt").write_text("one")
    (source / "nested" / "two.bin").write_bytes(os.urandom(7 * 1024 * 1024))
    run = lambda *args: _run(["rclone", *args], overcast, env=env)  # noqa: E731
    run("mkdir", "oc:rclone-bucket")
    run("copy", str(source), "oc:rclone-bucket/data")
    listing = run("ls", "oc:rclone-bucket").stdout
    assert "data/one.txt" in listing and "data/nested/two.bin" in listing
    assert run("cat", "oc:rclone-bucket/data/one.txt").stdout == "one"
    run("check", str(source), "oc:rclone-bucket/data")
    target = tmp_path / "dst"
    run("sync", "oc:rclone-bucket/data", str(target))
    assert (target / "nested" / "two.bin").read_bytes() == (source / "nested" / "two.bin").read_bytes()
    run("purge", "oc:rclone-bucket")


@pytest.mark.skipif(shutil.which("s3cmd") is None, reason="s3cmd is not installed")
def test_s3cmd(overcast, tmp_path):
    host = f"127.0.0.1:{overcast.config.port}"
    base = [
        "s3cmd",
        "--no-ssl",
        f"--host={host}",
        f"--host-bucket={host}",
        "--access_key=test",
        "--secret_key=test",
        "--region=us-east-1",
        "--config=/dev/null",
    ]
    source = tmp_path / "file.txt"
    source.write_text("from s3cmd")
    _run([*base, "mb", "s3://s3cmd-bucket"], overcast)
    _run([*base, "put", str(source), "s3://s3cmd-bucket/file.txt"], overcast)
    assert "s3://s3cmd-bucket/file.txt" in _run([*base, "ls", "s3://s3cmd-bucket"], overcast).stdout
    target = tmp_path / "back.txt"
    _run([*base, "get", "s3://s3cmd-bucket/file.txt", str(target)], overcast)
    assert target.read_text() == "from s3cmd"
    _run([*base, "del", "s3://s3cmd-bucket/file.txt"], overcast)
    _run([*base, "rb", "s3://s3cmd-bucket"], overcast)
