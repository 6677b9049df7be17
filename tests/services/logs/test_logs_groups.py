"""Log groups and streams: create, describe (prefix, pattern, order, pagination), delete, tags, retention."""

import pytest
from botocore.exceptions import ClientError

from tests.helpers import code_of


def test_create_describe_delete_log_group(logs):
    logs.create_log_group(
        logGroupName="/aws/lambda/fn",
        kmsKeyId="arn:aws:kms:us-east-1:000000000000:key/k1",
        logGroupClass="INFREQUENT_ACCESS",
    )
    group = logs.describe_log_groups()["logGroups"][0]
    assert group["logGroupName"] == "/aws/lambda/fn"
    assert group["arn"] == "arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/fn:*"
    assert group["logGroupArn"] == "arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/fn"
    assert group["kmsKeyId"].endswith("key/k1")
    assert group["logGroupClass"] == "INFREQUENT_ACCESS"
    assert group["storedBytes"] == 0 and group["metricFilterCount"] == 0
    assert "retentionInDays" not in group
    logs.delete_log_group(logGroupName="/aws/lambda/fn")
    assert logs.describe_log_groups()["logGroups"] == []


def test_duplicate_and_missing_groups(logs):
    logs.create_log_group(logGroupName="g")
    with pytest.raises(ClientError) as excinfo:
        logs.create_log_group(logGroupName="g")
    assert code_of(excinfo) == "ResourceAlreadyExistsException"
    with pytest.raises(ClientError) as excinfo:
        logs.delete_log_group(logGroupName="nope")
    assert code_of(excinfo) == "ResourceNotFoundException"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_invalid_group_name(logs):
    with pytest.raises(ClientError) as excinfo:
        logs.create_log_group(logGroupName="bad name!")
    assert code_of(excinfo) == "InvalidParameterException"


def test_describe_log_groups_prefix_pattern_and_pages(logs):
    for name in ["/a/one", "/a/two", "/b/one", "/b/three", "/c/ONE"]:
        logs.create_log_group(logGroupName=name)

    def names(**kw):
        return [g["logGroupName"] for g in logs.describe_log_groups(**kw)["logGroups"]]

    assert names(logGroupNamePrefix="/a/") == ["/a/one", "/a/two"]
    assert names(logGroupNamePattern="one") == ["/a/one", "/b/one", "/c/ONE"]
    with pytest.raises(ClientError) as excinfo:
        logs.describe_log_groups(logGroupNamePrefix="/a", logGroupNamePattern="one")
    assert code_of(excinfo) == "InvalidParameterException"
    first = logs.describe_log_groups(limit=2)
    assert [g["logGroupName"] for g in first["logGroups"]] == ["/a/one", "/a/two"]
    second = logs.describe_log_groups(limit=2, nextToken=first["nextToken"])
    assert [g["logGroupName"] for g in second["logGroups"]] == ["/b/one", "/b/three"]
    third = logs.describe_log_groups(limit=2, nextToken=second["nextToken"])
    assert [g["logGroupName"] for g in third["logGroups"]] == ["/c/ONE"] and "nextToken" not in third
    paginated = [
        g["logGroupName"]
        for page in logs.get_paginator("describe_log_groups").paginate(PaginationConfig={"PageSize": 2})
        for g in page["logGroups"]
    ]
    assert len(paginated) == 5


def test_groups_are_per_region(overcast):
    overcast.client("logs", region="eu-west-1").create_log_group(logGroupName="g")
    assert overcast.client("logs").describe_log_groups()["logGroups"] == []


def test_retention_policy_values(logs):
    logs.create_log_group(logGroupName="g")
    logs.put_retention_policy(logGroupName="g", retentionInDays=30)
    assert logs.describe_log_groups()["logGroups"][0]["retentionInDays"] == 30
    with pytest.raises(ClientError) as excinfo:
        logs.put_retention_policy(logGroupName="g", retentionInDays=4)
    assert code_of(excinfo) == "InvalidParameterException"
    logs.delete_retention_policy(logGroupName="g")
    assert "retentionInDays" not in logs.describe_log_groups()["logGroups"][0]


