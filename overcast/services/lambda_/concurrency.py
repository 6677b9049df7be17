"""Reserved concurrency and recursion settings of functions, and the account's limits and usage."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.services.base import Operations
from overcast.services.lambda_ import code as packages
from overcast.services.lambda_.common import invalid

if TYPE_CHECKING:
    from overcast.services.lambda_.provider import LambdaProvider

MIN_UNRESERVED = 100
TOTAL_CODE_SIZE = 80530636800  # 75 GB of code per account and region


class ConcurrencyOperations(Operations):
    service: LambdaProvider

    def put_function_concurrency(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service = self.service
        name, _ = service.parse_ref(ctx, params)
        service.latest(ctx, name)
        reserved = params["ReservedConcurrentExecutions"]
        others = service.store.total_reserved(ctx.account_id, ctx.region, excluding=name)
        limit = service.account_concurrency
        if limit - others - reserved < min(MIN_UNRESERVED, limit):
            raise invalid(
                "Specified ReservedConcurrentExecutions for function decreases account's "
                f"UnreservedConcurrentExecution below its minimum value of [{MIN_UNRESERVED}]."
            )
        service.store.set_function_field(ctx.account_id, ctx.region, name, "reserved_concurrency", reserved)
        self.db.after_commit(service.forget_reservations)
        return {"ReservedConcurrentExecutions": reserved}

    def get_function_concurrency(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, _ = self.service.parse_ref(ctx, params)
        self.service.latest(ctx, name)
        reserved = self.service.store.function_row(ctx.account_id, ctx.region, name).reserved_concurrency
        return {} if reserved is None else {"ReservedConcurrentExecutions": reserved}

    def delete_function_concurrency(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, _ = self.service.parse_ref(ctx, params)
        self.service.latest(ctx, name)
        self.service.store.set_function_field(ctx.account_id, ctx.region, name, "reserved_concurrency", None)
        self.db.after_commit(self.service.forget_reservations)
        return {}

    def put_function_recursion_config(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, _ = self.service.parse_ref(ctx, params)
        self.service.latest(ctx, name)
        loop = params["RecursiveLoop"]
        self.service.store.set_function_field(ctx.account_id, ctx.region, name, "recursive_loop", loop)
        return {"RecursiveLoop": loop}

    def get_function_recursion_config(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, _ = self.service.parse_ref(ctx, params)
        self.service.latest(ctx, name)
        loop = self.service.store.recursive_loop(ctx.account_id, ctx.region, name)
        return {"RecursiveLoop": loop or "Terminate"}

    def get_account_settings(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        functions, code_size = self.service.store.usage(ctx.account_id, ctx.region)
        return {
            "AccountLimit": {
                "TotalCodeSize": TOTAL_CODE_SIZE,
                "CodeSizeUnzipped": packages.MAX_UNZIPPED,
                "CodeSizeZipped": packages.MAX_DIRECT_ZIP,
                "ConcurrentExecutions": self.service.account_concurrency,
                "UnreservedConcurrentExecutions": self.service.unreserved_limit(ctx.account_id, ctx.region),
            },
            "AccountUsage": {"TotalCodeSize": code_size, "FunctionCount": functions},
        }
