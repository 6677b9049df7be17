"""The load balancers really carry traffic: the notes' ALB lab (two instances' pages alternating, one stopped
and taken out after the health check threshold, a path rule to a Lambda function), rule actions, headers,
stickiness, the main port's Host routing, NLB TCP forwarding, and listeners coming back after a restart."""

from __future__ import annotations

import io
import json
import socket
import threading
import zipfile

import pytest

from overcast.config import Config
from overcast.testing import OvercastServer
from tests.helpers import shared_network
from tests.services.elbv2.conftest import Backend, alb_with_targets, get, port_of
from tests.waiting import wait_for

LAMBDA_SOURCE = """
import json
def handler(event, context):
    if event["path"] == "/api/health":
        return {"statusCode": 200, "body": "ok"}
    return {
        "statusCode": 201,
        "statusDescription": "201 Created",
        "isBase64Encoded": False,
        "headers": {"Content-Type": "application/json", "X-Served-By": "lambda"},
        "body": json.dumps({"path": event["path"], "method": event["httpMethod"],
                            "query": event.get("queryStringParameters"), "elb": event["requestContext"]["elb"],
                            "forwarded_for": event["headers"].get("x-forwarded-for")}),
    }
"""


def names(port: int, count: int, path: str = "/") -> list[str]:
    return [json.loads(get(f"http://127.0.0.1:{port}{path}")[2])["name"] for _ in range(count)]


def target_states(elb, tg_arn: str) -> dict[int, str]:
    described = elb.describe_target_health(TargetGroupArn=tg_arn)["TargetHealthDescriptions"]
    return {item["Target"]["Port"]: item["TargetHealth"]["State"] for item in described}


def test_the_alb_lab_alternates_then_takes_a_stopped_instance_out(overcast, elb, backends):
    one, two = backends("instance-1"), backends("instance-2")
    lb, tg, _ = alb_with_targets(elb, [one.port, two.port])
    port = port_of(lb)
    assert lb["DNSName"].startswith("lab-alb-") and ".us-east-1.elb.localhost:" in lb["DNSName"]

    assert sorted(names(port, 4)) == ["instance-1", "instance-1", "instance-2", "instance-2"]
    seen = names(port, 4)
    assert seen[0] != seen[1] and seen[1] != seen[2]  # round robin alternates

    def advanced_until(state: str, wanted_port: int):
        overcast.advance_clock(10)
        return target_states(elb, tg["TargetGroupArn"]).get(wanted_port) == state

    wait_for(
        lambda: (
            advanced_until("healthy", one.port)
            and target_states(elb, tg["TargetGroupArn"])[two.port] == "healthy"
        )
    )
    two.stop()
    wait_for(lambda: advanced_until("unhealthy", two.port))
    health = elb.describe_target_health(
        TargetGroupArn=tg["TargetGroupArn"], Targets=[{"Id": "127.0.0.1", "Port": two.port}]
    )
    assert health["TargetHealthDescriptions"][0]["TargetHealth"] == {
        "State": "unhealthy",
        "Reason": "Target.FailedHealthChecks",
        "Description": "Health checks failed",
    }
    assert names(port, 6) == ["instance-1"] * 6


def test_a_target_answering_500_is_unhealthy_with_its_code(overcast, elb, backends):
    one, two = backends("a"), backends("b", status=500)
    lb, tg, _ = alb_with_targets(elb, [one.port, two.port], UnhealthyThresholdCount=3)

    def state_after_check():
        overcast.advance_clock(10)
        return target_states(elb, tg["TargetGroupArn"])

    wait_for(lambda: state_after_check() == {one.port: "healthy", two.port: "unhealthy"})
    described = elb.describe_target_health(
        TargetGroupArn=tg["TargetGroupArn"], Targets=[{"Id": "127.0.0.1", "Port": two.port}]
    )
    assert described["TargetHealthDescriptions"][0]["TargetHealth"]["Reason"] == "Target.ResponseCodeMismatch"
    assert (
        described["TargetHealthDescriptions"][0]["TargetHealth"]["Description"]
        == "Health checks failed with these codes: [500]"
    )
    assert set(names(port_of(lb), 4)) == {"a"}

    # with fewer healthy targets than the unhealthy state routing threshold, every target gets traffic
    elb.modify_target_group_attributes(TargetGroupArn=tg["TargetGroupArn"], Attributes=[
        {"Key": "target_group_health.unhealthy_state_routing.minimum_healthy_targets.count", "Value": "2"}])  # fmt: skip
    assert set(names(port_of(lb), 6)) == {"a", "b"}
    elb.modify_target_group_attributes(TargetGroupArn=tg["TargetGroupArn"], Attributes=[
        {"Key": "target_group_health.unhealthy_state_routing.minimum_healthy_targets.count", "Value": "1"},
        {"Key": "target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage", "Value": "50"}])  # fmt: skip
    assert set(names(port_of(lb), 4)) == {"a"}  # one of two healthy: 50% is met


