"""The users-and-groups story under `--iam enforce`: permissions come from the groups a user is in, change the
moment membership changes, and an explicit deny beats every allow."""

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of, message_of
from tests.policy.servers import client_as, document


def refused(call, **kwargs) -> str:
    with pytest.raises(ClientError) as raised:
        call(**kwargs)
    assert error_of(raised)[1] in (400, 403)
    return message_of(raised)


def test_group_permissions_story(enforced):
    admin = enforced.client("iam")
    admin.create_group(GroupName="developers")
    admin.attach_group_policy(GroupName="developers", PolicyArn="arn:aws:iam::aws:policy/AmazonSQSFullAccess")
    admin.create_group(GroupName="auditors")
    admin.attach_group_policy(GroupName="auditors", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    keys = {}
    for name, group in (("alice", "developers"), ("bob", "auditors")):
        admin.create_user(UserName=name)
        admin.add_user_to_group(GroupName=group, UserName=name)
        keys[name] = admin.create_access_key(UserName=name)["AccessKey"]

    alice_sqs, alice_iam = (
        client_as(enforced, "sqs", keys["alice"]),
        client_as(enforced, "iam", keys["alice"]),
    )
    bob_sqs, bob_iam = client_as(enforced, "sqs", keys["bob"]), client_as(enforced, "iam", keys["bob"])

    url = alice_sqs.create_queue(QueueName="orders")["QueueUrl"]
    alice_sqs.send_message(QueueUrl=url, MessageBody="order-1")
    message = refused(alice_iam.list_users)
    assert message == (
        "User: arn:aws:iam::000000000000:user/alice is not authorized to perform: iam:ListUsers on "
        "resource: arn:aws:iam::000000000000:user/ because no identity-based policy allows the iam:ListUsers action"
    )

    assert {u["UserName"] for u in bob_iam.list_users()["Users"]} == {"alice", "bob"}
    refused(bob_sqs.create_queue, QueueName="bobs")
    refused(bob_iam.create_user, UserName="eve")  # read-only

    # Moving alice to the auditors takes effect at once
    admin.remove_user_from_group(GroupName="developers", UserName="alice")
    admin.add_user_to_group(GroupName="auditors", UserName="alice")
    refused(alice_sqs.send_message, QueueUrl=url, MessageBody="order-2")
    alice_iam.list_users()

    # An explicit deny on the group beats the managed policy's allow
    admin.put_group_policy(
        GroupName="auditors",
        PolicyName="no-user-listing",
        PolicyDocument=document({"Effect": "Deny", "Action": "iam:ListUsers", "Resource": "*"}),
    )
    assert "with an explicit deny in an identity-based policy" in refused(bob_iam.list_users)
    bob_iam.list_groups()
