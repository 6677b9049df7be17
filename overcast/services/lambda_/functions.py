"""Functions: creating, configuring, reading, listing and deleting them (and their code)."""

from __future__ import annotations

import json
import re
import uuid
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.kit.paging import page_of
from overcast.services.lambda_ import kms_keys
from overcast.services.lambda_.code_signing import check_signed
from overcast.services.lambda_.code_signing import not_found as code_signing_not_found
from overcast.services.lambda_.common import (
    LAYER_ARN,
    TAG_RULES,
    UPDATE_SECONDS,
    check_not_updating,
    check_revision,
    constraint,
    function_arn,
    function_view,
    invalid,
    lambda_time,
    marker_position,
    not_found,
    public,
)

if TYPE_CHECKING:
    from overcast.services.lambda_.provider import LambdaProvider

MAX_ENVIRONMENT = 4096
MAX_LAYERS = 5
_ROLE = re.compile(r"^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$")
_RESERVED_ENV = {
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
}


# Runtimes AWS no longer lets functions be created or updated with (its deprecation table, block-create dates
# passed by 2026), and the runtime its refusal recommends instead.
_BLOCKED_RUNTIMES = {
    **dict.fromkeys(
        ("nodejs", "nodejs4.3", "nodejs4.3-edge", "nodejs6.10", "nodejs8.10", "nodejs10.x", "nodejs12.x",
         "nodejs14.x", "nodejs16.x", "nodejs18.x"),
        "nodejs24.x",
    ),
    **dict.fromkeys(("python2.7", "python3.6", "python3.7", "python3.8", "python3.9"), "python3.14"),
    **dict.fromkeys(("java8",), "java25"),
    **dict.fromkeys(("dotnetcore1.0", "dotnetcore2.0", "dotnetcore2.1", "dotnetcore3.1", "dotnet6"), "dotnet10"),
    **dict.fromkeys(("ruby2.5", "ruby2.7"), "ruby3.4"),
    **dict.fromkeys(("go1.x", "provided"), "provided.al2023"),
}  # fmt: skip


def _check_runtime(runtime: str) -> None:
    if runtime in _BLOCKED_RUNTIMES:
        raise invalid(
            f"The runtime parameter of {runtime} is no longer supported for creating or updating AWS Lambda "
            f"functions. We recommend you use the new runtime ({_BLOCKED_RUNTIMES[runtime]}) while creating or "
            "updating functions."
        )


