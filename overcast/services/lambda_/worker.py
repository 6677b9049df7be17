"""One execution environment: a runtime process and the Lambda Runtime API it polls.

Each worker serves the Runtime API (2018-06-01) on its own loopback port, so the requests of one process
never need to be told apart from another's. Responses are written whole, in one write, on sockets with
TCP_NODELAY: otherwise every invocation waits ~40 ms for a delayed ACK.
"""

from __future__ import annotations

import asyncio
import ctypes
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

INIT_TIMEOUT = 10.0  # seconds AWS gives the init phase of an on-demand environment
LOG_LIMIT = 1 << 20  # bytes of output kept per invocation (the rest is dropped, not buffered)
_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


@dataclass
class LaunchSpec:
    """How to start the runtime process of one function version."""

    command: list[str]
    env: dict[str, str]
    cwd: str
    memory_mb: int
    memory_rlimit: tuple[int, int] | None  # (RLIMIT_AS or RLIMIT_DATA, bytes): see runtimes.memory_rlimit
    runtime_version: str = ""  # INIT_START's "Runtime Version"
    runtime_note: str = ""  # which interpreter really runs it, when it is not the one the runtime names
    log_stream: str = ""


@dataclass
class Invocation:
    request_id: str
    payload: bytes
    function_arn: str
    deadline_ms: int = 0
    client_context: str | None = None
    result: asyncio.Future = field(default_factory=lambda: asyncio.get_running_loop().create_future())


@dataclass
class Outcome:
    """What a runtime answered: a payload, and the error type when the function failed."""

    payload: bytes
    error_type: str | None = None  # the runtime's Lambda-Runtime-Function-Error-Type / errorType
    timed_out: bool = False


class RuntimeExited(Exception):
    def __init__(self, status: int | None) -> None:
        super().__init__(
            f"Runtime exited with error: exit status {status}"
            if status is not None
            else "Runtime exited without providing a reason"
        )
        self.status = status


class InitError(Exception):
    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.error_type or "Runtime.Unknown")
        self.outcome = outcome


