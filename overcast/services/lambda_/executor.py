"""Running invocations: warm worker pools per function version, concurrency accounting, Lambda's log lines.

Concurrency is the number of invocations in flight, so it is counted in memory (it does not survive a
restart, and neither do the invocations). Reserved concurrency caps one function; the functions without
a reservation share what the account limit leaves unreserved.
"""

from __future__ import annotations

import json
import math
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from overcast.services.lambda_.worker import InitError, Invocation, LaunchSpec, Outcome, RuntimeExited, Worker

IDLE_LIFETIME = 300.0  # real seconds a warm environment is kept without work
TAIL_BYTES = 4096  # LogType=Tail returns the last 4 KB of the log


@dataclass
class Result:
    payload: bytes
    function_error: str | None  # "Unhandled" when the function failed
    log: str  # the invocation's whole log text, START to REPORT
    log_stream: str = ""
    duration_ms: float = 0.0  # the handler's run (AWS/Lambda Duration), without the environment's init


class Pool:
    """The idle execution environments of one function version at one revision."""

    def __init__(self, revision: str) -> None:
        self.revision = revision
        self.idle: list[Worker] = []
        self.busy: set[Worker] = set()

    def kill_all(self) -> None:
        for worker in [*self.idle, *self.busy]:
            worker.kill()
        self.idle.clear()
        self.busy.clear()


class Executor:
    def __init__(self, tmp_root: Path) -> None:
        self.tmp_root = tmp_root
        self.pools: dict[tuple[str, str, str, str], Pool] = {}
        self.function_inflight: dict[tuple[str, str, str], int] = defaultdict(int)
        self.unreserved_inflight: dict[tuple[str, str], int] = defaultdict(int)
        self.account_inflight: dict[tuple[str, str], int] = defaultdict(int)

    # -- concurrency -------------------------------------------------------------------------------

    def try_acquire(
        self, account: str, region: str, name: str, reserved: int | None, unreserved_limit: int
    ) -> str | None:
        """Take one concurrency slot; None on success, else the throttling reason."""
        key = (account, region, name)
        if reserved is not None:
            if self.function_inflight[key] >= reserved:
                return "ReservedFunctionConcurrentInvocationLimitExceeded"
        elif self.unreserved_inflight[(account, region)] >= unreserved_limit:
            return "ConcurrentInvocationLimitExceeded"
        self.function_inflight[key] += 1
        self.account_inflight[(account, region)] += 1
        if reserved is None:
            self.unreserved_inflight[(account, region)] += 1
        return None

    def release(self, account: str, region: str, name: str, reserved: int | None) -> None:
        for counts, key in (
            (self.function_inflight, (account, region, name)),
            (self.account_inflight, (account, region)),
            (self.unreserved_inflight, (account, region) if reserved is None else None),
        ):
            if key is not None and counts.get(key, 0) > 0:  # a reset may have cleared the counts meanwhile
                counts[key] -= 1

    # -- running -----------------------------------------------------------------------------------

    async def run(
        self,
        pool_key: tuple[str, str, str, str],
        revision: str,
        make_spec: Callable[[], Awaitable[LaunchSpec]],
        invocation: Invocation,
        timeout: float,
        memory_mb: int,
        version: str,
    ) -> Result:
        pool = self._pool(pool_key, revision)
        worker, cold = self._take_idle(pool), False
        if worker is None:
            worker, cold = Worker(await make_spec(), self.tmp_root), True
        pool.busy.add(worker)
        head: list[str] = []
        try:
            if cold:
                await worker.start()
                head.append(_init_start(worker.spec))
                try:
                    await worker.wait_ready()
                except InitError as error:
                    return self._init_failed(worker, head, invocation, error.outcome, memory_mb, version)
                except (TimeoutError, RuntimeExited) as error:
                    worker.kill()
                    outcome = _sandbox_error(
                        invocation.request_id,
                        "Runtime.ExitError" if isinstance(error, RuntimeExited) else "Sandbox.Timedout",
                        str(error) or "Init timed out",
                    )
                    return self._init_failed(worker, head, invocation, outcome, memory_mb, version)
            init_log = worker.take_log()
            started = time.monotonic()
            try:
                outcome = await worker.run(invocation, timeout)
            except RuntimeExited as error:
                outcome = _sandbox_error(invocation.request_id, "Runtime.ExitError", str(error))
            duration_ms = (time.monotonic() - started) * 1000
            body = worker.take_log()
            if outcome.timed_out:
                body += f"{_timestamp()} {invocation.request_id} Task timed out after {timeout:.2f} seconds\n".encode()
                outcome = _sandbox_error(
                    invocation.request_id, "Sandbox.Timedout", f"Task timed out after {timeout:.2f} seconds"
                )
            init_ms = worker.init_duration_ms
            worker.init_duration_ms = None
            log = _log_text(
                head,
                init_log,
                body,
                invocation.request_id,
                version,
                duration_ms,
                memory_mb,
                worker.max_memory_mb(),
                init_ms,
            )
            return Result(
                outcome.payload,
                "Unhandled" if outcome.error_type else None,
                log,
                worker.spec.log_stream,
                duration_ms,
            )
        finally:
            pool.busy.discard(worker)
            if worker.alive and self.pools.get(pool_key) is pool:
                pool.idle.append(worker)
            else:
                worker.kill()

    def _init_failed(
        self,
        worker: Worker,
        head: list[str],
        invocation: Invocation,
        outcome: Outcome,
        memory_mb: int,
        version: str,
    ) -> Result:
        worker.kill()
        log = _log_text(
            head,
            worker.take_log(),
            b"",
            invocation.request_id,
            version,
            (time.monotonic() - worker.started_at) * 1000,
            memory_mb,
            worker.max_memory_mb(),
            None,
        )
        return Result(outcome.payload, "Unhandled", log, worker.spec.log_stream)

    def _pool(self, key: tuple[str, str, str, str], revision: str) -> Pool:
        pool = self.pools.get(key)
        if pool is None or pool.revision != revision:
            if pool is not None:  # the code or configuration changed: old environments are not reused
                for worker in pool.idle:
                    worker.kill()
            pool = self.pools[key] = Pool(revision)
        return pool

    @staticmethod
    def _take_idle(pool: Pool) -> Worker | None:
        while pool.idle:
            worker = pool.idle.pop()
            if worker.alive:
                return worker
        return None

    def forget(self, account: str, region: str, name: str, version: str | None = None) -> None:
        """Stop the environments of a deleted function (or one deleted version)."""
        for key in [k for k in self.pools if k[:3] == (account, region, name) and version in (None, k[3])]:
            self.pools.pop(key).kill_all()

    def reap_idle(self) -> None:
        cutoff = time.monotonic() - IDLE_LIFETIME
        for pool in self.pools.values():
            keep = []
            for worker in pool.idle:
                if worker.alive and worker.last_used >= cutoff:
                    keep.append(worker)
                else:
                    worker.kill()
            pool.idle = keep

    def stop_all(self) -> None:
        for pool in self.pools.values():
            pool.kill_all()
        self.pools.clear()
        self.function_inflight.clear()
        self.unreserved_inflight.clear()
        self.account_inflight.clear()


