"""The first process of an instance's sandbox (`python -m overcast.services.ec2.sandbox_init <dir>`).

In namespace mode it runs as PID 1 of its own PID, UTS, IPC, mount and network namespaces (made by `unshare`):
it sets the hostname; brings up loopback holding the instance's private IP and 169.254.169.254 (nothing else
exists in the namespace, so nothing the instance does reaches the host's networks); makes the host's
filesystem read-only for the instance and binds the instance's own directories (kept across stop/start, as an
EBS root volume is) over /root, /home, /srv, /opt, /tmp, /var/tmp, /var/log, /var/www, /mnt; forwards
169.254.169.254:80 (the metadata service) and 127.0.0.1:<port> (the AWS endpoint) to Overcast through Unix
sockets, and accepts connections from Overcast to the instance's ports on another Unix socket; then runs the
boot: cloud-config `bootcmd` on every boot, the user data (a script, or cloud-config `write_files`/`runcmd`)
on the first boot only. It reaps orphans, as an init does, until it is killed.

In plain mode (no namespaces available) it does the same without isolation: the metadata service and the
AWS endpoint are forwarded from loopback ports (given to the user data in AWS_EC2_METADATA_SERVICE_ENDPOINT
and AWS_ENDPOINT_URL), and the instance's directories are only its working directory.
"""

from __future__ import annotations

import asyncio
import concurrent.futures.thread  # noqa: F401 - imported before the filesystem changes under us
import ctypes
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

IMDS_ADDRESS = "169.254.169.254"
IMDS_PEER = "169.254.0.1"  # the instance's end of the link to the metadata namespace
CLONE_NEWNET = 0x40000000


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


async def _splice(reader, writer, target_reader, target_writer) -> None:
    await asyncio.gather(_pipe(reader, target_writer), _pipe(target_reader, writer))


def _to_unix(path: str):
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            target = await asyncio.open_unix_connection(path)
        except OSError:
            writer.close()
            return
        await _splice(reader, writer, *target)

    return handle


def _inbound(address: str):
    """Overcast asks for a port of the instance: the first line is the port number."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        line = await reader.readline()
        try:
            target = await asyncio.open_connection(address, int(line.strip()))
        except (OSError, ValueError):
            writer.write(b"refused\n")
            writer.close()
            return
        writer.write(b"ok\n")
        await _splice(reader, writer, *target)

    return handle


MS_RDONLY, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 32, 4096, 16384, 1 << 18
_libc = ctypes.CDLL(None, use_errno=True)


def _ip(*commands: str) -> None:
    """Several `ip` commands in one process (`ip -batch`): each process costs milliseconds at boot."""
    subprocess.run(["ip", "-batch", "-"], input="\n".join(commands).encode(), check=True)


def _mount(source: str | None, target: str, flags: int) -> bool:
    """mount(2) itself, rather than a `mount` process per call."""
    done = _libc.mount(source.encode() if source else None, target.encode(), None, flags, None)
    return done == 0


def _run(command: list[str], env: dict[str, str]) -> None:
    subprocess.run(command, env=env, cwd="/" if env.get("_OC_NS") else env["HOME"], check=False,
                   stdin=subprocess.DEVNULL)  # fmt: skip


def _setup_namespace(boot: dict) -> None:
    name = boot["hostname"].encode()
    _libc.sethostname(name, len(name))
    _ip("link set lo up", f"addr add {boot['private_ip']}/32 dev lo")


def _metadata_namespace(imds_socket: str) -> None:
    """169.254.169.254 lives in a network namespace of its own, a link away (a veth pair), so that the
    instance's programs may listen on port 80 of every address of theirs. Its process forwards connections to
    Overcast's metadata service and dies with the sandbox's PID namespace."""
    ready, go = os.pipe(), os.pipe()
    child = os.fork()
    if child == 0:
        if _libc.unshare(CLONE_NEWNET) != 0:
            os._exit(1)
        os.write(ready[1], b"1")
        os.read(go[0], 1)
        _ip("link set lo up", "link set imds1 up", f"addr add {IMDS_ADDRESS}/32 dev imds1",
            f"route add {IMDS_PEER}/32 dev imds1")  # fmt: skip

        async def serve() -> None:
            server = await asyncio.start_server(_to_unix(imds_socket), IMDS_ADDRESS, 80)
            os.write(ready[1], b"2")
            await server.serve_forever()

        asyncio.run(serve())
        os._exit(0)
    os.read(ready[0], 1)
    _ip(f"link add imds0 type veth peer name imds1 netns {child}", f"addr add {IMDS_PEER}/32 dev imds0",
        "link set imds0 up", f"route add {IMDS_ADDRESS}/32 dev imds0 src {IMDS_PEER}")  # fmt: skip
    os.write(go[1], b"1")
    os.read(ready[0], 1)  # the metadata address answers


def _setup_filesystem(boot: dict) -> None:
    """The host's filesystem read-only, the instance's own directories writable over it. What Overcast runs
    from (Python, this package) stays visible where an instance's directory covers it (/root/.pyenv ...), and
    a directory holding the instance's own files is covered last."""
    root = Path(boot["root"])
    paths = [sys.base_prefix, sys.prefix, Path(__file__).resolve().parents[3]]
    keep = {Path(p).resolve() for p in [*paths, *filter(None, os.environ.get("PYTHONPATH", "").split(":"))]}
    if not _mount(None, "/", MS_REC | MS_PRIVATE) or not _mount(str(root), str(root), MS_BIND):
        raise OSError(ctypes.get_errno(), "the sandbox's mounts could not be made")  # its root stays writable
    _mount("/", "/", MS_BIND)
    _mount(None, "/", MS_REMOUNT | MS_BIND | MS_RDONLY)
    targets = sorted(boot["writable"], key=lambda d: root.resolve().is_relative_to(Path(d).resolve()))
    for directory in targets:
        target = Path(directory)
        if not target.is_dir():
            continue
        source = root / directory.lstrip("/")
        for kept in keep:
            if kept.is_relative_to(target.resolve()) and kept != target.resolve():
                inside = source / kept.relative_to(target.resolve())
                inside.mkdir(parents=True, exist_ok=True)
                _mount(str(kept), str(inside), MS_BIND)
                _mount(None, str(inside), MS_REMOUNT | MS_BIND | MS_RDONLY)
        _mount(str(source), str(target), MS_BIND | MS_REC)


