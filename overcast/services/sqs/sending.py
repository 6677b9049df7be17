"""SQS SendMessage and SendMessageBatch: validation, FIFO deduplication, delays, trace headers."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.platform import new_request_id
from overcast.services.base import Operations
from overcast.services.sqs import attributes as qa
from overcast.services.sqs import messages as msg
from overcast.services.sqs.checks import FIFO_TOKEN, check_batch, int_param, invalid_parameter
from overcast.services.sqs.store import Queue

if TYPE_CHECKING:
    from overcast.services.sqs.provider import SqsProvider

DEDUP_WINDOW = 300.0


_SEQUENCE_BASE = 18_800_000_000_000_000_000


def sequence_number(row_id: int) -> str:
    """A FIFO message's SequenceNumber, 20 digits as AWS's: increasing with the row id (which orders the queue),
    its low digits scrambled so that consecutive messages do not read as a counter."""
    return str(_SEQUENCE_BASE + row_id * 65_536 + (row_id * 2_654_435_761) % 65_536)


class SendOperations(Operations):
    service: SqsProvider

    def send_message(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service = self.service
        queue = service.queue_for(ctx, params["QueueUrl"])
        size = self._check_message(queue, params)
        if size > queue.int_attribute("MaximumMessageSize"):
            raise _too_long(queue)
        service.keys.before_send(ctx, queue)
        result = self._send(ctx, queue, params)
        self.db.after_commit(lambda: service.notify(queue.id))
        return result

    def send_message_batch(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service = self.service
        queue = service.queue_for(ctx, params["QueueUrl"])
        entries = check_batch(params["Entries"], "SendMessageBatchRequestEntry")
        if queue.fifo:  # a FIFO entry without its group (or deduplication) id fails the whole batch
            for entry in entries:
                _check_fifo_ids(queue, entry)
        total = sum(len(e["MessageBody"].encode()) + _attributes_size(e) for e in entries)
        if total > qa.MAX_MESSAGE_SIZE:
            raise ServiceError(
                "BatchRequestTooLong",
                f"Batch requests cannot be longer than {qa.MAX_MESSAGE_SIZE} bytes. You have sent {total} bytes.",
            )
        service.keys.before_send(ctx, queue)

        def send_one(entry: dict[str, Any]) -> dict[str, Any]:
            if self._check_message(queue, entry) > queue.int_attribute("MaximumMessageSize"):
                raise _too_long(queue)
            return self._send(ctx, queue, entry)

        result = service.each_entry(entries, send_one)
        if result["Successful"]:
            self.db.after_commit(lambda: service.notify(queue.id))
        return result

    @staticmethod
    def _check_message(queue: Queue, params: dict[str, Any]) -> int:
        """Validate one message for `queue`; returns its size as SQS counts it."""
        body = params["MessageBody"]
        msg.check_body(body)
        size = len(body.encode()) + msg.check_attributes(params.get("MessageAttributes") or {})
        msg.check_attributes(params.get("MessageSystemAttributes") or {}, system=True)
        delay = int_param(params, "DelaySeconds", 0, 900)
        group = params.get("MessageGroupId")
        dedup = params.get("MessageDeduplicationId")
        if queue.fifo:
            if delay:
                raise invalid_parameter(
                    "DelaySeconds",
                    delay,
                    "The request include parameter that is not valid for this queue type.",
                )
            _check_fifo_ids(queue, params)
        elif dedup is not None:
            raise invalid_parameter(
                "MessageDeduplicationId",
                dedup,
                "The request include parameter that is not valid for this queue type",
            )
        for name, value in (("MessageGroupId", group), ("MessageDeduplicationId", dedup)):
            if value is not None and not FIFO_TOKEN.match(value):
                raise invalid_parameter(
                    name,
                    value,
                    f"{name} can only include alphanumeric and punctuation characters. 1 to 128 in length.",
                )
        return size

    def _send(self, ctx: RequestContext, queue: Queue, params: dict[str, Any]) -> dict[str, Any]:
        """Store one validated message; a FIFO duplicate within five minutes answers like the original."""
        store = self.service.store
        now = self.clock.now()
        body = params["MessageBody"]
        attributes = params.get("MessageAttributes") or {}
        system = params.get("MessageSystemAttributes") or {}
        result: dict[str, Any] = {"MD5OfMessageBody": msg.md5_hex(body.encode())}
        md5_attributes = msg.md5_of_attributes(attributes)
        if md5_attributes:
            result["MD5OfMessageAttributes"] = md5_attributes
        if system:
            result["MD5OfMessageSystemAttributes"] = msg.md5_of_attributes(system)
        system = _with_trace_header(ctx, system)
        group = params.get("MessageGroupId")
        dedup = scope = None
        if queue.fifo:
            dedup = params.get("MessageDeduplicationId") or hashlib.sha256(body.encode()).hexdigest()
            scope = group if queue.attributes.get("DeduplicationScope") == "messageGroup" else ""
            original = store.duplicate(queue, scope, dedup, now)
            if original:
                result.update(MessageId=original[0], SequenceNumber=original[1])
                return result
        delay = params.get("DelaySeconds")
        if delay is None or queue.fifo:  # FIFO messages always take the queue's delay
            delay = queue.int_attribute("DelaySeconds")
        message_id = new_request_id()  # a version 4 UUID, without uuid4()'s system call
        row_id = store.insert_message(
            queue,
            {
                "message_id": message_id,
                "body": body,
                "md5_body": result["MD5OfMessageBody"],
                "attributes": json.dumps(msg.encode_attributes(attributes)) if attributes else None,
                "md5_attributes": md5_attributes,
                "system_attributes": json.dumps(msg.encode_attributes(system)) if system else None,
                "sender_id": ctx.principal.user_id,
                "sent_at": now,
                "enqueued_at": now,
                "visible_at": now + delay,
                "group_id": group,
                "dedup_id": dedup,
            },
        )
        result["MessageId"] = message_id
        self.service.metrics.add(queue.account, queue.region, queue.name, now, NumberOfMessagesSent=1)
        if queue.fifo:
            result["SequenceNumber"] = sequence_number(row_id)
            store.remember_dedup(
                queue, scope, dedup, now + DEDUP_WINDOW, message_id, result["SequenceNumber"]
            )
        return result


def _check_fifo_ids(queue: Queue, params: dict[str, Any]) -> None:
    if not params.get("MessageGroupId"):
        raise ServiceError("MissingParameter", "The request must contain the parameter MessageGroupId.")
    if (
        params.get("MessageDeduplicationId") is None
        and queue.attributes.get("ContentBasedDeduplication") != "true"
    ):
        raise ServiceError(
            "InvalidParameterValue",
            "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId "
            "provided explicitly",
        )


def _too_long(queue: Queue) -> ServiceError:
    limit = queue.int_attribute("MaximumMessageSize")
    return ServiceError(
        "InvalidParameterValue",
        f"One or more parameters are invalid. Reason: Message must be shorter than {limit} bytes.",
    )


def _with_trace_header(ctx: RequestContext, system: dict[str, Any]) -> dict[str, Any]:
    """An X-Ray trace header on the request becomes AWSTraceHeader unless the sender set one."""
    trace = ctx.request.headers.get("x-amzn-trace-id") if ctx.request is not None else None
    if not trace or "AWSTraceHeader" in system:
        return system
    return {**system, "AWSTraceHeader": {"DataType": "String", "StringValue": trace}}


def _attributes_size(entry: dict[str, Any]) -> int:
    size = 0
    for name, value in (entry.get("MessageAttributes") or {}).items():
        data = value.get("BinaryValue") or (value.get("StringValue") or "").encode()
        size += len(name.encode()) + len(value.get("DataType", "").encode()) + len(data)
    return size
