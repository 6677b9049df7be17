"""Saved Logs Insights queries (PutQueryDefinition, DescribeQueryDefinitions, DeleteQueryDefinition): what the
console's "Saved queries" and CDK's QueryDefinition keep. A put without an id creates one (a UUID); with an id
it replaces every field, as AWS documents ("No current values are retained")."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.kit.paging import page_of
from overcast.services.logs.common import not_found, token_position

if TYPE_CHECKING:
    from overcast.services.logs.provider import LogsProvider

MAX_DEFINITIONS = 1000  # AWS's quota of saved queries per account and Region


class QueryDefinitionOperations(Operations):
    service: LogsProvider

    def put_query_definition(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        store = self.service.store
        definition_id = params.get("queryDefinitionId")
        if definition_id is not None:
            if store.query_definition(ctx.account_id, ctx.region, definition_id) is None:
                raise not_found("The specified query definition does not exist.")
        else:
            if store.count_query_definitions(ctx.account_id, ctx.region) >= MAX_DEFINITIONS:
                raise ServiceError(
                    "LimitExceededException", "You have reached the maximum number of saved queries allowed."
                )
            token = params.get("clientToken")  # a retried create gets the same id back
            definition_id = (
                str(uuid.uuid5(uuid.NAMESPACE_URL, f"{ctx.account_id}/{token}")) if token else None
            )
            definition_id = definition_id or str(uuid.uuid4())
        definition: dict[str, Any] = {
            "queryLanguage": params.get("queryLanguage") or "CWLI",
            "queryDefinitionId": definition_id,
            "name": params["name"],
            "queryString": params["queryString"],
            "lastModified": int(self.clock.now() * 1000),
        }
        if params.get("logGroupNames"):
            definition["logGroupNames"] = params["logGroupNames"]
        if params.get("parameters"):
            definition["parameters"] = params["parameters"]
        store.put_query_definition(ctx.account_id, ctx.region, definition)
        return {"queryDefinitionId": definition_id}

    def describe_query_definitions(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = params.get("maxResults") or 1000
        position = token_position(params, "DescribeQueryDefinitions", str, str)
        after = (position[0], position[1]) if position else ("", "")
        found = self.service.store.query_definitions(
            ctx.account_id, ctx.region, params.get("queryDefinitionNamePrefix") or "", after, limit + 1
        )
        language = params.get("queryLanguage")
        shown, token = page_of(
            found, limit, lambda d: [d["name"], d["queryDefinitionId"]], "DescribeQueryDefinitions"
        )
        result: dict[str, Any] = {
            "queryDefinitions": [d for d in shown if not language or d["queryLanguage"] == language]
        }
        if token:
            result["nextToken"] = token
        return result

    def delete_query_definition(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        if not self.service.store.delete_query_definition(
            ctx.account_id, ctx.region, params["queryDefinitionId"]
        ):
            raise not_found("The specified query definition does not exist.")
        return {"success": True}
