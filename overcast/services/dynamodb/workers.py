"""DynamoDB's background work: the TTL sweeper, which deletes expired items as the service (their stream
records carry DynamoDB's identity), checking again whenever the virtual clock moves."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from overcast.services.dynamodb.provider import DynamoDBProvider

log = logging.getLogger("overcast.dynamodb")
IGNORED_AGE = 5 * 365 * 86400  # AWS ignores expiry times more than five years in the past
SWEEP_BATCH = 1000


async def ttl_worker(service: DynamoDBProvider) -> None:
    while True:
        try:
            sweep_expired(service)
        except Exception:  # a sweep that fails must not stop later ones
            log.exception("TTL sweep failed")
        await service.clock.wait_for_change(1.0)


def sweep_expired(service: DynamoDBProvider) -> int:
    """Delete items whose TTL passed (plus the configured delay), as the service: stream REMOVE records."""
    store = service.store
    now = service.clock.now()
    deleted = 0
    for account, region, name in store.ttl_tables():
        with service.db.transaction():
            table = store.table(account, region, name)
            if table is None:
                continue
            for key in store.expired(table, now - service.ttl_delay, now - IGNORED_AGE, SWEEP_BATCH):
                found = store.get(table, tuple(key))
                if found is not None:
                    service.write(table, tuple(key), found[0], None, service=True)
                    deleted += 1
    return deleted
