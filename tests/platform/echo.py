"""A test handler for a whole service: records what arrives, answers with what the test sets."""

from __future__ import annotations

from typing import Any

from overcast.errors import ServiceError
from overcast.services.base import ServiceProvider


class EchoProvider(ServiceProvider):
    """Records what arrives and answers with what the test sets (a handler for the protocol test only)."""

    def __init__(self, platform, service: str) -> None:
        super().__init__(platform)
        self.service_name = service
        self.received: dict[str, Any] | None = None
        self.answer: dict[str, Any] | ServiceError = {}

    def handler(self, operation: str):
        return self._echo, True

    async def _echo(self, ctx, params: dict[str, Any]) -> dict[str, Any]:
        for name, value in list(params.items()):
            if hasattr(value, "read") and not isinstance(value, (bytes, bytearray)):
                params = {**params, name: await value.read()}  # a streaming payload
        self.received = params
        if isinstance(self.answer, ServiceError):
            raise self.answer
        return self.answer
