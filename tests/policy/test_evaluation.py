"""The evaluation logic, table-driven from the examples in AWS's IAM User Guide (policy evaluation logic,
cross-account evaluation, permissions boundaries, session policies, SCPs)."""

import json

import pytest

from overcast.errors import ServiceError
from overcast.identity import Principal, root_principal
from overcast.policy import document
from overcast.policy.evaluate import Policies, Request, denial_message, evaluate

ALICE = Principal(
    "111122223333", "arn:aws:iam::111122223333:user/alice", "AIDAALICE", "user", None, {"user_name": "alice"}
)
SESSION = Principal(
    "111122223333",
    "arn:aws:sts::111122223333:assumed-role/Dev/s1",
    "AROADEV:s1",
    "assumed-role",
    None,
    {"role_arn": "arn:aws:iam::111122223333:role/Dev", "role_name": "Dev"},
)
BOB_OTHER = Principal(
    "444455556666", "arn:aws:iam::444455556666:user/bob", "AIDABOB", "user", None, {"user_name": "bob"}
)
BUCKET = "arn:aws:s3:::amzn-s3-demo-bucket"


def policy(*statements, kind=document.IDENTITY):
    return document.validate(json.dumps({"Version": "2012-10-17", "Statement": list(statements)}), kind)


def allow(action, resource="*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action, resource="*", **extra):
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def decide(principal, action, resource, policies, context=None):
    return evaluate(Request(principal, action, resource, context or {}), policies)


CASES = [
    # (name, principal, action, resource, policies, allowed, reason fragment)
    ("default deny", ALICE, "s3:GetObject", BUCKET, Policies(), False, "no identity-based policy allows"),
    (
        "identity allow",
        ALICE,
        "s3:ListBucket",
        BUCKET,
        Policies(identity=[policy(allow("s3:ListBucket", BUCKET))]),
        True,
        "",
    ),
    (
        "wildcard action",
        ALICE,
        "s3:ListBucket",
        BUCKET,
        Policies(identity=[policy(allow("s3:List*"))]),
        True,
        "",
    ),
    (
        "actions are case-insensitive",
        ALICE,
        "s3:ListBucket",
        BUCKET,
        Policies(identity=[policy(allow("S3:listbucket"))]),
        True,
        "",
    ),
    (
        "explicit deny wins over allow",
        ALICE,
        "s3:GetObject",
        BUCKET,
        Policies(identity=[policy(allow("s3:*")), policy(deny("s3:GetObject"))]),
        False,
        "explicit deny in an identity-based policy",
    ),
    (
        "NotAction allows everything else",
        ALICE,
        "sqs:SendMessage",
        "*",
        Policies(identity=[policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})]),
        True,
        "",
    ),
    (
        "NotAction excludes",
        ALICE,
        "iam:CreateUser",
        "*",
        Policies(identity=[policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})]),
        False,
        "no identity-based",
    ),
    (
        "NotResource",
        ALICE,
        "s3:GetObject",
        "arn:aws:s3:::secret/x",
        Policies(
            identity=[policy({"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::secret/*"})]
        ),
        False,
        "",
    ),
    (
        "resource wildcard",
        ALICE,
        "s3:GetObject",
        "arn:aws:s3:::b/home/alice/f.txt",
        Policies(identity=[policy(allow("s3:GetObject", "arn:aws:s3:::b/home/*"))]),
        True,
        "",
    ),
    (
        "resource region segment",
        ALICE,
        "sqs:SendMessage",
        "arn:aws:sqs:eu-west-1:111122223333:q",
        Policies(identity=[policy(allow("sqs:*", "arn:aws:sqs:us-east-1:*:*"))]),
        False,
        "",
    ),
    (
        "policy variable",
        ALICE,
        "s3:GetObject",
        "arn:aws:s3:::b/home/alice/f",
        Policies(identity=[policy(allow("s3:GetObject", "arn:aws:s3:::b/home/${aws:username}/*"))]),
        True,
        "",
    ),
    (
        "policy variable other user",
        ALICE,
        "s3:GetObject",
        "arn:aws:s3:::b/home/bob/f",
        Policies(identity=[policy(allow("s3:GetObject", "arn:aws:s3:::b/home/${aws:username}/*"))]),
        False,
        "",
    ),
    (
        "same-account resource policy alone grants",
        ALICE,
        "s3:GetObject",
        BUCKET,
        Policies(
            resource=policy(
                {**allow("s3:GetObject", BUCKET), "Principal": {"AWS": ALICE.arn}}, kind=document.RESOURCE
            ),
            resource_account="111122223333",
        ),
        True,
        "",
    ),
    (
        "resource policy naming the account needs identity allow",
        ALICE,
        "s3:GetObject",
        BUCKET,
        Policies(
            resource=policy(
                {**allow("s3:GetObject", BUCKET), "Principal": {"AWS": "111122223333"}},
                kind=document.RESOURCE,
            ),
            resource_account="111122223333",
        ),
        False,
        "no identity-based",
    ),
    (
        "resource policy deny",
        ALICE,
        "s3:GetObject",
        BUCKET,
        Policies(
            identity=[policy(allow("s3:*"))],
            resource=policy({**deny("s3:*", BUCKET), "Principal": "*"}, kind=document.RESOURCE),
            resource_account="111122223333",
        ),
        False,
        "explicit deny in a resource-based policy",
    ),
    (
        "cross-account needs the resource policy",
        BOB_OTHER,
        "s3:GetObject",
        BUCKET,
        Policies(identity=[policy(allow("s3:*"))], resource_account="111122223333"),
        False,
        "no resource-based policy allows",
    ),
    (
        "cross-account needs the identity policy",
        BOB_OTHER,
        "s3:GetObject",
        BUCKET,
        Policies(
            resource=policy(
                {**allow("s3:GetObject", BUCKET), "Principal": {"AWS": "444455556666"}},
                kind=document.RESOURCE,
            ),
            resource_account="111122223333",
        ),
        False,
        "no identity-based policy allows",
    ),
    (
        "cross-account with both",
        BOB_OTHER,
        "s3:GetObject",
        BUCKET,
        Policies(
            identity=[policy(allow("s3:*"))],
            resource=policy(
                {**allow("s3:GetObject", BUCKET), "Principal": {"AWS": "arn:aws:iam::444455556666:root"}},
                kind=document.RESOURCE,
            ),
            resource_account="111122223333",
        ),
        True,
        "",
    ),
    (
        "boundary limits identity",
        ALICE,
        "iam:CreateUser",
        "*",
        Policies(identity=[policy(allow("*"))], boundary=policy(allow(["s3:*", "cloudwatch:*"]))),
        False,
        "no permissions boundary allows",
    ),
    (
        "boundary and identity both allow",
        ALICE,
        "s3:GetObject",
        "*",
        Policies(identity=[policy(allow("*"))], boundary=policy(allow(["s3:*"]))),
        True,
        "",
    ),
    (
        "boundary alone grants nothing",
        ALICE,
        "s3:GetObject",
        "*",
        Policies(boundary=policy(allow("s3:*"))),
        False,
        "no identity-based",
    ),
    (
        "session policy limits the role",
        SESSION,
        "s3:PutObject",
        "*",
        Policies(identity=[policy(allow("s3:*"))], session=[policy(allow("s3:GetObject"))]),
        False,
        "no session policy allows",
    ),
    (
        "session policy and role allow",
        SESSION,
        "s3:GetObject",
        "*",
        Policies(identity=[policy(allow("s3:*"))], session=[policy(allow("s3:GetObject"))]),
        True,
        "",
    ),
    (
        "SCP must allow",
        ALICE,
        "s3:GetObject",
        "*",
        Policies(identity=[policy(allow("*"))], scp_levels=[[policy(allow("ec2:*"), kind=document.SCP)]]),
        False,
        "no service control policy allows",
    ),
    (
        "SCP deny",
        ALICE,
        "s3:GetObject",
        "*",
        Policies(
            identity=[policy(allow("*"))],
            scp_levels=[[policy(allow("*"), kind=document.SCP), policy(deny("s3:*"), kind=document.SCP)]],
        ),
        False,
        "explicit deny in a service control policy",
    ),
    (
        "every SCP level must allow",
        ALICE,
        "s3:GetObject",
        "*",
        Policies(
            identity=[policy(allow("*"))],
            scp_levels=[[policy(allow("*"), kind=document.SCP)], [policy(allow("ec2:*"), kind=document.SCP)]],
        ),
        False,
        "no service control policy allows",
    ),
    (
        "SCP allows and identity allows",
        ALICE,
        "s3:GetObject",
        "*",
        Policies(
            identity=[policy(allow("*"))],
            scp_levels=[[policy(allow("*"), kind=document.SCP)], [policy(allow("s3:*"), kind=document.SCP)]],
        ),
        True,
        "",
    ),
    (
        "SCPs restrict the member root",
        root_principal("111122223333"),
        "s3:GetObject",
        "*",
        Policies(
            scp_levels=[[policy(deny("s3:*"), kind=document.SCP), policy(allow("*"), kind=document.SCP)]]
        ),
        False,
        "explicit deny in a service control policy",
    ),
    ("root of the own account", root_principal("111122223333"), "s3:GetObject", "*", Policies(), True, ""),
    (
        "NotPrincipal deny spares the named principal",
        ALICE,
        "s3:GetObject",
        BUCKET,
        Policies(
            identity=[policy(allow("s3:*"))],
            resource=policy(
                {**deny("s3:*", BUCKET), "NotPrincipal": {"AWS": ALICE.arn}}, kind=document.RESOURCE
            ),
            resource_account="111122223333",
        ),
        True,
        "",
    ),
    (
        "resource policy naming the role grants to its sessions",
        SESSION,
        "sqs:SendMessage",
        "arn:aws:sqs:us-east-1:111122223333:q",
        Policies(
            resource=policy(
                {**allow("sqs:SendMessage", "*"), "Principal": {"AWS": "arn:aws:iam::111122223333:role/Dev"}},
                kind=document.RESOURCE,
            ),
            resource_account="111122223333",
        ),
        True,
        "",
    ),
]


