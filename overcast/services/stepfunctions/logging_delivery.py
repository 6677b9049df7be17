"""Execution history to CloudWatch Logs, at the state machine's logging level.

An event that the level lets through (ALL: every one; ERROR: failures, time-outs and aborts; FATAL: the
execution's own failure, abort or time-out) is queued in the same transaction that records it (the outbox
survives a restart), and a worker ships the queue to the log group with CreateLogStream and PutLogEvents
through `Platform.call`. Records are shaped as AWS writes them: `id`, `type`, `details`, `previous_event_id`,
`event_timestamp` (milliseconds), `execution_arn`, `redrive_count`, all but `details` as strings; without
`includeExecutionData` the details lose their input, output and parameters.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from overcast.errors import ServiceError
from overcast.identity import root_principal
from overcast.services.kit.arns import parse_arn
from overcast.services.stepfunctions.failures import dumps

if TYPE_CHECKING:
    from overcast.services.stepfunctions.provider import StepFunctionsProvider
    from overcast.services.stepfunctions.store import Execution

log = logging.getLogger("overcast.stepfunctions")

_FATAL = {"ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut"}
_DATA_FIELDS = ("input", "output", "parameters", "assignedVariables")
BATCH = 500


def passes(level: str, kind: str) -> bool:
    if level == "ALL":
        return True
    if level == "FATAL":
        return kind in _FATAL
    if level == "ERROR":
        return kind in _FATAL or kind.endswith(("Failed", "TimedOut", "Aborted"))
    return False


def record(execution: Execution, event_id: int, kind: str, previous: int, moment: float, details: Any) -> str:
    """One log event's message, as Step Functions writes it."""
    config = execution.details.get("logging") or {}
    body = dict(details or {})
    if body and not config.get("includeExecutionData"):
        body = {
            key: {k: v for k, v in value.items() if k not in _DATA_FIELDS}
            if isinstance(value, dict)
            else value
            for key, value in body.items()
        }
    inner = next(iter(body.values()), {}) if body else {}
    return dumps(
        {
            "id": str(event_id),
            "type": kind,
            "details": inner,
            "previous_event_id": str(previous),
            "event_timestamp": str(int(moment * 1000)),
            "execution_arn": execution.arn,
            "redrive_count": str(execution.redrive_count),
        }
    )


def destination(execution: Execution) -> tuple[str, str] | None:
    """(log group name, log stream name) of an execution whose machine logs, else None."""
    config = execution.details.get("logging") or {}
    if config.get("level", "OFF") == "OFF":
        return None
    for target in config.get("destinations") or ():
        arn = parse_arn((target.get("cloudWatchLogsLogGroup") or {}).get("logGroupArn") or "")
        if arn is not None and arn.resource.startswith("log-group:"):
            group = arn.resource[len("log-group:") :].removesuffix(":*")
            machine = execution.machine_arn.split(":")[6]
            return group, f"states/{machine}/{execution.name}"
    return None


class LogShipper:
    """The worker that empties the outbox into CloudWatch Logs."""

    def __init__(self, provider: StepFunctionsProvider) -> None:
        self.provider = provider
        self.store = provider.store
        self.db = provider.db
        self._wake = asyncio.Event()

    def queue(
        self, execution: Execution, event_id: int, kind: str, previous: int, moment: float, details: Any
    ) -> None:
        """Queue an event for delivery if the execution's logging level lets it through (in a transaction)."""
        config = execution.details.get("logging")
        if not config or not passes(config.get("level", "OFF"), kind):
            return
        target = destination(execution)
        if target is None:
            return
        message = record(execution, event_id, kind, previous, moment, details)
        self.store.queue_log(
            execution.account, execution.region, target[0], target[1], int(moment * 1000), message
        )
        self.db.after_commit(self._wake.set)

    async def run(self) -> None:
        while True:
            self._wake.clear()
            try:
                shipped = await self.ship()
            except Exception:  # delivery problems must not stop the worker
                log.exception("step functions log delivery")
                shipped = 0
            if shipped < BATCH:
                await self._wake.wait()

    async def ship(self) -> int:
        rows = self.store.queued_logs(BATCH)
        groups: dict[tuple[str, str, str, str], list[tuple[int, int, str]]] = {}
        for row_id, account, region, group, stream, timestamp, message in rows:
            groups.setdefault((account, region, group, stream), []).append((row_id, timestamp, message))
        for (account, region, group, stream), entries in groups.items():
            await self._put(account, region, group, stream, [(t, m) for _, t, m in entries])
            with self.db.transaction():
                self.store.drop_logs([row_id for row_id, _, _ in entries])
        return len(rows)

    async def _put(
        self, account: str, region: str, group: str, stream: str, events: list[tuple[int, str]]
    ) -> None:
        platform = self.provider.platform
        principal = root_principal(account)  # Step Functions' own delivery (vended logs)
        call = {"principal": principal, "account_id": account, "region": region}
        try:
            try:
                await platform.call(
                    "logs", "CreateLogStream", {"logGroupName": group, "logStreamName": stream}, **call
                )
            except ServiceError as error:
                if error.code != "ResourceAlreadyExistsException":
                    raise
            await platform.call(
                "logs",
                "PutLogEvents",
                {
                    "logGroupName": group,
                    "logStreamName": stream,
                    "logEvents": [{"timestamp": t, "message": m} for t, m in sorted(events)],
                },
                **call,
            )
        except ServiceError as error:
            log.warning("execution history for log group %s dropped: %s %s", group, error.code, error.message)