def test_a_path_rule_sends_api_requests_to_a_lambda_target(overcast, elb, backends):
    web = backends("web")
    lb, _, listener = alb_with_targets(elb, [web.port])
    lam = overcast.client("lambda")
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("app.py", LAMBDA_SOURCE)
    function = lam.create_function(
        FunctionName="api", Runtime="python3.11", Role="arn:aws:iam::000000000000:role/r", Handler="app.handler",
        Code={"ZipFile": package.getvalue()},
    )  # fmt: skip
    lambda_tg = elb.create_target_group(Name="api-fn", TargetType="lambda")["TargetGroups"][0]
    lam.add_permission(
        FunctionName="api", StatementId="elb", Action="lambda:InvokeFunction",
        Principal="elasticloadbalancing.amazonaws.com", SourceArn=lambda_tg["TargetGroupArn"],
    )  # fmt: skip
    elb.register_targets(
        TargetGroupArn=lambda_tg["TargetGroupArn"], Targets=[{"Id": function["FunctionArn"]}]
    )
    elb.create_rule(
        ListenerArn=listener["ListenerArn"], Priority=10,
        Conditions=[{"Field": "path-pattern", "Values": ["/api/*"]}],
        Actions=[{"Type": "forward", "TargetGroupArn": lambda_tg["TargetGroupArn"]}],
    )  # fmt: skip
    status, headers, body = get(f"http://127.0.0.1:{port_of(lb)}/api/orders?id=7")
    assert status == 201
    assert headers["X-Served-By"] == "lambda"
    answer = json.loads(body)
    assert answer["path"] == "/api/orders" and answer["method"] == "GET" and answer["query"] == {"id": "7"}
    assert answer["elb"] == {"targetGroupArn": lambda_tg["TargetGroupArn"]}
    assert answer["forwarded_for"] == "127.0.0.1"
    assert names(port_of(lb), 2, "/other") == ["web", "web"]
    health = elb.describe_target_health(TargetGroupArn=lambda_tg["TargetGroupArn"])[
        "TargetHealthDescriptions"
    ][0]
    assert health["Target"] == {"Id": function["FunctionArn"], "AvailabilityZone": "all"}
    assert health["TargetHealth"] == {
        "State": "unavailable",
        "Reason": "Target.HealthCheckDisabled",
        "Description": "Health checks disabled",
    }


def test_forwarded_headers_and_trace_id(elb, backends):
    web = backends("web")
    lb, _, _ = alb_with_targets(elb, [web.port])
    port = port_of(lb)
    _, _, body = get(f"http://127.0.0.1:{port}/h", headers={"X-Forwarded-For": "203.0.113.9"})
    seen = {name.lower(): value for name, value in json.loads(body)["headers"].items()}
    assert seen["x-forwarded-for"] == "203.0.113.9, 127.0.0.1"
    assert seen["x-forwarded-proto"] == "http"
    assert seen["x-forwarded-port"] == str(port)
    assert seen["x-amzn-trace-id"].startswith("Root=1-")
    assert seen["host"] == f"127.0.0.1:{port}"


