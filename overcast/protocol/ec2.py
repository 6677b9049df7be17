"""The EC2 protocol: query-like requests with EC2's naming rules (queryName, else the capitalised
locationName; lists as `Name.N` without `.member`), responses `<{Op}Response xmlns=..><requestId>..` with the
members directly inside, errors `<Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/>`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from overcast.errors import ServiceError
from overcast.http import HttpResponse
from overcast.protocol.common import error_shape, error_status
from overcast.protocol.query import error_fields_xml, form_pairs, parse_pairs, plan_for
from overcast.protocol.xml import escape

if TYPE_CHECKING:  # pragma: no cover
    from botocore.model import OperationModel, ServiceModel

    from overcast.http import HttpRequest

EC2_NAMESPACE = "http://ec2.amazonaws.com/doc/2016-11-15/"


def _namespace(service: ServiceModel) -> str:
    ns = service.metadata.get("xmlNamespace") or EC2_NAMESPACE
    return ns if ns.endswith("/") else ns + "/"


def parse(operation: OperationModel, request: HttpRequest) -> dict:
    return parse_pairs(plan_for(operation, "ec2"), form_pairs(request))


def _headers(request_id: str) -> list[tuple[str, str]]:
    return [("Content-Type", "text/xml;charset=UTF-8"), ("x-amzn-RequestId", request_id)]


def serialize(operation: OperationModel, result: dict, request_id: str) -> HttpResponse:
    plan = plan_for(operation, "ec2")
    name = operation.name
    out = [
        f'<?xml version="1.0" encoding="UTF-8"?>\n<{name}Response xmlns="{_namespace(operation.service_model)}">',
        f"<requestId>{escape(request_id)}</requestId>",
    ]
    if plan.output is not None and result:
        plan.output.emit_members(out, result)
    out.append(f"</{name}Response>")
    return HttpResponse(200, _headers(request_id), "".join(out).encode("utf-8"))


def serialize_error(
    service: ServiceModel, operation: OperationModel | None, error: ServiceError, request_id: str
) -> HttpResponse:
    status = error_status(service, error)
    code = error.code
    shape = error_shape(service, code)
    if shape is not None:
        code = shape.error_code or code
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>',
        f"<Code>{escape(code)}</Code><Message>{escape(error.message or '')}</Message>",
    ]
    error_fields_xml(service, error, "ec2", out)
    out.append(f"</Error></Errors><RequestID>{escape(request_id)}</RequestID></Response>")
    headers = _headers(request_id)
    for k, v in error.headers.items():
        headers.append((k, str(v)))
    return HttpResponse(status, headers, "".join(out).encode("utf-8"))
