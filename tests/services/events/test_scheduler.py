"""EventBridge Scheduler: schedules fire on the virtual clock and invoke templated and universal targets."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of, message_of

OFF = {"Mode": "OFF"}
ROLE = "arn:aws:iam::000000000000:role/scheduler"


@pytest.fixture
def scheduler(overcast):
    return overcast.client("scheduler")


def test_a_rate_schedule_sends_to_a_queue_with_context_attributes(overcast, scheduler, make_queue, receive):
    url, queue = make_queue("scheduled")
    arn = scheduler.create_schedule(
        Name="every-5",
        ScheduleExpression="rate(5 minutes)",
        FlexibleTimeWindow=OFF,
        Target={
            "Arn": queue,
            "RoleArn": ROLE,
            "Input": json.dumps(
                {"at": "<aws.scheduler.scheduled-time>", "by": "<aws.scheduler.schedule-arn>"}
            ),
        },
    )["ScheduleArn"]
    assert arn == "arn:aws:scheduler:us-east-1:000000000000:schedule/default/every-5"
    overcast.advance_clock("5m")
    first = json.loads(receive(url)[0]["Body"])
    overcast.advance_clock("5m")
    second = json.loads(receive(url)[0]["Body"])
    assert first["by"] == arn
    moments = [datetime.strptime(b["at"], "%Y-%m-%dT%H:%M:%SZ") for b in (first, second)]
    assert moments[1] - moments[0] == timedelta(minutes=5)


def test_a_universal_target_calls_the_api(overcast, scheduler, make_queue, receive):
    url, _ = make_queue("universal")
    scheduler.create_schedule(
        Name="sdk",
        ScheduleExpression="rate(1 minute)",
        FlexibleTimeWindow=OFF,
        Target={
            "Arn": "arn:aws:scheduler:::aws-sdk:sqs:sendMessage",
            "RoleArn": ROLE,
            "Input": json.dumps({"QueueUrl": url, "MessageBody": "fired at <aws.scheduler.scheduled-time>"}),
        },
    )
    overcast.advance_clock("1m")
    assert receive(url)[0]["Body"].startswith("fired at 20")


def test_a_one_time_schedule_in_a_time_zone_fires_once_and_deletes_itself(
    overcast, scheduler, make_queue, receive
):
    url, queue = make_queue("once")
    when = datetime.now(UTC) + timedelta(hours=1)
    local = when.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Tokyo"))
    scheduler.create_schedule(
        Name="once",
        ScheduleExpression=f"at({local:%Y-%m-%dT%H:%M:%S})",
        ScheduleExpressionTimezone="Asia/Tokyo",
        FlexibleTimeWindow=OFF,
        ActionAfterCompletion="DELETE",
        Target={"Arn": queue, "RoleArn": ROLE, "Input": '"<aws.scheduler.scheduled-time>"'},
    )
    assert scheduler.get_schedule(Name="once")["ActionAfterCompletion"] == "DELETE"
    overcast.advance_clock("2h")
    fired = json.loads(receive(url)[0]["Body"])
    assert fired == f"{when:%Y-%m-%dT%H:%M}:{when.second:02d}Z"
    with pytest.raises(ClientError) as raised:
        scheduler.get_schedule(Name="once")
    assert error_of(raised) == ("ResourceNotFoundException", 404)


def test_a_flexible_window_delays_within_the_window(overcast, scheduler, make_queue, receive):
    url, queue = make_queue("flexible")
    scheduler.create_schedule(
        Name="flex",
        ScheduleExpression="rate(10 minutes)",
        FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 5},
        Target={"Arn": queue, "RoleArn": ROLE, "Input": "{}"},
    )
    overcast.advance_clock("15m")  # the moment at 10 minutes, delivered within 5 minutes after it
    assert json.loads(receive(url)[0]["Body"]) == {}


def test_a_failing_target_is_dead_lettered_with_schedulers_attributes(
    overcast, scheduler, make_queue, receive
):
    dlq_url, dlq = make_queue("scheduler-dlq")
    arn = scheduler.create_schedule(
        Name="broken",
        ScheduleExpression="rate(1 minute)",
        FlexibleTimeWindow=OFF,
        Target={
            "Arn": "arn:aws:sqs:us-east-1:000000000000:does-not-exist",
            "RoleArn": ROLE,
            "Input": '{"n": 1}',
            "DeadLetterConfig": {"Arn": dlq},
        },
    )["ScheduleArn"]
    overcast.advance_clock("1m")
    message = receive(dlq_url)[0]
    attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert attributes["SCHEDULE_ARN"] == arn
    assert attributes["TARGET_ARN"] == "arn:aws:sqs:us-east-1:000000000000:does-not-exist"
    assert attributes["RETRY_ATTEMPTS"] == "0" and attributes["IS_PAYLOAD_TRUNCATED"] == "false"
    assert attributes["SCHEDULED_TIME"].endswith("Z") and len(attributes["EXECUTION_ID"]) == 16
    assert json.loads(message["Body"]) == {"n": 1}


def test_schedules_and_groups(scheduler, make_queue):
    _, queue = make_queue("managed")
    target = {"Arn": queue, "RoleArn": ROLE}
    group = scheduler.create_schedule_group(Name="team", Tags=[{"Key": "k", "Value": "v"}])[
        "ScheduleGroupArn"
    ]
    assert group == "arn:aws:scheduler:us-east-1:000000000000:schedule-group/team"
    assert scheduler.list_tags_for_resource(ResourceArn=group)["Tags"] == [{"Key": "k", "Value": "v"}]
    scheduler.create_schedule(
        Name="nightly",
        GroupName="team",
        ScheduleExpression="cron(0 2 * * ? *)",
        ScheduleExpressionTimezone="Europe/Paris",
        FlexibleTimeWindow=OFF,
        Target=target,
        Description="d",
    )
    got = scheduler.get_schedule(Name="nightly", GroupName="team")
    assert got["Arn"].endswith("schedule/team/nightly") and got["State"] == "ENABLED"
    assert got["ScheduleExpressionTimezone"] == "Europe/Paris" and got["Description"] == "d"
    scheduler.update_schedule(
        Name="nightly",
        GroupName="team",
        ScheduleExpression="rate(1 hour)",
        FlexibleTimeWindow=OFF,
        Target=target,
        State="DISABLED",
    )
    updated = scheduler.get_schedule(Name="nightly", GroupName="team")
    assert (
        updated["State"] == "DISABLED" and "Description" not in updated
    )  # an update replaces the whole schedule
    listed = scheduler.list_schedules(GroupName="team")["Schedules"]
    assert [(s["Name"], s["State"], s["Target"]) for s in listed] == [("nightly", "DISABLED", {"Arn": queue})]
    names = [g["Name"] for g in scheduler.list_schedule_groups()["ScheduleGroups"]]
    assert names == ["default", "team"]
    with pytest.raises(ClientError) as raised:
        scheduler.create_schedule(
            Name="nightly",
            GroupName="team",
            ScheduleExpression="rate(1 hour)",
            FlexibleTimeWindow=OFF,
            Target=target,
        )
    assert error_of(raised) == ("ConflictException", 409)
    scheduler.delete_schedule_group(Name="team")
    with pytest.raises(ClientError) as raised:
        scheduler.get_schedule(Name="nightly", GroupName="team")
    assert error_of(raised) == ("ResourceNotFoundException", 404)
    with pytest.raises(ClientError) as raised:
        scheduler.delete_schedule_group(Name="default")
    assert error_of(raised) == ("ValidationException", 400)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"ScheduleExpression": "rate(5 minute)"}, "Invalid Schedule Expression rate(5 minute)."),
        (
            {"ScheduleExpression": "cron(0 2 * * ? *)", "ScheduleExpressionTimezone": "Mars/Olympus"},
            "Invalid ScheduleExpressionTimezone Mars/Olympus.",
        ),
        (
            {"FlexibleTimeWindow": {"Mode": "FLEXIBLE"}},
            "MaximumWindowInMinutes must be provided when Mode is FLEXIBLE.",
        ),
    ],
)
def test_invalid_schedules(scheduler, make_queue, changes, message):
    _, queue = make_queue("invalid")
    params = {
        "Name": "bad",
        "ScheduleExpression": "rate(1 hour)",
        "FlexibleTimeWindow": OFF,
        "Target": {"Arn": queue, "RoleArn": ROLE},
    }
    with pytest.raises(ClientError) as raised:
        scheduler.create_schedule(**{**params, **changes})
    assert error_of(raised) == ("ValidationException", 400)
    assert message_of(raised) == message
