"""Exports and imports: ListExports, ListImports."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.kit.paging import decode_token, page_of

if TYPE_CHECKING:
    from overcast.services.cloudformation.provider import CloudFormationProvider

PAGE = 100


def invalid_token() -> ServiceError:
    return ServiceError("ValidationError", "Invalid NextToken", 400)


class ExportOperations(Operations):
    service: CloudFormationProvider

    def list_exports(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        after = decode_token(params.get("NextToken"), invalid_token, "ListExports") or ""
        rows = self.service.store.exports(ctx.account_id, ctx.region, after, PAGE + 1)
        page, token = page_of(rows, PAGE, lambda row: row[0], "ListExports")
        result: dict[str, Any] = {
            "Exports": [{"ExportingStackId": arn, "Name": name, "Value": value} for name, value, arn in page]
        }
        if token:
            result["NextToken"] = token
        return result

    def list_imports(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["ExportName"]
        importers = self.service.store.importers(ctx.account_id, ctx.region, name)
        if not importers:
            raise ServiceError("ValidationError", f"Export '{name}' is not imported by any stack.", 400)
        return {"Imports": importers}
