"""Run a JavaScript program with the AWS SDK for JavaScript v3 against a real Overcast server.

The SDK packages are pinned in `package.json` (and `package-lock.json`) beside this file and installed with
`npm ci` into `node_modules/` on first use (a few seconds; skipped when it is there already). Tests skip when
node or npm is missing; a failed install fails the test.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent


def _install(where: Path = HERE) -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed for the JavaScript SDK tests")
    stamp = where / "node_modules" / ".overcast-installed"
    lock = where / ".install.lock"
    with lock.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        lockfile = (where / "package-lock.json").read_bytes()
        if stamp.exists() and stamp.read_bytes() == lockfile:
            return
        done = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=where,
            capture_output=True,
            text=True,
            timeout=300,
            stdin=subprocess.DEVNULL,
        )
        assert done.returncode == 0, f"npm ci failed:\n{done.stdout}\n{done.stderr}"
        stamp.write_bytes(lockfile)


def run_node(endpoint: str, program: str, timeout: float = 60, where: Path = HERE) -> Any:
    """Run `program` (an ES module body; `endpoint` and the SDK's credentials are in the environment) and
    return the JSON it prints on its last line of output. `where`: a directory with its own package.json
    (and lock file), for tests of other JavaScript libraries than the SDK."""
    return json.loads(run_node_text(endpoint, program, timeout, where).strip().splitlines()[-1])


def run_node_text(endpoint: str, program: str, timeout: float = 60, where: Path = HERE) -> str:
    """Run `program` as run_node does; what it printed."""
    _install(where)
    script = where / f".run-{os.getpid()}.mjs"
    script.write_text(program)
    try:
        env = {
            **os.environ,
            "OVERCAST_ENDPOINT": endpoint,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_REGION": "us-east-1",
        }
        done = subprocess.run(
            ["node", str(script)],
            cwd=where,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            stdin=subprocess.DEVNULL,
        )
    finally:
        script.unlink(missing_ok=True)
    assert done.returncode == 0, f"node failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout
