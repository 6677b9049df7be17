"""EventBridge Pipes' worker: polling each running pipe's SQS source, filtering, enriching and delivering.

The source's messages are the pipe's state (SQS keeps them durably): a batch is received, the records matching
no filter are deleted at once, the others go through the enrichment and to the target, and the whole batch is
deleted only when that succeeded; a failed batch becomes visible again after the queue's visibility timeout
(and reaches the queue's own dead-letter queue by its redrive policy), as in AWS. Calls are made as
pipes.amazonaws.com with aws:SourceArn = the pipe.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import TYPE_CHECKING, Any

from overcast.errors import ServiceError
from overcast.identity import service_principal
from overcast.services.events import patterns, transform
from overcast.services.events.provider import iso
from overcast.services.kit import delivery as kit
from overcast.services.kit.arns import parse_arn
from overcast.services.kit.timers import sleep_until

if TYPE_CHECKING:
    from overcast.services.events.pipes import PipesProvider

log = logging.getLogger("overcast.pipes")
POLL_INTERVAL = 0.2  # real seconds between polls when no source had messages
_PATH = re.compile(r"<(\$[^<>]*)>")


async def run_forever(provider: PipesProvider) -> None:
    wake = provider.changed
    while True:
        wake.clear()
        offset = provider.clock.offset
        busy, running = False, []
        try:
            running = provider.store.running()
            for row in running:
                busy |= await poll(provider, row)
        except Exception:
            log.exception("pipes failed")
        if busy:
            await asyncio.sleep(0)
        else:  # no pipe running: wait for one to be created or started
            due = provider.clock.now() + POLL_INTERVAL if running else None
            await sleep_until(provider.clock, wake, due, offset)


async def _call(
    provider: PipesProvider, row: tuple, service: str, operation: str, params: dict[str, Any], arn: Any
) -> dict:
    return await provider.platform.call(
        service,
        operation,
        params,
        principal=service_principal("pipes.amazonaws.com", row[0]),
        account_id=arn.account,
        region=arn.region,
        condition_keys={"aws:SourceArn": row[3], "aws:SourceAccount": row[0]},
    )


def sqs_record(message: dict[str, Any], source: str, region: str) -> dict[str, Any]:
    """An SQS message as Pipes passes it on (the shape Lambda's SQS event source uses)."""
    attributes = message.get("MessageAttributes") or {}
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes") or {},
        "messageAttributes": {
            name: {
                "stringValue": value.get("StringValue"),
                "binaryValue": value.get("BinaryValue"),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": value["DataType"],
            }
            for name, value in attributes.items()
        },
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": source,
        "awsRegion": region,
    }


def _with_json_body(record: dict[str, Any]) -> dict[str, Any]:
    """The record with a JSON body parsed (filters and templates see into it, as in AWS)."""
    try:
        return {**record, "body": json.loads(record["body"])}
    except (ValueError, TypeError):
        return record


def _template(text: str, record: dict[str, Any], variables: dict[str, str]) -> str:
    """A Pipes input template: `<$.json.path>` and `<aws.pipes.*>` placeholders, EventBridge's quoting rules."""
    paths: dict[str, str] = {}

    def name_path(found: re.Match[str]) -> str:
        key = f"pipes-path-{len(paths)}"
        paths[key] = found.group(1)
        return f"<{key}>"

    text = _PATH.sub(name_path, text)
    text = text.replace("<aws.pipes.event.json>", "<aws.events.event.json>").replace(
        "<aws.pipes.event>", "<aws.events.event>"
    )
    values = {
        **variables,
        "aws.events.event": json.dumps(record),
        "aws.events.event.json": json.dumps(record),
    }
    return transform.fill(text, paths, _with_json_body(record), values)


async def poll(provider: PipesProvider, row: tuple) -> bool:
    """One batch from the pipe's source, through to its target; whether there were messages."""
    config = json.loads(row[4])
    source = parse_arn(config["Source"])
    assert source is not None
    url = kit.queue_url(source)
    batch = min(
        10, ((config.get("SourceParameters") or {}).get("SqsQueueParameters") or {}).get("BatchSize") or 10
    )
    try:
        received = await _call(
            provider,
            row,
            "sqs",
            "ReceiveMessage",
            {
                "QueueUrl": url,
                "MaxNumberOfMessages": batch,
                "AttributeNames": ["All"],
                "MessageAttributeNames": ["All"],
            },
            source,
        )
    except ServiceError as error:  # the queue is gone, or the pipe may not read it: try again later
        log.debug("pipe %s cannot read %s: %s", row[3], config["Source"], error)
        return False
    messages = received.get("Messages") or []
    if not messages:
        return False
    records = [sqs_record(m, config["Source"], source.region) for m in messages]
    kept = _filtered(config, records)
    try:
        if kept:
            await _deliver(provider, row, config, kept)
    except ServiceError as error:
        log.info("pipe %s: batch failed, left in the source: %s", row[3], error)
        return True
    entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
    await _call(provider, row, "sqs", "DeleteMessageBatch", {"QueueUrl": url, "Entries": entries}, source)
    return True


