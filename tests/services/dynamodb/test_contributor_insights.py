"""Contributor Insights settings as AWS reports them (rules named as CloudWatch's, modes, what List shows)."""

import pytest
from botocore.exceptions import ClientError

from tests.helpers import code_of, message_of


@pytest.fixture
def table(ddb):
    ddb.create_table(
        TableName="Orders",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-g",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
        LocalSecondaryIndexes=[
            {
                "IndexName": "local",
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "g", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return "Orders"


def test_enabling_names_the_rules_and_disabling_keeps_the_mode(ddb, table):
    assert ddb.describe_contributor_insights(TableName=table)["ContributorInsightsStatus"] == "DISABLED"
    assert ddb.list_contributor_insights(TableName=table)["ContributorInsightsSummaries"] == []
    answer = ddb.update_contributor_insights(TableName=table, ContributorInsightsAction="ENABLE")
    assert (answer["ContributorInsightsStatus"], answer["ContributorInsightsMode"]) == (
        "ENABLING",
        "ACCESSED_AND_THROTTLED_KEYS",
    )
    described = ddb.describe_contributor_insights(TableName=table)
    assert described["ContributorInsightsStatus"] == "ENABLED" and described["LastUpdateDateTime"]
    rules = described["ContributorInsightsRuleList"]
    stamp = rules[0].rsplit("-", 1)[1]
    assert rules == [
        f"DynamoDBContributorInsights-{kind}-Orders-{stamp}" for kind in ("PKC", "SKC", "PKT", "SKT")
    ]
    again = ddb.update_contributor_insights(TableName=table, ContributorInsightsAction="ENABLE")
    assert again["ContributorInsightsStatus"] == "ENABLED"  # the same mode again changes nothing

    ddb.update_contributor_insights(
        TableName=table, ContributorInsightsAction="ENABLE", ContributorInsightsMode="THROTTLED_KEYS"
    )
    described = ddb.describe_contributor_insights(TableName=table)
    assert described["ContributorInsightsRuleList"] == [
        f"DynamoDBContributorInsights-PKT-Orders-{stamp}",
        f"DynamoDBContributorInsights-SKT-Orders-{stamp}",
    ]
    off = ddb.update_contributor_insights(TableName=table, ContributorInsightsAction="DISABLE")
    assert (off["ContributorInsightsStatus"], off["ContributorInsightsMode"]) == (
        "DISABLING",
        "THROTTLED_KEYS",
    )
    described = ddb.describe_contributor_insights(TableName=table)
    assert described["ContributorInsightsStatus"] == "DISABLED"
    assert (
        described["ContributorInsightsMode"] == "THROTTLED_KEYS"
        and "ContributorInsightsRuleList" not in described
    )
    assert ddb.list_contributor_insights()["ContributorInsightsSummaries"] == []


def test_indexes_have_their_own_settings_and_list_pages(ddb, table):
    ddb.update_contributor_insights(TableName=table, ContributorInsightsAction="ENABLE")
    ddb.update_contributor_insights(TableName=table, IndexName="by-g", ContributorInsightsAction="ENABLE")
    index = ddb.describe_contributor_insights(TableName=table, IndexName="by-g")
    assert index["IndexName"] == "by-g"
    assert [rule.split("-")[1] for rule in index["ContributorInsightsRuleList"]] == ["PKC", "PKT"]
    assert all("-Orders-by-g-" in rule for rule in index["ContributorInsightsRuleList"])
    first = ddb.list_contributor_insights(MaxResults=1)
    assert first["ContributorInsightsSummaries"] == [
        {
            "TableName": "Orders",
            "ContributorInsightsStatus": "ENABLED",
            "ContributorInsightsMode": "ACCESSED_AND_THROTTLED_KEYS",
        }
    ]
    second = ddb.list_contributor_insights(MaxResults=1, NextToken=first["NextToken"])
    assert [s.get("IndexName") for s in second["ContributorInsightsSummaries"]] == ["by-g"]
    assert "NextToken" not in second
    for name in ("local", "none"):
        with pytest.raises(ClientError) as raised:
            ddb.update_contributor_insights(
                TableName=table, IndexName=name, ContributorInsightsAction="ENABLE"
            )
        assert (code_of(raised), message_of(raised)) == (
            "ResourceNotFoundException",
            f"Index: {name} not found for table: Orders",
        )
