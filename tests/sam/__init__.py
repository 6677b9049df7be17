"""Run the AWS SAM CLI (`sam build`, `sam deploy`) against a real Overcast server.

aws-sam-cli is heavy and pins its own dependencies, so it gets a virtual environment of its own beside this
file (`.venv`, from `requirements.txt`), made on first use; tests skip when it cannot be installed here.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv"


def install() -> Path:
    """The `sam` program, installed once."""
    sam = VENV / "bin" / "sam"
    stamp = VENV / ".overcast-installed"
    requirements = (HERE / "requirements.txt").read_bytes()
    with (HERE / ".install.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        if stamp.exists() and stamp.read_bytes() == requirements and sam.exists():
            return sam
        made = subprocess.run(
            [sys.executable, "-m", "venv", str(VENV)], capture_output=True, text=True, timeout=120
        )
        if made.returncode != 0:
            pytest.skip(f"cannot make a virtual environment for the SAM CLI: {made.stderr}")
        done = subprocess.run(
            [
                str(VENV / "bin" / "pip"),
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
                str(HERE / "requirements.txt"),
            ],
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert done.returncode == 0, f"pip install aws-sam-cli failed:\n{done.stdout}\n{done.stderr}"
        stamp.write_bytes(requirements)
    return sam


def sam(endpoint: str, *args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    program = install()
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "SAM_CLI_TELEMETRY": "0",
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
    }
    done = subprocess.run(
        [str(program), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, f"sam {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done
