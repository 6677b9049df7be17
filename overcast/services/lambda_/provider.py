"""AWS Lambda: functions whose code really runs, in local processes speaking the Lambda Runtime API.

Configuration lives in SQLite (store.py), code zips as blobs unpacked once per content (code.py); each
function version keeps warm worker processes (executor.py, worker.py). Asynchronous invocations wait in a
table, so they survive a restart, and are retried on the virtual clock (async_invoke.py).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import random
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.identity import Principal, service_principal
from overcast.services.base import HttpRoute, ServiceProvider
from overcast.services.lambda_ import code as packages
from overcast.services.lambda_ import runtimes
from overcast.services.lambda_.async_invoke import AsyncInvoker
from overcast.services.lambda_.event_sources import EventSourceOps, EventSourcePoller
from overcast.services.lambda_.executor import Executor, Result, tail
from overcast.services.lambda_.function_urls import FunctionUrlOps
from overcast.services.lambda_.logs import LogShipper
from overcast.services.lambda_.store import LambdaStore
from overcast.services.lambda_.worker import Invocation, LaunchSpec

MAX_SYNC_PAYLOAD = 6 * 1024 * 1024
STREAM_CHUNK = 64 * 1024  # bytes per PayloadChunk event of InvokeWithResponseStream
CREDENTIAL_EPOCH = 3000  # virtual seconds an environment keeps its role credentials
MAX_ASYNC_PAYLOAD = 256 * 1024
MAX_ENVIRONMENT = 4096
MAX_LAYERS = 5
MIN_UNRESERVED = 100
DEFAULT_ACCOUNT_CONCURRENCY = 1000
log = logging.getLogger("overcast.lambda")
_FUNCTION_REF = re.compile(
    r"^(?:arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:|\d{12}:function:)?"
    r"(?P<name>[a-zA-Z0-9_-]{1,64})(?::(?P<qualifier>\$LATEST|[a-zA-Z0-9_-]{1,128}))?$"
)
_LAYER_ARN = re.compile(r"^arn:aws[a-zA-Z-]*:lambda:([a-z0-9-]+):(\d{12}):layer:([a-zA-Z0-9_-]+):(\d+)$")
_ROLE = re.compile(r"^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$")
_ALIAS_NAME = re.compile(r"^(?!^[0-9]+$)[a-zA-Z0-9_-]{1,128}$")
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
# what a published version copies from $LATEST and what makes two versions "the same"
_VOLATILE = {"LastModified", "RevisionId", "Version", "FunctionArn", "Description", "MasterArn"}


def _lambda_time(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"


def _public(config: dict[str, Any]) -> dict[str, Any]:
    """A stored configuration without Overcast's own bookkeeping keys."""
    return {k: v for k, v in config.items() if not k.startswith("_")}


