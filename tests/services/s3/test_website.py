"""The static website endpoint over real HTTP: `<bucket>.s3-website-<region>.localhost` (and the other host
forms), index and error documents, redirects, routing rules, and public access."""

import json

import pytest
import urllib3

from tests.helpers import error_of

HTTP = urllib3.PoolManager()


def _get(overcast, bucket, path="/", method="GET", host=None, headers=None):
    host = host or f"{bucket}.s3-website-us-east-1.localhost"
    return HTTP.request(
        method,
        overcast.endpoint + path,
        headers={"Host": host, **(headers or {})},
        redirect=False,
        retries=False,
    )


def _public(s3, bucket, list_too=False):
    s3.delete_public_access_block(Bucket=bucket)
    actions = ["s3:GetObject", "s3:ListBucket"] if list_too else "s3:GetObject"
    resources = (
        [f"arn:aws:s3:::{bucket}/*", f"arn:aws:s3:::{bucket}"] if list_too else f"arn:aws:s3:::{bucket}/*"
    )
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": actions, "Resource": resources}],
    }
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))


def _site(s3, bucket, **config):
    config = config or {"IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "error.html"}}
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration=config)


def _page(s3, bucket, key, text, **extra):
    s3.put_object(Bucket=bucket, Key=key, Body=text.encode(), ContentType="text/html", **extra)


def test_index_and_error_documents(overcast, s3, bucket):
    _public(s3, bucket, list_too=True)
    _site(s3, bucket)
    _page(s3, bucket, "index.html", "<h1>home</h1>")
    _page(s3, bucket, "error.html", "<h1>oops</h1>")
    _page(s3, bucket, "docs/index.html", "<h1>docs</h1>")
    _page(s3, bucket, "docs/guide.html", "<h1>guide</h1>")

    for path in ("/", ""):
        home = _get(overcast, bucket, path or "/")
        assert home.status == 200 and home.data == b"<h1>home</h1>"
        assert home.headers["Content-Type"] == "text/html"
    assert _get(overcast, bucket, "/docs/").data == b"<h1>docs</h1>"
    assert _get(overcast, bucket, "/docs/guide.html").data == b"<h1>guide</h1>"
    folder = _get(overcast, bucket, "/docs")
    assert folder.status == 302 and folder.headers["Location"] == "/docs/"

    missing = _get(overcast, bucket, "/nothing-here.html")
    assert missing.status == 404 and missing.data == b"<h1>oops</h1>"
    head = _get(overcast, bucket, "/docs/guide.html", method="HEAD")
    assert head.status == 200 and head.data == b"" and head.headers["Content-Length"] == "14"

    ranged = _get(overcast, bucket, "/index.html", headers={"Range": "bytes=4-7"})
    assert ranged.status == 206 and ranged.data == b"home"
    etag = home.headers["ETag"]
    assert _get(overcast, bucket, "/", headers={"If-None-Match": etag}).status == 304


def test_default_error_page_and_other_hosts(overcast, s3, bucket):
    _public(s3, bucket, list_too=True)
    _site(s3, bucket, IndexDocument={"Suffix": "index.html"})
    _page(s3, bucket, "index.html", "home")
    for host in (
        f"{bucket}.s3-website.us-east-1.localhost",
        f"{bucket}.s3-website.localhost.localstack.cloud",
        f"{bucket}.s3-website-us-east-1.amazonaws.com",
    ):
        assert _get(overcast, bucket, "/", host=host).data == b"home"
    missing = _get(overcast, bucket, "/missing")
    assert missing.status == 404
    assert missing.headers["Content-Type"].startswith("text/html")
    assert missing.headers["x-amz-error-code"] == "NoSuchKey"
    assert b"<li>Code: NoSuchKey</li>" in missing.data and b"<li>Key: missing</li>" in missing.data


def test_private_objects_and_unconfigured_buckets(overcast, s3, bucket):
    _page(s3, bucket, "index.html", "home")
    no_site = _get(overcast, bucket)
    assert no_site.status == 404 and b"NoSuchWebsiteConfiguration" in no_site.data
    _site(s3, bucket)
    private = _get(overcast, bucket)  # the website serves anonymous readers only what is public
    assert private.status == 403 and private.headers["x-amz-error-code"] == "AccessDenied"
    # The error document cannot be read either: AWS says so in a second section of the page.
    assert b"An Error Occurred While Attempting to Retrieve a Custom Error Document" in private.data
    no_bucket = _get(overcast, "no-such-bucket-here")
    assert no_bucket.status == 404 and no_bucket.headers["x-amz-error-code"] == "NoSuchBucket"
    put = _get(overcast, bucket, "/index.html", method="PUT")
    assert put.status == 405 and put.headers["x-amz-error-code"] == "MethodNotAllowed"


