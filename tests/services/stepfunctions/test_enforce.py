"""Under `--iam enforce`: the role must trust states.amazonaws.com, and every task runs as that role, so its
policies decide what the state machine may call."""

import json

from tests.policy.servers import document
from tests.services.stepfunctions.conftest import TRUST, failure, finished, history, types


def test_the_role_must_trust_step_functions(enforced):
    iam, sfn = enforced.client("iam"), enforced.client("stepfunctions")
    lambda_trust = TRUST.replace("states.amazonaws.com", "lambda.amazonaws.com")
    wrong = iam.create_role(RoleName="lambda-only", AssumeRolePolicyDocument=lambda_trust)["Role"]["Arn"]
    definition = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}})
    error = failure(lambda: sfn.create_state_machine(name="m", definition=definition, roleArn=wrong))
    assert error["Code"] == "AccessDeniedException"
    assert error["Message"] == (
        "Neither the global service principal states.amazonaws.com, nor the regional one is authorized to assume "
        "the provided role."
    )
    missing = "arn:aws:iam::000000000000:role/not-there"
    assert failure(lambda: sfn.create_state_machine(name="m", definition=definition, roleArn=missing))[
        "Code"
    ] == ("AccessDeniedException")


def test_tasks_run_as_the_state_machines_role(enforced):
    iam, sfn, sqs = enforced.client("iam"), enforced.client("stepfunctions"), enforced.client("sqs")
    queue = sqs.create_queue(QueueName="work")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    role = iam.create_role(RoleName="sender", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    definition = json.dumps(
        {
            "StartAt": "Send",
            "States": {
                "Send": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::sqs:sendMessage",
                    "Parameters": {"QueueUrl": queue, "MessageBody.$": "$.text"},
                    "End": True,
                }
            },
        }
    )
    arn = sfn.create_state_machine(name="sender", definition=definition, roleArn=role)["stateMachineArn"]

    denied = sfn.start_execution(stateMachineArn=arn, input='{"text": "hi"}')["executionArn"]
    done = finished(sfn, denied)
    assert done["status"] == "FAILED" and done["error"].startswith("SQS.")
    assert "is not authorized to perform: sqs:SendMessage" in done["cause"]
    assert "assumed-role/sender/" in done["cause"]  # the caller was the role's session
    assert types(history(sfn, denied))[-2:] == ["TaskFailed", "ExecutionFailed"]

    iam.put_role_policy(
        RoleName="sender",
        PolicyName="send",
        PolicyDocument=document({"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": queue_arn}),
    )
    allowed = sfn.start_execution(stateMachineArn=arn, input='{"text": "hello"}')["executionArn"]
    assert finished(sfn, allowed)["status"] == "SUCCEEDED"
    assert sqs.receive_message(QueueUrl=queue)["Messages"][0]["Body"] == "hello"


def test_callers_need_states_permissions_on_the_machine(enforced):
    from tests.policy.servers import client_as, user_with_key

    iam, sfn = enforced.client("iam"), enforced.client("stepfunctions")
    role = iam.create_role(RoleName="runner", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    definition = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}})
    allowed = sfn.create_state_machine(name="allowed", definition=definition, roleArn=role)["stateMachineArn"]
    other = sfn.create_state_machine(name="other", definition=definition, roleArn=role)["stateMachineArn"]
    policy = iam.create_policy(
        PolicyName="start-one",
        PolicyDocument=document({"Effect": "Allow", "Action": "states:StartExecution", "Resource": allowed}),
    )["Policy"]["Arn"]
    key = user_with_key(enforced, "operator", policy)
    operator = client_as(enforced, "stepfunctions", key)
    execution = operator.start_execution(stateMachineArn=allowed)["executionArn"]
    assert finished(sfn, execution)["status"] == "SUCCEEDED"
    denied = failure(lambda: operator.start_execution(stateMachineArn=other))
    assert denied["Code"] == "AccessDeniedException"
    assert "is not authorized to perform: states:StartExecution on resource: " + other in denied["Message"]


def test_task_credentials_run_the_call_as_another_role(enforced):
    iam, sfn, sqs = enforced.client("iam"), enforced.client("stepfunctions"), enforced.client("sqs")
    queue = sqs.create_queue(QueueName="elsewhere")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    machine_role = iam.create_role(RoleName="hopper", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    trust_hopper = document(
        {"Effect": "Allow", "Principal": {"AWS": machine_role}, "Action": "sts:AssumeRole"}
    )
    target = iam.create_role(RoleName="target", AssumeRolePolicyDocument=trust_hopper)["Role"]["Arn"]
    iam.put_role_policy(
        RoleName="hopper",
        PolicyName="hop",
        PolicyDocument=document({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": target}),
    )
    iam.put_role_policy(
        RoleName="target",
        PolicyName="send",
        PolicyDocument=document({"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": queue_arn}),
    )
    definition = json.dumps(
        {
            "StartAt": "Send",
            "States": {
                "Send": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::sqs:sendMessage",
                    "Credentials": {"RoleArn.$": "$.role"},
                    "Parameters": {"QueueUrl": queue, "MessageBody": "via target"},
                    "End": True,
                }
            },
        }
    )
    arn = sfn.create_state_machine(name="hop", definition=definition, roleArn=machine_role)["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"role": target}))["executionArn"]
    assert finished(sfn, execution)["status"] == "SUCCEEDED"
    scheduled = [e for e in history(sfn, execution) if e["type"] == "TaskScheduled"][0]
    assert scheduled["taskScheduledEventDetails"]["taskCredentials"] == {"roleArn": target}
    assert sqs.receive_message(QueueUrl=queue)["Messages"][0]["Body"] == "via target"
    direct = json.loads(definition)
    del direct["States"]["Send"]["Credentials"]
    plain = sfn.create_state_machine(name="nohop", definition=json.dumps(direct), roleArn=machine_role)
    done = finished(sfn, sfn.start_execution(stateMachineArn=plain["stateMachineArn"])["executionArn"])
    assert done["status"] == "FAILED"  # the machine's own role may not send
