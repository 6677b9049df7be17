"""Resource-based policies through the provider hook (`authorization_resource`), with SQS queue policies:
cross-account callers need the queue policy, in both `off` (no setting at all) and `enforce` modes; within the
account, `enforce` also evaluates identity policies, and a queue policy naming a user grants on its own."""

import json

import pytest
from botocore.exceptions import ClientError

from overcast.config import Config
from overcast.testing import OvercastServer
from tests.helpers import code_of, error_of, message_of
from tests.policy.servers import client_as, document, user_with_key

DEFAULT = "000000000000"


def sqs_with_queue_policies():
    """The SQS provider, which publishes its queue policies itself (for tests written before it did)."""
    from overcast.services.sqs.provider import SqsProvider

    return SqsProvider


@pytest.fixture(scope="module")
def off_server():
    with OvercastServer(Config(ephemeral=True, log_level="warning", iam="off")) as running:
        yield running


@pytest.fixture(params=["off", "enforce"])
def server(request):
    """The tests that hold in both modes run on both: `off` (no setting at all) and `enforce`."""
    return request.getfixturevalue("off_server" if request.param == "off" else "enforced_server")


def shared_queue(server) -> tuple[object, str]:
    """A queue of the default account, owned by its root."""
    sqs = server.client("sqs")
    return sqs, sqs.create_queue(QueueName="shared")["QueueUrl"]


@pytest.fixture
def queue(server):
    yield shared_queue(server)
    server.reset()


@pytest.fixture
def enforced_queue(enforced):
    """The queue on the `--iam enforce` server, for what only identity policies decide."""
    return shared_queue(enforced)


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
    assert code_of(raised) == "AccessDenied"
    assert "because no resource-based policy allows the sqs:SendMessage action" in message_of(raised)
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


def test_explicit_deny_in_queue_policy_binds_the_owner_users(enforced, enforced_queue):
    sqs, url = enforced_queue
    worker = client_as(
        enforced, "sqs", user_with_key(enforced, "worker", "arn:aws:iam::aws:policy/AmazonSQSFullAccess")
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
    assert "with an explicit deny in a resource-based policy" in message_of(raised)


def test_add_permission_grants_another_account(server, queue):
    sqs, url = queue
    other, caller = other_account(server)
    with pytest.raises(ClientError) as raised:
        caller.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
    assert error_of(raised)[1] == 403
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
    assert f"on resource: arn:aws:sqs:us-east-1:{DEFAULT}:shared" in message_of(raised)
    sqs.add_permission(QueueUrl=url, Label="find", AWSAccountIds=[other], Actions=["GetQueueUrl"])
    found = caller.get_queue_url(QueueName="shared", QueueOwnerAWSAccountId=DEFAULT)["QueueUrl"]
    assert found.endswith(f"/{DEFAULT}/shared")
    with pytest.raises(
        ClientError
    ) as raised:  # enforce: nothing grants across accounts; off: the service answers
        caller.get_queue_url(QueueName="missing", QueueOwnerAWSAccountId=DEFAULT)
    expected = "AccessDenied" if server.config.iam == "enforce" else "AWS.SimpleQueueService.NonExistentQueue"
    assert code_of(raised) == expected


def test_queue_policy_naming_a_user_grants_on_its_own(enforced, enforced_queue):
    sqs, url = enforced_queue
    key = user_with_key(enforced, "producer")  # no identity policy at all
    producer = client_as(enforced, "sqs", key)
    with pytest.raises(ClientError) as raised:
        producer.send_message(QueueUrl=url, MessageBody="x")
    assert "because no identity-based policy allows the sqs:SendMessage action" in (message_of(raised))
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
