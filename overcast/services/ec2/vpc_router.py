"""A VPC's router: the network namespace every sandbox of the VPC is linked to (a veth pair each), run by
Overcast as `unshare --net --pid --fork --kill-child python -m overcast.services.ec2.vpc_router <dir>`.

Packets an instance sends to another address of the VPC arrive here (the instance routes its VPC's blocks to
169.254.1.1, this end of its link) and are delivered locally (a rule per link: `iif <link> lookup 100`, whose
table makes every address local), so a connection to `10.0.1.5:80` is accepted by this router's listener on
port 80 with the destination it was meant for. The router asks Overcast whether the security groups, network
ACLs and routes let the source reach that destination on that port (the reachability engine, over a Unix
socket) and, if they do, connects to the destination from the source's own address (IP_TRANSPARENT), so the
destination sees its real peer. A refused connection is reset at once. The host reaches the router too
(a link of its own, `host_link.py`): its connections come from `169.254.77.1` and are decided as from the
internet. The router listens on the ports its
`ports` file names (the VPC's security group rules' ports, at most a few hundred)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import struct
import subprocess
import sys
from pathlib import Path

IP_TRANSPARENT = 19


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


async def _allowed(decide: str, source: str, destination: str, port: int) -> bool:
    try:
        reader, writer = await asyncio.open_unix_connection(decide)
    except OSError:
        return False
    writer.write(f"{source} {destination} {port}\n".encode())
    await writer.drain()
    answer = await reader.readline()
    writer.close()
    return answer.strip() == b"allow"


def _reset(writer: asyncio.StreamWriter) -> None:
    """Refuse a connection: closed with a reset (SO_LINGER 0), so the client sees it refused at once."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.close()


def _handler(decide: str):
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        source = writer.get_extra_info("peername")[0]
        destination, port = writer.get_extra_info("sockname")[:2]
        if not await _allowed(decide, source, destination, port):
            _reset(writer)
            return
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_IP, IP_TRANSPARENT, 1)
        sock.setblocking(False)
        try:
            sock.bind((source, 0))
            await asyncio.get_running_loop().sock_connect(sock, (destination, port))
            target_reader, target_writer = await asyncio.open_connection(sock=sock)
        except OSError as error:
            print(f"{source} -> {destination}:{port}: {error}", flush=True)  # the router's log
            sock.close()
            writer.close()
            return
        await asyncio.gather(_pipe(reader, target_writer), _pipe(target_reader, writer))

    return handle


async def main(directory: str) -> None:
    home = os.open(str(Path(directory).resolve()), os.O_RDONLY | os.O_DIRECTORY)
    decide = f"/proc/self/fd/{home}/decide.sock"
    for command in (
        ["ip", "link", "set", "lo", "up"],
        ["ip", "route", "add", "local", "0.0.0.0/0", "dev", "lo", "table", "100"],
    ):
        subprocess.run(command, check=True)
    handle = _handler(decide)
    listening: set[int] = set()

    async def listen(port: int) -> None:
        if port in listening or not 0 < port < 65536:
            return
        listening.add(port)
        server = await asyncio.start_server(handle, "0.0.0.0", port, reuse_address=True)
        for sock in server.sockets:
            sock.setsockopt(socket.SOL_IP, IP_TRANSPARENT, 1)

    async def control(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Overcast opens ports here when security group rules open them: `listen 8080 8081`."""
        words = (await reader.readline()).decode().split()
        if words[:1] == ["listen"]:
            for word in words[1:]:
                await listen(int(word))
        writer.write(b"ok\n")
        await writer.drain()
        writer.close()

    for port in json.loads((Path(directory) / "ports.json").read_text()):
        await listen(port)
    (Path(directory) / "control.sock").unlink(missing_ok=True)
    await asyncio.start_unix_server(control, f"/proc/self/fd/{home}/control.sock")  # any depth of directory
    print("ready", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    asyncio.run(main(sys.argv[1]))