class Worker:
    def __init__(self, spec: LaunchSpec, tmp_root: Path) -> None:
        self.spec = spec
        self.id = uuid.uuid4().hex
        self.tmp_dir = tmp_root / self.id
        self.process: subprocess.Popen | None = None
        self.server: asyncio.Server | None = None
        self.log = bytearray()
        self.started_at = 0.0
        self.init_duration_ms: float | None = None  # reported once, by the first invocation
        self.last_used = time.monotonic()
        self.alive = True
        self._ready: asyncio.Future | None = None  # resolved at the first /next (init done)
        self._next_waiter: asyncio.Future | None = None  # a /next waiting for work
        self._pending: Invocation | None = None  # work handed over before the runtime asked for it
        self._current: Invocation | None = None

    # -- lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._ready = loop.create_future()
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        env = dict(self.spec.env, AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{port}", TMPDIR=str(self.tmp_dir))
        self.started_at = time.monotonic()
        self.process = subprocess.Popen(
            self.spec.command,
            cwd=self.spec.cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            preexec_fn=self._child_setup,
            start_new_session=True,
            bufsize=0,
        )
        fd = self.process.stdout.fileno()
        os.set_blocking(fd, False)
        loop.add_reader(fd, self._read_output)

    def _child_setup(self) -> None:
        """In the child, before exec: die with the server, and hold the function's memory limit."""
        if _libc is not None:
            _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if self.spec.memory_rlimit is not None:
            kind, limit = self.spec.memory_rlimit
            resource.setrlimit(kind, (limit, limit))

    async def wait_ready(self) -> None:
        await asyncio.wait_for(asyncio.shield(self._ready), INIT_TIMEOUT)

    async def run(self, invocation: Invocation, timeout: float) -> Outcome:
        """Hand `invocation` to the runtime and wait for its answer, at most `timeout` seconds."""
        self._current = invocation
        self.last_used = time.monotonic()
        invocation.deadline_ms = int((time.time() + timeout) * 1000)
        if self._next_waiter is not None and not self._next_waiter.done():
            self._next_waiter.set_result(invocation)
        else:
            self._pending = invocation
        try:
            return await asyncio.wait_for(asyncio.shield(invocation.result), timeout)
        except TimeoutError:
            self.kill()
            return Outcome(b"", "Sandbox.Timedout", timed_out=True)
        finally:
            self._current = None
            self.last_used = time.monotonic()

    def take_log(self) -> bytes:
        self._read_output()
        data = bytes(self.log)
        self.log.clear()
        return data

    def max_memory_mb(self) -> int:
        try:
            with open(f"/proc/{self.process.pid}/status", "rb") as status:
                for line in status:
                    if line.startswith(b"VmHWM:"):
                        return max(1, int(line.split()[1]) // 1024)
        except (OSError, ValueError, AttributeError):
            pass
        return 0

    def kill(self) -> None:
        """Stop the process and its children at once; fail whatever it was doing."""
        if not self.alive:
            return
        self.alive = False
        if self.process is not None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                asyncio.get_running_loop().remove_reader(self.process.stdout.fileno())
            except (RuntimeError, ValueError, OSError):
                pass
            try:
                self.process.stdout.close()
                self.process.wait(timeout=2)
            except (subprocess.TimeoutExpired, OSError, ValueError):
                pass
        if self.server is not None:
            self.server.close()
        self._fail(RuntimeExited(self.process.returncode if self.process else None))
        shutil.rmtree(self.tmp_dir, ignore_errors=True)

    def _fail(self, error: Exception) -> None:
        for future in (self._ready, self._next_waiter, self._current.result if self._current else None):
            if future is not None and not future.done():
                future.set_exception(error)
                future.exception()  # mark retrieved: nobody may be waiting on it

    def _read_output(self) -> None:
        if self.process is None or self.process.stdout.closed:
            return
        fd = self.process.stdout.fileno()
        while True:
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                return
            except OSError:
                chunk = b""
            if not chunk:  # EOF: the runtime process ended
                self._exited()
                return
            if len(self.log) < LOG_LIMIT:
                self.log += chunk

    def _exited(self) -> None:
        try:
            asyncio.get_running_loop().remove_reader(self.process.stdout.fileno())
        except (RuntimeError, ValueError, OSError):
            pass
        if self._ready is not None and not self._ready.done() and self._init_error is not None:
            self._ready.set_exception(InitError(self._init_error))
            self._ready.exception()
        try:
            status = self.process.wait(timeout=1)
        except subprocess.TimeoutExpired:
            status = None
        if self.alive:
            self.alive = False
            if self.server is not None:
                self.server.close()
            self._fail(RuntimeExited(status))
            shutil.rmtree(self.tmp_dir, ignore_errors=True)

    _init_error: Outcome | None = None

    # -- the Runtime API ---------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                method, path, headers = _parse_head(head)
                length = int(headers.get("content-length", 0))
                body = await reader.readexactly(length) if length else b""
                status, out_headers, out_body = await self._route(method, path, headers, body)
                writer.write(_response(status, out_headers, out_body))
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, RuntimeExited):
            pass  # the runtime went away (or was killed) mid-request
        finally:
            writer.close()

    async def _route(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        parts = path.split("?", 1)[0].strip("/").split("/")
        if parts[:2] != ["2018-06-01", "runtime"]:
            return _json_status(404, "InvalidRequest", f"unknown path {path}")
        rest = parts[2:]
        if method == "GET" and rest == ["invocation", "next"]:
            return await self._next()
        if method == "POST" and rest == ["init", "error"]:
            outcome = Outcome(
                body or b"{}", headers.get("lambda-runtime-function-error-type") or _error_type(body)
            )
            self._init_error = outcome
            if self._ready is not None and not self._ready.done():
                self._ready.set_exception(InitError(outcome))
                self._ready.exception()
            return 202, [("Content-Type", "application/json")], b'{"status":"OK"}'
        if (
            method == "POST"
            and len(rest) == 3
            and rest[0] == "invocation"
            and rest[2] in ("response", "error")
        ):
            return self._answer(rest[1], rest[2], headers, body)
        return _json_status(404, "InvalidRequest", f"unknown path {path}")

    async def _next(self) -> tuple[int, list[tuple[str, str]], bytes]:
        if self._ready is not None and not self._ready.done():
            self.init_duration_ms = (time.monotonic() - self.started_at) * 1000
            self._ready.set_result(None)
        invocation, self._pending = self._pending, None
        if invocation is None:
            self._next_waiter = asyncio.get_running_loop().create_future()
            try:
                invocation = await self._next_waiter
            finally:
                self._next_waiter = None
        headers = [
            ("Content-Type", "application/json"),
            ("Lambda-Runtime-Aws-Request-Id", invocation.request_id),
            ("Lambda-Runtime-Deadline-Ms", str(invocation.deadline_ms)),
            ("Lambda-Runtime-Invoked-Function-Arn", invocation.function_arn),
            ("Lambda-Runtime-Trace-Id", f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Sampled=0"),
        ]
        if invocation.client_context:
            headers.append(("Lambda-Runtime-Client-Context", invocation.client_context))
        return 200, headers, invocation.payload

    def _answer(
        self, request_id: str, kind: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        current = self._current
        if current is None or current.request_id != request_id or current.result.done():
            return _json_status(400, "InvalidRequestID", "Invalid request ID")
        self._read_output()  # everything the runtime printed before answering is in the pipe now
        if kind == "response":
            current.result.set_result(Outcome(body))
        else:
            error_type = headers.get("lambda-runtime-function-error-type") or _error_type(body)
            current.result.set_result(Outcome(body or b"{}", error_type or "Unhandled"))
        return 202, [("Content-Type", "application/json")], b'{"status":"OK"}'


def _parse_head(head: bytes) -> tuple[str, str, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    return method, path, headers


_REASONS = {200: "OK", 202: "Accepted", 400: "Bad Request", 404: "Not Found", 413: "Payload Too Large"}


def _response(status: int, headers: list[tuple[str, str]], body: bytes) -> bytes:
    head = [f"HTTP/1.1 {status} {_REASONS.get(status, 'OK')}", f"Content-Length: {len(body)}"]
    head += [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


def _json_status(status: int, error_type: str, message: str) -> tuple[int, list[tuple[str, str]], bytes]:
    body = json.dumps({"errorType": error_type, "errorMessage": message}).encode()
    return status, [("Content-Type", "application/json")], body


def _error_type(body: bytes) -> str | None:
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value.get("errorType") if isinstance(value, dict) else None
