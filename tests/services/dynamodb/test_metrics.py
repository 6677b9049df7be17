"""AWS/DynamoDB metrics that reads, writes and throttled requests publish to CloudWatch, read back as users
read them."""

import datetime
import json
import urllib.request

from tests.services.dynamodb.test_throttling import big_item, create, refused, throttled  # noqa: F401


def _clock(overcast) -> float:
    with urllib.request.urlopen(overcast.endpoint + "/_overcast/clock", timeout=30) as response:
        return json.loads(response.read())["epoch"]


def _statistic(overcast, started: float, name: str, kind: str, **dimensions: str) -> float | None:
    found = overcast.client("cloudwatch").get_metric_statistics(
        Namespace="AWS/DynamoDB",
        MetricName=name,
        Dimensions=[{"Name": k, "Value": v} for k, v in dimensions.items()],
        StartTime=datetime.datetime.fromtimestamp(started - 120, datetime.UTC),
        EndTime=datetime.datetime.fromtimestamp(started + 120, datetime.UTC),
        Period=300,
        Statistics=[kind],
    )["Datapoints"]
    return sum(point[kind] for point in found) if found else None


def test_capacity_latency_items_and_throttles_by_table(overcast, throttled):  # noqa: F811
    create(
        throttled,
        "Metered",
        read=1,
        write=1,
        extra_definitions=[{"AttributeName": "g", "AttributeType": "S"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "byG",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
                "ProvisionedThroughput": {"ReadCapacityUnits": 100, "WriteCapacityUnits": 1000},
            }
        ],
    )
    put = throttled.put_item(TableName="Metered", Item={"pk": {"S": "a"}, "g": {"S": "x"}})
    assert "ConsumedCapacity" not in put  # counted for CloudWatch, returned only when asked for
    throttled.put_item(TableName="Metered", Item={"pk": {"S": "b"}})
    throttled.get_item(TableName="Metered", Key={"pk": {"S": "a"}}, ConsistentRead=True)
    assert throttled.scan(TableName="Metered")["Count"] == 2
    throttled.batch_get_item(RequestItems={"Metered": {"Keys": [{"pk": {"S": "a"}}]}})
    throttled.put_item(TableName="Metered", Item=big_item("c"))  # 350 units: the bucket goes into debt
    refused(throttled.put_item, TableName="Metered", Item={"pk": {"S": "d"}})
    started = _clock(overcast)
    overcast.advance_clock(61)

    def stat(name, kind, **dimensions):
        return _statistic(overcast, started, name, kind, TableName="Metered", **dimensions)

    assert stat("ConsumedWriteCapacityUnits", "Sum") == 1 + 1 + 350
    assert stat("ConsumedWriteCapacityUnits", "SampleCount") == 3
    assert stat("ConsumedWriteCapacityUnits", "Sum", GlobalSecondaryIndexName="byG") == 1
    assert stat("ConsumedReadCapacityUnits", "Sum") == 1 + 0.5 + 0.5  # consistent GetItem, Scan, BatchGetItem
    assert stat("SuccessfulRequestLatency", "SampleCount", Operation="BatchGetItem") == 1
    assert stat("ReturnedItemCount", "Sum", Operation="Scan") == 2
    assert stat("SuccessfulRequestLatency", "SampleCount", Operation="PutItem") == 3
    assert 0 < stat("SuccessfulRequestLatency", "Maximum", Operation="GetItem") < 30_000
    assert stat("ThrottledRequests", "Sum", Operation="PutItem") == 1
    assert stat("ThrottledRequests", "Sum", Operation="GetItem") is None
    names = {
        (metric["MetricName"], tuple(sorted(d["Name"] for d in metric["Dimensions"])))
        for metric in overcast.client("cloudwatch").list_metrics(Namespace="AWS/DynamoDB")["Metrics"]
    }
    assert ("ConsumedReadCapacityUnits", ("TableName",)) in names
    assert ("SuccessfulRequestLatency", ("Operation", "TableName")) in names
