"""A call as CloudTrail records it: the event record (eventVersion 1.09), whether it is a management or a data
event, whether it is read-only, the resources it names, and its parameters with secrets redacted.

Data events are the high-volume object and item operations AWS only records for trails whose event selectors
ask for them (S3 objects, Lambda invocations, DynamoDB items and streams, SQS messages, SNS publishes, Kinesis
records, EventBridge PutEvents, CloudWatch metric data, Logs events); everything else is a management event,
which the event history (LookupEvents) keeps for 90 days.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, date, datetime
from functools import cache, lru_cache
from typing import Any

from overcast.platform import new_request_id

EVENT_VERSION = "1.09"
HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS"
_SECRET = re.compile(r"(secret|password|privatekey|sessiontoken|^token$|credentials)", re.I)
_NAMES_ONE = re.compile(r"(Id|Ids|IdList|Arn|ARN|Name)$")  # SecretId names a secret: shown, as AWS shows it
_PAYLOADS = frozenset({"Body", "Payload", "ZipFile", "Data", "Blob"})  # contents are never recorded

# (service, resource type of its data events, operations that are data events)
_DATA_EVENTS: tuple[tuple[str, str, frozenset[str]], ...] = (
    (
        "s3",
        "AWS::S3::Object",
        frozenset(
            "GetObject PutObject DeleteObject DeleteObjects HeadObject CopyObject GetObjectAcl PutObjectAcl "
            "GetObjectTagging PutObjectTagging DeleteObjectTagging GetObjectAttributes GetObjectRetention "
            "PutObjectRetention GetObjectLegalHold PutObjectLegalHold RestoreObject SelectObjectContent "
            "CreateMultipartUpload UploadPart UploadPartCopy CompleteMultipartUpload AbortMultipartUpload "
            "ListParts ListObjects ListObjectsV2 ListObjectVersions ListMultipartUploads GetObjectTorrent".split()
        ),
    ),
    ("lambda", "AWS::Lambda::Function", frozenset({"Invoke", "InvokeWithResponseStream", "InvokeAsync"})),
    (
        "dynamodb",
        "AWS::DynamoDB::Table",
        frozenset(
            "GetItem PutItem UpdateItem DeleteItem Query Scan BatchGetItem BatchWriteItem TransactGetItems "
            "TransactWriteItems ExecuteStatement BatchExecuteStatement ExecuteTransaction".split()
        ),
    ),
    ("dynamodbstreams", "AWS::DynamoDB::Stream", frozenset({"GetRecords", "GetShardIterator"})),
    (
        "sqs",
        "AWS::SQS::Queue",
        frozenset(
            "SendMessage SendMessageBatch ReceiveMessage DeleteMessage DeleteMessageBatch ChangeMessageVisibility "
            "ChangeMessageVisibilityBatch".split()
        ),
    ),
    ("sns", "AWS::SNS::Topic", frozenset({"Publish", "PublishBatch"})),
    (
        "kinesis",
        "AWS::Kinesis::Stream",
        frozenset({"PutRecord", "PutRecords", "GetRecords", "GetShardIterator"}),
    ),
    ("events", "AWS::Events::EventBus", frozenset({"PutEvents"})),
    (
        "cloudwatch",
        "AWS::CloudWatch::Metric",
        frozenset({"PutMetricData", "GetMetricData", "GetMetricStatistics"}),
    ),
    ("logs", "AWS::Logs::LogStream", frozenset({"PutLogEvents", "GetLogEvents", "FilterLogEvents"})),
)
DATA_EVENT_TYPES = {service: kind for service, kind, _ in _DATA_EVENTS}
_READ_PREFIXES = ("Get", "List", "Describe", "Head", "Lookup", "Test", "Search", "Select", "Query", "Scan")
# Members that name a resource, and its type ("" for `Name`, whose type depends on the service).
_RESOURCE_MEMBERS = {
    "Bucket": "AWS::S3::Bucket",
    "QueueUrl": "AWS::SQS::Queue",
    "QueueName": "AWS::SQS::Queue",
    "TopicArn": "AWS::SNS::Topic",
    "FunctionName": "AWS::Lambda::Function",
    "TableName": "AWS::DynamoDB::Table",
    "UserName": "AWS::IAM::User",
    "RoleName": "AWS::IAM::Role",
    "GroupName": "AWS::IAM::Group",
    "PolicyArn": "AWS::IAM::Policy",
    "logGroupName": "AWS::Logs::LogGroup",
    "AlarmName": "AWS::CloudWatch::Alarm",
    "Name": "",
}
_NAMED_BY_SERVICE = {"events": "AWS::Events::Rule", "cloudtrail": "AWS::CloudTrail::Trail"}


@cache
def classify(service: str, operation: str) -> tuple[str | None, bool, str]:
    """(data event resource type or None for a management event, read-only, eventSource) of an operation."""
    data_type = None
    for owner, kind, operations in _DATA_EVENTS:
        if owner == service and operation in operations:
            data_type = kind
            break
    read_only = operation.startswith(_READ_PREFIXES) or (service, operation) in _EXTRA_READS
    return data_type, read_only, event_source(service)


# Read-only calls whose names do not say so. KMS's cryptographic operations are recorded read-only, with no
# response elements (AWS's own examples of Encrypt, Decrypt, ReEncrypt and GenerateDataKey entries).
_EXTRA_READS = frozenset(
    [("sqs", "ReceiveMessage"), ("dynamodb", "BatchGetItem"), ("dynamodb", "TransactGetItems")]
    + [
        ("kms", operation)
        for operation in (
            "Encrypt",
            "Decrypt",
            "ReEncrypt",
            "GenerateDataKey",
            "GenerateDataKeyWithoutPlaintext",
            "GenerateDataKeyPair",
            "GenerateDataKeyPairWithoutPlaintext",
            "GenerateRandom",
            "GenerateMac",
            "VerifyMac",
            "Sign",
            "Verify",
            "DeriveSharedSecret",
        )  # fmt: skip
    ]
)
GLOBAL_SERVICES = frozenset({"iam", "organizations", "cloudfront", "route53"})  # recorded in us-east-1


@cache
def event_source(service: str) -> str:
    """The eventSource of a service's calls: its endpoint prefix at amazonaws.com (monitoring for CloudWatch)."""
    from overcast.protocol.models import get_service_model

    try:
        prefix = get_service_model(service).metadata.get("endpointPrefix") or service
    except Exception:  # a service without a model: its own name
        prefix = service
    if service == "s3control":
        prefix = "s3"
    if service == "dynamodbstreams":
        prefix = "dynamodb"
    return f"{prefix}.amazonaws.com"


