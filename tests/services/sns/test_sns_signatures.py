"""Message signatures as a subscriber checks them: the topic's SignatureVersion picks SHA1withRSA (1) or
SHA256withRSA (2) for every delivery (SQS envelope, HTTP endpoint, outbox, Lambda in test_sns_lambda.py); the
certificate at SigningCertURL verifies them, and stays the same across a reset, a server restart and an upgrade
from the version that signed with the `rsa` package."""

import base64
import http.server
import json
import shutil
import sqlite3
import threading
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from overcast.services.sns import signing
from tests.server_process import ServerProcess
from tests.services.sns import legacy_key
from tests.services.sns.signatures import (
    HASHES,
    certificate_text,
    certificate_url,
    download,
    string_to_sign,
    validate,
    verifies,
)
from tests.waiting import wait_for


def other_algorithm(version: str) -> str:
    return HASHES["2" if version == "1" else "1"]


def assert_signed_with(document: dict, version: str) -> bytes:
    """The document says `version`, verifies with its algorithm and not with the other one; returns the
    certificate."""
    assert document["SignatureVersion"] == version
    certificate = validate(document)
    signature = base64.b64decode(document["Signature"])
    assert not verifies(certificate, string_to_sign(document), signature, other_algorithm(version))
    return certificate


def tampered(document: dict, **changes: str) -> bool:
    """Does the document still verify after `changes`? (It must not.)"""
    try:
        validate({**document, **changes})
    except AssertionError:
        return False
    return True


MESSAGE = 'héllo "signed"\nworld ✓ {"json": true}'


def test_signature_version_2_signs_with_sha256(sns, make_queue, drain):
    topic = sns.create_topic(Name="v2", Attributes={"SignatureVersion": "2"})["TopicArn"]
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["SignatureVersion"] == "2"
    url, arn = make_queue("v2")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    sns.publish(TopicArn=topic, Message=MESSAGE, Subject="about signatures")
    [message] = drain(url)
    envelope = json.loads(message["Body"])
    assert envelope["Message"] == MESSAGE and envelope["Subject"] == "about signatures"
    assert_signed_with(envelope, "2")
    assert not tampered(envelope, Message="tampered")
    assert not tampered(envelope, Subject="another subject")
    assert not tampered(envelope, SignatureVersion="1")


def test_signature_version_1_is_the_default_and_follows_the_attribute(sns, make_queue, drain):
    topic = sns.create_topic(Name="v1")["TopicArn"]
    url, arn = make_queue("v1")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    sns.publish(TopicArn=topic, Message=MESSAGE)  # no Subject: it is left out of the string to sign
    [message] = drain(url)
    envelope = json.loads(message["Body"])
    assert "Subject" not in envelope
    assert_signed_with(envelope, "1")
    assert not tampered(envelope, Message="tampered")

    for version in ("2", "1"):
        sns.set_topic_attributes(TopicArn=topic, AttributeName="SignatureVersion", AttributeValue=version)
        sns.publish(TopicArn=topic, Message=f"now {version}", Subject="s")
        [message] = drain(url)
        assert_signed_with(json.loads(message["Body"]), version)


def test_subscribers_of_one_message_get_the_same_valid_signature(sns, make_queue, drain):
    topic = sns.create_topic(Name="fan", Attributes={"SignatureVersion": "2"})["TopicArn"]
    queues = [make_queue(f"fan-{i}") for i in range(3)]
    for _, arn in queues:
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    sns.publish(TopicArn=topic, Message="to everyone")
    envelopes = [json.loads(drain(url)[0]["Body"]) for url, _ in queues]
    assert len({e["UnsubscribeURL"] for e in envelopes}) == 3  # per subscriber, and not signed
    assert len({e["Signature"] for e in envelopes}) == 1
    for envelope in envelopes:
        assert_signed_with(envelope, "2")


def test_invalid_signature_versions_are_refused(sns):
    topic = sns.create_topic(Name="strict")["TopicArn"]
    for value in ("3", "0", "", "v2", "SHA256", " 2", "2.0"):
        for call in (
            lambda v: sns.create_topic(Name="strict-new", Attributes={"SignatureVersion": v}),
            lambda v: sns.set_topic_attributes(
                TopicArn=topic, AttributeName="SignatureVersion", AttributeValue=v
            ),
        ):
            with pytest.raises(ClientError) as raised:
                call(value)
            error = raised.value.response
            assert error["Error"]["Code"] == "InvalidParameter", value
            assert error["Error"]["Message"] == "Invalid parameter: SignatureVersion"
            assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "SignatureVersion" not in sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    assert [t for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith(":strict-new")] == []


