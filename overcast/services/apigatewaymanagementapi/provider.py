"""The @connections API: PostToConnection, GetConnection and DeleteConnection on the URL a backend is given
(`https://<api-id>.execute-api.<region>.amazonaws.com/<stage>`, here `http://<api-id>.execute-api.localhost:
<port>/<stage>` or `http://localhost:<port>/_overcast/execute-api/<api-id>/<stage>`).

Requests must be SigV4-signed (service `execute-api`), as in AWS; they are then validated, authorized
(`execute-api:ManageConnections` under `--iam enforce`) and serialized like any AWS call, through
`Platform.call` and the protocol layer.
"""

from __future__ import annotations

import json
from typing import Any

import overcast.services.apigatewayv2.api as websockets
from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.http import HttpRequest, HttpResponse
from overcast.platform import new_request_id
from overcast.services.base import HttpRoute, ServiceProvider

INVOKE_PATH = "/_overcast/execute-api/"
MAX_DATA = 128 * 1024


def _connections(request: HttpRequest) -> bool:
    return "/@connections/" in request.path


def gone() -> ServiceError:
    return ServiceError("GoneException", "", 410)


class ApiGatewayManagementApiProvider(ServiceProvider):
    service_name = "apigatewaymanagementapi"
    routes = (
        HttpRoute(
            "serve_connections", "Connections", host=".execute-api.", path=INVOKE_PATH, when=_connections
        ),
    )

    # AWS authorizes all three with one action of the execute-api prefix
    iam_actions = {
        "PostToConnection": "ManageConnections",
        "GetConnection": "ManageConnections",
        "DeleteConnection": "ManageConnections",
    }

    def resource_arn(self, ctx: RequestContext, params: dict[str, Any]) -> str | None:
        """`arn:aws:execute-api:<region>:<account>:<api-id>/<stage>/<VERB>/@connections/<id>`."""
        connection = params.get("ConnectionId", "")
        found = websockets.connection(self.platform, connection)
        if found is None:
            return None
        verb = {"PostToConnection": "POST", "GetConnection": "GET", "DeleteConnection": "DELETE"}[
            ctx.operation
        ]
        return (
            f"arn:aws:execute-api:{found['region']}:{found['account']}:{found['api_id']}/{found['stage']}/"
            f"{verb}/@connections/{connection}"
        )

    async def serve_connections(self, request: HttpRequest) -> HttpResponse | None:
        """An @connections request on an invoke URL: routed, authenticated and answered as an AWS call."""
        from overcast.protocol import parse_request, serialize_error, serialize_response
        from overcast.protocol.models import get_operation_model, get_service_model

        prefix, _, connection = request.path.partition("/@connections/")
        operation = {"POST": "PostToConnection", "GET": "GetConnection", "DELETE": "DeleteConnection"}.get(
            request.method
        )
        request_id = new_request_id()
        model = get_service_model(self.service_name)
        if operation is None or not connection or "/" in connection:
            return _plain(403, {"message": "Missing Authentication Token"}, request_id)
        op_model = get_operation_model(self.service_name, operation)
        try:
            principal = self.platform.authenticate(request)
            if principal is None:
                return _plain(403, {"message": "Missing Authentication Token"}, request_id)
            routed = HttpRequest(
                request.method,
                f"/@connections/{connection}",
                request.query,
                request.headers,
                request.body,
                host=request.host,
            )
            params = parse_request("rest-json", op_model, routed)
            result = await self.platform.call(
                self.service_name,
                operation,
                params,
                principal=principal,
                account_id=principal.account_id or self.platform.config.default_account,
                region=self.platform.config.default_region,
            )
            return serialize_response("rest-json", op_model, result, request_id)
        except ServiceError as error:
            return serialize_error("rest-json", model, op_model, error, request_id)

    # -- operations ----------------------------------------------------------------------------------

    async def post_to_connection(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        data = params["Data"]
        data = (
            data
            if isinstance(data, bytes)
            else await data.read()
            if hasattr(data, "read")
            else str(data).encode()
        )
        if len(data) > MAX_DATA:
            raise ServiceError("PayloadTooLargeException", "Message too long", 413)
        with self.db.transaction():
            found = websockets.connection(self.platform, params["ConnectionId"])
        if found is None or not await websockets.post(self.platform, params["ConnectionId"], data):
            raise gone()
        return {}

    def get_connection(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        found = websockets.connection(self.platform, params["ConnectionId"])
        if found is None:
            raise gone()
        identity: dict[str, Any] = {"SourceIp": found["source_ip"]}
        if found.get("user_agent"):
            identity["UserAgent"] = found["user_agent"]
        return {
            "ConnectedAt": found["connected_at"],
            "Identity": identity,
            "LastActiveAt": found["last_active_at"],
        }

    async def delete_connection(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.transaction():
            found = websockets.connection(self.platform, params["ConnectionId"])
        if found is None or not await websockets.disconnect(self.platform, params["ConnectionId"]):
            raise gone()
        return {}


def _plain(status: int, document: dict[str, Any], request_id: str) -> HttpResponse:
    return HttpResponse(
        status,
        [("content-type", "application/json"), ("x-amzn-RequestId", request_id)],
        json.dumps(document).encode(),
    )
