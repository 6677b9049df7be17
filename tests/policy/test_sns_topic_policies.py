"""SNS topic policies consulted by the policy engine (the provider's `authorization_resource` hook): another
account needs a grant in the topic policy (or AddPermission) in every mode; under `enforce`, a topic policy
naming a user grants on its own, its explicit denies bind the owner's users, and the default policy (which
grants only under AWS:SourceOwner) leaves the owner's principals to their identity policies."""

import json

import pytest
from botocore.exceptions import ClientError

from overcast.config import Config
from overcast.testing import OvercastServer
from tests.helpers import code_of, error_of, message_of
from tests.policy.servers import client_as, document, user_with_key

DEFAULT = "000000000000"
TOPIC = f"arn:aws:sns:us-east-1:{DEFAULT}:news"


@pytest.fixture(scope="module")
def off_server():
    with OvercastServer(Config(ephemeral=True, log_level="warning", iam="off")) as running:
        yield running


@pytest.fixture(params=["off", "enforce"])
def server(request):
    """The tests that hold in both modes run on both: `off` and `enforce`."""
    return request.getfixturevalue("off_server" if request.param == "off" else "enforced_server")


def news_topic(server):
    client = server.client("sns")
    assert client.create_topic(Name="news")["TopicArn"] == TOPIC
    return client


@pytest.fixture
def sns(server):
    yield news_topic(server)
    server.reset()


@pytest.fixture
def enforced_sns(enforced):
    """The topic on the `--iam enforce` server, for what only identity policies decide."""
    return news_topic(enforced)


def other_account(server) -> tuple[str, object]:
    """(account id, an admin SNS client of a second account); under enforce made with Organizations and reached
    through its access role, since unknown keys are refused."""
    if server.config.iam != "enforce":
        return "222222222222", server.client(
            "sns", aws_access_key_id="222222222222", aws_secret_access_key="x" * 8
        )
    org = server.client("organizations")
    org.create_organization(FeatureSet="ALL")
    account = org.create_account(Email="other@example.com", AccountName="other")["CreateAccountStatus"][
        "AccountId"
    ]
    session = server.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole", RoleSessionName="admin"
    )["Credentials"]
    return account, client_as(server, "sns", session)


def test_cross_account_publish_needs_a_grant(server, sns):
    other, caller = other_account(server)
    with pytest.raises(ClientError) as raised:
        caller.publish(TopicArn=TOPIC, Message="hi")
    assert error_of(raised) == ("AuthorizationError", 403)  # SNS's code for denials
    assert f"is not authorized to perform: sns:Publish on resource: {TOPIC}" in message_of(raised)
    assert "because no resource-based policy allows the sns:Publish action" in message_of(raised)
    sns.add_permission(TopicArn=TOPIC, Label="other-publishes", AWSAccountId=[other], ActionName=["Publish"])
    assert caller.publish(TopicArn=TOPIC, Message="hi")["MessageId"]
    with pytest.raises(ClientError):  # only Publish was granted
        caller.get_topic_attributes(TopicArn=TOPIC)
    sns.remove_permission(TopicArn=TOPIC, Label="other-publishes")
    with pytest.raises(ClientError):
        caller.publish(TopicArn=TOPIC, Message="hi")


def test_topic_policy_grants_another_account_by_statement(server, sns):
    other, caller = other_account(server)
    sns.set_topic_attributes(
        TopicArn=TOPIC,
        AttributeName="Policy",
        AttributeValue=document(
            {
                "Effect": "Allow",
                "Principal": {"AWS": other},
                "Action": ["sns:Subscribe", "sns:GetTopicAttributes"],
                "Resource": TOPIC,
            }
        ),
    )
    assert caller.get_topic_attributes(TopicArn=TOPIC)["Attributes"]["TopicArn"] == TOPIC
    with pytest.raises(ClientError):
        caller.publish(TopicArn=TOPIC, Message="hi")


