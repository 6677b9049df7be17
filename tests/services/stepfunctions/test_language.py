"""The pure pieces of the interpreter: JSONPath, intrinsic functions, Choice rules, Retry/Catch matching and
delays, definition checks and the JSONata bridge — each against the behaviour the ASL documents."""

import json
import random

import pytest

from overcast.services.stepfunctions import (
    choices,
    definition,
    intrinsics,
    jsonata_bridge,
    jsonpath,
    retries,
    states,
)
from overcast.services.stepfunctions.failures import StatesError

DATA = {
    "store": {
        "book": [
            {"category": "reference", "author": "Nigel", "price": 8.95},
            {"category": "fiction", "author": "Evelyn", "price": 12.99, "isbn": "0-553"},
            {"category": "fiction", "author": "Herman", "price": 8.99, "isbn": "0-395"},
        ],
        "bicycle": {"color": "red", "price": 19.95},
    },
    "weird key": 1,
}


# -- JSONPath ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, expected",
    [
        ("$", DATA),
        ("$.store.bicycle.color", "red"),
        ("$['weird key']", 1),
        ("$.store.book[1].author", "Evelyn"),
        ("$.store.book[-1].author", "Herman"),
        ("$.store.book.length()", 3),
        ("$.store.book[*].author", ["Nigel", "Evelyn", "Herman"]),
        ("$..price", [8.95, 12.99, 8.99, 19.95]),
        ("$.store.book[0,2].price", [8.95, 8.99]),
        ("$.store.book[1:].author", ["Evelyn", "Herman"]),
        ("$.store.book[?(@.isbn)].author", ["Evelyn", "Herman"]),
        ("$.store.book[?(@.price < 10)].author", ["Nigel", "Herman"]),
        ("$.store.book[?(@.category == 'fiction' && @.price > 10)].author", ["Evelyn"]),
        ("$.store.book[?(@.price > 100)]", []),
        ("$.store.*.color", ["red"]),
    ],
)
def test_jsonpath_queries(path, expected):
    assert jsonpath.query(path, DATA) == expected


def test_a_definite_path_to_nothing_is_an_error_an_indefinite_one_an_empty_list():
    with pytest.raises(jsonpath.NotFound):
        jsonpath.query("$.store.car", DATA)
    with pytest.raises(jsonpath.NotFound):
        jsonpath.query("$.store.book[7]", DATA)
    assert jsonpath.query("$.store.book[*].missing", DATA) == []


def test_context_object_paths_read_the_context():
    assert jsonpath.query("$$.Execution.Id", {}, {"Execution": {"Id": "arn"}}) == "arn"


def test_reference_paths_and_result_path_placement():
    assert jsonpath.is_reference_path("$.a.b[0]['c d']")
    assert not jsonpath.is_reference_path("$.a[*]")
    assert not jsonpath.is_reference_path("$..a")
    assert not jsonpath.is_path("a.b")
    data = {"a": {"keep": 1}}
    assert jsonpath.put(data, "$.a.result", 5) == {"a": {"keep": 1, "result": 5}}
    assert jsonpath.put(data, "$.x.y", 5) == {"a": {"keep": 1}, "x": {"y": 5}}
    assert jsonpath.put(data, "$", 5) == 5
    assert data == {"a": {"keep": 1}}  # the input itself is not modified
    with pytest.raises(jsonpath.ResultPathMismatch):
        jsonpath.put("a string", "$.x", 1)


# -- intrinsic functions -----------------------------------------------------------------------------------

CONTEXT = {"Execution": {"Name": "run-1"}}


