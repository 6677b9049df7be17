"""Alarm evaluation, as pure functions: M out of N datapoints against a threshold with the missing-data
treatment, the state reasons in CloudWatch's wording, the reason data, the notification an SNS action
publishes, and the composite-alarm rule language.

An evaluation looks at the last N complete periods before its moment (newest first). `missing` ignores the
periods without data (and with none at all the alarm has INSUFFICIENT_DATA); `notBreaching` and `breaching`
count them as good or bad; `ignore` keeps the current state when there is not enough data.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

compact = partial(json.dumps, separators=(",", ":"))  # AWS writes its JSON without spaces

COMPARISONS = {
    "GreaterThanThreshold": ("greater than", lambda v, t: v > t),
    "GreaterThanOrEqualToThreshold": ("greater than or equal to", lambda v, t: v >= t),
    "LessThanThreshold": ("less than", lambda v, t: v < t),
    "LessThanOrEqualToThreshold": ("less than or equal to", lambda v, t: v <= t),
}
REGION_NAMES = {
    "us-east-1": "US East (N. Virginia)",
    "us-east-2": "US East (Ohio)",
    "us-west-1": "US West (N. California)",
    "us-west-2": "US West (Oregon)",
    "ca-central-1": "Canada (Central)",
    "eu-west-1": "EU (Ireland)",
    "eu-west-2": "EU (London)",
    "eu-west-3": "EU (Paris)",
    "eu-central-1": "EU (Frankfurt)",
    "eu-north-1": "EU (Stockholm)",
    "ap-northeast-1": "Asia Pacific (Tokyo)",
    "ap-northeast-2": "Asia Pacific (Seoul)",
    "ap-southeast-1": "Asia Pacific (Singapore)",
    "ap-southeast-2": "Asia Pacific (Sydney)",
    "ap-south-1": "Asia Pacific (Mumbai)",
    "sa-east-1": "South America (Sao Paulo)",
}


@dataclass
class Outcome:
    state: str | None  # the new state, or None to keep the current one
    reason: str
    reason_data: dict[str, Any]


def stamp(moment: float) -> str:
    """CloudWatch's timestamps in reason data and notifications: 2026-12-07T06:50:00.000+0000."""
    return (
        datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{int(moment * 1000) % 1000:03d}+0000"
    )


