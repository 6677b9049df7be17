"""Alarm evaluation on the virtual clock, and alarm actions.

Each metric alarm row carries its next evaluation moment (a multiple of its period), so a restart loses none.
The loop sleeps until the earliest is due (waking early when the clock moves or an alarm is saved), evaluates
every moment that has passed (catching up at most MAX_CATCH_UP of them after a jump of the clock), and stores
the next. A change of state records history and, after commit, runs the alarm's actions: SNS topics receive
CloudWatch's notification JSON, Lambda functions the alarm event; every change also goes to EventBridge's
default bus as a "CloudWatch Alarm State Change" event.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from overcast.errors import ServiceError
from overcast.services.cloudwatch import evaluation
from overcast.services.cloudwatch.evaluation import compact
from overcast.services.cloudwatch.store import ALARM_COLUMNS
from overcast.services.kit import delivery as kit
from overcast.services.kit.arns import parse_arn
from overcast.services.kit.timers import sleep_until

if TYPE_CHECKING:
    from overcast.services.cloudwatch.provider import CloudWatchProvider

log = logging.getLogger("overcast.cloudwatch")
BATCH = 200
MAX_CATCH_UP = 60  # evaluations per alarm per pass after the clock jumped
_MEMBERS = {"ALARM": "AlarmActions", "OK": "OKActions", "INSUFFICIENT_DATA": "InsufficientDataActions"}


async def evaluate_forever(provider: CloudWatchProvider) -> None:
    wake = provider.alarms_changed
    while True:
        wake.clear()
        offset = provider.clock.offset
        try:
            with provider.db.transaction():
                evaluate_due(provider)
                upcoming = provider.store.next_evaluation()
        except Exception:  # the loop must outlive any one bad alarm
            log.exception("alarm evaluation failed")
            upcoming = None
        await sleep_until(provider.clock, wake, upcoming, offset)


def evaluate_due(provider: CloudWatchProvider) -> None:
    provider.collect_published()
    now = provider.clock.now()
    store = provider.store
    touched: set[tuple[str, str]] = set()
    for row in store.due_alarms(now, BATCH):
        account, region, name = row[0], row[1], row[2]
        config = json.loads(row[5])
        period = _period(config)
        step = period
        moment = row[13]
        moments = []
        while moment <= now:
            moments.append(moment)
            moment += step
        for at in moments[-MAX_CATCH_UP:]:
            current = store.alarm(account, region, name)
            if current is None:
                break
            outcome = evaluation.evaluate(
                _points(provider, account, region, config, period, at), config, current[6], at
            )
            if outcome.state is not None and outcome.state != current[6]:
                provider.transition(current, outcome.state, outcome.reason, outcome.reason_data, at)
                touched.add((account, region))
            elif outcome.state is not None and current[12]:
                _repeat_scaling(provider, current, outcome.reason_data, at)
        store.set_next_evaluation(account, region, name, moment)
    for account, region in touched:
        provider.evaluate_composites(account, region)


def _period(config: dict[str, Any]) -> int:
    if config.get("Metrics"):
        return max(
            (q.get("MetricStat") or {}).get("Period") or q.get("Period") or 60 for q in config["Metrics"]
        )
    return config["Period"]


def _points(
    provider: CloudWatchProvider, account: str, region: str, config: dict[str, Any], period: int, at: float
) -> list[tuple[float, float | None]]:
    """The alarm's last N complete periods before `at`, newest first, with their values (None: no data)."""
    count = config["EvaluationPeriods"]
    end = at - at % period
    start = end - count * period
    if config.get("Metrics"):
        try:
            results = provider.evaluate_queries(account, region, config["Metrics"], start, end)
        except ServiceError:
            results = []
        series = results[0][2] if results else {}
    else:
        metric = {k: config.get(k) for k in ("Namespace", "MetricName", "Dimensions")}
        statistic = config.get("Statistic") or config.get("ExtendedStatistic")
        found = provider.buckets_of(account, region, metric, period, start, end, config.get("Unit"))
        series = {b.start: v for b in found if (v := b.statistic(statistic)) is not None}
    return [(end - (k + 1) * period, series.get(end - (k + 1) * period)) for k in range(count)]


def _repeat_scaling(
    provider: CloudWatchProvider, row: tuple, reason_data: dict[str, Any] | None, at: float
) -> None:
    """An alarm that stays in its state runs its Auto Scaling actions again at each evaluation (AWS invokes
    scaling policies every period while the alarm is in the state), with this evaluation's datapoints."""
    alarm = dict(zip([c.strip() for c in ALARM_COLUMNS.split(",")], row, strict=True))
    alarm["config"] = json.loads(alarm["config"])
    scaling = [
        a for a in alarm["config"].get(_MEMBERS[alarm["state"]]) or [] if a.startswith("arn:aws:autoscaling:")
    ]
    if not scaling:
        return
    alarm["reason_data"] = compact(reason_data) if reason_data else alarm["reason_data"]
    provider.db.after_commit(
        lambda: provider.platform.spawn(_run_actions(provider, alarm, alarm["state"], at, scaling))
    )


