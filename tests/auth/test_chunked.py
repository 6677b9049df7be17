"""aws-chunked bodies: signed chunks (built as AWS specifies), signed trailers, and boto3's unsigned trailers."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import io
import time
import tracemalloc
import zlib
from datetime import UTC, datetime

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.httpchecksum import AwsChunkedWrapper, Crc32Checksum

from overcast.auth import SigV4, decode_aws_chunked, parse_sigv4, verify_sigv4
from overcast.errors import ServiceError

from .helpers import ACCESS_KEY, SECRET_KEY, PieceStream, capturing_client, to_http

EMPTY = hashlib.sha256(b"").hexdigest()
SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """Independent of overcast.auth: the key derivation exactly as the SigV4 spec writes it."""
    return _hmac(_hmac(_hmac(_hmac(("AWS4" + secret).encode(), date), region), service), "aws4_request")


def crc32_b64(data: bytes) -> str:
    return base64.b64encode((zlib.crc32(data) & 0xFFFFFFFF).to_bytes(4, "big")).decode()


def build_signed_body(
    payload: bytes,
    chunk_size: int,
    *,
    seed: str,
    key: bytes,
    amz_date: str,
    scope: str,
    trailers: dict[str, str] | None = None,
    sign_trailer: bool = False,
) -> bytes:
    """A body framed and signed as the S3 'Transferring payload in multiple chunks' docs describe."""
    previous = seed
    out = bytearray()
    chunks = [payload[i : i + chunk_size] for i in range(0, len(payload), chunk_size)] + [b""]
    for chunk in chunks:
        string_to_sign = "\n".join(
            ["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, previous, EMPTY, hashlib.sha256(chunk).hexdigest()]
        )
        previous = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
        out += f"{len(chunk):x};chunk-signature={previous}\r\n".encode() + chunk + b"\r\n"
    if trailers is not None:
        out = out[:-2]  # the trailers follow the final chunk's header line directly
        canonical = "".join(f"{name}:{value}\n" for name, value in trailers.items())
        out += canonical.replace("\n", "\r\n").encode()
        if sign_trailer:
            string_to_sign = "\n".join(
                [
                    "AWS4-HMAC-SHA256-TRAILER",
                    amz_date,
                    scope,
                    previous,
                    hashlib.sha256(canonical.encode()).hexdigest(),
                ]
            )
            signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
            out += f"x-amz-trailer-signature:{signature}\r\n".encode()
        out += b"\r\n"
    return bytes(out)


class StreamingSigner(S3SigV4Auth):
    """botocore's S3 signer with the payload hash replaced by a STREAMING-* literal, as SDKs that stream do."""

    def __init__(self, credentials, service, region, mode):
        super().__init__(credentials, service, region)
        self._mode = mode

    def payload(self, request):
        return self._mode


def signed_upload(mode: str, decoded_length: int, trailer: str | None = None):
    headers = {
        "Content-Encoding": "aws-chunked",
        "X-Amz-Decoded-Content-Length": str(decoded_length),
        "X-Amz-Storage-Class": "REDUCED_REDUNDANCY",
    }
    if trailer:
        headers["X-Amz-Trailer"] = trailer
    request = AWSRequest(
        method="PUT", url="http://localhost:4566/examplebucket/chunkObject.txt", headers=headers
    )
    StreamingSigner(Credentials(ACCESS_KEY, SECRET_KEY), "s3", "us-east-1", mode).add_auth(request)
    http = to_http(request)
    sig = parse_sigv4(http)
    verify_sigv4(http, sig, SECRET_KEY, time.time(), error_style="s3")
    key = signing_key(SECRET_KEY, sig.signed_at.strftime("%Y%m%d"), "us-east-1", "s3")
    return sig, key


async def drain(stream, read_size: int | None = None) -> bytes:
    out = bytearray()
    if read_size is None:
        async for piece in stream:
            out += piece
    else:
        while True:
            piece = await stream.read(read_size)
            if not piece:
                break
            out += piece
    return bytes(out)