def _cloud_config(text: str) -> dict:
    import yaml

    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as error:
        print(f"cloud-init: invalid cloud-config: {error}", flush=True)
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _commands(entries: list) -> list[list[str]]:
    """cloud-init's command forms: a string runs in a shell, a list is an argv; anything else is skipped."""
    commands = []
    for entry in entries or []:
        if isinstance(entry, str):
            commands.append(["/bin/sh", "-c", entry])
        elif isinstance(entry, list):
            commands.append([str(part) for part in entry])
        else:
            print(
                f"cloud-init: skipping a command that is neither a string nor a list: {entry!r}", flush=True
            )
    return commands


def _boot(boot: dict, env: dict[str, str], data: bytes) -> None:
    text = data.decode(errors="replace")
    config = _cloud_config(text) if text.startswith("#cloud-config") else {}
    for command in _commands(config.get("bootcmd")):
        _run(command, env)
    if not boot["first_boot"] or not data:
        print("cloud-init: user data not run (not the first boot)" if data else "cloud-init: no user data",
              flush=True)  # fmt: skip
        return
    print("cloud-init: running user data", flush=True)
    if config:
        for item in config.get("write_files") or []:
            path = Path(item["path"])
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(item.get("content", ""))
            if item.get("permissions"):
                path.chmod(int(str(item["permissions"]), 8))
        for command in _commands(config.get("runcmd")):
            _run(command, env)
    elif text.startswith("#!"):
        script = Path(env["HOME"] if not env.get("_OC_NS") else "/root") / ".user-data"
        script.write_bytes(data)
        script.chmod(0o700)
        _run([str(script)], env)
    else:
        _run(["/bin/sh", "-c", text], env)
    print("cloud-init: user data finished", flush=True)


async def main(directory: str) -> None:
    boot = json.loads((Path(directory) / "boot.json").read_text())
    in_namespace = boot["mode"] == "ns"
    env = {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": "/root" if in_namespace else str(Path(boot["root"]) / "root"),
        "AWS_REGION": boot["region"],
        "AWS_DEFAULT_REGION": boot["region"],
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{boot['api_port']}",
        "LANG": "C.UTF-8",
        "OVERCAST_EC2_SANDBOX": "1",
        "OVERCAST_EC2_SERVER_PID": os.environ.get("OVERCAST_EC2_SERVER_PID", ""),
        "HOSTNAME": boot["hostname"],
    }
    data_path = Path(boot["user_data"]) if boot.get("user_data") else None
    data = data_path.read_bytes() if data_path and data_path.exists() else b""
    # The sockets to Overcast, reached through a descriptor of their directory: the instance's own /tmp may
    # cover the path they have on the host.
    home = os.open(str(Path(directory).resolve()), os.O_RDONLY | os.O_DIRECTORY)
    for name in ("imds_sock", "api_sock"):
        boot[name] = f"/proc/self/fd/{home}/{Path(boot[name]).name}"
    if in_namespace:
        env["_OC_NS"] = "1"
        _setup_namespace(boot)
        await asyncio.start_server(_to_unix(boot["api_sock"]), "127.0.0.1", boot["api_port"])
        await asyncio.start_unix_server(_inbound(boot["private_ip"]), boot["in_sock"])
        _setup_filesystem(boot)
    else:
        imds = await asyncio.start_server(_to_unix(boot["imds_sock"]), "127.0.0.1", 0)
        env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = f"http://127.0.0.1:{imds.sockets[0].getsockname()[1]}/"
        env["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{boot['overcast_port']}"
        await asyncio.start_unix_server(_inbound("127.0.0.1"), boot["in_sock"])
    if boot.get("wait_link"):  # Overcast links the namespace to its VPC's router: boot once it has
        linked = f"/proc/self/fd/{home}/linked"
        for _ in range(200):
            if os.path.exists(linked):
                break
            await asyncio.sleep(0.05)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, _boot, boot, env, data)
    while True:  # an init: reap orphans until killed
        await asyncio.sleep(0.5)
        try:
            while os.waitpid(-1, os.WNOHANG)[0] > 0:
                pass
        except ChildProcessError:
            pass


def _prepare(directory: str) -> None:
    """Before any event loop exists (it forks): the metadata service's namespace."""
    boot = json.loads((Path(directory) / "boot.json").read_text())
    if boot["mode"] == "ns":
        home = os.open(str(Path(directory).resolve()), os.O_RDONLY | os.O_DIRECTORY)
        _metadata_namespace(f"/proc/self/fd/{home}/{Path(boot['imds_sock']).name}")


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    _prepare(sys.argv[1])
    asyncio.run(main(sys.argv[1]))
