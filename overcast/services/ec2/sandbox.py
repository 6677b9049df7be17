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
import ctypes
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

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


class Sandboxes:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.root = platform.root / "ec2-instances"
        self.imds = Imds(platform)
        self._running: dict[str, Sandbox] = {}  # one per running sandbox (bounded by running instances)
        self._namespaces: bool | None = None

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
        }

    # -- the sandbox's life ----------------------------------------------------------------------------

    def wanted(self, info: dict[str, Any]) -> bool:
        """A sandbox is made for an instance that has user data or ran before (its files are kept)."""
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
        }
        (directory / "boot.json").write_text(json.dumps(boot))
        command = [sys.executable, "-m", "overcast.services.ec2.sandbox_init", str(directory)]
        if in_namespace:
            command = [*UNSHARE, *command]
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": str(Path(__file__).resolve().parents[3]),
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

    def forget_image(self, image_id: str) -> None:
        target = self.root / "images" / image_id
        self.platform.db.after_commit(lambda: shutil.rmtree(target, ignore_errors=True))

    # -- after a crash ---------------------------------------------------------------------------------

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