class FunctionOperations(Operations):
    service: LambdaProvider

    async def create_function(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service = self.service
        name, qualifier = service.parse_ref(ctx, params)
        if qualifier:
            raise invalid("Unsupported FunctionName: qualifiers are not allowed when creating a function")
        package_type = params.get("PackageType", "Zip")
        if package_type != "Zip":
            raise invalid("Overcast runs Zip packages only: container images (PackageType Image) need Docker")
        if not params.get("Runtime") or not params.get("Handler"):
            raise invalid(
                "Runtime and Handler are mandatory parameters for functions created with deployment packages."
            )
        _check_role(params["Role"])
        _check_runtime(params["Runtime"])
        zip_bytes = await service.fetch_code(ctx, params["Code"])
        with self.db.transaction():
            if service.store.function_row(ctx.account_id, ctx.region, name):
                raise ServiceError("ResourceConflictException", f"Function already exist: {name}")
            service.check_role_assumable(ctx, name, params["Role"])
            config = self._new_configuration(ctx, name, params)
            kms_keys.seal(service, ctx, config)
            self._apply_code(config, zip_bytes)
            self._apply_layers(config, params.get("Layers", []))
            service.store.add_function(ctx.account_id, ctx.region, name)
            if params.get("CodeSigningConfigArn"):
                csc = service.store.code_signing(params["CodeSigningConfigArn"])
                if csc is None:
                    raise code_signing_not_found(params["CodeSigningConfigArn"])
                service.store.set_function_field(
                    ctx.account_id, ctx.region, name, "code_signing_arn", params["CodeSigningConfigArn"]
                )
                check_signed(service.store, ctx.account_id, ctx.region, name)
            if params.get("Tags"):
                service.tags.add(
                    function_arn(ctx, name),
                    params["Tags"],
                    TAG_RULES,
                    account=ctx.account_id,
                    region=ctx.region,
                )
            service.store.put_version(ctx.account_id, ctx.region, name, config)
            if params.get("Publish"):
                return service.publish(ctx, name, config, None)
            return _pending(public(config))

    def _new_configuration(self, ctx: RequestContext, name: str, params: dict[str, Any]) -> dict[str, Any]:
        config: dict[str, Any] = {
            "FunctionName": name,
            "FunctionArn": function_arn(ctx, name),
            "Runtime": params["Runtime"],
            "Role": params["Role"],
            "Handler": params["Handler"],
            "Description": params.get("Description", ""),
            "Timeout": 3,
            "MemorySize": 128,
            "Version": "$LATEST",
            "TracingConfig": {"Mode": "PassThrough"},
            "State": "Active",
            "LastUpdateStatus": "Successful",
            "PackageType": "Zip",
            "Architectures": params.get("Architectures") or ["x86_64"],
            "EphemeralStorage": {"Size": 512},
            "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
            "LoggingConfig": {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"},
            "RuntimeVersionConfig": {"RuntimeVersionArn": _runtime_version_arn(ctx, params["Runtime"])},
        }
        self._apply_settings(config, params)
        return config

    def _apply_settings(self, config: dict[str, Any], params: dict[str, Any]) -> None:
        """The settings CreateFunction and UpdateFunctionConfiguration share."""
        if "Timeout" in params:
            if params["Timeout"] > 900:
                raise constraint(params["Timeout"], "timeout", "less than or equal to 900")
            config["Timeout"] = params["Timeout"]
        if "MemorySize" in params:
            if params["MemorySize"] > 10240:
                raise constraint(params["MemorySize"], "memorySize", "less than or equal to 10240")
            config["MemorySize"] = params["MemorySize"]
        for key in ("Runtime", "Role", "Handler", "Description"):
            if key in params:
                config[key] = params[key]
        if "Environment" in params:
            variables = params["Environment"].get("Variables", {})
            _check_environment(variables)
            config["Environment"] = {"Variables": variables}
        if "DeadLetterConfig" in params:
            target = params["DeadLetterConfig"].get("TargetArn")
            if target and not re.match(r"^arn:aws[a-zA-Z-]*:(sqs|sns):", target):
                raise invalid(
                    "The provided target arn is invalid: the dead-letter queue must be an SQS queue or SNS topic"
                )
            config["DeadLetterConfig"] = {"TargetArn": target} if target else {}
        if "TracingConfig" in params:
            config["TracingConfig"] = {"Mode": params["TracingConfig"].get("Mode", "PassThrough")}
        if "KMSKeyArn" in params:  # "" returns the variables to Lambda's own key
            if params["KMSKeyArn"]:
                config["KMSKeyArn"] = params["KMSKeyArn"]
            else:
                config.pop("KMSKeyArn", None)
        if "EphemeralStorage" in params:
            config["EphemeralStorage"] = {"Size": params["EphemeralStorage"]["Size"]}
        if "LoggingConfig" in params:
            config["LoggingConfig"] = {**config.get("LoggingConfig", {}), **params["LoggingConfig"]}
        if "VpcConfig" in params:  # recorded only: functions run on the host's network
            vpc = params["VpcConfig"]
            config["VpcConfig"] = {
                "SubnetIds": vpc.get("SubnetIds", []),
                "SecurityGroupIds": vpc.get("SecurityGroupIds", []),
                "VpcId": "",
            }
        config["LastModified"] = lambda_time(self.clock.now())
        config["RevisionId"] = str(uuid.uuid4())

    def _apply_code(self, config: dict[str, Any], zip_bytes: bytes) -> None:
        """Inside a transaction: store the package (once per content) and point the configuration at it."""
        sha, sha_b64 = self.service.store_package(zip_bytes)
        config["CodeSha256"] = sha_b64
        config["CodeSize"] = len(zip_bytes)
        config["_CodeSha"] = sha

    def _apply_layers(self, config: dict[str, Any], arns: list[str]) -> None:
        if len(arns) > MAX_LAYERS:
            raise invalid(f"Cannot reference more than {MAX_LAYERS} layers.")
        layers, shas = [], []
        for arn in arns:
            match = LAYER_ARN.match(arn)
            layer = (
                self.service.store.layer(match.group(2), match.group(1), match.group(3), int(match.group(4)))
                if match
                else None
            )
            if layer is None:
                raise invalid(f"Layer version {arn} does not exist.")
            layers.append({"Arn": arn, "CodeSize": layer["Content"]["CodeSize"]})
            shas.append(layer["_CodeSha"])
        if layers:
            config["Layers"] = layers
        else:
            config.pop("Layers", None)
        config["_LayerShas"] = shas

    async def update_function_code(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service = self.service
        name, _ = service.parse_ref(ctx, params)
        zip_bytes = await service.fetch_code(ctx, params)
        with self.db.transaction():
            config = service.latest(ctx, name)
            check_revision(config, params)
            now = self.clock.now()
            check_not_updating(config, now)
            check_signed(service.store, ctx.account_id, ctx.region, name)
            old_sha = config.get("_CodeSha")
            self._apply_code(config, zip_bytes)
            config["LastModified"] = lambda_time(now)
            config["RevisionId"] = str(uuid.uuid4())
            published = service.publish(ctx, name, config, None) if params.get("Publish") else None
            config["_UpdateUntil"] = now + UPDATE_SECONDS
            service.store.put_version(ctx.account_id, ctx.region, name, config)
            service.release_package(old_sha)
            return published if published is not None else function_view(config, now)

    def update_function_configuration(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service = self.service
        name, _ = service.parse_ref(ctx, params)
        config = service.latest(ctx, name)
        check_revision(config, params)
        now = self.clock.now()
        check_not_updating(config, now)
        if "Runtime" in params:
            _check_runtime(params["Runtime"])
        if "Role" in params:
            _check_role(params["Role"])
            if params["Role"] != config["Role"]:
                service.check_role_assumable(ctx, name, params["Role"])
        self._apply_settings(config, params)
        if "KMSKeyArn" in params or "Environment" in params:
            kms_keys.seal(service, ctx, config)
        if "Runtime" in params:
            config["RuntimeVersionConfig"] = {
                "RuntimeVersionArn": _runtime_version_arn(ctx, params["Runtime"])
            }
        if "Layers" in params:
            self._apply_layers(config, params["Layers"])
        config["_UpdateUntil"] = now + UPDATE_SECONDS
        service.store.put_version(ctx.account_id, ctx.region, name, config)
        return function_view(config, now)

    def get_function(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service = self.service
        name, qualifier = service.parse_ref(ctx, params)
        config = service.resolve(ctx, name, qualifier)
        row = service.store.function_row(ctx.account_id, ctx.region, name)
        result: dict[str, Any] = {
            "Configuration": _configuration_view(ctx, config, qualifier, self.clock.now()),
            "Code": {"RepositoryType": "S3", "Location": service.code_location(config["_CodeSha"])},
        }
        tags = service.tags.get(function_arn(ctx, name))
        if tags:
            result["Tags"] = tags
        if row.reserved_concurrency is not None:
            result["Concurrency"] = {"ReservedConcurrentExecutions": row.reserved_concurrency}
        return result

    def get_function_configuration(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, qualifier = self.service.parse_ref(ctx, params)
        config = self.service.resolve(ctx, name, qualifier)
        return _configuration_view(ctx, config, qualifier, self.clock.now())

    def delete_function(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service = self.service
        name, qualifier = service.parse_ref(ctx, params)
        service.latest(ctx, name)
        if qualifier == "$LATEST":
            raise invalid("$LATEST version cannot be deleted without deleting the function.")
        if qualifier:
            if not qualifier.isdigit():
                raise invalid("Deletion of aliases is not supported by DeleteFunction: use DeleteAlias")
            for alias in service.store.aliases(ctx.account_id, ctx.region, name):
                if qualifier in (
                    alias["FunctionVersion"],
                    *alias.get("RoutingConfig", {}).get("AdditionalVersionWeights", {}),
                ):
                    raise ServiceError(
                        "ResourceConflictException",
                        f"Unable to delete version because the following aliases reference it: [{alias['Name']}]",
                    )
            sha = service.store.delete_version(ctx.account_id, ctx.region, name, qualifier)
            if sha is None:
                raise not_found(f"Function not found: {function_arn(ctx, name, qualifier)}")
            service.release_package(sha)
        else:
            for sha in set(service.store.delete_function(ctx.account_id, ctx.region, name)):
                service.release_package(sha)
            service.tags.forget(function_arn(ctx, name))
        self.db.after_commit(lambda: service.executor.forget(ctx.account_id, ctx.region, name, qualifier))
        return {"StatusCode": 204}

    def list_functions(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = min(params.get("MaxItems") or 50, 50)
        now = self.clock.now()
        if params.get("FunctionVersion") == "ALL":  # every version of every function
            after = marker_position(params, "FunctionVersions", list) or ["", -1]
            rows = self.service.store.versions_page(
                ctx.account_id, ctx.region, (after[0], after[1]), limit + 1
            )
            page, token = page_of(rows, limit, lambda row: [row[0], row[1]], "FunctionVersions")
            result: dict[str, Any] = {"Functions": [function_view(c, now) for _, _, c in page]}
        else:
            after = marker_position(params, "Functions", str) or ""
            configs = self.service.store.functions_page(ctx.account_id, ctx.region, after, limit + 1)
            page, token = page_of(configs, limit, lambda config: config["FunctionName"], "Functions")
            result = {"Functions": [function_view(c, now) for c in page]}
        if token:
            result["NextMarker"] = token
        return result


def _check_role(role: str) -> None:
    if not _ROLE.match(role):
        raise ServiceError(
            "ValidationException",
            f"1 validation error detected: Value '{role}' at 'role' failed to satisfy constraint: Member must "
            r"satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+",
        )


def _runtime_version_arn(ctx: RequestContext, runtime: str) -> str:
    return f"arn:aws:lambda:{ctx.region}::runtime:{runtime}-overcast"


def _pending(view: dict[str, Any]) -> dict[str, Any]:
    """CreateFunction's answer: the function is Pending while Lambda prepares it (here it is Active at once)."""
    view.update(State="Pending", StateReason="The function is being created.", StateReasonCode="Creating")
    view.pop("LastUpdateStatus", None)
    return view


def _configuration_view(
    ctx: RequestContext, config: dict[str, Any], qualifier: str | None, now: float
) -> dict:
    view = function_view(config, now)
    if qualifier and not qualifier.isdigit() and qualifier != "$LATEST":  # through an alias
        view["FunctionArn"] = function_arn(ctx, config["FunctionName"], qualifier)
    return view


def _check_environment(variables: dict[str, str]) -> None:
    reserved = sorted(set(variables) & _RESERVED_ENV)
    if reserved:
        raise invalid(
            "Lambda was unable to configure your environment variables because the environment variables you have "
            "provided contains reserved keys that are currently not supported for modification. Reserved keys used "
            f"in this request: {', '.join(reserved)}"
        )
    measured = json.dumps(variables, separators=(",", ":"))
    if len(measured.encode()) > MAX_ENVIRONMENT:
        raise invalid(
            "Lambda was unable to configure your environment variables because the environment variables you have "
            f"provided exceeded the 4KB limit. String measured: {measured}"
        )
