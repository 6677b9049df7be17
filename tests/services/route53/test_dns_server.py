"""The DNS server answers from the hosted zones: routing policies decide (weights over many queries, failover
when the primary's health check fails), aliases follow their targets, names Overcast serves resolve to it, and
TestDNSAnswer gives the same answer."""

from __future__ import annotations

import collections
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dns.edns
import dns.flags
import dns.rcode
import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of, need, new_vpc, shared_network
from tests.services.route53.conftest import a_record, addresses, ask, change, zone
from tests.waiting import wait_for


class Endpoint:
    """A small web server a health check probes."""

    def __init__(self) -> None:
        class Ok(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Ok)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def failover_zone(served, endpoint: Endpoint) -> tuple[str, str]:
    r53 = served.client("route53")
    zone_id = zone(r53)
    check = r53.create_health_check(CallerReference="primary", HealthCheckConfig={
        "IPAddress": "127.0.0.1", "Port": endpoint.port, "Type": "HTTP", "ResourcePath": "/health",
        "RequestInterval": 10, "FailureThreshold": 2})["HealthCheck"]  # fmt: skip
    change(r53, zone_id,
           a_record("app.example.com", "192.0.2.10", SetIdentifier="primary", Failover="PRIMARY", HealthCheckId=check["Id"]),
           a_record("app.example.com", "192.0.2.20", SetIdentifier="secondary", Failover="SECONDARY"))  # fmt: skip
    return zone_id, check["Id"]


def test_simple_records_nxdomain_nodata_and_tcp(served):
    r53 = served.client("route53")
    zone_id = zone(r53)
    change(r53, zone_id, a_record("www.example.com", "192.0.2.1", "192.0.2.2"),
           {"Name": "mail.example.com", "Type": "MX", "TTL": 300, "ResourceRecords": [{"Value": "10 mx.example.com"}]},
           {"Name": "alias.example.com", "Type": "CNAME", "TTL": 300, "ResourceRecords": [{"Value": "www.example.com"}]},
           {"Name": "*.apps.example.com", "Type": "A", "TTL": 30, "ResourceRecords": [{"Value": "192.0.2.99"}]})  # fmt: skip
    answer = ask(served, "www.example.com")
    assert answer.rcode() == dns.rcode.NOERROR and addresses(answer) == ["192.0.2.1", "192.0.2.2"]
    assert answer.answer[0].ttl == 60 and answer.flags & dns.flags.AA
    assert [r.to_text() for r in ask(served, "mail.example.com", "MX").answer[0]] == ["10 mx.example.com."]
    chased = ask(served, "alias.example.com")
    assert [rrset.rdtype for rrset in chased.answer] == [5, 1] and addresses(chased) == [
        "192.0.2.1",
        "192.0.2.2",
    ]
    assert addresses(ask(served, "anything.apps.example.com")) == ["192.0.2.99"]
    missing = ask(served, "nothing.example.com")
    assert missing.rcode() == dns.rcode.NXDOMAIN and missing.authority[0].rdtype == 6
    nodata = ask(served, "www.example.com", "AAAA")
    assert nodata.rcode() == dns.rcode.NOERROR and nodata.answer == []
    assert addresses(ask(served, "www.example.com", tcp=True)) == ["192.0.2.1", "192.0.2.2"]
    assert ask(served, "example.org").rcode() == dns.rcode.REFUSED
    ns = ask(served, "example.com", "NS")
    assert len(ns.answer[0]) == 4


def test_weighted_records_answer_in_proportion(served):
    r53 = served.client("route53")
    zone_id = zone(r53)
    change(r53, zone_id, a_record("w.example.com", "192.0.2.70", SetIdentifier="seventy", Weight=70),
           a_record("w.example.com", "192.0.2.30", SetIdentifier="thirty", Weight=30))  # fmt: skip
    counts = collections.Counter(addresses(ask(served, "w.example.com"))[0] for _ in range(1000))
    # 1,000 draws of p = 0.7: standard deviation ~14.5; 5 sigma either way
    assert 627 <= counts["192.0.2.70"] <= 773, counts
    assert counts["192.0.2.70"] + counts["192.0.2.30"] == 1000


