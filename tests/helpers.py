"""What many tests need, in one place: the error a call raised, the AWS CLI, the JS SDK's node.

with pytest.raises(ClientError) as raised:
    sqs.get_queue_url(QueueName="missing")
assert error_of(raised) == ("AWS.SimpleQueueService.NonExistentQueue", 400)
assert code_of(raised) == "AWS.SimpleQueueService.NonExistentQueue"

aws(overcast, "sqs", "create-queue", "--queue-name", "q")          # AWS CLI v1 (the venv's), JSON out
aws(overcast, "logs", "tail", "/g", cli=AWS_V2, output="text")     # AWS CLI v2 (/usr/bin/aws)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

AWS_V1 = str(Path(sys.executable).with_name("aws"))
AWS_V2 = "/usr/bin/aws"


def error_of(raised: Any) -> tuple[str, int]:
    """(code, HTTP status) of the botocore ClientError in a pytest.raises() context or the error itself."""
    error = getattr(raised, "value", raised)
    return error.response["Error"]["Code"], error.response["ResponseMetadata"]["HTTPStatusCode"]


def code_of(raised: Any) -> str:
    """The error code of the botocore ClientError in a pytest.raises() context or the error itself."""
    return error_of(raised)[0]


def message_of(raised: Any) -> str:
    error = getattr(raised, "value", raised)
    return error.response["Error"].get("Message", "")


def need(program: str) -> str:
    """The path of an external program the test drives, or skip the test (CI installs them all)."""
    found = program if os.path.isabs(program) and os.access(program, os.X_OK) else shutil.which(program)
    if not found:
        pytest.skip(f"{program} is not installed")
    return found


def aws(
    server: Any,
    *args: str,
    cli: str = AWS_V1,
    output: str = "json",
    region: str = "us-east-1",
    env: dict[str, str] | None = None,
    check: bool = True,
) -> Any:
    """Run the AWS CLI against `server` (anything with an `endpoint`); its parsed JSON output (or text for
    another `output`, or the CompletedProcess when check=False)."""
    done = subprocess.run(
        [need(cli), "--endpoint-url", server.endpoint, "--region", region, "--output", output, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "AWS_PAGER": "", **(env or {})},
    )
    if not check:
        return done
    assert done.returncode == 0, done.stderr
    if output != "json":
        return done.stdout
    return json.loads(done.stdout) if done.stdout.strip() else {}


def signed_headers(
    method: str,
    url: str,
    body: bytes,
    service: str,
    headers: dict[str, str] | None = None,
    region: str = "us-east-1",
) -> dict[str, str]:
    """Headers of a raw request signed as an SDK signs it (SigV4, test/test): for tests that speak the wire
    format by hand, since Overcast, like AWS, refuses unsigned requests to APIs that need a signature."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    SigV4Auth(Credentials("test", "test"), service, region).add_auth(request)
    return dict(request.headers.items())


def _ec2_like(client: Any, region: str | None = None) -> Any:
    """An EC2 client with the endpoint and credentials of `client` (any boto3 client of an Overcast server)."""
    import boto3

    credentials = client._request_signer._credentials.get_frozen_credentials()
    return boto3.client(
        "ec2",
        endpoint_url=client.meta.endpoint_url,
        region_name=region or client.meta.region_name,
        aws_access_key_id=credentials.access_key,
        aws_secret_access_key=credentials.secret_key,
        aws_session_token=credentials.token,
    )


def new_vpc(client: Any, region: str | None = None) -> str:
    """A new VPC of `client`'s account, in `region` (the client's by default)."""
    return _ec2_like(client, region).create_vpc(CidrBlock="10.98.0.0/16")["Vpc"]["VpcId"]


def shared_network(client: Any) -> tuple[str, list[str]]:
    """(VPC id, [subnet in us-east-1a, subnet in us-east-1b]) of the tests' network in the account and region
    of `client` (any boto3 client of an Overcast server): made on first use, found again afterwards (an account
    has at most 5 VPCs per region)."""
    ec2 = _ec2_like(client)
    named = [{"Name": "tag:Name", "Values": ["overcast-tests"]}]
    found = ec2.describe_vpcs(Filters=named)["Vpcs"]
    if found:
        vpc = found[0]["VpcId"]
        subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
        return vpc, [s["SubnetId"] for s in sorted(subnets, key=lambda s: s["AvailabilityZone"])]
    tags = [{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "overcast-tests"}]}]
    vpc = ec2.create_vpc(CidrBlock="10.99.0.0/16", TagSpecifications=tags)["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.99.{index}.0/24", AvailabilityZone=f"us-east-1{zone}")[
            "Subnet"
        ]["SubnetId"]
        for index, zone in enumerate("ab", 1)
    ]
    return vpc, subnets
