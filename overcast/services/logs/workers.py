"""Retention: events older than their group's retention period are deleted, in batches, whenever the clock
moves, every minute, and at once when a retention policy is put."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from overcast.services.logs.provider import LogsProvider

log = logging.getLogger("overcast.logs")


class RetentionWorker:
    def __init__(self, service: LogsProvider) -> None:
        self.service = service
        self.db = service.db
        self.clock = service.clock

    async def run(self) -> None:
        while True:
            try:
                while self._expire_some():
                    await asyncio.sleep(0)
            except Exception:  # a failed sweep must not end the worker
                log.exception("log retention sweep failed")
            await self.clock.wait_for_change(60)

    def wake(self) -> None:
        """A new retention policy takes effect now, not at the next minute (call after its commit)."""
        self.service.platform.spawn(self._expire_now())

    async def _expire_now(self) -> None:
        while self._expire_some():
            await asyncio.sleep(0)

    def _expire_some(self) -> bool:
        """One batch per group with a retention policy; True while there is more to delete."""
        more = False
        now = self.service.now_ms()
        store = self.service.store
        with self.db.transaction():
            for group in store.groups_with_retention():
                more |= store.expire_events(group, group.retention_cutoff(now)) > 0
        return more
