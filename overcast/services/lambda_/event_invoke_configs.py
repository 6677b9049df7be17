"""Asynchronous invocation settings of a function or version: retries, maximum event age, destinations."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.services.base import Operations
from overcast.services.lambda_.common import function_arn, invalid, not_found, page

if TYPE_CHECKING:
    from overcast.services.lambda_.provider import LambdaProvider


class EventInvokeConfigOperations(Operations):
    service: LambdaProvider

    def put_function_event_invoke_config(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._save(ctx, params, replace=True)

    def update_function_event_invoke_config(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        return self._save(ctx, params, replace=False)

    def _save(self, ctx: RequestContext, params: dict[str, Any], replace: bool) -> dict[str, Any]:
        store = self.service.store
        name, qualifier = self.service.parse_ref(ctx, params)
        self.service.resolve(ctx, name, qualifier)
        qualifier = qualifier or "$LATEST"
        current = None if replace else store.event_config(ctx.account_id, ctx.region, name, qualifier)
        config = dict(
            current
            or {
                "MaximumRetryAttempts": 2,
                "MaximumEventAgeInSeconds": 21600,
                "DestinationConfig": {"OnSuccess": {}, "OnFailure": {}},
            }
        )
        for key in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds"):
            if key in params:
                config[key] = params[key]
        if "DestinationConfig" in params:
            destinations = {"OnSuccess": {}, "OnFailure": {}, **params["DestinationConfig"]}
            for target in destinations.values():
                arn = target.get("Destination")
                if arn and not re.match(r"^arn:aws[a-zA-Z-]*:(sqs|sns|lambda|events|s3):", arn):
                    raise invalid(f"The destination ARN {arn} is invalid.")
            config["DestinationConfig"] = destinations
        config["FunctionArn"] = function_arn(ctx, name, qualifier)
        config["LastModified"] = self.clock.now()
        store.put_event_config(ctx.account_id, ctx.region, name, qualifier, config)
        return _view(config)

    def get_function_event_invoke_config(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, qualifier = self.service.parse_ref(ctx, params)
        self.service.latest(ctx, name)
        config = self.service.store.event_config(ctx.account_id, ctx.region, name, qualifier or "$LATEST")
        if config is None:
            raise not_found(
                f"The function {function_arn(ctx, name, qualifier)} doesn't have an EventInvokeConfig"
            )
        return _view(config)

    def delete_function_event_invoke_config(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        name, qualifier = self.service.parse_ref(ctx, params)
        self.service.latest(ctx, name)
        if not self.service.store.delete_event_config(
            ctx.account_id, ctx.region, name, qualifier or "$LATEST"
        ):
            raise not_found(
                f"The function {function_arn(ctx, name, qualifier)} doesn't have an EventInvokeConfig"
            )
        return {}

    def list_function_event_invoke_configs(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        name, _ = self.service.parse_ref(ctx, params)
        self.service.latest(ctx, name)
        configs = [_view(c) for c in self.service.store.event_configs(ctx.account_id, ctx.region, name)]
        return page(configs, params, "FunctionEventInvokeConfigs")


def _view(config: dict[str, Any]) -> dict[str, Any]:
    return dict(config, LastModified=datetime.fromtimestamp(config["LastModified"], UTC))