def user_identity(principal: Any, service_host: str | None = None) -> dict[str, Any]:
    """The userIdentity block for the principal that made a call."""
    kind = principal.kind
    if kind == "service":
        return {"type": "AWSService", "invokedBy": principal.arn}
    if kind == "anonymous":
        return {"type": "AWSAccount", "principalId": "", "accountId": "ANONYMOUS_PRINCIPAL"}
    identity: dict[str, Any] = {}
    if kind == "root":
        identity = {"type": "Root", "principalId": principal.account_id, "arn": principal.arn}
    elif kind == "user":
        identity = {"type": "IAMUser", "principalId": principal.user_id, "arn": principal.arn}
    elif kind == "assumed-role":
        identity = {"type": "AssumedRole", "principalId": principal.user_id, "arn": principal.arn}
    elif kind == "federated-user":
        identity = {"type": "FederatedUser", "principalId": principal.user_id, "arn": principal.arn}
    else:
        identity = {"type": "Unknown", "principalId": principal.user_id, "arn": principal.arn}
    identity["accountId"] = principal.account_id
    if principal.access_key_id:
        identity["accessKeyId"] = principal.access_key_id
    attributes = principal.attributes or {}
    if kind == "user":
        identity["userName"] = attributes.get("user_name") or principal.arn.rsplit("/", 1)[-1]
    if kind == "assumed-role":
        role_id = principal.user_id.split(":", 1)[0]
        issued = attributes.get("issued_at")
        identity["sessionContext"] = {
            "sessionIssuer": {
                "type": "Role",
                "principalId": role_id,
                "arn": attributes.get("role_arn", ""),
                "accountId": principal.account_id,
                "userName": attributes.get("role_name", ""),
            },
            "attributes": {
                "creationDate": iso(issued) if issued else None,
                "mfaAuthenticated": "true" if attributes.get("mfa") else "false",
            },
        }
        if attributes.get("service"):
            identity["invokedBy"] = attributes["service"]
    return identity


