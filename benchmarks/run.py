#!/usr/bin/env python3
"""Side-by-side benchmark of Overcast against other local AWS emulators.

One after the other, on this machine, each server is started, measured and stopped:

- start-up time: process spawn to the first 2xx answer of its health URL (polled tightly), median of 3 starts
- idle RSS: resident memory summed over the server's process tree (from /proc), after start-up and one request
- throughput: requests/s with ``hey`` at concurrency 1 and 8, for each operation in OPERATIONS, after a
  warm-up; every request carries a real SigV4 signature (access key test/secret test, us-east-1) made once
  per server with a fixed X-Amz-Date. A server answering any non-2xx gets "err" instead of a figure.

Peers are installed into their own virtualenvs under benchmarks/.venvs/<name> on first use.

    python benchmarks/run.py [--servers overcast,ministack,moto] [--only overcast] [--ops sts-get-caller-identity]
                             [--duration 5] [--warmup 1] [--concurrency 1,8] [--starts 3]

Results are printed as a table and written to benchmarks/results/latest.json.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import io
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
VENVS = HERE / ".venvs"
RESULTS = HERE / "results"

try:  # botocore does the signing; the project venv has it.
    import botocore  # noqa: F401
except ImportError:  # pragma: no cover - re-run under the project venv when started with a bare python
    _venv_python = REPO / ".venv" / "bin" / "python"
    if _venv_python.exists() and Path(sys.executable).resolve() != _venv_python.resolve():
        os.execv(str(_venv_python), [str(_venv_python), *sys.argv])
    sys.exit(
        "botocore is needed to sign requests: run with .venv/bin/python (make venv) or pip install botocore"
    )

from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth, SigV4QueryAuth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

ACCESS_KEY = "test"
SECRET_KEY = "test"
REGION = "us-east-1"

# --------------------------------------------------------------------------------------------------------
# Operations: one row per benchmarked request. Add your service's hot paths here.
#
#   name        unique id, used by --ops
#   service     SigV4 signing name (credential scope), e.g. "sts", "sqs", "s3", "dynamodb"
#   protocol    wire protocol, for the table only (query, json, rest-xml, rest-json, ...)
#   method      HTTP method
#   path        path and query string; "{bucket}" etc. are not expanded: write the literal path
#   headers     extra request headers (signed)
#   body        request body (str or bytes); "${name}" is replaced by a value captured by a setup request
#               (e.g. ${queue_url}, whose form differs between servers)
#   sign        "header" (Authorization header) or "presign" (X-Amz-* query string, like a presigned URL)
#   setup       requests (same keys: method, path, headers, body, service) sent once, signed, before the
#               measurement, e.g. to create the bucket/queue/table the operation needs; they may answer
#               non-2xx (an "already exists" is fine) but are reported if they do. Extra keys of a setup:
#                 capture  {"name": "JsonKey"}: the answer's top-level JSON value becomes ${name} (a dotted
#                          path, "KeyMetadata.KeyId", reaches into nested objects)
#                 repeat   N: sent N times, "${i}" in path/body being 0..N-1
#                 until    regex: sent again (every 50 ms, up to 30 s) until the answer's body matches it,
#                          e.g. DescribeTable until "TableStatus": "ACTIVE"
#   expect      regex the answer's body must match (checked once, on the probe before the measurement;
#               reported if it does not), e.g. that a ReceiveMessage does return a message
#   default     measured when --ops is not given
#   target      Overcast's required ratio to the best peer's req/s (2x since the performance issue; 1.5x before); none: just measured
#   paths       {server name: path} where the servers serve the operation at different URLs (invoke URLs)
# --------------------------------------------------------------------------------------------------------
_BODY_1K = bytes(range(256)) * 4  # 1 KiB


def _sqs_headers(action: str) -> dict[str, str]:
    return {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": f"AmazonSQS.{action}"}


def _sqs_create_queue(name: str) -> dict:
    """CreateQueue; its QueueUrl (whose form differs between servers) becomes ${queue_url}."""
    return {
        "service": "sqs",
        "method": "POST",
        "path": "/",
        "headers": _sqs_headers("CreateQueue"),
        "body": json.dumps({"QueueName": name}),
        "capture": {"queue_url": "QueueUrl"},
    }


def _ddb_headers(action: str) -> dict[str, str]:
    return {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": f"DynamoDB_20120810.{action}"}


def pk_sk_table(name: str) -> dict:
    """CreateTable's parameters for the benchmarks' tables: string keys pk (hash) and sk (range), on demand."""
    return {
        "TableName": name,
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }


def _ddb_create_table(name: str) -> list[dict]:
    """CreateTable (pk/sk strings, on demand), then DescribeTable until it is ACTIVE: CreateTable is
    asynchronous on some servers."""
    return [
        {
            "service": "dynamodb",
            "method": "POST",
            "path": "/",
            "headers": _ddb_headers("CreateTable"),
            "body": json.dumps(pk_sk_table(name)),
        },
        {
            "service": "dynamodb",
            "method": "POST",
            "path": "/",
            "headers": _ddb_headers("DescribeTable"),
            "body": json.dumps({"TableName": name}),
            "until": r'"TableStatus":\s*"ACTIVE"',
        },
    ]


OPERATIONS: list[dict] = [
    {
        "name": "sts-get-caller-identity",
        "service": "sts",
        "protocol": "query",
        "method": "POST",
        "path": "/",
        "headers": {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        "body": "Action=GetCallerIdentity&Version=2011-06-15",
        "default": True,
        "target": 2.0,
    },
    {
        "name": "sqs-list-queues",
        "service": "sqs",
        "protocol": "json",
        "method": "POST",
        "path": "/",
        "headers": {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS.ListQueues"},
        "body": "{}",
        "default": True,
        "target": 2.0,
    },
    # The services' hot paths, measured by default (target 2x, as every hot path since the performance issue).
    # Each one gets its own bucket/queue/table, so that rows do not disturb each other.
    {
        "name": "s3-put-object-1k",
        "service": "s3",
        "protocol": "rest-xml",
        "method": "PUT",
        "path": "/overcast-bench-put/object-1k",
        "headers": {},
        "body": _BODY_1K,
        "sign": "presign",
        "setup": [
            {"service": "s3", "method": "PUT", "path": "/overcast-bench-put", "headers": {}, "body": ""}
        ],
        "default": True,
        "target": 2.0,
    },
    {
        "name": "s3-get-object-1k",
        "service": "s3",
        "protocol": "rest-xml",
        "method": "GET",
        "path": "/overcast-bench-get/object-1k",
        "headers": {},
        "body": "",
        "sign": "presign",
        "setup": [
            {"service": "s3", "method": "PUT", "path": "/overcast-bench-get", "headers": {}, "body": ""},
            {
                # Presigned like the GET (UNSIGNED-PAYLOAD).
                "service": "s3",
                "method": "PUT",
                "path": "/overcast-bench-get/object-1k",
                "headers": {},
                "body": _BODY_1K,
                "sign": "presign",
            },
        ],
        "default": True,
        "target": 2.0,
    },
    {
        # Every request adds a message to the queue (~20-60k per cell): the queue grows during the run.
        "name": "sqs-send-message",
        "service": "sqs",
        "protocol": "json",
        "method": "POST",
        "path": "/",
        "headers": _sqs_headers("SendMessage"),
        "body": '{"QueueUrl": "${queue_url}", "MessageBody": "hello from the benchmark"}',
        "setup": [_sqs_create_queue("overcast-bench-send")],
        "default": True,
        "target": 2.0,
    },
    {
        # VisibilityTimeout 0: a received message is visible again at once, so with a few messages in the
        # queue every receive returns one (it is not an empty receive) and the queue never runs dry.
        "name": "sqs-receive-message",
        "service": "sqs",
        "protocol": "json",
        "method": "POST",
        "path": "/",
        "headers": _sqs_headers("ReceiveMessage"),
        "body": '{"QueueUrl": "${queue_url}", "MaxNumberOfMessages": 1, "VisibilityTimeout": 0, '
        '"WaitTimeSeconds": 0}',
        "setup": [
            _sqs_create_queue("overcast-bench-receive"),
            {
                "service": "sqs",
                "method": "POST",
                "path": "/",
                "headers": _sqs_headers("SendMessage"),
                "body": '{"QueueUrl": "${queue_url}", "MessageBody": "message ${i}"}',
                "repeat": 10,
            },
        ],
        "expect": '"Messages"',
        "default": True,
        "target": 2.0,
    },
    {
        # The same item is overwritten by every request.
        "name": "dynamodb-put-item",
        "service": "dynamodb",
        "protocol": "json",
        "method": "POST",
        "path": "/",
        "headers": _ddb_headers("PutItem"),
        "body": '{"TableName": "overcast-bench-put", "Item": {"pk": {"S": "user#1"}, "sk": {"S": "profile"}, '
        '"name": {"S": "Ada"}, "visits": {"N": "42"}}}',
        "setup": _ddb_create_table("overcast-bench-put"),
        "default": True,
        "target": 2.0,
    },
    {
        "name": "dynamodb-get-item",
        "service": "dynamodb",
        "protocol": "json",
        "method": "POST",
        "path": "/",
        "headers": _ddb_headers("GetItem"),
        "body": '{"TableName": "overcast-bench-get", "Key": {"pk": {"S": "user#1"}, "sk": {"S": "profile"}}}',
        "setup": [
            *_ddb_create_table("overcast-bench-get"),
            {
                "service": "dynamodb",
                "method": "POST",
                "path": "/",
                "headers": _ddb_headers("PutItem"),
                "body": '{"TableName": "overcast-bench-get", "Item": {"pk": {"S": "user#1"}, '
                '"sk": {"S": "profile"}, "name": {"S": "Ada"}, "visits": {"N": "42"}}}',
            },
        ],
        "expect": '"Item"',
        "default": True,
        "target": 2.0,
    },
    {
        # One partition of 10 items; every query returns all 10.
        "name": "dynamodb-query",
        "service": "dynamodb",
        "protocol": "json",
        "method": "POST",
        "path": "/",
        "headers": _ddb_headers("Query"),
        "body": '{"TableName": "overcast-bench-query", "KeyConditionExpression": "pk = :pk", '
        '"ExpressionAttributeValues": {":pk": {"S": "user#1"}}}',
        "setup": [
            *_ddb_create_table("overcast-bench-query"),
            {
                "service": "dynamodb",
                "method": "POST",
                "path": "/",
                "headers": _ddb_headers("PutItem"),
                "body": '{"TableName": "overcast-bench-query", "Item": {"pk": {"S": "user#1"}, '
                '"sk": {"S": "order#${i}"}, "total": {"N": "${i}"}, "status": {"S": "shipped"}}}',
                "repeat": 10,
            },
        ],
        "expect": '"Count":\\s*10\\b',
        "default": True,
        "target": 2.0,
    },
    # Examples of heavier paths, not measured by default (select with --ops):
    {
        "name": "s3-get-object-presigned",
        "service": "s3",
        "protocol": "rest-xml",
        "method": "GET",
        "path": "/overcast-bench/hello.txt",
        "headers": {},
        "body": "",
        "sign": "presign",
        "setup": [
            {"service": "s3", "method": "PUT", "path": "/overcast-bench", "headers": {}, "body": ""},
            {
                "service": "s3",
                "method": "PUT",
                "path": "/overcast-bench/hello.txt",
                "headers": {"Content-Type": "text/plain"},
                "body": "hello, world\n" * 80,
            },
        ],
        "default": False,
    },
    {
        "name": "sqs-get-queue-url",
        "service": "sqs",
        "protocol": "json",
        "method": "POST",
        "path": "/",
        "headers": {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS.GetQueueUrl"},
        "body": '{"QueueName": "overcast-bench"}',
        "setup": [
            {
                "service": "sqs",
                "method": "POST",
                "path": "/",
                "headers": {
                    "Content-Type": "application/x-amz-json-1.0",
                    "X-Amz-Target": "AmazonSQS.CreateQueue",
                },
                "body": '{"QueueName": "overcast-bench"}',
            }
        ],
        "default": False,
    },
]


def _service_operations() -> list[dict]:
    """The hot paths of the services added since: each `benchmarks/services/<service>.py` defines its own
    OPERATIONS list (same keys as above), so services do not all edit this file."""
    import importlib.util

    found: list[dict] = []
    for path in sorted((HERE / "services").glob("*.py")):
        spec = importlib.util.spec_from_file_location(f"bench_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        found.extend(getattr(module, "OPERATIONS", []))
    return found


OPERATIONS.extend(_service_operations())


# --------------------------------------------------------------------------------------------------------
# Servers
# --------------------------------------------------------------------------------------------------------
@dataclass
class Server:
    name: str
    health_path: str
    pip_spec: str | None = None  # None: the project's own venv
    notes: str = ""
    default: bool = True  # measured without --servers
    extra_args: tuple[str, ...] = ()  # appended to the command line
    tmpdir: str | None = field(default=None, repr=False)

    def python(self) -> Path:
        return (
            REPO / ".venv" / "bin" / "python"
            if self.pip_spec is None
            else VENVS / self.name / "bin" / "python"
        )

    def bindir(self) -> Path:
        return self.python().parent

    def ensure_installed(self) -> None:
        if self.pip_spec is None:
            # The project is installed editable: write its bytecode as pip does for the peers' packages, or
            # a start under PYTHONDONTWRITEBYTECODE would compile every module from source (`make` does this too).
            subprocess.run([str(self.python()), "-m", "compileall", "-q", str(REPO / "overcast")], check=True)
            return
        exe = self.bindir() / self.executable()
        if exe.exists():
            return
        venv = VENVS / self.name
        log(f"installing {self.pip_spec} into {venv.relative_to(REPO)} (first run only)")
        VENVS.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run(
            [
                str(venv / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                self.pip_spec,
            ],
            check=True,
        )

    def executable(self) -> str:
        raise NotImplementedError

    def command(self, port: int) -> tuple[list[str], dict[str, str]]:
        raise NotImplementedError

    def version(self) -> str:
        dist = "overcast" if self.pip_spec is None else self.name
        try:
            out = subprocess.run(
                [str(self.python()), "-c", f"import importlib.metadata as m; print(m.version('{dist}'))"],
                capture_output=True,
                text=True,
                timeout=30,
            )
            return out.stdout.strip() or "?"
        except Exception:
            return "?"

    def cleanup(self) -> None:
        if self.tmpdir:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None


class Overcast(Server):
    def executable(self) -> str:
        return "overcast"

    def command(self, port):
        # A fresh, persistent (on-disk) data directory for every start.
        self.cleanup()
        self.tmpdir = tempfile.mkdtemp(prefix="overcast-bench-")
        argv = [str(self.bindir() / "overcast"), "start", "--port", str(port), "--data-dir", self.tmpdir]
        return [*argv, *self.extra_args], {}


class MiniStack(Server):
    def executable(self) -> str:
        return "ministack"

    def command(self, port):
        # MiniStack takes its port from GATEWAY_PORT and binds 0.0.0.0 unless BIND_HOST says otherwise.
        # Its default is in-memory state (PERSIST_STATE=0), which is how it is measured here.
        self.cleanup()
        self.tmpdir = tempfile.mkdtemp(prefix="ministack-bench-")
        env = {"GATEWAY_PORT": str(port), "BIND_HOST": "127.0.0.1", "TMPDIR": self.tmpdir}
        return [str(self.bindir() / "ministack")], env


class Moto(Server):
    def executable(self) -> str:
        return "moto_server"

    def command(self, port):
        return [str(self.bindir() / "moto_server"), "-H", "127.0.0.1", "-p", str(port)], {}


class Ceiling(Server):
    """benchmarks/ceiling.py: HTTP on Overcast's stack plus one durable SQLite commit per request, nothing else."""

    def executable(self) -> str:
        return "python"

    def command(self, port):
        self.cleanup()
        self.tmpdir = tempfile.mkdtemp(prefix="ceiling-bench-")
        argv = [str(self.python()), str(HERE / "ceiling.py"), "--port", str(port), "--data-dir", self.tmpdir]
        return argv, {}


