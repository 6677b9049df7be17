"""Identify service, operation, protocol, region and (for S3) the bucket of any request a real client sends.

Order of evidence: the host (virtual-hosted S3, `sqs.us-east-1.localhost`, `*.amazonaws.com`), the protocol
markers (`smithy-protocol` for CBOR, `X-Amz-Target` for JSON, `Action=` for query/EC2), the SigV4 credential
scope's service, and finally, for REST protocols, method + path + query + headers matched against the
model's `requestUri` templates and the input's required header/query members.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING

from overcast.errors import ServiceError
from overcast.http import HttpRequest, decode_form
from overcast.routing.index import ServiceInfo, service_index

if TYPE_CHECKING:
    from botocore.model import OperationModel

FORM = "application/x-www-form-urlencoded"
REST_PROTOCOLS = ("rest-xml", "rest-json")
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
# Signing names some operations use that no service model declares as its own.
_SIGNING_ALIASES = {"s3express": "s3", "s3-outposts": "s3", "s3-object-lambda": "s3"}
_LOCAL_SUFFIXES = (".localhost.localstack.cloud", ".localhost", ".amazonaws.com", ".amazonaws.com.cn")


@dataclass
class Route:
    service: str
    operation: str
    protocol: str
    region: str | None  # from the host; the signature's scope wins when present

    @property
    def operation_model(self) -> OperationModel:
        from overcast.protocol.models import get_operation_model

        return get_operation_model(self.service, self.operation)


@dataclass
class HostInfo:
    service: str | None = None
    region: str | None = None
    bucket: str | None = None


def resolve(request: HttpRequest, signing_service: str | None) -> Route:
    """Route `request`. For virtual-hosted S3 the bucket is moved into `request.path` (path style)."""
    signing_service = _SIGNING_ALIASES.get(signing_service, signing_service) if signing_service else None
    host = parse_host(request.host)
    if request.path.startswith("/v20180820/") and "x-amz-account-id" in request.headers:
        # S3 Control (signed as s3): `<account>.s3-control.<region>.amazonaws.com`, or the account id put in
        # front of a local endpoint's host (`000000000000.localhost`), is no bucket
        host = HostInfo("s3control", host.region if host.service == "s3control" else None)
    if host.bucket:
        request.path = "/" + host.bucket + (request.path if request.path != "/" else "/")
        if request.path.endswith("/") and request.path.count("/") == 2:
            request.path = request.path[:-1]
    headers = request.headers

    if headers.get("smithy-protocol") == "rpc-v2-cbor":
        return _route_cbor(request, host)
    target = headers.get("x-amz-target")
    if target:
        cbor = (headers.get("content-type") or "").startswith("application/x-amz-cbor")
        return _route_json(target, host, "json-cbor" if cbor else "json")
    if _is_query_request(request):
        return _route_query(request, signing_service, host)
    return _route_rest(request, signing_service, host)


# -- hosts ------------------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def parse_host(host: str) -> HostInfo:
    name = host.rsplit(":", 1)[0].lower() if not host.startswith("[") else host
    suffix = next((s for s in _LOCAL_SUFFIXES if name.endswith(s)), None)
    if suffix is None:
        return HostInfo()
    labels = name[: -len(suffix)].split(".") if name != suffix.lstrip(".") else []
    if suffix == ".localhost.localstack.cloud" and not labels:
        return HostInfo()
    index = service_index()
    # <bucket>.s3[.<region>|-<region>].<suffix>
    for i, label in enumerate(labels):
        if label == "s3" or label.startswith("s3-") and _REGION.match(label[3:]):
            region = label[3:] if label.startswith("s3-") else _region_at(labels, i + 1)
            bucket = ".".join(labels[:i]) or None
            if bucket or i == 0:
                return HostInfo("s3", region, bucket)
    if labels and labels[0] in index.by_endpoint_prefix:
        return HostInfo(index.by_endpoint_prefix[labels[0]][0].name, _region_at(labels, 1))
    if labels and suffix == ".localhost":
        # bucket.localhost (and dotted bucket names): S3 virtual-hosted style.
        return HostInfo("s3", None, ".".join(labels))
    return HostInfo()


def _region_at(labels: list[str], i: int) -> str | None:
    return labels[i] if i < len(labels) and _REGION.match(labels[i]) else None


# -- protocol markers -------------------------------------------------------------------------------


def _route_cbor(request: HttpRequest, host: HostInfo) -> Route:
    # /service/{ServiceShape}/operation/{Operation}
    parts = request.path.strip("/").split("/")
    if len(parts) != 4 or parts[0] != "service" or parts[2] != "operation":
        raise ServiceError("UnknownOperationException", "Malformed RPC v2 CBOR request path", 404)
    infos = service_index().by_target_prefix.get(parts[1], [])
    info = _pick(infos, host)
    if info is None:
        raise ServiceError("UnknownOperationException", f"Unknown service {parts[1]}", 404)
    return Route(
        info.name,
        _known_operation(info, parts[3], "UnknownOperationException"),
        "smithy-rpc-v2-cbor",
        host.region,
    )


def _route_json(target: str, host: HostInfo, protocol: str = "json") -> Route:
    """awsJson by X-Amz-Target; `json-cbor` when the body is CBOR (the Java SDKs' Kinesis and CloudWatch)."""
    prefix, _, operation = target.rpartition(".")
    infos = service_index().by_target_prefix.get(prefix, [])
    info = _pick(infos, host)
    if info is None:
        raise ServiceError("UnknownOperationException", f"Unknown target {target}", 400)
    return Route(
        info.name, _known_operation(info, operation, "UnknownOperationException"), protocol, host.region
    )


def _is_query_request(request: HttpRequest) -> bool:
    if request.method == "POST":
        content_type = request.headers.get("content-type", "")
        return content_type.startswith(FORM) and (b"Action=" in request.body or "Action=" in request.query)
    if request.method == "GET":
        return request.query.startswith("Action=") or "&Action=" in request.query
    return False


def _route_query(request: HttpRequest, signing_service: str | None, host: HostInfo) -> Route:
    source = request.query  # a POST's parameters may be in its URL, its body, or both
    if request.method == "POST" and request.body:
        body = request.body.decode("utf-8", "replace")
        source = f"{source}&{body}" if source else body
    form = decode_form(source)
    action = form.get("Action", [""])[0]
    version = form.get("Version", [""])[0]
    index = service_index()
    candidates: list[ServiceInfo] = []
    if signing_service:
        candidates = index.by_signing_name.get(signing_service, [])
    if not candidates and host.service:
        candidates = [index.services[host.service]]
    if len(candidates) != 1 and version:
        by_version = index.by_api_version.get(version, [])
        candidates = [i for i in by_version if i in candidates] or by_version if candidates else by_version
    if not candidates:  # an unsigned link without a version (SNS's UnsubscribeURL): the ARN it carries
        candidates = _by_arn_evidence(form)
    query_capable = [i for i in candidates if {"query", "ec2"} & set(i.protocols)] or candidates
    info = _pick(query_capable, host)
    if info is None:
        raise ServiceError("InvalidAction", f"Could not find a service for Action={action}", 400)
    protocol = "ec2" if "ec2" in info.protocols else "query"
    return Route(info.name, _known_operation(info, action, "InvalidAction"), protocol, host.region)


def _by_arn_evidence(form: dict[str, list[str]]) -> list[ServiceInfo]:
    """The services named by the ARNs among a query request's values (`arn:aws:sns:...` → sns)."""
    index = service_index()
    found: list[ServiceInfo] = []
    for values in form.values():
        for value in values:
            parts = value.split(":", 3)
            if len(parts) == 4 and parts[0] == "arn":
                for info in index.by_signing_name.get(parts[2], []):
                    if info not in found:
                        found.append(info)
    return found


def _pick(infos: list[ServiceInfo], host: HostInfo) -> ServiceInfo | None:
    if host.service:
        for info in infos:
            if info.name == host.service:
                return info
    return infos[0] if infos else None


@cache
def _operation_names(service: str) -> frozenset[str]:
    from overcast.protocol.models import get_service_model

    return frozenset(get_service_model(service).operation_names)


def _known_operation(info: ServiceInfo, operation: str, code: str) -> str:
    if operation not in _operation_names(info.name):
        message = f"The action or operation {operation} is not valid for service {info.name}"
        raise ServiceError(code, message, 400)
    return operation


# -- REST -------------------------------------------------------------------------------------------


def _route_rest(request: HttpRequest, signing_service: str | None, host: HostInfo) -> Route:
    index = service_index()
    if host.service:
        candidates = [index.services[host.service]]
    elif signing_service:
        candidates = index.by_signing_name.get(signing_service) or index.by_endpoint_prefix.get(
            signing_service, []
        )
    else:  # anonymous: browsers, curl, presigned-less public reads are S3
        candidates = [index.services["s3"]]
    candidates = [i for i in candidates if set(i.protocols) & set(REST_PROTOCOLS)]
    query = request.query_params()
    best: tuple[tuple, str, str] | None = None
    for info in candidates:
        for score, operation in _match_operations(info.name, request, query):
            # A service named like the signing name wins ties (s3 over s3control, lambda over lambda-core).
            ranked = (score, info is candidates[0])
            if best is None or ranked > best[0]:
                best = (ranked, info.name, operation)
        if best and info is candidates[0]:
            break  # the primary service matched: do not look at its lookalikes
    if best is None:
        service = candidates[0].name if candidates else (signing_service or "unknown")
        raise ServiceError(
            "UnknownOperationException",
            f"No {service} operation matches {request.method} {request.path}",
            404 if service != "s3" else 405,
        )
    _, service, operation = best
    protocol = "rest-xml" if "rest-xml" in index.services[service].protocols else "rest-json"
    return Route(service, operation, protocol, host.region)


@dataclass(frozen=True)
class _RestOperation:
    name: str
    template: object  # UriTemplate
    required_query: tuple[str, ...]
    required_headers: tuple[str, ...]
    current: bool  # not deprecated: of two operations with the same request form, AWS serves the current one
    prefix: str  # the path's literal start (before the first label): a path without it cannot match


@cache
def _rest_operations(service: str) -> dict[str, list[_RestOperation]]:
    """Per HTTP method, the operations of a REST service with what a request must carry to be each."""
    from overcast.protocol.models import get_service_model
    from overcast.protocol.uri import template_for

    model = get_service_model(service)
    by_method: dict[str, list[_RestOperation]] = {}
    for name in model.operation_names:
        op = model.operation_model(name)
        query, headers = [], []
        shape = op.input_shape
        if shape is not None:
            for member_name in shape.required_members:
                member = shape.members[member_name]
                location = member.serialization.get("location")
                if location == "querystring":
                    query.append(member.serialization.get("name", member_name))
                elif location == "header":
                    headers.append(member.serialization.get("name", member_name).lower())
        uri = op.http.get("requestUri", "/").split("?", 1)[0]
        # (a template without labels matches with or without its trailing slash)
        prefix = uri.split("{", 1)[0] if "{" in uri else uri.removesuffix("/")
        entry = _RestOperation(
            name, template_for(op), tuple(query), tuple(headers), not op.deprecated, prefix
        )
        by_method.setdefault(op.http.get("method", "POST"), []).append(entry)
    return by_method


@cache
def _query_and_header_evidence(service: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The query keys whose value some template of `service` names ('?list-type=2'), and every header some
    operation requires: with the set of query keys, all that the non-path checks of a match look at."""
    valued: set[str] = set()
    headers: set[str] = set()
    for ops in _rest_operations(service).values():
        for op in ops:
            valued.update(k for k, v in op.template.query_literals.items() if v is not None)
            headers.update(op.required_headers)
    return tuple(sorted(valued)), tuple(sorted(headers))


_FILTERED: dict[tuple, tuple[_RestOperation, ...]] = {}


def _query_header_candidates(
    service: str, method: str, query: dict[str, list[str]], headers
) -> tuple[_RestOperation, ...]:
    """The operations of `service` whose query literals, required query members and required headers the
    request has (cached per combination: a client repeats a handful of them), in model order."""
    valued, header_names = _query_and_header_evidence(service)
    present = headers.lowered()
    key = (
        service,
        method,
        tuple(query),  # the keys in the client's order: one client repeats one order
        tuple(query[k][0] for k in valued if k in query),
        tuple(h in present for h in header_names),
    )
    found = _FILTERED.get(key)
    if found is None:
        flat_query = {k: v[0] for k, v in query.items()}
        found = tuple(
            op
            for op in _rest_operations(service).get(method, ())
            if op.template.matches_query(flat_query)
            and all(q in flat_query for q in op.required_query)
            and all(h in present for h in op.required_headers)
        )
        if (
            len(_FILTERED) >= 4096
        ):  # arbitrary query keys (presigned URLs carry the client's own) must not grow it
            _FILTERED.clear()
        _FILTERED[key] = found
    return found


def _match_operations(service: str, request: HttpRequest, query: dict[str, list[str]]):
    """(score, operation) for each operation of `service` that the request could be."""
    path = request.path
    for op in _query_header_candidates(service, request.method, query, request.headers):
        template = op.template
        if not path.startswith(op.prefix) or template.match(path) is None:
            continue
        evidence = len(template.query_literals) + len(op.required_query) + len(op.required_headers)
        yield (evidence, op.current, template.literal_length, -len(template.labels)), op.name
