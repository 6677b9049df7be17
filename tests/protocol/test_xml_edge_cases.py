"""Edge cases of the XML protocol family the generated round trips do not reach: awkward characters, empty
lists, streaming bodies, unsafe XML, S3's special responses and the exact error envelopes."""

from __future__ import annotations

import asyncio
import datetime as dt
from xml.etree import ElementTree

import pytest

from overcast.errors import ServiceError
from overcast.http import Headers, HttpRequest
from overcast.protocol import parse_request, rest_xml, serialize_error, serialize_response
from overcast.protocol.models import get_service_model
from tests.protocol.harness import client_parse, client_request

UTC = dt.UTC
NASTY = "a&b <c> \"d\" 'e' \u00e9\u4e2d\U0001f600 \t\nend "


def _op(service, name):
    return get_service_model(service).operation_model(name)


def _round_trip_in(protocol, service, name, params):
    operation = _op(service, name)
    return parse_request(protocol, operation, client_request(protocol, operation, params))


def _round_trip_out(protocol, service, name, result):
    operation = _op(service, name)
    parsed = client_parse(protocol, operation, serialize_response(protocol, operation, result, "rid"))
    parsed.pop("ResponseMetadata")
    return parsed


def test_awkward_characters_query():
    params = {"TopicArn": "arn:aws:sns:us-east-1:000000000000:t", "Message": NASTY, "Subject": "s&s"}
    assert _round_trip_in("query", "sns", "Publish", params) == params
    out = {"Attributes": {"k<": NASTY, "cr": "line\r\nnext"}}
    assert _round_trip_out("query", "sns", "GetTopicAttributes", out) == out


def test_awkward_characters_rest_xml():
    params = {"Bucket": "b", "Tagging": {"TagSet": [{"Key": "k&<>", "Value": NASTY}]}}
    assert _round_trip_in("rest-xml", "s3", "PutBucketTagging", params) == params
    out = {"TagSet": [{"Key": "k&<>", "Value": NASTY + "\r"}]}
    assert _round_trip_out("rest-xml", "s3", "GetBucketTagging", out) == out


def test_awkward_object_keys():
    for key in ["a/b/c.txt", "sp ace+plus", "uni\u00e9/\u4e2d", "q?x=1&y#z", "//double//", "%41"]:
        params = {"Bucket": "bucket", "Key": key}
        assert _round_trip_in("rest-xml", "s3", "GetObject", params) == params, key


def test_empty_lists_query_and_ec2():
    params = {"UserName": "bob", "Tags": []}
    assert _round_trip_in("query", "iam", "CreateUser", params) == params
    out = {"Users": [], "IsTruncated": False}
    assert _round_trip_out("query", "iam", "ListUsers", out) == out
    out = {"Reservations": []}
    assert _round_trip_out("ec2", "ec2", "DescribeInstances", out) == out


def test_timestamps_keep_milliseconds():
    when = dt.datetime(2024, 2, 29, 23, 59, 59, 123000, tzinfo=UTC)
    out = {"User": {"Path": "/", "UserName": "u", "UserId": "i", "Arn": "a", "CreateDate": when}}
    assert _round_trip_out("query", "iam", "GetUser", out)["User"]["CreateDate"] == when
    params = {"Namespace": "n", "MetricData": [{"MetricName": "m", "Timestamp": when, "Value": 1.0}]}
    assert _round_trip_in("query", "cloudwatch", "PutMetricData", params) == params


def test_ec2_nested_filters_and_capitalised_names():
    params = {
        "Filters": [
            {"Name": "tag:Name", "Values": ["a", "b"]},
            {"Name": "instance-state-name", "Values": ["running"]},
        ],
        "InstanceIds": ["i-1", "i-2"],
        "DryRun": False,
        "MaxResults": 10,
    }
    request = client_request("ec2", _op("ec2", "DescribeInstances"), params)
    assert b"Filter.1.Value.2=b" in request.body and b"InstanceId.2=i-2" in request.body
    assert _round_trip_in("ec2", "ec2", "DescribeInstances", params) == params


