"""Mobile push and SMS: platform applications and endpoints, publishing to an endpoint or through an
`application` subscription (captured in the outbox), SMS attributes, opt-outs and the SMS sandbox."""

import json
import urllib.request

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of


def outbox(overcast, **query) -> list[dict]:
    url = overcast.endpoint + "/_overcast/sns/outbox?" + "&".join(f"{k}={v}" for k, v in query.items())
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())["messages"]


@pytest.fixture
def app(sns):
    return sns.create_platform_application(
        Name="my-app", Platform="GCM", Attributes={"PlatformCredential": "server-key"}
    )["PlatformApplicationArn"]


def test_platform_application_lifecycle(sns, app):
    assert app == "arn:aws:sns:us-east-1:000000000000:app/GCM/my-app"
    attributes = sns.get_platform_application_attributes(PlatformApplicationArn=app)["Attributes"]
    assert attributes == {"Enabled": "true"}  # the credential is never returned
    sns.set_platform_application_attributes(
        PlatformApplicationArn=app,
        Attributes={"EventEndpointCreated": "arn:aws:sns:us-east-1:000000000000:t"},
    )
    listed = sns.list_platform_applications()["PlatformApplications"]
    assert listed == [
        {
            "PlatformApplicationArn": app,
            "Attributes": {"Enabled": "true", "EventEndpointCreated": "arn:aws:sns:us-east-1:000000000000:t"},
        }
    ]
    sns.delete_platform_application(PlatformApplicationArn=app)
    sns.delete_platform_application(PlatformApplicationArn=app)  # idempotent
    assert sns.list_platform_applications()["PlatformApplications"] == []
    with pytest.raises(ClientError) as raised:
        sns.get_platform_application_attributes(PlatformApplicationArn=app)
    assert error_of(raised) == ("NotFound", 404)


def test_platform_application_validation(sns):
    cases = [
        dict(Name="bad name", Platform="GCM", Attributes={"PlatformCredential": "k"}),
        dict(Name="app", Platform="PIGEON", Attributes={"PlatformCredential": "k"}),
        dict(Name="app", Platform="GCM", Attributes={"PlatformPrincipal": "no credential"}),
        dict(Name="app", Platform="APNS", Attributes={"PlatformCredential": "cert"}),
        dict(Name="app", Platform="GCM", Attributes={"PlatformCredential": "k", "Colour": "blue"}),
    ]
    for kwargs in cases:
        with pytest.raises(ClientError) as raised:
            sns.create_platform_application(**kwargs)
        assert error_of(raised) == ("InvalidParameter", 400), kwargs


def test_endpoints_are_idempotent_by_token(sns, app):
    arn = sns.create_platform_endpoint(PlatformApplicationArn=app, Token="device-1", CustomUserData="user 7")[
        "EndpointArn"
    ]
    assert arn.startswith("arn:aws:sns:us-east-1:000000000000:endpoint/GCM/my-app/")
    again = sns.create_platform_endpoint(
        PlatformApplicationArn=app, Token="device-1", CustomUserData="user 7"
    )
    assert again["EndpointArn"] == arn
    with pytest.raises(ClientError) as raised:
        sns.create_platform_endpoint(PlatformApplicationArn=app, Token="device-1", CustomUserData="user 8")
    assert error_of(raised) == ("InvalidParameter", 400)
    assert "already exists with the same Token" in raised.value.response["Error"]["Message"]
    assert sns.get_endpoint_attributes(EndpointArn=arn)["Attributes"] == {
        "Enabled": "true",
        "Token": "device-1",
        "CustomUserData": "user 7",
    }
    sns.set_endpoint_attributes(EndpointArn=arn, Attributes={"Token": "device-1b"})
    other = sns.create_platform_endpoint(PlatformApplicationArn=app, Token="device-2")["EndpointArn"]
    listed = sns.list_endpoints_by_platform_application(PlatformApplicationArn=app)["Endpoints"]
    assert {e["EndpointArn"]: e["Attributes"]["Token"] for e in listed} == {
        arn: "device-1b",
        other: "device-2",
    }
    sns.delete_endpoint(EndpointArn=other)
    sns.delete_endpoint(EndpointArn=other)  # idempotent
    with pytest.raises(ClientError) as raised:
        sns.get_endpoint_attributes(EndpointArn=other)
    assert error_of(raised) == ("NotFound", 404)
    with pytest.raises(ClientError) as raised:
        sns.create_platform_endpoint(
            PlatformApplicationArn=app.replace("my-app", "missing"), Token="device-3"
        )
    assert error_of(raised) == ("NotFound", 404)
    sns.delete_platform_application(PlatformApplicationArn=app)  # takes its endpoints along
    with pytest.raises(ClientError):
        sns.get_endpoint_attributes(EndpointArn=arn)