def _sandbox_error(request_id: str, error_type: str, message: str) -> Outcome:
    body = {"errorType": error_type, "errorMessage": f"RequestId: {request_id} Error: {message}"}
    return Outcome(json.dumps(body).encode(), error_type)


def _timestamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _init_start(spec: LaunchSpec) -> str:
    line = f"INIT_START Runtime Version: {spec.runtime_version}"
    return line + (f"\tOvercast: {spec.runtime_note}" if spec.runtime_note else "")


def _log_text(
    head: list[str],
    init_log: bytes,
    body: bytes,
    request_id: str,
    version: str,
    duration_ms: float,
    memory_mb: int,
    max_memory_mb: int,
    init_ms: float | None,
) -> str:
    parts = [line + "\n" for line in head]
    parts.append(init_log.decode("utf-8", "replace"))
    parts.append(f"START RequestId: {request_id} Version: {version}\n")
    parts.append(body.decode("utf-8", "replace"))
    parts.append(f"END RequestId: {request_id}\n")
    report = (
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
        f"Billed Duration: {max(1, math.ceil(duration_ms))} ms\tMemory Size: {memory_mb} MB\t"
        f"Max Memory Used: {max_memory_mb} MB\t"
    )
    if init_ms is not None:
        report += f"Init Duration: {init_ms:.2f} ms\t"
    parts.append(report + "\n")
    return "".join(parts)


def tail(log: str) -> str:
    """The last 4 KB of a log, as LogType=Tail returns it."""
    data = log.encode()
    return data[-TAIL_BYTES:].decode("utf-8", "ignore")
