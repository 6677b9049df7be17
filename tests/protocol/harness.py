"""Glue between botocore's client-side serializers/parsers and our server-side protocol layer."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from botocore.awsrequest import HeadersDict, create_request_object, prepare_request_dict
from botocore.parsers import create_parser
from botocore.serialize import create_serializer

from overcast.http import Headers, HttpRequest, HttpResponse


def client_request(protocol: str, operation, params: dict) -> HttpRequest:
    """What a boto3 client sends for `params`, as the HttpRequest our server would build."""
    serializer = create_serializer(protocol, include_validation=False)
    req = serializer.serialize_to_request(params, operation)
    prepare_request_dict(req, endpoint_url="http://localhost:4566")
    prepared = create_request_object(req).prepare()
    split = urlsplit(prepared.url)
    headers = Headers()
    for k, v in prepared.headers.items():
        headers.add(k, v.decode("latin-1") if isinstance(v, bytes) else str(v))
    body = prepared.body
    if body is None:
        body = b""
    elif isinstance(body, str):
        body = body.encode("utf-8")
    elif hasattr(body, "read"):
        body = body.read()
    return HttpRequest(prepared.method, split.path or "/", split.query, headers, bytes(body))


def collect(body) -> bytes:
    if isinstance(body, (bytes, bytearray)):
        return bytes(body)

    async def run():
        out = bytearray()
        async for chunk in body:
            out += chunk
        return bytes(out)

    return asyncio.run(run())


class _RawStream:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_):
        yield self.data

    def read(self, *_):
        data, self.data = self.data, b""
        return data

    def close(self):
        pass


def client_parse(protocol: str, operation, response: HttpResponse, shape=None) -> dict:
    """What a boto3 client makes of our HttpResponse."""
    from botocore.response import StreamingBody

    headers = HeadersDict()
    for k, v in response.headers:
        headers[k] = v
    data = collect(response.body)
    body: object = data
    if response.status < 300:
        if operation.has_event_stream_output:
            body = _RawStream(data)
        elif operation.has_streaming_output:
            import io

            body = StreamingBody(io.BytesIO(data), len(data))
    response_dict = {
        "status_code": response.status,
        "headers": headers,
        "body": body,
        "context": {"operation_name": operation.name},
    }
    parser = create_parser(protocol)
    return parser.parse(response_dict, shape if shape is not None else operation.output_shape)