def test_publish_to_an_endpoint_is_captured(sns, app, overcast):
    arn = sns.create_platform_endpoint(PlatformApplicationArn=app, Token="device-1")["EndpointArn"]
    message_id = sns.publish(
        TargetArn=arn,
        MessageStructure="json",
        Message=json.dumps({"default": "plain", "GCM": json.dumps({"notification": {"title": "hi"}})}),
    )["MessageId"]
    [pushed] = outbox(overcast, protocol="application")
    assert pushed["endpoint"] == arn and pushed["message_id"] == message_id
    assert json.loads(pushed["payload"]) == {"notification": {"title": "hi"}}  # the platform's own message

    sns.set_endpoint_attributes(EndpointArn=arn, Attributes={"Enabled": "false"})
    with pytest.raises(ClientError) as raised:
        sns.publish(TargetArn=arn, Message="to a disabled endpoint")
    assert error_of(raised) == ("EndpointDisabled", 400)
    sns.set_endpoint_attributes(EndpointArn=arn, Attributes={"Enabled": "true"})
    sns.set_platform_application_attributes(PlatformApplicationArn=app, Attributes={"Enabled": "false"})
    with pytest.raises(ClientError) as raised:
        sns.publish(TargetArn=arn, Message="app disabled")
    assert error_of(raised) == ("PlatformApplicationDisabled", 400)
    with pytest.raises(ClientError) as raised:
        sns.publish(TargetArn=arn.replace("endpoint/GCM/my-app/", "endpoint/GCM/my-app/0"), Message="x")
    assert error_of(raised) == ("InvalidParameter", 400)
    assert raised.value.response["Error"]["Message"] == (
        "Invalid parameter: TargetArn Reason: No endpoint found for the target arn specified"
    )


def test_topic_fans_out_to_an_application_subscription(sns, app, overcast):
    topic = sns.create_topic(Name="news")["TopicArn"]
    endpoint = sns.create_platform_endpoint(PlatformApplicationArn=app, Token="device-1")["EndpointArn"]
    subscription = sns.subscribe(TopicArn=topic, Protocol="application", Endpoint=endpoint)["SubscriptionArn"]
    assert subscription.startswith(topic + ":")  # confirmed at once
    sns.publish(TopicArn=topic, Message="breaking")
    [pushed] = outbox(overcast, protocol="application")
    assert pushed["endpoint"] == endpoint and pushed["subscription_arn"] == subscription
    sns.set_endpoint_attributes(EndpointArn=endpoint, Attributes={"Enabled": "false"})
    sns.publish(TopicArn=topic, Message="not delivered")
    assert len(outbox(overcast, protocol="application")) == 1
    with pytest.raises(ClientError) as raised:
        sns.subscribe(TopicArn=topic, Protocol="application", Endpoint=app)  # an app is not an endpoint
    assert error_of(raised) == ("InvalidParameter", 400)


def test_sms_attributes(sns):
    assert sns.get_sms_attributes()["attributes"] == {}
    sns.set_sms_attributes(attributes={"DefaultSMSType": "Transactional", "DefaultSenderID": "Overcast"})
    assert sns.get_sms_attributes(attributes=["DefaultSMSType"])["attributes"] == {
        "DefaultSMSType": "Transactional"
    }
    for attributes in ({"DefaultSMSType": "Loud"}, {"Volume": "11"}, {"MonthlySpendLimit": "lots"}):
        with pytest.raises(ClientError) as raised:
            sns.set_sms_attributes(attributes=attributes)
        assert error_of(raised) == ("InvalidParameter", 400), attributes


def test_opted_out_numbers_get_no_sms(sns, overcast):
    phone = "+15555550123"
    assert sns.check_if_phone_number_is_opted_out(phoneNumber=phone)["isOptedOut"] is False
    request = urllib.request.Request(
        overcast.endpoint + "/_overcast/sns/opt-out",
        data=json.dumps({"phoneNumber": phone}).encode(),
        method="POST",
    )
    urllib.request.urlopen(request, timeout=10).close()  # the recipient replied STOP
    assert sns.check_if_phone_number_is_opted_out(phoneNumber=phone)["isOptedOut"] is True
    assert sns.list_phone_numbers_opted_out()["phoneNumbers"] == [phone]
    assert sns.publish(PhoneNumber=phone, Message="dropped")["MessageId"]
    assert outbox(overcast, protocol="sms") == []
    sns.opt_in_phone_number(phoneNumber=phone)
    assert sns.list_phone_numbers_opted_out()["phoneNumbers"] == []
    sns.publish(PhoneNumber=phone, Message="delivered")
    assert [m["payload"] for m in outbox(overcast, protocol="sms")] == ["delivered"]
    with pytest.raises(ClientError) as raised:
        sns.check_if_phone_number_is_opted_out(phoneNumber="not a number")
    assert error_of(raised) == ("InvalidParameter", 400)
    assert sns.list_origination_numbers()["PhoneNumbers"] == []


def test_sms_sandbox_verification(sns, overcast):
    assert sns.get_sms_sandbox_account_status()["IsInSandbox"] is False
    phone = "+15555550199"
    sns.create_sms_sandbox_phone_number(PhoneNumber=phone, LanguageCode="en-US")
    assert sns.list_sms_sandbox_phone_numbers()["PhoneNumbers"] == [
        {"PhoneNumber": phone, "Status": "Pending"}
    ]
    [sms] = outbox(overcast, protocol="sms")
    code = sms["payload"].rsplit(" ", 1)[1]
    with pytest.raises(ClientError) as raised:
        sns.verify_sms_sandbox_phone_number(PhoneNumber=phone, OneTimePassword="00000000")
    assert error_of(raised) == ("VerificationException", 400)
    sns.verify_sms_sandbox_phone_number(PhoneNumber=phone, OneTimePassword=code)
    assert sns.list_sms_sandbox_phone_numbers()["PhoneNumbers"] == [
        {"PhoneNumber": phone, "Status": "Verified"}
    ]
    sns.delete_sms_sandbox_phone_number(PhoneNumber=phone)
    with pytest.raises(ClientError) as raised:
        sns.delete_sms_sandbox_phone_number(PhoneNumber=phone)
    assert error_of(raised) == ("ResourceNotFound", 404)
