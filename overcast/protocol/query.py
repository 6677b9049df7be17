"""The AWS query protocol (SNS, IAM, STS, CloudFormation, CloudWatch's query mode, ...), and SQS's legacy
query form (old SDKs still send `Action=SendMessage` against SQS's json model).

Requests are form-encoded (`Action=..&Version=..&A.B.member.1=..`), in the body of a POST or in the query
string of a GET; responses are `<{Op}Response xmlns=..><{Op}Result>..</{Op}Result><ResponseMetadata>..`;
errors are `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.errors import ServiceError
from overcast.http import HttpResponse, form_pairs_of
from overcast.protocol.common import LEGACY_QUERY_CODES, WireError, error_shape, error_status
from overcast.protocol.xml import StructureNode, compile_shape, escape, form_trie, namespace_attr

if TYPE_CHECKING:  # pragma: no cover
    from botocore.model import OperationModel, ServiceModel

    from overcast.http import HttpRequest

SQS_NAMESPACE = "http://queue.amazonaws.com/doc/2012-11-05/"


class _Plan:
    """Everything about one operation that does not depend on the request (computed once)."""

    __slots__ = (
        "input",
        "output",
        "head",
        "tail_open",
        "wrapper_open",
        "wrapper_close",
        "name",
        "ns_attr",
        "queue_url_from_path",
    )

    def __init__(self, operation: OperationModel, dialect: str) -> None:
        name = operation.name
        self.name = name
        in_shape = operation.input_shape
        out_shape = operation.output_shape
        self.input = compile_shape(in_shape, dialect) if in_shape is not None else None
        self.output: StructureNode | None = (
            compile_shape(out_shape, dialect) if out_shape is not None else None  # type: ignore[assignment]
        )
        self.ns_attr = namespace_attr(service_namespace(operation.service_model))
        self.head = f"<{name}Response{self.ns_attr}>"
        wrapper = None
        if out_shape is not None:
            wrapper = out_shape.serialization.get("resultWrapper")
            if wrapper is None and dialect == "sqs":
                wrapper = f"{name}Result"
        self.wrapper_open = f"<{wrapper}>" if wrapper else ""
        self.wrapper_close = f"</{wrapper}>" if wrapper else ""
        self.tail_open = f"</{name}Response>"
        self.queue_url_from_path = (
            dialect == "sqs" and in_shape is not None and "QueueUrl" in in_shape.members
        )


_PLANS: dict[tuple, _Plan] = {}


def dialect_of(service: ServiceModel) -> str:
    """'query', or 'sqs' for SQS's json model spoken in its legacy query form."""
    if service.service_name == "sqs" and service.protocol != "query":
        return "sqs"
    return "query"


def service_namespace(service: ServiceModel) -> str | None:
    ns = service.metadata.get("xmlNamespace")
    if ns:
        return ns
    if service.service_name == "sqs":
        return SQS_NAMESPACE
    return None


def plan_for(operation: OperationModel, dialect: str | None = None) -> _Plan:
    service = operation.service_model
    if dialect is None:
        dialect = dialect_of(service)
    key = (id(service), operation.name, dialect)
    plan = _PLANS.get(key)
    if plan is None or plan.name != operation.name:
        plan = _PLANS[key] = _Plan(operation, dialect)
        _KEEP.append(service)  # keep the id stable
    return plan


_KEEP: list[Any] = []


