"""Access advisor: GenerateServiceLastAccessedDetails and friends, from the calls IAM users and roles really made."""

import json

import pytest
from botocore.exceptions import ClientError

from tests.helpers import code_of, error_of
from tests.policy.servers import client_as, user_with_key

ACCOUNT = "000000000000"
SQS_FULL = "arn:aws:iam::aws:policy/AmazonSQSFullAccess"
IAM_READ = "arn:aws:iam::aws:policy/IAMReadOnlyAccess"


def report(iam, arn: str, **extra) -> dict:
    job = iam.generate_service_last_accessed_details(Arn=arn)["JobId"]
    return iam.get_service_last_accessed_details(JobId=job, **extra) | {"JobId": job}


def by_namespace(answer: dict) -> dict:
    return {s["ServiceNamespace"]: s for s in answer["ServicesLastAccessed"]}


def test_a_users_report_lists_the_services_its_policies_allow_and_when_it_used_them(overcast):
    iam = overcast.client("iam")
    key = user_with_key(overcast, "app", SQS_FULL, IAM_READ)
    client_as(overcast, "sqs", key, region="eu-west-1").create_queue(QueueName="jobs")

    answer = report(iam, f"arn:aws:iam::{ACCOUNT}:user/app")
    assert answer["JobStatus"] == "COMPLETED" and answer["JobType"] == "SERVICE_LEVEL"
    assert answer["JobCompletionDate"] >= answer["JobCreationDate"]
    services = by_namespace(answer)
    assert set(services) == {"sqs", "iam"}  # what the policies allow, nothing else
    sqs = services["sqs"]
    assert sqs["ServiceName"] == "Amazon Simple Queue Service"
    assert sqs["LastAuthenticatedEntity"] == f"arn:aws:iam::{ACCOUNT}:user/app"
    assert sqs["LastAuthenticatedRegion"] == "eu-west-1"
    assert sqs["TotalAuthenticatedEntities"] == 1
    assert "LastAuthenticated" in sqs
    assert services["iam"]["TotalAuthenticatedEntities"] == 0
    assert "LastAuthenticated" not in services["iam"]  # allowed, never used: a candidate to remove

    used = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])["AccessKeyLastUsed"]
    assert (used["ServiceName"], used["Region"]) == ("sqs", "eu-west-1")


def test_later_use_moves_the_date_forward(overcast):
    iam = overcast.client("iam")
    key = user_with_key(overcast, "app", SQS_FULL)
    sqs = client_as(overcast, "sqs", key)
    sqs.list_queues()
    first = by_namespace(report(iam, f"arn:aws:iam::{ACCOUNT}:user/app"))["sqs"]["LastAuthenticated"]
    overcast.advance_clock("2h")
    sqs.list_queues()
    later = by_namespace(report(iam, f"arn:aws:iam::{ACCOUNT}:user/app"))["sqs"]["LastAuthenticated"]
    assert (later - first).total_seconds() >= 7200


def test_role_sessions_count_for_the_role_and_policies_aggregate_their_entities(overcast):
    iam = overcast.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"}],
    }
    iam.create_role(RoleName="worker", AssumeRolePolicyDocument=json.dumps(trust))
    iam.attach_role_policy(RoleName="worker", PolicyArn=SQS_FULL)
    user_with_key(overcast, "idle", SQS_FULL)  # attached, never calls
    creds = overcast.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/worker", RoleSessionName="s1"
    )["Credentials"]
    client_as(overcast, "sqs", creds).list_queues()

    role = by_namespace(report(iam, f"arn:aws:iam::{ACCOUNT}:role/worker"))["sqs"]
    assert role["LastAuthenticatedEntity"] == f"arn:aws:iam::{ACCOUNT}:role/worker"

    answer = report(iam, SQS_FULL)
    sqs = by_namespace(answer)["sqs"]
    assert sqs["TotalAuthenticatedEntities"] == 1
    assert sqs["LastAuthenticatedEntity"] == f"arn:aws:iam::{ACCOUNT}:role/worker"
    entities = iam.get_service_last_accessed_details_with_entities(
        JobId=answer["JobId"], ServiceNamespace="sqs"
    )["EntityDetailsList"]
    assert [
        (e["EntityInfo"]["Type"], e["EntityInfo"]["Name"], "LastAuthenticated" in e) for e in entities
    ] == [
        ("ROLE", "worker", True),
        ("USER", "idle", False),
    ]


