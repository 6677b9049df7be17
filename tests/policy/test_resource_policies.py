"""Resource-based policies through the provider hook (`authorization_resource`), with the real SQS provider
extended by the few lines a service adds to take part: cross-account callers need the queue policy, in both
`off` and `enforce` modes; within the account, `enforce` also evaluates identity policies."""

import json

import pytest
from botocore.exceptions import ClientError

from overcast.config import Config
from overcast.policy.enforcement import ResourcePolicy
from overcast.testing import OvercastServer
from tests.policy.servers import client_as, document, user_with_key

DEFAULT = "000000000000"


def sqs_with_queue_policies():
    from overcast.services.sqs.provider import SqsProvider

    class QueuePolicies(SqsProvider):
        def authorization_resource(self, ctx, arn):
            queue = self._queue_by_arn(arn)
            if queue is None:
                return None
            return ResourcePolicy(queue.account, queue.attributes.get("Policy"), dict(queue.tags))

    return QueuePolicies


@pytest.fixture(scope="module", params=["off", "enforce"])
def server(request):
    with OvercastServer(Config(ephemeral=True, log_level="warning", iam=request.param)) as running:
        running.platform.install_provider(sqs_with_queue_policies()(running.platform))
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
