"""Cloud Control API: resources created, read, patched, listed and deleted through CloudFormation's handlers."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of
from tests.waiting import wait_for


def finished(cc, token: str) -> dict:
    def check():
        event = cc.get_resource_request_status(RequestToken=token)["ProgressEvent"]
        return event if event["OperationStatus"] in ("SUCCESS", "FAILED") else None

    return wait_for(check, timeout=30)


def test_a_queue_through_cloud_control(overcast):
    cc, sqs = overcast.client("cloudcontrol"), overcast.client("sqs")
    started = cc.create_resource(
        TypeName="AWS::SQS::Queue", DesiredState=json.dumps({"QueueName": "cc-queue", "DelaySeconds": 5})
    )["ProgressEvent"]
    assert started["Operation"] == "CREATE"
    assert started["OperationStatus"] == "IN_PROGRESS"
    done = finished(cc, started["RequestToken"])
    assert done["OperationStatus"] == "SUCCESS", done.get("StatusMessage")
    url = done["Identifier"]
    assert url.endswith("/000000000000/cc-queue")
    assert sqs.get_queue_url(QueueName="cc-queue")["QueueUrl"].endswith("/000000000000/cc-queue")

    described = cc.get_resource(TypeName="AWS::SQS::Queue", Identifier=url)["ResourceDescription"]
    properties = json.loads(described["Properties"])
    assert (
        properties["QueueName"] == "cc-queue"
        and properties["DelaySeconds"] == "5"
        and properties["QueueUrl"] == url
    )

    patch = [{"op": "replace", "path": "/DelaySeconds", "value": 9}]
    done = finished(
        cc,
        cc.update_resource(TypeName="AWS::SQS::Queue", Identifier=url, PatchDocument=json.dumps(patch))[
            "ProgressEvent"
        ]["RequestToken"],
    )
    assert done["OperationStatus"] == "SUCCESS", done.get("StatusMessage")
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["DelaySeconds"])["Attributes"] == {
        "DelaySeconds": "9"
    }
    with pytest.raises(ClientError) as raised:
        cc.update_resource(
            TypeName="AWS::SQS::Queue",
            Identifier=url,
            PatchDocument=json.dumps([{"op": "replace", "path": "/QueueName", "value": "x"}]),
        )
    assert error_of(raised) == ("NotUpdatableException", 400)

    listed = cc.list_resources(TypeName="AWS::SQS::Queue")["ResourceDescriptions"]
    assert [item["Identifier"].rsplit("/", 1)[-1] for item in listed] == ["cc-queue"]

    done = finished(
        cc, cc.delete_resource(TypeName="AWS::SQS::Queue", Identifier=url)["ProgressEvent"]["RequestToken"]
    )
    assert done["OperationStatus"] == "SUCCESS", done.get("StatusMessage")
    assert "QueueUrls" not in sqs.list_queues()
    done = finished(
        cc, cc.delete_resource(TypeName="AWS::SQS::Queue", Identifier=url)["ProgressEvent"]["RequestToken"]
    )
    assert (done["OperationStatus"], done["ErrorCode"]) == ("FAILED", "NotFound")
    operations = [s["Operation"] for s in cc.list_resource_requests()["ResourceRequestStatusSummaries"]]
    assert sorted(operations) == ["CREATE", "DELETE", "DELETE", "UPDATE"]


def test_unknown_types_and_failures(overcast):
    cc = overcast.client("cloudcontrol")
    with pytest.raises(ClientError) as raised:
        cc.create_resource(TypeName="AWS::Nope::Thing", DesiredState="{}")
    assert error_of(raised) == ("TypeNotFoundException", 400)
    started = cc.create_resource(
        TypeName="AWS::S3::Bucket", DesiredState=json.dumps({"BucketName": "Not_Valid"})
    )["ProgressEvent"]
    done = finished(cc, started["RequestToken"])
    assert done["OperationStatus"] == "FAILED"
    assert done["ErrorCode"] == "InvalidRequest"
    assert "The specified bucket is not valid." in done["StatusMessage"]


def test_requests_made_as_a_role(overcast):
    cc, iam = overcast.client("cloudcontrol"), overcast.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    role = iam.create_role(RoleName="not-for-cloudformation", AssumeRolePolicyDocument=json.dumps(trust))[
        "Role"
    ]["Arn"]
    with pytest.raises(ClientError) as raised:
        cc.create_resource(TypeName="AWS::SQS::Queue", DesiredState="{}", RoleArn=role)
    assert error_of(raised) == ("AccessDenied", 403)
    trust["Statement"][0]["Principal"] = {"Service": "cloudformation.amazonaws.com"}
    iam.update_assume_role_policy(RoleName="not-for-cloudformation", PolicyDocument=json.dumps(trust))
    done = finished(
        cc,
        cc.create_resource(
            TypeName="AWS::SQS::Queue", DesiredState=json.dumps({"QueueName": "by-role"}), RoleArn=role
        )["ProgressEvent"]["RequestToken"],
    )
    assert done["OperationStatus"] == "SUCCESS", done.get("StatusMessage")
