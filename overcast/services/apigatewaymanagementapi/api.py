"""What other services may ask of the @connections API besides its operations.

import overcast.services.apigatewaymanagementapi.api as management
management.prepare(platform)     # serve @connections on the invoke URLs (WebSocket APIs start it)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from overcast.platform import Platform


def prepare(platform: Platform) -> None:
    """Start the service, so its routes on the invoke URLs (`.../<stage>/@connections/<id>`) are served."""
    platform.provider("apigatewaymanagementapi")