def username(identity: dict[str, Any]) -> str | None:
    """LookupEvents' Username of a record: the IAM user's name, 'root', the role session's name, the service."""
    kind = identity.get("type")
    if kind == "IAMUser":
        return identity.get("userName")
    if kind == "Root":
        return "root"
    if kind in ("AssumedRole", "FederatedUser"):
        return identity.get("arn", "").rsplit("/", 1)[-1]
    if kind == "AWSService":
        return identity.get("invokedBy")
    return None


_last_second: list[Any] = [None, ""]  # the second last formatted, and its text: calls come in bursts


def iso(moment: float) -> str:
    second = int(moment)
    if _last_second[0] != second:
        _last_second[:] = [second, datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")]
    return _last_second[1]


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


_SHOW = object()  # a member shown as its value is (redacted within)


@lru_cache(maxsize=4096)
def _member(name: str) -> tuple[Any, str]:
    """How a member of this name is recorded, and under which name: _SHOW, HIDDEN (a secret) or _OMIT (a
    payload). Decided once per name: every recorded call passes its members through here."""
    if name in _PAYLOADS:
        return _OMIT, name
    hidden = _SECRET.search(name) and not _NAMES_ONE.search(name)
    return (HIDDEN if hidden else _SHOW), _RENAMED.get(name) or _camel(name)


# Member names CloudTrail shows differently from the API's (S3 records its bucket as bucketName).
_RENAMED = {"Bucket": "bucketName"}


def redact(value: Any, shape: Any = None) -> Any:
    """Parameters or response elements as CloudTrail shows them: member names in camelCase, secrets and
    payloads hidden, binary and streams left out (None), timestamps as ISO text. A map's keys are data (an
    encryption context, tags, queue attributes): shown as given, its values by their own shape."""
    if isinstance(value, dict):
        if shape is not None and shape.type_name == "map":
            shown = {}
            for name, item in value.items():
                converted = redact(item, shape.value)
                if converted is not _OMIT:
                    shown[name] = converted
            return shown
        members = shape.members if shape is not None and shape.type_name == "structure" else None
        shown = {}
        for name, item in value.items():
            if name == "ResponseMetadata":
                continue
            rule, shown_name = _member(name)
            if rule is _SHOW:
                converted = redact(item, members.get(name) if members is not None else None)
                if converted is not _OMIT:
                    shown[shown_name] = converted
            elif rule is not _OMIT:
                shown[shown_name] = rule
        return shown
    if isinstance(value, list | tuple):
        inner = shape.member if shape is not None and shape.type_name == "list" else None
        return [item for item in (redact(v, inner) for v in value) if item is not _OMIT]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray):
        return _OMIT
    return _OMIT


_OMIT = object()


@cache
def _shapes(service: str, operation: str) -> tuple[Any, Any]:
    """(input shape, output shape) of an operation (None, None for one botocore does not know)."""
    from overcast.protocol.models import get_operation_model

    try:
        model = get_operation_model(service, operation)
    except Exception:  # botocore's OperationNotFoundError, or no model for the service
        return None, None
    return model.input_shape, model.output_shape


