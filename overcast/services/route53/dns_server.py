"""The DNS server (`overcast start --dns-port 5353`): UDP and TCP on loopback, answering from the hosted zones
through the same resolver TestDNSAnswer uses (dnspython reads and writes the messages).

The client is the EDNS client subnet when the query carries one, else the sender; its region (latency,
geoproximity) is Overcast's default region and its location (geolocation) the one configured with
OVERCAST_DNS_LOCATION (for example `US-WA`, `DE` or `EU`), when set. Names outside the hosted zones are refused
(the server is authoritative, not recursive), except those Overcast serves itself: load balancers and other
`*.localhost` names answer with this machine's address.
"""

from __future__ import annotations

import asyncio
import logging
import os
import struct
from typing import TYPE_CHECKING

import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from overcast.services.route53 import wire as wire_format
from overcast.services.route53.resolver import Answer, Client

if TYPE_CHECKING:
    from overcast.services.route53.provider import Route53Provider

log = logging.getLogger("overcast")
CACHED_ANSWERS = 100_000


def location_setting() -> tuple[str | None, str | None, str | None] | None:
    """(continent, country, US state) from OVERCAST_DNS_LOCATION: "EU" (a continent), "DE", "US-WA"."""
    text = os.environ.get("OVERCAST_DNS_LOCATION", "").strip().upper()
    if not text:
        return None
    if text in ("AF", "AN", "AS", "EU", "NA", "OC", "SA") and "-" not in text:
        return text, None, None
    country, _, state = text.partition("-")
    return None, country, state or None


class DnsServer:
    def __init__(self, service: Route53Provider, host: str, port: int) -> None:
        self.service = service
        self.host, self.port = host, port
        self._udp: asyncio.DatagramTransport | None = None
        self._cache: dict[tuple[bytes, int | None, tuple[str, str] | None], bytes] = {}
        self._cache_version = -1
        self._tcp: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._udp, _ = await loop.create_datagram_endpoint(
            lambda: _Udp(self), local_addr=(self.host, self.port)
        )
        self._tcp = await asyncio.start_server(self._serve_tcp, self.host, self.port)
        log.info("DNS server on %s:%d (udp, tcp)", self.host, self.port)

    def stop(self) -> None:
        if self._udp is not None:
            self._udp.close()
        if self._tcp is not None:
            self._tcp.close()

    def answer(
        self, wire: bytes, sender: str, max_size: int | None, vpc: tuple[str, str] | None = None
    ) -> bytes | None:
        """The response to one query message; None for what is not a query.

        Answers that do not depend on a draw or on the client (resolver.Answer.stable) are kept, keyed by the
        query's bytes after its id, until the zones change: a repeated question costs a dictionary lookup."""
        version = self.service.version
        if self._cache_version != version:
            self._cache.clear()
            self._cache_version = version
        key = (wire[2:], max_size, vpc)
        cached = self._cache.get(key)
        if cached is not None:
            return wire[:2] + cached
        query = wire_format.parse(wire)
        if query is not None:
            try:
                reply, stable = self._answer_fast(query, sender, max_size, vpc)
            except (ValueError, KeyError, dns.exception.DNSException):
                pass  # a record the fast path cannot encode: dnspython's path says why in the log
            else:
                if stable:
                    if len(self._cache) >= CACHED_ANSWERS:
                        self._cache.clear()
                    self._cache[key] = reply[2:]
                return reply
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return None
        if query.flags & dns.flags.QR:
            return None
        response = dns.message.make_response(query)
        if not query.question:
            response.set_rcode(dns.rcode.FORMERR)
            return response.to_wire()
        question = query.question[0]
        address = sender
        for option in query.options:
            if isinstance(option, dns.edns.ECSOption):
                address = option.address
        client = Client(
            address=address,
            region=vpc[1] if vpc else self.service.platform.config.default_region,
            location=self.service.location,
            vpc=vpc,
        )
        result = self.service.resolver.resolve(
            question.name.to_text(), dns.rdatatype.to_text(question.rdtype), client
        )
        self._fill(response, result)
        subnet = address if address != sender else None
        self._log(
            result,
            question.name.to_text(),
            dns.rdatatype.to_text(question.rdtype),
            sender,
            max_size,
            subnet,
            vpc,
        )
        limit = max_size if max_size is not None else (max(query.payload, 512) if query.edns >= 0 else 512)
        try:
            return response.to_wire(max_size=limit)
        except dns.exception.TooBig:
            response.flags |= dns.flags.TC
            response.answer, response.authority = [], []
            return response.to_wire()

    def _answer_fast(
        self, query: wire_format.Query, sender: str, max_size: int | None, vpc: tuple[str, str] | None
    ) -> tuple[bytes, bool]:
        client = Client(
            address=query.client_subnet or sender,
            region=vpc[1] if vpc else self.service.platform.config.default_region,
            location=self.service.location,
            vpc=vpc,
        )
        result = self.service.resolver.resolve(query.name, wire_format.type_text(query.type), client)
        limit = max_size if max_size is not None else (query.payload if query.edns else 512)
        reply = wire_format.render(
            query, result.rcode, result.authoritative, result.records, result.authority, limit
        )
        logged = self._log(
            result, query.name, wire_format.type_text(query.type), sender, max_size, query.client_subnet, vpc
        )
        return reply, result.stable and not logged

    def _log(self, result: Answer, name: str, kind: str, sender: str, max_size: int | None, subnet: str | None,
             vpc: tuple[str, str] | None) -> bool:  # fmt: skip
        """Record the query when its public zone logs queries; whether it did (such answers are not kept)."""
        if (
            vpc is not None
            or result.zone_id is None
            or result.zone_id not in self.service.query_logs.targets()
        ):
            return False
        protocol = "TCP" if max_size else "UDP"
        self.service.query_logs.record(result.zone_id, name, kind, result.rcode, protocol, sender, subnet)
        return True

    @staticmethod
    def _fill(response: dns.message.Message, result: Answer) -> None:
        response.set_rcode(dns.rcode.from_text(result.rcode))
        if result.authoritative:
            response.flags |= dns.flags.AA
        else:
            response.flags &= ~dns.flags.AA
        for section, records in ((response.answer, result.records), (response.authority, result.authority)):
            grouped: dict[tuple[str, str], tuple[int, list[str]]] = {}
            for owner, kind, ttl, value in records:
                entry = grouped.setdefault((owner, kind), (ttl, []))
                entry[1].append(value)
            for (owner, kind), (ttl, values) in grouped.items():
                try:
                    section.append(
                        dns.rrset.from_text_list(
                            owner,
                            ttl,
                            dns.rdataclass.IN,
                            kind,
                            values,
                            origin=dns.name.root,
                            relativize=False,
                        )
                    )
                except (dns.exception.DNSException, ValueError):
                    log.warning("route53: the %s record of %s cannot be served: %s", kind, owner, values)

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sender = (writer.get_extra_info("peername") or ("127.0.0.1", 0))[0]
        try:
            while True:
                header = await asyncio.wait_for(reader.readexactly(2), 30)
                wire = await reader.readexactly(struct.unpack("!H", header)[0])
                reply = self.answer(wire, sender, 65535)
                if reply is None:
                    break
                writer.write(struct.pack("!H", len(reply)) + reply)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, TimeoutError):
            pass
        finally:
            writer.close()


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, server: DnsServer) -> None:
        self.server = server
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple) -> None:
        try:
            reply = self.server.answer(data, addr[0], None)
        except Exception:  # one bad query must not stop the server
            log.exception("route53: DNS query failed")
            return
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)