def test_failover_answers_the_secondary_once_the_primary_fails(served):
    endpoint = Endpoint()
    try:
        zone_id, check_id = failover_zone(served, endpoint)
        r53 = served.client("route53")

        def observed(word: str) -> bool:
            served.advance_clock(10)
            observations = r53.get_health_check_status(HealthCheckId=check_id)["HealthCheckObservations"]
            return bool(observations) and observations[0]["StatusReport"]["Status"].startswith(word)

        wait_for(lambda: observed("Success"))
        assert addresses(ask(served, "app.example.com")) == ["192.0.2.10"]
        assert r53.test_dns_answer(HostedZoneId=zone_id, RecordName="app.example.com", RecordType="A")[
            "RecordData"
        ] == ["192.0.2.10"]
        endpoint.stop()
        wait_for(
            lambda: (served.advance_clock(10), addresses(ask(served, "app.example.com")) == ["192.0.2.20"])[1]
        )
        status = r53.get_health_check_status(HealthCheckId=check_id)["HealthCheckObservations"]
        assert status[0]["StatusReport"]["Status"].startswith("Failure: Connection refused")
        assert len(status) == 8 and {o["Region"] for o in status} >= {"us-east-1", "eu-west-1"}
        reason = r53.get_health_check_last_failure_reason(HealthCheckId=check_id)["HealthCheckObservations"]
        assert reason[0]["StatusReport"]["Status"].startswith("Failure")
    finally:
        try:
            endpoint.stop()
        except OSError:
            pass


@pytest.mark.slow
def test_failover_seen_by_dig(served):
    dig = need("dig")
    endpoint = Endpoint()
    try:
        failover_zone(served, endpoint)
        port = str(served.config.dns_port)

        def dig_short() -> str:
            done = subprocess.run([dig, "@127.0.0.1", "-p", port, "app.example.com", "A", "+short", "+time=3", "+tries=1"],
                                  capture_output=True, text=True, timeout=20)  # fmt: skip
            return done.stdout.strip()

        wait_for(lambda: (served.advance_clock(10), dig_short() == "192.0.2.10")[1])
        endpoint.stop()
        wait_for(lambda: (served.advance_clock(10), dig_short() == "192.0.2.20")[1])
    finally:
        try:
            endpoint.stop()
        except OSError:
            pass


def test_calculated_and_inverted_health_checks(served):
    r53 = served.client("route53")
    endpoint = Endpoint()
    try:
        up = r53.create_health_check(CallerReference="up", HealthCheckConfig={
            "IPAddress": "127.0.0.1", "Port": endpoint.port, "Type": "HTTP", "RequestInterval": 10, "FailureThreshold": 1})["HealthCheck"]  # fmt: skip
        down = r53.create_health_check(CallerReference="down", HealthCheckConfig={
            "IPAddress": "127.0.0.1", "Port": 1, "Type": "TCP", "RequestInterval": 10, "FailureThreshold": 1})["HealthCheck"]  # fmt: skip
        both = r53.create_health_check(CallerReference="both", HealthCheckConfig={
            "Type": "CALCULATED", "ChildHealthChecks": [up["Id"], down["Id"]], "HealthThreshold": 2})["HealthCheck"]  # fmt: skip
        either = r53.create_health_check(CallerReference="either", HealthCheckConfig={
            "Type": "CALCULATED", "ChildHealthChecks": [up["Id"], down["Id"]], "HealthThreshold": 1})["HealthCheck"]  # fmt: skip
        zone_id = zone(r53)
        change(r53, zone_id,
               a_record("c.example.com", "192.0.2.1", SetIdentifier="both", Failover="PRIMARY", HealthCheckId=both["Id"]),
               a_record("c.example.com", "192.0.2.2", SetIdentifier="else", Failover="SECONDARY"),
               a_record("e.example.com", "192.0.2.3", SetIdentifier="either", Failover="PRIMARY", HealthCheckId=either["Id"]),
               a_record("e.example.com", "192.0.2.4", SetIdentifier="else", Failover="SECONDARY"))  # fmt: skip
        wait_for(
            lambda: (served.advance_clock(10), addresses(ask(served, "c.example.com")) == ["192.0.2.2"])[1]
        )
        assert addresses(ask(served, "e.example.com")) == ["192.0.2.3"]
        config = r53.get_health_check(HealthCheckId=up["Id"])["HealthCheck"]["HealthCheckConfig"]
        assert config["ResourcePath"] == "/" and config["Inverted"] is False and config["EnableSNI"] is False
        updated = r53.update_health_check(HealthCheckId=up["Id"], HealthCheckVersion=1, Inverted=True)[
            "HealthCheck"
        ]
        assert updated["HealthCheckVersion"] == 2
        wait_for(
            lambda: (served.advance_clock(10), addresses(ask(served, "e.example.com")) == ["192.0.2.4"])[1]
        )
    finally:
        endpoint.stop()


