"""Scheduled rules fire on the virtual clock: once per moment, never twice, and on after a restart."""

import io
import json
import signal
import urllib.request
import zipfile
from datetime import UTC, datetime

import pytest

from tests.server_process import ServerProcess
from tests.waiting import wait_for

FORWARDER = """
import json, os
import boto3

def handler(event, context):
    boto3.client("sqs").send_message(QueueUrl=os.environ["QUEUE_URL"], MessageBody=json.dumps(event))
"""
FAILING = """
def handler(event, context):
    raise RuntimeError("this function always fails")
"""


def package(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


def times(messages: list[dict]) -> list[str]:
    return sorted(json.loads(m["Body"])["time"] for m in messages)


def minutes_apart(stamps: list[str]) -> list[float]:
    moments = [datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp() for s in stamps]
    return [(b - a) / 60 for a, b in zip(moments, moments[1:], strict=False)]


def test_a_rate_rule_fires_once_each_time_the_clock_passes_its_period(
    overcast, events, sqs, make_queue, receive
):
    url, queue = make_queue("ticks")
    rule = events.put_rule(Name="every-5", ScheduleExpression="rate(5 minutes)")["RuleArn"]
    events.put_targets(Rule="every-5", Targets=[{"Id": "q", "Arn": queue}])
    got: list[dict] = []
    for count in (1, 2, 3):
        overcast.advance_clock("5m")
        got += receive(url)
        assert len(got) == count
    first = json.loads(got[0]["Body"])
    assert first["source"] == "aws.events" and first["detail-type"] == "Scheduled Event"
    assert first["resources"] == [rule] and first["detail"] == {}
    assert minutes_apart(times(got)) == [5.0, 5.0]
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages") is None


def test_a_jump_of_the_clock_fires_every_moment_passed(overcast, events, make_queue, receive):
    url, queue = make_queue("catch-up")
    events.put_rule(Name="every-5", ScheduleExpression="rate(5 minutes)")
    events.put_targets(Rule="every-5", Targets=[{"Id": "q", "Arn": queue}])
    overcast.advance_clock("15m")
    got = receive(url, 3)
    assert len(got) == 3 and minutes_apart(times(got)) == [5.0, 5.0]


def test_a_cron_rule_fires_at_its_minutes(overcast, events, make_queue, receive):
    url, queue = make_queue("cron")
    events.put_rule(Name="tens", ScheduleExpression="cron(0/10 * * * ? *)")
    events.put_targets(Rule="tens", Targets=[{"Id": "q", "Arn": queue}])
    overcast.advance_clock("10m")
    fired = json.loads(receive(url)[0]["Body"])["time"]
    assert fired[14:16] in ("00", "10", "20", "30", "40", "50") and fired.endswith(":00Z")


def test_a_disabled_schedule_does_not_fire(overcast, events, sqs, make_queue, receive):
    url, queue = make_queue("quiet")
    canary_url, canary = make_queue("canary")
    events.put_rule(Name="off", ScheduleExpression="rate(5 minutes)", State="DISABLED")
    events.put_targets(Rule="off", Targets=[{"Id": "q", "Arn": queue}])
    events.put_rule(Name="on", ScheduleExpression="rate(5 minutes)")
    events.put_targets(Rule="on", Targets=[{"Id": "q", "Arn": canary}])
    overcast.advance_clock("5m")
    receive(canary_url)  # the enabled rule fired for this moment: the disabled one would have too
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages") is None


@pytest.mark.slow
def test_a_rate_rule_invokes_a_function_each_5_minutes_never_twice(
    overcast, events, sqs, make_queue, receive
):
    url, _ = make_queue("invocations")
    function = overcast.client("lambda").create_function(
        FunctionName="ticker",
        Runtime="python3.11",
        Role="arn:aws:iam::000000000000:role/r",
        Handler="app.handler",
        Code={"ZipFile": package(FORWARDER)},
        Environment={"Variables": {"QUEUE_URL": url}},
    )["FunctionArn"]
    events.put_rule(Name="every-5", ScheduleExpression="rate(5 minutes)")
    events.put_targets(Rule="every-5", Targets=[{"Id": "fn", "Arn": function}])
    got: list[dict] = []
    for count in (1, 2, 3):
        overcast.advance_clock("5m")
        got += receive(url, timeout=60)
        assert len(got) == count
    assert all(json.loads(m["Body"])["detail-type"] == "Scheduled Event" for m in got)
    assert minutes_apart(times(got)) == [5.0, 5.0]
    # A canary through the same function: had any moment fired twice, its copy would be here by now.
    events.put_rule(Name="canary", EventPattern=json.dumps({"source": ["demo.canary"]}))
    events.put_targets(Rule="canary", Targets=[{"Id": "fn", "Arn": function}])
    events.put_events(Entries=[{"Source": "demo.canary", "DetailType": "c", "Detail": "{}"}])
    rest = receive(url, timeout=60)
    assert [json.loads(m["Body"])["source"] for m in rest] == ["demo.canary"]


@pytest.mark.slow
def test_a_failing_function_target_is_retried_by_lambda_and_reaches_its_dead_letter_queue(
    overcast, events, make_queue, receive
):
    dlq_url, dlq = make_queue("function-dlq")
    lam = overcast.client("lambda")
    function = lam.create_function(
        FunctionName="fails",
        Runtime="python3.11",
        Role="arn:aws:iam::000000000000:role/r",
        Handler="app.handler",
        Code={"ZipFile": package(FAILING)},
        DeadLetterConfig={"TargetArn": dlq},
    )["FunctionArn"]
    events.put_rule(Name="to-fn", EventPattern=json.dumps({"source": ["demo.app"]}))
    events.put_targets(Rule="to-fn", Targets=[{"Id": "fn", "Arn": function}])
    event_id = events.put_events(Entries=[{"Source": "demo.app", "DetailType": "t", "Detail": '{"n": 1}'}])[
        "Entries"
    ][0]["EventId"]
    landed: list[dict] = []

    def dead_lettered():
        overcast.advance_clock("1m")  # Lambda's retries wait 1 and 2 minutes on the clock
        landed.extend(overcast.client("sqs").receive_message(QueueUrl=dlq_url).get("Messages", []))
        return landed

    wait_for(dead_lettered, timeout=90, interval=1.0)
    assert json.loads(landed[0]["Body"])["id"] == event_id


def _advance(endpoint: str, duration: str) -> None:
    request = urllib.request.Request(
        endpoint + "/_overcast/clock", data=json.dumps({"advance": duration}).encode(), method="POST"
    )
    urllib.request.urlopen(request, timeout=30).read()


@pytest.mark.slow
def test_a_schedule_resumes_after_a_restart(tmp_path):
    data = tmp_path / "data"
    first = ServerProcess(data)
    try:
        sqs, events = first.client("sqs"), first.client("events")
        url = sqs.create_queue(QueueName="ticks")["QueueUrl"]
        queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name="every-5", ScheduleExpression="rate(5 minutes)")
        events.put_targets(Rule="every-5", Targets=[{"Id": "q", "Arn": queue}])
        _advance(first.endpoint, "5m")
        before = wait_for(lambda: sqs.receive_message(QueueUrl=url, VisibilityTimeout=43200).get("Messages"))
    finally:
        first.stop(signal.SIGKILL)
    second = ServerProcess(data)
    try:
        sqs = second.client("sqs")
        _advance(second.endpoint, "5m")
        after = wait_for(lambda: sqs.receive_message(QueueUrl=url, VisibilityTimeout=43200).get("Messages"))
        fired = [json.loads(m["Body"])["time"] for m in before + after]
        assert minutes_apart(sorted(fired)) == [5.0]
    finally:
        second.stop()