def resources_of(service: str, params: dict[str, Any]) -> list[tuple[str, str]]:
    """The resources (type, name) a call names, for LookupEvents."""
    found = []
    for member, value in params.items():
        kind = _RESOURCE_MEMBERS.get(member)
        if kind is None or not value or not isinstance(value, str):
            continue
        if not kind:
            kind = _NAMED_BY_SERVICE.get(service)
            if kind is None:
                continue
        if member == "QueueUrl":
            value = value.rstrip("/").rsplit("/", 1)[-1]
        found.append((kind, value))
    return found


def data_resource_arn(service: str, region: str, account: str, params: dict[str, Any]) -> str | None:
    """The ARN a data event acts on, which event selectors match (s3 objects: arn:aws:s3:::bucket/key)."""
    if service == "s3":
        bucket = params.get("Bucket")
        return f"arn:aws:s3:::{bucket}/{params.get('Key') or ''}" if bucket else None
    if service == "lambda":
        name = params.get("FunctionName") or ""
        return name if name.startswith("arn:") else f"arn:aws:lambda:{region}:{account}:function:{name}"
    if service == "dynamodb":
        name = params.get("TableName") or ""
        return name if name.startswith("arn:") else f"arn:aws:dynamodb:{region}:{account}:table/{name}"
    if service == "sqs":
        url = params.get("QueueUrl") or ""
        return f"arn:aws:sqs:{region}:{account}:{url.rstrip('/').rsplit('/', 1)[-1]}"
    if service == "sns":
        return params.get("TopicArn")
    return None


# A recorded call, as stored (store.py's ct_events columns after the id): the cheap parts of a record, so
# that recording a call costs little; `assemble` makes the record when it is read.
COLUMNS = (
    "account",
    "region",
    "time",
    "event_id",
    "name",
    "source",
    "username",
    "access_key",
    "read_only",
    "category",
    "resource_type",
    "resource_arn",
    "identity",
    "source_ip",
    "agent",
    "request_id",
    "params",
    "response",
    "error_code",
    "error_message",
    "resources",
)
_identities: dict[tuple, tuple[str, str | None]] = {}  # principal -> (userIdentity JSON, Username)
_IDENTITIES = 4096


def _identity(principal: Any) -> tuple[str, str | None]:
    """The userIdentity JSON and LookupEvents' Username of a principal (remembered: calls repeat callers)."""
    attributes = principal.attributes or {}
    key = (
        principal.kind,
        principal.arn,
        principal.user_id,
        principal.account_id,
        principal.access_key_id,
        attributes.get("user_name"),
        attributes.get("role_arn"),
        attributes.get("issued_at"),
    )
    found = _identities.get(key)
    if found is None:
        identity = user_identity(principal)
        found = (to_json(identity), username(identity))
        if len(_identities) >= _IDENTITIES:
            _identities.clear()
        _identities[key] = found
    return found


def capture(
    ctx: Any,
    params: dict[str, Any],
    result: dict[str, Any] | None,
    error: BaseException | None,
    moment: float,
) -> tuple[tuple[Any, ...], list[tuple[str, str]]]:
    """The stored form of one call (in COLUMNS order) and the resources (type, name) it names."""
    data_type, read_only, source = classify(ctx.service, ctx.operation)
    request = ctx.request
    principal = ctx.principal
    if request is not None:
        source_ip = request.client_ip
        agent = request.headers.get("user-agent") or ""
    else:  # a call between services: AWS shows the calling service
        source_ip = agent = principal.arn if principal.kind == "service" else "AWS Internal"
    identity, name = _identity(principal)
    resources = resources_of(ctx.service, params) if params else []
    shapes = _shapes(ctx.service, ctx.operation)
    shown_params = redact(params, shapes[0]) if params else None
    response = None
    if result and not read_only and error is None:
        response = redact(result, shapes[1]) or None
    row = (
        ctx.account_id,
        "us-east-1" if ctx.service in GLOBAL_SERVICES else ctx.region,
        moment,
        new_request_id(),
        ctx.operation,
        source,
        name,
        principal.access_key_id,
        int(read_only),
        "Data" if data_type else "Management",
        data_type,
        data_resource_arn(ctx.service, ctx.region, ctx.account_id, params) if data_type else None,
        identity,
        source_ip,
        agent,
        ctx.request_id,
        to_json(shown_params) if shown_params else None,
        to_json(response) if response else None,
        getattr(error, "code", type(error).__name__) if error is not None else None,
        getattr(error, "message", str(error)) if error is not None else None,
        to_json([[kind, value] for kind, value in resources]) if resources else None,
    )
    return row, resources