def not_found(message: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", message)


def invalid(message: str) -> ServiceError:
    return ServiceError("InvalidParameterValueException", message)


class LambdaProvider(EventSourceOps, FunctionUrlOps, ServiceProvider):
    service_name = "lambda"
    # Function URLs: https://<url-id>.lambda-url.<region>.<host>/..., or path style under /_overcast/lambda-url/
    routes = (
        HttpRoute("serve_url", "InvokeFunctionUrl", host=".lambda-url.", path="/_overcast/lambda-url/"),
    )

    iam_actions = {"InvokeWithResponseStream": "InvokeFunction"}

    def resource_arn(self, ctx: RequestContext, params: dict[str, Any]) -> str | None:
        """The resource a request acts on, for authorization."""
        name = params.get("FunctionName")
        if not name:
            return params.get("Resource") or params.get("ARN")
        if name.startswith("arn:"):
            return name
        if ":" in name:  # account:function:name partial ARNs and name:qualifier
            return ctx.arn("lambda", f"function:{name}")
        return ctx.arn("lambda", f"function:{name}")

    def __init__(self, platform) -> None:
        super().__init__(platform)
        self.store = LambdaStore(self.db)
        data = Path(platform.root) / "lambda"
        self.code_root = data / "code"
        self.code_root.mkdir(parents=True, exist_ok=True)
        self.executor = Executor(data / "tmp")
        self.shipper = LogShipper(platform)
        self.account_concurrency = int(
            os.environ.get("OVERCAST_LAMBDA_CONCURRENCY", DEFAULT_ACCOUNT_CONCURRENCY)
        )
        self.async_invoker = AsyncInvoker(self)
        self.event_sources = EventSourcePoller(self)
        self._unreserved_cache: dict[tuple[str, str], int] = {}
        self._role_principals: dict[tuple, Principal] = {}
        if platform.config.iam != "off":  # roles are checked at creation: build STS outside any transaction
            platform.provider("sts")

    async def start(self) -> None:
        self.store.requeue_running()
        self.platform.spawn(self.shipper.run())
        self.platform.spawn(self.async_invoker.run())
        self.platform.spawn(self.event_sources.run())
        self.platform.spawn(self._reap_idle_workers())

    async def stop(self) -> None:
        self.executor.stop_all()

    def reset(self) -> None:
        self.executor.stop_all()
        self.shipper.forget()
        self.event_sources.forget()
        self._role_principals.clear()
        self._unreserved_cache.clear()

    async def _reap_idle_workers(self) -> None:
        while True:
            await asyncio.sleep(30)
            self.executor.reap_idle()

    # -- names -------------------------------------------------------------------------------------

    def _parse_ref(self, params: dict[str, Any]) -> tuple[str, str | None]:
        match = _FUNCTION_REF.match(params["FunctionName"])
        if not match:
            raise ServiceError(
                "ValidationException",
                f"1 validation error detected: Value '{params['FunctionName']}' at 'functionName' failed to "
                "satisfy constraint: Member must satisfy regular expression pattern: "
                r"(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?"
                r"([a-zA-Z0-9-_\.]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?",
            )
        qualifier = params.get("Qualifier") or match.group("qualifier")
        if (
            params.get("Qualifier")
            and match.group("qualifier")
            and params["Qualifier"] != match.group("qualifier")
        ):
            raise invalid(
                "The derived qualifier from the function name does not match the specified qualifier."
            )
        return match.group("name"), qualifier

    @staticmethod
    def _function_arn(ctx: RequestContext, name: str, qualifier: str | None = None) -> str:
        return ctx.arn("lambda", f"function:{name}" + (f":{qualifier}" if qualifier else ""))

    def _latest(self, ctx: RequestContext, name: str) -> dict[str, Any]:
        config = self.store.version(ctx.account_id, ctx.region, name, "$LATEST")
        if config is None:
            raise not_found(f"Function not found: {self._function_arn(ctx, name)}")
        return config

    def _resolve(self, ctx: RequestContext, name: str, qualifier: str | None) -> dict[str, Any]:
        """The configuration a qualifier names ($LATEST, a version number or an alias's main version)."""
        if qualifier is None or qualifier == "$LATEST" or qualifier.isdigit():
            config = self.store.version(ctx.account_id, ctx.region, name, qualifier or "$LATEST")
            if config is None:
                raise not_found(f"Function not found: {self._function_arn(ctx, name, qualifier)}")
            return config
        alias = self.store.alias(ctx.account_id, ctx.region, name, qualifier)
        if alias is None:
            self._latest(ctx, name)
            raise not_found(f"Function not found: {self._function_arn(ctx, name, qualifier)}")
        return self.store.version(ctx.account_id, ctx.region, name, alias["FunctionVersion"])

    # -- creating and changing functions -----------------------------------------------------------

    async def create_function(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, qualifier = self._parse_ref(params)
        if qualifier:
            raise invalid("Unsupported FunctionName: qualifiers are not allowed when creating a function")
        package_type = params.get("PackageType", "Zip")
        if package_type != "Zip":
            raise invalid("Overcast runs Zip packages only: container images (PackageType Image) need Docker")
        if not params.get("Runtime") or not params.get("Handler"):
            raise invalid(
                "Runtime and Handler are mandatory parameters for functions created with deployment packages."
            )
        self._check_role(params["Role"])
        zip_bytes = await self._fetch_code(ctx, params["Code"])
        with self.db.transaction():
            if self.store.function_row(ctx.account_id, ctx.region, name):
                raise ServiceError("ResourceConflictException", f"Function already exist: {name}")
            self._check_role_assumable(ctx, name, params["Role"])
            config = self._new_configuration(ctx, name, params)
            self._apply_code(config, zip_bytes)
            self._apply_layers(ctx, config, params.get("Layers", []))
            self.db.execute(
                "INSERT INTO lambda_functions (account, region, name, tags) VALUES (?, ?, ?, ?)",
                (ctx.account_id, ctx.region, name, json.dumps(params.get("Tags", {}))),
            )
            self.store.put_version(ctx.account_id, ctx.region, name, config)
            if params.get("Publish"):
                return self._publish(ctx, name, config, None)
            return _public(config)

    def _new_configuration(self, ctx: RequestContext, name: str, params: dict[str, Any]) -> dict[str, Any]:
        config: dict[str, Any] = {
            "FunctionName": name,
            "FunctionArn": self._function_arn(ctx, name),
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
            "RuntimeVersionConfig": {"RuntimeVersionArn": self._runtime_version_arn(ctx, params["Runtime"])},
        }
        self._apply_settings(config, params)
        return config

    def _apply_settings(self, config: dict[str, Any], params: dict[str, Any]) -> None:
        """The settings CreateFunction and UpdateFunctionConfiguration share."""
        if "Timeout" in params:
            if params["Timeout"] > 900:
                raise _constraint(params["Timeout"], "timeout", "less than or equal to 900")
            config["Timeout"] = params["Timeout"]
        if "MemorySize" in params:
            if params["MemorySize"] > 10240:
                raise _constraint(params["MemorySize"], "memorySize", "less than or equal to 10240")
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
        config["LastModified"] = _lambda_time(self.clock.now())
        config["RevisionId"] = str(uuid.uuid4())

    def _runtime_version_arn(self, ctx: RequestContext, runtime: str) -> str:
        return f"arn:aws:lambda:{ctx.region}::runtime:{runtime}-overcast"

    @staticmethod
    def _check_role(role: str) -> None:
        if not _ROLE.match(role):
            raise ServiceError(
                "ValidationException",
                f"1 validation error detected: Value '{role}' at 'role' failed to satisfy constraint: Member must "
                r"satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+",
            )

    def _check_role_assumable(self, ctx: RequestContext, name: str, role: str) -> None:
        """AWS assumes the execution role when a function is created or given a new role, and refuses one
        that does not exist or does not trust lambda.amazonaws.com. Under `--iam enforce` so does Overcast;
        in `off` and `soft` modes a made-up role ARN is accepted (the function then runs with its account's
        root keys), so scripts that never create the role keep working."""
        sts = self.platform.provider("sts")
        if self.platform.config.iam == "off" or not hasattr(sts, "credentials_for_service"):
            return
        try:
            with self.db.transaction():
                sts.credentials_for_service(
                    role,
                    "lambda.amazonaws.com",
                    name[:64],
                    duration=900,
                    source_arn=self._function_arn(ctx, name),
                    source_account=ctx.account_id,
                )
        except ServiceError as error:
            if self.platform.config.iam == "enforce":
                raise invalid("The role defined for the function cannot be assumed by Lambda.") from None
            log.warning(
                "function %s: Lambda cannot assume its role %s (%s); accepted outside --iam enforce",
                name,
                role,
                error.message,
            )

    async def _fetch_code(self, ctx: RequestContext, code: dict[str, Any]) -> bytes:
        if code.get("ZipFile") is not None:
            data = code["ZipFile"]
            if len(data) > packages.MAX_DIRECT_ZIP:
                raise ServiceError(
                    "RequestEntityTooLargeException",
                    f"Request must be smaller than {packages.MAX_DIRECT_ZIP} bytes for the "
                    "CreateFunction operation",
                    413,
                )
            return data
        if code.get("S3Bucket") and code.get("S3Key"):
            return await self._s3_object(ctx, code["S3Bucket"], code["S3Key"], code.get("S3ObjectVersion"))
        if code.get("ImageUri"):
            raise invalid("Overcast runs Zip packages only: container images need Docker")
        raise invalid("Please provide a source for function code.")

    async def _s3_object(self, ctx: RequestContext, bucket: str, key: str, version: str | None) -> bytes:
        request = {"Bucket": bucket, "Key": key}
        if version:
            request["VersionId"] = version
        try:
            found = await self.platform.call(
                "s3",
                "GetObject",
                request,
                principal=ctx.principal,
                account_id=ctx.account_id,
                region=ctx.region,
            )
        except ServiceError as error:
            if error.code == "NotImplemented":
                raise invalid("Code from S3 needs Overcast's S3 service, which is not available") from error
            raise invalid(
                f"Error occurred while GetObject. S3 Error Code: {error.code}. S3 Error Message: {error.message}"
            ) from error
        body = found.get("Body", b"")
        if isinstance(body, bytes | bytearray):
            return bytes(body)
        chunks = [chunk async for chunk in body]
        return b"".join(chunks)

    def _apply_code(self, config: dict[str, Any], zip_bytes: bytes) -> None:
        """Inside a transaction: store the package (once per content) and point the configuration at it."""
        sha, sha_b64 = self._store_package(zip_bytes)
        config["CodeSha256"] = sha_b64
        config["CodeSize"] = len(zip_bytes)
        config["_CodeSha"] = sha

    def _store_package(self, zip_bytes: bytes) -> tuple[str, str]:
        sha, sha_b64 = packages.digests(zip_bytes)
        if self.store.code_blob(sha) is None:
            packages.check_zip(zip_bytes)
            blob = self.platform.blobs.write_bytes(zip_bytes)
            self.store.add_code(sha, self.platform.blobs.commit(blob), len(zip_bytes))
        return sha, sha_b64

    def _release_package(self, sha: str | None) -> None:
        if sha and self.store.code_unused(sha):
            blob_id = self.store.drop_code(sha)
            if blob_id:
                self.platform.blobs.delete(blob_id)

    def _apply_layers(self, ctx: RequestContext, config: dict[str, Any], arns: list[str]) -> None:
        if len(arns) > MAX_LAYERS:
            raise invalid(f"Cannot reference more than {MAX_LAYERS} layers.")
        layers, shas = [], []
        for arn in arns:
            match = _LAYER_ARN.match(arn)
            layer = (
                self.store.layer(match.group(2), match.group(1), match.group(3), int(match.group(4)))
                if match
                else None
            )
            if layer is None:
                raise invalid(f"Layer version {arn} does not exist.")
            layers.append({"Arn": arn, "CodeSize": layer["Content"]["CodeSize"]})
            shas.append(layer["_CodeSha"])
        config["Layers"] = layers
        config["_LayerShas"] = shas

    async def update_function_code(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, _ = self._parse_ref(params)
        zip_bytes = await self._fetch_code(ctx, params)
        with self.db.transaction():
            config = self._latest(ctx, name)
            _check_revision(config, params)
            old_sha = config.get("_CodeSha")
            self._apply_code(config, zip_bytes)
            config["LastModified"] = _lambda_time(self.clock.now())
            config["RevisionId"] = str(uuid.uuid4())
            self.store.put_version(ctx.account_id, ctx.region, name, config)
            self._release_package(old_sha)
            if params.get("Publish"):
                return self._publish(ctx, name, config, None)
            return _public(config)

    def update_function_configuration(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, _ = self._parse_ref(params)
        config = self._latest(ctx, name)
        _check_revision(config, params)
        if "Role" in params:
            self._check_role(params["Role"])
            if params["Role"] != config["Role"]:
                self._check_role_assumable(ctx, name, params["Role"])
        self._apply_settings(config, params)
        if "Runtime" in params:
            config["RuntimeVersionConfig"] = {
                "RuntimeVersionArn": self._runtime_version_arn(ctx, params["Runtime"])
            }
        if "Layers" in params:
            self._apply_layers(ctx, config, params["Layers"])
        self.store.put_version(ctx.account_id, ctx.region, name, config)
        return _public(config)

    def get_function(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, qualifier = self._parse_ref(params)
        config = self._resolve(ctx, name, qualifier)
        reserved, tags, _, _ = self.store.function_row(ctx.account_id, ctx.region, name)
        result: dict[str, Any] = {
            "Configuration": self._configuration_view(ctx, config, qualifier),
            "Code": {"RepositoryType": "S3", "Location": self._code_location(ctx, config["_CodeSha"])},
            "Tags": json.loads(tags),
        }
        if reserved is not None:
            result["Concurrency"] = {"ReservedConcurrentExecutions": reserved}
        return result

    def _code_location(self, ctx: RequestContext, sha: str) -> str:
        # A pre-signed URL in AWS; Overcast does not serve package downloads yet (see docs/services/lambda.md)
        return f"{self._endpoint()}/_overcast/lambda/code/{sha}"

    def get_function_configuration(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, qualifier = self._parse_ref(params)
        return self._configuration_view(ctx, self._resolve(ctx, name, qualifier), qualifier)

    def _configuration_view(self, ctx: RequestContext, config: dict[str, Any], qualifier: str | None) -> dict:
        view = _public(config)
        if qualifier and not qualifier.isdigit() and qualifier != "$LATEST":  # through an alias
            view["FunctionArn"] = self._function_arn(ctx, config["FunctionName"], qualifier)
        return view

    def delete_function(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, qualifier = self._parse_ref(params)
        self._latest(ctx, name)
        if qualifier == "$LATEST":
            raise invalid("$LATEST version cannot be deleted without deleting the function.")
        if qualifier:
            if not qualifier.isdigit():
                raise invalid("Deletion of aliases is not supported by DeleteFunction: use DeleteAlias")
            for alias in self.store.aliases(ctx.account_id, ctx.region, name):
                if qualifier in (
                    alias["FunctionVersion"],
                    *alias.get("RoutingConfig", {}).get("AdditionalVersionWeights", {}),
                ):
                    raise ServiceError(
                        "ResourceConflictException",
                        f"Unable to delete version because the following aliases reference it: [{alias['Name']}]",
                    )
            sha = self.store.delete_version(ctx.account_id, ctx.region, name, qualifier)
            if sha is None:
                raise not_found(f"Function not found: {self._function_arn(ctx, name, qualifier)}")
            self._release_package(sha)
        else:
            for sha in set(self.store.delete_function(ctx.account_id, ctx.region, name)):
                self._release_package(sha)
        self.db.after_commit(lambda: self.executor.forget(ctx.account_id, ctx.region, name, qualifier))
        return {"StatusCode": 204}

    def list_functions(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = min(params.get("MaxItems") or 50, 50)
        after = _decode_marker(params.get("Marker"))
        configs = self.store.functions_page(ctx.account_id, ctx.region, after, limit + 1)
        result: dict[str, Any] = {"Functions": [_public(c) for c in configs[:limit]]}
        if len(configs) > limit:
            result["NextMarker"] = _encode_marker(configs[limit - 1]["FunctionName"])
        return result

    # -- versions and aliases ----------------------------------------------------------------------

    def publish_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, _ = self._parse_ref(params)
        config = self._latest(ctx, name)
        _check_revision(config, params)
        if params.get("CodeSha256") and params["CodeSha256"] != config["CodeSha256"]:
            raise invalid(
                f"CodeSHA256 ({params['CodeSha256']}) is different from current CodeSHA256 in $LATEST "
                f"({config['CodeSha256']}). Please try again with the CodeSHA256 in $LATEST."
            )
        return self._publish(ctx, name, config, params.get("Description"))

    def _publish(
        self, ctx: RequestContext, name: str, latest: dict[str, Any], description: str | None
    ) -> dict:
        versions = self.store.versions(ctx.account_id, ctx.region, name)
        if len(versions) > 1 and _fingerprint(versions[-1]) == _fingerprint(latest):
            return _public(versions[-1])  # nothing changed since the last version: AWS publishes none
        _, _, _, number = self.store.function_row(ctx.account_id, ctx.region, name)
        version = dict(
            latest,
            Version=str(number),
            FunctionArn=self._function_arn(ctx, name, str(number)),
            RevisionId=str(uuid.uuid4()),
            LastModified=_lambda_time(self.clock.now()),
        )
        if description is not None:
            version["Description"] = description
        self.store.put_version(ctx.account_id, ctx.region, name, version)
        self.store.set_function_field(ctx.account_id, ctx.region, name, "next_version", number + 1)
        return _public(version)

    def list_versions_by_function(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, _ = self._parse_ref(params)
        self._latest(ctx, name)
        versions = [_public(v) for v in self.store.versions(ctx.account_id, ctx.region, name)]
        return _page(versions, params, "Versions")

    def create_alias(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, _ = self._parse_ref(params)
        self._latest(ctx, name)
        alias_name = params["Name"]
        if not _ALIAS_NAME.match(alias_name):
            raise ServiceError(
                "ValidationException",
                f"1 validation error detected: Value '{alias_name}' at 'name' failed to satisfy constraint: "
                "Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)",
            )
        arn = self._function_arn(ctx, name, alias_name)
        if self.store.alias(ctx.account_id, ctx.region, name, alias_name):
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
        self.store.put_alias(ctx.account_id, ctx.region, name, alias)
        if not alias.get("RoutingConfig"):
            alias.pop("RoutingConfig", None)

    def _require_version(self, ctx: RequestContext, name: str, version: str) -> None:
        if self.store.version(ctx.account_id, ctx.region, name, version) is None:
            raise not_found(f"Function not found: {self._function_arn(ctx, name, version)}")

    def _alias(self, ctx: RequestContext, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        name, _ = self._parse_ref(params)
        alias = self.store.alias(ctx.account_id, ctx.region, name, params["Name"])
        if alias is None:
            raise not_found(f"Cannot find alias arn: {self._function_arn(ctx, name, params['Name'])}")
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
        name, _ = self._parse_ref(params)
        self.store.delete_alias(ctx.account_id, ctx.region, name, params["Name"])
        return {}

    def list_aliases(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, _ = self._parse_ref(params)
        self._latest(ctx, name)
        aliases = self.store.aliases(ctx.account_id, ctx.region, name)
        if params.get("FunctionVersion"):
            aliases = [a for a in aliases if a["FunctionVersion"] == params["FunctionVersion"]]
        return _page(aliases, params, "Aliases")

    # -- layers ------------------------------------------------------------------------------------

    async def publish_layer_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = (
            params["LayerName"].rsplit(":", 1)[-1]
            if params["LayerName"].startswith("arn:")
            else params["LayerName"]
        )
        zip_bytes = await self._fetch_code(ctx, params["Content"])
        with self.db.transaction():
            sha, sha_b64 = self._store_package(zip_bytes)
            version = self.store.next_layer_version(ctx.account_id, ctx.region, name)
            layer_arn = ctx.arn("lambda", f"layer:{name}")
            config = {
                "Content": {
                    "Location": self._code_location(ctx, sha),
                    "CodeSha256": sha_b64,
                    "CodeSize": len(zip_bytes),
                },
                "LayerArn": layer_arn,
                "LayerVersionArn": f"{layer_arn}:{version}",
                "Description": params.get("Description", ""),
                "CreatedDate": _lambda_time(self.clock.now()),
                "Version": version,
                "_CodeSha": sha,
            }
            for key in ("CompatibleRuntimes", "CompatibleArchitectures", "LicenseInfo"):
                if key in params:
                    config[key] = params[key]
            self.store.put_layer(ctx.account_id, ctx.region, name, version, config, sha)
            return _public(config)

    def _layer(self, ctx: RequestContext, name: str, version: int) -> dict[str, Any]:
        layer = self.store.layer(ctx.account_id, ctx.region, name, version)
        if layer is None:
            raise not_found("The resource you requested does not exist.")
        return layer

    def get_layer_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return _public(self._layer(ctx, params["LayerName"], params["VersionNumber"]))

    def get_layer_version_by_arn(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        match = _LAYER_ARN.match(params["Arn"])
        if not match:
            raise ServiceError(
                "ValidationException",
                f"1 validation error detected: Value '{params['Arn']}' at "
                "'arn' failed to satisfy constraint: Member must be a layer version ARN",
            )
        layer = self.store.layer(match.group(2), match.group(1), match.group(3), int(match.group(4)))
        if layer is None:
            raise not_found("The resource you requested does not exist.")
        return _public(layer)

    def list_layer_versions(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        versions = self.store.layer_versions(ctx.account_id, ctx.region, params["LayerName"])
        items = [_layer_item(v) for v in versions if _layer_matches(v, params)]
        return _page(items, params, "LayerVersions")

    def list_layers(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        items = [
            {
                "LayerName": v["LayerArn"].rsplit(":", 1)[-1],
                "LayerArn": v["LayerArn"],
                "LatestMatchingVersion": _layer_item(v),
            }
            for v in self.store.latest_layers(ctx.account_id, ctx.region)
            if _layer_matches(v, params)
        ]
        return _page(items, params, "Layers")

    def delete_layer_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        sha = self.store.delete_layer(
            ctx.account_id, ctx.region, params["LayerName"], params["VersionNumber"]
        )
        self._release_package(sha)
        return {}

    # -- tags --------------------------------------------------------------------------------------

    def _tagged_function(self, ctx: RequestContext, arn: str) -> tuple[str, dict[str, str]]:
        match = _FUNCTION_REF.match(arn)
        row = self.store.function_row(ctx.account_id, ctx.region, match.group("name")) if match else None
        if row is None:
            raise not_found(f"Function not found: {arn}")
        return match.group("name"), json.loads(row[1])

    def tag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, tags = self._tagged_function(ctx, params["Resource"])
        tags.update(params["Tags"])
        if len(tags) > 50:
            raise invalid("Number of tags exceeds resource tag limit.")
        self.store.set_function_field(ctx.account_id, ctx.region, name, "tags", json.dumps(tags))
        return {}

    def untag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, tags = self._tagged_function(ctx, params["Resource"])
        for key in params["TagKeys"]:
            tags.pop(key, None)
        self.store.set_function_field(ctx.account_id, ctx.region, name, "tags", json.dumps(tags))
        return {}

    def list_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"Tags": self._tagged_function(ctx, params["Resource"])[1]}

    # -- resource policy ---------------------------------------------------------------------------

    def _statements(self, ctx: RequestContext, name: str) -> list[dict[str, Any]]:
        row = self.store.function_row(ctx.account_id, ctx.region, name)
        if row is None:
            raise not_found(f"Function not found: {self._function_arn(ctx, name)}")
        return json.loads(row[2])

    def add_permission(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, qualifier = self._parse_ref(params)
        if qualifier:
            self._resolve(ctx, name, qualifier)
        statements = self._statements(ctx, name)
        if any(s["Sid"] == params["StatementId"] and s.get("_Qualifier") == qualifier for s in statements):
            raise ServiceError(
                "ResourceConflictException",
                "The statement id (sid) provided already exists. Please "
                "choose a new statement id, or remove the existing statement.",
            )
        statement = _permission_statement(params, self._function_arn(ctx, name, qualifier))
        statements.append(dict(statement, _Qualifier=qualifier))
        self.store.set_function_field(ctx.account_id, ctx.region, name, "policy", json.dumps(statements))
        return {"Statement": json.dumps(statement)}

    def remove_permission(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, qualifier = self._parse_ref(params)
        statements = self._statements(ctx, name)
        kept = [
            s
            for s in statements
            if not (s["Sid"] == params["StatementId"] and s.get("_Qualifier") == qualifier)
        ]
        if len(kept) == len(statements):
            raise not_found(f"Statement {params['StatementId']} is not found in resource policy.")
        self.store.set_function_field(ctx.account_id, ctx.region, name, "policy", json.dumps(kept))
        return {}

    def get_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, qualifier = self._parse_ref(params)
        policy = self.resource_policy(ctx.account_id, ctx.region, name, qualifier, ctx)
        if policy is None:
            raise not_found("The resource you requested does not exist.")
        return {"Policy": json.dumps(policy), "RevisionId": self._latest(ctx, name)["RevisionId"]}

    def resource_policy(
        self,
        account: str,
        region: str,
        name: str,
        qualifier: str | None = None,
        ctx: RequestContext | None = None,
    ) -> dict[str, Any] | None:
        """The function's resource-based policy document (for other services' permission checks)."""
        row = self.store.function_row(account, region, name)
        if row is None:
            if ctx is not None:
                raise not_found(f"Function not found: {self._function_arn(ctx, name)}")
            return None
        statements = [_public(s) for s in json.loads(row[2]) if s.get("_Qualifier") == qualifier]
        if not statements:
            return None
        return {"Version": "2012-10-17", "Id": "default", "Statement": statements}

    def authorization_resource(self, ctx: RequestContext, arn: str) -> Any:
        """The policy engine's view of a function (owner, resource policy, tags); None when there is none."""
        from overcast.policy.enforcement import ResourcePolicy

        match = _FUNCTION_REF.match(arn)
        parts = arn.split(":")
        if not match or len(parts) < 7:
            return None
        account, region = parts[4], parts[3]
        row = self.store.function_row(account, region, match.group("name"))
        if row is None:
            return None
        policy = self.resource_policy(account, region, match.group("name"), match.group("qualifier"))
        return ResourcePolicy(account, json.dumps(policy) if policy else None, json.loads(row[1]))

    # -- concurrency -------------------------------------------------------------------------------

    def put_function_concurrency(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, _ = self._parse_ref(params)
        self._latest(ctx, name)
        reserved = params["ReservedConcurrentExecutions"]
        others = self.store.total_reserved(ctx.account_id, ctx.region, excluding=name)
        if self.account_concurrency - others - reserved < min(MIN_UNRESERVED, self.account_concurrency):
            raise invalid(
                "Specified ReservedConcurrentExecutions for function decreases account's "
                f"UnreservedConcurrentExecution below its minimum value of [{MIN_UNRESERVED}]."
            )
        self.store.set_function_field(ctx.account_id, ctx.region, name, "reserved_concurrency", reserved)
        self.db.after_commit(self._unreserved_cache.clear)
        return {"ReservedConcurrentExecutions": reserved}

    def get_function_concurrency(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, _ = self._parse_ref(params)
        self._latest(ctx, name)
        reserved = self.store.function_row(ctx.account_id, ctx.region, name)[0]
        return {} if reserved is None else {"ReservedConcurrentExecutions": reserved}

    def delete_function_concurrency(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, _ = self._parse_ref(params)
        self._latest(ctx, name)
        self.store.set_function_field(ctx.account_id, ctx.region, name, "reserved_concurrency", None)
        self.db.after_commit(self._unreserved_cache.clear)
        return {}

    def get_account_settings(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self.db.one(
            "SELECT COUNT(*), COALESCE(SUM(json_extract(config, '$.CodeSize')), 0) FROM lambda_versions "
            "WHERE account = ? AND region = ?",
            (ctx.account_id, ctx.region),
        )
        functions = self.db.one(
            "SELECT COUNT(*) FROM lambda_functions WHERE account = ? AND region = ?",
            (ctx.account_id, ctx.region),
        )[0]
        return {
            "AccountLimit": {
                "TotalCodeSize": 80530636800,
                "CodeSizeUnzipped": packages.MAX_UNZIPPED,
                "CodeSizeZipped": packages.MAX_DIRECT_ZIP,
                "ConcurrentExecutions": self.account_concurrency,
                "UnreservedConcurrentExecutions": self._unreserved_limit(ctx.account_id, ctx.region),
            },
            "AccountUsage": {"TotalCodeSize": row[1], "FunctionCount": functions},
        }

    def _unreserved_limit(self, account: str, region: str) -> int:
        key = (account, region)
        if key not in self._unreserved_cache:
            self._unreserved_cache[key] = self.account_concurrency - self.store.total_reserved(
                account, region
            )
        return self._unreserved_cache[key]

    # -- asynchronous invocation settings ----------------------------------------------------------

    def put_function_event_invoke_config(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._save_event_config(ctx, params, replace=True)

    def update_function_event_invoke_config(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        return self._save_event_config(ctx, params, replace=False)

    def _save_event_config(
        self, ctx: RequestContext, params: dict[str, Any], replace: bool
    ) -> dict[str, Any]:
        name, qualifier = self._parse_ref(params)
        self._resolve(ctx, name, qualifier)
        qualifier = qualifier or "$LATEST"
        current = None if replace else self.store.event_config(ctx.account_id, ctx.region, name, qualifier)
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
        config["FunctionArn"] = self._function_arn(ctx, name, qualifier)
        config["LastModified"] = self.clock.now()
        self.store.put_event_config(ctx.account_id, ctx.region, name, qualifier, config)
        return _event_config_view(config)

    def get_function_event_invoke_config(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, qualifier = self._parse_ref(params)
        self._latest(ctx, name)
        config = self.store.event_config(ctx.account_id, ctx.region, name, qualifier or "$LATEST")
        if config is None:
            raise not_found(
                f"The function {self._function_arn(ctx, name, qualifier)} doesn't have an EventInvokeConfig"
            )
        return _event_config_view(config)

    def delete_function_event_invoke_config(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        name, qualifier = self._parse_ref(params)
        self._latest(ctx, name)
        if not self.store.delete_event_config(ctx.account_id, ctx.region, name, qualifier or "$LATEST"):
            raise not_found(
                f"The function {self._function_arn(ctx, name, qualifier)} doesn't have an EventInvokeConfig"
            )
        return {}

    def list_function_event_invoke_configs(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        name, _ = self._parse_ref(params)
        self._latest(ctx, name)
        configs = [_event_config_view(c) for c in self.store.event_configs(ctx.account_id, ctx.region, name)]
        return _page(configs, params, "FunctionEventInvokeConfigs")

    # -- invoking ----------------------------------------------------------------------------------

    async def invoke(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, qualifier = self._parse_ref(params)
        kind = params.get("InvocationType") or "RequestResponse"
        payload = params.get("Payload") or b""
        if isinstance(payload, str):
            payload = payload.encode()
        limit = MAX_ASYNC_PAYLOAD if kind == "Event" else MAX_SYNC_PAYLOAD
        if len(payload) > limit:
            raise ServiceError(
                "RequestTooLargeException",
                f"Request must be smaller than {limit} bytes for the "
                f"{'InvokeAsync' if kind == 'Event' else 'InvokeFunction'} operation",
                413,
            )
        _check_json(payload)
        config, version = self._version_for_invoke(ctx, name, qualifier)
        if kind == "DryRun":
            return {"StatusCode": 204, "Payload": b""}
        if kind == "Event":
            with self.db.transaction():
                self.store.enqueue(
                    ctx.account_id,
                    ctx.region,
                    name,
                    qualifier or "$LATEST",
                    ctx.request_id,
                    payload or b"{}",
                    self.clock.now(),
                )
            self.async_invoker.wake()
            return {"StatusCode": 202, "Payload": b""}
        reserved = self._throttle_or_acquire(ctx.account_id, ctx.region, name)
        try:
            result = await self.execute(
                ctx.account_id,
                ctx.region,
                config,
                qualifier,
                payload or b"{}",
                ctx.request_id,
                params.get("ClientContext"),
            )
        finally:
            self.executor.release(ctx.account_id, ctx.region, name, reserved)
        response: dict[str, Any] = {"StatusCode": 200, "Payload": result.payload, "ExecutedVersion": version}
        if result.function_error:
            response["FunctionError"] = result.function_error
        if params.get("LogType") == "Tail":
            response["LogResult"] = base64.b64encode(tail(result.log).encode()).decode()
        return response

    async def invoke_with_response_stream(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        """The invocation runs as a buffered one; its response then streams as PayloadChunk events (64 KB each)
        and an InvokeComplete event, which carries the error (errorType, errorMessage) and the log tail."""
        answered = await self.invoke(
            ctx, dict(params, InvocationType=params.get("InvocationType") or "RequestResponse")
        )
        payload = answered.get("Payload") or b""
        events: list[dict[str, Any]] = [
            {"PayloadChunk": {"Payload": payload[start : start + STREAM_CHUNK]}}
            for start in range(0, len(payload), STREAM_CHUNK)
        ]
        complete: dict[str, Any] = {}
        if answered.get("FunctionError"):
            try:
                error = json.loads(payload)
            except ValueError:
                error = {}
            complete["ErrorCode"] = str(error.get("errorType") or answered["FunctionError"])
            complete["ErrorDetails"] = str(error.get("errorMessage") or payload.decode("utf-8", "replace"))
        if answered.get("LogResult"):
            complete["LogResult"] = answered["LogResult"]
        events.append({"InvokeComplete": complete})
        result: dict[str, Any] = {"StatusCode": answered["StatusCode"], "EventStream": events}
        if answered.get("ExecutedVersion"):
            result["ExecutedVersion"] = answered["ExecutedVersion"]
            result["ResponseStreamContentType"] = "application/octet-stream"
        return result

    def _version_for_invoke(self, ctx: RequestContext, name: str, qualifier: str | None) -> tuple[dict, str]:
        """The configuration to run and its version: an alias with weights picks one at random."""
        if qualifier and not qualifier.isdigit() and qualifier != "$LATEST":
            alias = self.store.alias(ctx.account_id, ctx.region, name, qualifier)
            if alias is None:
                raise not_found(f"Function not found: {self._function_arn(ctx, name, qualifier)}")
            version = alias["FunctionVersion"]
            for other, weight in alias.get("RoutingConfig", {}).get("AdditionalVersionWeights", {}).items():
                if random.random() < weight:
                    version = other
            return self.store.version(ctx.account_id, ctx.region, name, version), version
        config = self._resolve(ctx, name, qualifier)
        return config, config["Version"]

    def _throttle_or_acquire(self, account: str, region: str, name: str) -> int | None:
        row = self.store.function_row(account, region, name)
        reserved = row[0] if row else None
        reason = self.executor.try_acquire(
            account, region, name, reserved, self._unreserved_limit(account, region)
        )
        if reason:
            raise ServiceError(
                "TooManyRequestsException", "Rate Exceeded.", 429, Reason=reason, headers={"Retry-After": "1"}
            )
        return reserved

    def try_acquire(self, account: str, region: str, name: str) -> tuple[bool, int | None]:
        """For queued work: take a concurrency slot if one is free (never raises throttling)."""
        row = self.store.function_row(account, region, name)
        reserved = row[0] if row else None
        ok = self.executor.try_acquire(
            account, region, name, reserved, self._unreserved_limit(account, region)
        )
        return ok is None, reserved

    async def execute(
        self,
        account: str,
        region: str,
        config: dict[str, Any],
        qualifier: str | None,
        payload: bytes,
        request_id: str,
        client_context: str | None = None,
    ) -> Result:
        """Run one invocation of a version on a warm or new worker; ship its log; return what it answered."""
        name, version = config["FunctionName"], config["Version"]
        invoked_arn = f"arn:aws:lambda:{region}:{account}:function:{name}" + (
            f":{qualifier}" if qualifier else ""
        )
        invocation = Invocation(
            request_id, payload, invoked_arn, client_context=_decode_client_context(client_context)
        )

        async def make_spec() -> LaunchSpec:
            return await self._launch_spec(account, region, config)

        try:
            result = await self.executor.run(
                (account, region, name, version),
                # environments are renewed every 50 virtual minutes, before their role credentials expire
                f"{config['RevisionId']}:{int(self.clock.now() // CREDENTIAL_EPOCH)}",
                make_spec,
                invocation,
                config["Timeout"],
                config["MemorySize"],
                version,
            )
        except runtimes.RuntimeUnavailable as error:
            raise ServiceError("InvalidRuntimeException", str(error), 502, sender_fault=False) from error
        group = config.get("LoggingConfig", {}).get("LogGroup") or f"/aws/lambda/{name}"
        self.shipper.submit(
            account, region, group, result.log_stream, int(self.clock.now() * 1000), result.log
        )
        return result

    async def _launch_spec(self, account: str, region: str, config: dict[str, Any]) -> LaunchSpec:
        interpreter = await asyncio.to_thread(runtimes.resolve, config["Runtime"])
        task_root = str(await asyncio.to_thread(self._unpack, config["_CodeSha"]))
        layer_dirs = [str(await asyncio.to_thread(self._unpack, sha)) for sha in config.get("_LayerShas", [])]
        command = runtimes.command(
            interpreter, config["Handler"], task_root, layer_dirs, config["MemorySize"]
        )
        stream = f"{datetime.fromtimestamp(self.clock.now(), UTC):%Y/%m/%d}/[{config['Version']}]{uuid.uuid4().hex}"
        env = await self._environment(account, region, config, stream)
        env.update(runtimes.search_path_env(interpreter, task_root, layer_dirs))
        env.update(config.get("Environment", {}).get("Variables", {}))
        return LaunchSpec(
            command,
            env,
            task_root,
            config["MemorySize"],
            memory_rlimit=runtimes.memory_rlimit(interpreter, config["MemorySize"]),
            runtime_version=f"{interpreter.kind}:{interpreter.version}"
            if interpreter.version
            else config["Runtime"],
            runtime_note=interpreter.note,
            log_stream=stream,
        )

    def _unpack(self, sha: str) -> Path:
        blob_id = self.store.code_blob(sha)
        return packages.unpacked(self.code_root, sha, self.platform.blobs.path(blob_id))

    async def _environment(
        self, account: str, region: str, config: dict[str, Any], stream: str
    ) -> dict[str, str]:
        name = config["FunctionName"]
        key, secret, token = await self._role_credentials(account, region, config)
        env = {
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_ENDPOINT_URL": self._endpoint(),
            "AWS_LAMBDA_FUNCTION_NAME": name,
            "AWS_LAMBDA_FUNCTION_VERSION": config["Version"],
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config["MemorySize"]),
            "AWS_LAMBDA_LOG_GROUP_NAME": config.get("LoggingConfig", {}).get("LogGroup")
            or f"/aws/lambda/{name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": stream,
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{config['Runtime']}",
            "_HANDLER": config["Handler"],
            "AWS_ACCESS_KEY_ID": key,
            "AWS_SECRET_ACCESS_KEY": secret,
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "PYTHONUNBUFFERED": "1",
            "HOME": os.environ.get("HOME", "/tmp"),
        }
        if token:
            env["AWS_SESSION_TOKEN"] = token
        return env

    async def _role_credentials(
        self, account: str, region: str, config: dict[str, Any]
    ) -> tuple[str, str, str]:
        """The execution role's temporary credentials, issued by STS for lambda.amazonaws.com (the role's
        trust policy must allow it). A role that does not exist or does not trust Lambda fails the
        invocation under `--iam enforce`; otherwise the function runs with its account's root keys (so
        functions created with a made-up role ARN still work) and the log says so."""
        role = config["Role"]
        sts = self.platform.provider("sts")
        problem = "STS is not available"
        if hasattr(sts, "credentials_for_service"):
            try:
                with self.db.transaction():
                    credentials = sts.credentials_for_service(
                        role,
                        "lambda.amazonaws.com",
                        config["FunctionName"][:64],
                        source_arn=f"arn:aws:lambda:{region}:{account}:function:{config['FunctionName']}",
                        source_account=account,
                    )
                return (
                    credentials["AccessKeyId"],
                    credentials["SecretAccessKey"],
                    credentials.get("SessionToken", ""),
                )
            except ServiceError as error:
                problem = error.message
        if self.platform.config.iam == "enforce":
            raise ServiceError(
                "InvalidParameterValueException",
                f"The role defined for the function cannot be assumed by Lambda: {problem}",
            )
        log.info("function %s runs with its account's root keys: %s", config["FunctionName"], problem)
        role_account = role.split(":")[4] if role.count(":") >= 5 else account
        return role_account, "test", ""

    async def role_principal(self, account: str, region: str, config: dict[str, Any]) -> Principal:
        """Who Lambda acts as for a function (polling its event sources): its execution role's session;
        the lambda.amazonaws.com service itself when the role cannot be assumed outside `--iam enforce`."""
        key = (account, region, config["Role"], int(self.clock.now() // CREDENTIAL_EPOCH))
        found = self._role_principals.get(key)
        if found is None:
            access_key, _, _ = await self._role_credentials(account, region, config)
            credential = self.platform.credentials.lookup(access_key)
            found = credential.principal if credential else service_principal("lambda.amazonaws.com", account)
            if len(self._role_principals) > 1000:
                self._role_principals.clear()
            self._role_principals[key] = found
        return found

    def _endpoint(self) -> str:
        config = self.platform.config
        host = "127.0.0.1" if config.host in ("0.0.0.0", "::", "") else config.host
        return f"http://{host}:{config.port}"


# -- helpers ---------------------------------------------------------------------------------------


def _constraint(value: Any, member: str, rule: str) -> ServiceError:
    return ServiceError(
        "ValidationException",
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: Member must have "
        f"value {rule}",
    )


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


def _check_revision(config: dict[str, Any], params: dict[str, Any]) -> None:
    if params.get("RevisionId") and params["RevisionId"] != config["RevisionId"]:
        raise ServiceError(
            "PreconditionFailedException",
            "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/"
            "GetAlias API to retrieve the latest Revision Id",
            412,
        )


def _check_json(payload: bytes) -> None:
    if not payload:
        return
    try:
        json.loads(payload)
    except (ValueError, UnicodeDecodeError) as error:
        raise ServiceError(
            "InvalidRequestContentException",
            f"Could not parse request body into json: Could not parse payload into json: {error}",
        ) from error


def _decode_client_context(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return base64.b64decode(value).decode()
    except ValueError:
        raise ServiceError(
            "InvalidRequestContentException", "Client context must be a valid Base64-encoded JSON object."
        ) from None


def _fingerprint(config: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in config.items() if k not in _VOLATILE}, sort_keys=True)


def _permission_statement(params: dict[str, Any], resource: str) -> dict[str, Any]:
    principal = params["Principal"]
    if principal == "*":
        who: Any = "*"
    elif re.fullmatch(r"\d{12}", principal):
        who = {"AWS": f"arn:aws:iam::{principal}:root"}
    elif principal.endswith(".amazonaws.com") or principal.endswith(".amazonaws.com.cn"):
        who = {"Service": principal}
    else:
        who = {"AWS": principal}
    statement: dict[str, Any] = {
        "Sid": params["StatementId"],
        "Effect": "Allow",
        "Principal": who,
        "Action": params["Action"],
        "Resource": resource,
    }
    condition: dict[str, dict[str, str]] = {}
    if params.get("SourceArn"):
        condition.setdefault("ArnLike", {})["AWS:SourceArn"] = params["SourceArn"]
    if params.get("SourceAccount"):
        condition.setdefault("StringEquals", {})["AWS:SourceAccount"] = params["SourceAccount"]
    if params.get("PrincipalOrgID"):
        condition.setdefault("StringEquals", {})["aws:PrincipalOrgID"] = params["PrincipalOrgID"]
    if params.get("FunctionUrlAuthType"):
        condition.setdefault("StringEquals", {})["lambda:FunctionUrlAuthType"] = params["FunctionUrlAuthType"]
    if condition:
        statement["Condition"] = condition
    return statement


def _event_config_view(config: dict[str, Any]) -> dict[str, Any]:
    return dict(config, LastModified=datetime.fromtimestamp(config["LastModified"], UTC))


def _layer_item(layer: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "LayerVersionArn",
        "Version",
        "Description",
        "CreatedDate",
        "CompatibleRuntimes",
        "CompatibleArchitectures",
        "LicenseInfo",
    )
    return {k: layer[k] for k in keys if k in layer}


def _layer_matches(layer: dict[str, Any], params: dict[str, Any]) -> bool:
    runtime, arch = params.get("CompatibleRuntime"), params.get("CompatibleArchitecture")
    return (not runtime or runtime in layer.get("CompatibleRuntimes", [])) and (
        not arch or arch in layer.get("CompatibleArchitectures", [])
    )


def _encode_marker(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode()


def _decode_marker(marker: str | None) -> str:
    if not marker:
        return ""
    try:
        return base64.urlsafe_b64decode(marker.encode()).decode()
    except ValueError:
        raise invalid("Invalid marker") from None


def _page(items: list[dict[str, Any]], params: dict[str, Any], key: str) -> dict[str, Any]:
    """Marker paging over a short list (versions, aliases, layers): the marker is an offset."""
    start = int(_decode_marker(params.get("Marker")) or 0)
    limit = params.get("MaxItems") or 50
    result: dict[str, Any] = {key: items[start : start + limit]}
    if start + limit < len(items):
        result["NextMarker"] = _encode_marker(str(start + limit))
    return result