def test_the_owner_account_keeps_its_default_access(server, sns):
    sns.publish(TopicArn=TOPIC, Message="from the root")
    assert json.loads(sns.get_topic_attributes(TopicArn=TOPIC)["Attributes"]["Policy"])["Statement"]


def test_the_default_topic_policy_leaves_the_owners_users_to_their_identity_policies(enforced, enforced_sns):
    publisher = client_as(
        enforced, "sns", user_with_key(enforced, "publisher", "arn:aws:iam::aws:policy/AmazonSNSFullAccess")
    )
    publisher.publish(TopicArn=TOPIC, Message="from a user with an identity policy")
    nobody = client_as(enforced, "sns", user_with_key(enforced, "nobody"))
    with pytest.raises(ClientError) as raised:  # the default topic policy grants nothing on its own
        nobody.publish(TopicArn=TOPIC, Message="x")
    assert "because no identity-based policy allows the sns:Publish action" in (message_of(raised))


def test_topic_policy_naming_a_user_grants_and_its_denies_bind(enforced, enforced_sns):
    sns = enforced_sns
    plain = client_as(enforced, "sns", user_with_key(enforced, "plain"))  # no identity policy
    admin = client_as(
        enforced, "sns", user_with_key(enforced, "admin", "arn:aws:iam::aws:policy/AmazonSNSFullAccess")
    )
    sns.set_topic_attributes(
        TopicArn=TOPIC,
        AttributeName="Policy",
        AttributeValue=document(
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{DEFAULT}:user/plain"},
                "Action": "sns:Publish",
                "Resource": TOPIC,
            },
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sns:DeleteTopic",
                "Resource": TOPIC,
                "Condition": {"StringNotEquals": {"aws:PrincipalType": "Account"}},
            },
        ),
    )
    plain.publish(TopicArn=TOPIC, Message="granted by the topic policy")
    with pytest.raises(ClientError) as raised:
        admin.delete_topic(TopicArn=TOPIC)
    assert "with an explicit deny in a resource-based policy" in message_of(raised)


def test_topic_tags_are_resource_tags(enforced, enforced_sns):
    sns = enforced_sns
    sns.tag_resource(ResourceArn=TOPIC, Tags=[{"Key": "team", "Value": "red"}])
    iam = enforced.client("iam")
    key = user_with_key(enforced, "red")
    iam.put_user_policy(
        UserName="red",
        PolicyName="red-topics",
        PolicyDocument=document(
            {
                "Effect": "Allow",
                "Action": "sns:Publish",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:ResourceTag/team": "red"}},
            }
        ),
    )
    red = client_as(enforced, "sns", key)
    red.publish(TopicArn=TOPIC, Message="tagged")
    sns.create_topic(Name="untagged")
    with pytest.raises(ClientError):
        red.publish(TopicArn=f"arn:aws:sns:us-east-1:{DEFAULT}:untagged", Message="x")


def test_s3_notifications_need_the_topic_policy_under_enforce(enforced, enforced_sns):
    sns = enforced_sns
    s3 = enforced.client("s3")
    s3.create_bucket(Bucket="uploads")
    configuration = {"TopicConfigurations": [{"TopicArn": TOPIC, "Events": ["s3:ObjectCreated:*"]}]}
    with pytest.raises(ClientError) as raised:  # S3's test event is refused by the default topic policy
        s3.put_bucket_notification_configuration(Bucket="uploads", NotificationConfiguration=configuration)
    assert code_of(raised) == "InvalidArgument"
    sns.set_topic_attributes(
        TopicArn=TOPIC,
        AttributeName="Policy",
        AttributeValue=document(
            {
                "Effect": "Allow",
                "Principal": {"Service": "s3.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": TOPIC,
                "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::uploads"}},
            }
        ),
    )
    s3.put_bucket_notification_configuration(Bucket="uploads", NotificationConfiguration=configuration)