def _filtered(config: dict[str, Any], records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    filters = ((config.get("SourceParameters") or {}).get("FilterCriteria") or {}).get("Filters") or []
    if not filters:
        return records
    compiled = [patterns.compile_pattern(item["Pattern"]) for item in filters if item.get("Pattern")]
    return [r for r in records if any(patterns.matches(p, _with_json_body(r)) for p in compiled)]


async def _deliver(
    provider: PipesProvider, row: tuple, config: dict[str, Any], records: list[dict[str, Any]]
) -> None:
    variables = {
        "aws.pipes.pipe-arn": row[3],
        "aws.pipes.pipe-name": row[2],
        "aws.pipes.source-arn": config["Source"],
        "aws.pipes.enrichment-arn": config.get("Enrichment") or "",
        "aws.pipes.target-arn": config["Target"],
        "aws.pipes.event.ingestion-time": iso(provider.clock.now()),
    }
    events: list[Any] = records
    if config.get("Enrichment"):
        template = (config.get("EnrichmentParameters") or {}).get("InputTemplate")
        inputs = [json.loads(_template(template, r, variables)) if template else r for r in records]
        answer = await _invoke_lambda(provider, row, config["Enrichment"], inputs, "RequestResponse")
        events = answer if isinstance(answer, list) else [answer]
    parameters = config.get("TargetParameters") or {}
    template = parameters.get("InputTemplate")
    payloads = [_template(template, e, variables) if template else json.dumps(e) for e in events]
    await _to_target(provider, row, config, parameters, payloads)


async def _invoke_lambda(provider: PipesProvider, row: tuple, function: str, payload: Any, kind: str) -> Any:
    arn = parse_arn(function)
    answer = await _call(
        provider,
        row,
        "lambda",
        "Invoke",
        {"FunctionName": function, "InvocationType": kind, "Payload": json.dumps(payload).encode()},
        arn,
    )
    if answer.get("FunctionError"):
        raise ServiceError("FunctionError", f"The function {function} failed: {answer.get('Payload')!r}")
    body = answer.get("Payload") or b""
    try:
        return json.loads(body) if body else None
    except ValueError:
        return body.decode("utf-8", "replace") if isinstance(body, bytes) else body


async def _to_target(
    provider: PipesProvider,
    row: tuple,
    config: dict[str, Any],
    parameters: dict[str, Any],
    payloads: list[str],
) -> None:
    target = config["Target"]
    arn = parse_arn(target)
    assert arn is not None
    if arn.service == "lambda":
        kind = (parameters.get("LambdaFunctionParameters") or {}).get("InvocationType") or "REQUEST_RESPONSE"
        batch = [_json_or_text(p) for p in payloads]
        await _invoke_lambda(
            provider, row, target, batch, "Event" if kind == "FIRE_AND_FORGET" else "RequestResponse"
        )
        return
    sender = kit.Sender("pipes.amazonaws.com", row[0], source_arn=row[3])
    if arn.service == "states":
        await kit.deliver(provider.platform, target, json.dumps([_json_or_text(p) for p in payloads]), sender)
        return
    for payload in payloads:
        options: dict[str, Any] = {}
        message = payload
        if arn.service == "sqs":
            sqs = parameters.get("SqsQueueParameters") or {}
            options.update(
                message_group_id=sqs.get("MessageGroupId"), deduplication_id=sqs.get("MessageDeduplicationId")
            )
        elif arn.service == "events":
            bus = parameters.get("EventBridgeEventBusParameters") or {}
            detail = _json_or_text(payload)
            message = json.dumps(
                {
                    "source": bus.get("Source") or f"Pipe {row[2]}",
                    "detail-type": bus.get("DetailType") or "Event from aws:sqs",
                    "detail": detail if isinstance(detail, dict) else {"value": detail},
                    "resources": bus.get("Resources") or [],
                }
            )
        await kit.deliver(provider.platform, target, message, sender, **options)


def _json_or_text(payload: str) -> Any:
    try:
        return json.loads(payload)
    except ValueError:
        return payload
