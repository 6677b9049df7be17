"""EventBridge Scheduler's worker: firing schedules and invoking their targets on the virtual clock.

A schedule row keeps its next moment (`next_fire`); when it comes, an invocation row is stored with the moment
it is due (the scheduled time, or a random moment of the flexible time window after it) and the schedule's next
moment is stored in the same transaction, so a moment fires once and a restart resumes. Invocations are made
when due; a failure is retried per the target's RetryPolicy (by default 185 attempts within 24 hours) with
exponential backoff, then written to the target's dead-letter queue with Scheduler's attributes. A one-time or
ended schedule whose ActionAfterCompletion is DELETE is deleted when it fires its last time.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from typing import TYPE_CHECKING, Any

from overcast.errors import ServiceError
from overcast.identity import service_principal
from overcast.platform import new_request_id
from overcast.services.events.provider import iso
from overcast.services.events.workers import retriable
from overcast.services.kit import delivery as kit
from overcast.services.kit.arns import parse_arn
from overcast.services.kit.timers import sleep_until

if TYPE_CHECKING:
    from overcast.services.events.scheduler import SchedulerProvider

log = logging.getLogger("overcast.scheduler")
BATCH = 100
MISSED_FIRINGS = 100
DEFAULT_RETRIES = 185
DEFAULT_MAX_AGE = 86400
MAX_BACKOFF = 300.0
# The SDK's service ids of universal targets (arn:aws:scheduler:::aws-sdk:<id>:<action>) where botocore's
# name differs.
_SDK_SERVICES = {"sfn": "stepfunctions", "cloudwatchlogs": "logs", "eventbridge": "events"}


async def run_forever(provider: SchedulerProvider) -> None:
    running: dict[int, asyncio.Task] = {}
    wake = provider.changed
    while True:
        wake.clear()
        offset = provider.clock.offset
        try:
            with provider.db.transaction():
                fire_due(provider)
            for invocation in provider.store.due_invocations(provider.clock.now(), BATCH + len(running)):
                if invocation[0] in running:
                    continue
                task = asyncio.ensure_future(_invoke(provider, invocation))
                running[invocation[0]] = task
                task.add_done_callback(lambda _, key=invocation[0]: (running.pop(key, None), wake.set()))
            upcoming = provider.store.next_due()
        except Exception:
            log.exception("schedules failed")
            upcoming = None
        if running and upcoming is not None and upcoming <= provider.clock.now():
            upcoming = None  # what is due is in flight: a finished one wakes the loop
        await sleep_until(provider.clock, wake, upcoming, offset)


def fire_due(provider: SchedulerProvider) -> None:
    """Store an invocation for every passed moment of every due schedule, and each schedule's next moment."""
    from overcast.services.events.scheduler import next_fire

    now = provider.clock.now()
    store = provider.store
    for row in store.due_schedules(now, BATCH):
        account, region, group, name, arn = row[:5]
        config = provider.config_of(row)
        anchor, moment = row[9], row[10]
        moments: list[float] = []
        while moment is not None and moment <= now:
            moments.append(moment)
            moment = next_fire(config, anchor, moment)
        window = config["FlexibleTimeWindow"]
        spread = 60.0 * (window.get("MaximumWindowInMinutes") or 0) if window["Mode"] == "FLEXIBLE" else 0.0
        for fired in moments[-MISSED_FIRINGS:]:
            due = fired + random.uniform(0, spread) if spread else fired
            store.enqueue(account, region, arn, config["Target"], fired, due)
        if moment is None and config.get("ActionAfterCompletion") == "DELETE":
            store.delete_schedule(account, region, group, name)
        else:
            store.set_next_fire(account, region, group, name, moment)


def _payload(
    target: dict[str, Any], schedule_arn: str, scheduled: float, attempt: int, execution: str
) -> str:
    text = target.get("Input") or "{}"
    for name, value in (
        ("schedule-arn", schedule_arn),
        ("scheduled-time", iso(scheduled)),
        ("execution-id", execution),
        ("attempt-number", str(attempt)),
    ):
        text = text.replace(f"<aws.scheduler.{name}>", value)
    return text