# -- actions --------------------------------------------------------------------------------------------------


def _state_detail(state: str, reason: str, reason_data: str | None, moment: float) -> dict[str, Any]:
    detail: dict[str, Any] = {"value": state, "reason": reason}
    if reason_data:
        detail["reasonData"] = reason_data
    detail["timestamp"] = evaluation.stamp(moment)
    return detail


def alarm_data(alarm: dict[str, Any], old: str, moment: float) -> dict[str, Any]:
    """The alarm's part of the EventBridge event and of the Lambda action's payload."""
    config = alarm["config"]
    configuration: dict[str, Any] = {}
    if config.get("AlarmDescription"):
        configuration["description"] = config["AlarmDescription"]
    if alarm["kind"] == "CompositeAlarm":
        configuration["alarmRule"] = config["AlarmRule"]
    elif config.get("Metrics"):
        configuration["metrics"] = [
            {k[0].lower() + k[1:]: v for k, v in query.items()} for query in config["Metrics"]
        ]
    else:
        stat = config.get("Statistic") or config.get("ExtendedStatistic")
        configuration["metrics"] = [
            {
                "id": "m1",
                "metricStat": {
                    "metric": {
                        "namespace": config["Namespace"],
                        "name": config["MetricName"],
                        "dimensions": {d["Name"]: d["Value"] for d in config.get("Dimensions") or []},
                    },
                    "period": config["Period"],
                    "stat": stat,
                },
                "returnData": True,
            }
        ]
    return {
        "alarmName": alarm["name"],
        "state": _state_detail(alarm["state"], alarm["reason"], alarm["reason_data"], moment),
        "previousState": {"value": old},
        "configuration": configuration,
    }


async def run_actions(provider: CloudWatchProvider, alarm: dict[str, Any], old: str, moment: float) -> None:
    """Publish the state change to EventBridge, then run the actions of the new state (if enabled)."""
    account, region = alarm["account"], alarm["region"]
    try:
        from overcast.services.events.api import put_event

        put_event(
            provider.platform,
            account,
            region,
            source="aws.cloudwatch",
            detail_type="CloudWatch Alarm State Change",
            detail=alarm_data(alarm, old, moment),
            resources=[alarm["arn"]],
            moment=moment,
        )
    except Exception:
        log.exception("alarm state change event for %s failed", alarm["arn"])
    await _run_actions(provider, alarm, old, moment, alarm["config"].get(_MEMBERS[alarm["state"]]) or [])


async def _run_actions(
    provider: CloudWatchProvider, alarm: dict[str, Any], old: str, moment: float, actions: list[str]
) -> None:
    """Run `actions` of the alarm (if its actions are still enabled), each recorded in its history."""
    account, region = alarm["account"], alarm["region"]
    current = provider.store.alarm(account, region, alarm["name"])
    if current is None or not current[12]:
        return
    for action in actions:
        summary, data = await _run_action(provider, alarm, old, moment, action)
        with provider.db.transaction():
            provider.store.add_history(
                account,
                region,
                alarm["name"],
                alarm["kind"],
                provider.clock.now(),
                "Action",
                summary,
                compact(data),
            )


async def _run_action(
    provider: CloudWatchProvider, alarm: dict[str, Any], old: str, moment: float, action: str
) -> tuple[str, dict[str, Any]]:
    arn = parse_arn(action)
    sender = kit.Sender("cloudwatch.amazonaws.com", alarm["account"], source_arn=alarm["arn"])
    data: dict[str, Any] = {"actionState": "Succeeded", "stateUpdateTimestamp": int(moment * 1000)}
    try:
        if arn is not None and arn.service == "sns":
            message = compact(evaluation.notification(alarm, old, moment, alarm["account"], alarm["region"]))
            subject = evaluation.subject(alarm["state"], alarm["name"], alarm["region"])
            await kit.deliver(provider.platform, action, message, sender, subject=subject)
            data.update(notificationResource=action, publishedMessage=message)
        elif arn is not None and arn.service == "lambda":
            payload = {
                "source": "aws.cloudwatch",
                "alarmArn": alarm["arn"],
                "accountId": alarm["account"],
                "time": evaluation.stamp(moment),
                "region": alarm["region"],
                "alarmData": alarm_data(alarm, old, moment),
            }
            await kit.deliver(provider.platform, action, compact(payload), sender)
            data["notificationResource"] = action
        elif arn is not None and arn.service == "autoscaling":
            from overcast.services.autoscaling import api as autoscaling

            reason_data = json.loads(alarm["reason_data"]) if alarm["reason_data"] else None
            autoscaling.alarm_fired(provider.platform, alarm["account"], alarm["region"], action, alarm["name"],
                                    alarm["state"], reason_data)  # fmt: skip
            data["notificationResource"] = action
        else:
            raise ServiceError("UnsupportedAction", f"Overcast does not run the action {action}")
    except ServiceError as error:
        data = {"actionState": "Failed", "stateUpdateTimestamp": int(moment * 1000), "error": error.message}
        return f'Failed to execute action {action}. Received error: "{error.message}"', data
    return f"Successfully executed action {action}", data
