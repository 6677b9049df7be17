"""Run an Overcast server inside the current process (tests, notebooks): `with OvercastServer() as server:`."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.request
from typing import Any

from overcast.config import Config


class OvercastServer:
    """A real server on a free loopback port, in a background thread, in memory unless told otherwise."""

    def __init__(self, config: Config | None = None) -> None:
        self.config = config or Config(ephemeral=True, log_level="warning")
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((self.config.host, 0))
        self.config.port = self._socket.getsockname()[1]
        self.endpoint = f"http://{self.config.host}:{self.config.port}"
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> OvercastServer:
        from overcast.platform import Platform
        from overcast.server.app import OvercastApp
        from overcast.server.http11 import Server

        platform = Platform(self.config)
        self.platform = platform
        self._server = server = Server(OvercastApp(platform))
        platform.db.commit_in_groups(lambda: server.serving > 1)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name="overcast", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("Overcast did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            if self._thread:
                self._thread.join(timeout=15)
            self._server = None
        self._socket.close()

    def __enter__(self) -> OvercastServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what a test does with it --------------------------------------------------------------------

    def client(self, service: str, region: str = "us-east-1", **kwargs: Any):
        """A boto3 client for `service` pointed at this server with the root test credentials (and without
        host prefixes, which would name hosts like `sync-localhost` that do not resolve)."""
        import boto3
        from botocore.config import Config

        config = kwargs.get("config")
        kwargs["config"] = (
            (config or Config()).merge(Config(inject_host_prefix=False))
            if (config is None or config.inject_host_prefix is not False)
            else config
        )
        kwargs.setdefault("aws_access_key_id", self.config.root_access_key)
        kwargs.setdefault("aws_secret_access_key", self.config.root_secret_key)
        kwargs.setdefault("endpoint_url", self.endpoint)
        return boto3.client(service, region_name=region, **kwargs)

    def reset(self) -> None:
        """Delete every resource of every account and return the clock to real time."""
        self._internal("POST", "/_overcast/reset")

    def advance_clock(self, duration: str | float) -> dict[str, Any]:
        """Move the virtual clock forward ("90s", "15m", "3d", "1d12h", or seconds): visibility timeouts,
        TTLs, lifecycle rules, schedules and retries see the new time at once. Returns the clock's state."""
        return self._internal("POST", "/_overcast/clock", {"advance": str(duration)})

    def set_clock(self, moment: str | float) -> dict[str, Any]:
        """Set the virtual clock to an ISO 8601 moment ("2030-01-01T00:00:00Z") or epoch seconds."""
        return self._internal("POST", "/_overcast/clock", {"set": moment})

    def health(self) -> dict[str, Any]:
        """Version, IAM mode, store and each service's state ("running" once used)."""
        return self._internal("GET", "/_overcast/health")

    def _internal(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
        request = urllib.request.Request(self.endpoint + path, data=data, method=method)
        request.add_header("x-overcast-token", self.config.root_secret_key)  # needed under --iam enforce
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())