@pytest.mark.parametrize(
    "call, expected",
    [
        ("States.Format('Hello, {}! You are {}', $.name, $.age)", "Hello, Ada! You are 36"),
        ("States.Format('braces \\{\\} and quote \\' for {}', $.name)", "braces {} and quote ' for Ada"),
        ("States.Format('{}', $.list)", "[1,2,2,3]"),
        ("States.StringToJson($.json)", {"a": [1, 2]}),
        ("States.JsonToString($.obj)", '{"k":"v"}'),
        ("States.Array($.name, 1, true, null)", ["Ada", 1, True, None]),
        ("States.ArrayPartition($.list, 3)", [[1, 2, 2], [3]]),
        ("States.ArrayContains($.list, 3)", True),
        ("States.ArrayContains($.list, 9)", False),
        ("States.ArrayRange(1, 9, 2)", [1, 3, 5, 7, 9]),
        ("States.ArrayGetItem($.list, 3)", 3),
        ("States.ArrayLength($.list)", 4),
        ("States.ArrayUnique($.list)", [1, 2, 3]),
        ("States.Base64Encode('Data to encode')", "RGF0YSB0byBlbmNvZGU="),
        ("States.Base64Decode('RGF0YSB0byBlbmNvZGU=')", "Data to encode"),
        ("States.Hash('input data', 'SHA-1')", "aaff4a450a104cd177d28d18d74485e8cae074b7"),
        ('States.JsonMerge($.obj, States.StringToJson(\'{"k": 2, "z": 3}\'), false)', {"k": 2, "z": 3}),
        ("States.MathAdd($.age, -6)", 30),
        ("States.StringSplit('a,b;c', ',;')", ["a", "b", "c"]),
        ("States.Format('{}', $$.Execution.Name)", "run-1"),
    ],
)
def test_intrinsic_functions(call, expected):
    data = {"name": "Ada", "age": 36, "list": [1, 2, 2, 3], "json": '{"a": [1, 2]}', "obj": {"k": "v"}}
    assert intrinsics.evaluate(call, data, CONTEXT) == expected


def test_uuid_and_math_random():
    value = intrinsics.evaluate("States.UUID()", {}, {})
    assert len(value) == 36 and value[14] == "4"
    drawn = intrinsics.evaluate("States.MathRandom(1, 10)", {}, {})
    assert 1 <= drawn < 10
    seeded = {intrinsics.evaluate("States.MathRandom(1, 1000, 7)", {}, {}) for _ in range(3)}
    assert len(seeded) == 1


@pytest.mark.parametrize(
    "call",
    [
        "States.Format('{} {}', $.a)",
        "States.ArrayGetItem($.list, 9)",
        "States.JsonMerge($.o, $.o, true)",
        "States.Hash('x', 'CRC')",
        "States.StringToJson('{nope')",
        "States.MathAdd(1.5, 1)",
        "States.Nope(1)",
    ],
)
def test_intrinsic_failures_are_intrinsic_failure_errors(call):
    with pytest.raises(StatesError) as raised:
        intrinsics.evaluate(call, {"a": 1, "list": [1], "o": {}}, {})
    assert raised.value.error == "States.IntrinsicFailure"


def test_an_intrinsic_path_to_nothing_is_a_runtime_error():
    with pytest.raises(StatesError) as raised:
        intrinsics.evaluate("States.Format('{}', $.missing)", {}, {})
    assert raised.value.error == "States.Runtime"


