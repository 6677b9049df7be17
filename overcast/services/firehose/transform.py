"""Data transformation with Lambda, in Firehose's record format (no database, no calls).

The function receives

    {"invocationId": ..., "deliveryStreamArn": ..., "region": ...,
     "records": [{"recordId": ..., "approximateArrivalTimestamp": <ms>, "data": <base64>}]}

(with `sourceKinesisStreamArn` and each record's `kinesisRecordMetadata` when a Kinesis stream is the source)
and answers `{"records": [{"recordId": ..., "result": "Ok" | "Dropped" | "ProcessingFailed", "data": <base64>,
"metadata": {"partitionKeys": {...}}}]}`. A record the answer leaves out, or answers twice, or with another
result, fails as AWS fails it.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from overcast.services.firehose.store import Buffered

DEFAULT_RETRIES = 3
DEFAULT_BUFFER_MB = 1.0


@dataclass
class Outcome:
    """What became of a batch's records: transformed data (with partition keys), dropped, or failed."""

    ok: list[tuple[Buffered, bytes, dict[str, str]]] = field(default_factory=list)
    dropped: list[Buffered] = field(default_factory=list)
    failed: list[tuple[Buffered, str, str]] = field(default_factory=list)  # (record, errorCode, errorMessage)


def processors(destination_config: dict[str, Any]) -> list[dict[str, Any]]:
    processing = destination_config.get("ProcessingConfiguration") or {}
    if not processing.get("Enabled"):
        return []
    return list(processing.get("Processors") or [])


def parameters(processor: dict[str, Any]) -> dict[str, str]:
    return {p["ParameterName"]: p["ParameterValue"] for p in processor.get("Parameters") or []}


def lambda_processor(destination_config: dict[str, Any]) -> dict[str, str] | None:
    for processor in processors(destination_config):
        if processor["Type"] == "Lambda":
            return parameters(processor)
    return None


def record_id(record: Buffered) -> str:
    """An id the function must give back; unique within the delivery stream's buffer."""
    return base64.b64encode(f"overcast-firehose-record-{record.id:020d}".encode()).decode()


def invocation_batches(records: list[Buffered], buffer_mb: float) -> list[list[Buffered]]:
    """Records grouped into invocations of about `buffer_mb` MB of data each (Lambda's payload stays < 6 MB)."""
    limit = int(min(buffer_mb, 3.0) * 1024 * 1024)
    batches: list[list[Buffered]] = [[]]
    size = 0
    for record in records:
        if batches[-1] and size + len(record.data) > limit:
            batches.append([])
            size = 0
        batches[-1].append(record)
        size += len(record.data)
    return [batch for batch in batches if batch]


def event(stream_arn: str, region: str, records: list[Buffered], source_arn: str | None) -> bytes:
    body: dict[str, Any] = {"invocationId": str(uuid.uuid4()), "deliveryStreamArn": stream_arn}
    if source_arn:
        body["sourceKinesisStreamArn"] = source_arn
    body["region"] = region
    body["records"] = [_record(r) for r in records]
    return json.dumps(body).encode()


def _record(record: Buffered) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "recordId": record_id(record),
        "approximateArrivalTimestamp": int(record.arrival * 1000),
        "data": base64.b64encode(record.data).decode(),
    }
    if record.metadata:
        shape["kinesisRecordMetadata"] = record.metadata
    return shape


def read_answer(payload: bytes, records: list[Buffered], outcome: Outcome) -> None:
    """Sort `records` into `outcome` by the function's answer; a malformed answer fails them all."""
    try:
        answer = json.loads(payload)
        answered = answer["records"]
        if not isinstance(answered, list):
            raise TypeError(answered)
    except (ValueError, KeyError, TypeError):
        for record in records:
            outcome.failed.append(
                (
                    record,
                    "Lambda.FunctionError",
                    "The Lambda function response is not valid JSON with records.",
                )
            )
        return
    by_id = {record_id(r): r for r in records}
    seen: set[str] = set()
    for item in answered:
        rid = item.get("recordId") if isinstance(item, dict) else None
        record = by_id.get(rid) if isinstance(rid, str) else None
        if record is None or rid in seen:
            continue
        seen.add(rid)  # type: ignore[arg-type]
        result = item.get("result")
        if result == "Dropped":
            outcome.dropped.append(record)
        elif result == "Ok":
            try:
                data = base64.b64decode(item.get("data") or "", validate=True)
            except (binascii.Error, ValueError):
                outcome.failed.append(
                    (record, "Lambda.InvalidDataEncoding", "The data is not base64-encoded.")
                )
                continue
            keys = ((item.get("metadata") or {}).get("partitionKeys")) or {}
            outcome.ok.append((record, data, {str(k): str(v) for k, v in keys.items()}))
        elif result == "ProcessingFailed":
            outcome.failed.append(
                (record, "Lambda.ProcessingFailed", "The record was marked ProcessingFailed.")
            )
        else:
            outcome.failed.append((record, "Lambda.InvalidRecordResult", f"Invalid result {result!r}."))
    for rid, record in by_id.items():
        if rid not in seen:
            outcome.failed.append(
                (record, "Lambda.MissingRecordId", f"The record {rid} is missing from the response.")
            )


def error_line(
    record: Buffered, code: str, message: str, attempts: int, now: float, extra: dict[str, Any]
) -> bytes:
    """One line of an error output object (processing-failed/, http-endpoint-failed/, ...)."""
    line: dict[str, Any] = {
        "attemptsMade": attempts,
        "arrivalTimestamp": int(record.arrival * 1000),
        "errorCode": code,
        "errorMessage": message,
        "attemptEndingTimestamp": int(now * 1000),
        "rawData": base64.b64encode(record.data).decode(),
        **extra,
    }
    return (json.dumps(line) + "\n").encode()