def decode(body: bytes, sig, secret, length, *, read_size=None, max_piece=97):
    stream = decode_aws_chunked(PieceStream(body, max_piece=max_piece), sig, secret, length)
    data = asyncio.run(drain(stream, read_size))
    return data, stream


PAYLOAD = bytes(range(256)) * 800  # 200 KiB


def test_aws_documented_example_chunk_signatures():
    """The 65 KiB 'a' upload from the S3 SigV4 streaming docs: seed and chunk signatures as published."""
    sig = SigV4(
        access_key_id=ACCESS_KEY,
        signed_at=datetime(2013, 5, 24, tzinfo=UTC),
        region="us-east-1",
        service="s3",
        signed_headers=(
            "content-encoding",
            "content-length",
            "host",
            "x-amz-content-sha256",
            "x-amz-date",
            "x-amz-decoded-content-length",
            "x-amz-storage-class",
        ),
        signature="4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
        presigned=False,
        expires=None,
        content_sha256=SIGNED,
        security_token=None,
    )
    body = (
        b"10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n"
        + b"a" * 65536
        + b"\r\n"
        + b"400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n"
        + b"a" * 1024
        + b"\r\n"
        + b"0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n"
    )
    data, stream = decode(body, sig, SECRET_KEY, 66560, max_piece=4096)
    assert data == b"a" * 66560 and stream.content_length == 66560 and stream.trailers == {}
    with pytest.raises(ServiceError) as exc:
        decode(body.replace(b"a\r\n400", b"b\r\n400"), sig, SECRET_KEY, 66560, max_piece=4096)
    assert (exc.value.code, exc.value.status) == ("SignatureDoesNotMatch", 403)


@pytest.mark.parametrize("read_size", [None, 1, 1000, 70000])
def test_signed_chunks_roundtrip(read_size):
    sig, key = signed_upload(SIGNED, len(PAYLOAD))
    assert sig.content_sha256 == SIGNED and sig.streaming
    body = build_signed_body(
        PAYLOAD, 65536, seed=sig.signature, key=key, amz_date=sig.amz_date, scope=sig.scope
    )
    data, stream = decode(body, sig, SECRET_KEY, len(PAYLOAD), read_size=read_size)
    assert data == PAYLOAD and stream.trailers == {}


def test_signed_chunks_tampered_reordered_or_wrong_secret():
    sig, key = signed_upload(SIGNED, len(PAYLOAD))
    body = build_signed_body(
        PAYLOAD, 65536, seed=sig.signature, key=key, amz_date=sig.amz_date, scope=sig.scope
    )

    tampered = bytearray(body)
    tampered[70000] ^= 0x01  # one bit of the second chunk's data
    with pytest.raises(ServiceError) as exc:
        decode(bytes(tampered), sig, SECRET_KEY, len(PAYLOAD))
    assert (exc.value.code, exc.value.status) == ("SignatureDoesNotMatch", 403)
    assert exc.value.message.startswith("The request signature we calculated does not match")

    with pytest.raises(ServiceError) as exc:
        decode(body, sig, "wrong-secret", len(PAYLOAD))
    assert exc.value.code == "SignatureDoesNotMatch"

    # a chain started from another seed (e.g. chunks replayed from another upload)
    other = build_signed_body(PAYLOAD, 65536, seed="0" * 64, key=key, amz_date=sig.amz_date, scope=sig.scope)
    with pytest.raises(ServiceError) as exc:
        decode(other, sig, SECRET_KEY, len(PAYLOAD))
    assert exc.value.code == "SignatureDoesNotMatch"

    # without a secret the framing is still decoded (signatures unchecked)
    data, _ = decode(bytes(tampered), sig, None, len(PAYLOAD))
    assert len(data) == len(PAYLOAD)