SERVERS: dict[str, Server] = {
    "overcast": Overcast("overcast", "/_overcast/health", None, "persistent data dir"),
    "ministack": MiniStack("ministack", "/_ministack/health", "ministack", "in-memory (its default)"),
    "moto": Moto("moto", "/moto-api/config", "moto[server]", "in-memory"),
    # The same Overcast with IAM enforcement: every signature verified, every request authorized (the
    # benchmark's test/test are the root credentials, which are allowed everything). Not a peer: the report
    # gives its ratio to "overcast", i.e. what enforcement costs. Select it with --servers.
    "overcast-enforce": Overcast(
        "overcast-enforce",
        "/_overcast/health",
        None,
        "persistent data dir, --iam enforce",
        default=False,
        extra_args=("--iam", "enforce"),
    ),
    # The same Overcast without the poll after each response (--spin-us 0): shows what that poll is worth,
    # and what a single-CPU machine (where it is off by default) gets. Not a peer. Select it with --servers.
    "overcast-nospin": Overcast(
        "overcast-nospin",
        "/_overcast/health",
        None,
        "persistent data dir, --spin-us 0",
        default=False,
        extra_args=("--spin-us", "0"),
    ),
}
SERVERS["ceiling"] = Ceiling(
    "ceiling",
    "/_ceiling/health",
    None,
    "the least a durable server does: HTTP + one WAL commit",
    default=False,
)
CEILING = "ceiling"
CEILING_TARGET = 0.6  # Overcast at 60% of the ceiling on the write paths is the goal
ENFORCE = "overcast-enforce"
ENFORCE_TARGET = 0.8  # IAM enforcement may cost at most 20% of the throughput of "overcast"


