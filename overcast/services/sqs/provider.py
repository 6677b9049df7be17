"""SQS: queues, messages, long polling, FIFO ordering and deduplication, dead-letter queues, move tasks.

The operations live in families (queues.py, permissions.py, sending.py, receiving.py, move_tasks.py); what they
share is here: finding a queue by URL or ARN, waking long polls, moving a message between queues.
"""

from __future__ import annotations

import asyncio
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.platform import new_request_id
from overcast.services.base import ServiceProvider
from overcast.services.kit.arns import parse_arn
from overcast.services.kit.metrics import MetricCounters, MetricPoint
from overcast.services.sqs import workers
from overcast.services.sqs.checks import no_such_queue
from overcast.services.sqs.kms_keys import QueueKeys
from overcast.services.sqs.move_tasks import MoveTaskOperations
from overcast.services.sqs.permissions import PermissionOperations
from overcast.services.sqs.queues import QueueOperations
from overcast.services.sqs.receiving import ReceiveOperations
from overcast.services.sqs.sending import SendOperations
from overcast.services.sqs.store import Message, Queue, SqsStore

ACTIVE_FOR = 6 * 3600  # AWS publishes a queue's metrics while it has been used within six hours
COUNTERS = (
    "NumberOfMessagesSent",
    "NumberOfMessagesReceived",
    "NumberOfMessagesDeleted",
    "NumberOfEmptyReceives",
)


