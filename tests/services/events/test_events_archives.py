"""Archives keep a bus's events; replays send a time range of them to the bus again."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of
from tests.services.events.conftest import put
from tests.waiting import wait_for


def test_an_archive_records_matching_events_and_a_replay_sends_them_again(
    overcast, events, make_queue, receive
):
    url, queue = make_queue("replayed")
    bus = events.describe_event_bus()["Arn"]
    archive = events.create_archive(
        ArchiveName="orders",
        EventSourceArn=bus,
        EventPattern=json.dumps({"source": ["demo.orders"]}),
        RetentionDays=7,
    )
    assert archive["State"] == "ENABLED"
    start = datetime.now(UTC) - timedelta(minutes=1)
    first = put(events, {"order": 1}, source="demo.orders")
    put(events, {"noise": True}, source="demo.other")
    second = put(events, {"order": 2}, source="demo.orders")
    described = wait_for(
        lambda: (d := events.describe_archive(ArchiveName="orders")) and d["EventCount"] == 2 and d
    )
    assert (
        described["EventSourceArn"] == bus and described["SizeBytes"] > 0 and described["RetentionDays"] == 7
    )
    rule = events.put_rule(Name="orders", EventPattern=json.dumps({"source": ["demo.orders"]}))["RuleArn"]
    events.put_targets(Rule="orders", Targets=[{"Id": "q", "Arn": queue}])
    overcast.advance_clock("1m")
    replay = events.start_replay(
        ReplayName="again",
        EventSourceArn=archive["ArchiveArn"],
        EventStartTime=start,
        EventEndTime=datetime.now(UTC) + timedelta(seconds=30),
        Destination={"Arn": bus, "FilterArns": [rule]},
    )
    assert replay["State"] == "STARTING"
    bodies = [json.loads(m["Body"]) for m in receive(url, 2)]
    assert sorted(b["id"] for b in bodies) == sorted([first, second])
    assert {b["replay-name"] for b in bodies} == {"again"}
    done = wait_for(lambda: (d := events.describe_replay(ReplayName="again"))["State"] == "COMPLETED" and d)
    assert done["Destination"] == {"Arn": bus, "FilterArns": [rule]}
    assert [r["ReplayName"] for r in events.list_replays()["Replays"]] == ["again"]


def test_archive_errors(events):
    bus = events.describe_event_bus()["Arn"]
    events.create_archive(ArchiveName="a", EventSourceArn=bus)
    with pytest.raises(ClientError) as raised:
        events.create_archive(ArchiveName="a", EventSourceArn=bus)
    assert error_of(raised) == ("ResourceAlreadyExistsException", 400)
    with pytest.raises(ClientError) as raised:
        events.describe_archive(ArchiveName="missing")
    assert error_of(raised) == ("ResourceNotFoundException", 400)
    with pytest.raises(ClientError) as raised:
        events.create_archive(ArchiveName="b", EventSourceArn=bus, EventPattern='{"x": {}}')
    assert error_of(raised) == ("InvalidEventPatternException", 400)
    assert [a["ArchiveName"] for a in events.list_archives()["Archives"]] == ["a"]
    events.delete_archive(ArchiveName="a")
    assert events.list_archives()["Archives"] == []
