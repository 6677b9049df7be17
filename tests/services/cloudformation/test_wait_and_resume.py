"""Wait conditions (signals PUT to the handle's presigned URL, timeouts on the virtual clock), and a stack
operation that resumes after the server is killed."""

from __future__ import annotations

import json
import signal
import urllib.request

from tests.server_process import ServerProcess
from tests.services.cloudformation.helpers import body, events, outputs, settled
from tests.waiting import wait_for

WAITING = {
    "Resources": {
        "First": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "first-queue"}},
        "Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle", "DependsOn": "First"},
        "Ready": {
            "Type": "AWS::CloudFormation::WaitCondition",
            "Properties": {"Handle": {"Ref": "Handle"}, "Timeout": 600, "Count": 1},
        },
        "Second": {
            "Type": "AWS::SQS::Queue",
            "DependsOn": "Ready",
            "Properties": {"QueueName": "second-queue"},
        },
    },
    "Outputs": {"Handle": {"Value": {"Ref": "Handle"}}, "Data": {"Value": {"Fn::GetAtt": ["Ready", "Data"]}}},
}


def signal_handle(url: str, unique: str, status: str = "SUCCESS", data: str = "done") -> None:
    document = json.dumps(
        {"Status": status, "Reason": "from the test", "UniqueId": unique, "Data": data}
    ).encode()
    request = urllib.request.Request(url, data=document, method="PUT", headers={"Content-Type": ""})
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200


def handle_url(cfn, stack: str) -> str:
    def find():
        for resource in cfn.list_stack_resources(StackName=stack)["StackResourceSummaries"]:
            if resource["LogicalResourceId"] == "Handle" and resource["ResourceStatus"] == "CREATE_COMPLETE":
                return resource["PhysicalResourceId"]
        return None

    return wait_for(find, timeout=30)


def test_a_wait_condition_waits_for_its_signal(overcast):
    cfn = overcast.client("cloudformation")
    cfn.create_stack(StackName="waiting", TemplateBody=body(WAITING))
    url = handle_url(cfn, "waiting")
    assert cfn.describe_stacks(StackName="waiting")["Stacks"][0]["StackStatus"] == "CREATE_IN_PROGRESS"
    signal_handle(url, "instance-1", data="hello")
    stack = settled(cfn, "waiting")
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert json.loads(outputs(stack)["Data"]) == {"instance-1": "hello"}


def test_a_wait_condition_times_out_on_the_clock(overcast):
    cfn = overcast.client("cloudformation")
    cfn.create_stack(StackName="late", TemplateBody=body(WAITING))
    handle_url(cfn, "late")
    overcast.advance_clock("601s")
    stack = settled(cfn, "late")
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    reasons = [
        e.get("ResourceStatusReason") for e in events(cfn, "late") if e["ResourceStatus"] == "CREATE_FAILED"
    ]
    assert reasons == ["WaitCondition timed out. Received 0 conditions when expecting 1"]


def test_a_failure_signal_fails_the_wait_condition(overcast):
    cfn = overcast.client("cloudformation")
    cfn.create_stack(StackName="refused", TemplateBody=body(WAITING))
    signal_handle(handle_url(cfn, "refused"), "instance-1", status="FAILURE")
    stack = settled(cfn, "refused")
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    reasons = [
        e.get("ResourceStatusReason")
        for e in events(cfn, "refused")
        if e["ResourceStatus"] == "CREATE_FAILED"
    ]
    assert reasons == ["WaitCondition received failed message: 'from the test' for uniqueId: instance-1"]


def test_a_stack_operation_goes_on_after_kill_9(tmp_path):
    server = ServerProcess(tmp_path)
    try:
        cfn = server.client("cloudformation")
        cfn.create_stack(StackName="durable", TemplateBody=body(WAITING))
        url = handle_url(cfn, "durable")
    finally:
        server.stop(signal.SIGKILL)
    server = ServerProcess(tmp_path, port=server.port)  # the handle's URL names the port
    try:
        cfn, sqs = server.client("cloudformation"), server.client("sqs")
        assert cfn.describe_stacks(StackName="durable")["Stacks"][0]["StackStatus"] == "CREATE_IN_PROGRESS"
        signal_handle(url, "after-restart")
        stack = settled(cfn, "durable")
        assert stack["StackStatus"] == "CREATE_COMPLETE"
        names = sorted(u.rsplit("/", 1)[-1] for u in sqs.list_queues()["QueueUrls"])
        assert names == ["first-queue", "second-queue"]
        first = [e["ResourceStatus"] for e in events(cfn, "durable") if e["LogicalResourceId"] == "First"]
        assert first == ["CREATE_IN_PROGRESS", "CREATE_IN_PROGRESS", "CREATE_COMPLETE"]  # made once
    finally:
        server.stop()


