"""The AWS CLI drives Step Functions: v2 creates a machine, runs it and reads the history; v1 (botocore with
AWS_DISABLE_HOST_PREFIX_INJECTION) runs a synchronous Express execution, whose endpoint has a `sync-` prefix."""

import json

import pytest

from tests.helpers import AWS_V2, aws
from tests.services.stepfunctions.conftest import TRUST, finished, make_role

DEFINITION = json.dumps(
    {
        "StartAt": "Hello",
        "States": {
            "Hello": {
                "Type": "Pass",
                "Parameters": {"greeting.$": "States.Format('hello {}', $.who)"},
                "End": True,
            }
        },
    }
)


@pytest.mark.slow
def test_cli_v2_runs_a_standard_machine(overcast, sfn):
    role = make_role(overcast, "cli-role", TRUST)
    arn = aws(
        overcast,
        "stepfunctions",
        "create-state-machine",
        "--name",
        "cli",
        "--definition",
        DEFINITION,
        "--role-arn",
        role,
        cli=AWS_V2,
    )["stateMachineArn"]
    execution = aws(
        overcast,
        "stepfunctions",
        "start-execution",
        "--state-machine-arn",
        arn,
        "--input",
        '{"who": "cli"}',
        cli=AWS_V2,
    )["executionArn"]
    finished(sfn, execution)
    described = aws(overcast, "stepfunctions", "describe-execution", "--execution-arn", execution, cli=AWS_V2)
    assert described["status"] == "SUCCEEDED" and json.loads(described["output"]) == {"greeting": "hello cli"}
    events = aws(overcast, "stepfunctions", "get-execution-history", "--execution-arn", execution, cli=AWS_V2)
    assert [e["type"] for e in events["events"]] == [
        "ExecutionStarted",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
    ]


@pytest.mark.slow
def test_cli_v1_runs_a_synchronous_express_execution(overcast):
    role = make_role(overcast, "cli-express", TRUST)
    arn = aws(
        overcast,
        "stepfunctions",
        "create-state-machine",
        "--name",
        "clix",
        "--definition",
        DEFINITION,
        "--role-arn",
        role,
        "--type",
        "EXPRESS",
    )["stateMachineArn"]
    result = aws(
        overcast,
        "stepfunctions",
        "start-sync-execution",
        "--state-machine-arn",
        arn,
        "--input",
        '{"who": "express"}',
        env={"AWS_DISABLE_HOST_PREFIX_INJECTION": "true"},
    )
    assert result["status"] == "SUCCEEDED" and json.loads(result["output"]) == {"greeting": "hello express"}
