"""Closing WebSocket connections that outlive API Gateway's limits, on the virtual clock: idle for 10
minutes, or open for 2 hours (AWS closes them with 1001 Going away)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from overcast.services.apigatewayv2.websockets import IDLE_SECONDS, MAXIMUM_SECONDS

if TYPE_CHECKING:
    from overcast.services.apigatewayv2.provider import ApiGatewayV2Provider

log = logging.getLogger("overcast.apigatewayv2")
_RECHECK = 5.0  # real seconds between looks when nothing is due sooner (new connections, touched ones)


class ConnectionReaper:
    def __init__(self, service: ApiGatewayV2Provider) -> None:
        self.service = service
        self.clock = service.clock
        self._woken = False

    def wake(self) -> None:
        self._woken = True

    async def run(self) -> None:
        while True:
            try:
                await self._once()
            except Exception:  # a bug of ours must not stop the worker
                log.exception("the WebSocket connection reaper failed")
            self._woken = False
            await self.clock.wait_for_change(_RECHECK)

    async def _once(self) -> None:
        """Close every connection past its idle or maximum time."""
        while True:
            with self.service.db.transaction():
                due = self.service.store.next_timeout(IDLE_SECONDS, MAXIMUM_SECONDS)
            if due is None or due[1] > self.clock.now():
                return
            connection = due[0]
            if not await self.service.websockets.disconnect(connection, 1001, "Going away"):
                with self.service.db.transaction():  # a row with no socket (the socket ended meanwhile)
                    self.service.store.remove_connection(connection)
            else:
                with self.service.db.transaction():
                    self.service.store.remove_connection(connection)
