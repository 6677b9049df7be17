"""aws:ResourceAccount: the account that owns the resource a request acts on (CDK's bootstrap roles condition
their asset access on it)."""

import json

import pytest
from botocore.exceptions import ClientError

from tests.policy.servers import client_as, document, user_with_key


def _allowed_only_in(account: str, *actions: str) -> dict:
    return {
        "Effect": "Allow",
        "Action": list(actions),
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:ResourceAccount": account}},
    }


@pytest.mark.parametrize("account, allowed", [("000000000000", True), ("111111111111", False)])
def test_resource_account_is_the_owner_of_a_bucket_and_of_a_queue(enforced, account, allowed):
    enforced.client("s3").create_bucket(Bucket="assets")
    url = enforced.client("sqs").create_queue(QueueName="work")["QueueUrl"]
    credentials = user_with_key(enforced, "deployer")
    enforced.client("iam").put_user_policy(
        UserName="deployer",
        PolicyName="p",
        PolicyDocument=document(_allowed_only_in(account, "s3:ListBucket", "sqs:SendMessage")),
    )
    s3, sqs = client_as(enforced, "s3", credentials), client_as(enforced, "sqs", credentials)
    if allowed:
        assert s3.list_objects_v2(Bucket="assets")["KeyCount"] == 0
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"ok": True}))
        return
    for call in (
        lambda: s3.list_objects_v2(Bucket="assets"),
        lambda: sqs.send_message(QueueUrl=url, MessageBody="x"),
    ):
        with pytest.raises(ClientError) as raised:
            call()
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] in (400, 403)
        assert "AccessDenied" in raised.value.response["Error"]["Code"]
