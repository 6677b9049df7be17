"""`--iam soft`: nothing is denied, every decision is recorded, and `overcast iam report` (GET
/_overcast/iam/report) gives per principal the least-privilege policy its calls needed."""

import json
import logging
import urllib.request
from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError

from overcast.config import Config
from overcast.testing import OvercastServer
from tests.helpers import code_of
from tests.policy.servers import client_as, user_with_key

ACCOUNT = "000000000000"


@pytest.fixture(scope="module")
def soft_server() -> Iterator[OvercastServer]:
    with OvercastServer(Config(ephemeral=True, log_level="warning", iam="soft")) as server:
        yield server


@pytest.fixture
def soft(soft_server: OvercastServer) -> Iterator[OvercastServer]:
    yield soft_server
    soft_server.reset()


def report(server: OvercastServer) -> dict:
    with urllib.request.urlopen(server.endpoint + "/_overcast/iam/report", timeout=10) as response:
        return json.loads(response.read())


def app_calls(server: OvercastServer, key: dict) -> None:
    """What the application does: a queue and a message, a bucket and an object."""
    sqs = client_as(server, "sqs", key)
    url = sqs.create_queue(QueueName="jobs")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="hello")
    s3 = client_as(server, "s3", key)
    s3.create_bucket(Bucket="app-data")
    s3.put_object(Bucket="app-data", Key="in/a.txt", Body=b"a")
    s3.put_object(Bucket="app-data", Key="in/b.txt", Body=b"b")


