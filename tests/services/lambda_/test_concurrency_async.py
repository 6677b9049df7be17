"""Concurrency limits, throttling, and asynchronous invocation: the queue, retries on the clock, DLQ, destinations."""

import json
import threading

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from overcast.services import is_available
from tests.helpers import code_of
from tests.waiting import wait_for

# with {"hold": true} the handler marks GATE/started, then holds its environment until GATE/open exists
GATED = """
import os, time
def handler(event, context):
    if event.get("hold"):
        gate = os.environ["GATE"]
        open(os.path.join(gate, "started"), "w").close()
        deadline = time.time() + 60
        while not os.path.exists(os.path.join(gate, "open")) and time.time() < deadline:
            time.sleep(0.01)
    return "ok"
"""
FAILING = """
def handler(event, context):
    print("attempt", context.aws_request_id)
    raise RuntimeError("always fails")
"""
RECORDER = """
import os, time
def handler(event, context):
    started = time.time()
    time.sleep(0.02)
    with open(os.environ["OUT"], "a") as out:
        out.write(f"{os.getpid()} {started} {time.time()} {event['n']}\\n")
    return event["n"]
"""


def test_reserved_concurrency_api(lam, make_function):
    make_function("reserved")
    assert lam.get_function_concurrency(FunctionName="reserved").get("ReservedConcurrentExecutions") is None
    assert (
        lam.put_function_concurrency(FunctionName="reserved", ReservedConcurrentExecutions=5)[
            "ReservedConcurrentExecutions"
        ]
        == 5
    )
    assert lam.get_function(FunctionName="reserved")["Concurrency"] == {"ReservedConcurrentExecutions": 5}
    assert lam.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == 995
    with pytest.raises(ClientError) as raised:
        lam.put_function_concurrency(FunctionName="reserved", ReservedConcurrentExecutions=950)
    assert code_of(raised) == "InvalidParameterValueException"
    lam.delete_function_concurrency(FunctionName="reserved")
    assert lam.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == 1000


def no_retries(overcast):
    """A client that shows throttling instead of retrying it away (boto3 retries 429s by default)."""
    return overcast.client("lambda", config=Config(retries={"total_max_attempts": 1}))


def test_zero_reserved_concurrency_throttles(overcast, lam, make_function):
    make_function("off")
    lam = no_retries(overcast)
    lam.put_function_concurrency(FunctionName="off", ReservedConcurrentExecutions=0)
    with pytest.raises(ClientError) as raised:
        lam.invoke(FunctionName="off", Payload=b"{}")
    error = raised.value.response
    assert error["Error"]["Code"] == "TooManyRequestsException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert error["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"


def test_throttled_when_reserved_concurrency_is_busy(overcast, lam, make_function, tmp_path):
    make_function("single", GATED, Timeout=90, Environment={"Variables": {"GATE": str(tmp_path)}})
    lam.put_function_concurrency(FunctionName="single", ReservedConcurrentExecutions=1)
    strict = no_retries(overcast)
    answers = []
    background = threading.Thread(
        target=lambda: answers.append(
            json.loads(
                overcast.client("lambda")
                .invoke(FunctionName="single", Payload=json.dumps({"hold": True}))["Payload"]
                .read()
            )
        )
    )
    background.start()
    try:
        wait_for(lambda: (tmp_path / "started").exists())  # the only slot is taken, and stays taken
        with pytest.raises(ClientError) as raised:
            strict.invoke(FunctionName="single", Payload=b"{}")
        assert code_of(raised) == "TooManyRequestsException"
    finally:
        (tmp_path / "open").touch()
        background.join()
    assert answers == ["ok"]
    # the slot is free again as soon as the call has answered: no retries needed
    assert json.loads(strict.invoke(FunctionName="single", Payload=b"{}")["Payload"].read()) == "ok"


def test_async_invoke_runs_in_the_background(lam, make_function, tmp_path):
    out = tmp_path / "out.txt"
    make_function("async-one", RECORDER, Environment={"Variables": {"OUT": str(out)}})
    response = lam.invoke(FunctionName="async-one", InvocationType="Event", Payload=json.dumps({"n": 7}))
    assert response["StatusCode"] == 202
    line = wait_for(lambda: out.exists() and out.read_text())
    assert line.split()[-1] == "7"


def test_two_hundred_async_invokes_respect_reserved_concurrency(lam, make_function, tmp_path):
    out = tmp_path / "out.txt"
    make_function("fanout", RECORDER, Environment={"Variables": {"OUT": str(out)}}, Timeout=30)
    lam.put_function_concurrency(FunctionName="fanout", ReservedConcurrentExecutions=10)
    for n in range(200):
        lam.invoke(FunctionName="fanout", InvocationType="Event", Payload=json.dumps({"n": n}))
    lines = wait_for(
        lambda: out.exists() and len(out.read_text().splitlines()) >= 200 and out.read_text().splitlines(),
        timeout=60,
    )
    records = [line.split() for line in lines]
    assert sorted(int(r[3]) for r in records) == list(range(200))  # every event ran exactly once
    assert len({r[0] for r in records}) <= 10  # never more than 10 environments
    edges = sorted([(float(r[1]), 1) for r in records] + [(float(r[2]), -1) for r in records])
    in_flight, peak = 0, 0
    for _, step in edges:
        in_flight += step
        peak = max(peak, in_flight)
    assert peak <= 10


