"""DynamoDB Query and Scan (the reading itself, pages, filters and projections, is query.py's)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.services.base import Operations
from overcast.services.dynamodb.query import run_query, run_scan

if TYPE_CHECKING:
    from overcast.services.dynamodb.provider import DynamoDBProvider


class QueryOperations(Operations):
    service: DynamoDBProvider

    def query(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service = self.service
        return run_query(service.table(ctx, params["TableName"]), service.store, params)

    def scan(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service = self.service
        return run_scan(service.table(ctx, params["TableName"]), service.store, params)