def test_soft_mode_allows_and_reports_the_policy_the_calls_needed(soft):
    key = user_with_key(soft, "app")  # no policy at all: enforce mode would refuse every call
    app_calls(soft, key)
    answer = report(soft)
    assert answer["mode"] == "soft"
    entry = answer["principals"][f"arn:aws:iam::{ACCOUNT}:user/app"]
    assert entry["calls"] == 5
    assert {(d["action"], d["resource"]) for d in entry["denied"]} == {
        ("sqs:CreateQueue", f"arn:aws:sqs:us-east-1:{ACCOUNT}:jobs"),
        ("sqs:SendMessage", f"arn:aws:sqs:us-east-1:{ACCOUNT}:jobs"),
        ("s3:CreateBucket", "arn:aws:s3:::app-data"),
        ("s3:PutObject", "arn:aws:s3:::app-data/in/a.txt"),
        ("s3:PutObject", "arn:aws:s3:::app-data/in/b.txt"),
    }
    statements = entry["policy"]["Statement"]
    # Actions used on the same resources share one statement.
    assert {
        "Effect": "Allow",
        "Action": ["sqs:CreateQueue", "sqs:SendMessage"],
        "Resource": f"arn:aws:sqs:us-east-1:{ACCOUNT}:jobs",
    } in statements
    # Objects are granted as a person writes it, the bucket's objects, and the report says what that stands for.
    assert {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::app-data/*"} in statements
    assert entry["generalized"] == {
        "arn:aws:s3:::app-data/*": ["arn:aws:s3:::app-data/in/a.txt", "arn:aws:s3:::app-data/in/b.txt"]
    }


def test_generalized_resources():
    from overcast.policy.enforcement import generalize

    assert generalize("arn:aws:s3:::b/deep/key.txt") == ["arn:aws:s3:::b/*"]
    assert generalize("arn:aws:s3:::b") == ["arn:aws:s3:::b"]
    table = "arn:aws:dynamodb:us-east-1:1:table/t"
    assert generalize(f"{table}/index/by-date") == [f"{table}/index/*"]
    assert generalize(table) == [table]
    fn = "arn:aws:lambda:us-east-1:1:function:f"
    assert generalize(f"{fn}:3") == [fn, f"{fn}:*"]
    group = "arn:aws:logs:us-east-1:1:log-group:/app"
    assert generalize(f"{group}:log-stream:s1") == [f"{group}:*"]
    assert generalize("arn:aws:sqs:us-east-1:1:jobs") == ["arn:aws:sqs:us-east-1:1:jobs"]


def test_the_reported_policy_is_enough_under_enforce_and_nothing_more(soft, enforced):
    app_calls(soft, user_with_key(soft, "app"))
    policy = report(soft)["principals"][f"arn:aws:iam::{ACCOUNT}:user/app"]["policy"]

    iam = enforced.client("iam")
    key = user_with_key(enforced, "app")
    iam.put_user_policy(UserName="app", PolicyName="least", PolicyDocument=json.dumps(policy))
    app_calls(enforced, key)  # every call the report saw is allowed
    with pytest.raises(ClientError) as raised:
        client_as(enforced, "sqs", key).delete_queue(QueueUrl=f"{enforced.endpoint}/{ACCOUNT}/jobs")
    assert code_of(raised) == "AccessDenied"


def test_calls_allowed_by_policy_are_recorded_without_denials(soft):
    key = user_with_key(soft, "reader", "arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    client_as(soft, "iam", key).list_users()
    entry = report(soft)["principals"][f"arn:aws:iam::{ACCOUNT}:user/reader"]
    assert entry["denied"] == []
    assert entry["policy"]["Statement"][0]["Action"] == "iam:ListUsers"


def test_role_sessions_are_reported_as_their_role(soft):
    iam = soft.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"}],
    }
    iam.create_role(RoleName="worker", AssumeRolePolicyDocument=json.dumps(trust))
    creds = soft.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/worker", RoleSessionName="one"
    )["Credentials"]
    client_as(soft, "sqs", creds).create_queue(QueueName="work")
    principals = report(soft)["principals"]
    assert f"arn:aws:iam::{ACCOUNT}:role/worker" in principals
    assert not any("assumed-role" in arn for arn in principals)


def test_would_be_denials_are_logged_once(soft, caplog):
    key = user_with_key(soft, "noisy")
    iam = client_as(soft, "iam", key)
    with caplog.at_level(logging.WARNING, logger="overcast.iam"):
        iam.list_groups()
        iam.list_groups()
    lines = [r.getMessage() for r in caplog.records if "would deny" in r.getMessage()]
    assert lines == [
        f"iam soft: would deny (AccessDenied): User: arn:aws:iam::{ACCOUNT}:user/noisy is not authorized "
        f"to perform: iam:ListGroups on resource: arn:aws:iam::{ACCOUNT}:group/ because no "
        "identity-based policy allows the iam:ListGroups action"
    ]


def test_reset_forgets_the_observations(soft):
    client_as(soft, "iam", user_with_key(soft, "app")).list_users()
    assert report(soft)["principals"]
    soft.reset()
    assert report(soft)["principals"] == {}


def test_cli_prints_the_policy_per_principal(soft, run_cli):
    key = user_with_key(soft, "app")
    client_as(soft, "sqs", key).create_queue(QueueName="jobs")
    done = run_cli("iam", "report", "--endpoint", soft.endpoint)
    assert done.returncode == 0, done.stderr
    header, needs, *policy = done.stdout.splitlines()
    assert header == f"# arn:aws:iam::{ACCOUNT}:user/app: 1 call(s), 1 refused by its current policies"
    assert needs == f"#   needs sqs:CreateQueue on arn:aws:sqs:us-east-1:{ACCOUNT}:jobs"
    assert json.loads("\n".join(policy)) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sqs:CreateQueue",
                "Resource": f"arn:aws:sqs:us-east-1:{ACCOUNT}:jobs",
            }
        ],
    }

    as_json = run_cli("iam", "report", "--json", "--endpoint", soft.endpoint)
    assert list(json.loads(as_json.stdout)) == [f"arn:aws:iam::{ACCOUNT}:user/app"]

    missing = run_cli(
        "iam", "report", "--principal", f"arn:aws:iam::{ACCOUNT}:user/nobody", "--endpoint", soft.endpoint
    )
    assert missing.returncode == 1
    assert "no calls recorded" in missing.stderr


def test_cli_says_when_the_server_is_not_in_soft_mode(overcast, run_cli):
    done = run_cli("iam", "report", "--endpoint", overcast.endpoint)
    assert done.returncode == 0
    assert "--iam off" in done.stderr
    assert "no calls recorded" in done.stderr
