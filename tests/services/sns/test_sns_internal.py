"""SNS's internal endpoints over real HTTP: the signing certificate at SigningCertURL (signatures verify with
it, as a subscriber checks them) and the outbox of captured deliveries (email, SMS, mobile push)."""

import base64
import json
import urllib.error
import urllib.request

import rsa


def http(method: str, url: str) -> tuple[int, bytes, dict]:
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


def _tlv(data: bytes, at: int) -> tuple[int, int, int]:
    """(tag, start of content, end of content) of the DER element at `at`."""
    tag, length, at = data[at], data[at + 1], at + 2
    if length & 0x80:
        size = length & 0x7F
        length, at = int.from_bytes(data[at : at + size], "big"), at + size
    return tag, at, at + length


def public_key(pem: str) -> rsa.PublicKey:
    """The RSA key of an X.509 certificate: Certificate → tbsCertificate → subjectPublicKeyInfo."""
    body = "".join(line for line in pem.strip().splitlines() if not line.startswith("-----"))
    der = base64.b64decode(body)
    _, start, _ = _tlv(der, 0)  # Certificate
    _, at, _ = _tlv(der, start)  # tbsCertificate
    fields = []
    while len(fields) < 7:
        tag, content, end = _tlv(der, at)
        fields.append((tag, at, end))
        at = end
    tag, begin, end = fields[6]  # version, serial, algorithm, issuer, validity, subject, key info
    assert tag == 0x30
    return rsa.PublicKey.load_pkcs1_openssl_der(der[begin:end])


def verify(document: dict) -> None:
    """Verify a Notification/SubscriptionConfirmation as AWS's subscriber libraries do (SignatureVersion 1)."""
    status, pem, headers = http("GET", document["SigningCertURL"])
    assert status == 200, pem
    keys = ["Message", "MessageId", "Subject", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    text = "".join(f"{key}\n{document[key]}\n" for key in keys if key in document)
    assert (
        rsa.verify(text.encode(), base64.b64decode(document["Signature"]), public_key(pem.decode()))
        == "SHA-1"
    )


def test_notifications_verify_with_the_certificate_at_signing_cert_url(sns, make_queue, drain):
    topic = sns.create_topic(Name="signed")["TopicArn"]
    url, arn = make_queue("signed")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    sns.publish(TopicArn=topic, Message="sign me", Subject="about signatures")
    [message] = drain(url)
    envelope = json.loads(message["Body"])
    verify(envelope)
    envelope["Message"] = "tampered"
    try:
        verify(envelope)
    except rsa.VerificationError:
        pass
    else:
        raise AssertionError("a changed message still verified")


def test_outbox_over_http(sns, overcast):
    base = overcast.endpoint + "/_overcast/sns/outbox"
    topic = sns.create_topic(Name="people")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email-json", Endpoint="dev@example.com")
    sns.subscribe(TopicArn=topic, Protocol="sms", Endpoint="+15555550100")
    sns.publish(TopicArn=topic, Message="hello people")

    status, body, headers = http("GET", base)
    assert status == 200 and headers["content-type"] == "application/json"
    messages = json.loads(body)["messages"]
    assert [(m["protocol"], m["kind"]) for m in messages] == [
        ("email-json", "SubscriptionConfirmation"),
        ("sms", "Notification"),
    ]
    confirmation = json.loads(messages[0]["payload"])
    verify(confirmation)  # confirmations are signed too
    assert messages[1]["payload"] == "hello people" and messages[1]["endpoint"] == "+15555550100"

    # Confirming by the SubscribeURL a user would click in the e-mail, then reading only what is new.
    status, _, _ = http("GET", confirmation["SubscribeURL"])
    assert status == 200
    sns.publish(TopicArn=topic, Message="second")
    newer = json.loads(http("GET", f"{base}?after={messages[-1]['id']}&protocol=email-json")[1])["messages"]
    assert [json.loads(m["payload"])["Message"] for m in newer] == ["second"]
    assert newer[0]["subscription_arn"].startswith(topic + ":")

    assert json.loads(http("GET", f"{base}?account=111111111111")[1])["messages"] == []
    assert http("GET", f"{base}?limit=x")[0] == 400
    assert http("DELETE", base)[0] == 200
    assert json.loads(http("GET", base)[1])["messages"] == []
    assert http("GET", overcast.endpoint + "/_overcast/sns/nothing")[0] == 404
