"""The rest-xml protocol (S3, Route 53, CloudFront).

Members travel in path labels, the query string, headers (`x-amz-meta-*` prefix maps included) and an XML
body, or as a raw payload (S3 object bodies, passed through unread as the request's stream). Errors are S3's
bare `<Error>` (with the request id headers, no body for HEAD) or `<ErrorResponse><Error><Type/>..` for Route 53
and CloudFront.
"""

from __future__ import annotations

import base64
import hashlib
from typing import TYPE_CHECKING, Any

from overcast.errors import ServiceError
from overcast.http import HttpResponse
from overcast.protocol.common import (
    WireError,
    error_shape,
    error_status,
    layout_for,
    parse_rest_members,
    serialize_rest_members,
)
from overcast.protocol.query import error_fields_xml, sender_fault
from overcast.protocol.uri import template_for
from overcast.protocol.xml import (
    XML_DECLARATION,
    StructureNode,
    compile_shape,
    escape,
    namespace_attr,
    parse_xml,
)

if TYPE_CHECKING:  # pragma: no cover
    from botocore.model import OperationModel, ServiceModel

    from overcast.http import HttpRequest

S3_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"

# The document element of S3 responses whose output has no payload member (botocore ignores it; other
# SDKs and tools may not).
S3_ROOT_ELEMENTS = {
    "CompleteMultipartUpload": "CompleteMultipartUploadResult",
    "CreateMultipartUpload": "InitiateMultipartUploadResult",
    "CreateSession": "CreateSessionResult",
    "DeleteObjects": "DeleteResult",
    "GetBucketAccelerateConfiguration": "AccelerateConfiguration",
    "GetBucketAcl": "AccessControlPolicy",
    "GetObjectAcl": "AccessControlPolicy",
    "GetBucketCors": "CORSConfiguration",
    "GetBucketLifecycle": "LifecycleConfiguration",
    "GetBucketLifecycleConfiguration": "LifecycleConfiguration",
    "GetBucketLocation": "LocationConstraint",
    "GetBucketLogging": "BucketLoggingStatus",
    "GetBucketNotification": "NotificationConfiguration",
    "GetBucketNotificationConfiguration": "NotificationConfiguration",
    "GetBucketRequestPayment": "RequestPaymentConfiguration",
    "GetBucketTagging": "Tagging",
    "GetObjectTagging": "Tagging",
    "GetBucketVersioning": "VersioningConfiguration",
    "GetBucketWebsite": "WebsiteConfiguration",
    "GetObjectAttributes": "GetObjectAttributesResponse",
    "ListBucketAnalyticsConfigurations": "ListBucketAnalyticsConfigurationResult",
    "ListBucketIntelligentTieringConfigurations": "ListBucketIntelligentTieringConfigurationsOutput",
    "ListBucketInventoryConfigurations": "ListInventoryConfigurationsResult",
    "ListBucketMetricsConfigurations": "ListMetricsConfigurationsResult",
    "ListBuckets": "ListAllMyBucketsResult",
    "ListDirectoryBuckets": "ListAllMyDirectoryBucketsResult",
    "ListMultipartUploads": "ListMultipartUploadsResult",
    "ListObjectVersions": "ListVersionsResult",
    "ListObjects": "ListBucketResult",
    "ListObjectsV2": "ListBucketResult",
    "ListParts": "ListPartsResult",
}

_NAMESPACES: dict[int, tuple[Any, str | None]] = {}


def service_namespace(service: ServiceModel) -> str | None:
    """The XML namespace of the service's documents (found on its input shapes' xmlNamespace traits)."""
    hit = _NAMESPACES.get(id(service))
    if hit is not None:
        return hit[1]
    ns = None
    if service.service_name == "s3":
        ns = S3_NAMESPACE
    else:
        for name in service.operation_names:
            shape = service.operation_model(name).input_shape
            if shape is None:
                continue
            cands = [shape.serialization.get("xmlNamespace")]
            cands += [m.serialization.get("xmlNamespace") for m in shape.members.values()]
            for cand in cands:
                if cand:
                    ns = cand if isinstance(cand, str) else cand.get("uri")
                    break
            if ns:
                break
    _NAMESPACES[id(service)] = (service, ns)
    return ns


