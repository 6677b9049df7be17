"""State machines through boto3: create/describe/update/delete/list, validation with AWS's diagnostics,
versions, aliases, tags, logging configuration, and the errors AWS answers."""

import json

import pytest

from tests.services.stepfunctions.conftest import code, failure, run

PASS = {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}


def test_create_describe_list_delete(sfn, role, machine):
    arn = machine(PASS, name="orders", tags=[{"key": "team", "value": "pay"}])
    assert arn == "arn:aws:states:us-east-1:000000000000:stateMachine:orders"
    described = sfn.describe_state_machine(stateMachineArn=arn)
    assert described["name"] == "orders" and described["status"] == "ACTIVE"
    assert described["type"] == "STANDARD" and described["roleArn"] == role
    assert json.loads(described["definition"]) == PASS
    assert described["loggingConfiguration"] == {"level": "OFF", "includeExecutionData": False}
    assert described["tracingConfiguration"] == {"enabled": False}
    assert described["encryptionConfiguration"] == {"type": "AWS_OWNED_KEY"}
    assert described["revisionId"]
    listed = sfn.list_state_machines()["stateMachines"]
    assert [(m["name"], m["type"]) for m in listed] == [("orders", "STANDARD")]
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "team", "value": "pay"}]
    sfn.delete_state_machine(stateMachineArn=arn)
    assert code(lambda: sfn.describe_state_machine(stateMachineArn=arn)) == "StateMachineDoesNotExist"
    assert failure(lambda: sfn.describe_state_machine(stateMachineArn=arn))["Message"] == (
        f"State Machine Does Not Exist: '{arn}'"
    )


def test_create_is_idempotent_for_the_same_definition_and_refuses_another(sfn, machine):
    arn = machine(PASS, name="same")
    assert machine(PASS, name="same") == arn
    other = {"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}
    assert code(lambda: machine(other, name="same")) == "StateMachineAlreadyExists"


@pytest.mark.parametrize("name", ["has space", "a/b", "semi;colon", "tab\there"])
def test_invalid_names(machine, name):
    error = failure(lambda: machine(PASS, name=name))
    assert error["Code"] == "InvalidName" and error["Message"] == f"Invalid Name: '{name}'"


def test_a_name_longer_than_80_fails_the_models_length_constraint(machine):
    assert code(lambda: machine(PASS, name="x" * 81)) == "ValidationException"


def test_invalid_definitions_are_refused_with_aws_wording(sfn, machine):
    bad = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Missing"}}}
    error = failure(lambda: machine(bad, name="bad"))
    assert error["Code"] == "InvalidDefinition"
    assert error["Message"] == (
        "Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: Missing at "
        "/States/A/Next'"
    )
    assert (
        code(
            lambda: sfn.create_state_machine(
                name="j", definition="{oops", roleArn="arn:aws:iam::000000000000:role/r"
            )
        )
        == "InvalidDefinition"
    )


def test_validate_state_machine_definition(sfn):
    ok = sfn.validate_state_machine_definition(definition=json.dumps(PASS))
    assert ok["result"] == "OK" and ok["diagnostics"] == [] and ok["truncated"] is False
    missing_start = sfn.validate_state_machine_definition(definition=json.dumps({"States": PASS["States"]}))
    assert missing_start["result"] == "FAIL"
    assert missing_start["diagnostics"] == [
        {
            "severity": "ERROR",
            "code": "SCHEMA_VALIDATION_FAILED",
            "message": "These fields are required: [StartAt]",
            "location": "/",
        }
    ]
    unknown_next = sfn.validate_state_machine_definition(
        definition=json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Z"}}})
    )
    assert [(d["code"], d["location"]) for d in unknown_next["diagnostics"]] == [
        ("MISSING_TRANSITION_TARGET", "/States/A/Next")
    ]
    token_task = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "End": True,
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            }
        },
    }
    express = sfn.validate_state_machine_definition(definition=json.dumps(token_task), type="EXPRESS")
    assert express["result"] == "FAIL"
    assert express["diagnostics"][0]["message"] == (
        "Express state machine does not support '.waitForTaskToken' service integration"
    )
    assert sfn.validate_state_machine_definition(definition=json.dumps(token_task))["result"] == "OK"
    broken = sfn.validate_state_machine_definition(definition="{")
    assert broken["diagnostics"][0]["code"] == "INVALID_JSON_DESCRIPTION"