# -- Choice rules ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rule, holds",
    [
        ({"Variable": "$.s", "StringEquals": "abc"}, True),
        ({"Variable": "$.s", "StringLessThan": "abd"}, True),
        ({"Variable": "$.s", "StringGreaterThanEquals": "abc"}, True),
        ({"Variable": "$.s", "StringMatches": "a*c"}, True),
        ({"Variable": "$.s", "StringMatches": "a\\*c"}, False),
        ({"Variable": "$.n", "NumericEquals": 5}, True),
        ({"Variable": "$.n", "NumericLessThan": 5}, False),
        ({"Variable": "$.n", "NumericLessThanEquals": 5}, True),
        ({"Variable": "$.n", "NumericGreaterThan": 4.5}, True),
        ({"Variable": "$.n", "NumericEqualsPath": "$.same"}, True),
        ({"Variable": "$.n", "NumericGreaterThanPath": "$.same"}, False),
        ({"Variable": "$.b", "BooleanEquals": False}, True),
        ({"Variable": "$.t", "TimestampLessThan": "2024-01-02T00:00:00Z"}, True),
        ({"Variable": "$.t", "TimestampEquals": "2024-01-01T01:00:00+01:00"}, True),
        ({"Variable": "$.n", "StringEquals": "5"}, False),  # the wrong type never matches
        ({"Variable": "$.missing", "IsPresent": False}, True),
        ({"Variable": "$.z", "IsNull": True}, True),
        ({"Variable": "$.n", "IsNumeric": True}, True),
        ({"Variable": "$.s", "IsString": True}, True),
        ({"Variable": "$.b", "IsBoolean": True}, True),
        ({"Variable": "$.t", "IsTimestamp": True}, True),
        ({"Variable": "$.s", "IsTimestamp": True}, False),
        (
            {"And": [{"Variable": "$.n", "NumericEquals": 5}, {"Variable": "$.b", "BooleanEquals": False}]},
            True,
        ),
        ({"Or": [{"Variable": "$.n", "NumericEquals": 1}, {"Variable": "$.s", "StringEquals": "abc"}]}, True),
        ({"Not": {"Variable": "$.s", "StringEquals": "abc"}}, False),
    ],
)
def test_choice_rules(rule, holds):
    data = {"s": "abc", "n": 5, "same": 5, "b": False, "t": "2024-01-01T00:00:00Z", "z": None}
    assert choices.matches(rule, data, {}) is holds


def test_a_comparison_on_a_missing_variable_is_a_runtime_error():
    with pytest.raises(StatesError) as raised:
        choices.matches({"Variable": "$.nope", "StringEquals": "x"}, {}, {})
    assert raised.value.error == "States.Runtime"


# -- Retry and Catch -----------------------------------------------------------------------------------------


def test_error_matching():
    assert retries.error_matches(["States.ALL"], "CustomError")
    assert not retries.error_matches(["States.ALL"], "States.Runtime")
    assert retries.error_matches(["States.TaskFailed"], "Lambda.Unknown")
    assert not retries.error_matches(["States.TaskFailed"], "States.Timeout")
    assert retries.error_matches(["States.Timeout"], "States.HeartbeatTimeout")
    assert not retries.error_matches(["States.TaskFailed"], "States.HeartbeatTimeout")
    assert retries.find([{"ErrorEquals": ["A"]}, {"ErrorEquals": ["States.ALL"]}], "B") == 1


def test_retry_delays_backoff_cap_and_jitter():
    retrier = {"ErrorEquals": ["X"], "IntervalSeconds": 1, "BackoffRate": 2.0, "MaxAttempts": 3}
    assert [retries.delay(retrier, n) for n in range(4)] == [1.0, 2.0, 4.0, None]
    capped = {**retrier, "IntervalSeconds": 10, "MaxDelaySeconds": 15, "MaxAttempts": 5}
    assert [retries.delay(capped, n) for n in range(3)] == [10.0, 15.0, 15.0]
    assert retries.delay({"ErrorEquals": ["X"]}, 0) == 1.0  # defaults: 1 s, 3 attempts, rate 2.0
    assert retries.delay({"ErrorEquals": ["X"], "MaxAttempts": 0}, 0) is None
    jittered = {**retrier, "IntervalSeconds": 8, "JitterStrategy": "FULL"}
    draws = {retries.delay(jittered, 0, random.Random(n)) for n in range(20)}
    assert all(0 <= d <= 8 for d in draws) and len(draws) > 1


# -- definitions -------------------------------------------------------------------------------------------


def codes(doc) -> list[tuple[str, str]]:
    _, found = definition.parse(json.dumps(doc) if not isinstance(doc, str) else doc)
    return [(d.code, d.location) for d in found]


