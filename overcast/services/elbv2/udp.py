"""UDP listeners of Network Load Balancers: each client address is a flow kept on one healthy target (chosen
by a hash of the address) while datagrams pass, and forgotten after 120 s without any, AWS's UDP idle timeout.
Replies from the target go back to the client from the listener's port."""

from __future__ import annotations

import asyncio
import logging
import time
import zlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from overcast.services.elbv2.proxy import DataPlane

log = logging.getLogger("overcast")
IDLE_SECONDS = 120.0


class _Upstream(asyncio.DatagramProtocol):
    """The socket of one flow towards its target: replies are relayed to the client."""

    def __init__(self, listener: UdpListener, client: tuple) -> None:
        self.listener, self.client = listener, client

    def datagram_received(self, data: bytes, addr: tuple) -> None:
        if self.listener.transport is not None:
            self.listener.transport.sendto(data, self.client)


class UdpListener(asyncio.DatagramProtocol):
    def __init__(self, plane: DataPlane, arn: str) -> None:
        self.plane, self.arn = plane, arn
        self.transport: asyncio.DatagramTransport | None = None
        self.flows: dict[tuple, tuple[asyncio.DatagramTransport, float]] = {}
        self._pruned = time.monotonic()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple) -> None:
        flow = self.flows.get(addr)
        if flow is not None:
            flow[0].sendto(data)
            self.flows[addr] = (flow[0], time.monotonic())
        else:
            self.plane.platform.spawn(self._open_flow(addr, data))
        if time.monotonic() - self._pruned > IDLE_SECONDS / 4:
            self._prune()

    async def _open_flow(self, client: tuple, first: bytes) -> None:
        address = await self.plane.udp_target(self.arn, zlib.crc32(f"{client[0]}:{client[1]}".encode()))
        if address is None:
            return
        loop = asyncio.get_running_loop()
        upstream, _ = await loop.create_datagram_endpoint(
            lambda: _Upstream(self, client), remote_addr=address
        )
        self.flows[client] = (upstream, time.monotonic())  # type: ignore[assignment]
        upstream.sendto(first)  # type: ignore[attr-defined]

    def _prune(self) -> None:
        now = self._pruned = time.monotonic()
        for client, (upstream, seen) in list(self.flows.items()):
            if now - seen > IDLE_SECONDS:
                upstream.close()
                del self.flows[client]

    def close(self) -> None:
        for upstream, _ in self.flows.values():
            upstream.close()
        self.flows.clear()
        if self.transport is not None:
            self.transport.close()
