"""AWS/Events metrics that routing and delivering events publish to CloudWatch, read back as users read them."""

import datetime
import json
import urllib.request

from tests.services.events.conftest import put


def _clock(overcast) -> float:
    with urllib.request.urlopen(overcast.endpoint + "/_overcast/clock", timeout=30) as response:
        return json.loads(response.read())["epoch"]


def test_matched_triggered_and_invoked_by_rule_and_bus(overcast, events, make_queue, receive):
    url, queue = make_queue("delivered")
    dlq_url, dlq = make_queue("dead-letters")
    pattern = json.dumps({"source": ["demo.app"]})
    events.put_rule(Name="metered-ok", EventPattern=pattern)
    events.put_targets(Rule="metered-ok", Targets=[{"Id": "q", "Arn": queue}])
    events.put_rule(Name="metered-doomed", EventPattern=pattern)
    missing = "arn:aws:lambda:us-east-1:000000000000:function:does-not-exist"
    events.put_targets(
        Rule="metered-doomed", Targets=[{"Id": "fn", "Arn": missing, "DeadLetterConfig": {"Arn": dlq}}]
    )
    events.create_event_bus(Name="shop")
    events.put_rule(Name="orders", EventBusName="shop", EventPattern=pattern)
    events.put_targets(Rule="orders", EventBusName="shop", Targets=[{"Id": "q", "Arn": queue}])
    put(events, {"n": 1})
    put(events, {"n": 2})
    put(events, {"n": 3}, source="other.app")  # matches no rule
    put(events, {"n": 4}, EventBusName="shop")
    receive(url, 3)
    receive(dlq_url, 2)
    started = _clock(overcast)
    overcast.advance_clock(61)

    cloudwatch = overcast.client("cloudwatch")

    def total(name: str, **dimensions: str) -> float | None:
        found = cloudwatch.get_metric_statistics(
            Namespace="AWS/Events",
            MetricName=name,
            Dimensions=[{"Name": k, "Value": v} for k, v in dimensions.items()],
            StartTime=datetime.datetime.fromtimestamp(started - 120, datetime.UTC),
            EndTime=datetime.datetime.fromtimestamp(started + 120, datetime.UTC),
            Period=300,
            Statistics=["Sum"],
        )["Datapoints"]
        return sum(point["Sum"] for point in found) if found else None

    assert total("MatchedEvents", RuleName="metered-ok") == 2
    assert total("TriggeredRules", RuleName="metered-ok") == 2
    assert total("Invocations", RuleName="metered-ok") == 2
    assert total("FailedInvocations", RuleName="metered-ok") is None  # sent only when not zero
    assert total("Invocations", RuleName="metered-doomed") == 2
    assert total("FailedInvocations", RuleName="metered-doomed") == 2
    assert total("InvocationsSentToDlq", RuleName="metered-doomed") == 2
    assert total("MatchedEvents", EventBusName="shop", RuleName="orders") == 1
    assert total("MatchedEvents", RuleName="orders") is None  # a custom bus's rule is named with its bus
    assert total("MatchedEvents", EventBusName="default") == 2
    assert total("TriggeredRules", EventBusName="default") == 4
    assert total("Invocations") == 5  # the account's, across rules
