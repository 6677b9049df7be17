"""SNS's internal endpoints over real HTTP: the signing certificate at SigningCertURL (signatures verify with
it, as a subscriber checks them) and the outbox of captured deliveries (email, SMS, mobile push)."""

import json
import urllib.error
import urllib.request

from tests.services.sns.signatures import validate


def http(method: str, url: str) -> tuple[int, bytes, dict]:
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


def verify(document: dict) -> None:
    """Verify a Notification/SubscriptionConfirmation as AWS's subscriber libraries do (SignatureVersion 1),
    with the certificate fetched from its SigningCertURL."""
    assert document["SignatureVersion"] == "1"
    validate(document)


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
    except AssertionError:
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
