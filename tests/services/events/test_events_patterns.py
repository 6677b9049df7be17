"""The event-pattern language, through TestEventPattern (and PutRule for its errors)."""

import json

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of, message_of

EVENT = {
    "version": "0",
    "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
    "detail-type": "Object Created",
    "source": "aws.s3",
    "account": "111122223333",
    "time": "2026-12-07T18:43:48Z",
    "region": "us-east-1",
    "resources": ["arn:aws:s3:::photos"],
    "detail": {
        "bucket": {"name": "photos"},
        "object": {"key": "uploads/cat.PNG", "size": 2048},
        "source-ip-address": "10.0.0.5",
        "tags": ["red", "blue"],
        "items": [{"name": "a", "count": 1}, {"name": "b", "count": 2}],
        "flag": True,
        "nothing": None,
        "empty": [],
    },
}

MATCHING = [
    {"source": ["aws.s3"]},
    {"source": ["aws.ec2", "aws.s3"]},
    {"detail": {"object": {"key": [{"prefix": "uploads/"}]}}},
    {"detail": {"object": {"key": [{"suffix": ".PNG"}]}}},
    {"detail": {"object": {"key": [{"suffix": {"equals-ignore-case": ".png"}}]}}},
    {"detail": {"object": {"key": [{"prefix": {"equals-ignore-case": "UPLOADS/"}}]}}},
    {"detail-type": [{"equals-ignore-case": "OBJECT CREATED"}]},
    {"detail": {"object": {"key": [{"wildcard": "uploads/*.PNG"}]}}},
    {"detail": {"object": {"size": [{"numeric": [">", 1024, "<=", 4096]}]}}},
    {"detail": {"object": {"size": [{"numeric": ["=", 2048]}]}}},
    {"detail": {"object": {"size": [2048]}}},
    {"detail": {"source-ip-address": [{"cidr": "10.0.0.0/24"}]}},
    {"detail": {"tags": ["blue"]}},
    {"detail": {"tags": [{"anything-but": "red"}]}},
    {"source": [{"anything-but": ["aws.ec2", "aws.sqs"]}]},
    {"source": [{"anything-but": {"prefix": "aws.e"}}]},
    {"source": [{"anything-but": {"suffix": ".ec2"}}]},
    {"source": [{"anything-but": {"equals-ignore-case": ["AWS.EC2"]}}]},
    {"source": [{"anything-but": {"wildcard": "*.ec*"}}]},
    {"detail": {"object": {"size": [{"anything-but": [1, 2, 3]}]}}},
    {"detail": {"missing": [{"exists": False}]}},
    {"detail": {"object": {"key": [{"exists": True}]}}},
    {"detail": {"nothing": [None]}},
    {"detail": {"flag": [True]}},
    {"detail": {"empty": [{"exists": False}]}},
    {"detail": {"items": {"name": ["b"], "count": [2]}}},
    {"$or": [{"source": ["aws.ec2"]}, {"detail": {"object": {"size": [{"numeric": [">", 1000]}]}}}]},
    {"detail": {"$or": [{"tags": ["green"]}, {"bucket": {"name": ["photos"]}}]}},
    {"resources": ["arn:aws:s3:::photos"]},
]

NOT_MATCHING = [
    {"source": ["aws.ec2"]},
    {"source": ["AWS.S3"]},
    {"detail": {"object": {"key": [{"prefix": "Uploads/"}]}}},
    {"detail": {"object": {"key": [{"suffix": ".png"}]}}},
    {"detail": {"object": {"key": [{"wildcard": "uploads/*.jpg"}]}}},
    {"detail": {"object": {"size": [{"numeric": [">", 4096]}]}}},
    {"detail": {"object": {"size": ["2048"]}}},
    {"detail": {"source-ip-address": [{"cidr": "10.0.1.0/24"}]}},
    {"detail": {"tags": [{"anything-but": ["red", "blue"]}]}},
    {"source": [{"anything-but": {"prefix": "aws."}}]},
    {"detail": {"missing": [{"exists": True}]}},
    {"detail": {"object": {"key": [{"exists": False}]}}},
    {"detail": {"missing": [{"anything-but": "x"}]}},
    {"detail": {"flag": ["true"]}},
    {"detail": {"items": {"name": ["a"], "count": [2]}}},
    {"detail": {"bucket": ["photos"]}},
    {"$or": [{"source": ["aws.ec2"]}, {"detail-type": ["Object Deleted"]}]},
]


