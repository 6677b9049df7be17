"""Event buses, rules and targets: what EventBridge keeps and answers, and its errors."""

import json

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of, message_of

PATTERN = json.dumps({"source": ["demo.app"]})


def test_the_default_bus_exists_from_the_first_call(events):
    buses = events.list_event_buses()["EventBuses"]
    assert [bus["Name"] for bus in buses] == ["default"]
    assert buses[0]["Arn"] == "arn:aws:events:us-east-1:000000000000:event-bus/default"
    described = events.describe_event_bus()
    assert described["Name"] == "default" and described["Arn"] == buses[0]["Arn"]
    assert "Policy" not in described


def test_custom_buses(events):
    arn = events.create_event_bus(Name="orders", Description="order events")["EventBusArn"]
    assert arn == "arn:aws:events:us-east-1:000000000000:event-bus/orders"
    with pytest.raises(ClientError) as raised:
        events.create_event_bus(Name="orders")
    assert error_of(raised) == ("ResourceAlreadyExistsException", 400)
    assert message_of(raised) == "Event bus orders already exists."
    assert events.describe_event_bus(Name=arn)["Description"] == "order events"
    names = [bus["Name"] for bus in events.list_event_buses(NamePrefix="ord")["EventBuses"]]
    assert names == ["orders"]
    events.delete_event_bus(Name="orders")
    with pytest.raises(ClientError) as raised:
        events.describe_event_bus(Name="orders")
    assert error_of(raised) == ("ResourceNotFoundException", 400)
    assert message_of(raised) == "Event bus orders does not exist."
    with pytest.raises(ClientError) as raised:
        events.delete_event_bus(Name="default")
    assert code_and_message(raised) == ("ValidationException", "Cannot delete event bus default.")


def code_and_message(raised) -> tuple[str, str]:
    return error_of(raised)[0], message_of(raised)


def test_list_event_buses_pages(events):
    for index in range(5):
        events.create_event_bus(Name=f"bus-{index}")
    first = events.list_event_buses(Limit=3)
    assert [bus["Name"] for bus in first["EventBuses"]] == ["bus-0", "bus-1", "bus-2"]
    rest = events.list_event_buses(Limit=3, NextToken=first["NextToken"])
    assert [bus["Name"] for bus in rest["EventBuses"]] == ["bus-3", "bus-4", "default"]
    assert "NextToken" not in rest
    with pytest.raises(ClientError) as raised:
        events.list_event_buses(NextToken="garbage")
    assert error_of(raised) == ("ValidationException", 400)


def test_rules_are_stored_described_listed_and_deleted(events):
    arn = events.put_rule(Name="r1", EventPattern=PATTERN, Description="d")["RuleArn"]
    assert arn == "arn:aws:events:us-east-1:000000000000:rule/r1"
    described = events.describe_rule(Name="r1")
    assert {k: v for k, v in described.items() if k != "ResponseMetadata"} == {
        "Name": "r1",
        "Arn": arn,
        "EventPattern": PATTERN,
        "State": "ENABLED",
        "Description": "d",
        "EventBusName": "default",
        "CreatedBy": "000000000000",
    }
    events.disable_rule(Name="r1")
    assert events.describe_rule(Name="r1")["State"] == "DISABLED"
    events.enable_rule(Name="r1")
    events.put_rule(Name="r2", ScheduleExpression="rate(5 minutes)")
    listed = events.list_rules()["Rules"]
    assert [rule["Name"] for rule in listed] == ["r1", "r2"]
    assert listed[1]["ScheduleExpression"] == "rate(5 minutes)" and "EventPattern" not in listed[1]
    assert [rule["Name"] for rule in events.list_rules(NamePrefix="r2")["Rules"]] == ["r2"]
    events.delete_rule(Name="r1")
    with pytest.raises(ClientError) as raised:
        events.describe_rule(Name="r1")
    assert code_and_message(raised) == (
        "ResourceNotFoundException",
        "Rule r1 does not exist on EventBus default.",
    )


