"""SigV4 parsing and verification against requests signed by botocore itself."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from overcast.auth import derive_signing_key, parse_sigv4, verify_sigv4
from overcast.errors import ServiceError
from overcast.http import Headers, HttpRequest

from .helpers import ACCESS_KEY, SECRET_KEY, capturing_client, to_http, url_request

CREDS = Credentials(ACCESS_KEY, SECRET_KEY)


def signed(auth_cls, method, url, *, service, region="us-east-1", data=None, headers=None, creds=CREDS, **kw):
    request = AWSRequest(method=method, url=url, data=data, headers=headers or {})
    auth_cls(creds, service, region, **kw).add_auth(request)
    return request


def expect(exc_info, code, status):
    err = exc_info.value
    assert (err.code, err.status) == (code, status), (err.code, err.status, err.message)
    return err


def tamper_query(url: str, key: str, value: str) -> str:
    parts = urlsplit(url)
    params = [(k, value if k == key else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    return urlunsplit(parts._replace(query=urlencode(params, safe="/", quote_via=_quote)))


def _quote(s, safe="", encoding=None, errors=None):
    from urllib.parse import quote

    return quote(s, safe="-_.~")


# ------------------------------------------------------------------------------------------- query / json


def test_query_protocol_post_roundtrip_and_rejections():
    body = "Action=SendMessage&Version=2012-11-05&QueueUrl=http%3A%2F%2Flocalhost%3A4566%2F000000000000%2Fq&MessageBody=hi+there"
    request = signed(
        SigV4Auth,
        "POST",
        "http://localhost:4566/",
        service="sqs",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    http = to_http(request)
    sig = parse_sigv4(http)
    assert sig is not None
    assert (sig.access_key_id, sig.region, sig.service, sig.presigned) == (
        ACCESS_KEY,
        "us-east-1",
        "sqs",
        False,
    )
    assert "host" in sig.signed_headers and "x-amz-date" in sig.signed_headers
    assert abs(sig.signed_at.timestamp() - time.time()) < 60 and sig.signed_at.tzinfo is not None
    assert sig.expires is None and sig.security_token is None and sig.content_sha256 is None
    now = time.time()
    verify_sigv4(http, sig, SECRET_KEY, now, error_style="query")

    with pytest.raises(ServiceError) as exc:
        verify_sigv4(http, sig, "not-the-secret", now, error_style="query")
    err = expect(exc, "SignatureDoesNotMatch", 403)
    assert err.message.startswith(
        "The request signature we calculated does not match the signature you provided."
    )
    assert "The Canonical String for this request should have been\n'POST\n/\n\n" in err.message
    assert "The String-to-Sign should have been\n'AWS4-HMAC-SHA256\n" in err.message

    tampered_body = to_http(request)
    tampered_body.body = tampered_body.body.replace(b"hi+there", b"hi+THERE")
    with pytest.raises(ServiceError) as exc:
        verify_sigv4(tampered_body, sig, SECRET_KEY, now, error_style="query")
    expect(exc, "SignatureDoesNotMatch", 403)

    tampered_header = to_http(request)
    tampered_header.headers["content-type"] = "application/json"
    with pytest.raises(ServiceError) as exc:
        verify_sigv4(tampered_header, sig, SECRET_KEY, now, error_style="query")
    expect(exc, "SignatureDoesNotMatch", 403)


def test_json_protocol_error_style():
    request = signed(
        SigV4Auth,
        "POST",
        "http://localhost:4566/",
        service="lambda",
        data=b'{"a": 1}',
        headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "Foo.Bar"},
    )
    http = to_http(request)
    sig = parse_sigv4(http)
    verify_sigv4(http, sig, SECRET_KEY, time.time(), error_style="json")
    with pytest.raises(ServiceError) as exc:
        verify_sigv4(http, sig, "wrong", time.time(), error_style="json")
    err = expect(exc, "InvalidSignatureException", 403)
    assert "Check your AWS Secret Access Key and signing method" in err.message

    dynamo = signed(
        SigV4Auth,
        "POST",
        "http://localhost:4566/",
        service="dynamodb",
        data=b"{}",
        headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "DynamoDB_20120810.ListTables",
        },
    )
    http = to_http(dynamo)
    with pytest.raises(ServiceError) as exc:
        verify_sigv4(http, parse_sigv4(http), "wrong", time.time(), error_style="json")
    expect(exc, "InvalidSignatureException", 400)  # DynamoDB answers every client error with 400


@pytest.mark.parametrize(
    "service,call,kwargs,style",
    [
        (
            "sqs",
            "send_message",
            {"QueueUrl": "http://localhost:4566/000000000000/q", "MessageBody": "a b&c=d/é"},
            "json",
        ),
        ("sts", "get_caller_identity", {}, "query"),
        ("iam", "create_user", {"UserName": "alice", "Path": "/a/b/"}, "query"),
        ("dynamodb", "list_tables", {}, "json"),
        (
            "lambda",
            "get_function",
            {"FunctionName": "arn:aws:lambda:us-east-1:000000000000:function:f", "Qualifier": "$LATEST"},
            "json",
        ),
        ("lambda", "list_functions", {"MaxItems": 5, "Marker": "a b/c+d"}, "json"),
        ("cloudwatch", "list_metrics", {"Namespace": "AWS/EC2"}, "query"),
        ("apigateway", "get_resources", {"restApiId": "abc", "limit": 3}, "json"),
        ("ec2", "describe_instances", {"InstanceIds": ["i-1"]}, "query"),
    ],
)
def test_real_clients_verify(service, call, kwargs, style):
    client, captured = capturing_client(service, response_body=b"")
    try:
        getattr(client, call)(**kwargs)
    except Exception:  # the empty answer may not parse; the request was captured all the same
        pass
    http = to_http(captured[0])
    sig = parse_sigv4(http)
    assert sig is not None and sig.access_key_id == ACCESS_KEY
    assert sig.service == client.meta.service_model.signing_name
    verify_sigv4(http, sig, SECRET_KEY, time.time(), error_style=style)
    with pytest.raises(ServiceError):
        verify_sigv4(http, sig, SECRET_KEY + "x", time.time(), error_style=style)


def test_non_s3_path_is_normalised_and_double_encoded():
    url = "http://localhost:4566/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Afunction%3Af/./x//y/../invocations"
    request = signed(SigV4Auth, "POST", url, service="lambda", data=b"{}")
    http = to_http(request)
    sig = parse_sigv4(http)
    verify_sigv4(http, sig, SECRET_KEY, time.time(), error_style="json")
    from overcast.auth import canonical_request

    assert canonical_request(http, sig).split("\n")[1] == (
        "/2015-03-31/functions/arn%253Aaws%253Alambda%253Aus-east-1%253A1%253Afunction%253Af/x/invocations"
    )


def test_session_token_and_date_header():
    creds = Credentials(ACCESS_KEY, SECRET_KEY, "FwoGZXIvYXdzEXAMPLETOKEN")
    request = AWSRequest(
        method="GET",
        url="http://localhost:4566/?Action=GetCallerIdentity&Version=2011-06-15",
        headers={"Date": "placeholder"},
    )
    SigV4Auth(creds, "sts", "us-east-1").add_auth(request)
    http = to_http(request)
    assert "x-amz-date" not in http.headers and "date" in http.headers
    sig = parse_sigv4(http)
    assert sig.security_token == "FwoGZXIvYXdzEXAMPLETOKEN"
    assert "x-amz-security-token" in sig.signed_headers
    verify_sigv4(http, sig, SECRET_KEY, time.time(), error_style="query")
    http.headers["x-amz-security-token"] = "other"
    with pytest.raises(ServiceError) as exc:
        verify_sigv4(http, parse_sigv4(http), SECRET_KEY, time.time(), error_style="query")
    expect(exc, "SignatureDoesNotMatch", 403)


def test_clock_skew():
    request = signed(
        SigV4Auth, "GET", "http://localhost:4566/?Action=ListUsers&Version=2010-05-08", service="iam"
    )
    http = to_http(request)
    sig = parse_sigv4(http)
    signed_at = sig.signed_at.timestamp()
    verify_sigv4(http, sig, SECRET_KEY, signed_at + 14 * 60, error_style="query")
    verify_sigv4(http, sig, SECRET_KEY, signed_at - 14 * 60, error_style="query")

    with pytest.raises(ServiceError) as exc:
        verify_sigv4(http, sig, SECRET_KEY, signed_at + 16 * 60, error_style="query")
    err = expect(exc, "SignatureDoesNotMatch", 403)
    assert err.message.startswith(f"Signature expired: {sig.amz_date} is now earlier than ")
    assert err.message.endswith(" - 15 min.)")

    with pytest.raises(ServiceError) as exc:
        verify_sigv4(http, sig, SECRET_KEY, signed_at - 16 * 60, error_style="json")
    err = expect(exc, "InvalidSignatureException", 403)
    assert err.message.startswith(f"Signature not yet current: {sig.amz_date} is still later than ")

    s3 = to_http(signed(S3SigV4Auth, "GET", "http://localhost:4566/bucket/key", service="s3"))
    s3sig = parse_sigv4(s3)
    with pytest.raises(ServiceError) as exc:
        verify_sigv4(s3, s3sig, SECRET_KEY, signed_at + 3600, error_style="s3")
    err = expect(exc, "RequestTimeTooSkewed", 403)
    assert err.message == "The difference between the request time and the current time is too large."
    assert err.fields["MaxAllowedSkewMilliseconds"] == "900000"
    assert err.fields["RequestTime"] == s3sig.amz_date


# ------------------------------------------------------------------------------------------- S3


def test_s3_header_auth_with_real_client_and_awkward_keys():
    client, captured = capturing_client("s3", response_body=b"")
    keys = ["dir/a b+c~d=é!.txt", "x/./y/../z//w", "100%/(parens)*'quote'", "~tilde/[brackets]{}"]
    for key in keys:
        client.put_object(Bucket="bucket", Key=key, Body=b"hello world")
    client.list_objects_v2(Bucket="bucket", Prefix="a b/", Delimiter="/", StartAfter="x+y")
    for prepared in captured:
        http = to_http(prepared)
        sig = parse_sigv4(http)
        assert sig.service == "s3" and sig.content_sha256
        verify_sigv4(http, sig, SECRET_KEY, time.time(), error_style="s3")

    http = to_http(captured[0])
    sig = parse_sigv4(http)
    assert sig.content_sha256 == "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
    with pytest.raises(ServiceError) as exc:
        verify_sigv4(http, sig, "wrong", time.time(), error_style="s3")
    err = expect(exc, "SignatureDoesNotMatch", 403)
    assert err.message == (
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method."
    )
    assert err.fields["AWSAccessKeyId"] == ACCESS_KEY
    assert err.fields["SignatureProvided"] == sig.signature
    assert err.fields["StringToSign"].startswith("AWS4-HMAC-SHA256\n")
    assert err.fields["CanonicalRequest"].startswith("PUT\n/bucket/dir/a%20b%2Bc~d%3D%C3%A9%21.txt\n")
    assert err.fields["StringToSignBytes"].startswith("41 57 53 34")

    # S3 paths are signed as sent: no dot-segment removal
    dotted = to_http(captured[1])
    assert "/./" in dotted.path
    verify_sigv4(dotted, parse_sigv4(dotted), SECRET_KEY, time.time(), error_style="s3")

    # a body that does not match its declared hash
    http.body = b"hello WORLD"
    with pytest.raises(ServiceError) as exc:
        verify_sigv4(http, sig, SECRET_KEY, time.time(), error_style="s3")
    err = expect(exc, "XAmzContentSHA256Mismatch", 400)
    assert err.fields["ClientComputedContentSHA256"] == sig.content_sha256

    # a tampered path
    other = to_http(captured[0])
    other.path = other.path.replace("bucket", "bucket2")
    with pytest.raises(ServiceError) as exc:
        verify_sigv4(other, sig, SECRET_KEY, time.time(), error_style="s3")
    expect(exc, "SignatureDoesNotMatch", 403)


def test_s3_unsigned_payload_and_missing_content_sha256():
    request = AWSRequest(
        method="PUT",
        url="https://localhost:4566/b/k",
        data=b"data",
        headers={"Content-MD5": "jbmx3nBIEnOb1Eek6EaT8w=="},
    )
    request.context["has_streaming_input"] = True
    S3SigV4Auth(CREDS, "s3", "us-east-1").add_auth(request)
    http = to_http(request)
    sig = parse_sigv4(http)
    assert sig.content_sha256 == "UNSIGNED-PAYLOAD"
    verify_sigv4(http, sig, SECRET_KEY, time.time(), error_style="s3")

    del http.headers["x-amz-content-sha256"]
    sig = parse_sigv4(http)
    with pytest.raises(ServiceError) as exc:
        verify_sigv4(http, sig, SECRET_KEY, time.time(), error_style="s3")
    expect(exc, "InvalidRequest", 400)


def test_presigned_s3_url_from_real_client():
    # boto3 presigns S3 with SigV2 unless told otherwise (see the SigV2 test below)
    client, _ = capturing_client("s3", signature_version="s3v4")
    url = client.generate_presigned_url(
        "get_object",
        Params={"Bucket": "bucket", "Key": "dir/a b+c.txt", "ResponseContentType": "text/plain"},
        ExpiresIn=300,
    )
    http = url_request(url)
    sig = parse_sigv4(http)
    assert sig.presigned and sig.expires == 300 and sig.service == "s3" and sig.signed_headers == ("host",)
    now = time.time()
    verify_sigv4(http, sig, SECRET_KEY, now, error_style="s3")
    # a presigned URL stays valid past the 15-minute skew window until it expires
    long_url = client.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"}, ExpiresIn=7200)
    long = url_request(long_url)
    verify_sigv4(long, parse_sigv4(long), SECRET_KEY, now + 3600, error_style="s3")

    with pytest.raises(ServiceError) as exc:
        verify_sigv4(http, sig, SECRET_KEY, sig.signed_at.timestamp() + 301, error_style="s3")
    err = expect(exc, "AccessDenied", 403)
    assert err.message == "Request has expired"
    assert err.fields["X-Amz-Expires"] == "300"
    assert err.fields["Expires"] == datetime.fromtimestamp(sig.signed_at.timestamp() + 300, UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    assert "ServerTime" in err.fields

    with pytest.raises(ServiceError) as exc:
        verify_sigv4(http, sig, "wrong", now, error_style="s3")
    err = expect(exc, "SignatureDoesNotMatch", 403)
    assert "X-Amz-Signature" not in err.fields["CanonicalRequest"]
    assert "\nUNSIGNED-PAYLOAD" in err.fields["CanonicalRequest"]

    tampered = url_request(tamper_query(url, "response-content-type", "text/html"))
    with pytest.raises(ServiceError) as exc:
        verify_sigv4(tampered, parse_sigv4(tampered), SECRET_KEY, now, error_style="s3")
    expect(exc, "SignatureDoesNotMatch", 403)

    too_long = url_request(tamper_query(url, "X-Amz-Expires", "604801"))
    with pytest.raises(ServiceError) as exc:
        parse_sigv4(too_long)
    err = expect(exc, "AuthorizationQueryParametersError", 400)
    assert "604800" in err.message


def test_presigned_put_and_query_auth_signers():
    client, _ = capturing_client("s3", token="SESSIONTOKEN", signature_version="s3v4")
    url = client.generate_presigned_url(
        "put_object", Params={"Bucket": "b", "Key": "k", "ContentType": "text/plain"}
    )
    http = url_request(url, "PUT", {"content-type": "text/plain"})
    sig = parse_sigv4(http)
    assert sig.security_token == "SESSIONTOKEN" and sig.expires == 3600
    assert "content-type" in sig.signed_headers
    verify_sigv4(http, sig, SECRET_KEY, time.time(), error_style="s3")
    http.headers["content-type"] = "text/html"
    with pytest.raises(ServiceError):
        verify_sigv4(http, sig, SECRET_KEY, time.time(), error_style="s3")

    request = AWSRequest(method="GET", url="http://localhost:4566/b/some%20key?versionId=3")
    S3SigV4QueryAuth(CREDS, "s3", "eu-west-1", expires=60).add_auth(request)
    http = url_request(request.url)
    sig = parse_sigv4(http)
    assert (sig.region, sig.expires) == ("eu-west-1", 60)
    verify_sigv4(http, sig, SECRET_KEY, time.time(), error_style="s3")

    # a presigned STS call, as `aws eks get-token` and Vault's IAM auth make
    request = AWSRequest(
        method="GET",
        url="http://localhost:4566/",
        params={"Action": "GetCallerIdentity", "Version": "2011-06-15"},
    )
    SigV4QueryAuth(CREDS, "sts", "us-east-1", expires=60).add_auth(request)
    http = to_http(request)
    sig = parse_sigv4(http)
    assert sig.presigned and sig.service == "sts"
    verify_sigv4(http, sig, SECRET_KEY, time.time(), error_style="query")
    with pytest.raises(ServiceError) as exc:
        verify_sigv4(http, sig, SECRET_KEY, time.time() + 120, error_style="query")
    expect(exc, "SignatureDoesNotMatch", 403)


# ------------------------------------------------------------------------------------------- parsing


def _request(headers=None, query="", path="/"):
    return HttpRequest(method="GET", path=path, query=query, headers=Headers(headers or {}))


def test_anonymous_and_non_sigv4_requests_parse_to_none():
    assert parse_sigv4(_request()) is None
    assert parse_sigv4(_request(query="list-type=2&prefix=a")) is None
    assert (
        parse_sigv4(_request({"Authorization": "AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg="}))
        is None
    )
    assert parse_sigv4(_request({"Authorization": "Bearer abc"})) is None
    assert parse_sigv4(_request(query="AWSAccessKeyId=AK&Expires=1&Signature=x")) is None


def test_slow_path_accepts_reordered_unspaced_header():
    auth = (
        "AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date,Signature="
        + "a" * 64
        + ",Credential=AK/20250101/eu-west-1/sqs/aws4_request"
    )
    sig = parse_sigv4(_request({"Authorization": auth, "X-Amz-Date": "20250101T120000Z"}))
    assert (sig.access_key_id, sig.region, sig.service, sig.signed_headers) == (
        "AK",
        "eu-west-1",
        "sqs",
        ("host", "x-amz-date"),
    )
    assert sig.signed_at == datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "auth,style,code",
    [
        (
            "AWS4-HMAC-SHA256 Credential=AK/20250101/us-east-1/sqs/aws4_request, SignedHeaders=host",
            "query",
            "IncompleteSignature",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AK/20250101/us-east-1/sqs/aws4_request, SignedHeaders=host",
            "json",
            "IncompleteSignatureException",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AK/20250101/us-east-1/s3/aws4_request, SignedHeaders=host",
            "s3",
            "AuthorizationHeaderMalformed",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AK/20250101/s3/aws4_request, SignedHeaders=host, Signature="
            + "0" * 64,
            "s3",
            "AuthorizationHeaderMalformed",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AK/20250101/us-east-1/sqs/aws5_request, SignedHeaders=host, Signature="
            + "0" * 64,
            "query",
            "IncompleteSignature",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AK/20250102/us-east-1/s3/aws4_request, SignedHeaders=host, Signature="
            + "0" * 64,
            "s3",
            "AuthorizationHeaderMalformed",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AK/20250102/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature="
            + "0" * 64,
            "query",
            "SignatureDoesNotMatch",
        ),
    ],
)
def test_malformed_authorization(auth, style, code):
    with pytest.raises(ServiceError) as exc:
        parse_sigv4(_request({"Authorization": auth, "X-Amz-Date": "20250101T000000Z"}), error_style=style)
    assert exc.value.code == code, exc.value.message


def test_error_style_inferred_from_scope_and_missing_date():
    auth = (
        "AWS4-HMAC-SHA256 Credential=AK/20250101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature="
        + "0" * 64
    )
    with pytest.raises(ServiceError) as exc:
        parse_sigv4(_request({"Authorization": auth}))
    expect(exc, "AccessDenied", 403)
    with pytest.raises(ServiceError) as exc:
        parse_sigv4(_request({"Authorization": auth.replace("/s3/", "/sqs/")}))
    expect(exc, "IncompleteSignature", 400)


def test_presigned_parameter_errors():
    base = {
        "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
        "X-Amz-Credential": "AK/20250101/us-east-1/s3/aws4_request",
        "X-Amz-Date": "20250101T000000Z",
        "X-Amz-Expires": "60",
        "X-Amz-SignedHeaders": "host",
        "X-Amz-Signature": "0" * 64,
    }
    assert parse_sigv4(_request(query=urlencode(base))).presigned
    for missing in ("X-Amz-Signature", "X-Amz-Expires", "X-Amz-Date"):
        params = {k: v for k, v in base.items() if k != missing}
        with pytest.raises(ServiceError) as exc:
            parse_sigv4(_request(query=urlencode(params)))
        expect(exc, "AuthorizationQueryParametersError", 400)
    for key, value in (
        ("X-Amz-Algorithm", "AWS4-HMAC-SHA1"),
        ("X-Amz-Expires", "-1"),
        ("X-Amz-Credential", "AK/20250101/us-east-1/s3"),
    ):
        with pytest.raises(ServiceError) as exc:
            parse_sigv4(_request(query=urlencode({**base, key: value})))
        expect(exc, "AuthorizationQueryParametersError", 400)
    both = _request({"Authorization": "AWS4-HMAC-SHA256 Credential=x"}, query=urlencode(base))
    with pytest.raises(ServiceError) as exc:
        parse_sigv4(both, error_style="s3")
    expect(exc, "InvalidArgument", 400)


def test_host_must_be_signed():
    request = signed(SigV4Auth, "GET", "http://localhost:4566/?Action=ListQueues", service="sqs")
    http = to_http(request)
    sig = parse_sigv4(http)
    from dataclasses import replace

    unsigned_host = replace(sig, signed_headers=tuple(h for h in sig.signed_headers if h != "host"))
    with pytest.raises(ServiceError) as exc:
        verify_sigv4(http, unsigned_host, SECRET_KEY, time.time(), error_style="query")
    expect(exc, "IncompleteSignature", 400)


def test_signing_key_cache():
    derive_signing_key.cache_clear()
    request = signed(SigV4Auth, "GET", "http://localhost:4566/?Action=ListQueues", service="sqs")
    http = to_http(request)
    sig = parse_sigv4(http)
    for _ in range(5):
        verify_sigv4(http, sig, SECRET_KEY, time.time(), error_style="query")
    info = derive_signing_key.cache_info()
    assert info.misses == 1 and info.hits == 4


def test_parse_is_fast():
    request = signed(SigV4Auth, "POST", "http://localhost:4566/", service="sqs", data=b"Action=ListQueues")
    http = to_http(request)
    start = time.perf_counter()
    for _ in range(10000):
        parse_sigv4(http)
    per_call = (time.perf_counter() - start) / 10000
    assert per_call < 50e-6, per_call
