"""Asynchronous invocation: the internal event queue, retries on the virtual clock, DLQ and destinations.

Events wait in SQLite (lambda_async_events), so a restart loses none. An event starts only when its
function has a free concurrency slot, so queued work is delayed by throttling, never failed by it. A
failed attempt is retried after 1 minute, then 2 (AWS's backoff), up to MaximumRetryAttempts and while
the event is younger than MaximumEventAgeInSeconds; then it goes to the OnFailure destination and the
function's dead-letter queue, delivered by the kit (services/kit/delivery.py) as lambda.amazonaws.com.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from overcast.errors import ServiceError
from overcast.services.kit.arns import parse_arn
from overcast.services.kit.delivery import Sender, UnsupportedTarget, deliver
from overcast.services.lambda_.common import Scope, function_arn

if TYPE_CHECKING:
    from overcast.services.lambda_.executor import Result
    from overcast.services.lambda_.provider import LambdaProvider

log = logging.getLogger("overcast.lambda")
RETRY_DELAYS = (60.0, 120.0)  # virtual seconds before the first and the second retry
DEFAULT_RETRIES = 2
DEFAULT_MAX_AGE = 21600
SCAN = 500  # due events looked at per pass


class AsyncInvoker:
    def __init__(self, provider: LambdaProvider) -> None:
        self.provider = provider
        self.store = provider.store
        self.clock = provider.clock
        self._wake = asyncio.Event()
        self._running: set[asyncio.Task] = set()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while True:
            self._wake.clear()
            try:
                self._start_due()
            except Exception:  # the loop must outlive any one bad event
                log.exception("asynchronous invocation dispatch failed")
            next_due = self.store.next_due()
            wait = 5.0 if next_due is None else max(0.0, min(5.0, next_due - self.clock.now()))
            await self._sleep(wait)

    async def _sleep(self, seconds: float) -> None:
        """Until new work, a freed slot, a moved clock, or `seconds` (real) pass."""
        if seconds <= 0 and not self._wake.is_set():
            seconds = 0.05  # due work is throttled: wait for a slot to free up
        waiters = {
            asyncio.ensure_future(self._wake.wait()),
            asyncio.ensure_future(self.clock.wait_for_change(seconds)),
        }
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    def _start_due(self) -> None:
        now = self.clock.now()
        full: set[tuple[str, str, str]] = set()
        for row in self.store.due_events(now, SCAN):
            event_id, account, region, function = row[:4]
            if (account, region, function) in full:
                continue
            acquired, reserved = self.provider.try_acquire(account, region, function)
            if not acquired:
                full.add((account, region, function))
                continue
            with self.provider.db.transaction():
                self.store.mark_running(event_id, True)
            task = asyncio.ensure_future(self._attempt(row, reserved))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _attempt(self, row: tuple, reserved: int | None) -> None:
        event_id, account, region, function, qualifier, request_id, payload, attempts, created = row
        provider = self.provider
        try:
            config = provider.store.version(account, region, function, "$LATEST")
            if config is None:  # the function was deleted while the event waited
                with provider.db.transaction():
                    self.store.finish_event(event_id)
                return
            try:
                config, version = provider.version_for_invoke(Scope(account, region), function, qualifier)
                result = await provider.execute(account, region, config, qualifier, payload, request_id)
            except ServiceError as error:
                result = _failure(error)
                version = qualifier
            await self._settle(row, result, version, attempts + 1)
        except Exception:
            log.exception("asynchronous invocation %s failed", request_id)
            with provider.db.transaction():
                self.store.retry_later(event_id, attempts + 1, self.clock.now() + RETRY_DELAYS[0])
        finally:
            provider.executor.release(account, region, function, reserved)
            self.wake()

    async def _settle(self, row: tuple, result: Result, version: str, attempts: int) -> None:
        event_id, account, region, function, qualifier, request_id, payload, _, created = row
        settings = self.store.event_config(account, region, function, qualifier) or {}
        max_retries = settings.get("MaximumRetryAttempts", DEFAULT_RETRIES)
        max_age = settings.get("MaximumEventAgeInSeconds", DEFAULT_MAX_AGE)
        now = self.clock.now()
        if not result.function_error:
            condition = "Success"
        elif now - created >= max_age:
            condition = "EventAgeExceeded"
        elif attempts > max_retries:
            condition = "RetriesExhausted"
        else:
            delay = RETRY_DELAYS[min(attempts - 1, len(RETRY_DELAYS) - 1)]
            if now + delay - created >= max_age:
                condition = "EventAgeExceeded"
            else:
                with self.provider.db.transaction():
                    self.store.retry_later(event_id, attempts, now + delay)
                return
        with self.provider.db.transaction():
            self.store.finish_event(event_id)
        destinations = settings.get("DestinationConfig", {})
        target = destinations.get("OnSuccess" if condition == "Success" else "OnFailure", {}).get(
            "Destination"
        )
        record = _record(
            account, region, function, qualifier, request_id, payload, result, version, condition, attempts
        )
        source = function_arn(Scope(account, region), function)
        if target:
            outcome = "Success" if condition == "Success" else "Failure"
            await deliver_record(
                self.provider,
                account,
                source,
                target,
                json.dumps(record),
                detail_type=f"Lambda Function Invocation Result - {outcome}",
            )
        if condition != "Success":
            config = self.store.version(account, region, function, "$LATEST") or {}
            dead_letter = config.get("DeadLetterConfig", {}).get("TargetArn")
            if dead_letter:
                message = _error_message(result)
                attributes = {"RequestID": request_id, "ErrorCode": "200", "ErrorMessage": message}
                await deliver_record(
                    self.provider,
                    account,
                    source,
                    dead_letter,
                    payload.decode("utf-8", "replace"),
                    attributes=attributes,
                )


async def deliver_record(
    provider: LambdaProvider,
    account: str,
    source: str,
    target: str,
    body: str,
    *,
    attributes: dict[str, str] | None = None,
    detail_type: str = "Lambda Function Invocation Result - Failure",
) -> None:
    """Send a record (an invocation record, or a failed event to a dead-letter queue) from the function
    `source` to the queue, topic, function or event bus `target` names, as lambda.amazonaws.com. What
    cannot be delivered is logged and dropped, as AWS does. `attributes` become SQS/SNS message attributes
    (ErrorCode a Number); an event bus gets the record as the detail of a `detail_type` event."""
    options: dict[str, Any] = {}
    if attributes:
        options["attributes"] = {
            k: {"DataType": "Number" if k == "ErrorCode" else "String", "StringValue": v}
            for k, v in attributes.items()
        }
    arn = parse_arn(target)
    if arn is not None and arn.service == "events":
        detail = json.loads(body)
        invoked = detail.get("requestContext", {}).get("functionArn", source)
        event = {
            "source": "lambda",
            "detail-type": detail_type,
            "detail": detail,
            "resources": [target, invoked],
        }
        body = json.dumps(event)
    try:
        await deliver(
            provider.platform, target, body, Sender("lambda.amazonaws.com", account, source), **options
        )
    except UnsupportedTarget:
        log.warning("asynchronous invocation destination %s is not supported by Overcast", target)
    except ServiceError as error:
        log.warning("could not deliver an asynchronous invocation record to %s: %s", target, error)


def _failure(error: ServiceError) -> Result:
    from overcast.services.lambda_.executor import Result

    body = json.dumps({"errorType": error.code, "errorMessage": error.message}).encode()
    return Result(body, "Unhandled", "")


def _error_message(result: Result) -> str:
    try:
        return str(json.loads(result.payload).get("errorMessage", ""))
    except (ValueError, AttributeError):
        return result.payload.decode("utf-8", "replace")


def _record(
    account: str,
    region: str,
    function: str,
    qualifier: str,
    request_id: str,
    payload: bytes,
    result: Result,
    version: str,
    condition: str,
    attempts: int,
) -> dict[str, Any]:
    """The invocation record AWS sends to a destination."""
    try:
        response: Any = json.loads(result.payload) if result.payload else None
    except ValueError:
        response = result.payload.decode("utf-8", "replace")
    response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": version}
    if result.function_error:
        response_context["functionError"] = result.function_error
    return {
        "version": "1.0",
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "requestContext": {
            "requestId": request_id,
            "functionArn": f"arn:aws:lambda:{region}:{account}:function:{function}:{qualifier}",
            "condition": condition,
            "approximateInvokeCount": attempts,
        },
        "requestPayload": json.loads(payload) if payload else None,
        "responseContext": response_context,
        "responsePayload": response,
    }
