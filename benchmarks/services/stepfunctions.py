"""Step Functions' hot paths: a synchronous Express execution of ten Pass states, the same through a chain
of three Lambda functions, and starting a Standard execution."""

from __future__ import annotations

import base64
import io
import json
import zipfile

ROLE = "arn:aws:iam::000000000000:role/bench-sfn"


def _headers(action: str) -> dict[str, str]:
    return {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": f"AWSStepFunctions.{action}"}


def _create_machine(name: str, definition: dict, kind: str) -> dict:
    """CreateStateMachine; the answer's ARN becomes ${machine_arn} (accounts differ between servers)."""
    return {
        "service": "states",
        "method": "POST",
        "path": "/",
        "headers": _headers("CreateStateMachine"),
        "body": json.dumps(
            {"name": name, "definition": json.dumps(definition), "roleArn": ROLE, "type": kind}
        ),
        "capture": {"machine_arn": "stateMachineArn"},
    }


PASS_10 = {
    "StartAt": "S0",
    "States": {
        f"S{i}": {
            "Type": "Pass",
            "Result": {"step": i},
            "ResultPath": f"$.s{i}",
            **({"Next": f"S{i + 1}"} if i < 9 else {"End": True}),
        }
        for i in range(10)
    },
}

_HANDLER = "def handler(event, context):\n    return {**event, 'hops': event.get('hops', 0) + 1}\n"


def _zip() -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", _HANDLER)
    return base64.b64encode(buffer.getvalue()).decode()


def _create_function(name: str) -> list[dict]:
    """CreateFunction, then GetFunction until it is Active."""
    create = {
        "service": "lambda",
        "method": "POST",
        "path": "/2015-03-31/functions",
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(
            {
                "FunctionName": name,
                "Runtime": "python3.11",
                "Role": "arn:aws:iam::000000000000:role/bench-fn",
                "Handler": "app.handler",
                "Code": {"ZipFile": _zip()},
            }
        ),
    }
    active = {
        "service": "lambda",
        "method": "GET",
        "path": f"/2015-03-31/functions/{name}",
        "headers": {},
        "body": "",
        "until": '"State":\\s*"Active"',
    }
    return [create, active]


LAMBDA_3 = {
    "StartAt": "F0",
    "States": {
        f"F{i}": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": f"bench-hop-{i}", "Payload.$": "$"},
            "OutputPath": "$.Payload",
            **({"Next": f"F{i + 1}"} if i < 2 else {"End": True}),
        }
        for i in range(3)
    },
}

OPERATIONS: list[dict] = [
    {
        "name": "sfn-start-sync-pass10",
        "service": "states",
        "protocol": "json",
        "method": "POST",
        "path": "/",
        "headers": _headers("StartSyncExecution"),
        "body": '{"stateMachineArn": "${machine_arn}", "input": "{\\"order\\": 1}"}',
        "setup": [_create_machine("bench-pass10", PASS_10, "EXPRESS")],
        "expect": '"status":\\s*"SUCCEEDED"',
        "default": True,
        "target": 2.0,
    },
    {
        "name": "sfn-start-sync-lambda3",
        "service": "states",
        "protocol": "json",
        "method": "POST",
        "path": "/",
        "headers": _headers("StartSyncExecution"),
        "body": '{"stateMachineArn": "${machine_arn}", "input": "{\\"hops\\": 0}"}',
        "setup": [
            *(step for i in range(3) for step in _create_function(f"bench-hop-{i}")),
            _create_machine("bench-lambda3", LAMBDA_3, "EXPRESS"),
        ],
        "expect": '"status":\\s*"SUCCEEDED"',
        "default": False,
        "target": 2.0,
    },
    {
        "name": "sfn-start-execution",
        "service": "states",
        "protocol": "json",
        "method": "POST",
        "path": "/",
        "headers": _headers("StartExecution"),
        "body": '{"stateMachineArn": "${machine_arn}", "input": "{}"}',
        "setup": [
            _create_machine(
                "bench-standard", {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}, "STANDARD"
            )
        ],
        "default": True,
    },
]


def waiting_executions_rss(counts: tuple[int, ...] = (1000, 5000)) -> list[tuple[int, float]]:
    """Resident memory of a fresh persistent server as Standard executions pile up waiting on the clock (a
    one-day Wait each); then the clock moves a day and every one of them must succeed."""
    import concurrent.futures
    import sys
    import tempfile
    import time
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import scale  # the benchmarks' own server machinery

    server = scale.Server(Path(tempfile.mkdtemp(prefix="sfn-rss-")))
    try:
        sfn = server.client("stepfunctions", max_pool_connections=8)
        wait = {"StartAt": "Sleep", "States": {"Sleep": {"Type": "Wait", "Seconds": 86400, "End": True}}}
        arn = sfn.create_state_machine(name="sleepers", definition=json.dumps(wait), roleArn=ROLE)[
            "stateMachineArn"
        ]
        sfn.start_execution(stateMachineArn=arn)  # load the service before the first sample
        time.sleep(1)
        samples = [(0, server.rss_mb())]
        started = 0
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            for target in counts:
                list(pool.map(lambda _: sfn.start_execution(stateMachineArn=arn), range(target - started)))
                started = target
                time.sleep(1)
                samples.append((started, server.rss_mb()))
        running = sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING", maxResults=1000)
        assert len(running["executions"]) == 1000, "executions should be waiting"
        import urllib.request

        request = urllib.request.Request(
            f"{server.endpoint}/_overcast/clock",
            data=b'{"advance": "1d"}',
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        urllib.request.urlopen(request).read()
        deadline = time.monotonic() + 300
        while sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING", maxResults=1)["executions"]:
            if time.monotonic() > deadline:
                raise AssertionError("the waiting executions did not finish after the clock moved")
            time.sleep(0.5)
        samples.append((-1, server.rss_mb()))
        return samples
    finally:
        server.stop()


if __name__ == "__main__":
    for count, rss in waiting_executions_rss():
        label = "after the clock moved, all succeeded" if count < 0 else f"{count} executions waiting"
        print(f"{label}: RSS {rss:.1f} MB")
