"""An EventBridge rule starting a Step Functions execution through the target's role, under --iam enforce: the
delivery is made as that role's session, so the role's policy (not a resource policy) lets it through, as AWS
reaches Step Functions and Kinesis targets."""

import json

from tests.policy.servers import document
from tests.waiting import wait_for

TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "{}"}, "Action": "sts:AssumeRole"}],
}


def role(iam, name: str, service: str, *statements) -> str:
    trust = json.dumps(TRUST).replace("{}", service)
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    if statements:
        iam.put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=document(*statements))
    return arn


def test_rule_starts_an_execution_as_its_target_role(enforced):
    iam, sfn, events = enforced.client("iam"), enforced.client("stepfunctions"), enforced.client("events")
    machine_role = role(iam, "machine", "states.amazonaws.com")
    machine = sfn.create_state_machine(
        name="on-event",
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
        roleArn=machine_role,
    )["stateMachineArn"]
    invoker = role(
        iam,
        "rule-invoker",
        "events.amazonaws.com",
        {"Effect": "Allow", "Action": "states:StartExecution", "Resource": machine},
    )
    events.put_rule(Name="orders", EventPattern=json.dumps({"source": ["shop"]}))
    events.put_targets(Rule="orders", Targets=[{"Id": "machine", "Arn": machine, "RoleArn": invoker}])
    events.put_events(Entries=[{"Source": "shop", "DetailType": "Order", "Detail": json.dumps({"id": 7})}])
    executions = wait_for(lambda: sfn.list_executions(stateMachineArn=machine)["executions"])
    described = sfn.describe_execution(executionArn=executions[0]["executionArn"])
    assert json.loads(described["input"])["detail"] == {"id": 7}
