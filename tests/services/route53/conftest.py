"""A server with the DNS server on (`--dns-port`), and a query helper (dnspython as the client)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import dns.message
import dns.query
import pytest

from overcast.config import Config
from overcast.testing import OvercastServer


def free_port() -> int:
    """A port free for both UDP and TCP on loopback."""
    for _ in range(50):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("127.0.0.1", 0))
        port = udp.getsockname()[1]
        tcp = socket.socket()
        try:
            tcp.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            udp.close()
            tcp.close()
    raise RuntimeError("no free port")


@pytest.fixture(scope="module")
def dns_server() -> Iterator[OvercastServer]:
    with OvercastServer(Config(ephemeral=True, log_level="warning", dns_port=free_port())) as server:
        yield server


@pytest.fixture
def served(dns_server: OvercastServer) -> Iterator[OvercastServer]:
    yield dns_server
    dns_server.reset()


def ask(
    server: OvercastServer, name: str, kind: str = "A", tcp: bool = False, **options
) -> dns.message.Message:
    query = dns.message.make_query(name, kind, **options)
    port = server.config.dns_port
    if tcp:
        return dns.query.tcp(query, "127.0.0.1", port=port, timeout=5)
    return dns.query.udp(query, "127.0.0.1", port=port, timeout=5)


def addresses(answer: dns.message.Message) -> list[str]:
    return sorted(item.to_text() for rrset in answer.answer for item in rrset if rrset.rdtype in (1, 28))


def zone(client, name: str = "example.com") -> str:
    return client.create_hosted_zone(Name=name, CallerReference=name + "-ref")["HostedZone"]["Id"]


def change(client, zone_id: str, *record_sets: dict, action: str = "CREATE") -> dict:
    changes = [{"Action": action, "ResourceRecordSet": record_set} for record_set in record_sets]
    return client.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": changes})


def a_record(name: str, *values: str, ttl: int = 60, **extra) -> dict:
    return {"Name": name, "Type": "A", "TTL": ttl, "ResourceRecords": [{"Value": v} for v in values], **extra}