async def _call(
    provider: SchedulerProvider, account: str, schedule_arn: str, target: dict[str, Any], payload: str
) -> None:
    """Invoke the target: a universal target's API through Platform.call, a templated one through kit.delivery,
    as scheduler.amazonaws.com with aws:SourceArn = the schedule."""
    arn = parse_arn(target["Arn"])
    sender = kit.Sender("scheduler.amazonaws.com", account, source_arn=schedule_arn)
    if arn is not None and arn.service == "scheduler" and arn.resource.startswith("aws-sdk:"):
        _, sdk, action = arn.resource.split(":", 2)
        try:
            params = json.loads(payload)
        except ValueError:
            raise ServiceError("ValidationException", "The target's Input is not valid JSON.", 400) from None
        schedule = parse_arn(schedule_arn)
        assert schedule is not None
        await provider.platform.call(
            _SDK_SERVICES.get(sdk, sdk),
            action[:1].upper() + action[1:],
            params if isinstance(params, dict) else {},
            principal=service_principal("scheduler.amazonaws.com", account),
            account_id=account,
            region=schedule.region,
            condition_keys=sender.condition_keys(),
        )
        return
    options: dict[str, Any] = {}
    message = payload
    if arn is not None and arn.service == "sqs" and target.get("SqsParameters"):
        options["message_group_id"] = target["SqsParameters"]["MessageGroupId"]
    if arn is not None and arn.service == "kinesis" and target.get("KinesisParameters"):
        options["partition_key"] = target["KinesisParameters"]["PartitionKey"]
    if arn is not None and arn.service == "events":
        parameters = target.get("EventBridgeParameters") or {}
        detail = json.loads(payload)
        message = json.dumps(
            {
                "source": parameters.get("Source"),
                "detail-type": parameters.get("DetailType"),
                "detail": detail,
            }
        )
    await kit.deliver(provider.platform, target["Arn"], message, sender, target.get("RoleArn"), **options)


async def _invoke(provider: SchedulerProvider, invocation: tuple) -> None:
    invocation_id, account, region, schedule_arn, target, scheduled, attempts = invocation
    execution = new_request_id().replace("-", "")[:16]
    payload = _payload(target, schedule_arn, scheduled, attempts + 1, execution)
    try:
        await _call(provider, account, schedule_arn, target, payload)
    except ServiceError as error:
        await _failed(provider, invocation, error, payload, execution)
        return
    except Exception as error:
        log.exception("schedule %s could not invoke %s", schedule_arn, target.get("Arn"))
        await _failed(
            provider, invocation, ServiceError("InternalFailure", str(error), 500), payload, execution
        )
        return
    with provider.db.transaction():
        provider.store.finish_invocation(invocation_id)


async def _failed(
    provider: SchedulerProvider, invocation: tuple, error: ServiceError, payload: str, execution: str
) -> None:
    invocation_id, account, region, schedule_arn, target, scheduled, attempts = invocation
    policy = target.get("RetryPolicy") or {}
    max_retries = policy.get("MaximumRetryAttempts", DEFAULT_RETRIES)
    max_age = policy.get("MaximumEventAgeInSeconds", DEFAULT_MAX_AGE)
    now = provider.clock.now()
    exhausted: str | None = None
    if retriable(error):
        delay = min(MAX_BACKOFF, 2.0**attempts)
        if attempts >= max_retries:
            exhausted = "MaximumRetryAttempts"
        elif now + delay - scheduled > max_age:
            exhausted = "MaximumEventAgeInSeconds"
        else:
            with provider.db.transaction():
                provider.store.retry_invocation(invocation_id, attempts + 1, now + delay)
            return
    with provider.db.transaction():
        provider.store.finish_invocation(invocation_id)
    dead_letter = (target.get("DeadLetterConfig") or {}).get("Arn")
    if not dead_letter:
        log.info("schedule %s: invocation of %s dropped: %s", schedule_arn, target["Arn"], error)
        return
    attributes = {
        "ERROR_CODE": error.code,
        "ERROR_MESSAGE": error.message or error.code,
        "EXECUTION_ID": execution,
        "IS_PAYLOAD_TRUNCATED": "false",
        "RETRY_ATTEMPTS": str(attempts),
        "SCHEDULED_TIME": iso(scheduled),
        "SCHEDULE_ARN": schedule_arn,
        "TARGET_ARN": target["Arn"],
    }
    if exhausted:
        attributes["EXHAUSTED_RETRY_CONDITION"] = exhausted
    try:
        await kit.deliver(
            provider.platform,
            dead_letter,
            payload,
            kit.Sender("scheduler.amazonaws.com", account, source_arn=schedule_arn),
            attributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
        )
    except ServiceError as dlq_error:
        log.warning("schedule %s could not dead-letter to %s: %s", schedule_arn, dead_letter, dlq_error)