def test_a_groups_report_counts_its_members(overcast):
    iam = overcast.client("iam")
    iam.create_group(GroupName="devs")
    iam.attach_group_policy(GroupName="devs", PolicyArn=SQS_FULL)
    for name in ("ana", "bo"):
        key = user_with_key(overcast, name)
        iam.add_user_to_group(GroupName="devs", UserName=name)
        client_as(overcast, "sqs", key).list_queues()
    answer = report(iam, f"arn:aws:iam::{ACCOUNT}:group/devs")
    assert by_namespace(answer)["sqs"]["TotalAuthenticatedEntities"] == 2
    entities = iam.get_service_last_accessed_details_with_entities(
        JobId=answer["JobId"], ServiceNamespace="sqs"
    )["EntityDetailsList"]
    assert {e["EntityInfo"]["Arn"] for e in entities} == {
        f"arn:aws:iam::{ACCOUNT}:user/ana",
        f"arn:aws:iam::{ACCOUNT}:user/bo",
    }


def test_pages_with_max_items(overcast):
    iam = overcast.client("iam")
    iam.create_user(UserName="admin")
    iam.attach_user_policy(UserName="admin", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    job = iam.generate_service_last_accessed_details(Arn=f"arn:aws:iam::{ACCOUNT}:user/admin")["JobId"]
    first = iam.get_service_last_accessed_details(JobId=job, MaxItems=2)
    assert len(first["ServicesLastAccessed"]) == 2 and first["IsTruncated"]
    second = iam.get_service_last_accessed_details(JobId=job, MaxItems=2, Marker=first["Marker"])
    assert first["ServicesLastAccessed"][0] != second["ServicesLastAccessed"][0]
    everything = iam.get_service_last_accessed_details(JobId=job, MaxItems=1000)
    namespaces = {s["ServiceNamespace"] for s in everything["ServicesLastAccessed"]}
    assert {"s3", "sqs", "sns", "dynamodb", "lambda", "iam", "sts"} <= namespaces


@pytest.mark.parametrize(
    ("call", "code", "status"),
    [
        (
            lambda iam: iam.get_service_last_accessed_details(JobId="00000000-0000-4000-8000-000000000000"),
            "NoSuchEntity",
            404,
        ),
        (
            lambda iam: iam.generate_service_last_accessed_details(Arn=f"arn:aws:iam::{ACCOUNT}:user/ghost"),
            "NoSuchEntity",
            404,
        ),
        (
            lambda iam: iam.generate_service_last_accessed_details(Arn="arn:aws:s3:::not-an-iam-entity"),
            "InvalidInput",
            400,
        ),
        (
            lambda iam: iam.generate_service_last_accessed_details(
                Arn=f"arn:aws:iam::{ACCOUNT}:policy/missing"
            ),
            "NoSuchEntity",
            404,
        ),
    ],
)
def test_errors(overcast, call, code, status):
    with pytest.raises(ClientError) as raised:
        call(overcast.client("iam"))
    assert error_of(raised) == (code, status)


def test_unknown_namespace_of_a_job(overcast):
    iam = overcast.client("iam")
    user_with_key(overcast, "app", SQS_FULL)
    job = iam.generate_service_last_accessed_details(Arn=f"arn:aws:iam::{ACCOUNT}:user/app")["JobId"]
    with pytest.raises(ClientError) as raised:
        iam.get_service_last_accessed_details_with_entities(JobId=job, ServiceNamespace="s3")
    assert code_of(raised) == "InvalidInput"


def test_policies_granting_service_access(overcast):
    iam = overcast.client("iam")
    iam.create_user(UserName="reader")
    iam.create_group(GroupName="queues")
    iam.add_user_to_group(GroupName="queues", UserName="reader")
    iam.attach_user_policy(UserName="reader", PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    allow = lambda action: json.dumps(  # noqa: E731
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]}
    )
    iam.put_group_policy(GroupName="queues", PolicyName="sqs-send", PolicyDocument=allow("sqs:Send*"))
    iam.put_user_policy(
        UserName="reader",
        PolicyName="deny-only",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "sqs:*", "Resource": "*"}]}
        ),
    )
    arn = iam.get_user(UserName="reader")["User"]["Arn"]
    answer = iam.list_policies_granting_service_access(Arn=arn, ServiceNamespaces=["s3", "sqs", "dynamodb"])
    by_namespace = {
        entry["ServiceNamespace"]: entry["Policies"] for entry in answer["PoliciesGrantingServiceAccess"]
    }
    assert by_namespace["s3"] == [
        {
            "PolicyName": "AmazonS3ReadOnlyAccess",
            "PolicyType": "MANAGED",
            "PolicyArn": "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
        }
    ]
    assert by_namespace["sqs"] == [
        {"PolicyName": "sqs-send", "PolicyType": "INLINE", "EntityType": "GROUP", "EntityName": "queues"}
    ]
    assert by_namespace["dynamodb"] == [] and answer["IsTruncated"] is False
    with pytest.raises(ClientError) as raised:
        iam.list_policies_granting_service_access(
            Arn="arn:aws:iam::000000000000:user/ghost", ServiceNamespaces=["s3"]
        )
    assert code_of(raised) == "NoSuchEntity"
