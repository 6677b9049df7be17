"""Run the AWS CDK CLI (`cdk bootstrap`, `deploy`, `diff`, `destroy`) against a real Overcast server.

aws-cdk-lib, constructs and the aws-cdk CLI are pinned in `package.json` (and `package-lock.json`) beside this
file and installed with `npm ci` into `node_modules/` on first use (skipped when it is there already). Tests
skip when node or npm is missing; a failed install fails the test.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def install() -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed for the CDK tests")
    stamp = HERE / "node_modules" / ".overcast-installed"
    with (HERE / ".install.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        lockfile = (HERE / "package-lock.json").read_bytes()
        if stamp.exists() and stamp.read_bytes() == lockfile:
            return
        done = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=HERE,
            capture_output=True,
            text=True,
            timeout=600,
            stdin=subprocess.DEVNULL,
        )
        assert done.returncode == 0, f"npm ci failed:\n{done.stdout}\n{done.stderr}"
        stamp.write_bytes(lockfile)


def cdk(
    endpoint: str,
    *args: str,
    output: Path,
    timeout: float = 300,
    check: bool = True,
    app: str = "app.js",
) -> subprocess.CompletedProcess:
    """Run the CDK CLI on an app beside this file (`app.js` unless told), against `endpoint`."""
    install()
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "CDK_DEFAULT_ACCOUNT": "000000000000",
        "CDK_DEFAULT_REGION": "us-east-1",
        "CDK_DISABLE_VERSION_CHECK": "1",
        "CDK_DISABLE_CLI_TELEMETRY": "1",
    }
    command = [
        str(HERE / "node_modules" / ".bin" / "cdk"),
        *args,
        "--app",
        f"node {HERE / app}",
        "--output",
        str(output),
        "--no-notices",
        "--no-version-reporting",
        "--require-approval",
        "never",
    ]
    done = subprocess.run(
        command, cwd=HERE, capture_output=True, text=True, timeout=timeout, env=env, stdin=subprocess.DEVNULL
    )
    if check:
        assert done.returncode == 0, f"cdk {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done
