"""SQS ReceiveMessage (long polls, FIFO groups, receive attempts, dead-lettering) and what a receipt handle
allows: DeleteMessage and ChangeMessageVisibility, single and batched."""

from __future__ import annotations

import base64
import binascii
import json
import random
import time
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.sqs import attributes as qa
from overcast.services.sqs import messages as msg
from overcast.services.sqs.checks import (
    FIFO_TOKEN,
    MAX_VISIBILITY,
    check_batch,
    int_param,
    invalid_parameter,
)
from overcast.services.sqs.sending import sequence_number
from overcast.services.sqs.store import Message, Queue

if TYPE_CHECKING:
    from overcast.services.sqs.provider import SqsProvider

RECEIVE_ATTEMPT_WINDOW = 300.0
# Receive tokens (in receipt handles) need to differ from one receive to the next, not to be unguessable: from
# a generator of our own (seeded from os.urandom) rather than a system call per receive.
_token_bits = random.Random().getrandbits


class ReceiveOperations(Operations):
    service: SqsProvider

    # -- receiving ---------------------------------------------------------------------------------

    async def receive_message(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service = self.service
        limit = int_param(params, "MaxNumberOfMessages", 1, 10) or 1
        int_param(params, "VisibilityTimeout", 0, MAX_VISIBILITY)
        wait = params.get("WaitTimeSeconds")
        if wait is not None and not 0 <= wait <= 20:
            raise invalid_parameter("WaitTimeSeconds", wait, "Must be >= 0 and <= 20, if provided.")
        deadline: float | None = None
        while True:
            with self.db.transaction():
                queue = service.queue_for(ctx, params["QueueUrl"])
                received = self._receive_now(queue, params, limit)
                if received:  # a receiver that cannot decrypt gets KMS's error, and the messages stay
                    service.keys.before_receive(ctx, queue)
                else:
                    if wait is None:
                        wait = queue.int_attribute("ReceiveMessageWaitTimeSeconds")
                    now = self.clock.now()
                    next_visible = service.store.next_visible_at(queue, now)
            if received:
                return {"Messages": received}
            if deadline is None:
                deadline = time.monotonic() + wait
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return {}
            if next_visible is not None:
                remaining = min(remaining, max(next_visible - now, 0.001))
            await service.wait_for_arrival(queue.id, remaining)

    def _receive_now(self, queue: Queue, params: dict[str, Any], limit: int) -> list[dict[str, Any]]:
        store = self.service.store
        now = self.clock.now()
        store.expire_messages(queue, now)
        visibility = params.get("VisibilityTimeout")
        if visibility is None:
            visibility = queue.int_attribute("VisibilityTimeout")
        attempt_id = params.get("ReceiveRequestAttemptId") if queue.fifo else None
        if attempt_id is not None:
            if not FIFO_TOKEN.match(attempt_id):
                raise invalid_parameter(
                    "ReceiveRequestAttemptId",
                    attempt_id,
                    "ReceiveRequestAttemptId can only include alphanumeric and punctuation characters. "
                    "1 to 128 in length.",
                )
            repeated = self._repeat_attempt(queue, attempt_id, now, visibility)
            if repeated is not None:
                return [_render(queue, m, params) for m in repeated]
        chosen = self._take_fifo(queue, now, limit) if queue.fifo else self._take_standard(queue, now, limit)
        for message in chosen:
            store.mark_received(queue, message, f"{_token_bits(96):024x}", now, now + visibility)
        self.service.metrics.add(
            queue.account,
            queue.region,
            queue.name,
            now,
            **({"NumberOfMessagesReceived": len(chosen)} if chosen else {"NumberOfEmptyReceives": 1}),
        )
        if queue.fifo:
            for group in {message.group_id for message in chosen}:
                store.refresh_group(queue.id, group)
            if attempt_id and chosen:
                receipts = [[m.id, m.token] for m in chosen]
                store.remember_receive_attempt(queue, attempt_id, now + RECEIVE_ATTEMPT_WINDOW, receipts)
        return [_render(queue, message, params) for message in chosen]

    def _repeat_attempt(
        self, queue: Queue, attempt_id: str, now: float, visibility: int
    ) -> list[Message] | None:
        """A retried FIFO receive gets the same messages and receipt handles while they are still in flight."""
        store = self.service.store
        receipts = store.receive_attempt(queue, attempt_id, now)
        if not receipts:
            return None
        found = [store.message(queue.id, row_id) for row_id, _ in receipts]
        current = [
            m for m, (_, token) in zip(found, receipts, strict=True) if m is not None and m.token == token
        ]
        if not current:
            return None
        for message in current:
            store.set_visible_at(queue, message, now + visibility)
        return current

    def _take_standard(self, queue: Queue, now: float, limit: int) -> list[Message]:
        chosen: list[Message] = []
        while len(chosen) < limit:
            candidates = self.service.store.visible_messages(queue, now, limit - len(chosen))
            if not candidates:
                break
            moved = 0
            for message in candidates:
                if self._dead_lettered(queue, message, now):
                    moved += 1
                else:
                    chosen.append(message)
            if not moved:
                break
        return chosen

    def _take_fifo(self, queue: Queue, now: float, limit: int) -> list[Message]:
        """Oldest messages first from groups with no message in flight, in order within each group."""
        store = self.service.store
        chosen: list[Message] = []
        for group in store.ready_groups(queue, now, limit):
            for message in store.group_messages(queue, group, limit - len(chosen) + 10):
                if message.visible_at > now or len(chosen) >= limit:
                    break
                if not self._dead_lettered(queue, message, now):
                    chosen.append(message)
            if len(chosen) >= limit:
                break
        return chosen

    def _dead_lettered(self, queue: Queue, message: Message, now: float) -> bool:
        """Move a message received maxReceiveCount times to the queue's dead-letter queue."""
        target = qa.redrive_target(queue.attributes)
        if target is None or message.receive_count < target[1]:
            return False
        dlq = self.service.queue_by_arn(target[0])
        if dlq is None or not qa.allows_source(dlq.attributes, queue.arn):
            return False
        self.service.dead_letter(queue, message, dlq, now)
        return True

    # -- receipt handles: delete and change visibility ---------------------------------------------

    def delete_message(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        queue = self.service.queue_for(ctx, params["QueueUrl"])
        self._delete(queue, params["ReceiptHandle"])
        return {}

    def delete_message_batch(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        queue = self.service.queue_for(ctx, params["QueueUrl"])
        entries = check_batch(params["Entries"], "DeleteMessageBatchRequestEntry")
        return self.service.each_entry(entries, lambda entry: self._delete(queue, entry["ReceiptHandle"]))

    def _delete(self, queue: Queue, handle: str) -> dict[str, Any]:
        store = self.service.store
        row_id, token = _parse_receipt(queue, handle)
        message = store.message(queue.id, row_id)
        if message is None:
            return {}  # already deleted
        if not queue.fifo:
            # A standard queue answers any receive's handle with success; only the latest one deletes (an
            # earlier receive's handle is still valid, and deletes nothing, as AWS documents).
            if message.token == token:
                store.delete_message(queue, message)
                self.service.metrics.add(
                    queue.account, queue.region, queue.name, self.clock.now(), NumberOfMessagesDeleted=1
                )
        elif message.token == token and message.visible_at > self.clock.now():
            store.delete_message(queue, message)
            self.service.metrics.add(
                queue.account, queue.region, queue.name, self.clock.now(), NumberOfMessagesDeleted=1
            )
            # the group's next message is free now: wake the long polls waiting for it
            self.db.after_commit(lambda: self.service.notify(queue.id))
        else:
            # A FIFO queue refuses a handle whose visibility timeout has run out (the message may be with
            # another consumer).
            raise invalid_parameter("ReceiptHandle", handle, "The receipt handle has expired.")
        return {}

    def change_message_visibility(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        queue = self.service.queue_for(ctx, params["QueueUrl"])
        self._change_visibility(queue, params)
        return {}

    def change_message_visibility_batch(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        queue = self.service.queue_for(ctx, params["QueueUrl"])
        entries = check_batch(params["Entries"], "ChangeMessageVisibilityBatchRequestEntry")
        return self.service.each_entry(entries, lambda entry: self._change_visibility(queue, entry))

    def _change_visibility(self, queue: Queue, params: dict[str, Any]) -> dict[str, Any]:
        service = self.service
        timeout = params["VisibilityTimeout"]
        if not 0 <= timeout <= MAX_VISIBILITY:
            raise invalid_parameter(
                "VisibilityTimeout", timeout, f"Must be between 0 and {MAX_VISIBILITY}, if provided."
            )
        row_id, token = _parse_receipt(queue, params["ReceiptHandle"])
        message = service.store.message(queue.id, row_id)
        now = self.clock.now()
        if message is None or (queue.fifo and message.token != token):
            raise invalid_parameter(
                "ReceiptHandle",
                params["ReceiptHandle"],
                "Message does not exist or is not available for visibility timeout change.",
            )
        if message.token != token:  # a standard queue's earlier handle stays valid: success, no change
            return {}
        # A standard message whose timeout has run out is hidden again; a FIFO message must still be in flight.
        if queue.fifo and message.visible_at <= now:
            raise ServiceError("MessageNotInflight", "Message is not in flight.")
        # The 12 hours run from the receive this handle came from; extending does not restart them (and 0, which
        # releases the message, is always allowed).
        received = message.received_at
        if timeout and received is not None and now + timeout > received + MAX_VISIBILITY:
            raise invalid_parameter(
                "VisibilityTimeout",
                timeout,
                f"Total VisibilityTimeout for the message is beyond the limit [{MAX_VISIBILITY} seconds].",
            )
        service.store.set_visible_at(queue, message, now + timeout)
        if timeout == 0:
            self.db.after_commit(lambda: service.notify(queue.id))
        return {}


# -- what a receive returns ----------------------------------------------------------------------------


def _millis(seconds: float) -> str:
    return str(int(seconds * 1000))


def _render(queue: Queue, message: Message, params: dict[str, Any]) -> dict[str, Any]:
    rendered: dict[str, Any] = {
        "MessageId": message.message_id,
        "ReceiptHandle": _receipt_handle(queue, message),
        "MD5OfBody": message.md5_body,
        "Body": message.body,
    }
    system = _system_attributes(queue, message, params)
    if system:
        rendered["Attributes"] = system
    if message.attributes:
        wanted = msg.select_attributes(json.loads(message.attributes), params.get("MessageAttributeNames"))
        if wanted:
            decoded = msg.decode_attributes(wanted)
            rendered["MessageAttributes"] = decoded
            rendered["MD5OfMessageAttributes"] = msg.md5_of_attributes(decoded)
    return rendered


def _system_attributes(queue: Queue, message: Message, params: dict[str, Any]) -> dict[str, str]:
    names, legacy_names = params.get("MessageSystemAttributeNames"), params.get("AttributeNames")
    if not names and not legacy_names:
        return {}
    wanted = set(names or ()) | set(legacy_names or ())
    every = "All" in wanted
    values = {
        "SenderId": message.sender_id,
        "SentTimestamp": _millis(message.sent_at),
        "ApproximateReceiveCount": str(message.receive_count),
        "ApproximateFirstReceiveTimestamp": _millis(message.first_received_at or message.sent_at),
    }
    if queue.fifo:
        values.update(
            SequenceNumber=sequence_number(message.id),
            MessageGroupId=message.group_id,
            MessageDeduplicationId=message.dedup_id,
        )
    elif message.group_id:
        values["MessageGroupId"] = message.group_id
    if message.system_attributes:
        trace = json.loads(message.system_attributes).get("AWSTraceHeader")
        if trace:
            values["AWSTraceHeader"] = trace["StringValue"]
    if message.dlq_source:
        values["DeadLetterQueueSourceArn"] = message.dlq_source
    return {key: value for key, value in values.items() if value is not None and (every or key in wanted)}


def _receipt_handle(queue: Queue, message: Message) -> str:
    raw = f"{queue.id}:{message.id}:{message.token}:{message.message_id}"
    return base64.b64encode(raw.encode()).decode()


def _parse_receipt(queue: Queue, handle: str) -> tuple[int, str]:
    try:
        queue_id, row_id, token, _ = base64.b64decode(handle.encode(), validate=True).decode().split(":")
        parsed = int(queue_id), int(row_id), token
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ServiceError(
            "ReceiptHandleIsInvalid",
            f'The input receipt handle "{handle}" is not a valid receipt handle.',
        ) from None
    if parsed[0] != queue.id:
        raise ServiceError(
            "ReceiptHandleIsInvalid",
            f'The input receipt handle "{handle}" is not a valid for this queue.',
        )
    return parsed[1], parsed[2]