@pytest.mark.skipif(not is_available("logs"), reason="attempts are counted in CloudWatch Logs")
def test_failed_async_invoke_is_retried_then_dead_lettered(overcast, lam, make_function):
    sqs, logs = overcast.client("sqs"), overcast.client("logs")
    dlq = sqs.create_queue(QueueName="lambda-dlq")["QueueUrl"]
    failures = sqs.create_queue(QueueName="lambda-failures")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    failures_arn = sqs.get_queue_attributes(QueueUrl=failures, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    make_function("flaky", FAILING, DeadLetterConfig={"TargetArn": dlq_arn})
    lam.put_function_event_invoke_config(
        FunctionName="flaky", DestinationConfig={"OnFailure": {"Destination": failures_arn}}
    )
    request_id = lam.invoke(FunctionName="flaky", InvocationType="Event", Payload=json.dumps({"order": 1}))[
        "ResponseMetadata"
    ]["RequestId"]

    def attempts() -> list[tuple[int, str]]:
        """(virtual time in ms, request id) of each attempt, from the function's log. An attempt's log is
        shipped after its outcome is settled, so once it shows, the retry is already on the clock."""
        try:
            events = logs.filter_log_events(logGroupName="/aws/lambda/flaky", filterPattern="attempt")
        except ClientError:  # the log group appears with the first shipped batch
            return []
        return sorted((e["timestamp"], e["message"].split()[-1]) for e in events["events"])

    wait_for(lambda: len(attempts()) == 1)  # the first attempt fails at once
    assert not sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=0).get("Messages")
    overcast.advance_clock("61s")  # the first retry waits a minute of virtual time
    wait_for(lambda: len(attempts()) == 2)
    assert not sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=0).get("Messages")  # one retry left
    overcast.advance_clock("121s")  # the second retry waits two more
    messages = wait_for(
        lambda: sqs.receive_message(QueueUrl=dlq, MessageAttributeNames=["All"]).get("Messages")
    )
    assert json.loads(messages[0]["Body"]) == {"order": 1}
    assert messages[0]["MessageAttributes"]["RequestID"]["StringValue"] == request_id
    assert messages[0]["MessageAttributes"]["ErrorMessage"]["StringValue"] == "always fails"
    record = json.loads(wait_for(lambda: sqs.receive_message(QueueUrl=failures).get("Messages"))[0]["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["requestPayload"] == {"order": 1}
    assert record["responsePayload"]["errorMessage"] == "always fails"
    seen = wait_for(lambda: (found := attempts()) and len(found) == 3 and found)
    assert [rid for _, rid in seen] == [request_id] * 3  # three attempts of the same event, no more
    (first, _), (second, _), (third, _) = seen
    assert second - first >= 60_000 and third - second >= 120_000  # AWS's backoff, on the virtual clock


def test_no_retries_and_success_destination(overcast, lam, make_function):
    sqs = overcast.client("sqs")
    done = sqs.create_queue(QueueName="lambda-done")["QueueUrl"]
    done_arn = sqs.get_queue_attributes(QueueUrl=done, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    make_function("fine")
    config = lam.put_function_event_invoke_config(
        FunctionName="fine",
        MaximumRetryAttempts=0,
        DestinationConfig={"OnSuccess": {"Destination": done_arn}},
    )
    assert config["MaximumRetryAttempts"] == 0
    assert lam.get_function_event_invoke_config(FunctionName="fine")["DestinationConfig"]["OnSuccess"] == {
        "Destination": done_arn
    }
    lam.invoke(FunctionName="fine", InvocationType="Event", Payload=json.dumps({"x": 1}))
    record = json.loads(wait_for(lambda: sqs.receive_message(QueueUrl=done).get("Messages"))[0]["Body"])
    assert record["requestContext"]["condition"] == "Success"
    assert record["responsePayload"]["event"] == {"x": 1}


def test_the_deprecated_invoke_async_queues_an_event_invocation(lam, make_function, tmp_path):
    out = tmp_path / "out.txt"
    make_function("legacy-async", RECORDER, Environment={"Variables": {"OUT": str(out)}})
    response = lam.invoke_async(FunctionName="legacy-async", InvokeArgs=json.dumps({"n": 9}).encode())
    assert response["Status"] == 202 and response["ResponseMetadata"]["HTTPStatusCode"] == 202
    line = wait_for(lambda: out.exists() and out.read_text())
    assert line.split()[-1] == "9"
    with pytest.raises(ClientError) as raised:
        lam.invoke_async(FunctionName="nothing-here", InvokeArgs=b"{}")
    assert code_of(raised) == "ResourceNotFoundException"


def test_runtime_management_config(lam, make_function):
    arn = make_function("pinned")["FunctionArn"]
    assert lam.get_runtime_management_config(FunctionName="pinned")["UpdateRuntimeOn"] == "Auto"
    version = (
        "arn:aws:lambda:us-east-1::runtime:0af3e9b1c2d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c"
    )
    answer = lam.put_runtime_management_config(
        FunctionName="pinned", UpdateRuntimeOn="Manual", RuntimeVersionArn=version
    )
    assert (answer["UpdateRuntimeOn"], answer["RuntimeVersionArn"], answer["FunctionArn"]) == (
        "Manual",
        version,
        arn,
    )
    got = lam.get_runtime_management_config(FunctionName="pinned")
    assert (got["UpdateRuntimeOn"], got["RuntimeVersionArn"]) == ("Manual", version)
    lam.put_runtime_management_config(FunctionName="pinned", UpdateRuntimeOn="FunctionUpdate")
    got = lam.get_runtime_management_config(FunctionName="pinned")
    assert got["UpdateRuntimeOn"] == "FunctionUpdate" and "RuntimeVersionArn" not in got
    with pytest.raises(ClientError) as raised:
        lam.put_runtime_management_config(FunctionName="pinned", UpdateRuntimeOn="Manual")
    assert code_of(raised) == "InvalidParameterValueException"
    with pytest.raises(ClientError) as raised:
        lam.get_runtime_management_config(FunctionName="missing")
    assert code_of(raised) == "ResourceNotFoundException"
