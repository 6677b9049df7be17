"""Header modification: response headers a listener sets (HSTS, CORS, ...) or removes (its Server header),
the TLS version and cipher an HTTPS listener tells targets under names of the listener's choosing, and request
headers with invalid names dropped when the load balancer says so."""

from __future__ import annotations

import json
import socket
import ssl
import urllib.request

from tests.helpers import shared_network
from tests.services.elbv2.conftest import alb_with_targets, get, port_of

AUTHORITY = (
    "arn:aws:acm-pca:us-east-1:000000000000:certificate-authority/12345678-1234-1234-1234-123456789012"
)


def raw_get(port: int, headers: str, context: ssl.SSLContext | None = None) -> tuple[str, dict]:
    """(status line and headers, JSON body) of a GET sent as raw bytes (to carry invalid header names)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        sock = context.wrap_socket(raw, server_hostname="headers.internal") if context else raw
        sock.sendall(
            f"GET /h HTTP/1.1\r\nHost: headers.internal\r\n{headers}Connection: close\r\n\r\n".encode()
        )
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    return head.decode(), {k.lower(): v for k, v in json.loads(body)["headers"].items()}


def test_listener_response_headers_and_invalid_request_headers(elb, backends):
    web = backends("web")
    lb, _, listener = alb_with_targets(elb, [web.port])
    port = port_of(lb)
    elb.create_rule(ListenerArn=listener["ListenerArn"], Priority=1,
                    Conditions=[{"Field": "path-pattern", "Values": ["/fixed"]}],
                    Actions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "200", "MessageBody": "ok"}}])  # fmt: skip
    status, headers, _ = get(f"http://127.0.0.1:{port}/fixed")
    assert headers["Server"] == "awselb/2.0" and "Strict-Transport-Security" not in headers

    elb.modify_listener_attributes(ListenerArn=listener["ListenerArn"], Attributes=[
        {"Key": "routing.http.response.server.enabled", "Value": "false"},
        {"Key": "routing.http.response.access_control_allow_origin.header_value", "Value": "https://app.example.com"},
        {"Key": "routing.http.response.x_frame_options.header_value", "Value": "DENY"},
    ])  # fmt: skip
    status, headers, _ = get(f"http://127.0.0.1:{port}/fixed")
    assert status == 200 and "Server" not in headers and headers["X-Frame-Options"] == "DENY"
    _, headers, _ = get(f"http://127.0.0.1:{port}/page")  # forwarded: the target's answer gets them too
    assert headers["Access-Control-Allow-Origin"] == "https://app.example.com"

    _, seen = raw_get(port, "X_Underscored: kept\r\nX-Valid: yes\r\n")
    assert seen["x_underscored"] == "kept" and seen["x-valid"] == "yes"
    elb.modify_load_balancer_attributes(LoadBalancerArn=lb["LoadBalancerArn"], Attributes=[
        {"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"}])  # fmt: skip
    _, seen = raw_get(port, "X_Underscored: dropped\r\nX-Valid: yes\r\n")
    assert "x_underscored" not in seen and seen["x-valid"] == "yes"


def test_tls_version_and_cipher_headers_under_the_listeners_names(overcast, elb, backends):
    web = backends("web")
    lb = elb.create_load_balancer(Name="tls-facts", Subnets=shared_network(elb)[1])["LoadBalancers"][0]
    tg = elb.create_target_group(Name="web", Protocol="HTTP", Port=80, VpcId=lb["VpcId"], TargetType="ip")[
        "TargetGroups"
    ][0]
    elb.register_targets(TargetGroupArn=tg["TargetGroupArn"], Targets=[{"Id": "127.0.0.1", "Port": web.port}])
    certificate = overcast.client("acm").request_certificate(
        DomainName="headers.internal", CertificateAuthorityArn=AUTHORITY
    )
    listener = elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTPS", Port=443,
                                   Certificates=[{"CertificateArn": certificate["CertificateArn"]}],
                                   DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])["Listeners"][0]  # fmt: skip
    described = {
        a["Key"]: a["Value"]
        for a in elb.describe_listener_attributes(ListenerArn=listener["ListenerArn"])["Attributes"]
    }
    assert described["routing.http.request.x_amzn_tls_version.header_name"] == "X-Amzn-Tls-Version"
    root = urllib.request.urlopen(overcast.endpoint + "/_overcast/acm/ca.pem").read().decode()
    context = ssl.create_default_context(cadata=root)
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    port = port_of(lb)

    _, seen = raw_get(port, "X-Amzn-Tls-Version: forged\r\n", context)
    assert "x-amzn-tls-version" not in seen  # off by default, and a client's own is not passed on
    elb.modify_load_balancer_attributes(LoadBalancerArn=lb["LoadBalancerArn"], Attributes=[
        {"Key": "routing.http.x_amzn_tls_version_and_cipher_suite.enabled", "Value": "true"}])  # fmt: skip
    _, seen = raw_get(port, "", context)
    assert seen["x-amzn-tls-version"] == "TLSv1.2" and seen["x-amzn-tls-cipher-suite"].startswith("ECDHE-")
    elb.modify_listener_attributes(ListenerArn=listener["ListenerArn"], Attributes=[
        {"Key": "routing.http.request.x_amzn_tls_version.header_name", "Value": "X-Tls"}])  # fmt: skip
    _, seen = raw_get(port, "", context)
    assert seen["x-tls"] == "TLSv1.2" and "x-amzn-tls-version" not in seen