def test_streaming_request_body_is_passed_through_unread():
    class Stream:
        content_length = 3

        async def read(self, size=-1):  # pragma: no cover - never called
            raise AssertionError("the protocol layer must not read the body")

        def __aiter__(self):  # pragma: no cover
            raise AssertionError("the protocol layer must not read the body")

    stream = Stream()
    headers = Headers({"Content-Length": "3", "x-amz-meta-colour": "blue", "Content-Type": "text/plain"})
    request = HttpRequest("PUT", "/bucket/some/key", "", headers, b"", stream=stream)
    params = rest_xml.parse(_op("s3", "PutObject"), request)
    assert params["Body"] is stream
    assert params["Bucket"] == "bucket" and params["Key"] == "some/key"
    assert params["Metadata"] == {"colour": "blue"} and params["ContentLength"] == 3


def test_streaming_response_body_is_passed_through():
    async def chunks():
        yield b"he"
        yield b"llo"

    body = chunks()
    response = serialize_response("rest-xml", _op("s3", "GetObject"), {"Body": body, "ContentLength": 5}, "r")
    assert response.body is body
    assert ("Content-Length", "5") in response.headers

    async def collect():
        return b"".join([c async for c in response.body])

    assert asyncio.run(collect()) == b"hello"


def test_head_responses_have_no_body():
    response = serialize_response("rest-xml", _op("s3", "HeadBucket"), {"BucketRegion": "eu-west-1"}, "r")
    assert response.body == b""
    assert ("x-amz-bucket-region", "eu-west-1") in response.headers
    s3 = get_service_model("s3")
    error = serialize_error("rest-xml", s3, _op("s3", "HeadObject"), ServiceError("NoSuchKey", "gone"), "r")
    assert error.status == 404 and error.body == b""
    assert dict(error.headers)["x-amz-request-id"] == "r"


def test_get_bucket_location_is_a_bare_element():
    for region, text in (("eu-west-1", "eu-west-1"), (None, None)):
        result = {"LocationConstraint": region} if region else {}
        response = serialize_response("rest-xml", _op("s3", "GetBucketLocation"), result, "r")
        root = ElementTree.fromstring(response.body)
        assert root.tag == "{http://s3.amazonaws.com/doc/2006-03-01/}LocationConstraint"
        assert root.text == text


def test_s3_document_elements():
    response = serialize_response("rest-xml", _op("s3", "ListBuckets"), {"Buckets": [{"Name": "b"}]}, "r")
    root = ElementTree.fromstring(response.body)
    assert root.tag == "{http://s3.amazonaws.com/doc/2006-03-01/}ListAllMyBucketsResult"
    assert root.find("{*}Buckets/{*}Bucket/{*}Name").text == "b"


def test_s3_error_envelope():
    s3 = get_service_model("s3")
    response = serialize_error(
        "rest-xml",
        s3,
        _op("s3", "GetObject"),
        ServiceError("NoSuchBucket", "The bucket does not exist", BucketName="bk"),
        "rid-7",
    )
    assert response.status == 404
    headers = dict(response.headers)
    assert headers["x-amz-request-id"] == "rid-7" and headers["x-amz-id-2"]
    root = ElementTree.fromstring(response.body)
    assert root.tag == "Error"
    assert [c.tag for c in root] == ["Code", "Message", "BucketName", "RequestId", "HostId"]
    assert root.findtext("BucketName") == "bk"


def test_route53_and_query_error_envelopes():
    r53 = get_service_model("route53")
    response = serialize_error(
        "rest-xml", r53, _op("route53", "GetHostedZone"), ServiceError("NoSuchHostedZone", "no"), "r1"
    )
    root = ElementTree.fromstring(response.body)
    assert root.tag.endswith("ErrorResponse")
    assert [c.tag.split("}")[-1] for c in root.find("{*}Error")] == ["Type", "Code", "Message"]
    assert root.findtext("{*}RequestId") == "r1"
    iam = get_service_model("iam")
    response = serialize_error(
        "query", iam, None, ServiceError("ServiceFailure", "bad", sender_fault=False), "r2"
    )
    root = ElementTree.fromstring(response.body)
    assert response.status == 500
    assert root.findtext("{*}Error/{*}Type") == "Receiver"
    assert root.findtext("{*}Error/{*}Code") == "ServiceFailure"


