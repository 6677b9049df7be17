"""Story: a service hands out a one-hour download link; after an hour (virtual clock) it stops working."""

import urllib.error
import urllib.request

from botocore.config import Config


def _fetch(url):
    try:
        with urllib.request.urlopen(url) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_presigned_url_expires_on_the_virtual_clock(overcast):
    s3 = overcast.client("s3", config=Config(signature_version="s3v4"))
    s3.create_bucket(Bucket="downloads")
    s3.put_object(Bucket="downloads", Key="report.pdf", Body=b"%PDF-1.7 ...")
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": "downloads", "Key": "report.pdf"}, ExpiresIn=3600
    )
    assert _fetch(url) == (200, b"%PDF-1.7 ...")
    overcast.advance_clock("30m")
    assert _fetch(url)[0] == 200
    overcast.advance_clock("31m")
    status, body = _fetch(url)
    assert status == 403
    assert b"AccessDenied" in body and b"expired" in body


def test_presigned_upload_link(overcast):
    s3 = overcast.client("s3", config=Config(signature_version="s3v4"))
    s3.create_bucket(Bucket="uploads")
    url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": "uploads", "Key": "in/photo.jpg"}, ExpiresIn=60
    )
    request = urllib.request.Request(url, data=b"jpeg bytes", method="PUT", headers={"Content-Type": ""})
    with urllib.request.urlopen(request) as response:
        assert response.status == 200
    assert s3.get_object(Bucket="uploads", Key="in/photo.jpg")["Body"].read() == b"jpeg bytes"
    overcast.advance_clock("2m")
    request = urllib.request.Request(url, data=b"late", method="PUT", headers={"Content-Type": ""})
    try:
        urllib.request.urlopen(request)
        raise AssertionError("an expired upload link must be refused")
    except urllib.error.HTTPError as error:
        assert error.code == 403
