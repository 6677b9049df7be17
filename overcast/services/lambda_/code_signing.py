"""Code signing configurations: which signing profiles may publish a function's code, and what Lambda does with
code they did not sign (`Warn` or `Enforce`). Overcast has no AWS Signer, so no package carries a signature:
a function whose configuration enforces it cannot take new code (CodeVerificationFailedException, as AWS
answers an unsigned package); `Warn` deploys it."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.kit.paging import page_of
from overcast.services.lambda_.common import function_arn, lambda_time, marker_position, public

if TYPE_CHECKING:
    from overcast.services.lambda_.provider import LambdaProvider


def not_found(arn: str) -> ServiceError:
    return ServiceError(
        "CodeSigningConfigNotFoundException",
        f"The code signing configuration cannot be found. Check that the provided configuration is not deleted: {arn}.",
        404,
    )


class CodeSigningOperations(Operations):
    service: LambdaProvider

    def create_code_signing_config(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        config_id = "csc-" + secrets.token_hex(9)[:17]
        arn = ctx.arn("lambda", f"code-signing-config:{config_id}")
        config = {
            "CodeSigningConfigId": config_id,
            "CodeSigningConfigArn": arn,
            "Description": params.get("Description", ""),
            "AllowedPublishers": params["AllowedPublishers"],
            "CodeSigningPolicies": {
                "UntrustedArtifactOnDeployment": (params.get("CodeSigningPolicies") or {}).get(
                    "UntrustedArtifactOnDeployment", "Warn"
                )
            },
            "LastModified": lambda_time(self.clock.now()),
        }
        self.service.store.put_code_signing(arn, ctx.account_id, ctx.region, config)
        return {"CodeSigningConfig": config}

    def get_code_signing_config(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"CodeSigningConfig": self._config(params["CodeSigningConfigArn"])}

    def update_code_signing_config(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        config = self._config(params["CodeSigningConfigArn"])
        for key in ("Description", "AllowedPublishers", "CodeSigningPolicies"):
            if key in params:
                config[key] = params[key]
        config["LastModified"] = lambda_time(self.clock.now())
        self.service.store.put_code_signing(
            config["CodeSigningConfigArn"], ctx.account_id, ctx.region, config
        )
        return {"CodeSigningConfig": config}

    def delete_code_signing_config(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = self._config(params["CodeSigningConfigArn"])["CodeSigningConfigArn"]
        if self.service.store.functions_signed_with(arn):
            raise ServiceError(
                "ResourceConflictException",
                "The code signing configuration cannot be deleted because it is used by one or more functions.",
            )
        self.service.store.delete_code_signing(arn)
        return {}

    def list_code_signing_configs(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = params.get("MaxItems") or 50
        after = marker_position(params, "CodeSigningConfigs", str) or ""
        configs = self.service.store.code_signings(ctx.account_id, ctx.region, after, limit + 1)
        shown, token = page_of(configs, limit, lambda c: c["CodeSigningConfigArn"], "CodeSigningConfigs")
        result: dict[str, Any] = {"CodeSigningConfigs": shown}
        if token:
            result["NextMarker"] = token
        return result

    def put_function_code_signing_config(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, _ = self.service.parse_ref(ctx, params)
        self.service.latest(ctx, name)
        arn = self._config(params["CodeSigningConfigArn"])["CodeSigningConfigArn"]
        self.service.store.set_function_field(ctx.account_id, ctx.region, name, "code_signing_arn", arn)
        return {"CodeSigningConfigArn": arn, "FunctionName": name}

    def get_function_code_signing_config(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, _ = self.service.parse_ref(ctx, params)
        self.service.latest(ctx, name)
        arn = self.service.store.function_code_signing(ctx.account_id, ctx.region, name)
        return {"CodeSigningConfigArn": arn or "", "FunctionName": name}

    def delete_function_code_signing_config(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        name, _ = self.service.parse_ref(ctx, params)
        self.service.latest(ctx, name)
        self.service.store.set_function_field(ctx.account_id, ctx.region, name, "code_signing_arn", None)
        return {}

    def list_functions_by_code_signing_config(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        arn = self._config(params["CodeSigningConfigArn"])["CodeSigningConfigArn"]
        names = self.service.store.functions_signed_with(arn)
        return {"FunctionArns": [function_arn(ctx, name) for name in names]}

    def _config(self, arn: str) -> dict[str, Any]:
        config = self.service.store.code_signing(arn)
        if config is None:
            raise not_found(arn)
        return public(config)


def check_signed(store: Any, account: str, region: str, name: str) -> None:
    """Refuse new (unsigned) code for a function whose code signing configuration enforces signatures."""
    arn = store.function_code_signing(account, region, name)
    config = store.code_signing(arn) if arn else None
    if config and config["CodeSigningPolicies"].get("UntrustedArtifactOnDeployment") == "Enforce":
        raise ServiceError(
            "CodeVerificationFailedException",
            "Lambda cannot deploy the function. The function or layer might be signed using a signature that the "
            "client is not configured to accept. Check the provided signature for "
            f"{function_arn_text(account, region, name)}.",
        )


def function_arn_text(account: str, region: str, name: str) -> str:
    return f"arn:aws:lambda:{region}:{account}:function:{name}"