def _short(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%d/%m/%y %H:%M:%S")


def _number(value: float) -> str:
    return repr(float(value))


def evaluate(
    points: list[tuple[float, float | None]],
    config: dict[str, Any],
    current: str,
    moment: float,
) -> Outcome:
    """The outcome of evaluating `points` ((period start, value or None), newest first, N of them)."""
    threshold = float(config.get("Threshold", 0.0))
    words, breaches = COMPARISONS[config["ComparisonOperator"]]
    needed = config.get("DatapointsToAlarm") or config["EvaluationPeriods"]
    treatment = config.get("TreatMissingData") or "missing"
    present = [(t, v) for t, v in points if v is not None]
    bad = [(t, v) for t, v in present if breaches(v, threshold)]
    missing = len(points) - len(present)
    breaching_count = len(bad) + (missing if treatment == "breaching" else 0)
    data = _reason_data(config, present, moment, threshold)
    if breaching_count >= needed:
        shown = bad or present
        state = "ALARM"
        verb = "was" if len(shown) == 1 else "were"
        reason = _crossed(
            len(shown), len(points), shown, f"{verb} {words}", threshold, needed, current, state
        )
        if not shown:  # breaching because data is missing
            reason = (
                f"Threshold Crossed: no datapoints were received for {missing} period"
                f"{'s' if missing != 1 else ''} and {missing} missing datapoint"
                f"{'s were' if missing != 1 else ' was'} treated as [Breaching]."
            )
        return Outcome(state, reason, data)
    if present or treatment == "notBreaching":
        state = "OK"
        good = [(t, v) for t, v in present if not breaches(v, threshold)]
        if not present:
            reason = (
                f"Threshold Crossed: no datapoints were received for {missing} period"
                f"{'s' if missing != 1 else ''} and {missing} missing datapoint"
                f"{'s were' if missing != 1 else ' was'} treated as [NonBreaching]."
            )
        else:
            verb = "was not" if len(good) == 1 else "were not"
            reason = _crossed(
                len(good), len(points), good, f"{verb} {words}", threshold, needed, current, state
            )
        return Outcome(state, reason, data)
    if treatment == "ignore":
        return Outcome(None, "", data)
    unknown = len(points)
    return Outcome(
        "INSUFFICIENT_DATA",
        f"Insufficient Data: {unknown} datapoint{'s were' if unknown != 1 else ' was'} unknown.",
        data,
    )


def _crossed(
    count: int,
    total: int,
    shown: list[tuple[float, float]],
    relation: str,
    threshold: float,
    needed: int,
    current: str,
    state: str,
) -> str:
    listed = ", ".join(f"{_number(v)} ({_short(t)})" for t, v in shown)
    if total == 1:
        head = f"Threshold Crossed: 1 datapoint [{listed}] {relation} the threshold ({_number(threshold)})."
        return head
    return (
        f"Threshold Crossed: {count} out of the last {total} datapoints [{listed}] {relation} the threshold "
        f"({_number(threshold)}) (minimum {needed} datapoint{'s' if needed != 1 else ''} for {current} -> {state} "
        "transition)."
    )


def _reason_data(
    config: dict[str, Any], present: list[tuple[float, float]], moment: float, threshold: float
) -> dict[str, Any]:
    data: dict[str, Any] = {"version": "1.0", "queryDate": stamp(moment)}
    if present:
        data["startDate"] = stamp(present[-1][0])
    if config.get("Statistic"):
        data["statistic"] = config["Statistic"]
    if config.get("Unit"):
        data["unit"] = config["Unit"]
    data["period"] = config.get("Period", 60)
    data["recentDatapoints"] = [v for _, v in reversed(present)]
    data["threshold"] = threshold
    data["evaluatedDatapoints"] = [{"timestamp": stamp(t), "value": v} for t, v in present]
    return data


def notification(
    alarm: dict[str, Any], old_state: str, moment: float, account: str, region: str
) -> dict[str, Any]:
    """The JSON an SNS alarm action publishes (the 'Message' of the notification)."""
    config = alarm["config"]
    message: dict[str, Any] = {
        "AlarmName": alarm["name"],
        "AlarmDescription": config.get("AlarmDescription"),
        "AWSAccountId": account,
        "AlarmConfigurationUpdatedTimestamp": stamp(alarm["config_updated"]),
        "NewStateValue": alarm["state"],
        "NewStateReason": alarm["reason"],
        "StateChangeTime": stamp(moment),
        "Region": REGION_NAMES.get(region, region),
        "AlarmArn": alarm["arn"],
        "OldStateValue": old_state,
        "OKActions": config.get("OKActions") or [],
        "AlarmActions": config.get("AlarmActions") or [],
        "InsufficientDataActions": config.get("InsufficientDataActions") or [],
    }
    if alarm["kind"] == "CompositeAlarm":
        message["AlarmRule"] = config["AlarmRule"]
        return message
    trigger: dict[str, Any] = {}
    if config.get("MetricName"):
        trigger.update(MetricName=config["MetricName"], Namespace=config["Namespace"])
        if config.get("ExtendedStatistic"):
            trigger.update(StatisticType="ExtendedStatistic", ExtendedStatistic=config["ExtendedStatistic"])
        else:
            trigger.update(StatisticType="Statistic", Statistic=config["Statistic"].upper())
        trigger["Unit"] = config.get("Unit")
        trigger["Dimensions"] = [
            {"value": d["Value"], "name": d["Name"]} for d in config.get("Dimensions") or []
        ]
        trigger["Period"] = config["Period"]
    else:
        trigger["Metrics"] = config.get("Metrics") or []
    trigger.update(
        EvaluationPeriods=config["EvaluationPeriods"],
        DatapointsToAlarm=config.get("DatapointsToAlarm") or config["EvaluationPeriods"],
        ComparisonOperator=config["ComparisonOperator"],
        Threshold=float(config.get("Threshold", 0.0)),
        TreatMissingData=config.get("TreatMissingData") or "missing",
        EvaluateLowSampleCountPercentile=config.get("EvaluateLowSampleCountPercentile") or "",
    )
    message["Trigger"] = trigger
    return message


def subject(state: str, name: str, region: str) -> str:
    return f'{state}: "{name}" in {REGION_NAMES.get(region, region)}'[:100]


def history_data(old: tuple[str, str], new: tuple[str, str, dict[str, Any] | None]) -> str:
    new_state: dict[str, Any] = {"stateValue": new[0], "stateReason": new[1]}
    if new[2]:
        new_state["stateReasonData"] = new[2]
    return compact(
        {"version": "1.0", "oldState": {"stateValue": old[0], "stateReason": old[1]}, "newState": new_state}
    )


# -- composite alarm rules --------------------------------------------------------------------------------

_RULE_TOKEN = re.compile(
    r'\s*(?:(?P<func>ALARM|OK|INSUFFICIENT_DATA)\s*\(\s*(?:"(?P<quoted>[^"]+)"|(?P<bare>[^()\s]+))\s*\)'
    r"|(?P<word>AND|OR|NOT|TRUE|FALSE)\b|(?P<paren>[()]))"
)


class RuleError(ValueError):
    pass


def parse_rule(rule: str) -> list[tuple[str, str]]:
    """The tokens of an AlarmRule: ('state', 'ALARM:<name>'), ('word', 'AND'), ('paren', '(')."""
    tokens, position = [], 0
    while position < len(rule.rstrip()):
        found = _RULE_TOKEN.match(rule, position)
        if not found or found.end() == position:
            raise RuleError(f"Error in alarm rule at position {position + 1}")
        if found.group("func"):
            name = found.group("quoted") or found.group("bare")
            tokens.append(("state", f"{found.group('func')}:{name}"))
        elif found.group("word"):
            tokens.append(("word", found.group("word")))
        else:
            tokens.append(("paren", found.group("paren")))
        position = found.end()
    evaluate_rule(tokens, lambda _: "OK")  # raises RuleError for a malformed rule
    return tokens


def rule_alarms(tokens: list[tuple[str, str]]) -> list[str]:
    """The alarm names (or ARNs) a rule refers to."""
    return [value.split(":", 1)[1] for kind, value in tokens if kind == "state"]


def evaluate_rule(tokens: list[tuple[str, str]], state_of: Any) -> bool:
    """Whether the rule holds, given `state_of(name_or_arn)` -> the alarm's state."""
    position = 0

    def expression() -> bool:
        nonlocal position
        value = term()
        while position < len(tokens) and tokens[position] == ("word", "OR"):
            position += 1
            right = term()
            value = value or right
        return value

    def term() -> bool:
        nonlocal position
        value = factor()
        while position < len(tokens) and tokens[position] == ("word", "AND"):
            position += 1
            right = factor()
            value = value and right
        return value

    def factor() -> bool:
        nonlocal position
        if position >= len(tokens):
            raise RuleError("Unexpected end of alarm rule")
        kind, value = tokens[position]
        position += 1
        if (kind, value) == ("word", "NOT"):
            return not factor()
        if (kind, value) == ("paren", "("):
            inner = expression()
            if position >= len(tokens) or tokens[position] != ("paren", ")"):
                raise RuleError("Missing closing parenthesis in alarm rule")
            position += 1
            return inner
        if kind == "word" and value in ("TRUE", "FALSE"):
            return value == "TRUE"
        if kind == "state":
            wanted, name = value.split(":", 1)
            return state_of(name) == wanted
        raise RuleError(f"Unexpected {value} in alarm rule")

    result = expression()
    if position != len(tokens):
        raise RuleError("Unexpected text at the end of the alarm rule")
    return result