def is_peer(name: str) -> bool:
    """Another emulator (not Overcast, a variant of it, or the ceiling): a candidate for "best peer"."""
    return not name.startswith("overcast") and name != CEILING


# --------------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------------
def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_request(
    port: int, method: str, path: str, headers=None, body=b"", timeout=1.0
) -> tuple[int | None, bytes]:
    """One HTTP/1.1 request on a fresh connection; the status code and body, or (None, b"") if nothing
    answered."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    except (OSError, http.client.HTTPException):
        return None, b""
    finally:
        conn.close()


def http_status(port: int, method: str, path: str, headers=None, body=b"", timeout=1.0) -> int | None:
    """One HTTP/1.1 request on a fresh connection; the status code, or None if nothing answered."""
    return http_request(port, method, path, headers, body, timeout)[0]


def proc_tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


CLK_TCK = os.sysconf("SC_CLK_TCK")


def tree_cpu_s(root: int) -> float:
    """User + system CPU seconds of the live process tree."""
    total = 0
    for pid in proc_tree(root):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / CLK_TCK


def machine_busy_s() -> float:
    """CPU seconds spent by the whole machine (all cores, not idle/iowait) since boot."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    return (sum(values[:8]) - values[3] - values[4]) / CLK_TCK


def children_cpu_s() -> float:
    import resource

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


