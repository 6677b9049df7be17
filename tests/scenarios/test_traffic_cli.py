"""The notes' traffic labs driven with the AWS CLI v2, curl and dig, as a person follows them: an ALB in two
AZs alternating between two pages, a fixed-response rule for /error, then DNS names in a hosted zone pointing
at it (an alias at the apex, a weighted pair), answered by the DNS server."""

from __future__ import annotations

import json
import subprocess

import pytest

from overcast.config import Config
from overcast.testing import OvercastServer
from tests.helpers import AWS_V2, aws, need
from tests.services.elbv2.conftest import Backend
from tests.services.route53.conftest import free_port

KEYS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}


@pytest.fixture(scope="module")
def lab():
    with OvercastServer(Config(ephemeral=True, log_level="warning", dns_port=free_port())) as server:
        yield server


@pytest.mark.slow
def test_the_alb_lab_with_the_cli_curl_and_dig(lab, tmp_path):
    curl, dig = need("curl"), need("dig")
    one, two = Backend("page-1"), Backend("page-2")
    try:
        vpc = aws(lab, "ec2", "create-vpc", "--cidr-block", "10.0.0.0/16", cli=AWS_V2, env=KEYS)["Vpc"][
            "VpcId"
        ]
        subnets = [aws(lab, "ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", f"10.0.{index}.0/24",
                       "--availability-zone", f"us-east-1{zone}", cli=AWS_V2, env=KEYS)["Subnet"]["SubnetId"]
                   for index, zone in enumerate("ab", 1)]  # fmt: skip
        lb = aws(lab, "elbv2", "create-load-balancer", "--name", "cli-alb", "--subnets", *subnets,
                 cli=AWS_V2, env=KEYS)["LoadBalancers"][0]  # fmt: skip
        tg = aws(lab, "elbv2", "create-target-group", "--name", "pages", "--protocol", "HTTP", "--port", "80",
                 "--vpc-id", lb["VpcId"], "--target-type", "ip", cli=AWS_V2, env=KEYS)["TargetGroups"][0]  # fmt: skip
        aws(lab, "elbv2", "register-targets", "--target-group-arn", tg["TargetGroupArn"], "--targets",
            f"Id=127.0.0.1,Port={one.port}", f"Id=127.0.0.1,Port={two.port}", cli=AWS_V2, env=KEYS)  # fmt: skip
        listener = aws(lab, "elbv2", "create-listener", "--load-balancer-arn", lb["LoadBalancerArn"], "--protocol", "HTTP",
                       "--port", "80", "--default-actions", f"Type=forward,TargetGroupArn={tg['TargetGroupArn']}",
                       cli=AWS_V2, env=KEYS)["Listeners"][0]  # fmt: skip
        aws(lab, "elbv2", "create-rule", "--listener-arn", listener["ListenerArn"], "--priority", "5", "--conditions",
            "Field=path-pattern,Values=/error", "--actions",
            "Type=fixed-response,FixedResponseConfig={StatusCode=404,ContentType=text/plain,MessageBody=Page not found}",
            cli=AWS_V2, env=KEYS)  # fmt: skip
        port = lb["DNSName"].rsplit(":", 1)[1]
        pages = [json.loads(subprocess.run([curl, "-s", f"http://127.0.0.1:{port}/"], capture_output=True, text=True,
                                           timeout=30).stdout)["name"] for _ in range(4)]  # fmt: skip
        assert sorted(pages) == ["page-1", "page-1", "page-2", "page-2"] and pages[0] != pages[1]
        error = subprocess.run([curl, "-s", "-w", " %{http_code}", f"http://127.0.0.1:{port}/error"], capture_output=True,
                               text=True, timeout=30)  # fmt: skip
        assert error.stdout == "Page not found 404"

        zone = aws(lab, "route53", "create-hosted-zone", "--name", "example.com", "--caller-reference", "cli",
                   cli=AWS_V2, env=KEYS)["HostedZone"]["Id"]  # fmt: skip
        batch = {"Changes": [
            {"Action": "CREATE", "ResourceRecordSet": {"Name": "example.com", "Type": "A", "AliasTarget": {
                "HostedZoneId": lb["CanonicalHostedZoneId"], "DNSName": lb["DNSName"], "EvaluateTargetHealth": True}}},
            {"Action": "CREATE", "ResourceRecordSet": {"Name": "w.example.com", "Type": "A", "SetIdentifier": "all",
                                                       "Weight": 1, "TTL": 60, "ResourceRecords": [{"Value": "192.0.2.1"}]}},
            {"Action": "CREATE", "ResourceRecordSet": {"Name": "w.example.com", "Type": "A", "SetIdentifier": "none",
                                                       "Weight": 0, "TTL": 60, "ResourceRecords": [{"Value": "192.0.2.2"}]}},
        ]}  # fmt: skip
        (tmp_path / "batch.json").write_text(json.dumps(batch))
        change = aws(lab, "route53", "change-resource-record-sets", "--hosted-zone-id", zone, "--change-batch",
                     f"file://{tmp_path / 'batch.json'}", cli=AWS_V2, env=KEYS)["ChangeInfo"]  # fmt: skip
        assert change["Status"] == "PENDING"

        def dig_short(name: str) -> str:
            return subprocess.run([dig, "@127.0.0.1", "-p", str(lab.config.dns_port), name, "A", "+short", "+time=3", "+tries=1"],
                                  capture_output=True, text=True, timeout=30).stdout.strip()  # fmt: skip

        assert dig_short("example.com") == "127.0.0.1"
        assert dig_short("w.example.com") == "192.0.2.1"
        assert dig_short(lb["DNSName"].rsplit(":", 1)[0]) == "127.0.0.1"
    finally:
        one.stop()
        two.stop()
