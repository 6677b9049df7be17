"""Task resources: what a Task state's `Resource` calls, and how AWS names the errors that come back.

- a Lambda function ARN (`arn:aws:lambda:...:function:f`): Invoke, the function's result is the task's;
- an activity ARN: the task waits for a worker (GetActivityTask) to answer;
- the optimized integrations `arn:aws:states:::<service>:<action>[.sync|.sync:2|.waitForTaskToken]`: Lambda
  invoke, SQS sendMessage, SNS publish, DynamoDB getItem/putItem/updateItem/deleteItem, EventBridge putEvents,
  Step Functions startExecution;
- every AWS SDK integration `arn:aws:states:::aws-sdk:<service>:<action>`, mapped to botocore's service and
  operation names, its parameters to the model's member names.

Every call goes through `Platform.call` as the state machine's role, so `--iam enforce` decides as in AWS.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from overcast.errors import ServiceError
from overcast.services.kit.arns import parse_arn
from overcast.services.stepfunctions.failures import StatesError, dumps

if TYPE_CHECKING:
    from overcast.identity import Principal
    from overcast.platform import Platform

# Optimized integrations: (service prefix in the ARN, action) -> (botocore service, operation, error prefix)
OPTIMIZED: dict[tuple[str, str], tuple[str, str, str]] = {
    ("lambda", "invoke"): ("lambda", "Invoke", "Lambda"),
    ("sqs", "sendMessage"): ("sqs", "SendMessage", "SQS"),
    ("sns", "publish"): ("sns", "Publish", "SNS"),
    ("dynamodb", "getItem"): ("dynamodb", "GetItem", "DynamoDB"),
    ("dynamodb", "putItem"): ("dynamodb", "PutItem", "DynamoDB"),
    ("dynamodb", "updateItem"): ("dynamodb", "UpdateItem", "DynamoDB"),
    ("dynamodb", "deleteItem"): ("dynamodb", "DeleteItem", "DynamoDB"),
    ("events", "putEvents"): ("events", "PutEvents", "EventBridge"),
    ("states", "startExecution"): ("stepfunctions", "StartExecution", "StepFunctions"),
}
# The patterns each optimized integration supports besides request-response.
_PATTERNS: dict[tuple[str, str], set[str]] = {
    ("lambda", "invoke"): {"callback"},
    ("sqs", "sendMessage"): {"callback"},
    ("sns", "publish"): {"callback"},
    ("events", "putEvents"): {"callback"},
    ("states", "startExecution"): {"sync", "sync2", "callback"},
}
# AWS SDK integration service names that differ from botocore's, and the error prefixes AWS uses (the Java
# SDK v2 client names).
SDK_SERVICES = {
    "sfn": "stepfunctions",
    "cloudwatchlogs": "logs",
    "eventbridge": "events",
    "elasticloadbalancingv2": "elbv2",
}
SDK_ERROR_PREFIX = {
    "dynamodb": "DynamoDb",
    "sfn": "Sfn",
    "sqs": "Sqs",
    "sns": "Sns",
    "s3": "S3",
    "iam": "Iam",
    "sts": "Sts",
    "lambda": "Lambda",
    "cloudwatchlogs": "CloudWatchLogs",
    "eventbridge": "EventBridge",
    "ec2": "Ec2",
    "kms": "Kms",
    "secretsmanager": "SecretsManager",
    "ssm": "Ssm",
}
_SUFFIXES = {".waitForTaskToken": "callback", ".sync:2": "sync2", ".sync": "sync"}


@dataclass(frozen=True)
class Plan:
    kind: str  # lambda (a function ARN) | activity | service
    resource: str  # the Resource field
    resource_type: str  # history's resourceType: "lambda", "sqs", "aws-sdk:s3"
    resource_name: str  # history's resource: "invoke", "sendMessage.waitForTaskToken", "getObject"
    pattern: str  # request | sync | sync2 | callback
    service: str = ""  # botocore service
    operation: str = ""  # botocore operation
    error_prefix: str = ""


def plan(resource: str) -> Plan:
    """What a Task's Resource names; StatesError (States.Runtime) for one Step Functions cannot call."""
    arn = parse_arn(resource)
    if arn is None:
        raise StatesError("States.Runtime", f"Invalid resource: {resource}")
    if arn.service == "lambda" and arn.resource_type == "function":
        return Plan("lambda", resource, "lambda", "invoke", "request", "lambda", "Invoke", "Lambda")
    if arn.service == "states" and arn.resource_type == "activity":
        return Plan("activity", resource, "activity", arn.resource_id, "callback")
    if arn.service != "states" or arn.account:
        raise StatesError("States.Runtime", f"Invalid resource: {resource}")
    body = arn.resource
    pattern = "request"
    for suffix, name in _SUFFIXES.items():
        if body.endswith(suffix):
            body, pattern = body[: -len(suffix)], name
            break
    if body.startswith("aws-sdk:"):
        _, service, action = (body.split(":", 2) + ["", ""])[:3]
        if not service or not action or pattern in ("sync", "sync2"):
            raise StatesError("States.Runtime", f"Invalid resource: {resource}")
        botocore_service = SDK_SERVICES.get(service, service)
        operation = action[:1].upper() + action[1:]
        prefix = SDK_ERROR_PREFIX.get(service, service[:1].upper() + service[1:])
        return Plan(
            "service",
            resource,
            f"aws-sdk:{service}",
            arn.resource.split(":", 2)[2],
            pattern,
            botocore_service,
            operation,
            prefix,
        )
    service, _, action = body.partition(":")
    found = OPTIMIZED.get((service, action))
    if found is None or (pattern != "request" and pattern not in _PATTERNS.get((service, action), ())):
        raise StatesError(
            "States.Runtime",
            f"The resource provided {resource} is not recognized. The value is not "
            "a valid resource ARN, or the resource is not available in this region.",
        )
    return Plan("service", resource, service, arn.resource.partition(":")[2], pattern, *found)