def test_definition_diagnostics():
    assert codes("{nope") == [("INVALID_JSON_DESCRIPTION", "/")]
    assert codes("") == [("MISSING_DESCRIPTION", "/")]
    assert codes({"States": {"A": {"Type": "Pass", "End": True}}}) == [("SCHEMA_VALIDATION_FAILED", "/")]
    assert ("MISSING_TRANSITION_TARGET", "/States/A/Next") in codes(
        {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}
    )
    assert ("MISSING_TRANSITION_TARGET", "/States/B") in codes(
        {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}, "B": {"Type": "Pass", "End": True}}}
    )
    assert ("SCHEMA_VALIDATION_FAILED", "/States/A/Type") in codes(
        {"StartAt": "A", "States": {"A": {"Type": "Nope"}}}
    )
    assert ("SCHEMA_VALIDATION_FAILED", "/States/A") in codes(
        {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True, "Bogus": 1}}}
    )
    assert ("SCHEMA_VALIDATION_FAILED", "/States/A/InputPath") in codes(
        {
            "QueryLanguage": "JSONata",
            "StartAt": "A",
            "States": {"A": {"Type": "Pass", "InputPath": "$", "End": True}},
        }
    )
    assert ("MISSING_END_STATE", "/States") in codes(
        {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Next": "A"}}}
    )
    assert codes({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}) == []


def test_load_raises_the_message_create_state_machine_answers():
    with pytest.raises(definition.DefinitionProblem) as raised:
        definition.load(json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}))
    assert str(raised.value) == (
        "Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: B at /States/A/Next'"
    )


# -- JSONata -----------------------------------------------------------------------------------------------


def test_jsonata_templates_variables_and_step_functions_functions():
    template = {
        "total": "{% $sum($states.input.items.price) %}",
        "count": "{% $count($states.input.items) %}",
        "pairs": "{% $partition([1, 2, 3], 2) %}",
        "range": "{% $range(0, 6, 3) %}",
        "hash": "{% $hash('input data', 'SHA-1') %}",
        "parsed": "{% $parse('{\"a\": 1}') %}",
        "seen": "{% $limit %}",
        "literal": [1, "plain"],
    }
    states_ = {"input": {"items": [{"price": 2}, {"price": 3.5}]}}
    value = jsonata_bridge.evaluate_template(template, states_, {"limit": 10}, 0, "Output", "S")
    assert value == {
        "total": 5.5,
        "count": 2,
        "pairs": [[1, 2], [3]],
        "range": [0, 3, 6],
        "hash": "aaff4a450a104cd177d28d18d74485e8cae074b7",
        "parsed": {"a": 1},
        "seen": 10,
        "literal": [1, "plain"],
    }


def test_jsonata_now_reads_the_virtual_clock():
    assert jsonata_bridge.evaluate("$now()", {}, {}, 86400.5, "Output", "S") == "1970-01-02T00:00:00.500Z"


def test_jsonata_errors_are_query_evaluation_errors():
    with pytest.raises(StatesError) as raised:
        jsonata_bridge.evaluate("'a' + 1", {}, {}, 0, "Output", "Calc")
    assert raised.value.error == "States.QueryEvaluationError"
    assert "'Calc'" in raised.value.cause and "'Output'" in raised.value.cause


# -- input and output processing -----------------------------------------------------------------------------


def test_jsonpath_task_pipeline():
    state = {
        "Type": "Task",
        "InputPath": "$.order",
        "Parameters": {"id.$": "$.id", "fixed": 1},
        "ResultSelector": {"paid.$": "$.Payload.ok"},
        "ResultPath": "$.payment",
        "OutputPath": "$.payment",
        "Next": "N",
    }
    env = states.Env("Charge", state, "JSONPath", {})
    raw = {"order": {"id": "o-1"}, "other": True}
    assert states.task_input(env, raw) == {"id": "o-1", "fixed": 1}
    transition = states.complete(env, raw, {"Payload": {"ok": True}})
    assert transition.output == {"paid": True} and transition.next == "N"


def test_catch_places_the_error_at_result_path():
    env = states.Env("S", {"Type": "Task"}, "JSONPath", {})
    transition = states.catch(
        env,
        {"a": 1},
        StatesError("Boom", "why"),
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "F"},
    )
    assert transition.output == {"a": 1, "error": {"Error": "Boom", "Cause": "why"}}
    assert transition.next == "F"
