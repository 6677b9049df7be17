"""Recording every call: the platform observer CloudTrail registers.

The observer itself only decides whether a call is recorded (a management event always; a data event only
when a logging trail of the account asks for its resource type) and appends it to a list; the records are
built and written in one transaction per batch by a callback the event loop runs as soon as the current
request has been answered. Under load the batches grow, so a commit is shared by many calls. A record is thus
written within one turn of the event loop after its call; what a kill -9 can lose is that turn's batch.
Management write events also go to EventBridge's default bus as "AWS API Call via CloudTrail" events.
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
        if not self.scheduled:
            self.scheduled = True
            try:
                asyncio.get_running_loop().call_soon(self.flush)
            except RuntimeError:  # no loop (an embedded platform): write at once
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
        self.scheduled = False
        batch, self.pending = self.pending, []
        if not batch:
            return
        rows, resources, forwarded = [], [], []
        for ctx, params, result, error, moment in batch:
            try:
                record = records.build(ctx, params, result, error, moment)
            except Exception:  # a record that cannot be built must not lose the others
                log.exception("could not record %s.%s", ctx.service, ctx.operation)
                continue
            data_type, read_only, source = records.classify(ctx.service, ctx.operation)
            identity = record["userIdentity"]
            named = [
                (r["ResourceType"], r["ResourceName"]) for r in records.resources_of(ctx.service, params)
            ]
            rows.append(
                (
                    ctx.account_id,
                    record["awsRegion"],
                    moment,
                    record["eventID"],
                    ctx.operation,
                    source,
                    records.username(identity),
                    identity.get("accessKeyId"),
                    int(read_only),
                    record["eventCategory"],
                    data_type,
                    records.data_resource_arn(ctx.service, ctx.region, ctx.account_id, params)
                    if data_type
                    else None,
                    records.to_json(record),
                )
            )
            resources.append(named)
            if data_type is None and not read_only and identity.get("type") != "AWSService":
                forwarded.append((ctx.account_id, record["awsRegion"], source, record, moment))
        provider = self.provider
        with provider.db.transaction():
            provider.store.add_events(rows, resources)
        if forwarded and provider.platform.running("events") is not None:
            self._to_eventbridge(forwarded)

    def _to_eventbridge(self, forwarded: list[tuple[str, str, str, dict[str, Any], float]]) -> None:
        from overcast.services.events.api import put_event

        for account, region, source, record, moment in forwarded:
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
