"""A stream's resource policy decides cross-account reads and writes (by StreamARN), with IAM off (no setting
at all) and enforced, like AWS's Kinesis resource-based policies."""

import json

import pytest
from botocore.exceptions import ClientError

from overcast.config import Config
from overcast.testing import OvercastServer
from tests.policy.servers import client_as
from tests.services.kinesis.conftest import stream_arn


@pytest.fixture(scope="module", params=["off", "enforce"])
def server(request):
    with OvercastServer(Config(ephemeral=True, log_level="warning", iam=request.param)) as running:
        yield running


@pytest.fixture
def owner(server):
    kinesis = server.client("kinesis")
    kinesis.create_stream(StreamName="shared", ShardCount=1)
    yield kinesis
    server.reset()


def other_account(server) -> tuple[str, object]:
    """(account id, an admin Kinesis client of a second account), as tests/policy/test_resource_policies.py
    makes them: a 12-digit key with IAM off, an Organizations account's access role under enforce."""
    if server.config.iam != "enforce":
        return "222222222222", server.client(
            "kinesis", aws_access_key_id="222222222222", aws_secret_access_key="x" * 8
        )
    org = server.client("organizations")
    org.create_organization(FeatureSet="ALL")
    account = org.create_account(Email="other@example.com", AccountName="other")["CreateAccountStatus"][
        "AccountId"
    ]
    session = server.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole", RoleSessionName="admin"
    )["Credentials"]
    return account, client_as(server, "kinesis", session)


def test_cross_account_access_needs_the_streams_policy(server, owner):
    other, caller = other_account(server)
    arn = stream_arn("shared")
    with pytest.raises(ClientError) as raised:
        caller.put_record(StreamARN=arn, Data=b"hello", PartitionKey="k")
    assert raised.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "kinesis:PutRecord" in raised.value.response["Error"]["Message"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{other}:root"},
                "Action": ["kinesis:PutRecord", "kinesis:GetShardIterator", "kinesis:GetRecords"],
                "Resource": arn,
            }
        ],
    }
    owner.put_resource_policy(ResourceARN=arn, Policy=json.dumps(policy))
    put = caller.put_record(StreamARN=arn, Data=b"hello", PartitionKey="k")
    iterator = caller.get_shard_iterator(
        StreamARN=arn, ShardId=put["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )
    records = caller.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    assert [r["Data"] for r in records] == [b"hello"]
    with pytest.raises(ClientError) as raised:  # the policy grants no DeleteStream
        caller.delete_stream(StreamARN=arn)
    assert raised.value.response["Error"]["Code"] == "AccessDeniedException"
