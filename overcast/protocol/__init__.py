"""The protocol layer: botocore service models -> request parsers and response/error serializers.

    params = parse_request(protocol, operation, request)        # dict shaped like the boto3 call's kwargs
    response = serialize_response(protocol, operation, result, request_id)
    response = serialize_error(protocol, service, operation, error, request_id)

Each protocol lives in its own module exposing `parse(operation, request) -> dict`,
`serialize(operation, result, request_id) -> HttpResponse` and
`serialize_error(service, operation, error, request_id) -> HttpResponse`; modules are imported lazily on
first use, and nothing here loads botocore at import time.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from botocore.model import OperationModel, ServiceModel

    from overcast.errors import ServiceError
    from overcast.http import HttpRequest, HttpResponse

PROTOCOLS = ("query", "ec2", "json", "json-cbor", "rest-json", "rest-xml", "smithy-rpc-v2-cbor")

_MODULES = {
    "query": "overcast.protocol.query",
    "ec2": "overcast.protocol.ec2",
    "json": "overcast.protocol.json_protocol",
    "json-cbor": "overcast.protocol.json_cbor",
    "rest-json": "overcast.protocol.rest_json",
    "rest-xml": "overcast.protocol.rest_xml",
    "smithy-rpc-v2-cbor": "overcast.protocol.cbor_protocol",
}

_loaded: dict[str, Any] = {}


def protocol_module(protocol: str):
    """The module implementing `protocol` (imported on first use)."""
    module = _loaded.get(protocol)
    if module is None:
        try:
            name = _MODULES[protocol]
        except KeyError:
            raise ValueError(f"unknown protocol {protocol!r}") from None
        module = _loaded[protocol] = importlib.import_module(name)
    return module


def parse_request(protocol: str, operation: OperationModel, request: HttpRequest) -> dict:
    """The params dict exactly as the boto3 caller passed them, validated against the model."""
    params = protocol_module(protocol).parse(operation, request)
    from overcast.protocol.validate import validate

    validate(operation, params, protocol)
    return params


def serialize_response(
    protocol: str, operation: OperationModel, result: dict, request_id: str
) -> HttpResponse:
    """The HTTP response for `result` (a dict shaped like the boto3 response)."""
    return protocol_module(protocol).serialize(operation, result if result is not None else {}, request_id)


def serialize_error(
    protocol: str,
    service: ServiceModel,
    operation: OperationModel | None,
    error: ServiceError,
    request_id: str,
) -> HttpResponse:
    """The HTTP response for a ServiceError, as the real service sends it."""
    return protocol_module(protocol).serialize_error(service, operation, error, request_id)


# The model that words errors raised before any service is known (no route), per protocol guessed from the
# request: its error shapes and envelope are the protocol's usual ones.
_UNROUTED_MODELS = {"smithy-rpc-v2-cbor": "cloudwatch", "json": "dynamodb", "query": "sts", "rest-xml": "s3"}


def serialize_unrouted_error(request: HttpRequest, error: ServiceError, request_id: str) -> HttpResponse:
    """The response to a request that failed before it was routed to a service (bad signature, unknown
    operation), in the protocol its headers and body suggest."""
    from overcast.protocol.models import get_service_model

    headers = request.headers
    if headers.get("smithy-protocol") == "rpc-v2-cbor":
        protocol = "smithy-rpc-v2-cbor"
    elif "x-amz-target" in headers:
        protocol = "json"
    elif headers.get("content-type", "").startswith("application/x-www-form-urlencoded") or (
        "Action=" in request.query
    ):
        protocol = "query"
    else:
        protocol = "rest-xml"
    return serialize_error(protocol, get_service_model(_UNROUTED_MODELS[protocol]), None, error, request_id)


def __getattr__(name: str):  # lazy re-exports
    if name == "validate":
        from overcast.protocol.validate import validate

        return validate
    if name == "get_service_model":
        from overcast.protocol.models import get_service_model

        return get_service_model
    if name in ("UriTemplate", "template_for"):
        from overcast.protocol import uri

        return getattr(uri, name)
    raise AttributeError(name)


__all__ = ["PROTOCOLS", "parse_request", "serialize_response", "serialize_error", "protocol_module"]
