"""Resource-based policies through the provider hook (`authorization_resource`), with SQS queue policies:
cross-account callers need the queue policy, in both `off` (no setting at all) and `enforce` modes; within the
account, `enforce` also evaluates identity policies, and a queue policy naming a user grants on its own."""

import json

import pytest
from botocore.exceptions import ClientError

from overcast.config import Config
from overcast.testing import OvercastServer
from tests.policy.servers import client_as, document, user_with_key

DEFAULT = "000000000000"


def sqs_with_queue_policies():
    """The SQS provider, which publishes its queue policies itself (for tests written before it did)."""
    from overcast.services.sqs.provider import SqsProvider

    return SqsProvider


@pytest.fixture(scope="module", params=["off", "enforce"])
def server(request):
    with OvercastServer(Config(ephemeral=True, log_level="warning", iam=request.param)) as running:
        yield running


@pytest.fixture
def queue(server):
    """A queue of the default account, owned by its root."""
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName="shared")["QueueUrl"]
    yield sqs, url
    server.reset()


def other_account(server) -> tuple[str, object]:
    """(account id, an admin SQS client of a second account): a 12-digit key under off; under enforce, unknown
    keys are refused, so the second account is made with Organizations and reached through its access role."""
    if server.config.iam != "enforce":
        return "222222222222", server.client(
            "sqs", aws_access_key_id="222222222222", aws_secret_access_key="x" * 8
        )
    org = server.client("organizations")
    org.create_organization(FeatureSet="ALL")
    account = org.create_account(Email="other@example.com", AccountName="other")["CreateAccountStatus"][
        "AccountId"
    ]
    session = server.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole", RoleSessionName="admin"
    )["Credentials"]
    return account, client_as(server, "sqs", session)


def test_cross_account_needs_the_queue_policy(server, queue):
    sqs, url = queue
    other, caller = other_account(server)
    with pytest.raises(ClientError) as raised:
        caller.send_message(QueueUrl=url, MessageBody="hi")
    assert raised.value.response["Error"]["Code"] == "AccessDenied"
    assert (
        "because no resource-based policy allows the sqs:SendMessage action"
        in raised.value.response["Error"]["Message"]
    )
    sqs.set_queue_attributes(
        QueueUrl=url,
        Attributes={
            "Policy": document(
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{other}:root"},
                    "Action": "sqs:SendMessage",
                    "Resource": f"arn:aws:sqs:us-east-1:{DEFAULT}:shared",
                }
            )
        },
    )
    caller.send_message(QueueUrl=url, MessageBody="hi")
    with pytest.raises(ClientError):
        caller.receive_message(QueueUrl=url)  # only SendMessage was granted


def test_explicit_deny_in_queue_policy_binds_the_owner_users(server, queue):
    if server.config.iam != "enforce":
        pytest.skip("identity-side denials need --iam enforce")
    sqs, url = queue
    worker = client_as(
        server, "sqs", user_with_key(server, "worker", "arn:aws:iam::aws:policy/AmazonSQSFullAccess")
    )
    worker.send_message(QueueUrl=url, MessageBody="ok")
    sqs.set_queue_attributes(
        QueueUrl=url,
        Attributes={
            "Policy": json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Effect": "Deny", "Principal": "*", "Action": "sqs:PurgeQueue", "Resource": "*"}
                    ],
                }
            )
        },
    )
    with pytest.raises(ClientError) as raised:
        worker.purge_queue(QueueUrl=url)
    assert "with an explicit deny in a resource-based policy" in raised.value.response["Error"]["Message"]


def test_add_permission_grants_another_account(server, queue):
    sqs, url = queue
    other, caller = other_account(server)
    with pytest.raises(ClientError) as raised:
        caller.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    sqs.add_permission(
        QueueUrl=url, Label="reader", AWSAccountIds=[other], Actions=["ReceiveMessage", "GetQueueAttributes"]
    )
    assert caller.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"] == {
        "QueueArn": f"arn:aws:sqs:us-east-1:{DEFAULT}:shared"
    }
    sqs.send_message(QueueUrl=url, MessageBody="for you")
    assert caller.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "for you"
    with pytest.raises(ClientError):
        caller.delete_queue(QueueUrl=url)
    sqs.remove_permission(QueueUrl=url, Label="reader")
    with pytest.raises(ClientError):
        caller.receive_message(QueueUrl=url)


def test_get_queue_url_of_another_account_is_authorized_against_that_queue(server, queue):
    sqs, url = queue
    other, caller = other_account(server)
    with pytest.raises(ClientError) as raised:
        caller.get_queue_url(QueueName="shared", QueueOwnerAWSAccountId=DEFAULT)
    assert f"on resource: arn:aws:sqs:us-east-1:{DEFAULT}:shared" in raised.value.response["Error"]["Message"]
    sqs.add_permission(QueueUrl=url, Label="find", AWSAccountIds=[other], Actions=["GetQueueUrl"])
    found = caller.get_queue_url(QueueName="shared", QueueOwnerAWSAccountId=DEFAULT)["QueueUrl"]
    assert found.endswith(f"/{DEFAULT}/shared")
    with pytest.raises(
        ClientError
    ) as raised:  # enforce: nothing grants across accounts; off: the service answers
        caller.get_queue_url(QueueName="missing", QueueOwnerAWSAccountId=DEFAULT)
    expected = "AccessDenied" if server.config.iam == "enforce" else "AWS.SimpleQueueService.NonExistentQueue"
    assert raised.value.response["Error"]["Code"] == expected


def test_queue_policy_naming_a_user_grants_on_its_own(server, queue):
    if server.config.iam != "enforce":
        pytest.skip("identity policies are evaluated only under --iam enforce")
    sqs, url = queue
    key = user_with_key(server, "producer")  # no identity policy at all
    producer = client_as(server, "sqs", key)
    with pytest.raises(ClientError) as raised:
        producer.send_message(QueueUrl=url, MessageBody="x")
    assert (
        "because no identity-based policy allows the sqs:SendMessage action"
        in (raised.value.response["Error"]["Message"])
    )
    sqs.set_queue_attributes(
        QueueUrl=url,
        Attributes={
            "Policy": document(
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{DEFAULT}:user/producer"},
                    "Action": "sqs:SendMessage",
                    "Resource": f"arn:aws:sqs:us-east-1:{DEFAULT}:shared",
                }
            )
        },
    )
    producer.send_message(QueueUrl=url, MessageBody="x")
    with pytest.raises(ClientError):
        producer.purge_queue(QueueUrl=url)
