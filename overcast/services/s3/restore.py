"""Restores of archived objects: RestoreObject, and the restores completing on the virtual clock (the
s3:ObjectRestore:Completed event).

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
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.s3 import lifecycle, notifications
from overcast.services.s3.common import ARCHIVED_CLASSES
from overcast.services.s3.lifecycle import DAY

if TYPE_CHECKING:
    from overcast.services.s3.provider import S3Provider

log = logging.getLogger("overcast.s3")
LONGEST_SLEEP = 60.0  # real seconds between looks at the table without any wake-up
# Restore delays per storage class and retrieval tier, in seconds (AWS's published upper bounds).
RESTORE_DELAYS = {
    "GLACIER": {"Expedited": 5 * 60, "Standard": 5 * 3600, "Bulk": 12 * 3600},
    "DEEP_ARCHIVE": {"Standard": 12 * 3600, "Bulk": 48 * 3600},
}


class RestoreOperations(Operations):
    service: S3Provider

    def restore_object(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket, version = self.service.versions.addressed(ctx, params, "s3:RestoreObject")
        if version.storage_class not in ARCHIVED_CLASSES:
            raise ServiceError(
                "InvalidObjectState",
                "Restore is not allowed for the object's current storage class",
                403,
                StorageClass=version.storage_class,
            )
        request = params.get("RestoreRequest") or {}
        days = request.get("Days")
        if not days:
            raise ServiceError(
                "MalformedXML",
                "The XML you provided was not well-formed or did not validate against our published schema",
                400,
            )
        tier = (request.get("GlacierJobParameters") or {}).get("Tier") or request.get("Tier") or "Standard"
        delay = RESTORE_DELAYS[version.storage_class].get(tier)
        if delay is None:
            raise ServiceError(
                "InvalidArgument",
                f"{tier} retrieval is not supported for the {version.storage_class} storage class",
                400,
            )
        now = self.clock.now()
        restore = version.meta.get("Restore")
        if restore and now < restore["ready_at"]:
            raise ServiceError("RestoreAlreadyInProgress", "Object restore is already in progress", 409)
        # The copy lasts `Days` from when it is ready, to the next midnight UTC (as AWS counts)
        if restore and now < restore["expires_at"]:
            restore = {**restore, "expires_at": lifecycle.midnight_after(now + days * DAY)}
            status = 200
        else:
            ready = now + delay
            restore = {
                "ready_at": ready,
                "expires_at": lifecycle.midnight_after(ready + days * DAY),
                "tier": tier,
            }
            status = 202
        self.service.store.update_object(version.id, meta={**version.meta, "Restore": restore})
        if status == 202:
            self.service.store.schedule_restore(version.id, restore["ready_at"])
            self.db.after_commit(self.service.restores_changed.set)
            self.service.notify(
                ctx, bucket, "ObjectRestore:Post", version.key, version.size, version.etag, version.version_id
            )
        return {"__status__": status}


# -- the completion worker ----------------------------------------------------------------------------


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
                notifications.restore_completed(provider, bucket, version, restore)
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