def test_cancel_update_stack_rolls_the_update_back(overcast):
    cfn, sqs = overcast.client("cloudformation"), overcast.client("sqs")
    base = {"Resources": {"First": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "first-queue"}}}}
    cfn.create_stack(StackName="cancel", TemplateBody=body(base))
    assert settled(cfn, "cancel")["StackStatus"] == "CREATE_COMPLETE"
    cfn.update_stack(StackName="cancel", TemplateBody=body(WAITING))
    handle_url(cfn, "cancel")
    cfn.cancel_update_stack(StackName="cancel")
    stack = settled(cfn, "cancel")
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    reasons = [
        e.get("ResourceStatusReason")
        for e in events(cfn, "cancel")
        if e["ResourceStatus"] == "UPDATE_ROLLBACK_IN_PROGRESS"
    ]
    assert reasons == ["Stack update cancelled"]
    assert [u.rsplit("/", 1)[-1] for u in sqs.list_queues()["QueueUrls"]] == ["first-queue"]
    assert {
        r["LogicalResourceId"] for r in cfn.list_stack_resources(StackName="cancel")["StackResourceSummaries"]
    } == {"First"}


def test_rollback_stack_after_a_kept_failure(overcast):
    cfn, s3 = overcast.client("cloudformation"), overcast.client("s3")
    template = {
        "Resources": {
            "Good": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "kept-good-bucket"}},
            "Bad": {
                "Type": "AWS::S3::Bucket",
                "DependsOn": "Good",
                "Properties": {"BucketName": "Bad_Bucket"},
            },
        }
    }
    cfn.create_stack(StackName="kept", TemplateBody=body(template), DisableRollback=True)
    assert settled(cfn, "kept")["StackStatus"] == "CREATE_FAILED"
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["kept-good-bucket"]
    cfn.rollback_stack(StackName="kept")
    assert settled(cfn, "kept")["StackStatus"] == "ROLLBACK_COMPLETE"
    assert s3.list_buckets()["Buckets"] == []


def test_signal_resource_completes_a_creation_policy(overcast):
    cfn = overcast.client("cloudformation")
    template = {
        "Resources": {
            "Ready": {
                "Type": "AWS::CloudFormation::WaitCondition",
                "CreationPolicy": {"ResourceSignal": {"Count": 2, "Timeout": "PT10M"}},
            },
        }
    }
    cfn.create_stack(StackName="signals", TemplateBody=body(template))

    def waiting():
        rows = cfn.list_stack_resources(StackName="signals")["StackResourceSummaries"]
        return rows and rows[0]["ResourceStatus"] == "CREATE_IN_PROGRESS"

    wait_for(waiting)
    for unique in ("i-1", "i-2"):
        cfn.signal_resource(StackName="signals", LogicalResourceId="Ready", UniqueId=unique, Status="SUCCESS")
    assert settled(cfn, "signals")["StackStatus"] == "CREATE_COMPLETE"


def test_a_creation_past_its_timeout_rolls_back(overcast):
    cfn = overcast.client("cloudformation")
    cfn.create_stack(StackName="slow", TemplateBody=body(WAITING), TimeoutInMinutes=5)
    handle_url(cfn, "slow")
    overcast.advance_clock("6m")
    stack = settled(cfn, "slow")
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    reasons = [
        e.get("ResourceStatusReason")
        for e in events(cfn, "slow")
        if e["ResourceStatus"] == "ROLLBACK_IN_PROGRESS"
    ]
    assert reasons == ["Stack creation time has exceeded the specified timeout. Rollback requested by user."]


def test_a_custom_named_resource_cannot_be_replaced(overcast):
    cfn = overcast.client("cloudformation")
    named = {"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "fixed-name"}}}}
    cfn.create_stack(StackName="named", TemplateBody=body(named))
    assert settled(cfn, "named")["StackStatus"] == "CREATE_COMPLETE"
    named["Resources"]["Q"]["Properties"]["FifoQueue"] = True
    cfn.update_stack(StackName="named", TemplateBody=body(named))
    assert settled(cfn, "named")["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    failed = [
        e["ResourceStatusReason"] for e in events(cfn, "named") if e["ResourceStatus"] == "UPDATE_FAILED"
    ]
    assert failed == [
        "CloudFormation cannot update a stack when a custom-named resource requires replacing. Rename fixed-name and update the stack again."
    ]