class CpuWatch:
    """How many cores the server, the load tool and everything else used during a measurement."""

    def __init__(self, server_pid: int):
        self.pid = server_pid
        self.t0, self.busy0 = time.perf_counter(), machine_busy_s()
        self.server0, self.tool0 = tree_cpu_s(server_pid), children_cpu_s()

    def result(self) -> dict:
        wall = time.perf_counter() - self.t0
        busy = machine_busy_s() - self.busy0
        server = tree_cpu_s(self.pid) - self.server0
        tool = children_cpu_s() - self.tool0
        return {
            "server_cores": round(server / wall, 2),
            "tool_cores": round(tool / wall, 2),
            "other_cores": round(max(0.0, busy - server - tool) / wall, 2),
        }


def tree_rss_kb(root: int) -> int:
    total = 0
    for pid in proc_tree(root):
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total


class Running:
    """A started server process (own process group, output to a log file)."""

    def __init__(self, server: Server, port: int, logdir: Path):
        self.server, self.port = server, port
        argv, extra_env = server.command(port)
        env = {**os.environ, **extra_env}
        # Each server runs with its defaults: none of the caller's settings for it leak in.
        for var in list(env):
            if var in ("AWS_ENDPOINT_URL", "AWS_PROFILE") or var.startswith("OVERCAST_"):
                env.pop(var, None)
        self.logfile = open(logdir / f"{server.name}-{port}.log", "wb")
        self.t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            argv,
            env=env,
            stdout=self.logfile,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=server.tmpdir or tempfile.gettempdir(),
        )

    def wait_ready(self, timeout: float = 60.0) -> float:
        """Seconds from spawn to the first 2xx of the health URL; raises if it never comes."""
        deadline = self.t0 + timeout
        while True:
            status = http_status(self.port, "GET", self.server.health_path, timeout=0.5)
            now = time.perf_counter()
            if status is not None and 200 <= status < 300:
                return now - self.t0
            if self.proc.poll() is not None:
                raise RuntimeError(f"exited with code {self.proc.returncode} before answering; {self.tail()}")
            if now > deadline:
                raise RuntimeError(
                    f"no 2xx from {self.server.health_path} within {timeout:.0f} s "
                    f"(last status {status}); {self.tail()}"
                )
            time.sleep(0.002)

    def tail(self, n: int = 400) -> str:
        try:
            self.logfile.flush()
            text = Path(self.logfile.name).read_bytes()[-n:].decode(errors="replace")
            return "log tail: " + " | ".join(line for line in text.splitlines() if line.strip())[-n:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=10)
        self.logfile.close()
        self.server.cleanup()


# --------------------------------------------------------------------------------------------------------
# Signing and load generation
# --------------------------------------------------------------------------------------------------------
def signed(req: dict, port: int, amz_date: str) -> tuple[str, dict[str, str], bytes]:
    """URL, headers and body of `req` signed for 127.0.0.1:port with a fixed X-Amz-Date."""
    url = f"http://127.0.0.1:{port}{req['path']}"
    body = req.get("body") or b""
    if isinstance(body, str):
        body = body.encode()
    presign = req.get("sign", "header") == "presign"
    # A presigned URL does not cover the body (and botocore's query signer would try to parse it): sign
    # without it, send it anyway.
    aws_req = AWSRequest(
        method=req["method"], url=url, data=b"" if presign else body, headers=dict(req.get("headers") or {})
    )
    creds = Credentials(ACCESS_KEY, SECRET_KEY)
    s3 = req["service"] == "s3"  # S3 signs the path as sent and the payload hash as a header
    if presign:
        auth = (S3SigV4QueryAuth if s3 else SigV4QueryAuth)(creds, req["service"], REGION, expires=3600)
    else:
        auth = (S3SigV4Auth if s3 else SigV4Auth)(creds, req["service"], REGION)
    # botocore reads the signing time from the clock; pin it so every request of a run carries the same date.
    fixed = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.UTC)
    with mock.patch("botocore.auth.get_current_datetime", lambda *a, **k: fixed):
        auth.add_auth(aws_req)
    headers = {k: v for k, v in aws_req.headers.items()}
    return aws_req.url, headers, body


def send_full(req: dict, port: int, amz_date: str) -> tuple[int | None, bytes]:
    """Sign and send `req`; its status and body."""
    url, headers, body = signed(req, port, amz_date)
    parts = urllib.parse.urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return http_request(port, req["method"], path, headers=headers, body=body, timeout=10)


def send(req: dict, port: int, amz_date: str) -> int | None:
    return send_full(req, port, amz_date)[0]


def expand(req: dict, values: dict[str, str]) -> dict:
    """`req` with "${name}" in its path and (text) body replaced by values[name]."""

    def sub(text):
        if not isinstance(text, str):
            return text
        for name, value in values.items():
            text = text.replace("${" + name + "}", value)
        return text

    return {**req, "path": sub(req["path"]), "body": sub(req.get("body") or "")}


def server_op(op: dict, server: str) -> dict:
    """`op` with the path this server serves it at: an operation whose URL form differs between servers
    (API Gateway invoke URLs) gives `paths` by server name ("overcast" covers its variants)."""
    paths = op.get("paths") or {}
    path = paths.get(server) or paths.get(server.split("-")[0]) or op["path"]
    return {**op, "path": path}


def describe(req: dict) -> str:
    target = next((v for k, v in (req.get("headers") or {}).items() if k.lower() == "x-amz-target"), None)
    return f"{req['method']} {req['path']}" + (f" {target}" if target else "")


def is_2xx(status: int | None) -> bool:
    return status is not None and 200 <= status < 300