def test_fixed_responses_redirects_and_conditions(elb, backends):
    web = backends("web")
    lb, _, listener = alb_with_targets(elb, [web.port])
    arn = listener["ListenerArn"]
    elb.create_rule(ListenerArn=arn, Priority=5, Conditions=[{"Field": "path-pattern", "Values": ["/error"]}],
                    Actions=[{"Type": "fixed-response", "FixedResponseConfig": {
                        "StatusCode": "404", "ContentType": "text/plain", "MessageBody": "Page not found"}}])  # fmt: skip
    elb.create_rule(ListenerArn=arn, Priority=6, Conditions=[{"Field": "path-pattern", "Values": ["/old/*"]}],
                    Actions=[{"Type": "redirect", "RedirectConfig": {"Path": "/new/#{path}", "StatusCode": "HTTP_301"}}])  # fmt: skip
    elb.create_rule(ListenerArn=arn, Priority=7, Conditions=[
        {"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Beta", "Values": ["y*"]}},
        {"Field": "query-string", "QueryStringConfig": {"Values": [{"Key": "platform", "Value": "mobile"}]}},
        {"Field": "http-request-method", "HttpRequestMethodConfig": {"Values": ["GET"]}},
    ], Actions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "200", "MessageBody": "beta"}}])  # fmt: skip
    elb.create_rule(ListenerArn=arn, Priority=8, Conditions=[
        {"Field": "host-header", "Values": ["*.example.com"]},
        {"Field": "source-ip", "SourceIpConfig": {"Values": ["127.0.0.0/8"]}},
    ], Actions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "503", "MessageBody": "host"}}])  # fmt: skip
    port = port_of(lb)
    status, headers, body = get(f"http://127.0.0.1:{port}/error")
    assert (status, headers["Content-Type"], body) == (404, "text/plain", b"Page not found")
    assert headers["Server"] == "awselb/2.0"
    status, headers, _ = get(f"http://127.0.0.1:{port}/old/page?q=1")
    assert status == 301 and headers["Location"] == f"http://127.0.0.1:{port}/new/old/page?q=1"
    assert get(f"http://127.0.0.1:{port}/x?platform=Mobile", headers={"X-Beta": "yes"})[2] == b"beta"
    assert (
        json.loads(get(f"http://127.0.0.1:{port}/x?platform=desktop", headers={"X-Beta": "yes"})[2])["name"]
        == "web"
    )
    assert get(f"http://127.0.0.1:{port}/", headers={"Host": "shop.example.com"})[:3:2] == (503, b"host")


def test_lb_cookie_stickiness_keeps_a_client_on_one_target(elb, backends):
    one, two = backends("one"), backends("two")
    lb, tg, _ = alb_with_targets(elb, [one.port, two.port])
    elb.modify_target_group_attributes(TargetGroupArn=tg["TargetGroupArn"], Attributes=[
        {"Key": "stickiness.enabled", "Value": "true"}, {"Key": "stickiness.type", "Value": "lb_cookie"}])  # fmt: skip
    port = port_of(lb)
    _, headers, body = get(f"http://127.0.0.1:{port}/")
    first = json.loads(body)["name"]
    cookie = headers["Set-Cookie"].split(";")[0]
    assert cookie.startswith("AWSALB=")
    assert {
        json.loads(get(f"http://127.0.0.1:{port}/", headers={"Cookie": cookie})[2])["name"] for _ in range(6)
    } == {first}
    assert len({json.loads(get(f"http://127.0.0.1:{port}/")[2])["name"] for _ in range(6)}) == 2


def test_weighted_target_groups_split_traffic(elb, backends):
    blue, green = backends("blue"), backends("green")
    lb, blue_tg, listener = alb_with_targets(elb, [blue.port])
    green_tg = elb.create_target_group(
        Name="green", Protocol="HTTP", Port=80, VpcId=lb["VpcId"], TargetType="ip"
    )["TargetGroups"][0]
    elb.register_targets(
        TargetGroupArn=green_tg["TargetGroupArn"], Targets=[{"Id": "127.0.0.1", "Port": green.port}]
    )
    elb.modify_listener(ListenerArn=listener["ListenerArn"], DefaultActions=[{"Type": "forward", "ForwardConfig": {
        "TargetGroups": [{"TargetGroupArn": blue_tg["TargetGroupArn"], "Weight": 0},
                         {"TargetGroupArn": green_tg["TargetGroupArn"], "Weight": 5}]}}])  # fmt: skip
    assert set(names(port_of(lb), 5)) == {"green"}


def test_the_main_port_reaches_a_load_balancer_by_host(overcast, elb, backends):
    web = backends("web")
    lb, _, _ = alb_with_targets(elb, [web.port])
    host = lb["DNSName"].rsplit(":", 1)[0]
    status, _, body = get(f"{overcast.endpoint}/via-main", headers={"Host": host})
    assert status == 200 and json.loads(body) == {**json.loads(body), "name": "web", "path": "/via-main"}


