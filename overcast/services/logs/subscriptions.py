"""Subscription filters: the events a filter matches go, once their write commits, to its destination (a
Lambda function, a Kinesis stream, a Firehose delivery stream, or a Logs destination's target, which may be
in another account) as one gzipped DATA_MESSAGE per
PutLogEvents call, delivered by the kit as logs.amazonaws.com, so the destination's policy decides."""

from __future__ import annotations

import base64
import gzip
import json
import logging
import uuid
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.kit.arns import parse_arn
from overcast.services.kit.delivery import Sender, deliver
from overcast.services.logs.common import not_found, pattern_matcher
from overcast.services.logs.destinations import check_subscription
from overcast.services.logs.filter_pattern import compile_pattern
from overcast.services.logs.store import LogGroup, LogStream

if TYPE_CHECKING:
    from overcast.platform import Platform
    from overcast.services.logs.provider import LogsProvider

log = logging.getLogger("overcast.logs")
MAX_SUBSCRIPTION_FILTERS = 2
DESTINATIONS = ("lambda", "kinesis", "firehose")  # the kinds of destination Logs delivers to itself


class SubscriptionOperations(Operations):
    service: LogsProvider

    def put_subscription_filter(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        store = self.service.store
        group = self.service.group(ctx, params)
        pattern_matcher(params["filterPattern"])
        check_subscription(self.service, ctx, params["destinationArn"])
        name = params["filterName"]
        existing = {row[0] for row in store.subscription_filters(group.id)}
        if name not in existing and len(existing) >= MAX_SUBSCRIPTION_FILTERS:
            raise ServiceError("LimitExceededException", "Resource limit exceeded.")
        store.put_subscription_filter(
            group.id,
            name,
            params["filterPattern"],
            params["destinationArn"],
            params.get("roleArn"),
            params.get("distribution") or "ByLogStream",
            self.service.now_ms(),
        )
        return {}

    def describe_subscription_filters(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group = self.service.group(ctx, params)
        prefix = params.get("filterNamePrefix") or ""
        filters = []
        for (
            name,
            pattern,
            destination,
            role,
            distribution,
            created,
        ) in self.service.store.subscription_filters(group.id):
            if name.startswith(prefix):
                described = {
                    "filterName": name,
                    "logGroupName": group.name,
                    "filterPattern": pattern,
                    "destinationArn": destination,
                    "distribution": distribution,
                    "creationTime": created,
                }
                if role:
                    described["roleArn"] = role
                filters.append(described)
        return {"subscriptionFilters": filters}

    def delete_subscription_filter(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group = self.service.group(ctx, params)
        if not self.service.store.delete_filter("logs_subscription_filters", group.id, params["filterName"]):
            raise not_found("The specified subscription filter does not exist.")
        return {}


def notify(
    service: LogsProvider,
    ctx: RequestContext,
    group: LogGroup,
    stream: LogStream,
    ids: list[int],
    events: list[tuple[int, str]],
) -> None:
    """Hand the new events each subscription filter matches to its destination once the write commits."""
    for name, pattern, destination, _role, distribution, _created in service.store.subscription_filters(
        group.id
    ):
        matcher = compile_pattern(pattern)
        matched = [
            {"id": f"{i:056d}", "timestamp": ts, "message": message}
            for i, (ts, message) in zip(ids, events, strict=True)
            if matcher(message) is not None
        ]
        if not matched:
            continue
        payload = {
            "messageType": "DATA_MESSAGE",
            "owner": ctx.account_id,
            "logGroup": group.name,
            "logStream": stream.name,
            "subscriptionFilters": [name],
            "logEvents": matched,
        }
        sending = _deliver(service.platform, group, stream, destination, distribution, payload)
        service.db.after_commit(lambda sending=sending: service.platform.spawn(sending))


async def _deliver(
    platform: Platform,
    group: LogGroup,
    stream: LogStream,
    destination: str,
    distribution: str,
    payload: dict[str, Any],
) -> None:
    """One DATA_MESSAGE, gzipped: wrapped as {"awslogs": {"data": base64}} for Lambda, as the record itself
    for Kinesis (partitioned by log stream, or at random) and Firehose."""
    data = gzip.compress(json.dumps(payload, separators=(",", ":")).encode())
    owner = group.account
    arn = parse_arn(destination)
    if arn is not None and arn.service == "logs" and arn.resource_type == "destination":
        # A destination (of this or another account): its target receives the events, sent as its owner.
        logs = platform.provider("logs")
        with platform.db.transaction():
            found = logs.store.destination(arn.account, arn.region, arn.resource_id)  # type: ignore[union-attr]
        if found is None:
            log.warning("subscription delivery to %s: the destination is gone", destination)
            return
        destination, owner, arn = found.target_arn, found.account, parse_arn(found.target_arn)
    if arn is None or arn.service not in DESTINATIONS:
        log.warning("subscription delivery to %s: Overcast delivers to %s only", destination, DESTINATIONS)
        return
    options: dict[str, Any] = {}
    message: str | bytes = data
    if arn.service == "lambda":
        message = json.dumps({"awslogs": {"data": base64.b64encode(data).decode()}})
        options["invocation_type"] = "Event"
    elif arn.service == "kinesis":
        options["partition_key"] = stream.name[:256] if distribution == "ByLogStream" else uuid.uuid4().hex
    sender = Sender("logs.amazonaws.com", owner, source_arn=f"{group.arn}:*")
    try:
        await deliver(platform, destination, message, sender, **options)
    except ServiceError as error:  # AWS drops what it cannot deliver; say why in the server log
        log.warning("subscription delivery to %s failed: %s", destination, error)