def run_setup(setups: list[dict], port: int, amz_date: str) -> tuple[dict[str, str], list[str]]:
    """Send an operation's setup requests; the values they captured and the problems met (non-2xx
    answers, an `until` never matched, a value not found). `capture` names a key path in a JSON answer;
    `find` a regex with one group over any answer, each match kept as "name.0", "name.1", ..."""
    values: dict[str, str] = {}
    problems: list[str] = []
    for setup in setups:
        for i in range(setup.get("repeat", 1)):
            req = expand(setup, {**values, "i": str(i)})
            status, body = send_full(req, port, amz_date)
            if setup.get("until"):
                deadline = time.monotonic() + 30
                while not (is_2xx(status) and re.search(setup["until"], body.decode(errors="replace"))):
                    if time.monotonic() > deadline:
                        problems.append(
                            f"{describe(req)}: never matched {setup['until']!r} in 30 s; last answer "
                            f"{status} {body[:200]!r}"
                        )
                        break
                    time.sleep(0.05)
                    status, body = send_full(req, port, amz_date)
            elif not is_2xx(status):
                problems.append(f"{describe(req)}: {status} {body[:200]!r}")
            text = body.decode(errors="replace")
            for name, pattern in (setup.get("find") or {}).items():
                found_all = re.findall(pattern, text)
                for n, value in enumerate(found_all):
                    values[f"{name}.{n}"] = value
                if not found_all:
                    problems.append(f"{describe(req)}: no {pattern!r} in the answer {status} {body[:200]!r}")
            for name, key in (setup.get("capture") or {}).items():
                try:
                    found = json.loads(body)
                    for part in key.split("."):
                        found = found[part]
                    values[name] = found
                except (ValueError, KeyError, TypeError):
                    problems.append(f"{describe(req)}: no {key} in the answer {status} {body[:200]!r}")
    return values, problems


HEY_STATUS = re.compile(r"^\s*\[(\d{3})\]\s+(\d+)\s+responses", re.M)
HEY_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
HEY_ERRORS = re.compile(r"Error distribution:\n((?:\s+\[\d+\].*\n?)+)")


def hey(
    url: str, method: str, headers: dict[str, str], body: bytes, concurrency: int, duration: float
) -> dict:
    argv = ["hey", "-z", f"{duration}s", "-c", str(concurrency), "-m", method, "-t", "10"]
    content_type = None
    for k, v in headers.items():
        if k.lower() == "content-type":
            content_type = v
        elif k.lower() not in ("host", "content-length", "user-agent"):
            argv += ["-H", f"{k}: {v}"]
    argv += ["-T", content_type or ""]
    bodyfile = None
    if body:
        bodyfile = tempfile.NamedTemporaryFile(prefix="bench-body-", delete=False)
        bodyfile.write(body)
        bodyfile.close()
        argv += ["-D", bodyfile.name]
    argv.append(url)
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60)
    except subprocess.TimeoutExpired:
        return {
            "rps": None,
            "ok": 0,
            "non_2xx": None,
            "statuses": {},
            "conn_errors": None,
            "raw": "timed out",
        }
    finally:
        if bodyfile:
            os.unlink(bodyfile.name)
    text = out.stdout + out.stderr
    statuses = {int(code): int(n) for code, n in HEY_STATUS.findall(text)}
    errors = 0
    m = HEY_ERRORS.search(text)
    if m:
        errors = sum(int(n) for n in re.findall(r"\[(\d+)\]", m.group(1)))
    rps = float(HEY_RPS.search(text).group(1)) if HEY_RPS.search(text) else None
    ok = sum(n for code, n in statuses.items() if 200 <= code < 300)
    bad = sum(n for code, n in statuses.items() if not 200 <= code < 300) + errors
    return {
        "rps": rps,
        "ok": ok,
        "non_2xx": bad,
        "statuses": statuses,
        "conn_errors": errors,
        "raw": None if rps is not None else text[-2000:],
    }


WRK_SCRIPT = """
wrk.method = %(method)s
wrk.body = %(body)s
%(headers)s
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end
function init(args)
  bad = 0
  statuses = {}
end
function response(status, headers, body)
  if status < 200 or status > 299 then bad = bad + 1 end
end
function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("bad") end
  io.write(string.format("BENCH_NON2XX %%d\\n", total))
  io.write(string.format("BENCH_REQUESTS %%d\\n", summary.requests))
  local e = summary.errors
  io.write(string.format("BENCH_SOCKET_ERRORS %%d\\n", e.connect + e.read + e.write + e.timeout))
end
"""


def lua_str(value: str | bytes) -> str:
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return (
        '"'
        + "".join(
            c if (c.isascii() and c.isalnum()) or c in " -_./:;=,{}()[]&*+" else f"\\{ord(c):03d}"
            for c in value
        )
        + '"'
    )


def wrk(
    url: str, method: str, headers: dict[str, str], body: bytes, concurrency: int, duration: float
) -> dict:
    """Same contract as hey(); wrk runs min(concurrency, 2) threads, `concurrency` connections."""
    script = WRK_SCRIPT % {
        "method": lua_str(method),
        "body": lua_str(body) if body else "nil",
        "headers": "\n".join(
            f"wrk.headers[{lua_str(k)}] = {lua_str(v)}"
            for k, v in headers.items()
            if k.lower() not in ("host", "content-length")
        ),
    }
    with tempfile.NamedTemporaryFile("w", prefix="bench-", suffix=".lua", delete=False) as f:
        f.write(script)
    argv = [
        "wrk",
        "-t",
        str(min(concurrency, 2)),
        "-c",
        str(concurrency),
        "-d",
        f"{max(1, round(duration))}s",
        "--timeout",
        "10s",
        "-s",
        f.name,
        url,
    ]
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60)
    except subprocess.TimeoutExpired:
        return {
            "rps": None,
            "ok": 0,
            "non_2xx": None,
            "statuses": {},
            "conn_errors": None,
            "raw": "timed out",
        }
    finally:
        os.unlink(f.name)
    text = out.stdout + out.stderr

    def num(pattern: str) -> float | None:
        m = re.search(pattern, text)
        return float(m.group(1)) if m else None

    rps = num(r"Requests/sec:\s+([\d.]+)")
    requests = int(num(r"BENCH_REQUESTS (\d+)") or 0)
    bad = int(num(r"BENCH_NON2XX (\d+)") or 0)
    errors = int(num(r"BENCH_SOCKET_ERRORS (\d+)") or 0)
    return {
        "rps": rps,
        "ok": requests - bad,
        "non_2xx": bad + errors,
        "statuses": {"2xx": requests - bad, "other": bad},
        "conn_errors": errors,
        "raw": None if rps is not None else text[-2000:],
    }