def test_no_registered_target_answers_503(elb):
    lb = elb.create_load_balancer(Name="empty", Subnets=shared_network(elb)[1])["LoadBalancers"][0]
    tg = elb.create_target_group(Name="none", Protocol="HTTP", Port=80, VpcId=lb["VpcId"], TargetType="ip")[
        "TargetGroups"
    ][0]
    elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])  # fmt: skip
    status, headers, body = get(f"http://127.0.0.1:{port_of(lb)}/")
    assert (
        status == 503 and b"503 Service Temporarily Unavailable" in body or b"503 Service Unavailable" in body
    )
    assert headers["Server"] == "awselb/2.0"


def test_a_stopped_target_answers_502_until_it_is_taken_out(elb, backends):
    web = backends("web")
    lb, _, _ = alb_with_targets(elb, [web.port])
    web.stop()
    assert get(f"http://127.0.0.1:{port_of(lb)}/")[0] == 502


def test_a_network_load_balancer_forwards_tcp(elb):
    echo = socket.socket()
    echo.bind(("127.0.0.1", 0))
    echo.listen()

    def serve() -> None:  # health checks connect too: every connection is served
        while True:
            try:
                conn, _ = echo.accept()
            except OSError:
                return
            with conn:
                data = conn.recv(100)
                if data:
                    conn.sendall(b"echo:" + data)

    threading.Thread(target=serve, daemon=True).start()
    lb = elb.create_load_balancer(Name="tcp-nlb", Type="network", Subnets=shared_network(elb)[1][:1])[
        "LoadBalancers"
    ][0]
    assert "SecurityGroups" not in lb or lb["SecurityGroups"] == []
    tg = elb.create_target_group(Name="tcp", Protocol="TCP", Port=7, VpcId=lb["VpcId"], TargetType="ip")[
        "TargetGroups"
    ][0]
    elb.register_targets(
        TargetGroupArn=tg["TargetGroupArn"], Targets=[{"Id": "127.0.0.1", "Port": echo.getsockname()[1]}]
    )
    elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="TCP", Port=7,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])  # fmt: skip
    with socket.create_connection(("127.0.0.1", port_of(lb)), timeout=10) as client:
        client.sendall(b"hello")
        assert client.recv(100) == b"echo:hello"
    echo.close()


def test_listeners_listen_again_after_a_restart(tmp_path):
    backend = Backend("persisted")
    config = Config(data_dir=tmp_path, log_level="warning")
    try:
        with OvercastServer(config) as server:
            elb = server.client("elbv2")
            lb, _, _ = alb_with_targets(elb, [backend.port])
            port = port_of(lb)
            assert names(port, 1) == ["persisted"]
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        with OvercastServer(Config(data_dir=tmp_path, log_level="warning")) as server:
            wait_for(lambda: _answers(port))
            assert names(port, 2) == ["persisted", "persisted"]
    finally:
        backend.stop()


def _answers(port: int) -> bool:
    try:
        return get(f"http://127.0.0.1:{port}/", timeout=2)[0] == 200
    except OSError:
        return False


MULTI_VALUE_SOURCE = """
import json
def handler(event, context):
    return {
        "statusCode": 200,
        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"], "Content-Type": ["application/json"]},
        "body": json.dumps({"query": event["multiValueQueryStringParameters"],
                            "accept": event["multiValueHeaders"].get("accept")}),
    }
"""


def test_lambda_targets_with_multi_value_headers(overcast, elb):
    lam = overcast.client("lambda")
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("app.py", MULTI_VALUE_SOURCE)
    function = lam.create_function(FunctionName="multi", Runtime="python3.11", Role="arn:aws:iam::000000000000:role/r",
                                   Handler="app.handler", Code={"ZipFile": package.getvalue()})  # fmt: skip
    lb = elb.create_load_balancer(Name="multi", Subnets=shared_network(elb)[1])["LoadBalancers"][0]
    tg = elb.create_target_group(Name="multi-fn", TargetType="lambda")["TargetGroups"][0]
    elb.modify_target_group_attributes(
        TargetGroupArn=tg["TargetGroupArn"],
        Attributes=[{"Key": "lambda.multi_value_headers.enabled", "Value": "true"}],
    )
    elb.register_targets(TargetGroupArn=tg["TargetGroupArn"], Targets=[{"Id": function["FunctionArn"]}])
    elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])  # fmt: skip
    with socket.create_connection(("127.0.0.1", port_of(lb)), timeout=30) as raw:
        raw.sendall(
            b"GET /m?tag=a&tag=b%20c HTTP/1.1\r\nHost: x\r\nAccept: text/html\r\nAccept: application/json\r\nConnection: close\r\n\r\n"
        )
        reply = b""
        while chunk := raw.recv(65536):
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert head.count(b"Set-Cookie:") == 2
    answer = json.loads(body)
    assert answer == {"query": {"tag": ["a", "b%20c"]}, "accept": ["text/html", "application/json"]}


