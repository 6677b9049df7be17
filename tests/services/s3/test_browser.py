"""What browsers do, over real HTTP to the server: CORS preflights and headers by the bucket's rules, and
HTML-form POST uploads signed by boto3's generate_presigned_post."""

import uuid

import pytest
import urllib3
from botocore.config import Config

HTTP = urllib3.PoolManager()

RULES = [
    {
        "AllowedOrigins": ["https://app.example.com"],
        "AllowedMethods": ["GET", "PUT"],
        "AllowedHeaders": ["content-type", "x-amz-*"],
        "ExposeHeaders": ["ETag"],
        "MaxAgeSeconds": 600,
    },
    {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]},
]


def _options(overcast, path, headers, host=None):
    if host:
        headers = {**headers, "Host": host}
    return HTTP.request("OPTIONS", overcast.endpoint + path, headers=headers)


def test_preflight_by_rules(overcast, s3, bucket):
    options = {"Origin": "https://app.example.com", "Access-Control-Request-Method": "PUT"}
    assert _options(overcast, f"/{bucket}/k", options).status == 403  # no CORS configured yet
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    allowed = _options(
        overcast,
        f"/{bucket}/k",
        {**options, "Access-Control-Request-Headers": "Content-Type, x-amz-meta-colour"},
    )
    assert allowed.status == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert allowed.headers["Access-Control-Allow-Methods"] == "GET, PUT"
    assert allowed.headers["Access-Control-Allow-Headers"] == "content-type, x-amz-meta-colour"
    assert allowed.headers["Access-Control-Max-Age"] == "600"
    assert allowed.headers["Access-Control-Allow-Credentials"] == "true"
    refused = _options(
        overcast, f"/{bucket}/k", {**options, "Access-Control-Request-Headers": "authorization-extra"}
    )
    assert refused.status == 403 and b"AccessForbidden" in refused.data
    anyone = _options(
        overcast,
        "/k",
        {"Origin": "https://other.example", "Access-Control-Request-Method": "GET"},
        host=f"{bucket}.s3.localhost.localstack.cloud",
    )
    assert anyone.status == 200 and anyone.headers["Access-Control-Allow-Origin"] == "*"
    delete = {"Origin": "https://other.example", "Access-Control-Request-Method": "DELETE"}
    assert _options(overcast, f"/{bucket}/k", delete).status == 403


def test_preflight_to_other_services_is_permissive(overcast):
    """Browser SDK calls to SQS, DynamoDB, ... (POST /) and unknown paths get the permissive answer."""
    for path in ("/", "/2015-03-31/functions"):
        answer = _options(
            overcast, path, {"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"}
        )
        assert answer.status == 200 and answer.headers["Access-Control-Allow-Origin"] == "*"


def test_cors_headers_on_actual_requests(overcast, s3, bucket):
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"})
    got = HTTP.request("GET", url, headers={"Origin": "https://app.example.com"})
    assert got.status == 200 and got.data == b"x"
    assert got.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert got.headers["Access-Control-Expose-Headers"] == "ETag"
    elsewhere = HTTP.request("GET", url, headers={"Origin": "https://x.example"})
    assert elsewhere.headers["Access-Control-Allow-Origin"] == "*"  # the second rule: GET from anywhere
    # A signed DELETE from a page the bucket's rules do not let delete: the default credentials are no
    # secret, so Overcast refuses it (docs/security.md) where AWS would run it and only the browser would stop.
    url = s3.generate_presigned_url("delete_object", Params={"Bucket": bucket, "Key": "k"})
    deleted = HTTP.request("DELETE", url, headers={"Origin": "https://x.example"})
    assert deleted.status == 403 and b"<Code>AccessDenied</Code>" in deleted.data
    assert "Access-Control-Allow-Origin" not in deleted.headers
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"


def _form(fields, filename, data, content_type="text/plain"):
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n".encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return f"multipart/form-data; boundary={boundary}", b"".join(parts)


def _post(overcast, bucket, fields, filename="photo.txt", data=b"posted", content_type="text/plain"):
    form_type, body = _form(fields, filename, data, content_type)
    return HTTP.request(
        "POST",
        f"{overcast.endpoint}/{bucket}",
        body=body,
        headers={"Content-Type": form_type},
        redirect=False,
    )


@pytest.mark.parametrize("signature", ["s3v4", "s3"])
def test_presigned_post_upload(overcast, bucket, signature):
    s3 = overcast.client("s3", config=Config(signature_version=signature))
    post = s3.generate_presigned_post(
        bucket,
        "uploads/${filename}",
        Fields={"x-amz-meta-origin": "form"},
        Conditions=[
            ["starts-with", "$key", "uploads/"],
            {"x-amz-meta-origin": "form"},
            ["content-length-range", 1, 1024],
        ],
    )
    response = _post(overcast, bucket, post["fields"])
    assert response.status == 204
    got = s3.get_object(Bucket=bucket, Key="uploads/photo.txt")
    assert got["Body"].read() == b"posted"
    assert got["Metadata"] == {"origin": "form"}
    assert got["ContentType"] == "text/plain"


def test_post_policy_conditions_and_status(overcast, s3, bucket):
    post = s3.generate_presigned_post(
        bucket,
        "fixed.txt",
        Fields={"success_action_status": "201"},
        Conditions=[{"success_action_status": "201"}, ["content-length-range", 1, 4]],
    )
    created = _post(overcast, bucket, post["fields"], data=b"1234")
    assert created.status == 201 and b"<Key>fixed.txt</Key>" in created.data
    too_big = _post(overcast, bucket, post["fields"], data=b"12345")
    assert too_big.status == 400 and b"EntityTooLarge" in too_big.data
    tampered = dict(post["fields"], key="elsewhere.txt")
    refused = _post(overcast, bucket, tampered, data=b"1234")
    assert refused.status == 403 and b"Policy Condition failed" in refused.data
    extra = dict(post["fields"], **{"x-amz-meta-sneaky": "1"})
    assert b"Extra input fields" in _post(overcast, bucket, extra, data=b"1234").data
    forged = dict(post["fields"], signature="AAAA", **{"x-amz-signature": "00"})
    assert _post(overcast, bucket, forged, data=b"1234").status == 403
    assert s3.get_object(Bucket=bucket, Key="fixed.txt")["Body"].read() == b"1234"
    assert "elsewhere.txt" not in str(s3.list_objects_v2(Bucket=bucket).get("Contents"))


def test_post_policy_expires_on_the_virtual_clock(overcast, s3, bucket):
    post = s3.generate_presigned_post(bucket, "late.txt", ExpiresIn=60)
    overcast.advance_clock("2m")
    expired = _post(overcast, bucket, post["fields"])
    assert expired.status == 403 and b"Policy expired" in expired.data


def test_anonymous_post_needs_a_public_bucket(overcast, s3, bucket):
    response = _post(overcast, bucket, {"key": "anon.txt"})
    assert response.status == 403
