"""Helpers for Step Functions tests: a role Step Functions may assume, machines made from Python dicts, and
waiting for an execution to stop."""

from __future__ import annotations

import json

import pytest
from botocore.config import Config

from tests.services.lambda_.conftest import zip_of
from tests.waiting import wait_for

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)
LAMBDA_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)


@pytest.fixture
def sfn(overcast):
    return overcast.client("stepfunctions")


@pytest.fixture
def sfn_sync(overcast):
    """StartSyncExecution's endpoint has a `sync-` host prefix: against localhost the client must not add it."""
    return overcast.client("stepfunctions", config=Config(inject_host_prefix=False))


def make_role(server, name: str = "sfn-role", trust: str = TRUST) -> str:
    iam = server.client("iam")
    return iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]["Arn"]


@pytest.fixture
def role(overcast) -> str:
    return make_role(overcast)


@pytest.fixture
def machine(sfn, role):
    """Create a state machine from a definition dict; returns its ARN."""

    def make(definition: dict, name: str = "machine", **kwargs) -> str:
        return sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=role, **kwargs)[
            "stateMachineArn"
        ]

    return make


def finished(client, execution_arn: str, timeout: float = 30) -> dict:
    """DescribeExecution once the execution has stopped."""
    return wait_for(
        lambda: (d := client.describe_execution(executionArn=execution_arn))["status"] != "RUNNING" and d,
        timeout=timeout,
    )


def run(client, machine_arn: str, data=None, **kwargs) -> dict:
    """Start an execution and wait for it to stop; DescribeExecution's answer."""
    arn = client.start_execution(stateMachineArn=machine_arn, input=json.dumps(data or {}), **kwargs)[
        "executionArn"
    ]
    return finished(client, arn)


def history(client, execution_arn: str) -> list[dict]:
    events, token = [], None
    for _ in range(100):
        page = client.get_execution_history(
            executionArn=execution_arn, **({"nextToken": token} if token else {})
        )
        events.extend(page["events"])
        token = page.get("nextToken")
        if not token:
            return events
    raise AssertionError("history did not end")


def types(events: list[dict]) -> list[str]:
    return [e["type"] for e in events]


@pytest.fixture
def lambda_function(overcast):
    """Create a Python Lambda function through the Lambda API; returns its ARN."""
    lam = overcast.client("lambda")
    iam = overcast.client("iam")
    made: dict[str, str] = {}

    def make(name: str, source: str) -> str:
        if "role" not in made:
            made["role"] = iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument=LAMBDA_TRUST)["Role"][
                "Arn"
            ]
        arn = lam.create_function(
            FunctionName=name,
            Runtime="python3.11",
            Role=made["role"],
            Handler="app.handler",
            Code={"ZipFile": zip_of({"app.py": source})},
            Timeout=30,
        )["FunctionArn"]
        wait_for(lambda: lam.get_function(FunctionName=name)["Configuration"]["State"] == "Active")
        return arn

    return make


def failure(call) -> dict:
    """The error a call fails with: botocore's Error (Code, Message) plus the HTTP status."""
    from botocore.exceptions import ClientError

    try:
        call()
    except ClientError as error:
        return {**error.response["Error"], "Status": error.response["ResponseMetadata"]["HTTPStatusCode"]}
    raise AssertionError("the call did not fail")


def code(call) -> str:
    return failure(call)["Code"]