class _Plan:
    __slots__ = (
        "in_layout",
        "out_layout",
        "template",
        "in_payload_node",
        "in_body_node",
        "out_payload_node",
        "out_body_node",
        "out_root",
        "out_payload_root",
        "is_head",
        "is_s3",
        "default_status",
        "bad_input_code",
        "name",
        "ns_attr",
    )

    def __init__(self, operation: OperationModel) -> None:
        service = operation.service_model
        self.name = operation.name
        self.is_s3 = service.service_name == "s3"
        self.bad_input_code = "MalformedXML" if self.is_s3 else "InvalidInput"
        self.is_head = operation.http.get("method", "POST").upper() == "HEAD"
        self.default_status = int(operation.http.get("responseCode", 200))
        in_shape = operation.input_shape
        out_shape = operation.output_shape
        self.in_layout = layout_for(in_shape)
        self.out_layout = layout_for(out_shape)
        self.template = template_for(operation) if self.in_layout.uri else None
        self.in_payload_node = None
        self.in_body_node = None
        if self.in_layout.payload_kind in ("structure", "map", "list"):
            self.in_payload_node = compile_shape(self.in_layout.payload_shape, "xml")
        elif in_shape is not None and self.in_layout.body_members:
            self.in_body_node = compile_shape(in_shape, "xml")
        self.ns_attr = namespace_attr(service_namespace(service))
        self.out_payload_node = None
        self.out_body_node = None
        self.out_root = ""
        self.out_payload_root = ""
        layout = self.out_layout
        if layout.payload_kind in ("structure", "map", "list"):
            pshape = layout.payload_shape
            self.out_payload_node = compile_shape(pshape, "xml")
            self.out_payload_root = pshape.serialization.get("name") or pshape.name
        elif out_shape is not None and layout.body_members:
            self.out_body_node = compile_shape(out_shape, "xml")
            root = out_shape.serialization.get("name")
            if not root:
                root = (
                    S3_ROOT_ELEMENTS.get(self.name, f"{self.name}Result")
                    if self.is_s3
                    else f"{self.name}Response"
                )
            self.out_root = root


_PLANS: dict[tuple, tuple[Any, _Plan]] = {}


def plan_for(operation: OperationModel) -> _Plan:
    key = (id(operation.service_model), operation.name)
    hit = _PLANS.get(key)
    if hit is None:
        hit = _PLANS[key] = (operation.service_model, _Plan(operation))
    return hit[1]


# ------------------------------------------------------------------------------------------- requests


def parse(operation: OperationModel, request: HttpRequest) -> dict:
    plan = plan_for(operation)
    layout = plan.in_layout
    params: dict = {}
    labels = None
    if plan.template is not None:
        labels = plan.template.match(request.path)
    try:
        parse_rest_members(layout, labels, request, params)
    except WireError as exc:
        raise ServiceError("InvalidArgument", str(exc)) from exc
    kind = layout.payload_kind
    if kind is not None:
        name = layout.payload
        if kind == "blob":
            if request.stream is not None:
                params[name] = request.stream
            elif request.body:
                params[name] = bytes(request.body)
        elif kind == "string":
            if request.body:
                try:
                    params[name] = bytes(request.body).decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise ServiceError(plan.bad_input_code, "The request body is not valid UTF-8") from exc
        elif plan.in_payload_node is not None:
            body = _body_bytes(request)
            if body.strip():
                params[name] = _from_xml(plan, plan.in_payload_node, body)
    elif plan.in_body_node is not None:
        body = _body_bytes(request)
        if body.strip():
            parsed = _from_xml(plan, plan.in_body_node, body)
            for k, v in parsed.items():
                if k in layout.body_members:
                    params[k] = v
    return params


def _body_bytes(request: HttpRequest) -> bytes:
    body = request.body
    if isinstance(body, str):
        return body.encode("utf-8")
    return bytes(body) if body else b""


def _from_xml(plan: _Plan, node: Any, body: bytes) -> Any:
    try:
        return node.from_xml(parse_xml(body))
    except WireError as exc:
        raise ServiceError(plan.bad_input_code, str(exc)) from exc


# ------------------------------------------------------------------------------------------ responses


def _id_headers(plan_is_s3: bool, request_id: str) -> list[tuple[str, str]]:
    if plan_is_s3:
        return [("x-amz-request-id", request_id), ("x-amz-id-2", host_id(request_id)), ("Server", "AmazonS3")]
    return [("x-amzn-RequestId", request_id)]


def host_id(request_id: str) -> str:
    """S3's x-amz-id-2: an opaque token, stable per request id."""
    return base64.b64encode(hashlib.sha256(request_id.encode()).digest()).decode("ascii")


