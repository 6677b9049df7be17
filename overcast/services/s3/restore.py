"""Restores of archived objects completing on the virtual clock: the s3:ObjectRestore:Completed event.

A restore in progress has a row in `s3_restores` (the version's row id and when its copy is ready), written
with the RestoreObject that started it, so a restart loses none. This worker sleeps until the earliest one is
due (waking early when the clock moves or a new restore starts), then, in one transaction per batch, sends the
Completed event of each version still holding that restore and forgets the row. Reads do not wait for it: a
restored copy is readable from its ready moment on (`is_restored`), whether or not the event went out yet.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from overcast.services.s3.provider import S3Provider

log = logging.getLogger("overcast.s3")
LONGEST_SLEEP = 60.0  # real seconds between looks at the table without any wake-up


async def run(provider: S3Provider, wake: asyncio.Event) -> None:
    while True:
        wake.clear()
        try:
            upcoming = complete_due(provider)
        except Exception:  # a broken row must not stop the worker
            log.exception("restore completion failed")
            upcoming = None
        wait = LONGEST_SLEEP if upcoming is None else min(LONGEST_SLEEP, upcoming - provider.clock.now())
        if wait > 0:
            await _first_of(provider.clock.wait_for_change(wait), wake.wait())
        else:
            await asyncio.sleep(0)


def complete_due(provider: S3Provider) -> float | None:
    """Send the Completed event of every restore ready by now; when the next one is due (None: none)."""
    store = provider.store
    with provider.db.transaction():
        for row_id, ready_at in store.due_restores(provider.clock.now()):
            store.forget_restore(row_id)
            version = store.version_by_id(row_id)
            restore = version.meta.get("Restore") if version is not None else None
            if not restore or restore.get("ready_at") != ready_at:
                continue  # deleted, or overwritten in place by an object that is not being restored
            bucket = store.bucket_by_id(version.bucket_id)
            if bucket is not None:
                provider.notify_restore_completed(bucket, version, restore)
        return store.next_restore()


async def _first_of(*waits) -> None:
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
