"""Story: a static website bucket. Private at first (403), then public read through a bucket policy once
Block Public Access is lifted; the index document for `/`, the error document for pages that do not exist.

Real AWS, not the notes: with a policy granting only s3:GetObject, a missing page is 403 (S3 tells anonymous
readers nothing about which keys exist); granting s3:ListBucket as well makes it 404. The error document is
served either way."""

import json

import botocore.exceptions
import urllib3

from tests.helpers import code_of

HTTP = urllib3.PoolManager()


def _visit(overcast, path="/"):
    host = "my-site.s3-website.us-east-1.localhost"
    return HTTP.request(
        "GET", overcast.endpoint + path, headers={"Host": host}, redirect=False, retries=False
    )


def test_website_bucket_with_public_read_policy(overcast):
    s3 = overcast.client("s3")
    s3.create_bucket(Bucket="my-site")
    s3.put_object(Bucket="my-site", Key="index.html", Body=b"<h1>Welcome</h1>", ContentType="text/html")
    s3.put_object(Bucket="my-site", Key="error.html", Body=b"<h1>Not here</h1>", ContentType="text/html")
    s3.put_bucket_website(
        Bucket="my-site",
        WebsiteConfiguration={
            "IndexDocument": {"Suffix": "index.html"},
            "ErrorDocument": {"Key": "error.html"},
        },
    )
    assert _visit(overcast).status == 403  # nothing is public yet

    public_read = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PublicReadGetObject",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::my-site/*",
            }
        ],
    }
    try:  # Block Public Access is on for new buckets: a public policy is refused until it is lifted
        s3.put_bucket_policy(Bucket="my-site", Policy=json.dumps(public_read))
        raise AssertionError("a public policy must be refused while Block Public Access is on")
    except botocore.exceptions.ClientError as error:
        assert code_of(error) == "AccessDenied"
    s3.delete_public_access_block(Bucket="my-site")
    s3.put_bucket_policy(Bucket="my-site", Policy=json.dumps(public_read))

    home = _visit(overcast)
    assert home.status == 200 and home.data == b"<h1>Welcome</h1>"
    assert home.headers["Content-Type"] == "text/html"
    missing = _visit(overcast, "/no-such-page.html")
    assert (missing.status, missing.data) == (403, b"<h1>Not here</h1>")

    public_read["Statement"].append(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::my-site"}
    )
    s3.put_bucket_policy(Bucket="my-site", Policy=json.dumps(public_read))
    missing = _visit(overcast, "/no-such-page.html")
    assert (missing.status, missing.data) == (404, b"<h1>Not here</h1>")
