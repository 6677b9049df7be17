"""A real `overcast start` process on a free port with its own data directory, as a user runs it."""

import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

OVERCAST = str(Path(sys.executable).with_name("overcast"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    def __init__(self, data_dir: Path, *extra: str, env: dict | None = None, port: int | None = None) -> None:
        self.port = port or free_port()  # a restart on the same port keeps URLs the server handed out valid
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [OVERCAST, "start", "--port", str(self.port), "--data-dir", str(data_dir), *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(self.endpoint + "/_overcast/health", timeout=1).read()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start: {self.process.stdout.read()}") from None
                time.sleep(0.02)

    def client(self, service: str, region: str = "us-east-1", **kwargs):
        """A boto3 client for `service` on this server with the root test credentials."""
        import boto3

        kwargs.setdefault("aws_access_key_id", "test")
        kwargs.setdefault("aws_secret_access_key", "test")
        return boto3.client(service, endpoint_url=self.endpoint, region_name=region, **kwargs)

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [OVERCAST, *args, "--endpoint", self.endpoint], capture_output=True, text=True, timeout=30
        )

    def stop(self, sig: int = signal.SIGTERM) -> str:
        self.process.send_signal(sig)
        output, _ = self.process.communicate(timeout=20)
        return output
