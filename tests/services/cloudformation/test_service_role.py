"""The notes' service-role story under --iam enforce: Paul may only use CloudFormation, yet his stack
creates a queue, because every resource call is made as the stack's service role."""

from __future__ import annotations

import json

from tests.policy.servers import client_as, document, user_with_key
from tests.services.cloudformation.helpers import body, events, settled

TEMPLATE = {"Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "pauls-queue"}}}}


def test_resources_are_made_as_the_service_role(enforced):
    iam = enforced.client("iam")
    cloudformation_only = iam.create_policy(
        PolicyName="cloudformation-only",
        PolicyDocument=document(
            {"Effect": "Allow", "Action": ["cloudformation:*", "iam:PassRole"], "Resource": "*"}
        ),
    )["Policy"]["Arn"]
    paul = client_as(enforced, "cloudformation", user_with_key(enforced, "paul", cloudformation_only))
    role = iam.create_role(
        RoleName="CloudFormationServiceRole",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudformation.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )["Role"]["Arn"]
    iam.put_role_policy(
        RoleName="CloudFormationServiceRole",
        PolicyName="sqs",
        PolicyDocument=document({"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}),
    )

    # Without the role, Paul's own permissions make the calls: SQS refuses him.
    paul.create_stack(StackName="without-role", TemplateBody=body(TEMPLATE))
    assert settled(paul, "without-role")["StackStatus"] == "ROLLBACK_COMPLETE"
    reason = [e for e in events(paul, "without-role") if e["ResourceStatus"] == "CREATE_FAILED"][0][
        "ResourceStatusReason"
    ]
    assert "is not authorized to perform: sqs:CreateQueue" in reason and "user/paul" in reason

    paul.create_stack(StackName="with-role", TemplateBody=body(TEMPLATE), RoleARN=role)
    stack = settled(paul, "with-role")
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert stack["RoleARN"] == role
    assert enforced.client("sqs").get_queue_url(QueueName="pauls-queue")
    paul.delete_stack(StackName="with-role")
    assert settled(paul, stack["StackId"])["StackStatus"] == "DELETE_COMPLETE"