def form_pairs(request: HttpRequest) -> list[tuple[str, str]]:
    """The form parameters of a query request: the query string, then a form-encoded body."""
    pairs: list[tuple[str, str]] = []
    try:
        if request.query:
            pairs.extend(form_pairs_of(request.query, errors="strict"))
        body = request.body
        if body:
            ctype = (request.headers.get("content-type") or "").lower()
            if not ctype or "x-www-form-urlencoded" in ctype:
                text = body.decode("utf-8") if isinstance(body, (bytes, bytearray)) else body
                pairs.extend(form_pairs_of(text, errors="strict"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ServiceError("MalformedQueryString", f"The request could not be decoded: {exc}") from exc
    return pairs


def parse_pairs(plan: _Plan, pairs: list[tuple[str, str]], error_code: str = "InvalidParameterValue") -> dict:
    if plan.input is None:
        return {}
    trie = form_trie(pairs)
    trie.pop("Action", None)
    trie.pop("Version", None)
    try:
        return plan.input.from_form(trie)
    except WireError as exc:
        raise ServiceError(error_code, str(exc)) from exc


def parse(operation: OperationModel, request: HttpRequest) -> dict:
    plan = plan_for(operation)
    params = parse_pairs(plan, form_pairs(request))
    if plan.queue_url_from_path and "QueueUrl" not in params and request.path not in ("", "/"):
        # Old SQS SDKs (boto 2, the Java v1 SDK, ...) send queue actions to the queue's URL itself.
        params["QueueUrl"] = f"{request.scheme}://{request.host}{request.path}"
    return params


def _headers(request_id: str) -> list[tuple[str, str]]:
    return [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)]


def serialize(operation: OperationModel, result: dict, request_id: str) -> HttpResponse:
    plan = plan_for(operation)
    out = [plan.head, plan.wrapper_open]
    if plan.output is not None and result:
        plan.output.emit_members(out, result)
    if len(out) == 2 and plan.wrapper_open:  # an empty result is one empty element, as AWS writes it
        out[1] = plan.wrapper_open[:-1] + "/>"
    else:
        out.append(plan.wrapper_close)
    out.append(f"<ResponseMetadata><RequestId>{escape(request_id)}</RequestId></ResponseMetadata>")
    out.append(plan.tail_open)
    return HttpResponse(200, _headers(request_id), "".join(out).encode("utf-8"))


def error_fields_xml(service: ServiceModel, error: ServiceError, dialect: str, out: list) -> None:
    """Append `error.fields` as elements, named as the model's error shape names them."""
    if not error.fields:
        return
    shape = error_shape(service, error.code)
    node = compile_shape(shape, dialect) if shape is not None else None
    members = node.members if isinstance(node, StructureNode) else {}
    for name, value in error.fields.items():
        if value is None or name in ("Code", "Message", "Type"):
            continue
        entry = members.get(name)
        if entry is not None and entry[3] is None:
            entry[2].emit(out, entry[1], value)
        elif isinstance(value, (str, int, float)):
            out.append(f"<{name}>{escape(str(value))}</{name}>")


def wire_error_code(service: ServiceModel, error: ServiceError, dialect: str) -> str:
    """The code as the client's error factory knows it (the shape's awsQueryError code when it has one)."""
    if dialect == "sqs":
        code = LEGACY_QUERY_CODES["sqs"].get(error.code)
        if code is not None:
            return code
        shape = error_shape(service, error.code)
        return shape.name if shape is not None else error.code
    shape = error_shape(service, error.code)
    if shape is not None:
        return shape.error_code or error.code
    return error.code


# Messages SQS's legacy query protocol words differently from its JSON protocol.
_SQS_QUERY_MESSAGES = {"QueueDoesNotExist": "The specified queue does not exist for this wsdl version."}


def wire_error_message(error: ServiceError, dialect: str) -> str:
    if dialect == "sqs":
        return _SQS_QUERY_MESSAGES.get(error.code, error.message or "")
    return error.message or ""


def sender_fault(service: ServiceModel, error: ServiceError, status: int) -> bool:
    """Sender or Receiver: the model's senderFault when it says, else the error's own flag (never for 5xx)."""
    shape = error_shape(service, error.code)
    if shape is not None:
        trait = shape.metadata.get("error") or {}
        if "senderFault" in trait:
            return bool(trait["senderFault"])
        if shape.metadata.get("fault") == "server":
            return False
    return error.sender_fault and status < 500


def serialize_error(
    service: ServiceModel, operation: OperationModel | None, error: ServiceError, request_id: str
) -> HttpResponse:
    dialect = dialect_of(service)
    status = error_status(service, error)
    sender = sender_fault(service, error, status)
    ns = namespace_attr(service_namespace(service))
    out = [
        f"<ErrorResponse{ns}><Error><Type>{'Sender' if sender else 'Receiver'}</Type>",
        f"<Code>{escape(wire_error_code(service, error, dialect))}</Code>",
        f"<Message>{escape(wire_error_message(error, dialect))}</Message>",
    ]
    error_fields_xml(service, error, dialect, out)
    out.append(f"</Error><RequestId>{escape(request_id)}</RequestId></ErrorResponse>")
    headers = _headers(request_id)
    for k, v in error.headers.items():
        headers.append((k, str(v)))
    return HttpResponse(status, headers, "".join(out).encode("utf-8"))