def matches(events, pattern: dict, event: dict = EVENT) -> bool:
    return events.test_event_pattern(EventPattern=json.dumps(pattern), Event=json.dumps(event))["Result"]


@pytest.mark.parametrize("pattern", MATCHING, ids=lambda p: json.dumps(p)[:60])
def test_patterns_that_match(events, pattern):
    assert matches(events, pattern) is True


@pytest.mark.parametrize("pattern", NOT_MATCHING, ids=lambda p: json.dumps(p)[:60])
def test_patterns_that_do_not_match(events, pattern):
    assert matches(events, pattern) is False


INVALID = [
    # Jackson reads a string value lazily: an error right after one points just past its opening quote.
    ('{"source": "aws.s3"}', '"source" must be an object or an array', 1, 13),
    ('{"source": ["aws.health"], "detail": {}}', "Empty objects are not allowed", 1, 40),
    ('{"source": []}', "Empty arrays are not allowed", 1, 14),
    ("[]", "Filter is not an object", 1, 2),
    ('{"a": [{"numeric": [">", 1, ">", 2]}]}', "Bad numeric range operator: >", 1, 32),
    ('{"a": [{"numeric": ["=", "x"]}]}', "Value of = must be numeric", 1, 27),
    ('{"a": [{"numeric": [">", 6000000000]}]}', "Value must be between -5.0E9 and 5.0E9, inclusive", 1, 37),
    ('{"a": [{"frobnicate": 1}]}', "Unrecognized match type frobnicate", 1, 24),
    ('{"a": [{"prefix": 1}]}', "prefix match pattern must be a string", 1, 20),
    ('{"a": [{"exists": "yes"}]}', "exists match pattern must be either true or false.", 1, 20),
    (
        '{"a": [{"anything-but": ["x", 1]}]}',
        "Inside anything but list, either all values are number or string, mixed type is not supported",
        1,
        33,
    ),
    ('{"a": [{"anything-but": {"prefix": ""}}]}', "Null prefix/suffix not allowed", 1, 38),
    ('{"a": [{"wildcard": "a**b"}]}', "Consecutive wildcard characters at pos 2", 1, 27),
    ('{"$or": [{"a": ["b"]}]}', "There must have at least 2 Objects in $or relationship.", 1, 23),
    (
        '{"a": ["x"] "b": ["y"]}',
        "Unexpected character ('\"' (code 34)): was expecting comma to separate Object entries",
        1,
        14,
    ),
]


@pytest.mark.parametrize("text, reason, line, column", INVALID, ids=[case[1][:40] for case in INVALID])
def test_invalid_patterns_are_refused_with_the_event_rulers_reason(events, text, reason, line, column):
    with pytest.raises(ClientError) as raised:
        events.test_event_pattern(EventPattern=text, Event=json.dumps(EVENT))
    assert error_of(raised) == ("InvalidEventPatternException", 400)
    assert message_of(raised) == (
        f'Event pattern is not valid. Reason: {reason}\n at [Source: (String)"{text}"; line: {line}, column: {column}]'
    )


def test_put_rule_refuses_an_invalid_pattern_with_the_same_text(events):
    with pytest.raises(ClientError) as raised:
        events.put_rule(Name="bad", EventPattern='{"detail": {}}')
    assert error_of(raised) == ("InvalidEventPatternException", 400)
    assert message_of(raised).startswith("Event pattern is not valid. Reason: Empty objects are not allowed")


def test_a_multi_line_pattern_reports_its_line(events):
    text = '{\n  "source": ["x"],\n  "detail": {\n    "slug": "some"\n  }\n}'
    with pytest.raises(ClientError) as raised:
        events.test_event_pattern(EventPattern=text, Event=json.dumps(EVENT))
    assert message_of(raised).endswith("line: 4, column: 14]")  # just past the opening quote of "some"


def test_the_event_must_carry_the_mandatory_fields(events):
    incomplete = {k: v for k, v in EVENT.items() if k != "account"}
    with pytest.raises(ClientError) as raised:
        matches(events, {"source": ["aws.s3"]}, incomplete)
    assert error_of(raised) == ("ValidationException", 400)
    assert message_of(raised) == "Parameter Event is not valid."