def test_alias_to_a_load_balancer_and_served_names(served):
    elb = served.client("elbv2")
    lb = elb.create_load_balancer(Name="web", Subnets=shared_network(elb)[1])["LoadBalancers"][0]
    host = lb["DNSName"].rsplit(":", 1)[0]
    assert addresses(ask(served, host)) == ["127.0.0.1"]
    assert addresses(ask(served, "s3.localhost.localstack.cloud")) == ["127.0.0.1"]
    r53 = served.client("route53")
    zone_id = zone(r53)
    change(r53, zone_id, {"Name": "example.com", "Type": "A", "AliasTarget": {
        "HostedZoneId": lb["CanonicalHostedZoneId"], "DNSName": host, "EvaluateTargetHealth": False}})  # fmt: skip
    assert addresses(ask(served, "example.com")) == ["127.0.0.1"]
    with pytest.raises(ClientError) as raised:
        change(r53, zone_id, {"Name": "x.example.com", "Type": "A", "AliasTarget": {
            "HostedZoneId": lb["CanonicalHostedZoneId"], "DNSName": "nope-1.us-east-1.elb.localhost", "EvaluateTargetHealth": False}})  # fmt: skip
    assert error_of(raised) == ("InvalidChangeBatch", 400)


def test_latency_geolocation_multivalue_and_ip_based(served):
    r53 = served.client("route53")
    zone_id = zone(r53)
    change(r53, zone_id,
           a_record("lat.example.com", "192.0.2.1", SetIdentifier="virginia", Region="us-east-1"),
           a_record("lat.example.com", "192.0.2.2", SetIdentifier="tokyo", Region="ap-northeast-1"),
           a_record("geo.example.com", "192.0.2.3", SetIdentifier="default", GeoLocation={"CountryCode": "*"}),
           a_record("geo.example.com", "192.0.2.4", SetIdentifier="japan", GeoLocation={"CountryCode": "JP"}),
           *[a_record("multi.example.com", f"192.0.2.{50 + i}", SetIdentifier=f"m{i}", MultiValueAnswer=True) for i in range(10)][:8])  # fmt: skip
    assert addresses(ask(served, "lat.example.com")) == ["192.0.2.1"]  # the resolver's region is us-east-1
    assert addresses(ask(served, "geo.example.com")) == ["192.0.2.3"]  # no location known: the default
    assert len(addresses(ask(served, "multi.example.com"))) == 8
    collection = r53.create_cidr_collection(Name="isps", CallerReference="c")["Collection"]
    r53.change_cidr_collection(
        Id=collection["Id"],
        Changes=[{"LocationName": "isp-a", "Action": "PUT", "CidrList": ["203.0.113.0/24"]}],
    )
    change(r53, zone_id,
           a_record("ip.example.com", "192.0.2.100", SetIdentifier="a", CidrRoutingConfig={"CollectionId": collection["Id"], "LocationName": "isp-a"}),
           a_record("ip.example.com", "192.0.2.200", SetIdentifier="rest", CidrRoutingConfig={"CollectionId": collection["Id"], "LocationName": "*"}))  # fmt: skip
    subnet = dns.edns.ECSOption("203.0.113.7", 24)
    assert addresses(ask(served, "ip.example.com", use_edns=0, options=[subnet])) == ["192.0.2.100"]
    assert addresses(ask(served, "ip.example.com")) == ["192.0.2.200"]
    answer = r53.test_dns_answer(
        HostedZoneId=zone_id, RecordName="ip.example.com", RecordType="A", EDNS0ClientSubnetIP="203.0.113.7"
    )
    assert (
        answer["RecordData"] == ["192.0.2.100"]
        and answer["ResponseCode"] == "NOERROR"
        and answer["Protocol"] == "UDP"
    )
    missing = r53.test_dns_answer(HostedZoneId=zone_id, RecordName="none.example.com", RecordType="A")
    assert missing["ResponseCode"] == "NXDOMAIN" and missing["RecordData"] == []