def test_get_object_only_policy_hides_missing_keys(overcast, s3, bucket):
    """Without s3:ListBucket, a missing key is 403 (with the error document), on the website and over
    the REST API alike: anonymous readers learn nothing about which keys exist."""
    _public(s3, bucket)
    _site(s3, bucket)
    _page(s3, bucket, "index.html", "home")
    _page(s3, bucket, "error.html", "sorry")
    missing = _get(overcast, bucket, "/missing.html")
    assert missing.status == 403 and missing.data == b"sorry"
    rest = HTTP.request("GET", f"{overcast.endpoint}/{bucket}/missing.html", retries=False)
    assert rest.status == 403 and b"<Code>AccessDenied</Code>" in rest.data
    assert HTTP.request("GET", f"{overcast.endpoint}/{bucket}/index.html").data == b"home"
    with pytest.raises(s3.exceptions.NoSuchKey):  # the owner may list, so learns the truth
        s3.get_object(Bucket=bucket, Key="missing.html")


def test_redirects(overcast, s3, bucket):
    _public(s3, bucket, list_too=True)
    _site(
        s3,
        bucket,
        IndexDocument={"Suffix": "index.html"},
        RoutingRules=[
            {"Condition": {"KeyPrefixEquals": "old/"}, "Redirect": {"ReplaceKeyPrefixWith": "new/"}},
            {
                "Condition": {"KeyPrefixEquals": "gone"},
                "Redirect": {"ReplaceKeyWith": "index.html", "HttpRedirectCode": "302"},
            },
            {
                "Condition": {"HttpErrorCodeReturnedEquals": "404"},
                "Redirect": {"HostName": "fallback.example.com", "Protocol": "https"},
            },
        ],
    )
    _page(s3, bucket, "index.html", "home")
    _page(s3, bucket, "moved.html", "", WebsiteRedirectLocation="/index.html")
    host = f"{bucket}.s3-website-us-east-1.localhost"
    old = _get(overcast, bucket, "/old/page.html")
    assert old.status == 301 and old.headers["Location"] == f"http://{host}/new/page.html"
    gone = _get(overcast, bucket, "/gone/away")
    assert gone.status == 302 and gone.headers["Location"] == f"http://{host}/index.html"
    fallback = _get(overcast, bucket, "/missing/thing.html")
    assert fallback.status == 301
    assert fallback.headers["Location"] == "https://fallback.example.com/missing/thing.html"
    moved = _get(overcast, bucket, "/moved.html")
    assert moved.status == 301 and moved.headers["Location"] == "/index.html"
    assert _get(overcast, bucket, "/index.html").data == b"home"

    s3.put_bucket_website(
        Bucket=bucket,
        WebsiteConfiguration={"RedirectAllRequestsTo": {"HostName": "www.example.com", "Protocol": "https"}},
    )
    everything = _get(overcast, bucket, "/a/b.html")
    assert everything.status == 301 and everything.headers["Location"] == "https://www.example.com/a/b.html"


def test_website_configuration_validation(s3, bucket):
    import botocore.exceptions

    with pytest.raises(botocore.exceptions.ClientError) as raised:
        s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration={"ErrorDocument": {"Key": "e.html"}})
    assert error_of(raised) == ("InvalidArgument", 400)


def test_cors_on_the_website_endpoint(overcast, s3, bucket):
    """A page served from another origin fetching from the website (the notes' CORS story)."""
    _public(s3, bucket, list_too=True)
    _site(s3, bucket)
    _page(s3, bucket, "data.json", "{}")
    origin = "http://origin-bucket.s3-website.eu-west-3.amazonaws.com"
    preflight = {"Origin": origin, "Access-Control-Request-Method": "GET"}
    assert _get(overcast, bucket, "/data.json", method="OPTIONS", headers=preflight).status == 403
    s3.put_bucket_cors(
        Bucket=bucket,
        CORSConfiguration={"CORSRules": [{"AllowedOrigins": [origin], "AllowedMethods": ["GET"]}]},
    )
    allowed = _get(overcast, bucket, "/data.json", method="OPTIONS", headers=preflight)
    assert allowed.status == 200 and allowed.headers["Access-Control-Allow-Origin"] == origin
    actual = _get(overcast, bucket, "/data.json", headers={"Origin": origin})
    assert actual.data == b"{}" and actual.headers["Access-Control-Allow-Origin"] == origin
    other = _get(overcast, bucket, "/data.json", headers={"Origin": "http://elsewhere.example"})
    assert other.status == 200 and "Access-Control-Allow-Origin" not in other.headers


def test_redirect_code_validation(s3, bucket):
    import botocore.exceptions

    rule = {"Condition": {"KeyPrefixEquals": "a"}, "Redirect": {"HttpRedirectCode": "200"}}
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        s3.put_bucket_website(
            Bucket=bucket,
            WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}, "RoutingRules": [rule]},
        )
    assert error_of(raised) == ("InvalidRedirectLocation", 400)
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        s3.put_bucket_website(
            Bucket=bucket,
            WebsiteConfiguration={
                "RedirectAllRequestsTo": {"HostName": "example.com"},
                "IndexDocument": {"Suffix": "index.html"},
            },
        )
    assert error_of(raised) == ("InvalidArgument", 400)
