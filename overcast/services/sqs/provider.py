"""SQS operations: queues, messages, long polling, FIFO ordering and deduplication, dead-letter queues."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
import os
import re
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.platform import new_request_id
from overcast.services.base import ServiceProvider
from overcast.services.sqs import attributes as qa
from overcast.services.sqs import messages as msg
from overcast.services.sqs.store import Message, Queue, SqsStore

_QUEUE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_FIFO_QUEUE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,75}\.fifo$")
_BATCH_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_FIFO_TOKEN = re.compile(r"^[!-~]{1,128}$")  # alphanumerics and punctuation, as group and deduplication ids
_AUTHORIZED_QUEUE = "sqs.authorized_queue"  # ctx.extra: (key, total_changes, Queue) read by the policy engine
MAX_BATCH = 10
MAX_VISIBILITY = 43_200  # 12 hours: the most a receive's visibility can last, however it is extended
DEDUP_WINDOW = 300.0
RECEIVE_ATTEMPT_WINDOW = 300.0
PURGE_INTERVAL = 60.0
RECREATE_DELAY = 60.0
SYSTEM_ATTRIBUTE_NAMES = (
    "SenderId",
    "SentTimestamp",
    "ApproximateReceiveCount",
    "ApproximateFirstReceiveTimestamp",
    "SequenceNumber",
    "MessageDeduplicationId",
    "MessageGroupId",
    "AWSTraceHeader",
    "DeadLetterQueueSourceArn",
)
MOVE_BATCH = 500


def no_such_queue() -> ServiceError:
    return ServiceError("QueueDoesNotExist", "The specified queue does not exist.")


def resource_not_found(parameter: str) -> ServiceError:
    return ServiceError(
        "ResourceNotFoundException",
        f"The resource that you specified for the {parameter} parameter doesn't exist.",
        status=404,
    )


def invalid_parameter(name: str, value: Any, reason: str) -> ServiceError:
    return ServiceError(
        "InvalidParameterValue", f"Value {value} for parameter {name} is invalid. Reason: {reason}"
    )


def _int_param(params: dict[str, Any], name: str, low: int, high: int) -> int | None:
    value = params.get(name)
    if value is not None and not low <= value <= high:
        raise invalid_parameter(name, value, f"Must be between {low} and {high}, if provided.")
    return value


def _millis(seconds: float) -> str:
    return str(int(seconds * 1000))


class SqsProvider(ServiceProvider):
    service_name = "sqs"

    # Batch operations are authorized as the single operation they repeat.
    iam_actions = {
        "SendMessageBatch": "SendMessage",
        "DeleteMessageBatch": "DeleteMessage",
        "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
    }

    def resource_arn(self, ctx: RequestContext, params: dict[str, Any]) -> str | None:
        """The resource a request acts on, for authorization."""
        url = params.get("QueueUrl")
        if url:
            parts = url.split("?", 1)[0].rstrip("/").rsplit("/", 2)
            if len(parts) == 3 and parts[1].isdigit():
                return ctx.arn("sqs", parts[2], account=parts[1])
            return ctx.arn("sqs", parts[-1])
        if params.get("QueueName"):  # CreateQueue, GetQueueUrl (of another account's queue with its owner id)
            return ctx.arn("sqs", params["QueueName"], account=params.get("QueueOwnerAWSAccountId") or None)
        return None

    def __init__(self, platform) -> None:
        super().__init__(platform)
        self.store = SqsStore(self.db)
        self._arrivals: dict[int, asyncio.Event] = {}  # queue id -> event set when a message may be ready

    async def start(self) -> None:
        for task in self._running_move_tasks():
            self.platform.spawn(self._run_move_task(task["handle"]))

    def _running_move_tasks(self) -> list[dict[str, Any]]:
        handles = self.db.all("SELECT handle FROM sqs_move_tasks WHERE status = 'RUNNING'")
        return [self.store.move_task(handle) for (handle,) in handles]

    # -- queue addressing --------------------------------------------------------------------------

    def _queue_url(self, ctx: RequestContext, queue: Queue) -> str:
        if ctx.request is not None:
            return f"{ctx.request.scheme}://{ctx.request.host}/{queue.account}/{queue.name}"
        return f"http://sqs.{queue.region}.localhost.localstack.cloud:4566/{queue.account}/{queue.name}"

    def _url_parts(self, ctx: RequestContext, url: str) -> tuple[str, str]:
        """(account, name) of a queue URL in any of its forms: http://host/account/name, or a bare name."""
        path = urlsplit(url).path if "://" in url else url
        parts = [part for part in path.split("/") if part]
        if len(parts) >= 2 and parts[-2].isdigit() and len(parts[-2]) == 12:
            return parts[-2], parts[-1]
        if len(parts) == 1:
            return ctx.account_id, parts[0]
        raise no_such_queue()

    def _queue(self, ctx: RequestContext, url: str) -> Queue:
        account, name = self._url_parts(ctx, url)
        queue = self._authorized_queue(ctx, account, name)
        if queue is None:
            queue = self.store.queue(account, ctx.region, name)
        if queue is None:
            raise no_such_queue()
        return queue

    def _authorized_queue(self, ctx: RequestContext, account: str, name: str) -> Queue | None:
        """The queue as the policy engine read it for this request (`authorization_resource`), once, if the
        database has not changed since: the handler need not read it a second time."""
        seen = ctx.extra.pop(_AUTHORIZED_QUEUE, None)
        if seen is None:
            return None
        key, changes, queue = seen
        if key == (account, ctx.region, name) and changes == self.db.conn.total_changes:
            return queue
        return None

    def _queue_by_arn(self, arn: str) -> Queue | None:
        parts = arn.split(":")
        if len(parts) != 6 or parts[2] != "sqs":
            return None
        return self.store.queue(parts[4], parts[3], parts[5])

    def authorization_resource(self, ctx: RequestContext, arn: str) -> Any:
        """The policy engine's view of a queue (owner, queue policy, tags); None when there is no such queue."""
        from overcast.policy.enforcement import ResourcePolicy

        queue = self._queue_by_arn(arn)
        if queue is None:
            return None
        # This process is the database's only writer: while total_changes stays the same, so does the row.
        ctx.extra[_AUTHORIZED_QUEUE] = (
            (queue.account, queue.region, queue.name),
            self.db.conn.total_changes,
            queue,
        )
        return ResourcePolicy(queue.account, queue.attributes.get("Policy") or None, dict(queue.tags))

    # -- queues ------------------------------------------------------------------------------------

    def create_queue(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["QueueName"]
        given = params.get("Attributes") or {}
        fifo = name.endswith(".fifo")
        if not (_FIFO_QUEUE_NAME if fifo else _QUEUE_NAME).match(name):
            raise ServiceError(
                "InvalidParameterValue",
                "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length",
            )
        if fifo and given.get("FifoQueue", "").lower() != "true":
            raise ServiceError(
                "InvalidParameterValue",
                "The name of a FIFO queue can only include alphanumeric "
                "characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in "
                "length.",
            )
        requested = qa.normalise(given, fifo=fifo, creating=True)
        now = self.clock.now()
        existing = self.store.queue(ctx.account_id, ctx.region, name)
        if existing is not None:
            for key, value in requested.items():
                if existing.attributes.get(key, "") != value:
                    raise ServiceError(
                        "QueueNameExists",
                        f"A queue already exists with the same name and a different value for attribute {key}",
                    )
            return {"QueueUrl": self._queue_url(ctx, existing)}
        deleted = self.store.deleted_at(ctx.account_id, ctx.region, name)
        if deleted is not None and now - deleted < RECREATE_DELAY:
            raise ServiceError(
                "QueueDeletedRecently",
                "You must wait 60 seconds after deleting a queue before you can create another with the same name.",
            )
        values = qa.defaults(fifo)
        if "KmsMasterKeyId" in requested:
            values["SqsManagedSseEnabled"] = "false"
            values["KmsDataKeyReusePeriodSeconds"] = "300"
        values.update(requested)
        self._drop_empty(values)
        qa.check_combination(values)
        dlq_arn = self._check_redrive(ctx, values, fifo)
        tags = params.get("tags") or {}
        self._check_tags(tags)
        self.store.create_queue(ctx.account_id, ctx.region, name, fifo, values, tags, dlq_arn, now)
        queue = self.store.queue(ctx.account_id, ctx.region, name)
        return {"QueueUrl": self._queue_url(ctx, queue)}

    @staticmethod
    def _drop_empty(values: dict[str, str]) -> None:
        for key in qa.JSON_ATTRIBUTES:
            if values.get(key) == "":
                del values[key]

    def _check_redrive(self, ctx: RequestContext, values: dict[str, str], fifo: bool) -> str | None:
        target = qa.redrive_target(values)
        if target is None:
            return None
        arn, _ = target
        dlq = self._queue_by_arn(arn)
        if dlq is None:
            raise invalid_parameter(
                "RedrivePolicy", values["RedrivePolicy"], "Dead letter target does not exist."
            )
        if dlq.fifo != fifo:
            raise invalid_parameter(
                "RedrivePolicy",
                values["RedrivePolicy"],
                "Dead-letter queue must be same type of queue as the source.",
            )
        return arn

    def get_queue_url(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        account = params.get("QueueOwnerAWSAccountId") or ctx.account_id
        queue = self.store.queue(account, ctx.region, params["QueueName"])
        if queue is None:
            raise no_such_queue()
        return {"QueueUrl": self._queue_url(ctx, queue)}

    def delete_queue(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        queue = self._queue(ctx, params["QueueUrl"])
        self.store.delete_queue(queue, self.clock.now())
        self.db.after_commit(lambda: self._notify(queue.id))
        return {}

    def list_queues(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        prefix = params.get("QueueNamePrefix") or ""
        limit = params.get("MaxResults")
        if limit is not None and not 1 <= limit <= 1000:
            raise invalid_parameter("MaxResults", limit, "MaxResults must be an integer between 1 and 1000.")
        after = self._decode_token(params.get("NextToken"))
        names = self.store.queue_names(ctx.account_id, ctx.region, prefix, after, (limit or 1000) + 1)
        result: dict[str, Any] = {}
        page = names[: limit or 1000]
        if page:
            result["QueueUrls"] = [self._url_for(ctx, ctx.account_id, ctx.region, name) for name in page]
        if limit and len(names) > limit:
            result["NextToken"] = self._encode_token(page[-1])
        return result

    def _url_for(self, ctx: RequestContext, account: str, region: str, name: str) -> str:
        host = ctx.request.host if ctx.request else f"sqs.{region}.localhost.localstack.cloud:4566"
        scheme = ctx.request.scheme if ctx.request else "http"
        return f"{scheme}://{host}/{account}/{name}"

    @staticmethod
    def _encode_token(name: str) -> str:
        return base64.urlsafe_b64encode(json.dumps({"after": name}).encode()).decode()

    @staticmethod
    def _decode_token(token: str | None) -> str:
        if not token:
            return ""
        try:
            return json.loads(base64.urlsafe_b64decode(token.encode()))["after"]
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise ServiceError("InvalidParameterValue", "Invalid NextToken value.") from None

    def get_queue_attributes(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        queue = self._queue(ctx, params["QueueUrl"])
        names = params.get("AttributeNames") or []
        for name in names:
            if name != "All" and name not in qa.ALL_NAMES:
                raise ServiceError("InvalidAttributeName", f"Unknown Attribute {name}.")
        if not names:
            return {}
        values = self._all_attributes(queue)
        if "All" not in names:
            values = {key: value for key, value in values.items() if key in names}
        return {"Attributes": values} if values else {}

    def _all_attributes(self, queue: Queue) -> dict[str, str]:
        now = self.clock.now()
        self.store.expire_messages(queue, now)
        in_flight, delayed = self.store.invisible_counts(queue, now)
        values = dict(queue.attributes)
        values.update(
            QueueArn=queue.arn,
            ApproximateNumberOfMessages=str(max(queue.message_count - in_flight - delayed, 0)),
            ApproximateNumberOfMessagesNotVisible=str(in_flight),
            ApproximateNumberOfMessagesDelayed=str(delayed),
            CreatedTimestamp=str(int(queue.created_at)),
            LastModifiedTimestamp=str(int(queue.modified_at)),
        )
        return values

    def set_queue_attributes(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        queue = self._queue(ctx, params["QueueUrl"])
        changes = qa.normalise(params.get("Attributes") or {}, fifo=queue.fifo, creating=False)
        values = dict(queue.attributes)
        values.update(changes)
        if "KmsMasterKeyId" in changes and changes["KmsMasterKeyId"]:
            values["SqsManagedSseEnabled"] = "false"
            values.setdefault("KmsDataKeyReusePeriodSeconds", "300")
        if changes.get("SqsManagedSseEnabled") == "true":
            values.pop("KmsMasterKeyId", None)
            values.pop("KmsDataKeyReusePeriodSeconds", None)
        self._drop_empty(values)
        qa.check_combination(values)
        dlq_arn = self._check_redrive(ctx, values, queue.fifo)
        self.store.update_attributes(queue, values, dlq_arn, self.clock.now())
        return {}

    def purge_queue(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        queue = self._queue(ctx, params["QueueUrl"])
        now = self.clock.now()
        if queue.last_purge is not None and now - queue.last_purge < PURGE_INTERVAL:
            raise ServiceError(
                "PurgeQueueInProgress",
                f"Only one PurgeQueue operation on {queue.name} is allowed every 60 seconds.",
                status=403,
            )
        self.store.purge_messages(queue)
        self.store.set_last_purge(queue, now)
        return {}

    def list_dead_letter_source_queues(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        queue = self._queue(ctx, params["QueueUrl"])
        limit = params.get("MaxResults")
        if limit is not None and not 1 <= limit <= 1000:
            raise invalid_parameter("MaxResults", limit, "MaxResults must be an integer between 1 and 1000.")
        after = self._decode_token(params.get("NextToken"))
        rows = self.store.dead_letter_sources(queue.arn, after, (limit or 1000) + 1)
        page = rows[: limit or 1000]
        result: dict[str, Any] = {"queueUrls": [self._url_for(ctx, a, r, n) for a, r, n in page]}
        if limit and len(rows) > limit:
            result["NextToken"] = self._encode_token(page[-1][2])
        return result

    # -- tags and permissions ----------------------------------------------------------------------

    @staticmethod
    def _check_tags(tags: dict[str, str]) -> None:
        if len(tags) > 50:
            raise ServiceError("InvalidParameterValue", "Too many tags added for queue. The maximum is 50.")
        for key, value in tags.items():
            if not 1 <= len(key) <= 128 or len(value) > 256:
                raise ServiceError("InvalidParameterValue", f"Tag key or value is invalid: {key}")

    def tag_queue(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        queue = self._queue(ctx, params["QueueUrl"])
        tags = {**queue.tags, **params["Tags"]}
        self._check_tags(tags)
        self.store.update_tags(queue, tags)
        return {}

    def untag_queue(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        queue = self._queue(ctx, params["QueueUrl"])
        removed = set(params["TagKeys"])
        self.store.update_tags(queue, {k: v for k, v in queue.tags.items() if k not in removed})
        return {}

    def list_queue_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        queue = self._queue(ctx, params["QueueUrl"])
        return {"Tags": queue.tags} if queue.tags else {}

    def add_permission(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        queue = self._queue(ctx, params["QueueUrl"])
        label = params["Label"]
        policy = json.loads(queue.attributes.get("Policy") or '{"Version": "2012-10-17", "Statement": []}')
        statements = policy.setdefault("Statement", [])
        if any(statement.get("Sid") == label for statement in statements):
            raise invalid_parameter("Label", label, "Already exists.")
        if not params["AWSAccountIds"] or not params["Actions"]:
            raise ServiceError("MissingParameter", "The request must contain the parameter Actions.")
        principals = [f"arn:aws:iam::{account}:root" for account in params["AWSAccountIds"]]
        actions = [f"SQS:{action}" for action in params["Actions"]]
        statements.append(
            {
                "Sid": label,
                "Effect": "Allow",
                "Principal": {"AWS": principals[0] if len(principals) == 1 else principals},
                "Action": actions[0] if len(actions) == 1 else actions,
                "Resource": queue.arn,
            }
        )
        self._store_policy(queue, policy)
        return {}

    def remove_permission(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        queue = self._queue(ctx, params["QueueUrl"])
        label = params["Label"]
        policy = json.loads(queue.attributes.get("Policy") or "{}")
        statements = policy.get("Statement") or []
        kept = [statement for statement in statements if statement.get("Sid") != label]
        if len(kept) == len(statements):
            raise invalid_parameter("Label", label, "can't find label on existing policy.")
        policy["Statement"] = kept
        self._store_policy(queue, policy if kept else None)
        return {}

    def _store_policy(self, queue: Queue, policy: dict[str, Any] | None) -> None:
        values = dict(queue.attributes)
        if policy:
            values["Policy"] = json.dumps(policy, separators=(",", ":"))
        else:
            values.pop("Policy", None)
        target = qa.redrive_target(values)
        self.store.update_attributes(queue, values, target[0] if target else None, self.clock.now())

    # -- sending -----------------------------------------------------------------------------------

    def send_message(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        queue = self._queue(ctx, params["QueueUrl"])
        size = self._check_message(queue, params)
        if size > queue.int_attribute("MaximumMessageSize"):
            raise self._too_long(queue)
        result = self._send(ctx, queue, params)
        self.db.after_commit(lambda: self._notify(queue.id))
        return result

    @staticmethod
    def _too_long(queue: Queue) -> ServiceError:
        limit = queue.int_attribute("MaximumMessageSize")
        return ServiceError(
            "InvalidParameterValue",
            f"One or more parameters are invalid. Reason: Message must be shorter than {limit} bytes.",
        )

    def _check_message(self, queue: Queue, params: dict[str, Any]) -> int:
        """Validate one message for `queue`; returns its size as SQS counts it."""
        body = params["MessageBody"]
        msg.check_body(body)
        size = len(body.encode()) + msg.check_attributes(params.get("MessageAttributes") or {})
        msg.check_attributes(params.get("MessageSystemAttributes") or {}, system=True)
        delay = _int_param(params, "DelaySeconds", 0, 900)
        group = params.get("MessageGroupId")
        dedup = params.get("MessageDeduplicationId")
        if queue.fifo:
            if delay:
                raise invalid_parameter(
                    "DelaySeconds",
                    delay,
                    "The request include parameter that is not valid for this queue type.",
                )
            if not group:
                raise ServiceError(
                    "MissingParameter", "The request must contain the parameter MessageGroupId."
                )
            if dedup is None and queue.attributes.get("ContentBasedDeduplication") != "true":
                raise ServiceError(
                    "InvalidParameterValue",
                    "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId "
                    "provided explicitly",
                )
        elif dedup is not None:
            raise invalid_parameter(
                "MessageDeduplicationId",
                dedup,
                "The request include parameter that is not valid for this queue type",
            )
        for name, value in (("MessageGroupId", group), ("MessageDeduplicationId", dedup)):
            if value is not None and not _FIFO_TOKEN.match(value):
                raise invalid_parameter(
                    name,
                    value,
                    f"{name} can only include alphanumeric and punctuation characters. 1 to 128 in length.",
                )
        return size

    def _send(self, ctx: RequestContext, queue: Queue, params: dict[str, Any]) -> dict[str, Any]:
        """Store one validated message; a FIFO duplicate within five minutes answers like the original."""
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
        system = self._with_trace_header(ctx, system)
        group = params.get("MessageGroupId")
        dedup = scope = None
        if queue.fifo:
            dedup = params.get("MessageDeduplicationId") or hashlib.sha256(body.encode()).hexdigest()
            scope = group if queue.attributes.get("DeduplicationScope") == "messageGroup" else ""
            original = self.store.duplicate(queue, scope, dedup, now)
            if original:
                result.update(MessageId=original[0], SequenceNumber=original[1])
                return result
        delay = params.get("DelaySeconds")
        if delay is None:
            delay = queue.int_attribute("DelaySeconds")
        message_id = new_request_id()  # a version 4 UUID, without uuid4()'s system call
        row_id = self.store.insert_message(
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
        if queue.fifo:
            result["SequenceNumber"] = self._sequence_number(row_id)
            self.store.remember_dedup(
                queue, scope, dedup, now + DEDUP_WINDOW, message_id, result["SequenceNumber"]
            )
        return result

    @staticmethod
    def _with_trace_header(ctx: RequestContext, system: dict[str, Any]) -> dict[str, Any]:
        """An X-Ray trace header on the request becomes AWSTraceHeader unless the sender set one."""
        trace = ctx.request.headers.get("x-amzn-trace-id") if ctx.request is not None else None
        if not trace or "AWSTraceHeader" in system:
            return system
        return {**system, "AWSTraceHeader": {"DataType": "String", "StringValue": trace}}

    @staticmethod
    def _sequence_number(row_id: int) -> str:
        return str(10**19 + row_id)

    def send_message_batch(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        queue = self._queue(ctx, params["QueueUrl"])
        entries = self._check_batch(params["Entries"], "SendMessageBatchRequestEntry")
        total = sum(len(e["MessageBody"].encode()) + self._attributes_size(e) for e in entries)
        if total > qa.MAX_MESSAGE_SIZE:
            raise ServiceError(
                "BatchRequestTooLong",
                f"Batch requests cannot be longer than {qa.MAX_MESSAGE_SIZE} bytes. You have sent {total} bytes.",
            )

        def send_one(entry: dict[str, Any]) -> dict[str, Any]:
            if self._check_message(queue, entry) > queue.int_attribute("MaximumMessageSize"):
                raise self._too_long(queue)
            return self._send(ctx, queue, entry)

        result = self._each_entry(entries, send_one)
        if result["Successful"]:
            self.db.after_commit(lambda: self._notify(queue.id))
        return result

    @staticmethod
    def _attributes_size(entry: dict[str, Any]) -> int:
        size = 0
        for name, value in (entry.get("MessageAttributes") or {}).items():
            data = value.get("BinaryValue") or (value.get("StringValue") or "").encode()
            size += len(name.encode()) + len(value.get("DataType", "").encode()) + len(data)
        return size

    @staticmethod
    def _check_batch(entries: list[dict[str, Any]], entry_shape: str) -> list[dict[str, Any]]:
        if not entries:
            raise ServiceError(
                "EmptyBatchRequest", f"There should be at least one {entry_shape} in the request."
            )
        if len(entries) > MAX_BATCH:
            raise ServiceError(
                "TooManyEntriesInBatchRequest",
                f"Maximum number of entries per request are {MAX_BATCH}. You have sent {len(entries)}.",
            )
        ids = [entry["Id"] for entry in entries]
        for entry_id in ids:
            if not _BATCH_ID.match(entry_id):
                raise ServiceError(
                    "InvalidBatchEntryId",
                    "A batch entry id can only contain alphanumeric characters, "
                    "hyphens and underscores. It can be at most 80 letters long.",
                )
        if len(set(ids)) != len(ids):
            raise ServiceError(
                "BatchEntryIdsNotDistinct", "Two or more batch entries in the request have the same Id."
            )
        return entries

    def _each_entry(self, entries: list[dict[str, Any]], action) -> dict[str, Any]:
        """Run `action` per entry, each in its own savepoint; failures become entries of `Failed`."""
        successful, failed = [], []
        for entry in entries:
            try:
                with self.db.transaction():
                    outcome = action(entry)
            except ServiceError as error:
                failed.append(
                    {
                        "Id": entry["Id"],
                        "SenderFault": error.sender_fault,
                        "Code": error.code,
                        "Message": error.message,
                    }
                )
            else:
                successful.append({"Id": entry["Id"], **outcome})
        return {"Successful": successful, "Failed": failed}

    # -- receiving ---------------------------------------------------------------------------------

    async def receive_message(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = _int_param(params, "MaxNumberOfMessages", 1, 10) or 1
        _int_param(params, "VisibilityTimeout", 0, 43_200)
        wait = _int_param(params, "WaitTimeSeconds", 0, 20)
        deadline: float | None = None
        while True:
            with self.db.transaction():
                queue = self._queue(ctx, params["QueueUrl"])
                received = self._receive_now(queue, params, limit)
                if not received:
                    if wait is None:
                        wait = queue.int_attribute("ReceiveMessageWaitTimeSeconds")
                    now = self.clock.now()
                    next_visible = self.store.next_visible_at(queue, now)
            if received:
                return {"Messages": received}
            if deadline is None:
                deadline = time.monotonic() + wait
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return {}
            if next_visible is not None:
                remaining = min(remaining, max(next_visible - now, 0.001))
            await self._wait_for_arrival(queue.id, remaining)

    async def _wait_for_arrival(self, queue_id: int, timeout: float) -> None:
        """Sleep until a message arrives on the queue, the clock moves, or `timeout` real seconds pass."""
        arrival = self._arrivals.get(queue_id)
        if arrival is None:
            arrival = self._arrivals[queue_id] = asyncio.Event()
        waiters = [
            asyncio.ensure_future(arrival.wait()),
            asyncio.ensure_future(self.clock.wait_for_change(timeout)),
        ]
        try:
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    def _notify(self, queue_id: int) -> None:
        arrival = self._arrivals.pop(queue_id, None)
        if arrival is not None:
            arrival.set()

    def _receive_now(self, queue: Queue, params: dict[str, Any], limit: int) -> list[dict[str, Any]]:
        now = self.clock.now()
        self.store.expire_messages(queue, now)
        visibility = params.get("VisibilityTimeout")
        if visibility is None:
            visibility = queue.int_attribute("VisibilityTimeout")
        attempt_id = params.get("ReceiveRequestAttemptId") if queue.fifo else None
        if attempt_id is not None:
            if not _FIFO_TOKEN.match(attempt_id):
                raise invalid_parameter(
                    "ReceiveRequestAttemptId",
                    attempt_id,
                    "ReceiveRequestAttemptId can only include alphanumeric and punctuation characters. "
                    "1 to 128 in length.",
                )
            repeated = self._repeat_attempt(queue, attempt_id, now, visibility)
            if repeated is not None:
                return [self._render(queue, m, params) for m in repeated]
        chosen = self._take_fifo(queue, now, limit) if queue.fifo else self._take_standard(queue, now, limit)
        for message in chosen:
            self.store.mark_received(queue, message, os.urandom(12).hex(), now, now + visibility)
        if queue.fifo:
            for group in {message.group_id for message in chosen}:
                self.store.refresh_group(queue.id, group)
            if attempt_id and chosen:
                receipts = [[m.id, m.token] for m in chosen]
                self.store.remember_receive_attempt(queue, attempt_id, now + RECEIVE_ATTEMPT_WINDOW, receipts)
        return [self._render(queue, message, params) for message in chosen]

    def _repeat_attempt(
        self, queue: Queue, attempt_id: str, now: float, visibility: int
    ) -> list[Message] | None:
        """A retried FIFO receive gets the same messages and receipt handles while they are still in flight."""
        receipts = self.store.receive_attempt(queue, attempt_id, now)
        if not receipts:
            return None
        found = [self.store.message(queue.id, row_id) for row_id, _ in receipts]
        current = [
            m for m, (_, token) in zip(found, receipts, strict=True) if m is not None and m.token == token
        ]
        if not current:
            return None
        for message in current:
            self.store.set_visible_at(queue, message, now + visibility)
        return current

    def _take_standard(self, queue: Queue, now: float, limit: int) -> list[Message]:
        chosen: list[Message] = []
        while len(chosen) < limit:
            candidates = self.store.visible_messages(queue, now, limit - len(chosen))
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
        chosen: list[Message] = []
        for group in self.store.ready_groups(queue, now, limit):
            for message in self.store.group_messages(queue, group, limit - len(chosen) + 10):
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
        dlq = self._queue_by_arn(target[0])
        if dlq is None or not qa.allows_source(dlq.attributes, queue.arn):
            return False
        self._move_message(queue, message, dlq, now)
        return True

    def _move_message(self, source: Queue, message: Message, dlq: Queue, now: float) -> None:
        """To the dead-letter queue as the same message (id, body, attributes, sent time), marked with where it
        came from. A standard dead-letter queue keeps the original enqueue time (for retention); a FIFO one
        restarts it and replaces the deduplication id with the message id (so that two messages which shared
        one stay distinct), as AWS documents."""
        self._transfer(
            source,
            message,
            dlq,
            message_id=message.message_id,
            enqueued_at=now if dlq.fifo else message.enqueued_at,
            visible_at=now,
            dedup_id=message.message_id if dlq.fifo else message.dedup_id,
            dlq_source=source.arn,
        )

    def _redrive(self, source: Queue, message: Message, destination: Queue, now: float) -> None:
        """A move task's move: the message arrives as a new one, with a new MessageId and enqueued now (its
        retention period restarts), never received."""
        self._transfer(
            source,
            message,
            destination,
            message_id=new_request_id(),
            enqueued_at=now,
            visible_at=now,
            dedup_id=message.dedup_id,
            dlq_source=None,
        )

    def _transfer(self, source: Queue, message: Message, destination: Queue, **values: Any) -> None:
        self.store.delete_message(source, message)
        self.store.insert_message(
            destination,
            {
                "body": message.body,
                "md5_body": message.md5_body,
                "attributes": message.attributes,
                "md5_attributes": message.md5_attributes,
                "system_attributes": message.system_attributes,
                "sender_id": message.sender_id,
                "sent_at": message.sent_at,
                "group_id": message.group_id,
                **values,
            },
        )
        self.db.after_commit(lambda: self._notify(destination.id))

    def _render(self, queue: Queue, message: Message, params: dict[str, Any]) -> dict[str, Any]:
        rendered: dict[str, Any] = {
            "MessageId": message.message_id,
            "ReceiptHandle": self._receipt_handle(queue, message),
            "MD5OfBody": message.md5_body,
            "Body": message.body,
        }
        system = self._system_attributes(queue, message, params)
        if system:
            rendered["Attributes"] = system
        if message.attributes:
            wanted = msg.select_attributes(
                json.loads(message.attributes), params.get("MessageAttributeNames")
            )
            if wanted:
                decoded = msg.decode_attributes(wanted)
                rendered["MessageAttributes"] = decoded
                rendered["MD5OfMessageAttributes"] = msg.md5_of_attributes(decoded)
        return rendered

    def _system_attributes(self, queue: Queue, message: Message, params: dict[str, Any]) -> dict[str, str]:
        wanted = set(params.get("MessageSystemAttributeNames") or []) | set(
            params.get("AttributeNames") or []
        )
        if not wanted:
            return {}
        every = "All" in wanted
        values = {
            "SenderId": message.sender_id,
            "SentTimestamp": _millis(message.sent_at),
            "ApproximateReceiveCount": str(message.receive_count),
            "ApproximateFirstReceiveTimestamp": _millis(message.first_received_at or message.sent_at),
        }
        if queue.fifo:
            values.update(
                SequenceNumber=self._sequence_number(message.id),
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

    # -- receipt handles: delete and change visibility ---------------------------------------------

    @staticmethod
    def _receipt_handle(queue: Queue, message: Message) -> str:
        raw = f"{queue.id}:{message.id}:{message.token}:{message.message_id}"
        return base64.b64encode(raw.encode()).decode()

    def _parse_receipt(self, queue: Queue, handle: str) -> tuple[int, str]:
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

    def delete_message(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        queue = self._queue(ctx, params["QueueUrl"])
        self._delete(queue, params["ReceiptHandle"])
        return {}

    def _delete(self, queue: Queue, handle: str) -> dict[str, Any]:
        row_id, token = self._parse_receipt(queue, handle)
        message = self.store.message(queue.id, row_id)
        if message is None:
            return {}  # already deleted
        if message.token == token and (not queue.fifo or message.visible_at > self.clock.now()):
            self.store.delete_message(queue, message)
        elif queue.fifo:
            # A FIFO queue refuses a handle whose visibility timeout has run out (the message may be with
            # another consumer); a standard queue accepts an earlier receive's handle and deletes nothing.
            raise invalid_parameter("ReceiptHandle", handle, "The receipt handle has expired.")
        return {}

    def delete_message_batch(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        queue = self._queue(ctx, params["QueueUrl"])
        entries = self._check_batch(params["Entries"], "DeleteMessageBatchRequestEntry")
        return self._each_entry(entries, lambda entry: self._delete(queue, entry["ReceiptHandle"]))

    def change_message_visibility(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        queue = self._queue(ctx, params["QueueUrl"])
        self._change_visibility(queue, params)
        return {}

    def _change_visibility(self, queue: Queue, params: dict[str, Any]) -> dict[str, Any]:
        timeout = params["VisibilityTimeout"]
        if not 0 <= timeout <= MAX_VISIBILITY:
            raise invalid_parameter(
                "VisibilityTimeout", timeout, f"Must be between 0 and {MAX_VISIBILITY}, if provided."
            )
        row_id, token = self._parse_receipt(queue, params["ReceiptHandle"])
        message = self.store.message(queue.id, row_id)
        now = self.clock.now()
        if message is None or message.token != token:
            raise invalid_parameter(
                "ReceiptHandle",
                params["ReceiptHandle"],
                "Message does not exist or is not available for visibility timeout change.",
            )
        if message.visible_at <= now:
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
        self.store.set_visible_at(queue, message, now + timeout)
        if timeout == 0:
            self.db.after_commit(lambda: self._notify(queue.id))
        return {}

    def change_message_visibility_batch(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        queue = self._queue(ctx, params["QueueUrl"])
        entries = self._check_batch(params["Entries"], "ChangeMessageVisibilityBatchRequestEntry")
        return self._each_entry(entries, lambda entry: self._change_visibility(queue, entry))

    # -- dead-letter redrive: message move tasks ---------------------------------------------------

    def start_message_move_task(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        source_arn = params["SourceArn"]
        source = self._queue_by_arn(source_arn)
        if source is None:
            raise resource_not_found("SourceArn")
        if not self.store.is_dead_letter_queue(source_arn):
            raise ServiceError(
                "InvalidParameterValue", "Source queue must be configured as a Dead Letter Queue."
            )
        destination_arn = params.get("DestinationArn")
        if destination_arn:
            destination = self._queue_by_arn(destination_arn)
            if destination is None:
                raise resource_not_found("DestinationArn")
            if destination.fifo != source.fifo:
                raise invalid_parameter(
                    "DestinationArn",
                    destination_arn,
                    "The destination queue must be the same type of queue as the source queue.",
                )
        rate = _int_param(params, "MaxNumberOfMessagesPerSecond", 1, 500)
        if any(
            t["status"] == "RUNNING"
            for t in self.store.move_tasks(source.account, source.region, source_arn, 10)
        ):
            raise ServiceError(
                "UnsupportedOperation",
                "There is already a task running. Only one active task is "
                "allowed for a source queue arn at a given time.",
            )
        handle = base64.b64encode(json.dumps({"taskId": str(uuid.uuid4()), "sourceArn": source_arn}).encode())
        handle_text = handle.decode()
        # The task moves the messages available when it starts; in-flight and delayed ones stay behind.
        now = self.clock.now()
        self.store.expire_messages(source, now)
        in_flight, delayed = self.store.invisible_counts(source, now)
        self.store.create_move_task(
            handle_text,
            source.account,
            source.region,
            source_arn,
            destination_arn,
            rate,
            max(source.message_count - in_flight - delayed, 0),
            now,
        )
        self.db.after_commit(lambda: self.platform.spawn(self._run_move_task(handle_text)))
        return {"TaskHandle": handle_text}

    async def _run_move_task(self, handle: str) -> None:
        """Move the dead-letter queue's messages back, a batch at a time (at most the rate asked for)."""
        while True:
            with self.db.transaction():
                task = self.store.move_task(handle)
                if task is None or task["status"] != "RUNNING":
                    return
                moved, done = self._move_batch(task)
            if done:
                return
            await asyncio.sleep(1 if task["max_per_second"] else 0)

    def _move_batch(self, task: dict[str, Any]) -> tuple[int, bool]:
        source = self._queue_by_arn(task["source_arn"])
        if source is None:
            self.store.update_move_task(
                task["handle"], status="FAILED", failure="AWS.SimpleQueueService.NonExistentQueue"
            )
            return 0, True
        remaining = task["to_move"] - task["moved"]
        now = self.clock.now()
        moved = 0
        if remaining > 0:
            batch = min(remaining, task["max_per_second"] or MOVE_BATCH)
            for message in self._available_messages(source, now, batch):
                destination = self._queue_by_arn(task["destination_arn"] or message.dlq_source or "")
                if destination is None:
                    self.store.update_move_task(
                        task["handle"],
                        status="FAILED",
                        moved=moved,
                        failure="AWS.SimpleQueueService.NonExistentQueue",
                    )
                    return moved, True
                self._redrive(source, message, destination, now)
                moved += 1
        # Done when the count taken at the start has moved, or nothing else is available (messages still in
        # flight, or received meanwhile, stay in the dead-letter queue).
        done = moved == 0 or moved >= remaining
        self.store.update_move_task(task["handle"], moved=moved, status="COMPLETED" if done else None)
        return moved, done

    def _available_messages(self, queue: Queue, now: float, limit: int) -> list[Message]:
        """Up to `limit` messages a receive could take now, in the order it would take them (no message in
        flight or delayed; in a FIFO queue, nothing from a group whose oldest message is in flight)."""
        if not queue.fifo:
            return self.store.visible_messages(queue, now, limit)
        chosen: list[Message] = []
        for group in self.store.ready_groups(queue, now, limit):
            for message in self.store.group_messages(queue, group, limit - len(chosen)):
                if message.visible_at > now:
                    break
                chosen.append(message)
            if len(chosen) >= limit:
                break
        return chosen

    def list_message_move_tasks(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        source = self._queue_by_arn(params["SourceArn"])
        if source is None:
            raise resource_not_found("SourceArn")
        limit = _int_param(params, "MaxResults", 1, 10) or 1
        tasks = self.store.move_tasks(source.account, source.region, params["SourceArn"], limit)
        return {"Results": [self._render_task(task) for task in tasks]}

    @staticmethod
    def _render_task(task: dict[str, Any]) -> dict[str, Any]:
        rendered = {
            "Status": task["status"],
            "SourceArn": task["source_arn"],
            "ApproximateNumberOfMessagesMoved": task["moved"],
            "ApproximateNumberOfMessagesToMove": task["to_move"],
            "StartedTimestamp": int(task["started_at"] * 1000),
        }
        if task["status"] == "RUNNING":
            rendered["TaskHandle"] = task["handle"]
        for key, column in (
            ("DestinationArn", "destination_arn"),
            ("MaxNumberOfMessagesPerSecond", "max_per_second"),
            ("FailureReason", "failure"),
        ):
            if task[column] is not None:
                rendered[key] = task[column]
        return rendered

    def cancel_message_move_task(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        task = self.store.move_task(params["TaskHandle"])
        if task is None or task["account"] != ctx.account_id:
            raise resource_not_found("TaskHandle")
        if task["status"] != "RUNNING":
            raise ServiceError("UnsupportedOperation", "Only active tasks can be cancelled.")
        self.store.update_move_task(task["handle"], status="CANCELLING")
        self.store.update_move_task(task["handle"], status="CANCELLED")
        return {"ApproximateNumberOfMessagesMoved": task["moved"]}

    def reset(self) -> None:
        for queue_id in list(self._arrivals):
            self._notify(queue_id)
