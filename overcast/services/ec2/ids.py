"""Resource ids as EC2 makes them: a prefix, a dash and 17 lowercase hex digits (`vpc-0253ab4d25d6c6b3e`)."""

from __future__ import annotations

import secrets


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(9)[:17]}"


def mac_address() -> str:
    """A locally administered unicast MAC, as EC2 gives interfaces (`0e:...`)."""
    octets = [0x0E, *secrets.token_bytes(5)]
    return ":".join(f"{octet:02x}" for octet in octets)