async def call(
    platform: Platform, task: Plan, params: Any, principal: Principal, account: str, region: str
) -> Any:
    """Run the task's call; its result as the state sees it. Raises StatesError with AWS's error name."""
    if task.kind == "lambda":
        return await _lambda(
            platform,
            task,
            {"FunctionName": task.resource, "Payload": params},
            principal,
            account,
            region,
            optimized=False,
        )
    if not isinstance(params, dict):
        raise StatesError("States.Runtime", f"The parameters of {task.resource} must be a JSON object")
    if task.service == "lambda" and task.operation == "Invoke":
        return await _lambda(platform, task, params, principal, account, region, optimized=True)
    request = _request(platform, task, params)
    try:
        response = await platform.call(
            task.service, task.operation, request, principal=principal, account_id=account, region=region
        )
    except ServiceError as error:
        raise StatesError(f"{task.error_prefix}.{error.code}", _cause(error, task)) from None
    return await _result(task, response)


def _request(platform: Platform, task: Plan, params: dict[str, Any]) -> dict[str, Any]:
    from overcast.protocol.models import get_service_model

    try:
        model = get_service_model(task.service).operation_model(task.operation)
    except Exception:  # the service or operation does not exist in botocore
        raise StatesError(
            "States.Runtime", f"The resource provided {task.resource} is not recognized."
        ) from None
    if task.resource_type.startswith("aws-sdk:"):
        return to_model(model.input_shape, params) if model.input_shape is not None else {}
    request = dict(params)
    # The optimized integrations take JSON values where the API takes strings.
    for member in ("MessageBody", "Message", "Input", "input"):
        if member in request and not isinstance(request[member], str):
            request[member] = dumps(request[member])
    if task.operation == "PutEvents":
        request["Entries"] = [
            {**entry, "Detail": dumps(entry["Detail"])}
            if not isinstance(entry.get("Detail"), str | None)
            else entry
            for entry in request.get("Entries") or ()
        ]
    return to_model(model.input_shape, request)


def to_model(shape: Any, value: Any) -> Any:
    """A JSON value shaped for a botocore input shape: member names matched as AWS does (PascalCase, or
    camelCase with the first letter raised), blobs as bytes."""
    if shape is None:
        return value
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        members = shape.members
        lowered = {name.lower(): name for name in members}
        out = {}
        for key, item in value.items():
            name = key if key in members else lowered.get(key.lower(), key)
            out[name] = to_model(members.get(name), item)
        return out
    if kind == "list" and isinstance(value, list):
        return [to_model(shape.member, item) for item in value]
    if kind == "map" and isinstance(value, dict):
        return {k: to_model(shape.value, v) for k, v in value.items()}
    if kind == "blob" and isinstance(value, str):
        return value.encode()
    if kind == "blob" and not isinstance(value, bytes | bytearray):
        return dumps(value).encode()
    return value