@pytest.mark.parametrize(
    "name, principal, action, resource, policies, allowed, reason", CASES, ids=[c[0] for c in CASES]
)
def test_evaluation(name, principal, action, resource, policies, allowed, reason):
    decision = decide(principal, action, resource, policies, {"aws:username": ["alice"]})
    assert decision.allowed is allowed
    assert reason in decision.reason


def test_denial_message_is_aws_text():
    request = Request(ALICE, "sqs:CreateQueue", "arn:aws:sqs:us-east-1:111122223333:q")
    decision = evaluate(request, Policies())
    assert denial_message(request, decision) == (
        "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: sqs:CreateQueue on resource: "
        "arn:aws:sqs:us-east-1:111122223333:q because no identity-based policy allows the sqs:CreateQueue action"
    )


def test_anonymous_gets_only_public():
    from overcast.identity import ANONYMOUS

    public = policy(
        {**allow("s3:GetObject", "arn:aws:s3:::site/*"), "Principal": "*"}, kind=document.RESOURCE
    )
    ok = decide(
        ANONYMOUS,
        "s3:GetObject",
        "arn:aws:s3:::site/index.html",
        Policies(resource=public, resource_account="1"),
    )
    refused = decide(
        ANONYMOUS,
        "s3:PutObject",
        "arn:aws:s3:::site/index.html",
        Policies(resource=public, resource_account="1"),
    )
    assert ok.allowed and not refused.allowed


