"""Function logs to CloudWatch Logs (/aws/lambda/<name>), shipped off the invocation's path in batches.

Logs go through the logs service like any AWS service's writes would. While Overcast has no logs service
the lines are dropped (LogType=Tail still returns them).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import TYPE_CHECKING

from overcast.errors import ServiceError
from overcast.identity import service_principal

if TYPE_CHECKING:
    from overcast.platform import Platform

log = logging.getLogger("overcast.lambda")
MAX_PENDING = 10_000  # invocations' logs waiting to be shipped; beyond this the oldest are dropped
BATCH_EVENTS = 10_000  # PutLogEvents' limit
FLUSH_DELAY = (
    0.2  # seconds lines gather before a flush: one PutLogEvents per stream per flush, not per invoke
)


class LogShipper:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.pending: deque[tuple[str, str, str, str, int, str]] = deque(maxlen=MAX_PENDING)
        self.created: set[tuple[str, str, str, str]] = set()
        self.available = True
        self._wake = asyncio.Event()

    def submit(
        self, account: str, region: str, group: str, stream: str, timestamp_ms: int, text: str
    ) -> None:
        if self.available and text:
            self.pending.append((account, region, group, stream, timestamp_ms, text))
            self._wake.set()

    def forget(self) -> None:
        self.pending.clear()
        self.created.clear()

    async def run(self) -> None:
        while True:
            await self._wake.wait()
            await asyncio.sleep(FLUSH_DELAY)
            self._wake.clear()
            while self.pending:
                batches: dict[tuple[str, str, str, str], list[dict]] = {}
                while self.pending:
                    account, region, group, stream, timestamp, text = self.pending.popleft()
                    events = batches.setdefault((account, region, group, stream), [])
                    events += [
                        {"timestamp": timestamp, "message": line} for line in text.splitlines() if line
                    ]
                for key, events in batches.items():
                    for start in range(0, len(events), BATCH_EVENTS):
                        await self._put(key, events[start : start + BATCH_EVENTS])

    async def _put(self, key: tuple[str, str, str, str], events: list[dict]) -> None:
        account, region, group, stream = key
        try:
            if key not in self.created:
                await self._ensure(account, region, "CreateLogGroup", {"logGroupName": group})
                await self._ensure(
                    account, region, "CreateLogStream", {"logGroupName": group, "logStreamName": stream}
                )
                self.created.add(key)
            await self._call(
                account,
                region,
                "PutLogEvents",
                {"logGroupName": group, "logStreamName": stream, "logEvents": events},
            )
        except ServiceError as error:
            if error.code == "NotImplemented":
                self.available = False  # no logs service in this Overcast: stop trying
                self.pending.clear()
            else:
                log.warning("function logs to %s/%s dropped: %s", group, stream, error)
        except Exception:  # a logs failure must never break invocations
            log.exception("function logs to %s/%s dropped", group, stream)

    async def _ensure(self, account: str, region: str, operation: str, params: dict) -> None:
        try:
            await self._call(account, region, operation, params)
        except ServiceError as error:
            if error.code != "ResourceAlreadyExistsException":
                raise

    async def _call(self, account: str, region: str, operation: str, params: dict) -> dict:
        principal = service_principal("lambda.amazonaws.com", account)
        return await self.platform.call(
            "logs", operation, params, principal=principal, account_id=account, region=region
        )
