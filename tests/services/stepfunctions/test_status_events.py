"""Standard executions announce their status changes on the default EventBridge bus, as AWS's do."""

import json

from tests.services.stepfunctions.conftest import run
from tests.waiting import wait_for


def test_status_change_events_reach_a_rule_target(overcast, sfn, machine):
    sqs, events = overcast.client("sqs"), overcast.client("events")
    url = sqs.create_queue(QueueName="executions")["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(
        Name="sfn-status",
        EventPattern=json.dumps(
            {"source": ["aws.states"], "detail-type": ["Step Functions Execution Status Change"]}
        ),
    )
    events.put_targets(Rule="sfn-status", Targets=[{"Id": "q", "Arn": queue}])
    good = machine({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "Result": "hi", "End": True}}})
    bad = machine(
        {"StartAt": "Boom", "States": {"Boom": {"Type": "Fail", "Error": "Oops", "Cause": "on purpose"}}},
        name="failing",
    )
    succeeded = run(sfn, good, {"n": 1})
    failed = run(sfn, bad)
    assert (succeeded["status"], failed["status"]) == ("SUCCEEDED", "FAILED")

    received: list[dict] = []

    def four() -> bool:
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            received.append(json.loads(message["Body"]))
        return len(received) >= 4

    wait_for(four)
    by_status = {(e["detail"]["executionArn"], e["detail"]["status"]): e for e in received}
    assert set(by_status) == {
        (succeeded["executionArn"], "RUNNING"),
        (succeeded["executionArn"], "SUCCEEDED"),
        (failed["executionArn"], "RUNNING"),
        (failed["executionArn"], "FAILED"),
    }
    done = by_status[(succeeded["executionArn"], "SUCCEEDED")]
    assert done["source"] == "aws.states"
    assert done["resources"] == [succeeded["executionArn"]]
    assert done["detail"]["output"] == '"hi"'
    assert json.loads(done["detail"]["input"]) == {"n": 1}
    assert (
        isinstance(done["detail"]["startDate"], int)
        and done["detail"]["stopDate"] >= done["detail"]["startDate"]
    )
    started = by_status[(succeeded["executionArn"], "RUNNING")]["detail"]
    assert started["stopDate"] is None and started["output"] is None
    crashed = by_status[(failed["executionArn"], "FAILED")]["detail"]
    assert (crashed["error"], crashed["cause"]) == ("Oops", "on purpose")
