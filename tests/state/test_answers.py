"""Remembered answers (state/answers.py): a repeated read is answered from memory, yet every answer is what
the stored rows and the clock say at that moment, and every response carries its own request id."""

from __future__ import annotations

import uuid


def test_a_repeated_list_follows_every_write(overcast):
    acm = overcast.client("acm")
    first = acm.request_certificate(DomainName="one.example.com")["CertificateArn"]
    listed = [acm.list_certificates()["CertificateSummaryList"] for _ in range(3)]
    assert [[c["CertificateArn"] for c in page] for page in listed] == [[first]] * 3
    second = acm.request_certificate(DomainName="two.example.com")["CertificateArn"]
    assert [c["CertificateArn"] for c in acm.list_certificates()["CertificateSummaryList"]] == [first, second]
    acm.add_tags_to_certificate(CertificateArn=first, Tags=[{"Key": "team", "Value": "a"}])
    acm.list_tags_for_certificate(CertificateArn=first)
    acm.add_tags_to_certificate(CertificateArn=first, Tags=[{"Key": "team", "Value": "b"}])
    assert acm.list_tags_for_certificate(CertificateArn=first)["Tags"] == [{"Key": "team", "Value": "b"}]
    acm.delete_certificate(CertificateArn=first)
    assert [c["CertificateArn"] for c in acm.list_certificates()["CertificateSummaryList"]] == [second]


def test_every_response_has_its_own_request_id_in_its_headers_and_body(overcast):
    """ELBv2 (query protocol) says the request id in the body as well as in a header."""
    elb = overcast.client("elbv2")
    ids = []
    for _ in range(3):
        answer = elb.describe_target_groups()
        meta = answer["ResponseMetadata"]
        assert meta["RequestId"] == meta["HTTPHeaders"]["x-amzn-requestid"]
        uuid.UUID(meta["RequestId"])
        ids.append(meta["RequestId"])
    assert len(set(ids)) == 3


def test_an_answer_that_time_changes_is_not_kept_past_the_clock(overcast, network):
    """A new load balancer is provisioning, then active a second later on the clock: a remembered
    DescribeLoadBalancers does not hide the change."""
    elb = overcast.client("elbv2")
    arn = elb.create_load_balancer(Name="remembered", Subnets=network.subnets)["LoadBalancers"][0][
        "LoadBalancerArn"
    ]
    try:
        states = {elb.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"][0]["State"]["Code"]}
        assert states <= {"provisioning", "active"}
        overcast.advance_clock(5)
        assert elb.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"][0]["State"] == {
            "Code": "active"
        }
    finally:
        elb.delete_load_balancer(LoadBalancerArn=arn)
    assert all(lb["LoadBalancerArn"] != arn for lb in elb.describe_load_balancers()["LoadBalancers"])


def test_a_zone_count_follows_record_changes(overcast):
    r53 = overcast.client("route53")
    zone = r53.create_hosted_zone(Name="remembered.example", CallerReference=str(uuid.uuid4()))["HostedZone"][
        "Id"
    ]
    before = r53.get_hosted_zone(Id=zone)["HostedZone"]["ResourceRecordSetCount"]
    assert r53.get_hosted_zone(Id=zone)["HostedZone"]["ResourceRecordSetCount"] == before
    r53.change_resource_record_sets(
        HostedZoneId=zone,
        ChangeBatch={"Changes": [{"Action": "CREATE", "ResourceRecordSet": {
            "Name": "www.remembered.example", "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": "127.0.0.1"}]}}]},
    )  # fmt: skip
    assert r53.get_hosted_zone(Id=zone)["HostedZone"]["ResourceRecordSetCount"] == before + 1
    names = [r["Name"] for r in r53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]]
    assert "www.remembered.example." in names
    counted = r53.get_hosted_zone_count()["HostedZoneCount"]
    r53.create_hosted_zone(Name="another.example", CallerReference=str(uuid.uuid4()))
    assert r53.get_hosted_zone_count()["HostedZoneCount"] == counted + 1


def test_one_read_in_two_protocols_and_two_hosts_is_answered_in_each(overcast):
    """SQS speaks JSON and the legacy query protocol, and a queue URL names the host the client used."""
    import json
    import urllib.request
    from urllib.parse import urlsplit

    from tests.helpers import signed_headers

    url = overcast.client("sqs").create_queue(QueueName="remembered")["QueueUrl"]
    port = urlsplit(overcast.endpoint).port

    def list_queues(host: str, form: bool) -> bytes:
        if form:
            body, headers = (
                b"Action=ListQueues&Version=2012-11-05",
                {"Content-Type": "application/x-www-form-urlencoded"},
            )
        else:
            body = json.dumps({}).encode()
            headers = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS.ListQueues"}
        target = f"http://{host}:{port}/"
        signed = signed_headers("POST", target, body, "sqs", {**headers, "Host": f"{host}:{port}"})
        with urllib.request.urlopen(
            urllib.request.Request(target, body, signed, method="POST"), timeout=10
        ) as got:
            return got.read()

    for _ in range(2):
        as_json = json.loads(list_queues("127.0.0.1", form=False))
        as_xml = list_queues("127.0.0.1", form=True)
        on_localhost = json.loads(list_queues("localhost", form=False))
        assert f"http://127.0.0.1:{port}/000000000000/remembered" in as_json["QueueUrls"]
        assert b"<QueueUrl>" in as_xml and f"127.0.0.1:{port}/000000000000/remembered".encode() in as_xml
        assert f"http://localhost:{port}/000000000000/remembered" in on_localhost["QueueUrls"]
    assert url.endswith("/000000000000/remembered")
