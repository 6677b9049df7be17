"""STS as AWS answers it (issue 14): AssumeRole validates its input before authorizing, and AWS's three
rules for session tags."""

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of, message_of
from tests.policy.servers import client_as, document, user_with_key

ACCOUNT = "000000000000"


def fail(call):
    with pytest.raises(ClientError) as raised:
        call()
    return error_of(raised), message_of(raised)


def test_malformed_role_arn_is_a_validation_error_before_authorization(enforced):
    nobody = client_as(enforced, "sts", user_with_key(enforced, "nobody"))
    for arn in ("arn:aws:iam::000000000000:role", "not-an-arn-of-any-kind"):
        assert fail(lambda arn=arn: nobody.assume_role(RoleArn=arn, RoleSessionName="s1")) == (
            ("ValidationError", 400),
            f"{arn} is invalid",
        )
    assert fail(lambda: nobody.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/x", RoleSessionName="a b"))[
        0
    ] == ("ValidationError", 400)
    denied = fail(lambda: nobody.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/x", RoleSessionName="s1"))
    assert denied[0] == ("AccessDenied", 403)


def test_session_tag_rules(overcast):
    iam, sts = overcast.client("iam"), overcast.client("sts")
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": ACCOUNT},
        "Action": ["sts:AssumeRole", "sts:TagSession"],
    }
    first = iam.create_role(RoleName="first", AssumeRolePolicyDocument=document(statement))["Role"]["Arn"]
    second = iam.create_role(RoleName="second", AssumeRolePolicyDocument=document(statement))["Role"]["Arn"]
    allow = {"Effect": "Allow", "Action": "sts:*", "Resource": "*"}
    iam.put_role_policy(RoleName="first", PolicyName="chain", PolicyDocument=document(allow))
    assert fail(
        lambda: sts.assume_role(
            RoleArn=first,
            RoleSessionName="s1",
            Tags=[{"Key": "team", "Value": "a"}, {"Key": "Team", "Value": "b"}],
        )
    ) == (
        ("InvalidParameterValue", 400),
        "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
    )
    assert fail(
        lambda: sts.assume_role(
            RoleArn=first,
            RoleSessionName="s1",
            Tags=[{"Key": "team", "Value": "a"}],
            TransitiveTagKeys=["cost"],
        )
    ) == (
        ("InvalidParameterValue", 400),
        "The specified transitive tag key must be included in the requested tags.",
    )
    session = sts.assume_role(
        RoleArn=first, RoleSessionName="s1", Tags=[{"Key": "team", "Value": "a"}], TransitiveTagKeys=["team"]
    )["Credentials"]
    chained = client_as(overcast, "sts", session)
    assert fail(
        lambda: chained.assume_role(
            RoleArn=second, RoleSessionName="s2", Tags=[{"Key": "Team", "Value": "b"}]
        )
    ) == (
        ("InvalidParameterValue", 400),
        "One of the specified transitive tag keys can't be set because it conflicts with a transitive tag key "
        "from the calling session.",
    )
    assert chained.assume_role(RoleArn=second, RoleSessionName="s2", Tags=[{"Key": "cost", "Value": "c"}])
