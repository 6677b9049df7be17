"""SQS queue operations: create, find, list, attributes, purge, delete, dead-letter sources, tags."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.kit.paging import decode_token, page_of
from overcast.services.sqs import attributes as qa
from overcast.services.sqs.checks import (
    TAG_RULES,
    check_max_results,
    invalid_parameter,
    invalid_token,
    no_such_queue,
)
from overcast.services.sqs.store import Queue

if TYPE_CHECKING:
    from overcast.services.sqs.provider import SqsProvider

_QUEUE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_FIFO_QUEUE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,75}\.fifo$")
PURGE_INTERVAL = 60.0
RECREATE_DELAY = 60.0
MAX_LISTED = 1000


class QueueOperations(Operations):
    service: SqsProvider

    def create_queue(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service, store = self.service, self.service.store
        service.check_service_endpoint(ctx)
        name = params["QueueName"]
        given = params.get("Attributes") or {}
        fifo = name.endswith(".fifo")
        wants_fifo = str(given.get("FifoQueue", "")).lower() == "true"
        if (fifo or wants_fifo) and not (wants_fifo and _FIFO_QUEUE_NAME.match(name)):
            raise ServiceError(
                "InvalidParameterValue",
                "The name of a FIFO queue can only include alphanumeric "
                "characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in "
                "length.",
            )
        if not fifo and not _QUEUE_NAME.match(name):
            raise ServiceError(
                "InvalidParameterValue",
                "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length",
            )
        requested = qa.normalise(given, fifo=fifo, creating=True)
        now = self.clock.now()
        existing = store.queue(ctx.account_id, ctx.region, name)
        if existing is not None:
            for key, value in requested.items():
                if existing.attributes.get(key, "") != value:
                    raise ServiceError(
                        "QueueNameExists",
                        f"A queue already exists with the same name and a different value for attribute {key}",
                    )
            return {"QueueUrl": service.queue_url(ctx, existing)}
        deleted = store.deleted_at(ctx.account_id, ctx.region, name)
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
        _drop_empty(values)
        qa.check_combination(values)
        dlq_arn = self._check_redrive(values, fifo)
        tags = params.get("tags") or {}
        TAG_RULES.check(tags)
        store.create_queue(ctx.account_id, ctx.region, name, fifo, values, dlq_arn, now)
        queue = store.queue(ctx.account_id, ctx.region, name)
        assert queue is not None
        service.tags.add(queue.arn, tags, TAG_RULES, account=queue.account, region=queue.region)
        return {"QueueUrl": service.queue_url(ctx, queue)}

    def _check_redrive(self, values: dict[str, str], fifo: bool) -> str | None:
        target = qa.redrive_target(values)
        if target is None:
            return None
        arn, _ = target
        dlq = self.service.queue_by_arn(arn)
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
        self.service.check_service_endpoint(ctx)
        account = params.get("QueueOwnerAWSAccountId") or ctx.account_id
        queue = self.service.store.queue(account, ctx.region, params["QueueName"])
        if queue is None:
            raise no_such_queue()
        return {"QueueUrl": self.service.queue_url(ctx, queue)}

    def delete_queue(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service = self.service
        queue = service.queue_for(ctx, params["QueueUrl"])
        service.store.delete_queue(queue, self.clock.now())
        service.tags.forget(queue.arn)
        self.db.after_commit(lambda: service.notify(queue.id))
        return {}

    def list_queues(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.service.check_service_endpoint(ctx)
        prefix = params.get("QueueNamePrefix") or ""
        limit = check_max_results(params)
        after = decode_token(params.get("NextToken") or None, invalid_token, "ListQueues") or ""
        size = limit or MAX_LISTED
        names = self.service.store.queue_names(ctx.account_id, ctx.region, prefix, after, size + 1)
        page, token = page_of(names, size, lambda name: name, "ListQueues")
        result: dict[str, Any] = {}
        if page:
            url_for = self.service.url_for
            result["QueueUrls"] = [url_for(ctx, ctx.account_id, ctx.region, name) for name in page]
        if limit and token:
            result["NextToken"] = token
        return result

    def get_queue_attributes(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        queue = self.service.queue_for(ctx, params["QueueUrl"])
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
        store = self.service.store
        now = self.clock.now()
        store.expire_messages(queue, now)
        visible, in_flight, delayed = store.depth(queue, now)
        values = dict(queue.attributes)
        values.update(
            QueueArn=queue.arn,
            ApproximateNumberOfMessages=str(visible),
            ApproximateNumberOfMessagesNotVisible=str(in_flight),
            ApproximateNumberOfMessagesDelayed=str(delayed),
            CreatedTimestamp=str(int(queue.created_at)),
            LastModifiedTimestamp=str(int(queue.modified_at)),
        )
        return values

    def set_queue_attributes(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        queue = self.service.queue_for(ctx, params["QueueUrl"])
        changes = qa.normalise(params.get("Attributes") or {}, fifo=queue.fifo, creating=False)
        values = dict(queue.attributes)
        values.update(changes)
        if "KmsMasterKeyId" in changes and changes["KmsMasterKeyId"]:
            values["SqsManagedSseEnabled"] = "false"
            values.setdefault("KmsDataKeyReusePeriodSeconds", "300")
        if changes.get("SqsManagedSseEnabled") == "true":
            values.pop("KmsMasterKeyId", None)
            values.pop("KmsDataKeyReusePeriodSeconds", None)
        _drop_empty(values)
        qa.check_combination(values)
        dlq_arn = self._check_redrive(values, queue.fifo)
        self.service.store.update_attributes(queue, values, dlq_arn, self.clock.now())
        return {}

    def purge_queue(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        store = self.service.store
        queue = self.service.queue_for(ctx, params["QueueUrl"])
        now = self.clock.now()
        if queue.last_purge is not None and now - queue.last_purge < PURGE_INTERVAL:
            raise ServiceError(
                "PurgeQueueInProgress",
                f"Only one PurgeQueue operation on {queue.name} is allowed every 60 seconds.",
                status=403,
            )
        store.purge_messages(queue)
        store.set_last_purge(queue, now)
        return {}

    def list_dead_letter_source_queues(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        scope = "ListDeadLetterSourceQueues"
        queue = self.service.queue_for(ctx, params["QueueUrl"])
        limit = check_max_results(params)
        after = decode_token(params.get("NextToken") or None, invalid_token, scope) or ""
        size = limit or MAX_LISTED
        rows = self.service.store.dead_letter_sources(queue.arn, after, size + 1)
        page, token = page_of(rows, size, lambda row: row[2], scope)
        url_for = self.service.url_for
        result: dict[str, Any] = {"queueUrls": [url_for(ctx, a, r, n) for a, r, n in page]}
        if limit and token:
            result["NextToken"] = token
        return result

    # -- tags --------------------------------------------------------------------------------------

    def tag_queue(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        queue = self.service.queue_for(ctx, params["QueueUrl"])
        self.service.tags.add(
            queue.arn, params["Tags"], TAG_RULES, account=queue.account, region=queue.region
        )
        return {}

    def untag_queue(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        queue = self.service.queue_for(ctx, params["QueueUrl"])
        self.service.tags.remove(queue.arn, params["TagKeys"])
        return {}

    def list_queue_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        queue = self.service.queue_for(ctx, params["QueueUrl"])
        tags = self.service.tags.get(queue.arn)
        return {"Tags": tags} if tags else {}


def _drop_empty(values: dict[str, str]) -> None:
    """Empty values remove their attribute; an empty KmsMasterKeyId removes KMS encryption altogether."""
    for key in qa.JSON_ATTRIBUTES:
        if values.get(key) == "":
            del values[key]
    if values.get("KmsMasterKeyId") == "":
        del values["KmsMasterKeyId"]
        values.pop("KmsDataKeyReusePeriodSeconds", None)
