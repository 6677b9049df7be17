"""Delivery to a target by its ARN: what S3 notifications, SNS subscriptions, Lambda destinations, Logs
subscriptions, EventBridge rules, Pipes, alarms and schedules all do.

    sender = Sender("events.amazonaws.com", account, source_arn=rule_arn)
    await deliver(platform, "arn:aws:sqs:us-east-1:000000000000:q", body, sender, message_group_id="g")

The call goes through `Platform.call` as the sending service's principal (`<service>.amazonaws.com`), with
`aws:SourceArn` and `aws:SourceAccount` set, so the target's resource policy (queue policy, topic policy,
function policy) decides exactly as in AWS. A target kind a service does not support is `UnsupportedTarget`.
Retrying is the caller's (each AWS service retries on its own schedule); `retry_delays` gives the usual
exponential one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from overcast.errors import ServiceError
from overcast.identity import service_principal
from overcast.services.kit import roles
from overcast.services.kit.arns import Arn, parse_arn

if TYPE_CHECKING:
    from overcast.platform import Platform


@dataclass(frozen=True)
class Sender:
    """The AWS service delivering, on behalf of an account, and the resource it delivers from."""

    service_host: str  # "s3.amazonaws.com", "events.amazonaws.com"
    account: str
    source_arn: str | None = None
    source_account: str | None = None  # defaults to `account`

    def condition_keys(self) -> dict[str, str]:
        keys = {"aws:SourceAccount": self.source_account or self.account}
        if self.source_arn:
            keys["aws:SourceArn"] = self.source_arn
        return keys


class UnsupportedTarget(ServiceError):
    def __init__(self, arn: str) -> None:
        super().__init__("InvalidArgument", f"Overcast cannot deliver to {arn}", 400)


def queue_url(arn: Arn) -> str:
    """The URL of the queue an SQS ARN names (SQS finds the queue by its account and name)."""
    return f"https://sqs.{arn.region}.amazonaws.com/{arn.account}/{arn.resource}"


def _text(message: str | bytes) -> str:
    return message.decode("utf-8", "replace") if isinstance(message, bytes) else message


def _bytes(message: str | bytes) -> bytes:
    return message.encode() if isinstance(message, str) else message


# -- one request per target kind: (botocore service, operation, params) -----------------------------------


def _sqs(arn: Arn, message: str | bytes, options: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    params: dict[str, Any] = {"QueueUrl": queue_url(arn), "MessageBody": _text(message)}
    if options.get("attributes"):
        params["MessageAttributes"] = options["attributes"]
    for option, member in (
        ("message_group_id", "MessageGroupId"),
        ("deduplication_id", "MessageDeduplicationId"),
        ("delay_seconds", "DelaySeconds"),
    ):
        if options.get(option) is not None:
            params[member] = options[option]
    if options.get("trace_header"):  # X-Amzn-Trace-Id of the request that caused this one
        params["MessageSystemAttributes"] = {
            "AWSTraceHeader": {"DataType": "String", "StringValue": options["trace_header"]}
        }
    return "sqs", "SendMessage", params


def _sns(arn: Arn, message: str | bytes, options: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    params: dict[str, Any] = {"TopicArn": str(arn), "Message": _text(message)}
    if options.get("subject"):
        params["Subject"] = options["subject"]
    if options.get("attributes"):
        params["MessageAttributes"] = options["attributes"]
    if options.get("message_group_id"):
        params["MessageGroupId"] = options["message_group_id"]
    if options.get("deduplication_id"):
        params["MessageDeduplicationId"] = options["deduplication_id"]
    return "sns", "Publish", params


def _lambda(arn: Arn, message: str | bytes, options: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    kind = options.get("invocation_type", "Event")
    return "lambda", "Invoke", {"FunctionName": str(arn), "InvocationType": kind, "Payload": _bytes(message)}


def _kinesis(arn: Arn, message: str | bytes, options: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    key = options.get("partition_key") or "0"
    return "kinesis", "PutRecord", {"StreamARN": str(arn), "Data": _bytes(message), "PartitionKey": key}


def _firehose(arn: Arn, message: str | bytes, options: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    name = arn.resource_id
    return "firehose", "PutRecord", {"DeliveryStreamName": name, "Record": {"Data": _bytes(message)}}


def _events(arn: Arn, message: str | bytes, options: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """`message` is the event (a JSON object with source, detail-type and detail), put on the bus."""
    event = json.loads(_text(message))
    entry = {
        "EventBusName": str(arn),
        "Source": event.get("source", "overcast"),
        "DetailType": event.get("detail-type", "Event"),
        "Detail": json.dumps(event.get("detail", {})),
    }
    if event.get("resources"):
        entry["Resources"] = event["resources"]
    return "events", "PutEvents", {"Entries": [entry]}


def _states(arn: Arn, message: str | bytes, options: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    params = {"stateMachineArn": str(arn), "input": _text(message)}
    if options.get("name"):
        params["name"] = options["name"]
    return "stepfunctions", "StartExecution", params


def _logs(arn: Arn, message: str | bytes, options: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    group = arn.resource_id.removesuffix(":*")
    event = {"timestamp": int(options.get("timestamp_ms") or 0), "message": _text(message)}
    params = {"logGroupName": group, "logStreamName": options["log_stream"], "logEvents": [event]}
    return "logs", "PutLogEvents", params


TARGETS: dict[str, Callable[[Arn, str | bytes, dict[str, Any]], tuple[str, str, dict[str, Any]]]] = {
    "sqs": _sqs,
    "sns": _sns,
    "lambda": _lambda,
    "kinesis": _kinesis,
    "firehose": _firehose,
    "events": _events,
    "states": _states,
    "logs": _logs,
}


def request_for(target: str, message: str | bytes, **options: Any) -> tuple[str, str, dict[str, Any]]:
    """(botocore service, operation, params) of the call that delivers `message` to `target`."""
    arn = parse_arn(target)
    if arn is None or arn.service not in TARGETS:
        raise UnsupportedTarget(target)
    return TARGETS[arn.service](arn, message, options)


async def deliver(
    platform: Platform,
    target: str,
    message: str | bytes,
    sender: Sender,
    role_arn: str | None = None,
    **options: Any,
) -> dict[str, Any]:
    """Deliver `message` to the resource `target` names, as `sender`; the target's response. Raises the
    target's ServiceError (a missing queue, a policy that refuses the sender) or UnsupportedTarget.

    Options, where the target kind has them: attributes (SQS/SNS message attributes), message_group_id,
    deduplication_id, delay_seconds, trace_header (SQS's AWSTraceHeader), subject (SNS), invocation_type (Lambda: Event by default),
    partition_key (Kinesis), name (Step Functions execution), log_stream and timestamp_ms (Logs).

    `role_arn`: the role the user gave the sender for this target (an EventBridge target's RoleArn): the
    delivery is made as that role's session (services/kit/roles.py), so the role's policies decide, as for
    targets AWS reaches that way (Kinesis, Step Functions, ...); without it, as the service principal."""
    service, operation, params = request_for(target, message, **options)
    arn = parse_arn(target)
    assert arn is not None
    if role_arn:
        principal = await roles.session(platform, role_arn, sender.service_host, sender.account, arn.region)
    else:
        principal = service_principal(sender.service_host, sender.account)
    return await platform.call(
        service,
        operation,
        params,
        principal=principal,
        account_id=arn.account or sender.account,
        region=arn.region,
        condition_keys=sender.condition_keys(),
    )


def retry_delays(
    attempts: int, first: float = 1.0, factor: float = 2.0, ceiling: float = 300.0
) -> Iterator[float]:
    """Seconds to wait before each retry of an exponential backoff (1, 2, 4, ... capped at `ceiling`)."""
    delay = first
    for _ in range(attempts):
        yield min(delay, ceiling)
        delay *= factor