class SqsProvider(ServiceProvider):
    service_name = "sqs"
    families = (QueueOperations, PermissionOperations, SendOperations, ReceiveOperations, MoveTaskOperations)
    # pure reads of the queue rows (their URLs as the request's host and scheme show them): state/answers.py
    remembered = frozenset({"ListQueues", "GetQueueUrl"})

    # Batch operations are authorized as the single operation they repeat.
    iam_actions = {
        "SendMessageBatch": "SendMessage",
        "DeleteMessageBatch": "DeleteMessage",
        "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
    }

    def __init__(self, platform) -> None:
        super().__init__(platform)
        self.store = SqsStore(self.db)
        self._arrivals: dict[int, asyncio.Event] = {}  # queue id -> event set when a message may be ready
        self.metrics = MetricCounters()  # AWS/SQS counts per queue, collected by CloudWatch
        self.keys = QueueKeys(self)  # SSE-KMS: the KMS requests senders and receivers make through SQS

    async def start(self) -> None:
        for handle in self.store.running_move_tasks():
            self.platform.spawn(workers.run_move_task(self, handle))

    def reset(self) -> None:
        self.keys.forget()
        self.store.forget()
        self.metrics = MetricCounters()  # the counts of queues that are gone
        for queue_id in list(self._arrivals):
            self.notify(queue_id)

    # -- hooks -------------------------------------------------------------------------------------

    def published_metrics(self, minutes: list[float]) -> list[MetricPoint]:
        """AWS/SQS per queue (dimension QueueName) for each minute that ended, while the queue is active (used
        within six hours): its depth as it is now, and what was sent, received and deleted since the last
        collection in the latest minute."""
        now = self.clock.now()
        points: list[MetricPoint] = []
        for (account, region, name), counts in self.metrics.drain(now, ACTIVE_FOR).items():
            queue = self.store.queue(account, region, name)
            if queue is None:
                continue
            visible, in_flight, delayed = self.store.depth(queue, now)
            oldest = self.store.oldest_sent_at(queue)
            gauges = {
                "ApproximateNumberOfMessagesVisible": (visible, "Count"),
                "ApproximateNumberOfMessagesNotVisible": (in_flight, "Count"),
                "ApproximateNumberOfMessagesDelayed": (delayed, "Count"),
                "ApproximateAgeOfOldestMessage": (max(now - oldest, 0) if oldest else 0, "Seconds"),
            }
            dimensions = (("QueueName", name),)
            for index, mark in enumerate(minutes):
                values = dict(gauges)
                latest = index == len(minutes) - 1
                for counter in COUNTERS:
                    values[counter] = (counts.get(counter, 0.0) if latest else 0.0, "Count")
                for metric, (value, unit) in values.items():
                    points.append(
                        MetricPoint(
                            account, region, "AWS/SQS", metric, dimensions, float(value), unit, mark - 60
                        )
                    )
        return points

    async def internal_endpoint(self, request, path: str):
        """/_overcast/sqs/messages: a queue's messages without receiving them (peek.py)."""
        from overcast.services.sqs.peek import PEEK_PATH, peek

        if path == PEEK_PATH and request.method in ("GET", "HEAD"):
            return peek(self, request)
        return None

    def tagging_request(self, arn: str, add=None, remove=None) -> tuple[str, dict[str, Any]] | None:
        """TagQueue / UntagQueue (the Resource Groups Tagging API tags queues through them)."""
        from overcast.services.kit.arns import parse_arn
        from overcast.services.kit.delivery import queue_url

        parsed = parse_arn(arn)
        if parsed is None or parsed.service != "sqs":
            return None
        if add is not None:
            return "TagQueue", {"QueueUrl": queue_url(parsed), "Tags": dict(add)}
        return "UntagQueue", {"QueueUrl": queue_url(parsed), "TagKeys": list(remove or ())}

    def resource_arn(self, ctx: RequestContext, params: dict[str, Any]) -> str | None:
        """The resource a request acts on, for authorization."""
        url = params.get("QueueUrl")
        if url:
            account, name = _parsed(_arn_parts, url)
            return ctx.arn("sqs", name, account=account)
        if params.get("QueueName"):  # CreateQueue, GetQueueUrl (of another account's queue with its owner id)
            return ctx.arn("sqs", params["QueueName"], account=params.get("QueueOwnerAWSAccountId") or None)
        return None

    def authorization_resource(self, ctx: RequestContext, arn: str) -> Any:
        """The policy engine's view of a queue (owner, queue policy, tags); None when there is no such queue."""
        from overcast.policy.enforcement import ResourcePolicy

        queue = self.queue_by_arn(arn)
        if queue is None:
            return None
        policy = queue.attributes.get("Policy") or None
        return ResourcePolicy(queue.account, policy, self.tags.lazy(queue.arn))  # type: ignore[arg-type]

    # -- queue addressing --------------------------------------------------------------------------

    def queue_url(self, ctx: RequestContext, queue: Queue) -> str:
        return self.url_for(ctx, queue.account, queue.region, queue.name)

    def url_for(self, ctx: RequestContext, account: str, region: str, name: str) -> str:
        """`<scheme>://sqs.<region>.<host>/<account>/<name>` as AWS's, so the same name in two regions has two
        URLs, where the host is a domain whose subdomains resolve (localhost.localstack.cloud). Other hosts
        (127.0.0.1, localhost: `sqs.<region>.localhost` does not resolve everywhere) are kept as the client
        used them, since some SDKs send their requests to the queue URL."""
        if (
            ctx.request is None
        ):  # a call from another service (CloudFormation, the console): this server's URL
            return f"{self.platform.config.endpoint}/{account}/{name}"
        host = ctx.request.host
        if host.split(":", 1)[0] == "localhost.localstack.cloud":
            host = f"sqs.{region}.{host}"
        return f"{ctx.request.scheme}://{host}/{account}/{name}"

    @staticmethod
    def check_service_endpoint(ctx: RequestContext) -> None:
        """A legacy query request sent to a queue's URL may only act on that queue: actions that take no
        QueueUrl (CreateQueue, ListQueues, ...) are AWS's InvalidAction there."""
        request = ctx.request
        if request is None or not request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"
        ):
            return
        parts = [part for part in request.path.split("/") if part]
        if len(parts) == 2 and parts[0].isdigit() and len(parts[0]) == 12:
            raise ServiceError(
                "InvalidAction", f"The action {ctx.operation} is not valid for this endpoint.", 400
            )

    @staticmethod
    def _url_parts(ctx: RequestContext, url: str) -> tuple[str, str]:
        """(account, name) of a queue URL in any of its forms: http://host/account/name, or a bare name."""
        parts = _parsed(_queue_parts, url)
        if parts is None:
            raise no_such_queue()
        account, name = parts
        return account or ctx.account_id, name

    def queue_for(self, ctx: RequestContext, url: str) -> Queue:
        """The queue a QueueUrl names (QueueDoesNotExist if none)."""
        account, name = self._url_parts(ctx, url)
        queue = self.store.queue(account, ctx.region, name)
        if queue is None:
            raise no_such_queue()
        return queue

    def queue_by_arn(self, arn: str) -> Queue | None:
        parsed = parse_arn(arn)
        if parsed is None or parsed.service != "sqs":
            return None
        return self.store.queue(parsed.account, parsed.region, parsed.resource)

    # -- long polls --------------------------------------------------------------------------------

    async def wait_for_arrival(self, queue_id: int, timeout: float) -> None:
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

    def notify(self, queue_id: int) -> None:
        """Wake the long polls waiting on a queue (call after commit)."""
        arrival = self._arrivals.pop(queue_id, None)
        if arrival is not None:
            arrival.set()

    # -- batches -----------------------------------------------------------------------------------

    def each_entry(self, entries: list[dict[str, Any]], action) -> dict[str, Any]:
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
        return {"Successful": successful, "Failed": failed} if failed else {"Successful": successful}

    # -- moving messages between queues ------------------------------------------------------------

    def dead_letter(self, source: Queue, message: Message, dlq: Queue, now: float) -> None:
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
            receive_count=message.receive_count,  # ApproximateReceiveCount goes on counting in the DLQ
            first_received_at=message.first_received_at,
        )

    def redrive(self, source: Queue, message: Message, destination: Queue, now: float) -> None:
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
        self.db.after_commit(lambda: self.notify(destination.id))


_CACHED_URL = 256  # longer texts are parsed each time: the caches below must stay small


def _parsed(parse: Any, url: str) -> Any:
    """`parse(url)`, from its cache for a URL of a queue URL's length: every request names a queue."""
    return parse(url) if len(url) <= _CACHED_URL else parse.__wrapped__(url)


@lru_cache(maxsize=512)
def _arn_parts(url: str) -> tuple[str | None, str]:
    """(account, or None for the caller's, name) of the queue a QueueUrl names, for its ARN."""
    parts = url.split("?", 1)[0].rstrip("/").rsplit("/", 2)
    if len(parts) == 3 and parts[1].isdigit():
        return parts[1], parts[2]
    return None, parts[-1]


@lru_cache(maxsize=512)
def _queue_parts(url: str) -> tuple[str | None, str] | None:
    """(account, or None for the caller's, name) of a queue URL: http://host/account/name, or a bare name;
    None if it names no queue."""
    path = urlsplit(url).path if "://" in url else url
    parts = [part for part in path.split("/") if part]
    if len(parts) >= 2 and parts[-2].isdigit() and len(parts[-2]) == 12:
        return parts[-2], parts[-1]
    if len(parts) == 1:
        return None, parts[0]
    return None