def test_a_tls_listener_of_a_network_load_balancer(overcast, elb):
    import ssl
    import urllib.request

    backend = socket.socket()
    backend.bind(("127.0.0.1", 0))
    backend.listen()

    def serve() -> None:
        while True:
            try:
                conn, _ = backend.accept()
            except OSError:
                return
            with conn:
                data = conn.recv(100)
                if data:
                    conn.sendall(data.upper())

    threading.Thread(target=serve, daemon=True).start()
    acm = overcast.client("acm")
    authority = (
        "arn:aws:acm-pca:us-east-1:000000000000:certificate-authority/12345678-1234-1234-1234-123456789012"
    )
    arn = acm.request_certificate(DomainName="tcp.internal", CertificateAuthorityArn=authority)[
        "CertificateArn"
    ]
    lb = elb.create_load_balancer(Name="tls-nlb", Type="network", Subnets=shared_network(elb)[1][:1])[
        "LoadBalancers"
    ][0]
    tg = elb.create_target_group(Name="plain", Protocol="TCP", Port=9, VpcId=lb["VpcId"], TargetType="ip")[
        "TargetGroups"
    ][0]
    elb.register_targets(
        TargetGroupArn=tg["TargetGroupArn"], Targets=[{"Id": "127.0.0.1", "Port": backend.getsockname()[1]}]
    )
    listener = elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="TLS", Port=443, Certificates=[{"CertificateArn": arn}],
                                   DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])["Listeners"][0]  # fmt: skip
    assert (
        listener["AlpnPolicy"] == ["None"] and listener["SslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    )
    root = urllib.request.urlopen(overcast.endpoint + "/_overcast/acm/ca.pem").read().decode()
    context = ssl.create_default_context(cadata=root)
    with (
        socket.create_connection(("127.0.0.1", port_of(lb)), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="tcp.internal") as tls,
    ):
        tls.sendall(b"hello")
        assert tls.recv(100) == b"HELLO"
    backend.close()


def test_a_udp_listener_relays_datagrams_both_ways(elb):
    echo = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    echo.bind(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                data, sender = echo.recvfrom(100)
            except OSError:
                return
            echo.sendto(b"pong:" + data, sender)

    threading.Thread(target=serve, daemon=True).start()
    lb = elb.create_load_balancer(Name="udp-nlb", Type="network", Subnets=shared_network(elb)[1][:1])[
        "LoadBalancers"
    ][0]
    tg = elb.create_target_group(Name="dns-like", Protocol="UDP", Port=53, VpcId=lb["VpcId"], TargetType="ip",
                                 HealthCheckProtocol="TCP", HealthCheckPort="80")["TargetGroups"][0]  # fmt: skip
    elb.register_targets(
        TargetGroupArn=tg["TargetGroupArn"], Targets=[{"Id": "127.0.0.1", "Port": echo.getsockname()[1]}]
    )
    elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="UDP", Port=53,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])  # fmt: skip
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.settimeout(2)

    def answered():
        client.sendto(b"ping", ("127.0.0.1", port_of(lb)))
        try:
            return client.recvfrom(100)[0]
        except TimeoutError:
            return None

    assert wait_for(answered) == b"pong:ping"
    client.close()
    echo.close()


def test_a_tcp_udp_listener_carries_both_protocols_on_one_port(elb):
    """A DNS-like target answering on TCP and UDP behind one TCP_UDP listener."""
    datagrams = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    datagrams.bind(("127.0.0.1", 0))
    port = datagrams.getsockname()[1]
    stream = socket.create_server(("127.0.0.1", port))

    def answer_datagrams() -> None:
        while True:
            try:
                data, sender = datagrams.recvfrom(100)
            except OSError:
                return
            datagrams.sendto(b"udp:" + data, sender)

    def answer_streams() -> None:
        while True:
            try:
                connection, _ = stream.accept()
            except OSError:
                return
            with connection:
                connection.sendall(b"tcp:" + connection.recv(100))

    for serve in (answer_datagrams, answer_streams):
        threading.Thread(target=serve, daemon=True).start()
    lb = elb.create_load_balancer(Name="dns-nlb", Type="network", Subnets=shared_network(elb)[1][:1])[
        "LoadBalancers"
    ][0]
    tg = elb.create_target_group(Name="dns", Protocol="TCP_UDP", Port=53, VpcId=lb["VpcId"],
                                 TargetType="ip")["TargetGroups"][0]  # fmt: skip
    elb.register_targets(TargetGroupArn=tg["TargetGroupArn"], Targets=[{"Id": "127.0.0.1", "Port": port}])
    listener = elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="TCP_UDP", Port=53,
                                   DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])  # fmt: skip
    assert listener["Listeners"][0]["Protocol"] == "TCP_UDP"
    front = port_of(lb)
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.settimeout(2)

    def answered_udp():
        client.sendto(b"query", ("127.0.0.1", front))
        try:
            return client.recvfrom(100)[0]
        except TimeoutError:
            return None

    try:
        assert wait_for(answered_udp) == b"udp:query"
        with socket.create_connection(("127.0.0.1", front), timeout=10) as connection:
            connection.sendall(b"query")
            assert connection.recv(100) == b"tcp:query"
    finally:
        client.close()
        datagrams.close()
        stream.close()


