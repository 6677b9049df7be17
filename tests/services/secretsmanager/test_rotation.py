"""Rotation by a real Python rotation function, created through the Lambda API: its four steps run, the labels
move as AWS moves them, on RotateSecret and on the schedule (rate() on the virtual clock)."""

import io
import json
import zipfile

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of
from tests.waiting import wait_for

# The shape of AWS's rotation template (SecretsManagerRotationTemplate): each step checks the token's stage,
# createSecret puts a new AWSPENDING value, finishSecret moves AWSCURRENT. Each step also records that it ran.
ROTATION_FUNCTION = """
import json
import boto3

client = boto3.client("secretsmanager")


def handler(event, context):
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    versions = client.describe_secret(SecretId=arn)["VersionIdsToStages"]
    if token not in versions:
        raise ValueError("Secret version %s has no stage for rotation of secret %s." % (token, arn))
    if "AWSCURRENT" in versions[token]:
        return
    if "AWSPENDING" not in versions[token]:
        raise ValueError("Secret version %s not set as AWSPENDING for rotation of secret %s." % (token, arn))
    if step == "createSecret":
        current = json.loads(client.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"])
        try:
            client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
        except client.exceptions.ResourceNotFoundException:
            current["password"] = client.get_random_password(ExcludeCharacters="/@\\"'")["RandomPassword"]
            current["generation"] = current.get("generation", 0) + 1
            client.put_secret_value(
                SecretId=arn, ClientRequestToken=token, SecretString=json.dumps(current), VersionStages=["AWSPENDING"]
            )
    elif step == "finishSecret":
        current = next(v for v, stages in versions.items() if "AWSCURRENT" in stages)
        client.update_secret_version_stage(
            SecretId=arn, VersionStage="AWSCURRENT", MoveToVersionId=token, RemoveFromVersionId=current
        )
    client.tag_resource(SecretId=arn, Tags=[{"Key": "ran-" + step, "Value": token}])
"""


def _package() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("rotate.py", ROTATION_FUNCTION)
    return buffer.getvalue()


@pytest.fixture
def rotation(overcast):
    lam = overcast.client("lambda")
    return lam.create_function(
        FunctionName="rotate-db",
        Runtime="python3.11",
        Role="arn:aws:iam::000000000000:role/rotation",
        Handler="rotate.handler",
        Code={"ZipFile": _package()},
        Timeout=60,
    )["FunctionArn"]


def _rotated(sm, name, count):
    def done():
        described = sm.describe_secret(SecretId=name)
        current = json.loads(sm.get_secret_value(SecretId=name)["SecretString"])
        finished = any(tag["Key"] == "ran-finishSecret" for tag in described.get("Tags", []))
        return (
            described
            if current.get("generation") == count and "LastRotatedDate" in described and finished
            else None
        )

    return wait_for(done, timeout=90, interval=0.2)


def test_rotate_secret_runs_the_four_steps_and_moves_the_labels(overcast, rotation):
    sm = overcast.client("secretsmanager")
    first = sm.create_secret(Name="db", SecretString=json.dumps({"username": "app", "password": "initial"}))
    started = sm.rotate_secret(
        SecretId="db", RotationLambdaARN=rotation, RotationRules={"AutomaticallyAfterDays": 30}
    )
    token = started["VersionId"]
    assert token != first["VersionId"]
    described = _rotated(sm, "db", 1)
    tags = {t["Key"]: t["Value"] for t in described["Tags"]}
    assert {f"ran-{step}" for step in ("createSecret", "setSecret", "testSecret", "finishSecret")} <= set(
        tags
    )
    assert set(tags.values()) == {token}
    assert described["VersionIdsToStages"] == {token: ["AWSCURRENT"], first["VersionId"]: ["AWSPREVIOUS"]}
    assert described["RotationEnabled"] is True and described["RotationLambdaARN"] == rotation
    assert described["RotationRules"]["AutomaticallyAfterDays"] == 30
    assert "NextRotationDate" in described
    current = json.loads(sm.get_secret_value(SecretId="db")["SecretString"])
    assert current["username"] == "app" and current["password"] != "initial"
    previous = json.loads(sm.get_secret_value(SecretId="db", VersionStage="AWSPREVIOUS")["SecretString"])
    assert previous["password"] == "initial"


def test_scheduled_rotation_on_the_clock(overcast, rotation):
    sm = overcast.client("secretsmanager")
    sm.create_secret(Name="scheduled", SecretString=json.dumps({"password": "p"}))
    sm.rotate_secret(
        SecretId="scheduled",
        RotationLambdaARN=rotation,
        RotationRules={"ScheduleExpression": "rate(10 days)"},
        RotateImmediately=False,
    )
    described = sm.describe_secret(SecretId="scheduled")
    assert described["RotationEnabled"] is True and "LastRotatedDate" not in described
    overcast.advance_clock("11d")
    _rotated(sm, "scheduled", 1)


def test_rotation_errors(overcast, rotation):
    sm = overcast.client("secretsmanager")
    sm.create_secret(Name="plain", SecretString="{}")
    with pytest.raises(ClientError) as raised:
        sm.rotate_secret(SecretId="plain")
    assert error_of(raised)[0] == "InvalidRequestException"
    with pytest.raises(ClientError) as raised:
        sm.rotate_secret(
            SecretId="plain",
            RotationLambdaARN=rotation,
            RotationRules={"ScheduleExpression": "rate(1 hours)"},
        )
    assert error_of(raised)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as raised:
        sm.rotate_secret(
            SecretId="plain",
            RotationLambdaARN=rotation,
            RotationRules={"ScheduleExpression": "cron(0 99 * * ? *)"},
        )
    assert error_of(raised)[0] == "InvalidParameterException"


def test_cron_schedules_compute_the_next_rotation():
    from datetime import UTC, datetime

    from overcast.services.secretsmanager.schedules import next_rotation

    start = datetime(2026, 1, 1, 12, 0, tzinfo=UTC).timestamp()
    at = next_rotation({"ScheduleExpression": "cron(0 16 1,15 * ? *)"}, start)
    assert datetime.fromtimestamp(at, UTC) == datetime(2026, 1, 1, 16, 0, tzinfo=UTC)
    at = next_rotation({"ScheduleExpression": "cron(0 8 ? * MON *)"}, start)  # 2026-01-05 is a Monday
    assert datetime.fromtimestamp(at, UTC) == datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    assert next_rotation({"ScheduleExpression": "rate(4 hours)"}, start) == start + 4 * 3600


def test_a_rotation_schedule_survives_a_restart(tmp_path):
    from overcast.config import Config
    from overcast.testing import OvercastServer

    with OvercastServer(Config(data_dir=tmp_path, log_level="warning")) as server:
        function = server.client("lambda").create_function(
            FunctionName="rotate-later",
            Runtime="python3.11",
            Role="arn:aws:iam::000000000000:role/rotation",
            Handler="rotate.handler",
            Code={"ZipFile": _package()},
            Timeout=60,
        )["FunctionArn"]
        sm = server.client("secretsmanager")
        sm.create_secret(Name="durable", SecretString=json.dumps({"password": "p"}))
        sm.rotate_secret(
            SecretId="durable",
            RotationLambdaARN=function,
            RotationRules={"AutomaticallyAfterDays": 7},
            RotateImmediately=False,
        )
    with OvercastServer(Config(data_dir=tmp_path, log_level="warning")) as server:
        server.advance_clock("8d")
        _rotated(server.client("secretsmanager"), "durable", 1)
