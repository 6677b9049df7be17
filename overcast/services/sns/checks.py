"""SNS's errors and request checks shared by its operation families (pure: no context, no database):
topic and subscription attributes, message attributes, batches, message structure, phone numbers, tags."""

from __future__ import annotations

import json
import re
from typing import Any

from overcast.errors import ServiceError
from overcast.services.kit.arns import parse_arn
from overcast.services.kit.tags import TagRules
from overcast.services.sns import filters, retry
from overcast.services.sns.signing import SIGNATURE_VERSIONS

_FEEDBACK_ATTRIBUTE = re.compile(
    r"^(Application|HTTP|Lambda|SQS|Firehose)(SuccessFeedbackRoleArn|SuccessFeedbackSampleRate|FailureFeedbackRoleArn)$"
)
_BATCH_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z0-9_\-.]{1,256}")
PHONE = re.compile(r"^\+?[0-9]{5,15}$")
FIFO_TOKEN = re.compile(r"^[!-~]{1,128}$")
PROTOCOLS = ("http", "https", "email", "email-json", "sms", "sqs", "application", "lambda", "firehose")
NEEDS_CONFIRMATION = ("http", "https", "email", "email-json")
MAX_MESSAGE_BYTES = 262_144
MAX_BATCH = 10
TOPIC_ATTRIBUTES = (
    "DeliveryPolicy",
    "DisplayName",
    "Policy",
    "TracingConfig",
    "KmsMasterKeyId",
    "SignatureVersion",
    "ContentBasedDeduplication",
    "ArchivePolicy",
    "FifoThroughputScope",
    "FifoTopic",
)
SUBSCRIPTION_ATTRIBUTES = (
    "DeliveryPolicy",
    "FilterPolicy",
    "FilterPolicyScope",
    "RawMessageDelivery",
    "RedrivePolicy",
    "SubscriptionRoleArn",
    "ReplayPolicy",
)


def invalid(reason: str) -> ServiceError:
    return ServiceError("InvalidParameter", f"Invalid parameter: {reason}")


def check_arn(value: str, parameter: str, region: str) -> None:
    """AWS checks an ARN's form before looking it up: at least six elements, and the caller's region."""
    elements = value.split(":")
    if len(elements) < 6:
        raise invalid(f"{parameter} Reason: An ARN must have at least 6 elements, not {len(elements)}")
    if elements[3] != region:
        raise invalid(parameter)


def not_found(what: str = "Topic") -> ServiceError:
    return ServiceError("NotFound", f"{what} does not exist")


def invalid_token() -> ServiceError:
    return invalid("NextToken")


def is_arn_of(text: str, service: str) -> bool:
    arn = parse_arn(text)
    return arn is not None and arn.service == service


def json_object(name: str, text: str) -> dict[str, Any]:
    try:
        document = json.loads(text)
    except ValueError:
        raise invalid(f"{name}: failed to parse JSON.") from None
    if not isinstance(document, dict):
        raise invalid(f"{name}: must be a JSON object.")
    return document


def phone(number: str, name: str = "PhoneNumber") -> str:
    if not PHONE.match(number or ""):
        raise invalid(f"{name} Reason: input incorrectly formatted")
    return number


# Topic tags: AWS's limits, SNS's wording (keys starting with aws: are not refused).
TAG_RULES = TagRules(
    reserved_prefix=None,
    too_many=lambda limit: ServiceError(
        "TagLimitExceeded", "Could not complete request: tag quota of per resource exceeded"
    ),
    invalid=lambda key: invalid("Tags"),
)

# -- topics --------------------------------------------------------------------------------------------


def default_policy(account: str, arn: str) -> str:
    return json.dumps(
        {
            "Version": "2008-10-17",
            "Id": "__default_policy_ID",
            "Statement": [
                {
                    "Sid": "__default_statement_ID",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": [
                        "SNS:GetTopicAttributes",
                        "SNS:SetTopicAttributes",
                        "SNS:AddPermission",
                        "SNS:RemovePermission",
                        "SNS:DeleteTopic",
                        "SNS:Subscribe",
                        "SNS:ListSubscriptionsByTopic",
                        "SNS:Publish",
                    ],
                    "Resource": arn,
                    "Condition": {"StringEquals": {"AWS:SourceOwner": account}},
                }
            ],
        },
        separators=(",", ":"),
    )