def test_signed_trailer_roundtrip_and_tampering():
    trailers = {"x-amz-checksum-crc32": crc32_b64(PAYLOAD)}
    sig, key = signed_upload(SIGNED_TRAILER, len(PAYLOAD), trailer="x-amz-checksum-crc32")
    body = build_signed_body(
        PAYLOAD,
        65536,
        seed=sig.signature,
        key=key,
        amz_date=sig.amz_date,
        scope=sig.scope,
        trailers=trailers,
        sign_trailer=True,
    )
    data, stream = decode(body, sig, SECRET_KEY, len(PAYLOAD))
    assert data == PAYLOAD and stream.trailers == trailers

    bad = body.replace(trailers["x-amz-checksum-crc32"].encode(), b"AAAAAA==")
    with pytest.raises(ServiceError) as exc:
        decode(bad, sig, SECRET_KEY, len(PAYLOAD))
    assert exc.value.code == "SignatureDoesNotMatch"

    unsigned = build_signed_body(
        PAYLOAD,
        65536,
        seed=sig.signature,
        key=key,
        amz_date=sig.amz_date,
        scope=sig.scope,
        trailers=trailers,
        sign_trailer=False,
    )
    with pytest.raises(ServiceError) as exc:
        decode(unsigned, sig, SECRET_KEY, len(PAYLOAD))
    assert exc.value.code == "SignatureDoesNotMatch"


def test_boto3_unsigned_trailer_wire_format():
    """The exact bytes botocore's AwsChunkedWrapper writes (boto3 S3 uploads over https)."""
    for size, chunk_size in ((0, 1024), (1, 1024), (5000, 1024), (len(PAYLOAD), 64 * 1024)):
        payload = PAYLOAD[:size]
        wire = AwsChunkedWrapper(
            io.BytesIO(payload),
            checksum_cls=Crc32Checksum,
            checksum_name="x-amz-checksum-crc32",
            chunk_size=chunk_size,
        ).read()
        data, stream = decode(wire, None, None, size)
        assert data == payload
        assert stream.trailers == {"x-amz-checksum-crc32": crc32_b64(payload)}
    wire = AwsChunkedWrapper(io.BytesIO(b"no checksum"), chunk_size=4).read()
    assert decode(wire, None, None, 11)[0] == b"no checksum"


def test_real_boto3_upload_over_https():
    client, captured = capturing_client("s3", https=True, response_body=b"")
    client.put_object(Bucket="bucket", Key="big.bin", Body=io.BytesIO(PAYLOAD))
    client.upload_part(
        Bucket="bucket",
        Key="big.bin",
        UploadId="u1",
        PartNumber=1,
        Body=io.BytesIO(b"part data"),
        ChecksumAlgorithm="SHA256",
    )
    put, part = (to_http(r) for r in captured)
    assert put.headers["content-encoding"] == "aws-chunked"
    sig = parse_sigv4(put)
    assert sig.content_sha256 == UNSIGNED_TRAILER
    verify_sigv4(put, sig, SECRET_KEY, time.time(), error_style="s3")
    data, stream = decode(put.body, sig, SECRET_KEY, int(put.headers["x-amz-decoded-content-length"]))
    assert data == PAYLOAD
    assert stream.trailers == {"x-amz-checksum-crc32": crc32_b64(PAYLOAD)}

    sig = parse_sigv4(part)
    verify_sigv4(part, sig, SECRET_KEY, time.time(), error_style="s3")
    data, stream = decode(part.body, sig, SECRET_KEY, 9)
    assert data == b"part data"
    assert stream.trailers == {
        "x-amz-checksum-sha256": base64.b64encode(hashlib.sha256(b"part data").digest()).decode()
    }


def test_accepts_bytes_input():
    wire = AwsChunkedWrapper(io.BytesIO(b"hello"), chunk_size=2).read()
    stream = decode_aws_chunked(wire, None, None, 5)
    assert asyncio.run(stream.read()) == b"hello"


