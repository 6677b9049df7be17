"""Background work of Kinesis on the virtual clock: records past their stream's retention period are deleted
(reads already skip them), closed shards whose records have all expired disappear, and deleted streams are
emptied in small transactions so a large stream never blocks the server."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from overcast.services.kinesis.provider import KinesisProvider

log = logging.getLogger("overcast.kinesis")

SWEEP_SECONDS = 60.0  # real seconds between retention sweeps (sooner when the clock is advanced)
BATCH = 5000  # records deleted per transaction


class KinesisWorkers:
    def __init__(self, service: KinesisProvider) -> None:
        self.service = service
        self._wake = asyncio.Event()

    def start(self) -> None:
        self.service.platform.spawn(self._run())

    def wake(self) -> None:
        """Sweep now (a stream was deleted or its retention shortened)."""
        self._wake.set()

    async def _run(self) -> None:
        while True:
            try:
                await self._purge_deleted()
                await self._expire()
            except asyncio.CancelledError:
                raise
            except Exception:  # a sweep that fails is tried again at the next one
                log.exception("kinesis sweep failed")
            await self._sleep()

    async def _sleep(self) -> None:
        self._wake.clear()
        woken = asyncio.ensure_future(self._wake.wait())
        moved = asyncio.ensure_future(self.service.clock.wait_for_change(SWEEP_SECONDS))
        try:
            await asyncio.wait({woken, moved}, timeout=SWEEP_SECONDS, return_when=asyncio.FIRST_COMPLETED)
        finally:
            woken.cancel()
            moved.cancel()

    async def _purge_deleted(self) -> None:
        store, db = self.service.store, self.service.db
        with db.transaction():
            deleting = store.deleting_streams()
        for stream_id in deleting:
            while True:
                with db.transaction():
                    if store.purge_records(stream_id, BATCH) < BATCH:
                        store.drop_stream(stream_id)
                        break
                await asyncio.sleep(0)

    async def _expire(self) -> None:
        store, db = self.service.store, self.service.db
        with db.transaction():
            streams = [s for s in store.all_streams() if s.status != "DELETING"]
        for stream in streams:
            cutoff = self.service.cutoff(stream)
            with db.transaction():
                shards = store.shards(stream.id)
            for shard in shards:
                while True:
                    with db.transaction():
                        if store.expire(stream.id, shard.index, cutoff, BATCH) < BATCH:
                            break
                    await asyncio.sleep(0)
            with db.transaction():
                store.forget_shards_before(stream.id, cutoff)
