"""The console's SigV4 signer (js/sigv4.js), run in Chromium, signs exactly as botocore does: headers and
presigned URLs, JSON, query, REST and S3 requests, with WebCrypto and with its plain-JavaScript SHA-256."""

from __future__ import annotations

import datetime
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import pytest
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config as BotoConfig
from botocore.credentials import Credentials

pytestmark = pytest.mark.slow

MOMENT = datetime.datetime(2026, 1, 2, 3, 4, 5)
HOST = "localhost:4566"
CASES = [
    {
        "service": "sqs",
        "method": "POST",
        "path": "/",
        "query": [],
        "headers": {"content-type": "application/x-amz-json-1.0", "x-amz-target": "AmazonSQS.CreateQueue"},
        "body": '{"QueueName": "a b ü"}',
    },
    {
        "service": "iam",
        "method": "POST",
        "path": "/",
        "query": [],
        "headers": {"content-type": "application/x-www-form-urlencoded; charset=utf-8"},
        "body": "Action=ListUsers&Version=2010-05-08&PathPrefix=%2F",
    },
    {
        "service": "lambda",
        "method": "POST",
        "path": "/2015-03-31/functions/my%3Afn/invocations",
        "query": [["Qualifier", "$LATEST"], ["a b", "c/d*"]],
        "headers": {"x-amz-log-type": "Tail"},
        "body": "{}",
    },
    {
        "service": "s3",
        "method": "PUT",
        "path": "/bucket/a%20b/c%2Bd%C3%BC.txt",
        "query": [["versionId", "x y"], ["uploads", None]],
        "headers": {"content-type": "text/plain"},
        "body": None,
        "unsigned": True,
    },
    {
        "service": "logs",
        "method": "POST",
        "path": "/",
        "query": [],
        "headers": {
            "content-type": "application/x-amz-json-1.1",
            "x-amz-target": "Logs_20140328.DescribeLogGroups",
        },
        "body": "{}",
        "token": "session-token/with+chars=",
    },
]

SIGN = """async ([cases, pure]) => {
  const sigv4 = await import("./js/sigv4.js");
  sigv4.usePureJs(pure);
  const out = [];
  for (const c of cases) {
    const request = { method: c.method, path: c.path, query: c.query, headers: { ...c.headers }, body: c.body };
    const credentials = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", sessionToken: c.token };
    await sigv4.signRequest(request, { service: c.service, region: "eu-west-1", credentials, host: "HOST",
      unsignedPayload: !!c.unsigned, now: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)) });
    out.push(request.headers.authorization);
  }
  sigv4.usePureJs(false);
  return out;
}""".replace("HOST", HOST)

PRESIGN = """async (pure) => {
  const sigv4 = await import("./js/sigv4.js");
  sigv4.usePureJs(pure);
  const url = await sigv4.presignUrl(
    { method: "GET", path: "/bucket/photos/caf%C3%A9%20menu.pdf", query: [["response-content-disposition", "attachment"]] },
    { service: "s3", region: "us-east-1", host: "HOST", origin: "http://HOST", expires: 900,
      credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret/key+" }, now: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)) });
  sigv4.usePureJs(false);
  return url;
}""".replace("HOST", HOST)


def botocore_authorization(case: dict) -> str:
    query = "&".join(_quote(k) if v is None else f"{_quote(k)}={_quote(v)}" for k, v in case["query"])
    url = f"http://{HOST}{case['path']}" + (f"?{query}" if query else "")
    request = AWSRequest(
        case["method"], url, headers=dict(case["headers"]), data=(case["body"] or "").encode()
    )
    credentials = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", case.get("token"))
    if case["service"] == "s3":
        request.context["client_config"] = BotoConfig(
            s3={"payload_signing_enabled": not case.get("unsigned")}
        )
        signer = S3SigV4Auth(credentials, "s3", "eu-west-1")
    else:
        signer = SigV4Auth(credentials, case["service"], "eu-west-1")
    with mock.patch("botocore.auth.get_current_datetime", return_value=MOMENT):
        signer.add_auth(request)
    return request.headers["Authorization"]


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="-_.~")


@pytest.mark.parametrize("pure", [False, True], ids=["webcrypto", "plain-js"])
def test_signed_headers_match_botocore(console, overcast, pure):
    console.open("#/")
    signed = console.page.evaluate(SIGN, [CASES, pure])
    for case, authorization in zip(CASES, signed, strict=True):
        assert authorization == botocore_authorization(case), case["service"]


@pytest.mark.parametrize("pure", [False, True], ids=["webcrypto", "plain-js"])
def test_presigned_urls_match_botocore(console, overcast, pure):
    console.open("#/")
    url = console.page.evaluate(PRESIGN, pure)
    request = AWSRequest(
        "GET", f"http://{HOST}/bucket/photos/caf%C3%A9%20menu.pdf?response-content-disposition=attachment"
    )
    signer = S3SigV4QueryAuth(Credentials("AKIDEXAMPLE", "secret/key+"), "s3", "us-east-1", expires=900)
    with mock.patch("botocore.auth.get_current_datetime", return_value=MOMENT):
        signer.add_auth(request)
    ours = {k: v[0] for k, v in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}
    theirs = {k: v[0] for k, v in parse_qs(urlsplit(request.url).query, keep_blank_values=True).items()}
    assert ours == theirs