def topic_attribute(name: str, value: str, fifo: bool, creating: bool) -> str:
    """Validate one topic attribute; returns its stored text."""
    if name not in TOPIC_ATTRIBUTES and not _FEEDBACK_ATTRIBUTE.match(name):
        raise invalid("AttributeName")
    if name == "FifoTopic" and not creating:
        raise invalid("AttributeName: FifoTopic can only be set when the topic is created")
    if name in ("ContentBasedDeduplication", "FifoThroughputScope") and not fifo:
        raise invalid(f"{name}: only FIFO topics have {name}")
    if name in ("ContentBasedDeduplication", "FifoTopic") and value.lower() not in ("true", "false"):
        raise invalid(name)
    if name == "SignatureVersion" and value not in SIGNATURE_VERSIONS:
        raise invalid("SignatureVersion")
    if name == "TracingConfig" and value not in ("PassThrough", "Active"):
        raise invalid("TracingConfig: must be PassThrough or Active")
    if name == "FifoThroughputScope" and value not in ("Topic", "MessageGroup"):
        raise invalid("FifoThroughputScope: must be Topic or MessageGroup")
    if name in ("Policy", "DeliveryPolicy", "ArchivePolicy") and value:
        json_object(name, value)
    if name == "DeliveryPolicy" and value:
        try:
            retry.validate_topic_policy(value)
        except retry.PolicyError as error:
            raise invalid(f"DeliveryPolicy: {error}") from None
    return value.lower() if name in ("ContentBasedDeduplication", "FifoTopic") else value


# -- subscriptions -------------------------------------------------------------------------------------


def subscription_attribute(protocol: str, name: str, value: str, others: dict[str, str]) -> str:
    """Validate one subscription attribute (`others`: those already set); returns its stored text."""
    if name not in SUBSCRIPTION_ATTRIBUTES:
        raise invalid("AttributeName")
    if name == "RawMessageDelivery":
        if value.lower() not in ("true", "false"):
            raise invalid(f"RawMessageDelivery: Invalid value [{value}]. Must be true or false.")
        if protocol not in ("sqs", "http", "https", "firehose"):
            raise invalid(f"Delivery protocol [{protocol}] does not support raw message delivery.")
        return value.lower()
    if name == "FilterPolicyScope":
        if value not in ("MessageAttributes", "MessageBody"):
            raise invalid("FilterPolicyScope: Invalid filter policy scope")
        return value
    if name == "FilterPolicy":
        if value:
            filters.parse_policy(value, others.get("FilterPolicyScope", "MessageAttributes"))
        return value
    if name == "RedrivePolicy" and value:
        target = json_object("RedrivePolicy", value).get("deadLetterTargetArn", "")
        if not is_arn_of(target, "sqs"):
            raise invalid("RedrivePolicy: deadLetterTargetArn is an invalid arn")
    elif name in ("DeliveryPolicy", "ReplayPolicy") and value:
        json_object(name, value)
        if name == "DeliveryPolicy":
            try:
                retry.validate_subscription_policy(value)
            except retry.PolicyError as error:
                raise invalid(f"DeliveryPolicy: {error}") from None
    return value


def check_endpoint(fifo_topic: bool, protocol: str, endpoint: str) -> None:
    if protocol == "application":
        arn = parse_arn(endpoint)
        valid = arn is not None and arn.service == "sns" and arn.resource.startswith("endpoint/")
    else:
        valid = {
            "http": endpoint.startswith("http://"),
            "https": endpoint.startswith("https://"),
            "email": "@" in endpoint,
            "email-json": "@" in endpoint,
            "sms": bool(re.fullmatch(r"\+?[0-9]{5,15}", endpoint)),
            "sqs": is_arn_of(endpoint, "sqs"),
            "lambda": is_arn_of(endpoint, "lambda"),
            "firehose": is_arn_of(endpoint, "firehose"),
        }[protocol]
    if not valid:
        if protocol == "sqs":
            raise invalid("SQS endpoint ARN")
        if protocol == "sms":
            raise ServiceError("InvalidParameter", f"Invalid SMS endpoint: {endpoint}")
        raise invalid("Endpoint")
    if protocol == "sqs":  # a FIFO topic may deliver to standard queues too; not the other way round
        if not fifo_topic and endpoint.endswith(".fifo"):
            raise invalid("Endpoint Reason: FIFO SQS Queues can not be subscribed to standard SNS topics")
    elif fifo_topic and protocol not in ("sqs", "lambda", "firehose"):
        raise invalid(f"Endpoint Reason: FIFO SNS Topics do not support {protocol} endpoints")