def test_rules_on_a_custom_bus_have_the_bus_in_their_arn(events):
    events.create_event_bus(Name="orders")
    arn = events.put_rule(Name="big", EventBusName="orders", EventPattern=PATTERN)["RuleArn"]
    assert arn == "arn:aws:events:us-east-1:000000000000:rule/orders/big"
    assert events.list_rules()["Rules"] == []
    assert events.describe_rule(Name="big", EventBusName="orders")["EventBusName"] == "orders"
    with pytest.raises(ClientError) as raised:
        events.put_rule(Name="tick", EventBusName="orders", ScheduleExpression="rate(1 minute)")
    assert code_and_message(raised) == (
        "ValidationException",
        "ScheduleExpression is supported only on the default event bus.",
    )


@pytest.mark.parametrize(
    "expression",
    [
        "rate(1 minutes)",
        "rate(5 minute)",
        "rate(0 hours)",
        "rate(5 weeks)",
        "cron(0 12 * * * *)",
        "cron(0 12 * *)",
        "cron(60 * * * ? *)",
        "at(2026-01-01T00:00:00)",
    ],
)
def test_invalid_schedule_expressions(events, expression):
    with pytest.raises(ClientError) as raised:
        events.put_rule(Name="tick", ScheduleExpression=expression)
    assert code_and_message(raised) == ("ValidationException", "Parameter ScheduleExpression is not valid.")


@pytest.mark.parametrize(
    "expression",
    [
        "rate(1 minute)",
        "rate(2 hours)",
        "rate(1 day)",
        "cron(0/15 * * * ? *)",
        "cron(0 18 ? * MON-FRI *)",
        "cron(15 10 ? * 6L 2026-2030)",
        "cron(0 8 1W * ? *)",
        "cron(0 9 ? * 2#1 *)",
    ],
)
def test_valid_schedule_expressions(events, expression):
    events.put_rule(Name="tick", ScheduleExpression=expression)
    assert events.describe_rule(Name="tick")["ScheduleExpression"] == expression


def test_a_rule_needs_a_pattern_or_a_schedule(events):
    with pytest.raises(ClientError) as raised:
        events.put_rule(Name="nothing")
    assert code_and_message(raised) == (
        "ValidationException",
        "Parameter(s) EventPattern or ScheduleExpression must be specified.",
    )


def test_targets_are_put_listed_and_removed(events, make_queue):
    _, queue = make_queue("targets")
    events.put_rule(Name="r", EventPattern=PATTERN)
    answer = events.put_targets(
        Rule="r",
        Targets=[
            {"Id": "q", "Arn": queue, "InputPath": "$.detail"},
            {"Id": "t", "Arn": queue, "Input": '{"fixed": true}', "RetryPolicy": {"MaximumRetryAttempts": 3}},
        ],
    )
    assert answer["FailedEntryCount"] == 0 and answer["FailedEntries"] == []
    targets = events.list_targets_by_rule(Rule="r")["Targets"]
    assert targets == [
        {"Id": "q", "Arn": queue, "InputPath": "$.detail"},
        {"Id": "t", "Arn": queue, "Input": '{"fixed": true}', "RetryPolicy": {"MaximumRetryAttempts": 3}},
    ]
    assert events.list_rule_names_by_target(TargetArn=queue)["RuleNames"] == ["r"]
    with pytest.raises(ClientError) as raised:
        events.delete_rule(Name="r")
    assert code_and_message(raised) == ("ValidationException", "Rule can't be deleted since it has targets.")
    events.remove_targets(Rule="r", Ids=["q", "t"])
    assert events.list_targets_by_rule(Rule="r")["Targets"] == []
    events.delete_rule(Name="r")


