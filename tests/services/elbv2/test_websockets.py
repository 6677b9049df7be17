"""WebSockets through an Application Load Balancer: the upgrade is forwarded to a target chosen by the rules,
and once the target switches protocols the connection carries frames both ways (websockets, a real client and
server)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect
from websockets.sync.server import Server, ServerConnection, serve

from tests.services.elbv2.conftest import alb_with_targets, port_of


@pytest.fixture
def chat() -> Iterator[Server]:
    """A WebSocket server that first tells what its handshake saw, then echoes every message upper-cased."""

    def handler(connection: ServerConnection) -> None:
        request = connection.request
        connection.send(
            json.dumps(
                {"path": request.path, "headers": {k.lower(): v for k, v in request.headers.raw_items()}}
            )
        )
        for message in connection:
            connection.send(message.upper())

    server = serve(handler, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    thread.join(5)


def test_a_websocket_connection_through_an_alb_carries_messages_both_ways(elb, chat):
    lb, _, listener = alb_with_targets(elb, [chat.socket.getsockname()[1]])
    elb.create_rule(
        ListenerArn=listener["ListenerArn"], Priority=1,
        Conditions=[{"Field": "path-pattern", "Values": ["/maintenance/*"]}],
        Actions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "503", "MessageBody": "later"}}],
    )  # fmt: skip
    port = port_of(lb)

    with connect(f"ws://127.0.0.1:{port}/chat?room=1", open_timeout=10) as ws:
        handshake = json.loads(ws.recv(timeout=10))
        for text in ("hello", "x" * 100_000):
            ws.send(text)
            assert ws.recv(timeout=10) == text.upper()
        ws.send(b"\x00\x01binary")
        assert ws.recv(timeout=10) == b"\x00\x01BINARY"

    assert handshake["path"] == "/chat?room=1"
    seen = handshake["headers"]
    assert seen["upgrade"].lower() == "websocket"
    assert seen["x-forwarded-for"] == "127.0.0.1"
    assert seen["x-forwarded-proto"] == "http"
    assert seen["x-amzn-trace-id"].startswith("Root=1-")
    assert "sec-websocket-key" in seen

    # The rules still decide: a fixed response refuses the upgrade with its status
    with pytest.raises(InvalidStatus) as refused:
        connect(f"ws://127.0.0.1:{port}/maintenance/x", open_timeout=10)
    assert refused.value.response.status_code == 503
    assert refused.value.response.body == b"later"


def test_a_target_that_does_not_switch_protocols_answers_over_http(elb, backends):
    web = backends("web")  # a plain HTTP server: answers the upgrade request with 200
    lb, _, _ = alb_with_targets(elb, [web.port])
    with pytest.raises(InvalidStatus) as refused:
        connect(f"ws://127.0.0.1:{port_of(lb)}/plain", open_timeout=10)
    assert refused.value.response.status_code == 200
    assert json.loads(refused.value.response.body)["name"] == "web"
