"""ListLogGroups (the newer listing) and saved Insights queries (query definitions)."""

import pytest
from botocore.exceptions import ClientError

from tests.helpers import code_of


def test_list_log_groups_by_pattern_class_and_pages(logs):
    for name in ("/aws/lambda/a", "/aws/lambda/b", "/app/discovery", "/app/Other"):
        logs.create_log_group(logGroupName=name)
    logs.create_log_group(logGroupName="/app/cold", logGroupClass="INFREQUENT_ACCESS")
    everything = logs.list_log_groups()["logGroups"]
    assert [g["logGroupName"] for g in everything] == sorted(
        ["/aws/lambda/a", "/aws/lambda/b", "/app/discovery", "/app/Other", "/app/cold"]
    )
    assert set(everything[0]) == {"logGroupName", "logGroupArn", "logGroupClass"}
    assert everything[0]["logGroupArn"].endswith(f":log-group:{everything[0]['logGroupName']}")
    found = logs.list_log_groups(logGroupNamePattern="^/aws/lambda|discovery")["logGroups"]
    assert [g["logGroupName"] for g in found] == ["/app/discovery", "/aws/lambda/a", "/aws/lambda/b"]
    assert logs.list_log_groups(logGroupNamePattern="other")["logGroups"] == []  # case-sensitive
    cold = logs.list_log_groups(logGroupClass="INFREQUENT_ACCESS")["logGroups"]
    assert [(g["logGroupName"], g["logGroupClass"]) for g in cold] == [("/app/cold", "INFREQUENT_ACCESS")]
    first = logs.list_log_groups(limit=2)
    second = logs.list_log_groups(limit=2, nextToken=first["nextToken"])
    third = logs.list_log_groups(limit=2, nextToken=second["nextToken"])
    names = [g["logGroupName"] for page in (first, second, third) for g in page["logGroups"]]
    assert names == [g["logGroupName"] for g in everything] and "nextToken" not in third


def test_saved_queries_are_created_replaced_listed_and_deleted(logs):
    made = logs.put_query_definition(
        name="errors/by-host",
        queryString="fields @message | filter @message like /ERROR/",
        logGroupNames=["/a"],
    )["queryDefinitionId"]
    other = logs.put_query_definition(name="latency", queryString="stats avg(ms) by bin(5m)")[
        "queryDefinitionId"
    ]
    listed = logs.describe_query_definitions()["queryDefinitions"]
    assert [d["name"] for d in listed] == ["errors/by-host", "latency"]
    assert listed[0]["queryDefinitionId"] == made and listed[0]["logGroupNames"] == ["/a"]
    assert listed[0]["queryLanguage"] == "CWLI" and listed[0]["lastModified"] > 0
    assert "logGroupNames" not in listed[1]

    logs.put_query_definition(
        queryDefinitionId=made, name="errors", queryString="filter @message like /ERROR/"
    )
    replaced = logs.describe_query_definitions(queryDefinitionNamePrefix="err")["queryDefinitions"]
    assert [(d["queryDefinitionId"], d["name"]) for d in replaced] == [(made, "errors")]
    assert "logGroupNames" not in replaced[0]  # an update keeps nothing it does not send

    token = "c" * 36  # a retried create with the same client token makes no second definition
    once = logs.put_query_definition(name="retry", queryString="fields @timestamp", clientToken=token)
    twice = logs.put_query_definition(name="retry", queryString="fields @timestamp", clientToken=token)
    assert once["queryDefinitionId"] == twice["queryDefinitionId"]
    assert len(logs.describe_query_definitions()["queryDefinitions"]) == 3
    page = logs.describe_query_definitions(maxResults=2)
    rest = logs.describe_query_definitions(maxResults=2, nextToken=page["nextToken"])
    assert len(page["queryDefinitions"]) == 2 and len(rest["queryDefinitions"]) == 1

    assert logs.delete_query_definition(queryDefinitionId=other)["success"] is True
    for call, params in (
        (logs.delete_query_definition, {"queryDefinitionId": other}),
        (logs.put_query_definition, {"queryDefinitionId": other, "name": "x", "queryString": "fields a"}),
    ):
        with pytest.raises(ClientError) as raised:
            call(**params)
        assert code_of(raised) == "ResourceNotFoundException"
