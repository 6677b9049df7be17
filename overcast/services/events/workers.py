"""EventBridge's background work on the virtual clock: delivering queued events to targets (with the target's
retry policy and dead-letter queue), firing scheduled rules, and running replays.

Every piece of work is a row with a due time (events_deliveries, events_schedules, events_replays), so a
restart loses none: each loop sleeps until the earliest row is due, waking early when the clock moves or new
work is stored. A scheduled rule's firing and the advance of its next firing commit together, so a moment fires
once, never twice; a delivery is forgotten only after its target accepted it (at least once, as AWS).
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from overcast.errors import ServiceError
from overcast.services.events import destinations, metrics, schedules
from overcast.services.kit import delivery as kit
from overcast.services.kit.arns import parse_arn
from overcast.services.kit.timers import sleep_until

if TYPE_CHECKING:
    from overcast.services.events.provider import EventsProvider
    from overcast.services.events.store import Delivery

log = logging.getLogger("overcast.events")
BATCH = 100
IN_FLIGHT = 32  # deliveries running at once
DEFAULT_RETRIES = 185
DEFAULT_MAX_AGE = 86400
MAX_BACKOFF = 300.0
MISSED_FIRINGS = 100  # a scheduled rule catching up after the clock jumped fires at most this many times


# -- deliveries -----------------------------------------------------------------------------------------------


async def deliver_forever(provider: EventsProvider) -> None:
    running: dict[int, asyncio.Task] = {}
    wake = provider.deliveries_changed
    while True:
        wake.clear()
        offset = provider.clock.offset
        try:
            for item in provider.store.due_deliveries(provider.clock.now(), BATCH + len(running)):
                if item.id in running or len(running) >= IN_FLIGHT:
                    continue
                task = asyncio.ensure_future(_deliver(provider, item))
                running[item.id] = task
                task.add_done_callback(lambda _, key=item.id: (running.pop(key, None), wake.set()))
            upcoming = provider.store.next_delivery()
        except Exception:  # the loop must outlive any one bad row
            log.exception("event delivery failed")
            upcoming = None
        if running and upcoming is not None and upcoming <= provider.clock.now():
            upcoming = None  # everything due is in flight: wait for one to finish (it sets `wake`)
        await sleep_until(provider.clock, wake, upcoming, offset)


def _options(target: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    arn = parse_arn(target["Arn"])
    service = arn.service if arn else ""
    options: dict[str, Any] = {}
    if service == "sqs":
        group = (target.get("SqsParameters") or {}).get("MessageGroupId")
        if group:
            options["message_group_id"] = group
        if arn and arn.resource.endswith(".fifo"):
            options["deduplication_id"] = event["id"]
    elif service == "kinesis":
        path = (target.get("KinesisParameters") or {}).get("PartitionKeyPath")
        from overcast.services.events.transform import select

        key = select(event, path) if path else None
        options["partition_key"] = str(key) if key is not None else event["id"]
    elif service == "logs":
        options["log_stream"] = event["id"]
    return options


async def _deliver(provider: EventsProvider, item: Delivery) -> None:
    target = item.target
    event = json.loads(item.event)
    sender = kit.Sender("events.amazonaws.com", item.account, source_arn=item.rule_arn)
    arn = parse_arn(target["Arn"])
    message = item.event if arn is not None and arn.service == "events" else item.payload
    try:
        if arn is not None and arn.service == "events" and arn.resource_type == "api-destination":
            await destinations.invoke(provider, target, item.payload)
        else:
            if arn is not None and arn.service == "logs":
                await _ensure_log_stream(provider, target["Arn"], event["id"], sender)
                options = {**_options(target, event), "timestamp_ms": _event_ms(event)}
            else:
                options = _options(target, event)
            await kit.deliver(
                provider.platform, target["Arn"], message, sender, target.get("RoleArn"), **options
            )
    except ServiceError as error:
        await _failed(provider, item, error)
        return
    except Exception as error:  # a bug in a target must not wedge the queue: treat it as the target's fault
        log.exception("delivery of %s to %s failed", event.get("id"), target.get("Arn"))
        await _failed(provider, item, ServiceError("InternalFailure", str(error), 500, sender_fault=False))
        return
    with provider.db.transaction():
        provider.store.finish_delivery(item.id)
    _count(provider, item, "ok")


def _count(provider: EventsProvider, item: Delivery, outcome: str) -> None:
    metrics.count_delivery(
        provider.metrics, item.account, item.region, item.rule_arn, provider.clock.now(), outcome
    )


def _event_ms(event: dict[str, Any]) -> int:
    moment = datetime.strptime(event["time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


async def _ensure_log_stream(
    provider: EventsProvider, group_arn: str, stream: str, sender: kit.Sender
) -> None:
    from overcast.identity import service_principal

    arn = parse_arn(group_arn)
    assert arn is not None
    try:
        await provider.platform.call(
            "logs",
            "CreateLogStream",
            {"logGroupName": arn.resource_id.removesuffix(":*"), "logStreamName": stream},
            principal=service_principal(sender.service_host, sender.account),
            account_id=arn.account,
            region=arn.region,
            condition_keys=sender.condition_keys(),
        )
    except ServiceError as error:
        if error.code != "ResourceAlreadyExistsException":
            raise


def retriable(error: ServiceError) -> bool:
    """Throttling and the target's own failures are retried; a missing target, a refused permission or a bad
    parameter go to the dead-letter queue at once (AWS: 'no retry attempts will happen until action is taken')."""
    if error.status == 501:
        return False
    if error.status is not None and (error.status >= 500 or error.status == 429):
        return True
    return "Throttl" in error.code or error.code in (
        "TooManyRequestsException",
        "ServiceUnavailable",
        "InternalFailure",
    )


def error_code(error: ServiceError) -> str:
    """The ERROR_CODE a dead-lettered event carries."""
    if error.fields.get("dlq_code"):
        return error.fields["dlq_code"]
    code = error.code
    if "AccessDenied" in code or code in (
        "AuthorizationError",
        "AuthorizationErrorException",
        "NotAuthorized",
    ):
        return "NO_PERMISSIONS"
    if "NotFound" in code or "NonExistent" in code or "NoSuch" in code or code == "QueueDoesNotExist":
        return "NO_RESOURCE"
    if "Throttl" in code or code == "TooManyRequestsException":
        return "THROTTLING"
    if error.status is not None and error.status >= 500:
        return "INTERNAL_ERROR"
    return "INVALID_PARAMETER"


async def _failed(provider: EventsProvider, item: Delivery, error: ServiceError) -> None:
    policy = item.target.get("RetryPolicy") or {}
    max_retries = policy.get("MaximumRetryAttempts", DEFAULT_RETRIES)
    max_age = policy.get("MaximumEventAgeInSeconds", DEFAULT_MAX_AGE)
    now = provider.clock.now()
    if retriable(error):
        delay = min(MAX_BACKOFF, 2.0**item.attempts)
        if item.attempts >= max_retries:
            exhausted: str | None = "MaximumRetryAttempts"
        elif now + delay - item.created > max_age:
            exhausted = "MaximumEventAgeInSeconds"
        else:
            with provider.db.transaction():
                provider.store.retry_delivery(item.id, item.attempts + 1, now + delay)
            return
    else:
        exhausted = None
    with provider.db.transaction():
        provider.store.finish_delivery(item.id)
    dead_letter = (item.target.get("DeadLetterConfig") or {}).get("Arn")
    if not dead_letter:
        log.info("event to %s dropped: %s", item.target["Arn"], error)
        _count(provider, item, "failed")
        return
    attributes = {
        "RULE_ARN": item.rule_arn,
        "TARGET_ARN": item.target["Arn"],
        "ERROR_CODE": error_code(error),
        "ERROR_MESSAGE": error.message or error.code,
        "RETRY_ATTEMPTS": str(item.attempts),
    }
    if exhausted:
        attributes["EXHAUSTED_RETRY_CONDITION"] = exhausted
    sender = kit.Sender("events.amazonaws.com", item.account, source_arn=item.rule_arn)
    try:
        await kit.deliver(
            provider.platform,
            dead_letter,
            item.event,
            sender,
            attributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
        )
    except ServiceError as dlq_error:
        log.warning(
            "event to %s could not be dead-lettered to %s: %s", item.target["Arn"], dead_letter, dlq_error
        )
        _count(provider, item, "dead-letter-failed")
        return
    _count(provider, item, "dead-lettered")


# -- scheduled rules ------------------------------------------------------------------------------------------


async def schedule_forever(provider: EventsProvider) -> None:
    wake = provider.schedules_changed
    while True:
        wake.clear()
        offset = provider.clock.offset
        try:
            with provider.db.transaction():
                fire_due(provider)
                upcoming = provider.store.next_schedule()
        except Exception:
            log.exception("scheduled rules failed")
            upcoming = None
        await sleep_until(provider.clock, wake, upcoming, offset)


def fire_due(provider: EventsProvider) -> None:
    """Fire every scheduled rule whose moment has come (inside the caller's transaction): one 'Scheduled
    Event' per moment passed, and the rule's next moment stored with it."""
    now = provider.clock.now()
    store = provider.store
    for rule_arn, account, region, bus_name, name, anchor, next_fire in store.due_schedules(now, BATCH):
        rule = store.rule(account, region, bus_name, name)
        bus = provider.bus(account, region, bus_name)
        if rule is None or bus is None or not rule.schedule:
            store.unschedule_rule(rule_arn)
            continue
        schedule = schedules.parse(rule.schedule)
        moments: list[float] = []
        moment: float | None = next_fire
        while moment is not None and moment <= now:
            moments.append(moment)
            moment = schedule.next_after(moment, anchor)
        if len(moments) > MISSED_FIRINGS:
            log.info("rule %s missed %d firings; firing the last %d", rule_arn, len(moments), MISSED_FIRINGS)
            moments = moments[-MISSED_FIRINGS:]
        for fired in moments:
            event = provider.new_event(
                account, region, "aws.events", "Scheduled Event", {}, [rule_arn], fired
            )
            _queue_for_rule(provider, bus, rule, event)
        if moment is None:
            store.unschedule_rule(rule_arn)
        else:
            store.set_next_fire(rule_arn, moment)


def _queue_for_rule(provider: EventsProvider, bus: Any, rule: Any, event: dict[str, Any]) -> None:
    from overcast.services.events.provider import event_json

    now = provider.clock.now()
    text = event_json(event)
    metrics.count_scheduled(provider.metrics, bus.account, bus.region, bus.name, rule.name, now)
    for target in provider.store.targets(bus.account, bus.region, bus.name, rule.name):
        payload = provider.target_input(target, event, rule.name, rule.arn, now)
        provider.store.enqueue(bus.account, bus.region, rule.arn, target, text, payload, now)
    provider.db.after_commit(provider.deliveries_changed.set)


# -- replays --------------------------------------------------------------------------------------------------


async def replay_forever(provider: EventsProvider) -> None:
    wake = provider.replays_changed
    while True:
        wake.clear()
        offset = provider.clock.offset
        try:
            from overcast.services.events.archives import run_replays

            with provider.db.transaction():
                run_replays(provider)
        except Exception:
            log.exception("replays failed")
        await sleep_until(provider.clock, wake, None, offset)