def test_ec2_error_envelope():
    ec2 = get_service_model("ec2")
    response = serialize_error(
        "ec2", ec2, None, ServiceError("InvalidInstanceID.NotFound", "no such instance"), "r3"
    )
    assert response.status == 400
    root = ElementTree.fromstring(response.body)
    assert root.tag == "Response"
    assert root.findtext("Errors/Error/Code") == "InvalidInstanceID.NotFound"
    assert root.findtext("RequestID") == "r3"
    parsed = client_parse("ec2", _op("ec2", "DescribeInstances"), response)
    assert parsed["Error"]["Code"] == "InvalidInstanceID.NotFound"
    assert parsed["ResponseMetadata"]["RequestId"] == "r3"


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]><Tagging><TagSet><Tag><Key>&e;</Key>'
        b"<Value>v</Value></Tag></TagSet></Tagging>",
        b"<Tagging><TagSet><Tag><Key>unclosed</Tagging>",
    ],
)
def test_unsafe_or_malformed_xml_is_refused(body):
    request = HttpRequest("PUT", "/bucket", "tagging", Headers({"Content-Type": "application/xml"}), body)
    with pytest.raises(ServiceError) as info:
        rest_xml.parse(_op("s3", "PutBucketTagging"), request)
    assert info.value.code == "MalformedXML"


def test_malformed_query_values():
    request = HttpRequest(
        "POST",
        "/",
        "",
        Headers({"Content-Type": "application/x-www-form-urlencoded"}),
        b"Action=ListUsers&Version=2010-05-08&MaxItems=lots",
    )
    with pytest.raises(ServiceError):
        parse_request("query", _op("iam", "ListUsers"), request)


def test_request_id_header_and_content_type():
    response = serialize_response("query", _op("sts", "GetCallerIdentity"), {"Account": "1"}, "rid-q")
    headers = dict(response.headers)
    assert headers["x-amzn-RequestId"] == "rid-q"
    assert headers["Content-Type"].startswith("text/xml")


# ---------------------------------------------------------------- through a real botocore client (handlers on)


class _Raw:
    def __init__(self, data: bytes) -> None:
        import io

        self._io = io.BytesIO(data)

    def stream(self, amt=1024, decode_content=None):
        while True:
            chunk = self._io.read(amt)
            if not chunk:
                return
            yield chunk

    def read(self, amt=None, decode_content=None):
        return self._io.read() if amt is None else self._io.read(amt)