async def _lambda(
    platform: Platform,
    task: Plan,
    params: dict[str, Any],
    principal: Principal,
    account: str,
    region: str,
    optimized: bool,
) -> Any:
    request = dict(params)
    payload = request.get("Payload")
    request["Payload"] = (
        b"" if payload is None else payload.encode() if isinstance(payload, str) else dumps(payload).encode()
    )
    if isinstance(request.get("ClientContext"), dict):
        request["ClientContext"] = base64.b64encode(dumps(request["ClientContext"]).encode()).decode()
    try:
        response = await platform.call(
            "lambda", "Invoke", request, principal=principal, account_id=account, region=region
        )
    except ServiceError as error:
        raise StatesError(f"Lambda.{error.code}", _cause(error, task)) from None
    raw = response.get("Payload") or b""
    text = raw.decode() if isinstance(raw, bytes | bytearray) else str(raw)
    if response.get("FunctionError"):
        try:
            error_type = json.loads(text).get("errorType") if text else None
        except (ValueError, AttributeError):
            error_type = None
        raise StatesError(error_type or "Lambda.Unknown", text)
    try:
        result = json.loads(text) if text else None
    except ValueError:
        result = text
    if not optimized:
        return result
    return {
        "ExecutedVersion": response.get("ExecutedVersion", "$LATEST"),
        "Payload": result,
        "SdkHttpMetadata": {
            "HttpHeaders": {"Content-Type": "application/json"},
            "HttpStatusCode": response.get("StatusCode", 200),
        },
        "SdkResponseMetadata": {"RequestId": response.get("ResponseMetadata", {}).get("RequestId", "")},
        "StatusCode": response.get("StatusCode", 200),
    }


async def _result(task: Plan, response: dict[str, Any]) -> Any:
    from overcast.protocol.models import get_service_model

    response = {k: v for k, v in response.items() if k != "ResponseMetadata"}
    shape = get_service_model(task.service).operation_model(task.operation).output_shape
    result = pascal(shape, {key: await _json_value(value) for key, value in response.items()})
    if task.resource_type.startswith("aws-sdk:"):
        return result
    result["SdkHttpMetadata"] = {
        "HttpHeaders": {"Content-Type": "application/x-amz-json-1.0"},
        "HttpStatusCode": 200,
    }
    result["SdkResponseMetadata"] = {"RequestId": ""}
    return result


def pascal(shape: Any, value: Any) -> Any:
    """A response as Step Functions hands it to the state: structure members in PascalCase (the Step Functions
    and other camelCase APIs' `executionArn` becomes `ExecutionArn`); map keys, user data, stay as they are."""
    if shape is None:
        return value
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        return {
            (key[:1].upper() + key[1:]): pascal(shape.members.get(key), item) for key, item in value.items()
        }
    if kind == "list" and isinstance(value, list):
        return [pascal(shape.member, item) for item in value]
    if kind == "map" and isinstance(value, dict):
        return {key: pascal(shape.value, item) for key, item in value.items()}
    return value


def epoch_millis(value: Any) -> Any:
    """Timestamps in results as AWS's integrations give them: epoch milliseconds."""
    return int(value.timestamp() * 1000) if isinstance(value, datetime) else value


async def _json_value(value: Any) -> Any:
    """A botocore-shaped value as JSON: bytes and streamed bodies as text, timestamps as ISO strings."""
    if isinstance(value, bytes | bytearray):
        try:
            return bytes(value).decode()
        except UnicodeDecodeError:
            return base64.b64encode(bytes(value)).decode()
    if isinstance(value, datetime):
        return epoch_millis(value)
    if isinstance(value, dict):
        return {k: await _json_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [await _json_value(v) for v in value]
    if hasattr(value, "__aiter__"):
        chunks = [chunk async for chunk in value]
        return await _json_value(b"".join(chunks))
    return value


def _cause(error: ServiceError, task: Plan) -> str:
    service = task.error_prefix or task.service
    return (
        f"{error.message} (Service: {service}, Status Code: {error.status or 400}, Error Code: {error.code})"
    )