LOAD_TOOLS = {"hey": hey, "wrk": wrk}


# --------------------------------------------------------------------------------------------------------
# Measuring one server
# --------------------------------------------------------------------------------------------------------
def start(server: Server, ops: list[dict], args, logdir: Path) -> tuple[dict, Running | None]:
    """Install and start a server: its start-up time (median of N starts) and idle RSS after one request. The
    last start stays up (the Running returned; None if it failed) for the throughput cells."""
    result: dict = {"server": server.name, "notes": server.notes, "ok": False, "ops": {}}
    try:
        server.ensure_installed()
    except Exception as exc:
        result["error"] = f"install failed: {exc}"
        return result, None
    if not (server.bindir() / server.executable()).exists():
        result["error"] = f"{server.bindir() / server.executable()} not found"
        return result, None
    result["version"] = server.version()
    with open("/proc/loadavg") as f:
        result["loadavg_before"] = f.read().split()[:3]

    # Start-up time, median of N starts (each on a fresh port and, for Overcast, a fresh data dir).
    startups = []
    for i in range(args.starts):
        try:
            run = Running(server, free_port(), logdir)
        except OSError as exc:
            result["error"] = f"could not spawn: {exc}"
            return result, None
        try:
            startups.append(run.wait_ready(args.start_timeout))
        except Exception as exc:
            run.stop()
            result["error"] = f"start {i + 1} failed: {exc}"
            return result, None
        if i < args.starts - 1:
            run.stop()
    result["startup_s"] = statistics.median(startups)
    result["startup_all_s"] = startups
    try:
        amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        result["amz_date"] = amz_date
        first = ops[0] if ops else OPERATIONS[0]
        result["rss_before_request_mb"] = tree_rss_kb(run.proc.pid) / 1024
        result["first_request_status"] = send(first, run.port, amz_date)
        time.sleep(args.idle_settle)
        result["idle_rss_mb"] = tree_rss_kb(run.proc.pid) / 1024
        result["processes"] = len(proc_tree(run.proc.pid))
    except Exception as exc:
        run.stop()
        result["error"] = f"measurement failed: {exc!r}"
        return result, None
    return result, run


def prepare(server: Server, run: Running, op: dict, result: dict) -> tuple | None:
    """An operation's setup on a running server and one probe request: the signed request to load it with
    (None if it cannot be made)."""
    r: dict = {"protocol": op["protocol"]}
    result["ops"][op["name"]] = r
    # signed now: a round outlasts the 15 minutes a signature is good for, an operation's cells do not
    amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    try:
        values, problems = run_setup(op.get("setup", []), run.port, amz_date)
        if problems:
            r["setup_status"] = problems
            for problem in problems:
                log(f"  {server.name} {op['name']} setup: {problem}")
        req = expand(server_op(op, server.name), values)
        url, headers, body = signed(req, run.port, amz_date)
        probe, answer = send_full(req, run.port, amz_date)
    except Exception as exc:
        r["error"] = f"setup failed: {exc!r}"
        return None
    r["probe_status"] = probe
    if not is_2xx(probe) or (
        op.get("expect") and not re.search(op["expect"], answer.decode(errors="replace"))
    ):
        r["probe_answer"] = answer[:500].decode(errors="replace")
        log(f"  {server.name} {op['name']}: probe answered {probe} {answer[:300]!r}")
    return url, headers, body


def load_cell(server: Server, run: Running, op: dict, target: tuple, c: int, result: dict, args) -> None:
    """One throughput cell: `op` at concurrency `c` for the run's duration (after the warm-up)."""
    r = result["ops"][op["name"]]
    if run.proc.poll() is not None:
        r[f"c{c}"] = {"rps": None, "non_2xx": None, "error": "server exited"}
        return
    load = LOAD_TOOLS[args.tool]
    url, headers, body = target
    if args.warmup > 0:
        load(url, op["method"], headers, body, c, args.warmup)
    watch = CpuWatch(run.proc.pid)
    res = load(url, op["method"], headers, body, c, args.duration)
    res["cpu"] = watch.result()
    r[f"c{c}"] = res
    shown = f"{res['rps']:.0f} req/s" if res["rps"] is not None else "no figure"
    cpu = res["cpu"]
    log(
        f"  {server.name} {op['name']} c={c}: {shown}, non-2xx {res['non_2xx']} {res['statuses']}; "
        f"cores used: server {cpu['server_cores']}, {args.tool} {cpu['tool_cores']}, "
        f"other processes {cpu['other_cores']}"
    )


def measure_round(names: list[str], ops: list[dict], args, logdir: Path) -> dict[str, dict]:
    """One round: every server started (one after another: start-up and idle RSS), then each cell measured
    on every server back to back, so that the machine's drifting speed (it is shared) falls on all servers
    alike and not on whichever ran in a slow minute. Idle servers wait meanwhile (the CPU watch of each cell
    reports the load of other processes)."""
    results: dict[str, dict] = {}
    live: list[tuple[Server, Running]] = []
    try:
        for name in names:
            log(f"{name}: starting")
            result, run = start(SERVERS[name], ops, args, logdir)
            results[name] = result
            if run is None:
                log(f"{name}: {result['error']}")
                continue
            log(f"{name}: start-up {result['startup_s']:.3f} s, idle RSS {result['idle_rss_mb']:.1f} MB")
            live.append((SERVERS[name], run))
        for op in ops:
            targets = [(server, run, prepare(server, run, op, results[server.name])) for server, run in live]
            for c in args.concurrency:
                for server, run, target in targets:
                    if target is not None:
                        load_cell(server, run, op, target, c, results[server.name], args)
        for server, run in live:
            results[server.name]["rss_after_load_mb"] = tree_rss_kb(run.proc.pid) / 1024
            results[server.name]["ok"] = True
    except Exception as exc:
        for server, _ in live:
            results[server.name].setdefault("error", f"measurement failed: {exc!r}")
    finally:
        for _, run in live:
            run.stop()
    return results


