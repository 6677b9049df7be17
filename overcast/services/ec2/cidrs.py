"""CIDR arithmetic as EC2 applies it, on the standard `ipaddress` module: VPC and subnet sizes, containment,
overlap, the five addresses AWS reserves in every subnet, and address ranges for the reachability engine."""

from __future__ import annotations

import ipaddress
import secrets
from ipaddress import IPv4Address, IPv4Network, IPv6Network

Network = IPv4Network | IPv6Network
SMALLEST_PREFIX, LARGEST_PREFIX = 16, 28  # a VPC or subnet is a /16 at most and a /28 at least
RESERVED_AT_START = 4  # network address, VPC router, DNS, future use
PRIVATE_RANGES = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
SHARED_RANGE = ipaddress.ip_network("100.64.0.0/10")  # RFC 6598
AMAZON_IPV6 = ipaddress.ip_network("2600:1f00::/24")  # where Amazon-provided /56s come from here


def parse_network(text: str) -> Network | None:
    """A CIDR block in canonical form (host bits clear), or None when `text` is not one."""
    try:
        return ipaddress.ip_network(text, strict=True)
    except (ValueError, TypeError):
        return None


def parse_ipv4_network(text: str) -> IPv4Network | None:
    network = parse_network(text)
    return network if isinstance(network, IPv4Network) else None


def parse_address(text: str) -> IPv4Address | None:
    try:
        address = ipaddress.ip_address(text)
    except (ValueError, TypeError):
        return None
    return address if isinstance(address, IPv4Address) else None


def size_allowed(network: Network) -> bool:
    return SMALLEST_PREFIX <= network.prefixlen <= LARGEST_PREFIX


def overlaps(network: Network, others: list[Network]) -> bool:
    return any(network.version == other.version and network.overlaps(other) for other in others)


def within(network: Network, parents: list[Network]) -> bool:
    return any(network.version == parent.version and network.subnet_of(parent) for parent in parents)


def first_usable(network: IPv4Network) -> int:
    return int(network.network_address) + RESERVED_AT_START


def last_usable(network: IPv4Network) -> int:
    return int(network.broadcast_address) - 1


def is_reserved(network: IPv4Network, address: IPv4Address) -> bool:
    value = int(address)
    return value < first_usable(network) or value > last_usable(network)


def amazon_ipv6_block() -> IPv6Network:
    """A fresh Amazon-provided /56 (random within Overcast's pool)."""
    offset = secrets.randbits(56 - AMAZON_IPV6.prefixlen) << (128 - 56)
    return ipaddress.IPv6Network((int(AMAZON_IPV6.network_address) + offset, 56))


def ipv6_subnet_allowed(network: Network, vpc_blocks: list[Network]) -> bool:
    """An IPv6 subnet block is a /64 (AWS also allows /44-/64 today; /64 is what everyone uses) in the VPC's /56."""
    return isinstance(network, IPv6Network) and 44 <= network.prefixlen <= 64 and within(network, vpc_blocks)


def public_ipv4() -> str:
    """A public-looking address for an Elastic or auto-assigned public IP (never in a private range)."""
    first = secrets.choice((3, 18, 34, 35, 44, 52, 54))
    return f"{first}.{secrets.randbelow(256)}.{secrets.randbelow(256)}.{1 + secrets.randbelow(254)}"
