"""Parameter Store announces its changes on the default EventBridge bus ("Parameter Store Change")."""

import json

from tests.waiting import wait_for


def test_create_update_label_and_delete_reach_a_rule_target(overcast):
    ssm, sqs, events = overcast.client("ssm"), overcast.client("sqs"), overcast.client("events")
    url = sqs.create_queue(QueueName="parameter-changes")["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(
        Name="config-changes",
        EventPattern=json.dumps({"source": ["aws.ssm"], "detail": {"name": [{"prefix": "/app/"}]}}),
    )
    events.put_targets(Rule="config-changes", Targets=[{"Id": "q", "Arn": queue}])
    ssm.put_parameter(Name="/app/db-host", Value="db1", Type="String", Description="the database")
    ssm.put_parameter(Name="/app/db-host", Value="db2", Type="String", Overwrite=True)
    ssm.label_parameter_version(Name="/app/db-host", ParameterVersion=2, Labels=["live"])
    ssm.put_parameter(Name="/other/ignored", Value="x", Type="String")
    ssm.delete_parameter(Name="/app/db-host")

    received: list[dict] = []

    def four() -> bool:
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            received.append(json.loads(message["Body"]))
        return len(received) >= 4

    wait_for(four)
    assert sorted(e["detail"]["operation"] for e in received) == [
        "Create",
        "Delete",
        "LabelParameterVersion",
        "Update",
    ]
    created = next(e for e in received if e["detail"]["operation"] == "Create")
    assert created["source"] == "aws.ssm"
    assert created["detail-type"] == "Parameter Store Change"
    assert created["detail"] == {
        "operation": "Create",
        "name": "/app/db-host",
        "type": "String",
        "description": "the database",
    }
    assert created["resources"] == [f"arn:aws:ssm:us-east-1:{created['account']}:parameter/app/db-host"]
