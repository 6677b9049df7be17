"""Under --iam enforce: ELBv2, ACM and Route 53 calls need their own IAM actions, on the resource ARNs AWS
authorizes them on; and an ALB's access logs reach S3 in AWS's format."""

from __future__ import annotations

import gzip
import json

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of, message_of
from tests.policy.servers import client_as, document, user_with_key
from tests.services.elbv2.conftest import alb_with_targets, get, port_of
from tests.waiting import wait_for


def _client(enforced, service: str, name: str, *actions: str):
    credentials = user_with_key(enforced, name)
    enforced.client("iam").put_user_policy(
        UserName=name,
        PolicyName="p",
        PolicyDocument=document({"Effect": "Allow", "Action": list(actions), "Resource": "*"}),
    )
    return client_as(enforced, service, credentials)


def test_each_service_needs_its_own_actions(enforced):
    elb = _client(enforced, "elbv2", "reader", "elasticloadbalancing:Describe*")
    assert elb.describe_load_balancers()["LoadBalancers"] == []
    with pytest.raises(ClientError) as raised:
        elb.create_load_balancer(Name="denied", Subnets=["subnet-1a", "subnet-1b"])
    assert error_of(raised) == ("AccessDenied", 403)
    assert "elasticloadbalancing:CreateLoadBalancer" in message_of(raised)
    acm = _client(enforced, "acm", "certs", "acm:RequestCertificate")
    arn = acm.request_certificate(DomainName="a.example.com")["CertificateArn"]
    with pytest.raises(ClientError) as raised:
        acm.describe_certificate(CertificateArn=arn)
    assert error_of(raised)[0] == "AccessDeniedException"
    assert f"acm:DescribeCertificate on resource: {arn}" in message_of(raised)
    r53 = _client(enforced, "route53", "dns", "route53:CreateHostedZone")
    zone = r53.create_hosted_zone(Name="example.com", CallerReference="z")["HostedZone"]["Id"]
    with pytest.raises(ClientError) as raised:
        r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [{"Action": "CREATE", "ResourceRecordSet": {
            "Name": "www.example.com", "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": "192.0.2.1"}]}}]})  # fmt: skip
    assert error_of(raised) == ("AccessDenied", 403)
    assert (
        f"route53:ChangeResourceRecordSets on resource: arn:aws:route53:::hostedzone/{zone.rsplit('/', 1)[1]}"
        in message_of(raised)
    )


@pytest.fixture(params=["as started", "after the clock went back"])
def clock_history(request, overcast, elb):
    """Access logs run on a schedule kept in memory: it must survive `overcast reset`, which sets the clock back
    to real time after a test moved it days ahead."""
    if request.param != "as started":
        elb.describe_load_balancers()  # ELB running, its schedule made at the moved clock
        overcast.advance_clock("2d")
        elb.describe_load_balancers()
        overcast.reset()
    return request.param


def test_access_logs_are_delivered_to_s3_in_aws_format(overcast, elb, backends, clock_history):
    web = backends("web")
    s3 = overcast.client("s3")
    s3.create_bucket(Bucket="alb-logs")
    lb, _, _ = alb_with_targets(elb, [web.port])
    elb.modify_load_balancer_attributes(LoadBalancerArn=lb["LoadBalancerArn"], Attributes=[
        {"Key": "access_logs.s3.enabled", "Value": "true"}, {"Key": "access_logs.s3.bucket", "Value": "alb-logs"},
        {"Key": "access_logs.s3.prefix", "Value": "web"}])  # fmt: skip
    for path in ("/one", "/two?x=1"):
        assert get(f"http://127.0.0.1:{port_of(lb)}{path}", headers={"User-Agent": "curl/8.0"})[0] == 200

    def delivered():
        overcast.advance_clock(300)
        return s3.list_objects_v2(Bucket="alb-logs").get("Contents")

    objects = wait_for(delivered)
    key = objects[0]["Key"]
    assert key.startswith("web/AWSLogs/000000000000/elasticloadbalancing/us-east-1/")
    assert "_elasticloadbalancing_us-east-1_app.lab-alb." in key and key.endswith(".log.gz")
    lines = gzip.decompress(s3.get_object(Bucket="alb-logs", Key=key)["Body"].read()).decode().splitlines()
    assert len(lines) == 2
    fields = lines[0].split(" ")
    assert fields[0] == "http" and fields[2] == lb["LoadBalancerArn"].split(":loadbalancer/")[1]
    assert fields[4] == f"127.0.0.1:{web.port}" and fields[8] == "200"
    assert f'"GET http://127.0.0.1:{port_of(lb)}/one HTTP/1.1"' in lines[0] and '"curl/8.0"' in lines[0]
    assert json.loads(json.dumps(lines))  # plain text lines
