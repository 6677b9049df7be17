"""What the ELBv2 tests share: small HTTP servers on loopback ports standing in for instances, and a load
balancer with a target group of them."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.helpers import shared_network


class Backend:
    """An HTTP server answering every GET with {"name", "path", "headers"} (JSON), like an instance's page."""

    def __init__(self, name: str, status: int = 200) -> None:
        self.name = name
        self.status = status
        backend = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802
                body = json.dumps(
                    {"name": backend.name, "path": self.path, "headers": dict(self.headers)}
                ).encode()
                self.send_response(backend.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET  # noqa: N815

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def backends() -> Iterator[callable]:
    started: list[Backend] = []

    def start(name: str, status: int = 200) -> Backend:
        backend = Backend(name, status)
        started.append(backend)
        return backend

    yield start
    for backend in started:
        try:
            backend.stop()
        except OSError:
            pass


@pytest.fixture
def elb(overcast):
    return overcast.client("elbv2")


def get(url: str, headers: dict[str, str] | None = None, timeout: float = 10) -> tuple[int, dict, bytes]:
    """(status, headers, body) of a GET that follows no redirects."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def port_of(load_balancer: dict) -> int:
    """The loopback port of the load balancer's first listener (its DNS name ends with it)."""
    return int(load_balancer["DNSName"].rsplit(":", 1)[1])


def alb_with_targets(elb, ports: list[int], **target_group: object) -> tuple[dict, dict, dict]:
    """An ALB in two subnets with an HTTP:80 listener forwarding to an IP target group of `ports`."""
    _vpc, subnets = shared_network(elb)
    lb = elb.create_load_balancer(Name="lab-alb", Subnets=subnets)["LoadBalancers"][0]
    settings = {"HealthCheckIntervalSeconds": 10, "HealthCheckTimeoutSeconds": 2, "HealthyThresholdCount": 2,
                "UnhealthyThresholdCount": 2, **target_group}  # fmt: skip
    tg = elb.create_target_group(
        Name="lab-targets", Protocol="HTTP", Port=80, VpcId=lb["VpcId"], TargetType="ip", **settings
    )["TargetGroups"][0]
    elb.register_targets(
        TargetGroupArn=tg["TargetGroupArn"], Targets=[{"Id": "127.0.0.1", "Port": p} for p in ports]
    )
    listener = elb.create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}],
    )["Listeners"][0]  # fmt: skip
    return lb, tg, listener