def _client(service, answer):
    """A real botocore client whose HTTP send is answered in process by `answer(operation, request)`."""
    import botocore.session
    from botocore.awsrequest import AWSResponse

    from tests.protocol.harness import collect

    session = botocore.session.get_session()
    client = session.create_client(
        service,
        region_name="us-east-1",
        endpoint_url="http://localhost:4566",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    model = get_service_model(service)

    def send(request, **kwargs):
        from urllib.parse import urlsplit

        operation = model.operation_model(kwargs["event_name"].split(".")[-1])
        split = urlsplit(request.url)
        headers = Headers(
            {k: (v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()}
        )
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        elif hasattr(body, "read"):
            body = body.read()
        http_request = HttpRequest(request.method, split.path or "/", split.query, headers, bytes(body))
        response = answer(operation, http_request)
        return AWSResponse(request.url, response.status, dict(response.headers), _Raw(collect(response.body)))

    client.meta.events.register("before-send", send)
    return client


def test_real_client_s3():
    s3 = get_service_model("s3")
    seen = {}

    def answer(operation, request):
        protocol = "rest-xml"
        params = parse_request(protocol, operation, request)
        seen[operation.name] = params
        if operation.name == "GetBucketLocation":
            return serialize_response(protocol, operation, {"LocationConstraint": "eu-west-1"}, "r1")
        if operation.name == "ListObjectsV2":
            result = {
                "Name": params["Bucket"],
                "KeyCount": 1,
                "IsTruncated": False,
                "Contents": [{"Key": "a&b", "Size": 3}],
            }
            return serialize_response(protocol, operation, result, "r2")
        if operation.name == "HeadObject":
            return serialize_error(protocol, s3, operation, ServiceError("NoSuchKey", "nope"), "r3")
        if operation.name == "GetObject":
            return serialize_response(
                protocol, operation, {"Body": b"hello", "ContentLength": 5, "Metadata": {"m": "v"}}, "r4"
            )
        return serialize_error(
            protocol, s3, operation, ServiceError("NoSuchBucket", "no bucket", BucketName="bk"), "r5"
        )

    client = _client("s3", answer)
    assert client.get_bucket_location(Bucket="bk")["LocationConstraint"] == "eu-west-1"
    listing = client.list_objects_v2(Bucket="bk", Prefix="a")
    assert listing["Contents"][0]["Key"] == "a&b"
    assert seen["ListObjectsV2"]["Prefix"] == "a"
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as info:
        client.head_object(Bucket="bk", Key="k")
    assert info.value.response["Error"]["Code"] == "404"
    got = client.get_object(Bucket="bk", Key="dir/k y")
    assert got["Body"].read() == b"hello" and got["Metadata"] == {"m": "v"}
    assert seen["GetObject"]["Key"] == "dir/k y"
    with pytest.raises(client.exceptions.NoSuchBucket) as info:
        client.delete_bucket(Bucket="bk")
    assert info.value.response["Error"]["BucketName"] == "bk"
    assert info.value.response["ResponseMetadata"]["RequestId"] == "r5"


def test_real_client_query_and_ec2_errors_map_to_modeled_exceptions():
    iam = get_service_model("iam")

    def answer(operation, request):
        parse_request("query", operation, request)
        return serialize_error(
            "query", iam, operation, ServiceError("NoSuchEntityException", "no user"), "r6"
        )

    client = _client("iam", answer)
    with pytest.raises(client.exceptions.NoSuchEntityException) as info:
        client.get_user(UserName="ghost")
    assert info.value.response["Error"]["Code"] == "NoSuchEntity"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404

    ec2 = get_service_model("ec2")

    def answer_ec2(operation, request):
        params = parse_request("ec2", operation, request)
        if operation.name == "DescribeInstances":
            assert params["InstanceIds"] == ["i-1"]
            return serialize_response(
                "ec2",
                operation,
                {"Reservations": [{"ReservationId": "r-1", "Instances": [{"InstanceId": "i-1"}]}]},
                "r7",
            )
        return serialize_error("ec2", ec2, operation, ServiceError("InvalidVpcID.NotFound", "no vpc"), "r8")

    client = _client("ec2", answer_ec2)
    reservations = client.describe_instances(InstanceIds=["i-1"])["Reservations"]
    assert reservations[0]["Instances"][0]["InstanceId"] == "i-1"
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as info:
        client.delete_vpc(VpcId="vpc-1")
    assert info.value.response["Error"]["Code"] == "InvalidVpcID.NotFound"
    assert info.value.response["ResponseMetadata"]["RequestId"] == "r8"


def test_s3_select_event_stream():
    operation = _op("s3", "SelectObjectContent")

    async def events():
        yield {"Records": {"Payload": b"a,b\n"}}
        yield {"Stats": {"Details": {"BytesScanned": 10, "BytesProcessed": 9, "BytesReturned": 4}}}
        yield {"Progress": {"Details": {"BytesScanned": 10}}}
        yield {"Cont": {}}
        yield {"End": {}}

    response = serialize_response("rest-xml", operation, {"Payload": events()}, "rid")
    parsed = client_parse("rest-xml", operation, response)
    got = list(parsed["Payload"])
    assert got == [
        {"Records": {"Payload": b"a,b\n"}},
        {"Stats": {"Details": {"BytesScanned": 10, "BytesProcessed": 9, "BytesReturned": 4}}},
        {"Progress": {"Details": {"BytesScanned": 10}}},
        {"Cont": {}},
        {"End": {}},
    ]