def test_outbox_confirmation_and_notification_are_signed_with_the_topics_version(sns, overcast):
    topic = sns.create_topic(Name="mail", Attributes={"SignatureVersion": "2"})["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email-json", Endpoint="dev@example.com")
    outbox = overcast.endpoint + "/_overcast/sns/outbox?protocol=email-json"
    [entry] = json.loads(download(outbox))["messages"]
    confirmation = json.loads(entry["payload"])
    assert confirmation["Type"] == "SubscriptionConfirmation"
    assert_signed_with(confirmation, "2")  # SubscribeURL and Token are in its string to sign
    assert not tampered(confirmation, Token="0" * 128)
    assert not tampered(confirmation, SubscribeURL=confirmation["SubscribeURL"] + "&x=1")

    sns.confirm_subscription(TopicArn=topic, Token=confirmation["Token"])
    sns.publish(TopicArn=topic, Message="by mail", Subject="mail")
    entries = json.loads(download(outbox + f"&after={entry['id']}"))["messages"]
    assert_signed_with(json.loads(entries[0]["payload"]), "2")


class Recorder(http.server.BaseHTTPRequestHandler):
    received: list

    def do_POST(self):  # noqa: N802 (http.server's naming)
        self.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("version", ["1", "2"])
def test_http_endpoint_gets_signed_confirmation_and_notifications(sns, version):
    handler = type("Handler", (Recorder,), {"received": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        topic = sns.create_topic(Name=f"hook-{version}", Attributes={"SignatureVersion": version})["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=f"http://127.0.0.1:{server.server_port}/")
        wait_for(lambda: handler.received)
        confirmation = handler.received[0]
        assert_signed_with(confirmation, version)
        sns.confirm_subscription(TopicArn=topic, Token=confirmation["Token"])
        sns.publish(TopicArn=topic, Message=MESSAGE, Subject="hook")
        wait_for(lambda: len(handler.received) == 2)
        assert handler.received[1]["Type"] == "Notification"
        assert_signed_with(handler.received[1], version)
    finally:
        server.shutdown()


def test_the_certificate_endpoint(sns, make_queue, drain, overcast):
    topic = sns.create_topic(Name="cert")["TopicArn"]
    url, arn = make_queue("cert")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    sns.publish(TopicArn=topic, Message="first")
    first = json.loads(drain(url)[0]["Body"])
    path = urlsplit(certificate_url(first)).path
    assert path.startswith("/_overcast/sns/SimpleNotificationService-") and path.endswith(".pem")
    certificate = download(certificate_url(first))
    assert certificate.startswith(b"-----BEGIN CERTIFICATE-----\n")
    # the path names the certificate: another name is not found; the old fixed name serves the current one
    with pytest.raises(urllib.error.HTTPError) as raised:
        download(overcast.endpoint + "/_overcast/sns/SimpleNotificationService-0123456789abcdef.pem")
    assert raised.value.code == 404
    assert download(overcast.endpoint + "/_overcast/sns/SimpleNotificationService.pem") == certificate
    parsed = x509.load_pem_x509_certificate(certificate)
    assert parsed.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "sns.amazonaws.com"
    assert parsed.issuer == parsed.subject
    parsed.verify_directly_issued_by(parsed)  # self-signed, SHA256withRSA
    assert parsed.signature_hash_algorithm.name == "sha256"
    public = parsed.public_key()
    assert isinstance(public, rsa.RSAPublicKey) and public.key_size == 2048  # as AWS's SNS certificates
    if shutil.which("openssl"):
        text = certificate_text(certificate)
        assert "CN = sns.amazonaws.com" in text and "sha256WithRSAEncryption" in text
        assert "Public-Key: (2048 bit)" in text

    # `overcast reset` deletes resources, not the service's signing key
    overcast.reset()
    topic = sns.create_topic(Name="cert")["TopicArn"]
    url, arn = make_queue("cert")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    sns.publish(TopicArn=topic, Message="second")
    second = json.loads(drain(url)[0]["Body"])
    assert certificate_url(second) == certificate_url(first)
    validate(first)
    validate(second)


def test_messages_verify_after_a_restart(tmp_path):
    data = tmp_path / "data"
    server = ServerProcess(data)

    def client(name: str):
        return boto3.client(
            name,
            endpoint_url=server.endpoint,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )

    try:
        sns, sqs = client("sns"), client("sqs")
        topic = sns.create_topic(Name="durable", Attributes={"SignatureVersion": "2"})["TopicArn"]
        url = sqs.create_queue(QueueName="durable")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
        sns.publish(TopicArn=topic, Message="before the restart", Subject="durable")
        [message] = sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)["Messages"]
        before = json.loads(message["Body"])
        certificate = assert_signed_with(before, "2")
        server.stop()

        server = ServerProcess(data, port=server.port)
        sns, sqs = client("sns"), client("sqs")
        # the same certificate at the same URL: the message delivered before the restart still verifies
        assert download(certificate_url(before)) == certificate
        assert_signed_with(before, "2")
        # and the message still in the queue is the same signed document
        [message] = sqs.receive_message(QueueUrl=url, VisibilityTimeout=30)["Messages"]
        assert json.loads(message["Body"]) == before
        sns.publish(TopicArn=topic, Message="after the restart")
        after = [
            json.loads(m["Body"])
            for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)["Messages"]
        ]
        assert [m["Message"] for m in after] == ["after the restart"]
        assert certificate_url(after[0]) == certificate_url(before)
        assert_signed_with(after[0], "2")

        # `overcast reset` then a restart: resources are gone, the key is not
        urllib.request.urlopen(urllib.request.Request(server.endpoint + "/_overcast/reset", method="POST"))
        server.stop()
        server = ServerProcess(data, port=server.port)
        assert download(certificate_url(before)) == certificate
        assert_signed_with(before, "2")
    finally:
        server.stop()


def legacy_messages(endpoint: str) -> list[dict]:
    return [
        {name: value.replace("{endpoint}", endpoint) for name, value in message.items()}
        for message in legacy_key.MESSAGES
    ]


def test_new_keys_are_2048_bit_pkcs1_pem():
    private_pem, certificate = signing._generate()
    # PKCS#1, the PEM the store has always held (a version before this one can still read it)
    assert private_pem.startswith("-----BEGIN RSA PRIVATE KEY-----\n")
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048
    parsed = x509.load_pem_x509_certificate(certificate.encode())
    assert parsed.public_key().public_numbers() == key.public_key().public_numbers()
    loaded = signing.SigningKey(private_pem, certificate)
    for version, algorithm in HASHES.items():
        signature = base64.b64decode(loaded.sign("text\n", version))
        assert len(signature) == 256
        assert verifies(certificate.encode(), b"text\n", signature, algorithm)


def test_a_key_stored_by_the_rsa_version_signs_as_it_did():
    """The key and certificate the `rsa`-based version stored load; the certificate keeps its URL; and as
    PKCS#1 v1.5 is deterministic, the same key signs the same text to the very signature it made."""
    key = signing.SigningKey(legacy_key.PRIVATE_KEY, legacy_key.CERTIFICATE)
    assert key.certificate_path == legacy_key.CERTIFICATE_PATH
    for message in legacy_messages("http://127.0.0.1:1"):
        assert key.sign(signing.string_to_sign(message), message["SignatureVersion"]) == message["Signature"]
        assert_signed_with_certificate(message, legacy_key.CERTIFICATE.encode())


def assert_signed_with_certificate(document: dict, certificate: bytes) -> None:
    version = document["SignatureVersion"]
    validate(document, certificate)
    signature = base64.b64decode(document["Signature"])
    assert not verifies(certificate, string_to_sign(document), signature, other_algorithm(version))


def test_a_data_dir_from_the_rsa_version_keeps_its_key(tmp_path):
    """A data dir whose sns_signing_keys row the `rsa`-based version wrote: after the upgrade the same
    certificate is served at the same URL, messages delivered before it verify, and new ones are signed with
    the same key (1024-bit: a stored key is never replaced)."""
    data = tmp_path / "data"
    server = ServerProcess(data)
    try:
        boto3.client(
            "sns",
            endpoint_url=server.endpoint,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        ).list_topics()  # SNS loads: its tables
        download(server.endpoint + signing.LEGACY_CERTIFICATE_PATH)  # and, once this answers, a (new) key
    finally:
        server.stop()
    db = sqlite3.connect(data / "overcast.db")
    try:
        with db:
            changed = db.execute(
                "UPDATE sns_signing_keys SET private_key = ?, certificate = ? WHERE name = 'default'",
                (legacy_key.PRIVATE_KEY, legacy_key.CERTIFICATE),
            ).rowcount
    finally:
        db.close()
    assert changed == 1

    server = ServerProcess(data)
    try:
        sns, sqs = (
            boto3.client(
                name,
                endpoint_url=server.endpoint,
                region_name="us-east-1",
                aws_access_key_id="test",
                aws_secret_access_key="test",
            )
            for name in ("sns", "sqs")
        )
        for before in legacy_messages(server.endpoint):
            assert download(certificate_url(before)).decode() == legacy_key.CERTIFICATE
            assert_signed_with(before, before["SignatureVersion"])
        url = sqs.create_queue(QueueName="upgraded")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        for version in HASHES:
            topic = sns.create_topic(Name=f"upgraded-{version}", Attributes={"SignatureVersion": version})
            sns.subscribe(TopicArn=topic["TopicArn"], Protocol="sqs", Endpoint=arn)
            sns.publish(TopicArn=topic["TopicArn"], Message=MESSAGE, Subject="after the upgrade")
            [message] = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5)["Messages"]
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            after = json.loads(message["Body"])
            assert certificate_url(after) == server.endpoint + legacy_key.CERTIFICATE_PATH
            assert_signed_with(after, version)
    finally:
        server.stop()