def merge_rounds(runs: list[dict]) -> dict:
    """One result from several rounds: the best round's start-up median, the median idle RSS, the best
    req/s of each cell (a cell that answered errors in any round stays an error)."""
    if len(runs) == 1:
        return runs[0]
    good = [r for r in runs if not r.get("error")]
    if not good:
        return {**runs[-1], "rounds": runs}
    merged = json.loads(json.dumps(good[0], default=str))
    starts = [s for r in good for s in r["startup_all_s"]]
    merged["startup_all_s"] = starts
    merged["startup_s"] = min(r["startup_s"] for r in good)
    for key in ("idle_rss_mb", "rss_before_request_mb", "rss_after_load_mb"):
        values = [r[key] for r in good if key in r]
        if values:
            merged[key] = statistics.median(values)
    for op_name, op in merged.get("ops", {}).items():
        for key, cell in op.items():
            if not (key.startswith("c") and isinstance(cell, dict)):
                continue
            cells = [r["ops"][op_name][key] for r in good if key in r.get("ops", {}).get(op_name, {})]
            failed = [c for c in cells if c.get("non_2xx") or c.get("rps") is None]
            best = failed[0] if failed else max(cells, key=lambda c: c["rps"])
            op[key] = {**best, "rps_all": [c.get("rps") for c in cells]}
    if len(good) < len(runs):
        merged["error_rounds"] = [r.get("error") for r in runs if r.get("error")]
    merged["rounds"] = len(runs)
    return merged


# --------------------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------------------
def throughput_value(cell: dict | None, per_cpu: bool = False):
    if cell is None:
        return None
    if cell.get("non_2xx") or cell.get("rps") is None:
        return "err"
    if not per_cpu:
        return cell["rps"]
    cores = (cell.get("cpu") or {}).get("server_cores")
    return cell["rps"] / cores if cores else None


def rows_for(results: list[dict], ops: list[dict], concurrency: list[int], per_cpu: bool = False):
    """(label, kind, {server: value or "err"/None}, target) per row; kind: 'lower' or 'higher' is better.
    per_cpu: only the throughput rows, as requests per CPU-second used by the server."""
    rows = []
    if not per_cpu:
        rows = [
            (
                "start-up (s)",
                "lower",
                {r["server"]: r.get("startup_s", "FAIL" if r.get("error") else None) for r in results},
                1.0,
            ),
            ("idle RSS (MB)", "lower", {r["server"]: r.get("idle_rss_mb") for r in results}, 1.0),
        ]
    unit = "req/CPU-s" if per_cpu else "req/s"
    for op in ops:
        for c in concurrency:
            vals = {
                r["server"]: throughput_value((r.get("ops") or {}).get(op["name"], {}).get(f"c{c}"), per_cpu)
                for r in results
            }
            rows.append((f"{op['name']} ({op['protocol']}) c={c} {unit}", "higher", vals, op.get("target")))
    return rows


def fmt(v, label: str) -> str:
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    if "(s)" in label:
        return f"{v:.3f}"
    if "MB" in label:
        return f"{v:.1f}"
    return f"{v:.0f}"


BUSY_CORES = 0.25  # CPU used by processes other than the server and the load tool above which we warn


def print_table(names: list[str], rows) -> list[dict]:
    """The table: each server's figure, Overcast's ratio to the best peer (any server but Overcast and its
    variants) and, when "overcast-enforce" was measured, its ratio to "overcast": what IAM enforcement costs
    (throughput target >= ENFORCE_TARGET)."""
    table = []
    enforce = ENFORCE in names
    ceiling = CEILING in names
    header = ["measure", *names, "overcast/best peer", "target", "met"]
    if enforce:
        header += ["enforce/overcast", "target", "met"]
    if ceiling:
        header += ["overcast/ceiling"]
    lines = [header]
    for label, kind, vals, target in rows:
        peers = [v for n, v in vals.items() if is_peer(n) and isinstance(v, float | int)]
        ours = vals.get("overcast")
        ratio = met = None
        if peers and isinstance(ours, float | int):
            best = min(peers) if kind == "lower" else max(peers)
            ratio = ours / best if best else None
            if ratio is not None and target is not None:
                met = ratio <= target if kind == "lower" else ratio >= target
        if target is None:
            target_txt = "-"
        else:
            target_txt = f"<= {target:g}x" if kind == "lower" else f">= {target:g}x"
        row = {
            "measure": label,
            "better": kind,
            "values": vals,
            "ratio_to_best_peer": ratio,
            "target": target_txt,
            "met": met,
        }
        line = [
            label,
            *[fmt(vals.get(n), label) for n in names],
            "-" if ratio is None else f"{ratio:.2f}x",
            target_txt,
            "-" if met is None else ("yes" if met else "NO"),
        ]
        if enforce:
            theirs = vals.get(ENFORCE)
            e_ratio = e_met = None
            if isinstance(theirs, float | int) and isinstance(ours, float | int) and ours:
                e_ratio = theirs / ours
            e_target = ENFORCE_TARGET if kind == "higher" else None  # only throughput has a target
            if e_ratio is not None and e_target is not None:
                e_met = e_ratio >= e_target
            row.update(
                {
                    "enforce_to_overcast": e_ratio,
                    "enforce_target": f">= {e_target:g}x" if e_target else "-",
                    "enforce_met": e_met,
                }
            )
            line += [
                "-" if e_ratio is None else f"{e_ratio:.2f}x",
                row["enforce_target"],
                "-" if e_met is None else ("yes" if e_met else "NO"),
            ]
        if ceiling:
            top = vals.get(CEILING)
            c_ratio = ours / top if kind == "higher" and isinstance(ours, float | int) and top else None
            row["ceiling_ratio"] = c_ratio
            line.append("-" if c_ratio is None else f"{c_ratio:.2f}x")
        table.append(row)
        lines.append(line)
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(header))]
    for j, line in enumerate(lines):
        print(
            "  ".join(
                str(cell).ljust(widths[i]) if i == 0 else str(cell).rjust(widths[i])
                for i, cell in enumerate(line)
            )
        )
        if j == 0:
            print("  ".join("-" * w for w in widths))
    return table