def test_proxy_protocol_v2_tells_the_target_who_connected(overcast, elb):
    """With proxy_protocol_v2.enabled, each connection to the target begins with a PROXY v2 header."""
    import ipaddress
    import struct

    target = socket.create_server(("127.0.0.1", 0))
    seen: list[bytes] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = target.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(10)
                data = b""
                while len(data) < 16 + 12 + 5:
                    chunk = conn.recv(100)
                    if not chunk:
                        break
                    data += chunk
                seen.append(data)
                conn.sendall(b"ok")

    threading.Thread(target=serve, daemon=True).start()
    lb = elb.create_load_balancer(Name="ppv2", Type="network", Subnets=shared_network(elb)[1][:1])[
        "LoadBalancers"
    ][0]
    tg = elb.create_target_group(Name="ppv2", Protocol="TCP", Port=80, VpcId=lb["VpcId"], TargetType="ip")[
        "TargetGroups"
    ][0]
    elb.modify_target_group_attributes(TargetGroupArn=tg["TargetGroupArn"],
                                       Attributes=[{"Key": "proxy_protocol_v2.enabled", "Value": "true"}])  # fmt: skip
    elb.register_targets(
        TargetGroupArn=tg["TargetGroupArn"], Targets=[{"Id": "127.0.0.1", "Port": target.getsockname()[1]}]
    )
    elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="TCP", Port=8080,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])  # fmt: skip
    try:
        with socket.create_connection(("127.0.0.1", port_of(lb)), timeout=10) as client:
            client.sendall(b"hello")
            assert client.recv(10) == b"ok"
            client_port = client.getsockname()[1]
        header = next(data for data in seen if data.endswith(b"hello"))  # health checks connect too
        assert header[:12] == b"\r\n\r\n\x00\r\nQUIT\n" and header[12] == 0x21 and header[13] == 0x11
        (length,) = struct.unpack("!H", header[14:16])
        source, destination = header[16:20], header[20:24]
        source_port, destination_port = struct.unpack("!HH", header[24:28])
        assert (
            length == 12 and str(ipaddress.IPv4Address(source)) == "127.0.0.1" and source_port == client_port
        )
        assert str(ipaddress.IPv4Address(destination)) == "127.0.0.1" and destination_port == 8080
        assert header[16 + length :] == b"hello"  # then the client's bytes
        local = b"\r\n\r\n\x00\r\nQUIT\n\x20\x00\x00\x00"  # a health check's header: LOCAL, no client
        wait_for(lambda: (overcast.advance_clock(10), local in seen)[1])
        assert all(data == local for data in seen if not data.endswith(b"hello"))
    finally:
        target.close()