# -- publishing ----------------------------------------------------------------------------------------


def check_batch(entries: list[dict[str, Any]]) -> None:
    if not entries:
        raise ServiceError("EmptyBatchRequest", "The batch request doesn't contain any entries.")
    if len(entries) > MAX_BATCH:
        raise ServiceError(
            "TooManyEntriesInBatchRequest", "The batch request contains more entries than permissible."
        )
    ids = [entry["Id"] for entry in entries]
    for entry_id in ids:
        if len(entry_id) > 80:
            raise ServiceError(
                "InvalidBatchEntryId", f"The Id of a batch entry in a batch request is too long: {entry_id}"
            )
        if not _BATCH_ID.match(entry_id):
            raise ServiceError(
                "InvalidBatchEntryId",
                "The Id of a batch entry in a batch request doesn't abide by the specification.",
            )
    if len(set(ids)) != len(ids):
        raise ServiceError(
            "BatchEntryIdsNotDistinct", "Two or more batch entries in the request have the same Id."
        )
    total = sum(
        len(e["Message"].encode()) + attributes_size(e.get("MessageAttributes") or {}) for e in entries
    )
    if total > MAX_MESSAGE_BYTES:
        raise ServiceError(
            "BatchRequestTooLong", "The length of all the messages put together is more than the limit."
        )


def messages_by_protocol(message: str, structure: str | None) -> dict[str, str]:
    if structure is None:
        return {"default": message}
    if structure != "json":
        raise invalid("MessageStructure")
    try:
        document = json.loads(message)
    except ValueError:
        raise invalid("Message Structure - JSON message body failed to parse") from None
    if not isinstance(document, dict) or "default" not in document:
        raise invalid("Message Structure - No default entry in JSON message body")
    if not all(isinstance(value, str) for value in document.values()):
        raise invalid("Message Structure - JSON message values must be strings")
    return document


def attributes_size(attributes: dict[str, Any]) -> int:
    size = 0
    for name, value in attributes.items():
        data = value.get("BinaryValue") or (value.get("StringValue") or "").encode()
        size += len(name.encode()) + len(value.get("DataType", "").encode()) + len(data)
    return size


def check_message_attributes(attributes: dict[str, Any]) -> None:
    if len(attributes) > 10:
        raise ServiceError(
            "ParameterValueInvalid",
            f"Number of message attributes [{len(attributes)}] exceeds the allowed maximum [10].",
        )
    for name, value in attributes.items():
        if not _ATTRIBUTE_NAME.fullmatch(name) or name.lower().startswith(("aws.", "amazon.")):
            raise ServiceError("ParameterValueInvalid", f"The message attribute name '{name}' is invalid.")
        data_type = value.get("DataType", "")
        base = data_type.split(".", 1)[0]
        if base not in ("String", "Number", "Binary"):
            raise ServiceError(
                "ParameterValueInvalid",
                f"The message attribute '{name}' has an invalid message "
                "attribute type, the set of supported type prefixes is Binary, Number, and String.",
            )
        if base == "Binary":
            if not value.get("BinaryValue"):
                raise ServiceError(
                    "ParameterValueInvalid",
                    f"The message attribute '{name}' must contain non-empty "
                    "message attribute value for message attribute type 'Binary'.",
                )
            continue
        text = value.get("StringValue")
        if not text:
            raise ServiceError(
                "ParameterValueInvalid",
                f"The message attribute '{name}' must contain non-empty "
                f"message attribute value for message attribute type '{base}'.",
            )
        if base == "Number":
            try:
                float(text)
            except ValueError:
                raise ServiceError(
                    "ParameterValueInvalid",
                    f"An error occurred while trying to parse the value "
                    f"'{text}' of message attribute '{name}' as a number.",
                ) from None
        if data_type == "String.Array":
            try:
                if not isinstance(json.loads(text), list):
                    raise ValueError
            except ValueError:
                raise ServiceError(
                    "ParameterValueInvalid",
                    f"The message attribute '{name}' with type 'String.Array' has an invalid value.",
                ) from None
