"""Traffic policies: versioned documents of rules and endpoints, and instances whose record set the DNS server
answers by walking the document (failover on a health check, weights over many queries, nested rules)."""

from __future__ import annotations

import collections
import json

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of
from tests.services.route53.conftest import a_record, addresses, ask, change, zone
from tests.services.route53.test_dns_server import Endpoint
from tests.waiting import wait_for


def failover_document(check_id: str) -> str:
    """Primary: a weighted rule (two web servers, 3 to 1); secondary: a maintenance page's address."""
    return json.dumps({
        "AWSPolicyFormatVersion": "2015-10-01", "RecordType": "A", "StartRule": "site",
        "Endpoints": {"web-a": {"Type": "value", "Value": "192.0.2.1"}, "web-b": {"Type": "value", "Value": "192.0.2.2"},
                      "sorry": {"Type": "value", "Value": "192.0.2.99"}},
        "Rules": {
            "site": {"RuleType": "failover",
                     "Primary": {"RuleReference": "spread", "HealthCheck": check_id},
                     "Secondary": {"EndpointReference": "sorry"}},
            "spread": {"RuleType": "weighted", "Items": [{"EndpointReference": "web-a", "Weight": 3},
                                                          {"EndpointReference": "web-b", "Weight": 1}]},
        },
    })  # fmt: skip


def test_an_instance_answers_by_its_document(served):
    r53 = served.client("route53")
    zone_id = zone(r53)
    endpoint = Endpoint()
    try:
        check = r53.create_health_check(CallerReference="site", HealthCheckConfig={
            "IPAddress": "127.0.0.1", "Port": endpoint.port, "Type": "HTTP", "ResourcePath": "/",
            "RequestInterval": 10, "FailureThreshold": 2})["HealthCheck"]  # fmt: skip
        created = r53.create_traffic_policy(
            Name="site", Document=failover_document(check["Id"]), Comment="v1"
        )
        policy = created["TrafficPolicy"]
        assert policy["Version"] == 1 and policy["Type"] == "A" and policy["Comment"] == "v1"
        assert created["Location"].endswith(f"/trafficpolicy/{policy['Id']}/1")
        instance = r53.create_traffic_policy_instance(HostedZoneId=zone_id, Name="www.example.com", TTL=30,
                                                      TrafficPolicyId=policy["Id"], TrafficPolicyVersion=1)["TrafficPolicyInstance"]  # fmt: skip
        assert instance["State"] == "Creating" and instance["Name"] == "www.example.com."
        served.advance_clock(10)
        assert (
            r53.get_traffic_policy_instance(Id=instance["Id"])["TrafficPolicyInstance"]["State"] == "Applied"
        )
        listed = r53.list_resource_record_sets(
            HostedZoneId=zone_id, StartRecordName="www.example.com", StartRecordType="A"
        )
        assert listed["ResourceRecordSets"][0] == {"Name": "www.example.com.", "Type": "A",
                                                   "TrafficPolicyInstanceId": instance["Id"]}  # fmt: skip

        wait_for(lambda: (served.advance_clock(10), r53.get_health_check_status(HealthCheckId=check["Id"])
                          ["HealthCheckObservations"][0]["StatusReport"]["Status"].startswith("Success"))[1])  # fmt: skip
        counts = collections.Counter(addresses(ask(served, "www.example.com"))[0] for _ in range(400))
        # 400 draws of p = 0.75: standard deviation ~8.7; 5 sigma either way
        assert 257 <= counts["192.0.2.1"] <= 343 and counts["192.0.2.1"] + counts["192.0.2.2"] == 400, counts
        assert ask(served, "www.example.com").answer[0].ttl == 30

        endpoint.stop()  # the primary's health check fails: the secondary answers
        wait_for(
            lambda: (served.advance_clock(10), addresses(ask(served, "www.example.com")) == ["192.0.2.99"])[1]
        )

        with pytest.raises(ClientError) as raised:
            r53.delete_traffic_policy(Id=policy["Id"], Version=1)
        assert error_of(raised) == ("TrafficPolicyInUse", 400)
        with pytest.raises(ClientError) as raised:
            change(r53, zone_id, a_record("www.example.com", "192.0.2.5"))
        assert error_of(raised)[0] == "InvalidChangeBatch"
    finally:
        try:
            endpoint.stop()
        except OSError:
            pass


