"""AWS/Events metrics, as EventBridge publishes them each minute its rules are used.

A rule on the default bus is named by the dimension RuleName alone, one on a custom bus by EventBusName and
RuleName (AWS's convention). Routing an event counts MatchedEvents and TriggeredRules per rule, and per bus the
events that matched any rule and the rules they triggered; a finished delivery counts Invocations (per rule and
for the account, dimensionless), and when it failed for good FailedInvocations and InvocationsSentToDlq or
InvocationsFailedToBeSentToDlq. Counting is a dictionary update; as in AWS, a metric appears only in minutes it
is not zero.
"""

from __future__ import annotations

from overcast.services.kit.metrics import MetricCounters, MetricPoint

NAMESPACE = "AWS/Events"
DEFAULT_BUS = "default"
ACTIVE_FOR = 3600
SEPARATOR = "\n"  # between the bus and the rule in a counter's key; neither name can hold it


def rule_key(bus: str, rule: str) -> str:
    return f"{bus}{SEPARATOR}{rule}"


def key_of_rule_arn(rule_arn: str) -> str:
    """The counter key of arn:...:rule/NAME (default bus) or arn:...:rule/BUS/NAME."""
    path = rule_arn.split(":", 5)[-1].removeprefix("rule/")
    bus, _, name = path.rpartition("/")
    return rule_key(bus or DEFAULT_BUS, name)


def count_routed(
    counters: MetricCounters, account: str, region: str, bus: str, rules: list[str], now: float
) -> None:
    """An event on `bus` matched `rules`."""
    for rule in rules:
        counters.add(account, region, rule_key(bus, rule), now, MatchedEvents=1, TriggeredRules=1)
    counters.add(account, region, rule_key(bus, ""), now, MatchedEvents=1, TriggeredRules=len(rules))


def count_scheduled(
    counters: MetricCounters, account: str, region: str, bus: str, rule: str, now: float
) -> None:
    """A scheduled rule fired: it triggered, no event matched it."""
    counters.add(account, region, rule_key(bus, rule), now, TriggeredRules=1)
    counters.add(account, region, rule_key(bus, ""), now, TriggeredRules=1)


def count_delivery(
    counters: MetricCounters, account: str, region: str, rule_arn: str, now: float, outcome: str
) -> None:
    """A delivery finished: "ok", "failed" (dropped), "dead-lettered", or "dead-letter-failed"."""
    amounts = {"Invocations": 1.0}
    if outcome != "ok":
        amounts["FailedInvocations"] = 1.0
    if outcome == "dead-lettered":
        amounts["InvocationsSentToDlq"] = 1.0
    elif outcome == "dead-letter-failed":
        amounts["InvocationsFailedToBeSentToDlq"] = 1.0
    counters.add(account, region, key_of_rule_arn(rule_arn), now, **amounts)
    counters.add(account, region, "", now, Invocations=1)


def dimensions(key: str) -> tuple[tuple[str, str], ...]:
    if not key:
        return ()
    bus, _, rule = key.partition(SEPARATOR)
    if not rule:
        return (("EventBusName", bus),)
    if bus == DEFAULT_BUS:
        return (("RuleName", rule),)
    return (("EventBusName", bus), ("RuleName", rule))


def published(counters: MetricCounters, now: float, minutes: list[float]) -> list[MetricPoint]:
    """The counts since the last collection (only those not zero), stamped with the minute that ended last."""
    stamp = minutes[-1] - 60
    points: list[MetricPoint] = []
    for (account, region, key), counts in counters.drain(now, ACTIVE_FOR).items():
        named = dimensions(key)
        for metric, value in counts.items():
            if value:
                points.append(MetricPoint(account, region, NAMESPACE, metric, named, value, "Count", stamp))
    return points