def test_large_answers_are_truncated_over_udp_and_whole_over_tcp(served):
    r53 = served.client("route53")
    zone_id = zone(r53)
    texts = [{"Value": '"' + f"{i:03d}" + "x" * 200 + '"'} for i in range(6)]
    change(r53, zone_id, {"Name": "big.example.com", "Type": "TXT", "TTL": 60, "ResourceRecords": texts})
    udp = ask(served, "big.example.com", "TXT")
    assert udp.flags & dns.flags.TC and udp.answer == []
    tcp = ask(served, "big.example.com", "TXT", tcp=True)
    assert len(tcp.answer[0]) == 6
    edns = ask(served, "big.example.com", "TXT", use_edns=0, payload=4096)
    assert not edns.flags & dns.flags.TC and len(edns.answer[0]) == 6


@pytest.mark.slow
def test_overcast_start_with_a_dns_port(tmp_path):
    from tests.conftest import OVERCAST_BIN
    from tests.services.route53.conftest import free_port

    port, dns_port = free_port(), free_port()
    process = subprocess.Popen([str(OVERCAST_BIN), "start", "--ephemeral", "--port", str(port), "--dns-port", str(dns_port)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    try:
        import socket

        wait_for(lambda: _listening(port))
        import boto3

        r53 = boto3.client("route53", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                           aws_access_key_id="test", aws_secret_access_key="test")  # fmt: skip
        zone_id = zone(r53)
        change(r53, zone_id, a_record("www.example.com", "192.0.2.44"))

        class Server:
            class config:  # noqa: N801
                pass

        Server.config.dns_port = dns_port
        assert addresses(wait_for(lambda: _answered(Server, "www.example.com"))) == ["192.0.2.44"]
        del socket
    finally:
        process.terminate()
        output = process.communicate(timeout=20)[0]
    assert f"dns:     127.0.0.1:{dns_port} (udp, tcp)" in output


def _listening(port: int) -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def _answered(server, name: str):
    try:
        answer = ask(server, name)
    except Exception:  # noqa: BLE001 - not serving yet
        return None
    return answer if answer.answer else None


def test_a_health_check_follows_a_cloudwatch_alarm(served):
    cloudwatch = served.client("cloudwatch")
    cloudwatch.put_metric_alarm(AlarmName="db-down", MetricName="Errors", Namespace="App", Statistic="Sum", Period=60,
                                EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold",
                                TreatMissingData="notBreaching")  # fmt: skip
    cloudwatch.set_alarm_state(AlarmName="db-down", StateValue="OK", StateReason="fine")
    r53 = served.client("route53")
    check = r53.create_health_check(CallerReference="alarm", HealthCheckConfig={
        "Type": "CLOUDWATCH_METRIC", "AlarmIdentifier": {"Region": "us-east-1", "Name": "db-down"},
        "InsufficientDataHealthStatus": "Healthy"})["HealthCheck"]  # fmt: skip
    zone_id = zone(r53)
    change(r53, zone_id,
           a_record("db.example.com", "192.0.2.1", SetIdentifier="p", Failover="PRIMARY", HealthCheckId=check["Id"]),
           a_record("db.example.com", "192.0.2.2", SetIdentifier="s", Failover="SECONDARY"))  # fmt: skip
    wait_for(lambda: (served.advance_clock(10), addresses(ask(served, "db.example.com")) == ["192.0.2.1"])[1])

    def alarmed() -> bool:
        cloudwatch.set_alarm_state(AlarmName="db-down", StateValue="ALARM", StateReason="errors")
        served.advance_clock(10)
        return addresses(ask(served, "db.example.com")) == ["192.0.2.2"]

    wait_for(alarmed)


def test_query_logs_go_to_cloudwatch_logs(served):
    logs = served.client("logs")
    logs.create_log_group(logGroupName="/aws/route53/example.com")
    group_arn = "arn:aws:logs:us-east-1:000000000000:log-group:/aws/route53/example.com:*"
    r53 = served.client("route53")
    zone_id = zone(r53)
    change(r53, zone_id, a_record("www.example.com", "192.0.2.1"))
    with pytest.raises(ClientError) as raised:
        r53.create_query_logging_config(
            HostedZoneId=zone_id, CloudWatchLogsLogGroupArn=group_arn.replace("example.com", "other")
        )
    assert error_of(raised) == ("NoSuchCloudWatchLogsLogGroup", 404)
    config = r53.create_query_logging_config(HostedZoneId=zone_id, CloudWatchLogsLogGroupArn=group_arn)[
        "QueryLoggingConfig"
    ]
    assert config["HostedZoneId"] == zone_id.rsplit("/", 1)[1]
    for _ in range(2):
        assert addresses(ask(served, "www.example.com")) == ["192.0.2.1"]
    assert ask(served, "nope.example.com", "AAAA", tcp=True).rcode() == dns.rcode.NXDOMAIN

    def logged():
        served.advance_clock(1)
        streams = logs.describe_log_streams(logGroupName="/aws/route53/example.com")["logStreams"]
        if not streams:
            return None
        events = logs.get_log_events(
            logGroupName="/aws/route53/example.com", logStreamName=streams[0]["logStreamName"]
        )["events"]
        return (streams[0]["logStreamName"], events) if len(events) == 3 else None

    stream, events = wait_for(logged)
    bare = zone_id.rsplit("/", 1)[1]
    assert stream == f"{bare}/IAD89-C1"
    fields = events[0]["message"].split(" ")
    assert fields[0] == "1.0" and fields[2:8] == [bare, "www.example.com", "A", "NOERROR", "UDP", "IAD89-C1"]
    assert fields[8] == "127.0.0.1" and fields[9] == "-"
    assert events[2]["message"].split(" ")[3:7] == ["nope.example.com", "AAAA", "NXDOMAIN", "TCP"]


def test_private_zones_answer_queries_from_their_vpcs(served):
    import dns.message

    import overcast.services.route53.api as route53

    r53 = served.client("route53")
    vpc = new_vpc(r53)
    private = r53.create_hosted_zone(Name="corp.example.com", CallerReference="private",
                                     VPC={"VPCRegion": "us-east-1", "VPCId": vpc})["HostedZone"]["Id"]  # fmt: skip
    change(r53, private, a_record("db.corp.example.com", "10.0.0.5"))
    public = zone(r53)
    change(r53, public, a_record("www.example.com", "192.0.2.1"))
    assert (
        ask(served, "db.corp.example.com").rcode() == dns.rcode.NXDOMAIN
        or not ask(served, "db.corp.example.com").answer
    )

    def from_vpc(name: str, vpc: str) -> dns.message.Message:
        wire = route53.answer_dns(
            served.platform, dns.message.make_query(name, "A").to_wire(), "10.0.0.9", vpc, "us-east-1"
        )
        return dns.message.from_wire(wire)

    assert addresses(from_vpc("db.corp.example.com", vpc)) == ["10.0.0.5"]
    assert addresses(from_vpc("www.example.com", vpc)) == ["192.0.2.1"]  # public zones still answer
    assert from_vpc("db.corp.example.com", "vpc-other").answer == []
    answer = r53.test_dns_answer(HostedZoneId=private, RecordName="db.corp.example.com", RecordType="A")
    assert answer["RecordData"] == ["10.0.0.5"]