def test_tags_new_and_legacy_apis(logs):
    logs.create_log_group(logGroupName="g", tags={"team": "a"})
    arn = logs.describe_log_groups()["logGroups"][0]["logGroupArn"]
    logs.tag_resource(resourceArn=arn, tags={"env": "dev"})
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"team": "a", "env": "dev"}
    logs.untag_resource(resourceArn=arn, tagKeys=["team"])
    logs.tag_log_group(logGroupName="g", tags={"cost": "1"})
    assert logs.list_tags_log_group(logGroupName="g")["tags"] == {"env": "dev", "cost": "1"}
    logs.untag_log_group(logGroupName="g", tags=["env"])
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"cost": "1"}
    # the tagging APIs take the ARN without the trailing :* (the model's pattern has no '*')
    with pytest.raises(ClientError) as excinfo:
        logs.list_tags_for_resource(resourceArn=arn + ":*")
    assert code_of(excinfo) == "InvalidParameterException"
    with pytest.raises(ClientError) as excinfo:
        logs.list_tags_for_resource(resourceArn=arn.replace(":g", ":missing"))
    assert code_of(excinfo) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as excinfo:
        logs.tag_resource(resourceArn=arn, tags={f"k{i}": "v" for i in range(50)})
    assert code_of(excinfo) == "TooManyTagsException"


def test_kms_key_association(logs):
    logs.create_log_group(logGroupName="g")
    logs.associate_kms_key(logGroupName="g", kmsKeyId="arn:aws:kms:us-east-1:000000000000:key/x")
    assert logs.describe_log_groups()["logGroups"][0]["kmsKeyId"].endswith("key/x")
    logs.disassociate_kms_key(logGroupName="g")
    assert "kmsKeyId" not in logs.describe_log_groups()["logGroups"][0]


def test_streams_create_describe_delete(logs, now_ms):
    logs.create_log_group(logGroupName="g")
    logs.create_log_stream(logGroupName="g", logStreamName="s")
    with pytest.raises(ClientError) as excinfo:
        logs.create_log_stream(logGroupName="g", logStreamName="s")
    assert code_of(excinfo) == "ResourceAlreadyExistsException"
    with pytest.raises(ClientError) as excinfo:
        logs.create_log_stream(logGroupName="missing", logStreamName="s")
    assert code_of(excinfo) == "ResourceNotFoundException"
    described = logs.describe_log_streams(logGroupName="g")["logStreams"][0]
    assert described["logStreamName"] == "s" and "firstEventTimestamp" not in described
    assert described["arn"] == "arn:aws:logs:us-east-1:000000000000:log-group:g:log-stream:s"
    logs.put_log_events(
        logGroupName="g",
        logStreamName="s",
        logEvents=[{"timestamp": now_ms - 10, "message": "a"}, {"timestamp": now_ms, "message": "b"}],
    )
    described = logs.describe_log_streams(logGroupName="g")["logStreams"][0]
    assert described["firstEventTimestamp"] == now_ms - 10
    assert described["lastEventTimestamp"] == now_ms
    assert described["lastIngestionTime"] >= now_ms - 1000
    assert described["storedBytes"] == 0
    assert logs.describe_log_groups()["logGroups"][0]["storedBytes"] == 2
    logs.delete_log_stream(logGroupName="g", logStreamName="s")
    assert logs.describe_log_streams(logGroupName="g")["logStreams"] == []
    assert logs.describe_log_groups()["logGroups"][0]["storedBytes"] == 0
    with pytest.raises(ClientError) as excinfo:
        logs.delete_log_stream(logGroupName="g", logStreamName="s")
    assert code_of(excinfo) == "ResourceNotFoundException"


