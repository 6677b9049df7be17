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


# -- POST form details (issue 14) ----------------------------------------------------------------------


def _signed(policy: dict, **fields) -> dict:
    """Form fields for `policy`, signed as SigV2 forms are (the root test credentials)."""
    import base64
    import hashlib
    import hmac
    import json

    text = base64.b64encode(json.dumps(policy).encode()).decode()
    signature = base64.b64encode(hmac.new(b"test", text.encode(), hashlib.sha1).digest()).decode()
    return {"AWSAccessKeyId": "test", "policy": text, "signature": signature, **fields}


def _policy(*conditions, expiration="2099-01-01T00:00:00.000Z") -> dict:
    return {"expiration": expiration, "conditions": list(conditions)}


def test_post_filename_is_substituted_before_the_policy_is_checked(overcast, s3, bucket):
    fields = _signed(
        _policy({"bucket": bucket}, ["eq", "$key", "uploads/photo.txt"]), key="uploads/${filename}"
    )
    assert _post(overcast, bucket, fields).status == 204
    assert s3.get_object(Bucket=bucket, Key="uploads/photo.txt")["Body"].read() == b"posted"


def test_post_policy_errors(overcast, bucket):
    bad_date = _post(overcast, bucket, _signed(_policy({"bucket": bucket}, expiration="tomorrow"), key="k"))
    assert bad_date.status == 400 and b"InvalidPolicyDocument" in bad_date.data
    unsigned = _signed(_policy({"bucket": bucket}), key="k")
    del unsigned["signature"]
    missing = _post(overcast, bucket, unsigned)
    assert missing.status == 400 and b"<Code>InvalidArgument</Code>" in missing.data
    assert b"Bucket POST must contain a field named &apos;Signature&apos;" in missing.data or (
        b"Bucket POST must contain a field named 'Signature'" in missing.data
    )
    short = _post(
        overcast, bucket, _signed(_policy({"bucket": bucket}, ["content-length-range", 0]), key="k")
    )
    assert 400 <= short.status < 500
    empty = _post(overcast, bucket, _signed(_policy({"bucket": bucket}, {}), key="k"))
    assert empty.status == 400 and b"InvalidPolicyDocument" in empty.data
    assert b"Simple-Conditions must have exactly one property specified." in empty.data


def test_post_tagging_field_is_applied(overcast, s3, bucket):
    tagging = "<Tagging><TagSet><Tag><Key>team</Key><Value>blue</Value></Tag></TagSet></Tagging>"
    fields = _signed(
        _policy({"bucket": bucket}, {"key": "tagged"}, {"tagging": tagging}), key="tagged", tagging=tagging
    )
    assert _post(overcast, bucket, fields).status == 204
    assert s3.get_object_tagging(Bucket=bucket, Key="tagged")["TagSet"] == [{"Key": "team", "Value": "blue"}]


# -- CORS without an Origin, and a method named by Access-Control-Request-Method -------------------------


def test_options_without_an_origin_is_a_bad_request(overcast, s3, bucket):
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    answer = _options(overcast, f"/{bucket}/k", {"Access-Control-Request-Method": "GET"})
    assert answer.status == 400
    assert b"<Code>BadRequest</Code>" in answer.data
    assert b"Insufficient information. Origin request header needed." in answer.data


def test_a_request_naming_its_method_is_matched_as_that_method(overcast, s3, bucket):
    s3.put_bucket_cors(
        Bucket=bucket,
        CORSConfiguration={
            "CORSRules": [{"AllowedOrigins": ["https://a.example"], "AllowedMethods": ["PUT"]}]
        },
    )
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    plain = HTTP.request("GET", f"{overcast.endpoint}/{bucket}/k", headers={"Origin": "https://a.example"})
    assert "Access-Control-Allow-Origin" not in plain.headers
    named = HTTP.request(
        "GET",
        f"{overcast.endpoint}/{bucket}/k",
        headers={"Origin": "https://a.example", "Access-Control-Request-Method": "PUT"},
    )
    assert named.headers.get("Access-Control-Allow-Origin") == "https://a.example"