def test_update_revisions_and_versions(sfn, machine):
    arn = machine(PASS, name="ver", publish=True, versionDescription="first")
    versions = sfn.list_state_machine_versions(stateMachineArn=arn)["stateMachineVersions"]
    assert [v["stateMachineVersionArn"] for v in versions] == [f"{arn}:1"]
    first = sfn.describe_state_machine(stateMachineArn=f"{arn}:1")
    assert first["description"] == "first" and first["stateMachineArn"] == f"{arn}:1"
    # publishing an unchanged revision returns the version that has it
    assert sfn.publish_state_machine_version(stateMachineArn=arn)["stateMachineVersionArn"] == f"{arn}:1"
    revision = sfn.describe_state_machine(stateMachineArn=arn)["revisionId"]
    updated = sfn.update_state_machine(
        stateMachineArn=arn,
        definition=json.dumps({"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}),
        publish=True,
    )
    assert updated["revisionId"] != revision and updated["stateMachineVersionArn"] == f"{arn}:2"
    assert json.loads(sfn.describe_state_machine(stateMachineArn=f"{arn}:1")["definition"]) == PASS
    assert code(lambda: sfn.update_state_machine(stateMachineArn=arn)) == "MissingRequiredParameter"
    stale = failure(lambda: sfn.publish_state_machine_version(stateMachineArn=arn, revisionId=revision))
    assert stale["Code"] == "ConflictException"


def test_aliases_route_executions_to_versions(sfn, machine):
    arn = machine(
        {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": "v1", "End": True}}},
        name="aliased",
        publish=True,
    )
    sfn.update_state_machine(
        stateMachineArn=arn,
        definition=json.dumps(
            {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": "v2", "End": True}}}
        ),
        publish=True,
    )
    alias = sfn.create_state_machine_alias(
        name="live", routingConfiguration=[{"stateMachineVersionArn": f"{arn}:2", "weight": 100}]
    )["stateMachineAliasArn"]
    assert alias == f"{arn}:live"
    described = sfn.describe_state_machine_alias(stateMachineAliasArn=alias)
    assert described["name"] == "live" and described["routingConfiguration"][0]["weight"] == 100
    done = run(sfn, alias)
    assert done["output"] == '"v2"'
    assert done["stateMachineAliasArn"] == alias and done["stateMachineVersionArn"] == f"{arn}:2"
    # the alias holds version 2: it cannot be deleted until the alias routes elsewhere
    assert (
        code(lambda: sfn.delete_state_machine_version(stateMachineVersionArn=f"{arn}:2"))
        == "ConflictException"
    )
    sfn.update_state_machine_alias(
        stateMachineAliasArn=alias,
        routingConfiguration=[
            {"stateMachineVersionArn": f"{arn}:1", "weight": 50},
            {"stateMachineVersionArn": f"{arn}:2", "weight": 50},
        ],
    )
    assert {run(sfn, alias)["output"] for _ in range(12)} <= {'"v1"', '"v2"'}
    bad = failure(
        lambda: sfn.create_state_machine_alias(
            name="bad", routingConfiguration=[{"stateMachineVersionArn": f"{arn}:1", "weight": 60}]
        )
    )
    assert bad["Code"] == "ValidationException"
    assert [
        a["stateMachineAliasArn"]
        for a in sfn.list_state_machine_aliases(stateMachineArn=arn)["stateMachineAliases"]
    ] == [alias]
    sfn.delete_state_machine_alias(stateMachineAliasArn=alias)
    assert code(lambda: sfn.describe_state_machine_alias(stateMachineAliasArn=alias)) == "ResourceNotFound"


def test_tags(sfn, machine):
    arn = machine(PASS, name="tagged")
    sfn.tag_resource(resourceArn=arn, tags=[{"key": "a", "value": "1"}, {"key": "b", "value": "2"}])
    sfn.untag_resource(resourceArn=arn, tagKeys=["a"])
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "b", "value": "2"}]
    too_many = [{"key": f"k{i}", "value": "v"} for i in range(51)]
    assert code(lambda: sfn.tag_resource(resourceArn=arn, tags=too_many)) == "TooManyTags"
    missing = arn + "x"
    assert code(lambda: sfn.list_tags_for_resource(resourceArn=missing)) == "ResourceNotFound"


def test_logging_configuration_is_recorded_and_checked(sfn, machine):
    group = "arn:aws:logs:us-east-1:000000000000:log-group:/aws/vendedlogs/states/m:*"
    logging = {
        "level": "ALL",
        "includeExecutionData": True,
        "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": group}}],
    }
    arn = machine(
        PASS,
        name="logged",
        type="EXPRESS",
        loggingConfiguration=logging,
        tracingConfiguration={"enabled": True},
    )
    described = sfn.describe_state_machine(stateMachineArn=arn)
    assert described["loggingConfiguration"] == logging and described["tracingConfiguration"] == {
        "enabled": True
    }
    error = failure(lambda: machine(PASS, name="nolog", loggingConfiguration={"level": "ERROR"}))
    assert error["Code"] == "InvalidLoggingConfiguration"


def test_arns_of_the_wrong_kind(sfn, machine):
    arn = machine(PASS, name="kinds")
    execution = arn.replace(":stateMachine:", ":execution:") + ":x"
    assert code(lambda: sfn.describe_state_machine(stateMachineArn=execution)) == "InvalidArn"
    assert code(lambda: sfn.describe_state_machine(stateMachineArn="not-an-arn")) == "InvalidArn"
    assert code(lambda: sfn.describe_execution(executionArn=arn)) == "InvalidArn"


def test_list_pages_with_tokens(sfn, machine):
    for i in range(5):
        machine(PASS, name=f"m{i}")
    first = sfn.list_state_machines(maxResults=2)
    second = sfn.list_state_machines(maxResults=2, nextToken=first["nextToken"])
    third = sfn.list_state_machines(maxResults=2, nextToken=second["nextToken"])
    names = [m["name"] for page in (first, second, third) for m in page["stateMachines"]]
    assert names == ["m0", "m1", "m2", "m3", "m4"] and "nextToken" not in third
    assert code(lambda: sfn.list_state_machines(nextToken="garbage!")) == "InvalidToken"
