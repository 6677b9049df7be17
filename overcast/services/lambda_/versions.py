"""Published versions of a function and the aliases that point at them."""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.lambda_.common import (
    check_not_updating,
    check_revision,
    function_arn,
    function_view,
    invalid,
    not_found,
    page,
)

if TYPE_CHECKING:
    from overcast.services.lambda_.provider import LambdaProvider

_ALIAS_NAME = re.compile(r"^(?!^[0-9]+$)[a-zA-Z0-9_-]{1,128}$")


class VersionOperations(Operations):
    service: LambdaProvider

    def publish_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, _ = self.service.parse_ref(ctx, params)
        config = self.service.latest(ctx, name)
        check_revision(config, params)
        check_not_updating(config, self.clock.now())
        if params.get("CodeSha256") and params["CodeSha256"] != config["CodeSha256"]:
            raise invalid(
                f"CodeSHA256 ({params['CodeSha256']}) is different from current CodeSHA256 in $LATEST "
                f"({config['CodeSha256']}). Please try again with the CodeSHA256 in $LATEST."
            )
        return self.service.publish(ctx, name, config, params.get("Description"))

    def list_versions_by_function(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, _ = self.service.parse_ref(ctx, params)
        self.service.latest(ctx, name)
        now = self.clock.now()
        versions = [
            function_view(v, now) for v in self.service.store.versions(ctx.account_id, ctx.region, name)
        ]
        return page(versions, params, "Versions")


class AliasOperations(Operations):
    service: LambdaProvider

    def create_alias(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, _ = self.service.parse_ref(ctx, params)
        self.service.latest(ctx, name)
        alias_name = params["Name"]
        if not _ALIAS_NAME.match(alias_name):
            raise ServiceError(
                "ValidationException",
                f"1 validation error detected: Value '{alias_name}' at 'name' failed to satisfy constraint: "
                "Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)",
            )
        arn = function_arn(ctx, name, alias_name)
        if self.service.store.alias(ctx.account_id, ctx.region, name, alias_name):
            raise ServiceError("ResourceConflictException", f"Alias already exists: {arn}")
        alias = {"AliasArn": arn, "Name": alias_name, "Description": params.get("Description", "")}
        self._point_alias(ctx, name, alias, params)
        return alias

    def _point_alias(
        self, ctx: RequestContext, name: str, alias: dict[str, Any], params: dict[str, Any]
    ) -> None:
        if "FunctionVersion" in params:
            self._require_version(ctx, name, params["FunctionVersion"])
            alias["FunctionVersion"] = params["FunctionVersion"]
        if "Description" in params:
            alias["Description"] = params["Description"]
        if "RoutingConfig" in params:
            weights = params["RoutingConfig"].get("AdditionalVersionWeights") or {}
            if len(weights) > 1:
                raise invalid("Number of items in AdditionalVersionWeights cannot be greater than 1")
            for version, weight in weights.items():
                if alias["FunctionVersion"] == "$LATEST" or version == "$LATEST":
                    raise invalid("$LATEST is not supported for an alias pointing to more than 1 version")
                if version == alias["FunctionVersion"]:
                    raise invalid(
                        f"Invalid function version {version}. Function version {version} is already "
                        "included in routing configuration."
                    )
                if not 0 <= weight <= 1:
                    raise invalid(f"Invalid weight {weight}: a version weight is between 0.0 and 1.0")
                self._require_version(ctx, name, version)
            alias["RoutingConfig"] = {"AdditionalVersionWeights": weights} if weights else {}
        alias["RevisionId"] = str(uuid.uuid4())
        self.service.store.put_alias(ctx.account_id, ctx.region, name, alias)
        if not alias.get("RoutingConfig"):
            alias.pop("RoutingConfig", None)

    def _require_version(self, ctx: RequestContext, name: str, version: str) -> None:
        if self.service.store.version(ctx.account_id, ctx.region, name, version) is None:
            raise not_found(f"Function not found: {function_arn(ctx, name, version)}")

    def _alias(self, ctx: RequestContext, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        name, _ = self.service.parse_ref(ctx, params)
        alias = self.service.store.alias(ctx.account_id, ctx.region, name, params["Name"])
        if alias is None:
            raise not_found(f"Cannot find alias arn: {function_arn(ctx, name, params['Name'])}")
        return name, alias

    def get_alias(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._alias(ctx, params)[1]

    def update_alias(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, alias = self._alias(ctx, params)
        if params.get("RevisionId") and params["RevisionId"] != alias["RevisionId"]:
            raise ServiceError(
                "PreconditionFailedException",
                "The Revision Id provided does not match the latest Revision Id. Call the GetAlias "
                "API to retrieve the latest Revision Id",
                412,
            )
        self._point_alias(ctx, name, alias, params)
        return alias

    def delete_alias(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, _ = self.service.parse_ref(ctx, params)
        self.service.store.delete_alias(ctx.account_id, ctx.region, name, params["Name"])
        return {}

    def list_aliases(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, _ = self.service.parse_ref(ctx, params)
        self.service.latest(ctx, name)
        aliases = self.service.store.aliases(ctx.account_id, ctx.region, name)
        if params.get("FunctionVersion"):
            aliases = [a for a in aliases if a["FunctionVersion"] == params["FunctionVersion"]]
        return page(aliases, params, "Aliases")
