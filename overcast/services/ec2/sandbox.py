"""Instances that run: each running instance with user data (or started with one before) is a sandbox, a
process tree on this machine started by `sandbox_init.py`.

Where Linux namespaces can be made (root, as in CI, or user namespaces), the sandbox has its own PID, UTS, IPC,
mount and network namespaces (`unshare`): its own hostname (`ip-10-0-1-4.ec2.internal`), a network holding
only its private IP and the metadata address on loopback (its traffic cannot leave it except through
Overcast: the metadata service and the AWS endpoint, forwarded over Unix sockets), and the host's files
read-only under its own writable directories. `unshare --kill-child` dies with Overcast (PR_SET_PDEATHSIG)
and takes the namespace's PID 1 with it, and the kernel ends every process of a PID namespace whose PID 1
dies: a crash leaves no process and no namespace behind. Elsewhere it is a plain process group (and the
start-up log says so); processes left by a crash are found by their environment and ended at the next start.

What the sandbox keeps (`<data dir>/ec2-instances/<instance id>/`): its directories (kept across stop/start,
removed on terminate), its console output. The metadata service is served here (`Imds`), per instance.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from overcast.services.ec2 import host_link
from overcast.services.ec2.imds import Imds

if TYPE_CHECKING:
    from overcast.platform import Platform
    from overcast.services.ec2.store import Resource

log = logging.getLogger("overcast.ec2")
WRITABLE = ("/root", "/home", "/srv", "/opt", "/tmp", "/var/tmp", "/var/log", "/var/www", "/mnt")
UNSHARE = ["unshare", "--pid", "--fork", "--kill-child", "--mount-proc", "--mount", "--uts", "--ipc", "--net"]
CONSOLE_LIMIT = 1 << 20  # bytes of console output kept per instance
_PR_SET_PDEATHSIG = 1
try:
    _libc: Any = ctypes.CDLL(None, use_errno=True)
except OSError:  # pragma: no cover - not Linux
    _libc = None


def namespaces_available() -> bool:
    """Whether this machine lets Overcast make the sandbox's namespaces (tried once, with nothing in them)."""
    if sys.platform != "linux" or shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    try:
        done = subprocess.run([*UNSHARE, "ip", "link", "set", "lo", "up"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


class Sandbox:
    def __init__(self, instance_id: str, directory: Path) -> None:
        self.instance_id = instance_id
        self.directory = directory
        self.process: subprocess.Popen | None = None
        self.servers: list[asyncio.base_events.Server] = []
        self.console = directory / "console.log"


ROUTER_UNSHARE = ["unshare", "--net", "--pid", "--fork", "--kill-child"]
ROUTER_ADDRESS = "169.254.1.1"  # the router's end of every instance's link
COMMON_PORTS = (22, 80, 443, 3306, 5432, 6379, 8000, 8080, 8443, 9000)
MAX_ROUTER_PORTS = 512


class Router:
    """A VPC's router namespace (`vpc_router.py`): what links its sandboxes to each other."""

    def __init__(self, vpc_id: str, directory: Path) -> None:
        self.vpc_id = vpc_id
        self.directory = directory
        self.process: subprocess.Popen | None = None
        self.server: asyncio.base_events.Server | None = None
        # its veth to the host (host_link.py), once the host routes a block of the VPC through it
        self.host_link: str | None = None
        self.host_blocks: set[str] = set()  # the VPC blocks the host routes through it
        self.host_refused: set[str] = set()  # blocks the host keeps (already logged)


class Sandboxes:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.root = platform.root / "ec2-instances"
        self.imds = Imds(platform)
        self._running: dict[str, Sandbox] = {}  # one per running sandbox (bounded by running instances)
        self._namespaces: bool | None = None
        self._routers: dict[str, Router] = {}  # one per VPC with running sandboxes
        self._router_lock = asyncio.Lock()

    @property
    def namespaces(self) -> bool:
        if self._namespaces is None:
            self._namespaces = namespaces_available()
            if not self._namespaces:
                log.warning("EC2: Linux namespaces are not available here: instances run user data as plain "
                            "processes on loopback, without their own network")  # fmt: skip
        return self._namespaces

    def directory(self, instance_id: str) -> Path:
        return self.root / instance_id

    # -- after a transaction commits -------------------------------------------------------------------

    def boot_after_commit(self, instance: Resource) -> None:
        info = self._boot_info(instance)
        self.platform.db.after_commit(lambda: self.platform.spawn(self.boot(info)))

    def halt_after_commit(self, instance_id: str) -> None:
        self.platform.db.after_commit(lambda: self.halt(instance_id))

    def remove_after_commit(self, instance_id: str) -> None:
        def remove() -> None:
            self.halt(instance_id)
            shutil.rmtree(self.directory(instance_id), ignore_errors=True)

        self.platform.db.after_commit(remove)

    def reboot_after_commit(self, instance_id: str) -> None:
        sandbox = self._running.get(instance_id)
        if sandbox is None:
            return
        self.platform.db.after_commit(lambda: self.platform.spawn(self._reboot(instance_id)))

    async def _reboot(self, instance_id: str) -> None:
        from overcast.services.ec2.api import provider

        self.halt(instance_id)
        with self.platform.db.transaction():
            instance = provider(self.platform).store.get(instance_id)
            info = self._boot_info(instance) if instance is not None else None
        if info is not None:
            await self.boot(info)

    def _boot_info(self, instance: Resource) -> dict[str, Any]:
        from overcast.services.ec2 import zones
        from overcast.services.ec2.api import provider

        eni = provider(self.platform).net.interface_of_instance(
            instance.account, instance.region, instance.id
        )
        private_ip = eni.body["PrivateIpAddress"] if eni else "127.0.0.2"
        return {
            "instance_id": instance.id,
            "private_ip": private_ip,
            "hostname": zones.private_dns_name(private_ip, instance.region),
            "region": instance.region,
            "user_data": instance.body.get("_UserData"),
            "first_boot": not instance.body.get("_Booted"),
            "public_key": instance.body.get("_PublicKey"),
            "windows": instance.body.get("Platform") == "windows",
            "vpc_id": instance.vpc_id,
            "vpc_blocks": self._vpc_blocks(instance.vpc_id),
        }

    def _vpc_blocks(self, vpc_id: str | None) -> list[str]:
        from overcast.services.ec2.api import provider

        vpc = provider(self.platform).store.get(vpc_id or "")
        if vpc is None:
            return []
        return [a["CidrBlock"] for a in vpc.body["CidrBlockAssociationSet"]
                if a["CidrBlockState"]["State"] == "associated"]  # fmt: skip

    # -- the sandbox's life ----------------------------------------------------------------------------

    def wanted(self, info: dict[str, Any]) -> bool:
        """A sandbox is made for a Linux instance that has user data or ran before (its files are kept); a
        Windows instance is a record."""
        if info.get("windows"):
            return False
        return bool(info["user_data"]) or self.directory(info["instance_id"]).exists()

    async def boot(self, info: dict[str, Any]) -> None:
        instance_id = info["instance_id"]
        if instance_id in self._running or not self.wanted(info):
            return
        directory = self.directory(instance_id)
        sandbox = Sandbox(instance_id, directory)
        self._running[instance_id] = sandbox
        try:
            await self._start(sandbox, info)
        except Exception:  # a sandbox that cannot start leaves the instance a record
            log.exception("EC2: the sandbox of %s did not start", instance_id)
            self.halt(instance_id)

    async def _start(self, sandbox: Sandbox, info: dict[str, Any]) -> None:
        import base64

        directory = sandbox.directory
        root = directory / "root"
        for path in WRITABLE:
            (root / path.lstrip("/")).mkdir(parents=True, exist_ok=True)
        (root / "tmp").chmod(0o1777)
        if info["public_key"]:
            ssh = root / "root" / ".ssh"
            ssh.mkdir(mode=0o700, exist_ok=True)
            (ssh / "authorized_keys").write_text(info["public_key"] + "\n")
        user_data = directory / "user-data"
        if info["user_data"]:
            user_data.write_bytes(base64.b64decode(info["user_data"]))
        sockets = {name: directory / f"{name}.sock" for name in ("imds", "api", "in")}
        for path in sockets.values():
            path.unlink(missing_ok=True)
        instance_id = info["instance_id"]
        sandbox.servers.append(
            await asyncio.start_unix_server(self.imds.handler(instance_id), str(sockets["imds"]))
        )
        port = self.platform.config.port
        sandbox.servers.append(await asyncio.start_unix_server(_forward_to(port), str(sockets["api"])))
        in_namespace = self.namespaces
        boot = {
            "mode": "ns" if in_namespace else "plain",
            "private_ip": info["private_ip"],
            "hostname": info["hostname"],
            "region": info["region"],
            "root": str(root),
            "writable": list(WRITABLE),
            "user_data": str(user_data) if info["user_data"] else "",
            "first_boot": info["first_boot"],
            "imds_sock": str(sockets["imds"]),
            "api_sock": str(sockets["api"]),
            "in_sock": str(sockets["in"]),
            "api_port": port,
            "overcast_port": port,
            "wait_link": bool(in_namespace and info.get("vpc_id")),
        }
        (directory / "boot.json").write_text(json.dumps(boot))
        # -S: no site initialisation (tens of milliseconds at every boot); PyYAML (cloud-config) by its path
        command = [sys.executable, "-S", str(Path(__file__).with_name("sandbox_init.py")), str(directory)]
        if in_namespace:
            command = [*UNSHARE, *command]
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": _yaml_path(),
            "OVERCAST_EC2_SANDBOX": "1",
            "OVERCAST_EC2_SERVER_PID": str(os.getpid()),
        }
        console = open(sandbox.console, "ab")  # noqa: SIM115 - the child writes to it; closed below
        try:
            sandbox.process = subprocess.Popen(
                command, env=env, stdin=subprocess.DEVNULL, stdout=console, stderr=subprocess.STDOUT,
                start_new_session=True, preexec_fn=_die_with_parent, cwd=str(directory),
            )  # fmt: skip
        finally:
            console.close()
        if in_namespace and info.get("vpc_id"):
            try:
                await self._link(sandbox, info)
            except (OSError, subprocess.SubprocessError, TimeoutError):
                log.exception("EC2: the sandbox of %s is not linked to its VPC", instance_id)
            (directory / "linked").write_text("1")

    # -- the VPC's router -------------------------------------------------------------------------------

    async def _router(self, vpc_id: str, blocks: list[str]) -> Router:
        async with self._router_lock:  # sandboxes booting together share one router
            router = await self._start_router(vpc_id)
            try:
                await asyncio.to_thread(self._route_from_host, router, blocks)
            except Exception:  # the host's way in is an extra: the instances run without it
                log.exception("EC2: the host is not routed to %s", vpc_id)
            return router

    def _route_from_host(self, router: Router, blocks: list[str]) -> None:
        """The host routes the VPC's blocks to its router (host_link.py), those that overlap nothing the host
        has; the others stay reachable at the internal endpoint only (and the log says why)."""
        assert router.process is not None
        for block in (b for b in blocks if b not in router.host_blocks):
            conflict = host_link.conflicts(block)
            if conflict is None and router.host_link is None:
                conflict = host_link.host_address_free()
            if conflict is not None:
                if block not in router.host_refused:
                    router.host_refused.add(block)
                    log.warning("EC2: %s of %s overlaps the host's %s: the host is not routed to it; it reaches "
                                "the VPC's instances at /_overcast/ec2/instances/<id>/http/<port>/ only",
                                block, router.vpc_id, conflict)  # fmt: skip
                continue
            try:
                if router.host_link is None:
                    router.host_link = host_link.link_to(router.process.pid)
                host_link.route(router.host_link, block)
            except (OSError, subprocess.SubprocessError) as error:
                log.warning("EC2: the host is not routed to %s of %s: %s", block, router.vpc_id, error)
                router.host_refused.add(block)
                continue
            router.host_blocks.add(block)
            log.info("EC2: the host reaches %s (%s) through %s", block, router.vpc_id, router.host_link)

    async def _start_router(self, vpc_id: str) -> Router:
        router = self._routers.get(vpc_id)
        if router is not None and router.process is not None and router.process.poll() is None:
            return router
        directory = self.root / "vpc-routers" / vpc_id
        directory.mkdir(parents=True, exist_ok=True)
        router = Router(vpc_id, directory)
        decide = directory / "decide.sock"
        decide.unlink(missing_ok=True)
        with _through_descriptor(decide) as path:
            router.server = await asyncio.start_unix_server(self._decider(vpc_id), path)
        (directory / "ports.json").write_text(json.dumps(self._router_ports(vpc_id)))
        log_file = directory / "router.log"
        log_file.write_bytes(b"")
        with open(log_file, "ab") as output:
            router.process = subprocess.Popen(
                [*ROUTER_UNSHARE, sys.executable, "-m", "overcast.services.ec2.vpc_router", str(directory)],
                env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                     "PYTHONPATH": str(Path(__file__).resolve().parents[3])},
                stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=_die_with_parent,
            )  # fmt: skip
        for _ in range(200):
            if b"ready" in log_file.read_bytes() or router.process.poll() is not None:
                break
            await asyncio.sleep(0.05)
        else:
            raise TimeoutError(f"the router of {vpc_id} did not start")
        self._routers[vpc_id] = router
        return router

    def ports_changed_after_commit(self, vpc_id: str | None) -> None:
        """A security group rule of the VPC was added: its router listens on the ports it opens."""
        if vpc_id and vpc_id in self._routers:
            self.platform.db.after_commit(lambda: self.platform.spawn(self._open_ports(vpc_id)))

    async def _open_ports(self, vpc_id: str) -> None:
        router = self._routers.get(vpc_id)
        if router is None:
            return
        ports = self._router_ports(vpc_id)
        try:
            with _through_descriptor(router.directory / "control.sock") as path:
                reader, writer = await asyncio.open_unix_connection(path)
            writer.write(("listen " + " ".join(map(str, ports)) + "\n").encode())
            await writer.drain()
            await reader.readline()
            writer.close()
        except OSError:
            log.warning("EC2: the router of %s did not take its new ports", vpc_id)

    def _router_ports(self, vpc_id: str) -> list[int]:
        """The ports the router listens on: those the VPC's security groups open (ranges of a few hundred
        ports at most), and common ones for wider rules."""
        from overcast.services.ec2 import kinds
        from overcast.services.ec2.api import provider

        ec2 = provider(self.platform)
        ports: set[int] = set()
        with self.platform.db.transaction():
            groups = ec2.store.in_vpc(vpc_id, kinds.SECURITY_GROUP.name)
            rules = ec2.store.rules_of([g.id for g in groups])
        for rule in (r for found in rules.values() for r in found if not r.egress):
            protocol = str(rule.body.get("IpProtocol"))
            low, high = rule.body.get("FromPort", -1), rule.body.get("ToPort", -1)
            if protocol in ("tcp", "6") and 0 <= low <= high and high - low < 256:
                ports.update(range(low, high + 1))
            elif protocol in ("tcp", "6", "-1"):
                ports.update(COMMON_PORTS)
        return sorted(ports)[:MAX_ROUTER_PORTS]

    def _decider(self, vpc_id: str):
        """Answers the router: may `source` reach `destination` on a TCP port? The reachability engine says."""
        from overcast.services.ec2 import api

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                source, destination, port = (await reader.readline()).decode().split()
                allowed = self._reachable(vpc_id, source, destination, int(port), api)
            except (ValueError, KeyError, OSError):
                log.exception("EC2: the router of %s asked something unanswerable", vpc_id)
                allowed = False
            writer.write(b"allow\n" if allowed else b"deny\n")
            try:
                await writer.drain()
            finally:
                writer.close()

        return handle

    def _reachable(self, vpc_id: str, source: str, destination: str, port: int, api: Any) -> bool:
        import ipaddress

        ec2 = api.provider(self.platform)
        if source == host_link.HOST_ADDRESS:  # the host: a client outside the VPC, as the internal endpoint
            with self.platform.db.transaction():
                holders = [h for s, h in ec2.store.holders_of_ip(int(ipaddress.ip_address(destination)))
                           if (found := ec2.store.get(s)) is not None and found.vpc_id == vpc_id]  # fmt: skip
            return bool(holders) and ec2.reach_from_internet(holders[0], port) is None
        with self.platform.db.transaction():
            ends = []
            for address in (source, destination):
                holders = [h for s, h in ec2.store.holders_of_ip(int(ipaddress.ip_address(address)))
                           if (found := ec2.store.get(s)) is not None and found.vpc_id == vpc_id]  # fmt: skip
                if not holders:
                    return False
                ends.append(holders[0])
        return api.reachable(self.platform, ends[0], ends[1], "tcp", port).reachable

    async def _link(self, sandbox: Sandbox, info: dict[str, Any]) -> None:
        """A veth pair from the sandbox's namespace (eth0, holding its private IP) to its VPC's router."""
        router = await self._router(info["vpc_id"], info["vpc_blocks"])
        assert router.process is not None and sandbox.process is not None
        link = "v" + info["instance_id"].split("-", 1)[1][:12]
        ip = info["private_ip"]
        router_side = [
            f"link add {link} type veth peer name eth0 netns {sandbox.process.pid}",
            f"addr add {ROUTER_ADDRESS}/32 dev {link}",
            f"link set {link} up",
            f"route replace {ip}/32 dev {link}",
            f"rule add iif {link} lookup 100",
        ]
        sandbox_side = [
            f"addr add {ip}/32 dev eth0",
            "link set eth0 up",
            f"route add {ROUTER_ADDRESS}/32 dev eth0",
            f"route add {host_link.HOST_ADDRESS}/32 via {ROUTER_ADDRESS} dev eth0 onlink",  # replies to the host
            *(f"route add {block} via {ROUTER_ADDRESS} dev eth0 onlink" for block in info["vpc_blocks"]),
        ]
        for _ in range(100):  # the sandbox's namespace exists once unshare has made it
            if Path(f"/proc/{sandbox.process.pid}/ns/net").exists() and os.readlink(
                f"/proc/{sandbox.process.pid}/ns/net") != os.readlink("/proc/self/ns/net"):  # fmt: skip
                break
            await asyncio.sleep(0.01)
        for namespace_of, batch in ((router.process.pid, router_side), (sandbox.process.pid, sandbox_side)):
            command = ["nsenter", f"--net=/proc/{namespace_of}/ns/net", "ip", "-batch", "-"]
            done = await asyncio.to_thread(subprocess.run, command, input="\n".join(batch).encode(),
                                           capture_output=True, timeout=10)  # fmt: skip
            if done.returncode != 0:
                log.warning(
                    "EC2: linking %s: %s", info["instance_id"], done.stderr.decode(errors="replace").strip()
                )

    def halt(self, instance_id: str) -> None:
        """End a sandbox's processes (all of them: the namespace's PID 1 takes the rest with it)."""
        sandbox = self._running.pop(instance_id, None)
        if sandbox is None:
            return
        for server in sandbox.servers:
            server.close()
        process = sandbox.process
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                log.warning("EC2: the sandbox of %s did not end", instance_id)

    def running(self, instance_id: str) -> Sandbox | None:
        return self._running.get(instance_id)

    def stop_all(self) -> None:
        for instance_id in list(self._running):
            self.halt(instance_id)
        for router in self._routers.values():
            if router.host_link is not None:  # the host's routes to the VPC go with its link
                host_link.remove(router.host_link)
            if router.server is not None:
                router.server.close()
            if router.process is not None and router.process.poll() is None:
                try:
                    os.killpg(router.process.pid, signal.SIGKILL)
                    router.process.wait(timeout=5)
                except (ProcessLookupError, PermissionError, subprocess.TimeoutExpired):
                    pass
        self._routers.clear()

    def reset(self) -> None:
        self.stop_all()
        shutil.rmtree(self.root, ignore_errors=True)

    def console(self, instance_id: str) -> bytes:
        path = self.directory(instance_id) / "console.log"
        try:
            with open(path, "rb") as file:
                size = file.seek(0, os.SEEK_END)
                file.seek(max(0, size - CONSOLE_LIMIT))
                return file.read()
        except OSError:
            return b""

    async def connect(
        self, instance_id: str, port: int
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        """A connection to a port of a running sandbox (from inside its network), or None when nothing listens."""
        sandbox = self._running.get(instance_id)
        if sandbox is None:
            return None
        try:
            reader, writer = await asyncio.open_unix_connection(str(sandbox.directory / "in.sock"))
        except OSError:
            return None
        writer.write(f"{port}\n".encode())
        await writer.drain()
        if (await reader.readline()).strip() != b"ok":
            writer.close()
            return None
        return reader, writer

    # -- images ----------------------------------------------------------------------------------------

    def snapshot_root(self, instance_id: str, image_id: str) -> None:
        """CreateImage: the instance's directories become the image's (copied once the request commits)."""
        source, target = self.directory(instance_id) / "root", self.root / "images" / image_id

        def copy() -> None:
            if source.exists():
                shutil.copytree(source, target, symlinks=True, dirs_exist_ok=True)

        self.platform.db.after_commit(copy)

    def seed_from_image(self, instance_id: str, image_id: str) -> None:
        """A launch from an image made by CreateImage starts with the image's directories."""
        source, target = self.root / "images" / image_id, self.directory(instance_id) / "root"

        def copy() -> None:
            if source.exists():
                shutil.copytree(source, target, symlinks=True, dirs_exist_ok=True)

        self.platform.db.after_commit(copy)

    def copy_image(self, source_id: str, image_id: str) -> None:
        """CopyImage: the copy has the source's files (once the request commits)."""
        source, target = self.root / "images" / source_id, self.root / "images" / image_id

        def copy() -> None:
            if source.exists():
                shutil.copytree(source, target, symlinks=True, dirs_exist_ok=True)

        self.platform.db.after_commit(copy)

    def forget_image(self, image_id: str) -> None:
        target = self.root / "images" / image_id
        self.platform.db.after_commit(lambda: shutil.rmtree(target, ignore_errors=True))

    # -- after a crash ---------------------------------------------------------------------------------

    def sweep_host_links(self) -> list[str]:
        """Remove the host links (host_link.py) of Overcast processes that are gone: the names removed."""
        if sys.platform != "linux" or shutil.which("ip") is None:
            return []
        return host_link.sweep()

    def sweep(self) -> int:
        """End sandbox processes a crashed Overcast left (plain mode: namespaces die with their server):
        those whose environment marks them as a sandbox's and whose server is gone. How many were ended."""
        ended = 0
        for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else ():
            if not entry.name.isdigit():
                continue
            try:
                environ = (entry / "environ").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"OVERCAST_EC2_SANDBOX=1" not in environ:
                continue
            server = next(
                (e.split(b"=", 1)[1] for e in environ if e.startswith(b"OVERCAST_EC2_SERVER_PID=")), b""
            )
            if server.isdigit() and _alive(int(server)):
                continue
            try:
                os.kill(int(entry.name), signal.SIGKILL)
                ended += 1
            except (ProcessLookupError, PermissionError):
                pass
        return ended


@contextlib.contextmanager
def _through_descriptor(socket_path: Path) -> Iterator[str]:
    """A path to a Unix socket that fits in `sun_path` (108 bytes) however deep the data directory is: through
    a descriptor of its directory (`/proc/self/fd/<n>/<name>`), open while the socket is bound or connected."""
    directory = os.open(socket_path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        yield f"/proc/self/fd/{directory}/{socket_path.name}"
    finally:
        os.close(directory)


def _yaml_path() -> str:
    try:
        import yaml
    except ImportError:  # cloud-config then says it cannot be read
        return ""
    return str(Path(yaml.__file__).resolve().parents[1])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _die_with_parent() -> None:
    if _libc is not None:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _forward_to(port: int):
    """The AWS endpoint inside the sandbox: each connection piped to Overcast's own port."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            target_reader, target_writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(_pipe(reader, target_writer), _pipe(target_reader, writer))

    return handle


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        try:
            writer.close()
        except (ConnectionError, OSError):
            pass
