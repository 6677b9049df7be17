"""DNS messages on the wire for the DNS server's hot path (pure).

dnspython builds a tree of objects for every message (about half a millisecond per answer here); a query is
a 12-byte header, one question and perhaps an EDNS OPT record, and an answer copies the question and appends
records, so this module reads and writes those directly. dnspython still encodes the record data of types
other than A and AAAA (once per value, cached), and anything this reader does not understand is left to the
server's dnspython path.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass
from functools import lru_cache

import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype

_HEADER = struct.Struct("!HHHHHH")
_RR = struct.Struct("!HHIH")
RCODES = {"NOERROR": 0, "FORMERR": 1, "SERVFAIL": 2, "NXDOMAIN": 3, "NOTIMP": 4, "REFUSED": 5}
OPT, ECS = 41, 8


@dataclass
class Query:
    id: int
    flags: int
    name: str  # lower case, final dot, as the resolver takes it
    type: int
    question: bytes  # the question section as sent (copied into the answer)
    edns: bool
    payload: int
    client_subnet: str | None  # the EDNS client subnet's address, when given


def _name(wire: bytes, offset: int) -> tuple[str, int]:
    """An uncompressed name (a question's) at `offset`: (text, offset after it)."""
    labels = []
    while True:
        length = wire[offset]
        if length == 0:
            return ".".join(labels).lower() + ".", offset + 1
        if length & 0xC0:
            raise ValueError("compressed name in a question")
        labels.append(wire[offset + 1 : offset + 1 + length].decode("ascii"))
        offset += 1 + length


def parse(wire: bytes) -> Query | None:
    """The query in `wire` if it is a plain one (one question, at most an OPT record); None otherwise."""
    try:
        ident, flags, qdcount, ancount, nscount, arcount = _HEADER.unpack_from(wire)
        if flags & 0x8000 or (flags >> 11) & 0xF or qdcount != 1 or ancount or nscount or arcount > 1:
            return None
        name, offset = _name(wire, 12)
        qtype, qclass = struct.unpack_from("!HH", wire, offset)
        end = offset + 4
        if qclass != 1:
            return None
        edns, payload, subnet = False, 512, None
        if arcount:
            if wire[end] != 0:
                return None
            rtype, payload, _, rdlength = struct.unpack_from("!HHIH", wire, end + 1)
            if rtype != OPT:
                return None
            edns = True
            position, stop = end + 11, end + 11 + rdlength
            while position + 4 <= stop:
                code, length = struct.unpack_from("!HH", wire, position)
                if code == ECS and length >= 4:
                    family, _, _ = struct.unpack_from("!HBB", wire, position + 4)
                    raw = wire[position + 8 : position + 4 + length]
                    size = 4 if family == 1 else 16
                    subnet = socket.inet_ntop(
                        socket.AF_INET if family == 1 else socket.AF_INET6, raw.ljust(size, b"\0")
                    )
                position += 4 + length
        return Query(ident, flags, name, qtype, wire[12:end], edns, max(payload, 512), subnet)
    except (IndexError, struct.error, UnicodeDecodeError, ValueError):
        return None


@lru_cache(maxsize=4096)
def type_code(kind: str) -> int:
    return dns.rdatatype.from_text(kind)


@lru_cache(maxsize=4096)
def type_text(code: int) -> str:
    return dns.rdatatype.to_text(code)


@lru_cache(maxsize=65536)
def rdata(kind: str, value: str) -> bytes:
    if kind == "A":
        return socket.inet_aton(value)
    if kind == "AAAA":
        return socket.inet_pton(socket.AF_INET6, value)
    parsed = dns.rdata.from_text(
        dns.rdataclass.IN, type_code(kind), value, origin=dns.name.root, relativize=False
    )
    return parsed.to_wire()


@lru_cache(maxsize=65536)
def encoded_name(name: str) -> bytes:
    return dns.name.from_text(name).to_wire()


def _record(owner: bytes, kind: str, ttl: int, value: str) -> bytes:
    data = rdata(kind, value)
    return owner + _RR.pack(type_code(kind), 1, ttl, len(data)) + data


def render(
    query: Query,
    rcode: str,
    authoritative: bool,
    answers: list[tuple[str, str, int, str]],
    authority: list[tuple[str, str, int, str]],
    limit: int,
) -> bytes:
    """The response to `query`; truncated (TC, no records) when it would exceed `limit` bytes."""
    flags = 0x8000 | (query.flags & 0x0100) | RCODES[rcode] | (0x0400 if authoritative else 0)
    body = [query.question]
    for owner, kind, ttl, value in answers:
        body.append(_record(b"\xc0\x0c" if owner == query.name else encoded_name(owner), kind, ttl, value))
    for owner, kind, ttl, value in authority:
        body.append(_record(encoded_name(owner), kind, ttl, value))
    opt = b"\x00" + _RR.pack(OPT, 1232, 0, 0) if query.edns else b""
    header = _HEADER.pack(query.id, flags, 1, len(answers), len(authority), 1 if opt else 0)
    message = header + b"".join(body) + opt
    if len(message) > limit:
        header = _HEADER.pack(query.id, flags | 0x0200, 1, 0, 0, 1 if opt else 0)
        return header + query.question + opt
    return message
