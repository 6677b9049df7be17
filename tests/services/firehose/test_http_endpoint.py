"""The HTTP endpoint destination POSTs batches in Firehose's request format, retries what the endpoint refuses,
and sends what it never accepts to S3 under http-endpoint-failed/."""

import base64
import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.services.firehose.conftest import BUCKET, delivered, s3_destination
from tests.waiting import wait_for


def tls_context():
    """A server TLS context with a fresh self-signed certificate, as a developer's local endpoint has."""
    import datetime
    import ssl
    import tempfile

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    with tempfile.NamedTemporaryFile("wb", suffix=".pem", delete=False) as pem:
        pem.write(certificate.public_bytes(serialization.Encoding.PEM))
        pem.write(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pem.name)
    return context


class Endpoint:
    """A local HTTP endpoint that refuses the first `failures` requests with a 500."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.requests: list[tuple[dict[str, str], bytes]] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                endpoint.requests.append((dict(self.headers), body))
                if len(endpoint.requests) <= endpoint.failures:
                    self.send_response(500)
                    self.end_headers()
                    return
                raw = gzip.decompress(body) if self.headers.get("Content-Encoding") == "gzip" else body
                answer = json.dumps({"requestId": json.loads(raw)["requestId"], "timestamp": 0}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.socket = tls_context().wrap_socket(self.server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.server.server_port}/ingest"  # AWS requires https
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint():
    made: list[Endpoint] = []

    def make(failures: int = 0) -> Endpoint:
        made.append(Endpoint(failures))
        return made[-1]

    yield make
    for server in made:
        server.close()


def http_destination(url: str, **extra):
    return {
        "EndpointConfiguration": {"Url": url, "Name": "collector", "AccessKey": "secret-key"},
        "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 60},
        "RequestConfiguration": {
            "ContentEncoding": "GZIP",
            "CommonAttributes": [{"AttributeName": "env", "AttributeValue": "test"}],
        },
        "S3Configuration": s3_destination(),
        **extra,
    }


def test_batches_are_posted_in_firehose_format_after_retries(overcast, firehose, s3, endpoint):
    server = endpoint(failures=2)
    arn = firehose.create_delivery_stream(
        DeliveryStreamName="to-http", HttpEndpointDestinationConfiguration=http_destination(server.url)
    )["DeliveryStreamARN"]
    described = firehose.describe_delivery_stream(DeliveryStreamName="to-http")["DeliveryStreamDescription"]
    http = described["Destinations"][0]["HttpEndpointDestinationDescription"]
    assert http["EndpointConfiguration"] == {"Url": server.url, "Name": "collector"}  # never the access key
    assert http["RetryOptions"] == {"DurationInSeconds": 300} and http["S3BackupMode"] == "FailedDataOnly"

    firehose.put_record_batch(DeliveryStreamName="to-http", Records=[{"Data": b"one"}, {"Data": b"two"}])
    overcast.advance_clock(61)
    wait_for(lambda: len(server.requests) >= 1)
    for _ in range(20):  # the retries wait on the virtual clock: move it along
        if len(server.requests) >= 3:
            break
        seen = len(server.requests)
        overcast.advance_clock(5)
        wait_for(lambda seen=seen: len(server.requests) > seen, timeout=10)
    assert len(server.requests) == 3
    headers, body = server.requests[-1]
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Amz-Firehose-Protocol-Version"] == "1.0"
    assert headers["X-Amz-Firehose-Access-Key"] == "secret-key"
    assert headers["X-Amz-Firehose-Source-Arn"] == arn
    assert json.loads(headers["X-Amz-Firehose-Common-Attributes"]) == {"commonAttributes": {"env": "test"}}
    assert headers["Content-Encoding"] == "gzip"
    request = json.loads(gzip.decompress(body))
    assert request["requestId"] == headers["X-Amz-Firehose-Request-Id"]
    assert isinstance(request["timestamp"], int)
    assert [base64.b64decode(r["data"]) for r in request["records"]] == [b"one", b"two"]


def test_what_the_endpoint_never_accepts_goes_to_s3(overcast, firehose, s3, endpoint):
    server = endpoint(failures=1000)
    firehose.create_delivery_stream(
        DeliveryStreamName="refused",
        HttpEndpointDestinationConfiguration=http_destination(
            server.url, RetryOptions={"DurationInSeconds": 10}
        ),
    )
    firehose.put_record(DeliveryStreamName="refused", Record={"Data": b"lost cause"})
    overcast.advance_clock(61)
    for _ in range(20):
        if s3.list_objects_v2(Bucket=BUCKET).get("Contents"):
            break
        seen = len(server.requests)
        overcast.advance_clock(5)
        wait_for(
            lambda seen=seen: (
                len(server.requests) > seen or s3.list_objects_v2(Bucket=BUCKET).get("Contents")
            ),
            timeout=10,
        )
    ((key, body),) = delivered(s3).items()
    assert key.startswith("http-endpoint-failed/")
    failure = json.loads(body)
    assert failure["errorCode"] == "HttpEndpoint.ResponseErrorCode"
    assert base64.b64decode(failure["rawData"]) == b"lost cause"
    assert failure["attemptsMade"] >= 2
