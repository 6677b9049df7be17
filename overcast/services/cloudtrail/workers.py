"""Trails delivering their log files to S3 on the virtual clock, and the event history's 90-day retention.

A logging trail has a next delivery moment (every DELIVERY_INTERVAL seconds). When it comes, the events
recorded since the trail's last delivery (`delivered_through`, a record id) that the trail logs (its account,
its region or every region, global service events if included, its selectors) are written as one gzip JSON file
per region, `{"Records": [...]}`, under AWS's key layout
`[prefix/]AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<random>.json.gz`,
through `Platform.call("s3", "PutObject")` as cloudtrail.amazonaws.com with aws:SourceArn = the trail (so the
bucket policy decides). The cursor moves only after every file of the pass was written.
"""

from __future__ import annotations

import gzip
import json
import logging
import secrets
import string
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from overcast.errors import ServiceError
from overcast.identity import service_principal
from overcast.services.cloudtrail import records, selectors
from overcast.services.cloudtrail.trails import DELIVERY_INTERVAL
from overcast.services.kit.timers import sleep_until

if TYPE_CHECKING:
    from overcast.services.cloudtrail.provider import CloudTrailProvider

log = logging.getLogger("overcast.cloudtrail")
BATCH = 5000
HISTORY_SECONDS = 90 * 86400.0
_ALPHABET = string.ascii_letters + string.digits


async def deliver_forever(provider: CloudTrailProvider) -> None:
    wake = provider.trails_changed
    while True:
        wake.clear()
        offset = provider.clock.offset
        try:
            provider.recorder.flush()
            for trail in provider.store.due_trails(provider.clock.now()):
                await deliver(provider, trail)
            with provider.db.transaction():
                low = provider.store.lowest_delivered()
                provider.store.expire(provider.clock.now() - HISTORY_SECONDS, low)
            upcoming = provider.store.next_delivery()
        except Exception:
            log.exception("trail delivery failed")
            upcoming = None
        await sleep_until(provider.clock, wake, upcoming, offset)


def _logs(trail: tuple, config: dict[str, Any], call: dict[str, Any]) -> bool:
    region, category, read_only, source = call["region"], call["category"], call["read_only"], call["source"]
    global_event = source.split(".", 1)[0] in ("iam", "sts", "organizations", "cloudfront", "route53")
    if global_event:
        if not config.get("IncludeGlobalServiceEvents", True):
            return False
    elif region != trail[2] and not config.get("IsMultiRegionTrail"):
        return False
    event = selectors.Event(
        category, bool(read_only), source, call["name"], call["resource_type"], call["resource_arn"]
    )
    return selectors.selects(config, event)


async def deliver(provider: CloudTrailProvider, trail: tuple) -> None:
    account, name, arn = trail[0], trail[1], trail[3]
    config = provider.config_of(trail)
    now = provider.clock.now()
    through = provider.store.last_event_id()
    rows = provider.store.events_after(account, trail[8], through, BATCH)
    if len(rows) == BATCH:
        through = rows[-1][0]
    by_region: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        call = dict(zip(records.COLUMNS, row[1:], strict=True))
        if _logs(trail, config, call):
            by_region.setdefault(call["region"], []).append(records.assemble(call))
    error = None
    for region, found in by_region.items():
        try:
            await _write(provider, account, arn, config, region, found, now)
        except ServiceError as failure:
            error = failure.code
            log.info("trail %s could not deliver to %s: %s", arn, config["S3BucketName"], failure)
            break
    with provider.db.transaction():
        provider.store.delivered(account, name, through, now, error, now + DELIVERY_INTERVAL)


def log_key(prefix: str | None, account: str, region: str, moment: float) -> str:
    when = datetime.fromtimestamp(moment, UTC)
    random = "".join(secrets.choice(_ALPHABET) for _ in range(16))
    key = (
        f"AWSLogs/{account}/CloudTrail/{region}/{when:%Y/%m/%d}/"
        f"{account}_CloudTrail_{region}_{when:%Y%m%dT%H%MZ}_{random}.json.gz"
    )
    return f"{prefix.strip('/')}/{key}" if prefix else key


async def _write(
    provider: CloudTrailProvider,
    account: str,
    trail_arn: str,
    config: dict[str, Any],
    region: str,
    found: list[dict[str, Any]],
    now: float,
) -> None:
    body = gzip.compress(json.dumps({"Records": found}, separators=(",", ":")).encode())
    await provider.platform.call(
        "s3",
        "PutObject",
        {
            "Bucket": config["S3BucketName"],
            "Key": log_key(config.get("S3KeyPrefix"), account, region, now),
            "Body": body,
            "ContentType": "application/json",
            "ContentEncoding": "gzip",
        },
        principal=service_principal("cloudtrail.amazonaws.com", account),
        account_id=account,
        region=region,
        condition_keys={"aws:SourceArn": trail_arn, "aws:SourceAccount": account},
    )
