"""Reserved and provisioned concurrency and recursion settings of functions, and the account's limits and
usage. Provisioned concurrency is allocated on the virtual clock (IN_PROGRESS, then READY after
PROVISIONING_SECONDS); it is recorded, and invocations do not use pre-initialized environments for it."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.lambda_ import code as packages
from overcast.services.lambda_.common import function_arn, invalid, lambda_time, page

if TYPE_CHECKING:
    from overcast.services.lambda_.provider import LambdaProvider

MIN_UNRESERVED = 100
PROVISIONING_SECONDS = 60.0  # how long allocating provisioned concurrency takes (virtual time)
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

    def put_provisioned_concurrency_config(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        service = self.service
        name, qualifier = self._provisioned_target(ctx, params)
        requested = params["ProvisionedConcurrentExecutions"]
        reserved = service.store.function_row(ctx.account_id, ctx.region, name).reserved_concurrency
        others = sum(
            c["RequestedProvisionedConcurrentExecutions"]
            for c in service.store.provisioned_of(ctx.account_id, ctx.region, name)
            if c["_Qualifier"] != qualifier
        )
        if reserved is not None and others + requested > reserved:
            raise invalid(
                "Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution "
                f"for function {name}"
            )
        now = self.clock.now()
        config = {
            "RequestedProvisionedConcurrentExecutions": requested,
            "LastModified": lambda_time(now),
            "_Qualifier": qualifier,
            "_ReadyAt": now + PROVISIONING_SECONDS,
            "_FunctionArn": function_arn(ctx, name, qualifier),
        }
        service.store.put_provisioned(ctx.account_id, ctx.region, name, qualifier, config)
        return _provisioned_view(config, now)

    def get_provisioned_concurrency_config(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        name, qualifier = self._provisioned_target(ctx, params)
        config = self.service.store.provisioned(ctx.account_id, ctx.region, name, qualifier)
        if config is None:
            raise _no_provisioned()
        return _provisioned_view(config, self.clock.now())

    def list_provisioned_concurrency_configs(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        name, _ = self.service.parse_ref(ctx, params)
        self.service.latest(ctx, name)
        now = self.clock.now()
        configs = [
            {"FunctionArn": c["_FunctionArn"], **_provisioned_view(c, now)}
            for c in self.service.store.provisioned_of(ctx.account_id, ctx.region, name)
        ]
        return page(configs, params, "ProvisionedConcurrencyConfigs")

    def delete_provisioned_concurrency_config(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        name, qualifier = self._provisioned_target(ctx, params)
        if not self.service.store.delete_provisioned(ctx.account_id, ctx.region, name, qualifier):
            raise _no_provisioned()
        return {}

    def _provisioned_target(self, ctx: RequestContext, params: dict[str, Any]) -> tuple[str, str]:
        """(function, qualifier): a published version or an alias, never $LATEST."""
        name, qualifier = self.service.parse_ref(ctx, params)
        if not qualifier or qualifier == "$LATEST":
            raise invalid(
                "Provisioned Concurrency Configs cannot be applied to unpublished function versions."
            )
        self.service.resolve(ctx, name, qualifier)
        return name, qualifier

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

    def put_runtime_management_config(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        """How the function's runtime is updated: Auto (the default), FunctionUpdate, or Manual (pinned to
        RuntimeVersionArn). Overcast runs the local runtime whatever the mode; the setting is kept and reported."""
        name, qualifier = self.service.parse_ref(ctx, params)
        self.service.resolve(ctx, name, qualifier)
        mode, version = params["UpdateRuntimeOn"], params.get("RuntimeVersionArn")
        if mode == "Manual" and not version:  # (our wording: AWS's text for this case is not recorded)
            raise invalid("RuntimeVersionArn is required when UpdateRuntimeOn is Manual")
        setting = {"UpdateRuntimeOn": mode, **({"RuntimeVersionArn": version} if version else {})}
        self.service.store.set_function_field(
            ctx.account_id, ctx.region, name, "runtime_management", json.dumps(setting)
        )
        return {**setting, "FunctionArn": function_arn(ctx, name, qualifier)}

    def get_runtime_management_config(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, qualifier = self.service.parse_ref(ctx, params)
        self.service.resolve(ctx, name, qualifier)
        stored = self.service.store.runtime_management(ctx.account_id, ctx.region, name)
        setting = json.loads(stored) if stored else {"UpdateRuntimeOn": "Auto"}
        return {**setting, "FunctionArn": function_arn(ctx, name, qualifier)}

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


def _no_provisioned() -> ServiceError:
    return ServiceError(
        "ProvisionedConcurrencyConfigNotFoundException",
        "No Provisioned Concurrency Config found for this function",
    )


def _provisioned_view(config: dict[str, Any], now: float) -> dict[str, Any]:
    """The configuration as AWS reports it at `now`: IN_PROGRESS with nothing allocated, then READY."""
    requested = config["RequestedProvisionedConcurrentExecutions"]
    ready = now >= config["_ReadyAt"]
    return {
        "RequestedProvisionedConcurrentExecutions": requested,
        "AvailableProvisionedConcurrentExecutions": requested if ready else 0,
        "AllocatedProvisionedConcurrentExecutions": requested if ready else 0,
        "Status": "READY" if ready else "IN_PROGRESS",
        "LastModified": config["LastModified"],
    }