def test_describe_streams_orders_and_pages(logs, now_ms):
    logs.create_log_group(logGroupName="g")
    for offset, name in [(3, "a"), (1, "b"), (2, "c")]:
        logs.create_log_stream(logGroupName="g", logStreamName=name)
        logs.put_log_events(
            logGroupName="g",
            logStreamName=name,
            logEvents=[{"timestamp": now_ms - 1000 * offset, "message": name}],
        )
    logs.create_log_stream(logGroupName="g", logStreamName="ab")

    def names(**kw):
        return [s["logStreamName"] for s in logs.describe_log_streams(logGroupName="g", **kw)["logStreams"]]

    assert names() == ["a", "ab", "b", "c"]
    assert names(descending=True) == ["c", "b", "ab", "a"]
    assert names(logStreamNamePrefix="a") == ["a", "ab"]
    assert names(orderBy="LastEventTime", descending=True) == ["b", "c", "a", "ab"]
    first = logs.describe_log_streams(logGroupName="g", orderBy="LastEventTime", descending=True, limit=2)
    rest = logs.describe_log_streams(
        logGroupName="g", orderBy="LastEventTime", descending=True, limit=2, nextToken=first["nextToken"]
    )
    assert [s["logStreamName"] for s in first["logStreams"] + rest["logStreams"]] == ["b", "c", "a", "ab"]
    assert "nextToken" not in rest
    with pytest.raises(ClientError) as excinfo:
        logs.describe_log_streams(logGroupName="g", orderBy="LastEventTime", logStreamNamePrefix="a")
    assert code_of(excinfo) == "InvalidParameterException"
    by_arn = logs.describe_log_streams(logGroupIdentifier="arn:aws:logs:us-east-1:000000000000:log-group:g")
    assert len(by_arn["logStreams"]) == 4


def test_delete_group_removes_streams_and_events(logs, now_ms):
    logs.create_log_group(logGroupName="g")
    logs.create_log_stream(logGroupName="g", logStreamName="s")
    logs.put_log_events(
        logGroupName="g", logStreamName="s", logEvents=[{"timestamp": now_ms, "message": "x"}]
    )
    logs.delete_log_group(logGroupName="g")
    logs.create_log_group(logGroupName="g")
    logs.create_log_stream(logGroupName="g", logStreamName="s")
    assert logs.get_log_events(logGroupName="g", logStreamName="s")["events"] == []


def test_aws_prefix_is_reserved(logs):
    with pytest.raises(ClientError) as excinfo:
        logs.create_log_group(logGroupName="aws/mine")
    assert code_of(excinfo) == "InvalidParameterException"
    logs.create_log_group(logGroupName="/aws/lambda/allowed")


def test_tag_resource_limit_is_too_many_tags(logs):
    logs.create_log_group(logGroupName="g", tags={f"k{i}": "v" for i in range(50)})
    arn = logs.describe_log_groups()["logGroups"][0]["logGroupArn"]
    with pytest.raises(ClientError) as excinfo:
        logs.tag_resource(resourceArn=arn, tags={"one": "more"})
    assert code_of(excinfo) == "TooManyTagsException"
    with pytest.raises(ClientError) as excinfo:
        logs.tag_log_group(logGroupName="g", tags={"one": "more"})
    assert code_of(excinfo) == "InvalidParameterException"


def test_resource_policies(logs):
    document = (
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": '
        '"events.amazonaws.com"}, "Action": "logs:PutLogEvents", "Resource": "*"}]}'
    )
    put = logs.put_resource_policy(policyName="events", policyDocument=document)
    assert (
        put["resourcePolicy"]["policyName"] == "events" and put["resourcePolicy"]["policyScope"] == "ACCOUNT"
    )
    policies = logs.describe_resource_policies()["resourcePolicies"]
    assert [(p["policyName"], p["policyDocument"]) for p in policies] == [("events", document)]
    with pytest.raises(ClientError) as excinfo:
        logs.put_resource_policy(policyName="bad", policyDocument="{not json")
    assert code_of(excinfo) == "InvalidParameterException"
    for i in range(9):
        logs.put_resource_policy(policyName=f"p{i}", policyDocument=document)
    with pytest.raises(ClientError) as excinfo:
        logs.put_resource_policy(policyName="eleventh", policyDocument=document)
    assert code_of(excinfo) == "LimitExceededException"
    logs.delete_resource_policy(policyName="events")
    assert len(logs.describe_resource_policies()["resourcePolicies"]) == 9
    with pytest.raises(ClientError) as excinfo:
        logs.delete_resource_policy(policyName="events")
    assert code_of(excinfo) == "ResourceNotFoundException"
