"""Recording every call: the platform observer CloudTrail registers.

The observer itself only decides whether a call is recorded (a management event always; a data event only
when a logging trail of the account asks for its resource type) and appends it to a list. The calls are
captured (records.capture: the cheap parts of a record) and written together, in one transaction, WRITE_DELAY
after the first of them (or at once when BATCH are waiting), so under load many calls share a commit. What a
kill -9 can lose is the last WRITE_DELAY of records. Management write events also go to EventBridge's default
bus as "AWS API Call via CloudTrail" events.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from overcast.services.cloudtrail import records, selectors

if TYPE_CHECKING:
    from overcast.context import RequestContext
    from overcast.services.cloudtrail.provider import CloudTrailProvider

log = logging.getLogger("overcast.cloudtrail")
WRITE_DELAY = 0.05  # seconds a record may wait for others to share its commit (rows are cheaper in bulk)
BATCH = 256  # records written at once without waiting


class Recorder:
    def __init__(self, provider: CloudTrailProvider) -> None:
        self.provider = provider
        self.clock = provider.clock
        self.pending: list[tuple[Any, ...]] = []
        self.scheduled = False
        self._data_types: dict[str, frozenset[str]] = {}  # account -> data event types its logging trails log

    def trails_changed(self) -> None:
        self._data_types.clear()

    def __call__(
        self,
        ctx: RequestContext,
        params: dict[str, Any],
        result: dict[str, Any] | None,
        error: BaseException | None,
    ) -> None:
        data_type = records.classify(ctx.service, ctx.operation)[0]
        if data_type is not None and data_type not in self._logged_data_types(ctx.account_id):
            return
        self.pending.append((ctx, params, result, error, self.clock.now()))
        if len(self.pending) >= BATCH:
            self.flush()
        elif not self.scheduled:
            try:
                asyncio.get_running_loop().call_later(WRITE_DELAY, self._timed_flush)
                self.scheduled = True
            except RuntimeError:  # no loop (an embedded platform): write at once
                self.flush()

    def _timed_flush(self) -> None:
        self.scheduled = False
        self.flush()

    def _logged_data_types(self, account: str) -> frozenset[str]:
        found = self._data_types.get(account)
        if found is None:
            wanted: set[str] = set()
            for trail in self.provider.store.trails(account):
                if trail[5]:  # logging
                    wanted |= selectors.data_types(self.provider.config_of(trail))
            found = self._data_types[account] = frozenset(wanted)
        return found

    def flush(self) -> None:
        batch, self.pending = self.pending, []
        if not batch:
            return
        rows, resources, forwarded = [], [], []
        for ctx, params, result, error, moment in batch:
            try:
                row, named = records.capture(ctx, params, result, error, moment)
            except Exception:  # a call that cannot be recorded must not lose the others
                log.exception("could not record %s.%s", ctx.service, ctx.operation)
                continue
            rows.append(row)
            resources.append(named)
            if row[9] == "Management" and not row[8] and ctx.principal.kind != "service":
                forwarded.append(row)
        provider = self.provider
        with provider.db.transaction():
            provider.store.add_events(rows, resources)
        if forwarded and provider.platform.running("events") is not None:
            self._to_eventbridge(forwarded)

    def _to_eventbridge(self, forwarded: list[tuple[Any, ...]]) -> None:
        """Management write events as "AWS API Call via CloudTrail" events on the default bus."""
        from overcast.services.events.api import put_event

        for row in forwarded:
            record = records.assemble(row)
            account, region, source, moment = row[0], row[1], row[5], row[2]
            try:
                put_event(
                    self.provider.platform,
                    account,
                    region,
                    source="aws." + source.split(".", 1)[0],
                    detail_type="AWS API Call via CloudTrail",
                    detail=record,
                    moment=moment,
                )
            except Exception:
                log.exception("could not send %s to EventBridge", record.get("eventName"))
