"""What other services may ask of HTTP and WebSocket APIs besides their AWS operations: the open WebSocket
connections, for the @connections API (apigatewaymanagementapi).

    import overcast.services.apigatewayv2.api as websockets

    found = websockets.connection(platform, connection_id)      # None: gone
    delivered = await websockets.post(platform, connection_id, data)
    await websockets.disconnect(platform, connection_id)
    websockets.has_stage(platform, account, region, api_id, stage)  # a usage plan's WebSocket API stage
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from overcast.platform import Platform
    from overcast.services.apigatewayv2.provider import ApiGatewayV2Provider


def _v2(platform: Platform) -> ApiGatewayV2Provider:
    return platform.provider("apigatewayv2")  # type: ignore[return-value]


def connection(platform: Platform, connection_id: str) -> dict[str, Any] | None:
    """The open connection (account, region, api_id, stage, connected_at, last_active_at, source_ip,
    user_agent), or None. Call it inside a transaction."""
    service = _v2(platform)
    if connection_id not in service.websockets.live:
        return None
    return service.store.connection(connection_id)


async def post(platform: Platform, connection_id: str, data: bytes) -> bool:
    """Send `data` to the client; False when the connection is gone."""
    return await _v2(platform).websockets.post(connection_id, data)


async def disconnect(platform: Platform, connection_id: str) -> bool:
    """Close the connection (its $disconnect route runs); False when it is gone."""
    return await _v2(platform).websockets.disconnect(connection_id, 1000, "")


def has_stage(platform: Platform, account: str, region: str, api_id: str, stage: str) -> bool:
    """Whether a WebSocket API of the account and region has this stage (usage plans may cover it)."""
    store = _v2(platform).store
    api = store.get(account, region, "api", "", api_id)
    return (
        api is not None
        and api.get("ProtocolType") == "WEBSOCKET"
        and store.get(account, region, "stage", api_id, stage) is not None
    )