def serialize(operation: OperationModel, result: dict, request_id: str) -> HttpResponse:
    plan = plan_for(operation)
    layout = plan.out_layout
    headers = _id_headers(plan.is_s3, request_id)
    # "__status__": a status the model cannot express (S3 GetObject's 206 Partial Content).
    status = (
        serialize_rest_members(layout, result, headers) or result.get("__status__") or plan.default_status
    )
    body: Any = b""
    if plan.is_head:
        return HttpResponse(status, headers, b"")
    kind = layout.payload_kind
    if kind is not None:
        value = result.get(layout.payload)
        if kind == "eventstream" and value is not None and not isinstance(value, (bytes, bytearray)):
            from overcast.protocol.eventstream import encode_event_stream

            body = encode_event_stream(layout.payload_shape, value, xml_event_body, "text/xml")
            headers.append(("Content-Type", "application/vnd.amazon.eventstream"))
        elif kind in ("blob", "string", "eventstream"):
            if value is None:
                body = b""
            elif isinstance(value, str):
                body = value.encode("utf-8")
            elif isinstance(value, (bytearray, memoryview)):
                body = bytes(value)
            else:
                body = value  # bytes or an async iterator of bytes: passed through
        elif value is not None and plan.out_payload_node is not None:
            out = [XML_DECLARATION]
            node = plan.out_payload_node
            if isinstance(node, StructureNode):
                node.emit_root(out, plan.out_payload_root, value, plan.ns_attr)
            else:
                node.emit(out, plan.out_payload_root, value)
            body = "".join(out).encode("utf-8")
            headers.append(("Content-Type", "application/xml"))
    elif plan.out_body_node is not None:
        if plan.name == "GetBucketLocation" and plan.is_s3:
            loc = result.get("LocationConstraint") or ""
            body = (
                f'{XML_DECLARATION}\n<LocationConstraint xmlns="{S3_NAMESPACE}">{escape(loc)}</LocationConstraint>'
            ).encode()
        else:
            root = plan.out_root
            out = [XML_DECLARATION, f"<{root}{plan.ns_attr}>"]
            plan.out_body_node.emit_members(out, result)
            out.append(f"</{root}>")
            body = "".join(out).encode("utf-8")
        headers.append(("Content-Type", "application/xml"))
    if isinstance(body, bytes) and layout.payload_kind in ("blob", "string"):
        # a whole body in hand: its own length is the truth, whatever ContentLength the handler gave
        headers = [h for h in headers if h[0].lower() != "content-length"]
        headers.append(("Content-Length", str(len(body))))
    return HttpResponse(status, headers, body)


def xml_event_body(shape: Any, value: dict) -> bytes:
    """The XML payload of one event-stream event (or of its eventpayload member)."""
    out: list = []
    compile_shape(shape, "xml").emit(out, shape.serialization.get("name") or shape.name, value)
    return "".join(out).encode("utf-8")


def serialize_error(
    service: ServiceModel, operation: OperationModel | None, error: ServiceError, request_id: str
) -> HttpResponse:
    is_s3 = service.service_name == "s3"
    status = error_status(service, error)
    headers = _id_headers(is_s3, request_id)
    for k, v in error.headers.items():
        headers.append((k, str(v)))
    if status == 304 or operation is not None and operation.http.get("method", "").upper() == "HEAD":
        return HttpResponse(status, headers, b"")  # 304 Not Modified never has a body
    shape = error_shape(service, error.code)
    code = (shape.error_code or error.code) if shape is not None else error.code
    if is_s3:
        out = [
            XML_DECLARATION,
            f"\n<Error><Code>{escape(code)}</Code><Message>{escape(error.message or '')}</Message>",
        ]
        error_fields_xml(service, error, "xml", out)
        out.append(
            f"<RequestId>{escape(request_id)}</RequestId><HostId>{host_id(request_id)}</HostId></Error>"
        )
    else:
        ns = namespace_attr(service_namespace(service))
        out = [
            XML_DECLARATION,
            f"\n<ErrorResponse{ns}><Error><Type>{'Sender' if sender_fault(service, error, status) else 'Receiver'}"
            f"</Type><Code>{escape(code)}</Code><Message>{escape(error.message or '')}</Message>",
        ]
        error_fields_xml(service, error, "xml", out)
        out.append(f"</Error><RequestId>{escape(request_id)}</RequestId></ErrorResponse>")
    headers.append(("Content-Type", "application/xml"))
    return HttpResponse(status, headers, "".join(out).encode("utf-8"))