def report(results: list[dict], ops: list[dict], concurrency: list[int]) -> tuple[list[dict], list[dict]]:
    """Print the tables and notes; the main table's rows and the per-CPU rows, for the JSON."""
    busy: list[str] = []
    names = [r["server"] for r in results]
    print()
    table = print_table(names, rows_for(results, ops, concurrency))
    print()
    for r in results:
        ver = r.get("version", "?")
        if r.get("error"):
            print(f"  {r['server']} {ver}: FAILED: {r['error']}")
        else:
            starts = ", ".join(f"{s:.3f}" for s in r.get("startup_all_s", []))
            print(
                f"  {r['server']} {ver} ({r['notes']}): starts {starts} s; {r.get('processes')} process(es); "
                f"RSS after load {r.get('rss_after_load_mb', 0):.1f} MB"
            )
            for name, op in (r.get("ops") or {}).items():
                for key, cell in op.items():
                    if key.startswith("c") and isinstance(cell, dict) and cell.get("non_2xx"):
                        print(
                            f"    {name} {key}: {cell['non_2xx']} non-2xx/failed responses {cell.get('statuses')}"
                        )
                if op.get("setup_status"):
                    print(f"    {name}: setup problems: {op['setup_status']}")
                if op.get("probe_answer"):
                    print(
                        f"    {name}: the request answered {op.get('probe_status')} "
                        f"{op['probe_answer'][:300]!r}"
                    )
            others = [
                cell["cpu"]["other_cores"]
                for op in (r.get("ops") or {}).values()
                for cell in op.values()
                if isinstance(cell, dict) and "cpu" in cell
            ]
            if others and max(others) > BUSY_CORES:
                busy.append(f"{r['server']} (up to {max(others):.2f} cores)")
    per_cpu_rows = rows_for(results, ops, concurrency, per_cpu=True)
    if busy:
        print(
            f"\n  WARNING: other processes were using CPU during the throughput runs of {', '.join(busy)}: "
            "those req/s are low and their ratios unreliable; run again on a quiet machine, or with --repeat.\n"
            "  Less sensitive to that: throughput per CPU-second the server itself used (a server that spreads\n"
            "  over several processes gets no credit for it here):\n"
        )
        per_cpu = print_table(names, per_cpu_rows)
    else:
        with contextlib.redirect_stdout(io.StringIO()):
            per_cpu = print_table(names, per_cpu_rows)
    print()
    return table, per_cpu


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--servers",
        default=",".join(name for name, server in SERVERS.items() if server.default),
        help=f"comma list (default: %(default)s; also known: "
        f"{', '.join(n for n, s in SERVERS.items() if not s.default)})",
    )
    p.add_argument("--only", help="shorthand for --servers NAME")
    p.add_argument(
        "--ops", help="comma list of operation names (default: the default ones); 'all' for every one"
    )
    p.add_argument("--report", metavar="JSON", help="print the tables of a saved results file and exit")
    p.add_argument("--list-ops", action="store_true", help="list operations and exit")
    p.add_argument(
        "--duration", type=float, default=5.0, help="seconds per measurement (default %(default)s)"
    )
    p.add_argument(
        "--warmup", type=float, default=1.0, help="warm-up seconds before each (default %(default)s)"
    )
    p.add_argument("--concurrency", default="1,8", help="comma list (default %(default)s)")
    p.add_argument(
        "--starts", type=int, default=3, help="starts for the start-up median (default %(default)s)"
    )
    p.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="measure every server N times (every cell on all servers back to back in each round) and keep the "
        "best throughput of each cell and the median of all starts: smooths out other load on a shared machine "
        "(default %(default)s)",
    )
    p.add_argument("--start-timeout", type=float, default=60.0)
    p.add_argument("--idle-settle", type=float, default=1.0, help="seconds after the request before RSS")
    p.add_argument(
        "--tool", choices=sorted(LOAD_TOOLS), default="hey", help="load generator (default %(default)s)"
    )
    p.add_argument("--json", default=str(RESULTS / "latest.json"), help="where to write results")
    args = p.parse_args(argv)

    if args.report:
        doc = json.loads(Path(args.report).read_text())
        by_name = {op["name"]: op for op in OPERATIONS}
        ops = [by_name.get(n, {"name": n, "protocol": "?"}) for n in doc["settings"]["ops"]]
        report(doc["servers"], ops, doc["settings"]["concurrency"])
        return 0
    if args.list_ops:
        for op in OPERATIONS:
            print(
                f"{op['name']:32} {op['protocol']:10} {op['method']:6} {op['path']}"
                f"{'' if op.get('default') else '   (not default)'}"
            )
        return 0
    if shutil.which(args.tool) is None:
        print(
            f"error: `{args.tool}` (HTTP load generator) is missing: apt-get install {args.tool}",
            file=sys.stderr,
        )
        return 2

    names = [args.only] if args.only else [s.strip() for s in args.servers.split(",") if s.strip()]
    unknown = [n for n in names if n not in SERVERS]
    if unknown:
        p.error(f"unknown server(s) {unknown}; known: {', '.join(SERVERS)}")
    if args.ops in (None, ""):
        ops = [op for op in OPERATIONS if op.get("default")]
    elif args.ops == "all":
        ops = list(OPERATIONS)
    else:
        by_name = {op["name"]: op for op in OPERATIONS}
        wanted = [o.strip() for o in args.ops.split(",") if o.strip()]
        missing = [o for o in wanted if o not in by_name]
        if missing:
            p.error(f"unknown op(s) {missing}; known: {', '.join(by_name)}")
        ops = [by_name[o] for o in wanted]
    args.concurrency = [int(c) for c in args.concurrency.split(",")]

    RESULTS.mkdir(parents=True, exist_ok=True)
    logdir = RESULTS / "logs"  # the servers' output of the latest run
    shutil.rmtree(logdir, ignore_errors=True)
    logdir.mkdir(parents=True)
    rounds: dict[str, list[dict]] = {name: [] for name in names}
    for round_no in range(1, args.repeat + 1):
        if args.repeat > 1:
            log(f"round {round_no}/{args.repeat}")
        for name, res in measure_round(names, ops, args, logdir).items():
            rounds[name].append(res)
    results = [merge_rounds(rounds[name]) for name in names]
    table, per_cpu = report(results, ops, args.concurrency)
    doc = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "settings": {
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "concurrency": args.concurrency,
            "starts": args.starts,
            "repeat": args.repeat,
            "ops": [op["name"] for op in ops],
            "load_tool": args.tool,
        },
        "servers": results,
        "table": table,
        "table_per_server_cpu_second": per_cpu,
    }
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(doc, indent=2, default=str) + "\n")
    print(f"results written to {args.json}; server logs in {logdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