@pytest.mark.parametrize(
    "body,code",
    [
        (b"5\r\nhel", "IncompleteBody"),  # stream ends inside a chunk
        (b"5\r\nhello\r\n", "IncompleteBody"),  # no final chunk
        (b"5\r\nhello\r\n0\r\n\r\n", "IncompleteBody"),  # decodes to 5 bytes, 6 declared
        (b"zz\r\nhello\r\n0\r\n\r\n", "InvalidRequest"),  # size is not hex
        (b"6\r\nhello!XX0\r\n\r\n", "InvalidRequest"),  # data not followed by CRLF
        (b"6\r\nhello!\r\n0\r\nno-colon-here\r\n\r\n", "InvalidRequest"),  # bad trailer line
        (b"7\r\nhello!!\r\n0\r\n\r\n", "InvalidRequest"),  # more than declared
        (b"1" * 10000, "InvalidRequest"),  # endless chunk header
    ],
)
def test_malformed_framing(body, code):
    with pytest.raises(ServiceError) as exc:
        decode(body, None, None, 6)
    assert exc.value.code == code, exc.value.message
    assert exc.value.status == 400


def test_missing_chunk_signature_in_signed_mode():
    sig, _ = signed_upload(SIGNED, 5)
    with pytest.raises(ServiceError) as exc:
        decode(b"5\r\nhello\r\n0\r\n\r\n", sig, SECRET_KEY, 5)
    assert exc.value.code == "SignatureDoesNotMatch"


class LazyChunkedSource:
    """Produces a large signed aws-chunked body on the fly, never holding it whole."""

    def __init__(self, chunks: int, chunk_size: int, sig: SigV4, key: bytes) -> None:
        self._chunk = b"z" * chunk_size
        self._chunks = chunks
        self._sig, self._key = sig, key
        self._previous = sig.signature
        self._pending = b""
        self._sent = 0
        self._done = False
        self.content_length = None

    def _frame(self, data: bytes) -> bytes:
        sts = "\n".join(
            [
                "AWS4-HMAC-SHA256-PAYLOAD",
                self._sig.amz_date,
                self._sig.scope,
                self._previous,
                EMPTY,
                hashlib.sha256(data).hexdigest(),
            ]
        )
        self._previous = hmac.new(self._key, sts.encode(), hashlib.sha256).hexdigest()
        return f"{len(data):x};chunk-signature={self._previous}\r\n".encode() + data + b"\r\n"

    async def read(self, size: int = -1) -> bytes:
        if not self._pending:
            if self._sent < self._chunks:
                self._pending = self._frame(self._chunk)
                self._sent += 1
            elif not self._done:
                self._pending = self._frame(b"")
                self._done = True
            else:
                return b""
        n = len(self._pending) if size < 0 else min(size, len(self._pending))
        piece, self._pending = self._pending[:n], self._pending[n:]
        return piece


def test_constant_memory_on_large_body():
    chunks, chunk_size = 64, 128 * 1024  # 8 MiB
    total = chunks * chunk_size
    sig, key = signed_upload(SIGNED, total)
    stream = decode_aws_chunked(LazyChunkedSource(chunks, chunk_size, sig, key), sig, SECRET_KEY, total)

    async def consume() -> int:
        count = 0
        async for piece in stream:
            count += len(piece)
        return count

    tracemalloc.start()
    try:
        count = asyncio.run(consume())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == total
    assert peak < 2 * 1024 * 1024, peak


def test_sha256_checking_stream():
    from overcast.auth import Sha256CheckingStream

    good = Sha256CheckingStream(PieceStream(PAYLOAD), hashlib.sha256(PAYLOAD).hexdigest())
    assert asyncio.run(drain(good)) == PAYLOAD
    bad = Sha256CheckingStream(PieceStream(PAYLOAD), hashlib.sha256(b"other").hexdigest())
    with pytest.raises(ServiceError) as exc:
        asyncio.run(drain(bad, 4096))
    assert (exc.value.code, exc.value.status) == ("XAmzContentSHA256Mismatch", 400)