def assemble(row: tuple[Any, ...] | dict[str, Any]) -> dict[str, Any]:
    """The CloudTrail record (eventVersion 1.09) of a stored call."""
    call = row if isinstance(row, dict) else dict(zip(COLUMNS, row, strict=True))
    record: dict[str, Any] = {
        "eventVersion": EVENT_VERSION,
        "userIdentity": json.loads(call["identity"]),
        "eventTime": iso(call["time"]),
        "eventSource": call["source"],
        "eventName": call["name"],
        "awsRegion": call["region"],
        "sourceIPAddress": call["source_ip"],
        "userAgent": call["agent"],
    }
    if call["error_code"] is not None:
        record["errorCode"] = call["error_code"]
        record["errorMessage"] = call["error_message"]
    record["requestParameters"] = json.loads(call["params"]) if call["params"] else None
    record["responseElements"] = json.loads(call["response"]) if call["response"] else None
    record["requestID"] = call["request_id"]
    record["eventID"] = call["event_id"]
    record["readOnly"] = bool(call["read_only"])
    if call["resources"]:
        region, account = call["region"], call["account"]
        record["resources"] = [
            {"accountId": account, "type": kind, "ARN": _arn(region, account, kind, name)}
            for kind, name in json.loads(call["resources"])
        ]
    record["eventType"] = "AwsApiCall"
    record["managementEvent"] = call["category"] == "Management"
    record["recipientAccountId"] = call["account"]
    record["eventCategory"] = call["category"]
    return record


_ARN_TEMPLATES = {
    "AWS::S3::Bucket": "arn:aws:s3:::{name}",
    "AWS::SQS::Queue": "arn:aws:sqs:{region}:{account}:{name}",
    "AWS::Lambda::Function": "arn:aws:lambda:{region}:{account}:function:{name}",
    "AWS::DynamoDB::Table": "arn:aws:dynamodb:{region}:{account}:table/{name}",
    "AWS::IAM::User": "arn:aws:iam::{account}:user/{name}",
    "AWS::IAM::Role": "arn:aws:iam::{account}:role/{name}",
    "AWS::IAM::Group": "arn:aws:iam::{account}:group/{name}",
    "AWS::Logs::LogGroup": "arn:aws:logs:{region}:{account}:log-group:{name}",
    "AWS::CloudWatch::Alarm": "arn:aws:cloudwatch:{region}:{account}:alarm:{name}",
    "AWS::Events::Rule": "arn:aws:events:{region}:{account}:rule/{name}",
    "AWS::CloudTrail::Trail": "arn:aws:cloudtrail:{region}:{account}:trail/{name}",
}


def _arn(region: str, account: str, kind: str, name: str) -> str:
    """A resource's ARN for the record (the name as given when it is one already)."""
    if name.startswith("arn:"):
        return name
    return _ARN_TEMPLATES.get(kind, "{name}").format(name=name, region=region, account=account)


_ENCODER = json.JSONEncoder(separators=(",", ":"), default=lambda value: _default(value))


def to_json(value: Any) -> str:
    return _ENCODER.encode(value)


def _default(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return str(value)
