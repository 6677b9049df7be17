"""`GET /_overcast/sqs/messages?queue=<url, ARN or name>`: the messages of a queue as they are, visible or
not, without receiving them (a receive would hide them and count a receive: AWS offers no way to look
without touching). The console's peek; tools may use it too.

Query: `queue` (required), `account` and `region` (for a bare name; default: the default account and
region), `after` (the `next` of the previous page), `limit` (default 50, at most 1000).
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from overcast.http import HttpRequest, HttpResponse, json_response
from overcast.services.kit.arns import parse_arn
from overcast.services.sqs import messages as msg
from overcast.services.sqs.store import Message, Queue

PEEK_PATH = "/_overcast/sqs/messages"


def peek(provider: Any, request: HttpRequest) -> HttpResponse:
    query = {name: values[-1] for name, values in parse_qs(request.query).items()}
    config = provider.platform.config
    named = query.get("queue", "")
    if not named:
        return json_response({"error": "expected ?queue=<queue URL, ARN or name>"}, 400)
    try:
        after, limit = int(query.get("after", 0)), max(1, min(int(query.get("limit", 50)), 1000))
    except ValueError:
        return json_response({"error": "after and limit must be integers"}, 400)
    account, region, name = _address(named, query.get("account") or config.default_account)
    queue = provider.store.queue(account, query.get("region") or region or config.default_region, name)
    if queue is None:
        return json_response({"error": f"no queue {named!r}"}, 404)
    now = provider.clock.now()
    retained_since = now - queue.int_attribute("MessageRetentionPeriod")
    with provider.db.transaction():
        found = provider.store.peek_messages(queue, after, limit, retained_since)
    return json_response(
        {
            "queue": queue.arn,
            "messages": [_message(queue, message, now) for message in found],
            "next": found[-1].id if len(found) == limit else None,
        }
    )


def _address(named: str, account: str) -> tuple[str, str | None, str]:
    """(account, region or None, name) of a queue URL, ARN or bare name."""
    arn = parse_arn(named)
    if arn is not None and arn.service == "sqs":
        return arn.account, arn.region, arn.resource
    if "://" in named:
        parts = [part for part in urlsplit(named).path.split("/") if part]
        host = urlsplit(named).hostname or ""
        region = host.split(".")[1] if host.startswith("sqs.") and host.count(".") >= 2 else None
        if len(parts) >= 2:
            return parts[-2], region, parts[-1]
    return account, None, named


def _message(queue: Queue, message: Message, now: float) -> dict[str, Any]:
    if message.visible_at <= now:
        state = "visible"
    elif message.receive_count > 0:
        state = "in flight"
    else:
        state = "delayed"
    rendered: dict[str, Any] = {
        "MessageId": message.message_id,
        "Body": message.body,
        "MD5OfBody": message.md5_body,
        "State": state,
        "VisibleAt": _iso(message.visible_at),
        "SentAt": _iso(message.sent_at),
        "ReceiveCount": message.receive_count,
        "SenderId": message.sender_id,
        "Position": message.id,
    }
    if message.group_id:
        rendered["MessageGroupId"] = message.group_id
    if message.dedup_id and queue.fifo:
        rendered["MessageDeduplicationId"] = message.dedup_id
    if message.dlq_source:
        rendered["DeadLetterQueueSourceArn"] = message.dlq_source
    if message.attributes:
        rendered["MessageAttributes"] = {
            name: {**value, "BinaryValue": base64.b64encode(value["BinaryValue"]).decode()}
            if "BinaryValue" in value
            else value
            for name, value in msg.decode_attributes(json.loads(message.attributes)).items()
        }
    return rendered


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")
