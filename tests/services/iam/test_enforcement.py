"""`--iam enforce`: requests are allowed or denied by the principal's policies, with AWS's denial text."""

import json

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of, message_of
from tests.policy.servers import client_as, document, user_with_key

ACCOUNT = "000000000000"


def denied(raised) -> tuple[str, int, str]:
    return (*error_of(raised), message_of(raised))


def test_user_without_policies_is_denied_with_aws_text(enforced):
    key = user_with_key(enforced, "bob")
    with pytest.raises(ClientError) as raised:
        client_as(enforced, "iam", key).create_group(GroupName="g")
    assert denied(raised) == (
        "AccessDenied",
        403,
        f"User: arn:aws:iam::{ACCOUNT}:user/bob is not authorized to perform: iam:CreateGroup on resource: "
        f"arn:aws:iam::{ACCOUNT}:group/g because no identity-based policy allows the iam:CreateGroup action",
    )


def test_group_policy_grants_and_explicit_deny_wins(enforced):
    iam = enforced.client("iam")
    key = user_with_key(enforced, "bob")
    iam.create_group(GroupName="readers")
    iam.attach_group_policy(GroupName="readers", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    iam.add_user_to_group(GroupName="readers", UserName="bob")
    bob = client_as(enforced, "iam", key)
    assert [u["UserName"] for u in bob.list_users()["Users"]] == ["bob"]
    iam.put_user_policy(
        UserName="bob",
        PolicyName="no-list",
        PolicyDocument=document({"Effect": "Deny", "Action": "iam:ListUsers", "Resource": "*"}),
    )
    with pytest.raises(ClientError) as raised:
        bob.list_users()
    assert "with an explicit deny in an identity-based policy" in denied(raised)[2]


def test_permissions_boundary_caps_an_admin(enforced):
    iam = enforced.client("iam")
    key = user_with_key(enforced, "ops", "arn:aws:iam::aws:policy/AdministratorAccess")
    iam.put_user_permissions_boundary(
        UserName="ops", PermissionsBoundary="arn:aws:iam::aws:policy/IAMReadOnlyAccess"
    )
    ops = client_as(enforced, "iam", key)
    ops.list_roles()
    with pytest.raises(ClientError) as raised:
        ops.create_user(UserName="x")
    assert "because no permissions boundary allows the iam:CreateUser action" in denied(raised)[2]


def test_policy_variable_limits_user_to_own_entity(enforced):
    iam = enforced.client("iam")
    key = user_with_key(enforced, "carol")
    iam.create_user(UserName="other")
    iam.put_user_policy(
        UserName="carol",
        PolicyName="self",
        PolicyDocument=document(
            {
                "Effect": "Allow",
                "Action": ["iam:GetUser", "iam:ListUserTags"],
                "Resource": "arn:aws:iam::*:user/${aws:username}",
            }
        ),
    )
    carol = client_as(enforced, "iam", key)
    assert carol.get_user(UserName="carol")["User"]["UserName"] == "carol"
    with pytest.raises(ClientError):
        carol.get_user(UserName="other")


def test_conditions_on_time_and_request_tags(enforced):
    iam = enforced.client("iam")
    key = user_with_key(enforced, "dave")
    now = enforced.platform.clock.now()
    from datetime import UTC, datetime

    until = datetime.fromtimestamp(now + 3600, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    iam.put_user_policy(
        UserName="dave",
        PolicyName="tagged",
        PolicyDocument=document(
            {
                "Effect": "Allow",
                "Action": "iam:CreateRole",
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"aws:RequestTag/team": "blue"},
                    "DateLessThan": {"aws:CurrentTime": until},
                },
            }
        ),
    )
    dave = client_as(enforced, "iam", key)
    trust = document(
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
    )
    with pytest.raises(ClientError):
        dave.create_role(RoleName="untagged", AssumeRolePolicyDocument=trust)
    dave.create_role(
        RoleName="tagged", AssumeRolePolicyDocument=trust, Tags=[{"Key": "team", "Value": "blue"}]
    )
    enforced.advance_clock("2h")  # the virtual clock is aws:CurrentTime
    with pytest.raises(ClientError):
        dave.create_role(
            RoleName="late", AssumeRolePolicyDocument=trust, Tags=[{"Key": "team", "Value": "blue"}]
        )