def test_put_targets_refuses_what_aws_refuses(events, make_queue):
    _, queue = make_queue("refused")
    _, fifo = make_queue("refused.fifo")
    events.put_rule(Name="r", EventPattern=PATTERN)
    cases = [
        (
            {"Id": "a", "Arn": queue, "Input": "{", "InputPath": "$"},
            "Only one of Input, InputPath, or InputTransformer",
        ),
        ({"Id": "a", "Arn": queue, "Input": "not json"}, "Input for target a is not valid JSON text."),
        ({"Id": "a", "Arn": fifo}, "Parameter(s) SqsParameters must be specified for target: a."),
        ({"Id": "a", "Arn": queue, "DeadLetterConfig": {"Arn": fifo}}, "FIFO queues are not supported"),
        (
            {
                "Id": "a",
                "Arn": queue,
                "InputTransformer": {"InputPathsMap": {"x": "$.detail"}, "InputTemplate": '{"a": <x>'},
            },
            "InputTemplate for target a contains invalid JSON.",
        ),
    ]
    for target, message in cases:
        with pytest.raises(ClientError) as raised:
            events.put_targets(Rule="r", Targets=[target])
        assert error_of(raised) == ("ValidationException", 400)
        assert message_of(raised).startswith(message), message_of(raised)
    events.put_targets(Rule="r", Targets=[{"Id": str(i), "Arn": queue} for i in range(5)])
    with pytest.raises(ClientError) as raised:
        events.put_targets(Rule="r", Targets=[{"Id": "six", "Arn": queue}])
    assert error_of(raised) == ("LimitExceededException", 400)


def test_targets_of_a_missing_rule(events, make_queue):
    _, queue = make_queue("orphan")
    with pytest.raises(ClientError) as raised:
        events.put_targets(Rule="missing", Targets=[{"Id": "a", "Arn": queue}])
    assert code_and_message(raised) == (
        "ResourceNotFoundException",
        "Rule missing does not exist on EventBus default.",
    )


def test_put_permission_builds_the_bus_policy(events):
    events.put_permission(Action="events:PutEvents", Principal="111122223333", StatementId="partner")
    events.put_permission(
        Action="events:PutEvents",
        Principal="*",
        StatementId="org",
        Condition={"Type": "StringEquals", "Key": "aws:PrincipalOrgID", "Value": "o-abc123"},
    )
    policy = json.loads(events.describe_event_bus()["Policy"])
    assert policy["Statement"] == [
        {
            "Sid": "partner",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
            "Action": "events:PutEvents",
            "Resource": "arn:aws:events:us-east-1:000000000000:event-bus/default",
        },
        {
            "Sid": "org",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "events:PutEvents",
            "Resource": "arn:aws:events:us-east-1:000000000000:event-bus/default",
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}},
        },
    ]
    events.remove_permission(StatementId="partner")
    assert [s["Sid"] for s in json.loads(events.describe_event_bus()["Policy"])["Statement"]] == ["org"]
    with pytest.raises(ClientError) as raised:
        events.remove_permission(StatementId="partner")
    assert code_and_message(raised) == (
        "ResourceNotFoundException",
        "Statement with the provided id does not exist.",
    )
    events.remove_permission(RemoveAllPermissions=True)
    assert "Policy" not in events.describe_event_bus()


def test_tags_of_rules_and_buses(events):
    rule = events.put_rule(Name="r", EventPattern=PATTERN, Tags=[{"Key": "team", "Value": "a"}])["RuleArn"]
    bus = events.create_event_bus(Name="b", Tags=[{"Key": "env", "Value": "dev"}])["EventBusArn"]
    events.tag_resource(ResourceARN=rule, Tags=[{"Key": "cost", "Value": "1"}])
    assert events.list_tags_for_resource(ResourceARN=rule)["Tags"] == [
        {"Key": "team", "Value": "a"},
        {"Key": "cost", "Value": "1"},
    ]
    events.untag_resource(ResourceARN=rule, TagKeys=["team"])
    assert events.list_tags_for_resource(ResourceARN=rule)["Tags"] == [{"Key": "cost", "Value": "1"}]
    assert events.list_tags_for_resource(ResourceARN=bus)["Tags"] == [{"Key": "env", "Value": "dev"}]
    with pytest.raises(ClientError) as raised:
        events.list_tags_for_resource(ResourceARN="arn:aws:events:us-east-1:000000000000:rule/nope")
    assert code_and_message(raised) == (
        "ResourceNotFoundException",
        "Rule nope does not exist on EventBus default.",
    )
