"""The host's way into a VPC: a veth pair from the host's network namespace to the VPC's router namespace
(`vpc_router.py`) and a host route for each of the VPC's CIDR blocks through it, so `curl http://10.0.1.5/`
on this machine reaches the instance at that private IP.

Host safety: a block is routed only when it overlaps no route (other than a default route) and no address the
host already has, so nothing the host reached before is diverted; the route leads into Overcast's own router
namespace, which delivers everything it receives locally (it forwards nothing), so VPC traffic never leaves
the machine. The host's end of every link holds `HOST_ADDRESS` (a link-local /32, the source of the host's
packets); each link is named `ovch<pid>v<n>` and carries the alias `overcast-ec2 <pid> <start time>` naming
the Overcast process that owns it, so links a crashed Overcast left are found and removed at the next start
(the kernel removes them itself when the router's namespace dies, which a kill -9 causes). All through `ip`.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import subprocess
from pathlib import Path

log = logging.getLogger("overcast.ec2")
HOST_ADDRESS = "169.254.77.1"  # the host's end of every host link: the source the instances see
ROUTER_ADDRESS = "169.254.1.1"  # the router's end (as on the instances' links)
ROUTER_SIDE = "host0"  # the router's end, inside its namespace
PREFIX = "ovch"
ALIAS = "overcast-ec2"
_links_made = 0


def _ip(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10)


def veth_available() -> bool:
    """Whether this machine makes veth pairs (tried in a namespace of its own, so the host sees nothing)."""
    try:
        done = subprocess.run(["unshare", "--net", "ip", "link", "add", "probe0", "type", "veth", "peer", "name", "probe1"],
                              capture_output=True, timeout=10)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _ip_json(*args: str) -> list[dict] | None:
    """`ip -j <args>` read, or None when `ip` fails or cannot answer in JSON (an old iproute2)."""
    done = _ip("-j", *args)
    try:
        found = json.loads(done.stdout or "[]") if done.returncode == 0 else None
    except ValueError:
        return None
    return found if isinstance(found, list) else None


def _start_time(pid: int) -> str:
    """A process's start time (field 22 of /proc/<pid>/stat): a pid reused by another process differs."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def _own_alias() -> str:
    return f"{ALIAS} {os.getpid()} {_start_time(os.getpid())}"


def host_networks() -> list[tuple[ipaddress.IPv4Network, str]] | None:
    """Every IPv4 network the host routes (any table, default routes aside) or holds an address in, with
    the device it is on; None when `ip` cannot tell."""
    routes, addresses = _ip_json("-4", "route", "show", "table", "all"), _ip_json("-4", "addr", "show")
    if routes is None or addresses is None:
        return None
    found: list[tuple[ipaddress.IPv4Network, str]] = []
    for route in routes:
        destination = route.get("dst", "")
        if destination in ("", "default", "0.0.0.0/0"):
            continue
        try:
            found.append((ipaddress.ip_network(destination, strict=False), route.get("dev", "")))
        except ValueError:
            continue
    for link in addresses:
        for address in link.get("addr_info", []):
            network = ipaddress.ip_network(f"{address['local']}/{address['prefixlen']}", strict=False)
            found.append((network, link.get("ifname", "")))
    return found


def conflicts(block: str) -> str | None:
    """What on the host a VPC block overlaps (`10.0.0.0/8 on eth0`), or None when it can be routed."""
    wanted, networks = ipaddress.ip_network(block), host_networks()
    if networks is None:
        return "routes (`ip -j` cannot list them here)"
    for network, device in networks:
        if network.overlaps(wanted):
            return f"{network} on {device or 'the host'}"
    return None


def host_address_free() -> str | None:
    """What holds `HOST_ADDRESS` on the host besides Overcast's links (None: it is free to use)."""
    address, networks = ipaddress.ip_address(HOST_ADDRESS), host_networks()
    if networks is None:
        return "routes (`ip -j` cannot list them here)"
    for network, device in networks:
        if address in network and not device.startswith(PREFIX):
            return f"{network} on {device or 'the host'}"
    return None


def link_to(router_pid: int) -> str:
    """A veth pair from the host to a router's namespace, up, with `HOST_ADDRESS` on the host's end and
    `ROUTER_ADDRESS` on the router's (`host0`). Its host name. Raises OSError when `ip` refuses."""
    global _links_made
    _links_made += 1
    name = f"{PREFIX}{os.getpid()}v{_links_made}"[:15]
    made = _ip("link", "add", name, "type", "veth", "peer", "name", ROUTER_SIDE, "netns", str(router_pid))
    if made.returncode != 0:
        raise OSError(f"ip link add {name}: {made.stderr.strip()}")
    try:
        _set_up(name, router_pid)
    except OSError:
        remove(name)
        raise
    return name


def _set_up(name: str, router_pid: int) -> None:
    try:  # the host keeps its IPv6 to itself: no link-local address or route on this link
        Path(f"/proc/sys/net/ipv6/conf/{name}/disable_ipv6").write_text("1")
    except OSError:
        pass
    host_side = [
        f'link set {name} alias "{_own_alias()}"',
        f"addr add {HOST_ADDRESS}/32 dev {name} scope link",
        f"link set {name} up",
    ]
    router_side = [
        f"addr add {ROUTER_ADDRESS}/32 dev {ROUTER_SIDE}",
        f"link set {ROUTER_SIDE} up",
        f"route add {HOST_ADDRESS}/32 dev {ROUTER_SIDE}",
        f"rule add iif {ROUTER_SIDE} lookup 100",  # what the host sends is delivered to the router
    ]
    for prefix, batch in (
        (["ip"], host_side),
        (["nsenter", f"--net=/proc/{router_pid}/ns/net", "ip"], router_side),
    ):
        done = subprocess.run([*prefix, "-batch", "-"], input="\n".join(batch), capture_output=True, text=True,
                              timeout=10)  # fmt: skip
        if done.returncode != 0:
            raise OSError(f"setting up {name}: {done.stderr.strip()}")


def route(name: str, block: str) -> None:
    """The host routes a VPC block through its link (raises OSError when `ip` refuses, e.g. it exists)."""
    done = _ip("route", "add", block, "via", ROUTER_ADDRESS, "dev", name, "onlink", "src", HOST_ADDRESS)
    if done.returncode != 0:
        raise OSError(f"ip route add {block} dev {name}: {done.stderr.strip()}")


def remove(name: str) -> None:
    """Delete a host link (both ends, and the routes through it go with it)."""
    _ip("link", "del", name)


def owned_links() -> list[tuple[str, int, str]]:
    """Overcast's host links on this machine: (name, owner pid, owner's start time)."""
    found = []
    for link in _ip_json("-d", "link", "show") or []:
        words = str(link.get("ifalias", "")).split()
        name = link.get("ifname", "")
        if name.startswith(PREFIX) and words[:1] == [ALIAS] and len(words) == 3 and words[1].isdigit():
            found.append((name, int(words[1]), words[2]))
    return found


def sweep() -> list[str]:
    """Remove the host links whose Overcast process is gone (a crash): the names removed."""
    removed = []
    for name, pid, started in owned_links():
        if _start_time(pid) != started:  # not running, or the pid is another process's now
            remove(name)
            removed.append(name)
    return removed