def test_source_ip_condition(enforced):
    iam = enforced.client("iam")
    key = user_with_key(enforced, "erin")
    iam.put_user_policy(
        UserName="erin",
        PolicyName="office",
        PolicyDocument=document(
            {
                "Effect": "Allow",
                "Action": "iam:ListUsers",
                "Resource": "*",
                "Condition": {"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}},
            },
            {
                "Effect": "Allow",
                "Action": "iam:ListGroups",
                "Resource": "*",
                "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
            },
        ),
    )
    erin = client_as(enforced, "iam", key)
    erin.list_users()
    with pytest.raises(ClientError):
        erin.list_groups()


def test_simulate_principal_policy_uses_the_same_engine(enforced):
    iam = enforced.client("iam")
    user_with_key(enforced, "frank", "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    results = iam.simulate_principal_policy(
        PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:user/frank",
        ActionNames=["s3:GetObject", "s3:PutObject"],
        ResourceArns=["arn:aws:s3:::bucket/key"],
    )["EvaluationResults"]
    assert [r["EvalDecision"] for r in results] == ["allowed", "implicitDeny"]
    custom = iam.simulate_custom_policy(
        PolicyInputList=[
            document(
                {"Effect": "Deny", "Action": "sqs:*", "Resource": "*"},
                {"Effect": "Allow", "Action": "*", "Resource": "*"},
            )
        ],
        ActionNames=["sqs:SendMessage", "sns:Publish"],
    )["EvaluationResults"]
    assert [r["EvalDecision"] for r in custom] == ["explicitDeny", "allowed"]


def test_unknown_keys_are_refused(enforced):
    sts = enforced.client("sts", aws_access_key_id="AKIAIOSFODNN7EXAMPLE", aws_secret_access_key="x" * 40)
    with pytest.raises(ClientError) as raised:
        sts.get_caller_identity()
    assert denied(raised)[0] == "InvalidClientTokenId"


def test_root_is_allowed_everything(enforced):
    iam = enforced.client("iam")
    iam.create_user(UserName="x")
    assert iam.list_users()["Users"]


def test_soft_mode_never_denies_and_reports_least_privilege():
    from overcast.config import Config
    from overcast.policy.enforcement import least_privilege_report
    from overcast.testing import OvercastServer

    with OvercastServer(Config(ephemeral=True, log_level="warning", iam="soft")) as server:
        key = user_with_key(server, "app")
        app = client_as(server, "iam", key)
        app.list_users()
        app.create_group(GroupName="made-anyway")
        report = least_privilege_report(server.platform)
    entry = report[f"arn:aws:iam::{ACCOUNT}:user/app"]
    actions = {s["Action"] for s in entry["policy"]["Statement"]}
    assert {"iam:ListUsers", "iam:CreateGroup"} <= actions
    assert {d["action"] for d in entry["denied"]} >= {"iam:ListUsers", "iam:CreateGroup"}
    json.dumps(entry["policy"])


def test_iam_resources_carry_their_path_and_tags(enforced):
    """Existing users and roles are authorized by their full ARN (path included) and their tags
    (aws:ResourceTag), so path-scoped and tag-based (ABAC) IAM administration works as in AWS."""
    iam = enforced.client("iam")
    iam.create_user(UserName="eng1", Path="/engineering/")
    iam.create_user(UserName="ops1")
    trust = document({"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"})
    iam.create_role(
        RoleName="blue-app", AssumeRolePolicyDocument=trust, Tags=[{"Key": "team", "Value": "blue"}]
    )
    iam.create_role(
        RoleName="red-app", AssumeRolePolicyDocument=trust, Tags=[{"Key": "team", "Value": "red"}]
    )
    key = user_with_key(enforced, "lead")
    iam.put_user_policy(
        UserName="lead",
        PolicyName="scoped",
        PolicyDocument=document(
            {
                "Effect": "Allow",
                "Action": "iam:GetUser",
                "Resource": f"arn:aws:iam::{ACCOUNT}:user/engineering/*",
            },
            {
                "Effect": "Allow",
                "Action": "iam:GetRole",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:ResourceTag/team": "blue"}},
            },
        ),
    )
    lead = client_as(enforced, "iam", key)
    assert lead.get_user(UserName="eng1")["User"]["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/engineering/eng1"
    with pytest.raises(ClientError) as raised:
        lead.get_user(UserName="ops1")
    assert f"on resource: arn:aws:iam::{ACCOUNT}:user/ops1 because" in denied(raised)[2]
    assert lead.get_role(RoleName="blue-app")["Role"]["RoleName"] == "blue-app"
    with pytest.raises(ClientError) as raised:
        lead.get_role(RoleName="red-app")
    assert denied(raised)[:2] == ("AccessDenied", 403)


def test_batch_operations_are_authorized_as_the_action_they_repeat(enforced):
    """AWS has no sqs:SendMessageBatch or sns:PublishBatch action: a batch needs the single action."""
    queue_url = enforced.client("sqs").create_queue(QueueName="work")["QueueUrl"]
    topic = enforced.client("sns").create_topic(Name="news")["TopicArn"]
    key = user_with_key(enforced, "worker")
    enforced.client("iam").put_user_policy(
        UserName="worker",
        PolicyName="queue-and-topic",
        PolicyDocument=document(
            {
                "Effect": "Allow",
                "Action": [
                    "sqs:SendMessage",
                    "sqs:ReceiveMessage",
                    "sqs:DeleteMessage",
                    "sqs:ChangeMessageVisibility",
                ],
                "Resource": f"arn:aws:sqs:us-east-1:{ACCOUNT}:work",
            },
            {"Effect": "Allow", "Action": "sns:Publish", "Resource": topic},
        ),
    )
    sqs, sns = client_as(enforced, "sqs", key), client_as(enforced, "sns", key)
    sent = sqs.send_message_batch(
        QueueUrl=queue_url, Entries=[{"Id": str(n), "MessageBody": f"m{n}"} for n in range(3)]
    )
    assert len(sent["Successful"]) == 3
    received = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    handles = [{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(received)]
    changed = sqs.change_message_visibility_batch(
        QueueUrl=queue_url, Entries=[{**h, "VisibilityTimeout": 0} for h in handles]
    )
    assert not changed.get("Failed")
    assert not sqs.delete_message_batch(QueueUrl=queue_url, Entries=handles).get("Failed")
    published = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[{"Id": "1", "Message": "hi"}])
    assert len(published["Successful"]) == 1
    enforced.client("iam").delete_user_policy(UserName="worker", PolicyName="queue-and-topic")
    with pytest.raises(ClientError) as raised:
        sqs.send_message_batch(QueueUrl=queue_url, Entries=[{"Id": "1", "MessageBody": "m"}])
    assert "sqs:SendMessage " in denied(raised)[2]
