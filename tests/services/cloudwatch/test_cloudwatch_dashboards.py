"""Dashboards: bodies validated as CloudWatch validates them, kept per account."""

import json

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of, message_of

BODY = {
    "widgets": [
        {"type": "text", "x": 0, "y": 0, "width": 12, "height": 3, "properties": {"markdown": "# Shop"}}
    ]
}


def test_put_get_list_delete(cloudwatch):
    answer = cloudwatch.put_dashboard(DashboardName="shop", DashboardBody=json.dumps(BODY))
    assert answer["DashboardValidationMessages"] == []
    got = cloudwatch.get_dashboard(DashboardName="shop")
    assert got["DashboardArn"] == "arn:aws:cloudwatch::000000000000:dashboard/shop"
    assert json.loads(got["DashboardBody"]) == BODY
    cloudwatch.put_dashboard(DashboardName="shop-2", DashboardBody=json.dumps(BODY))
    entries = cloudwatch.list_dashboards(DashboardNamePrefix="shop")["DashboardEntries"]
    assert [e["DashboardName"] for e in entries] == ["shop", "shop-2"]
    assert entries[0]["Size"] == len(json.dumps(BODY))
    with pytest.raises(ClientError) as raised:
        cloudwatch.delete_dashboards(DashboardNames=["shop", "missing"])
    assert error_of(raised) == ("ResourceNotFound", 404)
    assert len(cloudwatch.list_dashboards()["DashboardEntries"]) == 2  # nothing deleted
    cloudwatch.delete_dashboards(DashboardNames=["shop", "shop-2"])
    with pytest.raises(ClientError) as raised:
        cloudwatch.get_dashboard(DashboardName="shop")
    assert error_of(raised) == ("ResourceNotFound", 404)
    assert message_of(raised) == "Dashboard shop does not exist"


@pytest.mark.parametrize(
    "body, path, problem",
    [
        ({"widget": []}, "", "Should have required property 'widgets'"),
        ({"widgets": {}}, "/widgets", "Should be array"),
        ({"widgets": [{"properties": {}}]}, "/widgets/0", "Should have required property 'type'"),
        (
            {"widgets": [{"type": "chart", "properties": {}}]},
            "/widgets/0/type",
            "Should be equal to one of the allowed values",
        ),
        (
            {"widgets": [{"type": "metric", "width": 25, "properties": {}}]},
            "/widgets/0/width",
            "Should be <= 24",
        ),
        (
            {"widgets": [{"type": "text", "properties": {}}]},
            "/widgets/0/properties",
            "Should have required property 'markdown'",
        ),
    ],
)
def test_invalid_bodies(cloudwatch, body, path, problem):
    with pytest.raises(ClientError) as raised:
        cloudwatch.put_dashboard(DashboardName="bad", DashboardBody=json.dumps(body))
    assert error_of(raised) == ("InvalidParameterInput", 400)
    assert message_of(raised).startswith("The dashboard body is invalid, there are 1 validation errors:")
    assert raised.value.response["dashboardValidationMessages"] == [{"DataPath": path, "Message": problem}]


def test_a_body_that_is_not_json(cloudwatch):
    with pytest.raises(ClientError) as raised:
        cloudwatch.put_dashboard(DashboardName="bad", DashboardBody="{widgets")
    assert error_of(raised) == ("InvalidParameterInput", 400)
    assert message_of(raised) == "The field DashboardBody must be a valid JSON object"
    with pytest.raises(ClientError) as raised:
        cloudwatch.put_dashboard(DashboardName="bad name", DashboardBody=json.dumps(BODY))
    assert error_of(raised) == ("InvalidParameterValue", 400)