def test_versions_updates_listings_and_errors(served):
    r53 = served.client("route53")
    zone_id = zone(r53)
    simple = {"AWSPolicyFormatVersion": "2015-10-01", "RecordType": "A", "StartEndpoint": "one",
              "Endpoints": {"one": {"Type": "value", "Value": "192.0.2.1"}}}  # fmt: skip
    policy = r53.create_traffic_policy(Name="simple", Document=json.dumps(simple))["TrafficPolicy"]
    with pytest.raises(ClientError) as raised:
        r53.create_traffic_policy(Name="simple", Document=json.dumps(simple))
    assert error_of(raised) == ("TrafficPolicyAlreadyExists", 409)
    for broken in ("{", json.dumps({**simple, "StartEndpoint": "two"}), json.dumps({**simple, "AWSPolicyFormatVersion": "2012"}),
                   json.dumps({**simple, "StartRule": "r", "Rules": {"r": {"RuleType": "weighted", "Items": [{"RuleReference": "r", "Weight": 1}]}}})):  # fmt: skip
        with pytest.raises(ClientError) as raised:
            r53.create_traffic_policy(Name="broken", Document=broken)
        assert error_of(raised) == ("InvalidTrafficPolicyDocument", 400)

    second = {
        **simple,
        "Endpoints": {"one": {"Type": "application-load-balancer", "Value": "lb-1.us-east-1.elb.localhost"}},
    }
    v2 = r53.create_traffic_policy_version(Id=policy["Id"], Document=json.dumps(second))["TrafficPolicy"]
    assert v2["Version"] == 2 and v2["Name"] == "simple"
    assert [p["Version"] for p in r53.list_traffic_policy_versions(Id=policy["Id"])["TrafficPolicies"]] == [
        1,
        2,
    ]
    summary = r53.list_traffic_policies()["TrafficPolicySummaries"]
    assert summary == [
        {"Id": policy["Id"], "Name": "simple", "Type": "A", "LatestVersion": 2, "TrafficPolicyCount": 2}
    ]
    assert (
        r53.update_traffic_policy_comment(Id=policy["Id"], Version=2, Comment="alb")["TrafficPolicy"][
            "Comment"
        ]
        == "alb"
    )

    instance = r53.create_traffic_policy_instance(HostedZoneId=zone_id, Name="app.example.com", TTL=60,
                                                  TrafficPolicyId=policy["Id"], TrafficPolicyVersion=1)["TrafficPolicyInstance"]  # fmt: skip
    assert addresses(ask(served, "app.example.com")) == ["192.0.2.1"]
    r53.update_traffic_policy_instance(
        Id=instance["Id"], TTL=120, TrafficPolicyId=policy["Id"], TrafficPolicyVersion=2
    )
    answer = ask(served, "app.example.com")
    assert addresses(answer) == ["127.0.0.1"] and answer.answer[0].ttl == 120  # a load balancer: this machine
    assert r53.get_traffic_policy_instance_count()["TrafficPolicyInstanceCount"] == 1
    by_zone = r53.list_traffic_policy_instances_by_hosted_zone(HostedZoneId=zone_id)["TrafficPolicyInstances"]
    assert [(i["Name"], i["TTL"], i["TrafficPolicyVersion"]) for i in by_zone] == [
        ("app.example.com.", 120, 2)
    ]
    assert (
        r53.list_traffic_policy_instances_by_policy(TrafficPolicyId=policy["Id"], TrafficPolicyVersion=1)[
            "TrafficPolicyInstances"
        ]
        == []
    )
    with pytest.raises(ClientError) as raised:
        r53.create_traffic_policy_instance(HostedZoneId=zone_id, Name="app.example.com", TTL=60,
                                           TrafficPolicyId=policy["Id"], TrafficPolicyVersion=1)  # fmt: skip
    assert error_of(raised) == ("InvalidInput", 400)

    r53.delete_traffic_policy_instance(Id=instance["Id"])
    assert ask(served, "app.example.com").rcode() == 3  # NXDOMAIN
    with pytest.raises(ClientError) as raised:
        r53.get_traffic_policy_instance(Id=instance["Id"])
    assert error_of(raised) == ("NoSuchTrafficPolicyInstance", 404)
    r53.delete_traffic_policy(Id=policy["Id"], Version=1)
    with pytest.raises(ClientError) as raised:
        r53.get_traffic_policy(Id=policy["Id"], Version=1)
    assert error_of(raised) == ("NoSuchTrafficPolicy", 404)