@pytest.mark.parametrize(
    "text, message",
    [
        ("{not json", "Syntax errors in policy."),
        ('{"Version": "2013-01-01", "Statement": []}', "The policy failed legacy parsing"),
        (
            '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*", '
            '"Principle": "*"}]}',
            "Syntax errors in policy.",
        ),
        (
            '{"Version": "2012-10-17", "Statement": [{"Action": "s3:*", "Resource": "*"}]}',
            "Missing required field Effect",
        ),
        (
            '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*"}]}',
            "Policy statement must contain actions.",
        ),
        (
            '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*"}]}',
            "Policy statement must contain resources.",
        ),
        (
            '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*", '
            '"Principal": "*"}]}',
            "Policy document should not specify a principal.",
        ),
        (
            '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*", '
            '"Condition": {"StringEqualz": {"a:b": "c"}}}]}',
            "Invalid Condition type : StringEqualz",
        ),
    ],
)
def test_malformed_documents(text, message):
    with pytest.raises(ServiceError) as raised:
        document.validate(text)
    assert raised.value.code == "MalformedPolicyDocument"
    assert raised.value.message == message


def test_trust_policy_rules():
    with pytest.raises(ServiceError, match="Has prohibited field Resource"):
        document.validate(
            json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "ec2.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                            "Resource": "*",
                        }
                    ],
                }
            ),
            document.TRUST,
        )
    with pytest.raises(ServiceError, match="Missing required field Principal"):
        document.validate(
            json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]}
            ),
            document.TRUST,
        )
