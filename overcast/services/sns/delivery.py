"""What SNS delivers: the JSON envelope subscribers receive, and the HTTP POST that carries it."""

from __future__ import annotations

import asyncio
import base64
import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


@dataclass
class Published:
    """One message accepted by a topic, ready to fan out to its subscriptions."""

    message_id: str
    topic_arn: str
    account: str
    region: str
    fifo: bool
    messages: dict[str, str]  # protocol -> text ('default' for every protocol without its own)
    subject: str | None
    attributes: dict[str, dict[str, Any]]
    timestamp: float
    base_url: str
    group_id: str | None = None
    dedup_id: str | None = None
    sequence_number: str | None = None
    signature_version: str = "1"  # the topic's SignatureVersion when the message was published
    trace_header: str | None = None  # the publish request's X-Amzn-Trace-Id (SQS's AWSTraceHeader)
    subscriptions: list = field(default_factory=list)
    signatures: dict = field(default_factory=dict)  # shared by its subscribers: see Signer.sign

    def message_for(self, protocol: str) -> str:
        return self.messages.get(protocol, self.messages["default"])


def iso_timestamp(epoch: float) -> str:
    return (
        datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(epoch * 1000) % 1000:03d}Z"
    )


def envelope_attributes(attributes: dict[str, dict[str, Any]]) -> dict[str, dict[str, str]]:
    """Message attributes as the envelope carries them: {"Type": ..., "Value": ...}, binary as base64."""
    rendered = {}
    for name, attribute in attributes.items():
        data_type = attribute["DataType"]
        if data_type.startswith("Binary"):
            value = base64.b64encode(bytes(attribute["BinaryValue"])).decode()
        else:
            value = attribute["StringValue"]
        rendered[name] = {"Type": data_type, "Value": value}
    return rendered


def notification(published: Published, protocol: str, subscription_arn: str, signer) -> dict[str, Any]:
    """The Notification document an enveloped (non-raw) subscriber receives."""
    document: dict[str, Any] = {
        "Type": "Notification",
        "MessageId": published.message_id,
        "TopicArn": published.topic_arn,
    }
    if published.subject is not None:
        document["Subject"] = published.subject
    document["Message"] = published.message_for(protocol)
    document["Timestamp"] = iso_timestamp(published.timestamp)
    if published.sequence_number is not None:
        document["SequenceNumber"] = published.sequence_number
    if not published.fifo:  # FIFO topics' notifications are not signed
        signer.sign(document, published.base_url, published.signature_version, published.signatures)
    document["UnsubscribeURL"] = (
        f"{published.base_url}/?Action=Unsubscribe&SubscriptionArn={subscription_arn}"
    )
    if published.attributes:
        document["MessageAttributes"] = envelope_attributes(published.attributes)
    return document


def confirmation(
    message_id: str, topic_arn: str, token: str, timestamp: float, base_url: str, signer, version: str
) -> dict:
    """The SubscriptionConfirmation document posted to a new HTTP/HTTPS subscriber."""
    subscribe_url = f"{base_url}/?Action=ConfirmSubscription&Version=2010-03-31&TopicArn={quote(topic_arn, safe='')}&Token={token}"
    document = {
        "Type": "SubscriptionConfirmation",
        "MessageId": message_id,
        "Token": token,
        "TopicArn": topic_arn,
        "Message": f"You have chosen to subscribe to the topic {topic_arn}.\nTo confirm the subscription, "
        "visit the SubscribeURL included in this message.",
        "SubscribeURL": subscribe_url,
        "Timestamp": iso_timestamp(timestamp),
    }
    signer.sign(document, base_url, version)
    return document


def is_local(endpoint: str) -> bool:
    return (urlsplit(endpoint).hostname or "") in LOCAL_HOSTS


async def post(endpoint: str, body: str, headers: dict[str, str], timeout: float = 5.0) -> bool:
    """POST to an HTTP(S) endpoint from a worker thread; True on a 2xx answer."""

    def send() -> bool:
        request = urllib.request.Request(endpoint, data=body.encode(), headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return 200 <= response.status < 300
        except (urllib.error.URLError, OSError, ValueError):
            return False

    return await asyncio.to_thread(send)


def http_headers(kind: str, message_id: str, topic_arn: str, subscription_arn: str | None, raw: bool) -> dict:
    headers = {
        "Content-Type": "text/plain; charset=UTF-8",
        "x-amz-sns-message-type": kind,
        "x-amz-sns-message-id": message_id,
        "x-amz-sns-topic-arn": topic_arn,
        "User-Agent": "Amazon Simple Notification Service Agent",
    }
    if subscription_arn:
        headers["x-amz-sns-subscription-arn"] = subscription_arn
    if raw:
        headers["x-amz-sns-rawdelivery"] = "true"
    return headers


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False)
