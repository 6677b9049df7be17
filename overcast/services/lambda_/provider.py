"""The Lambda provider: its operation families, its hooks, and what the families share (names, code
packages, the execution role, running a version on a warm worker)."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import random
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import overcast.services.sts.api as sts
from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.http import HttpRequest, HttpResponse
from overcast.identity import Principal, service_principal
from overcast.services.base import HttpRoute, ServiceProvider
from overcast.services.kit.arns import parse_arn
from overcast.services.kit.metrics import MetricCounters, MetricPoint
from overcast.services.lambda_ import code as packages
from overcast.services.lambda_ import function_urls, kms_keys, runtimes
from overcast.services.lambda_.async_invoke import AsyncInvoker
from overcast.services.lambda_.code_signing import CodeSigningOperations
from overcast.services.lambda_.common import (
    FUNCTION_NAME_PATTERN,
    FUNCTION_REF,
    Scope,
    Where,
    function_arn,
    function_view,
    invalid,
    lambda_time,
    not_found,
    public,
)
from overcast.services.lambda_.concurrency import ConcurrencyOperations
from overcast.services.lambda_.event_invoke_configs import EventInvokeConfigOperations
from overcast.services.lambda_.event_sources import EventSourceOperations, EventSourcePoller
from overcast.services.lambda_.executor import Executor, Result
from overcast.services.lambda_.function_urls import FunctionUrlOperations
from overcast.services.lambda_.functions import FunctionOperations
from overcast.services.lambda_.invoke import InvokeOperations
from overcast.services.lambda_.layers import LayerOperations, LayerPermissionOperations
from overcast.services.lambda_.logs import LogShipper
from overcast.services.lambda_.permissions import PermissionOperations
from overcast.services.lambda_.store import LambdaStore
from overcast.services.lambda_.tagging import TagOperations
from overcast.services.lambda_.versions import AliasOperations, VersionOperations
from overcast.services.lambda_.worker import Invocation, LaunchSpec

CREDENTIAL_EPOCH = 3000  # virtual seconds an environment keeps its role credentials
DEFAULT_ACCOUNT_CONCURRENCY = 1000
log = logging.getLogger("overcast.lambda")
# what makes two versions "the same" (a publish with nothing changed creates none)
_VOLATILE = {
    "LastModified",
    "RevisionId",
    "Version",
    "FunctionArn",
    "Description",
    "MasterArn",
    "_UpdateUntil",
}


class LambdaProvider(ServiceProvider):
    service_name = "lambda"
    families = (
        FunctionOperations,
        VersionOperations,
        AliasOperations,
        LayerOperations,
        LayerPermissionOperations,
        CodeSigningOperations,
        InvokeOperations,
        EventInvokeConfigOperations,
        EventSourceOperations,
        FunctionUrlOperations,
        PermissionOperations,
        TagOperations,
        ConcurrencyOperations,
    )
    # Function URLs: https://<url-id>.lambda-url.<region>.<host>/..., or path style under /_overcast/lambda-url/
    routes = (
        HttpRoute("serve_url", "InvokeFunctionUrl", host=".lambda-url.", path="/_overcast/lambda-url/"),
    )
    iam_actions = {"InvokeWithResponseStream": "InvokeFunction"}

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
        self.metrics = MetricCounters()  # AWS/Lambda per function, collected by CloudWatch
        # Roles are checked at creation (IAM on) and assumed at invocation (always): build STS (and IAM) now,
        # outside any transaction, so a rolled-back invocation cannot take their new tables with it.
        sts.prepare(platform)

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
        self.metrics = MetricCounters()  # the counts of functions that are gone

    def published_metrics(self, minutes: list[float]) -> list[MetricPoint]:
        """AWS/Lambda per function (dimension FunctionName), for the minute that ended last: Invocations,
        Errors, Throttles (counts), Duration (milliseconds, a statistic set), ConcurrentExecutions (the
        invocations running now). As in AWS, a function publishes only in minutes it was invoked."""
        stamp = minutes[-1] - 60
        points: list[MetricPoint] = []
        for key, counts in self.metrics.drain(self.clock.now(), 3600).items():
            samples = self.metrics.take_samples(key)
            if not counts and not samples:
                continue
            account, region, name = key
            dimensions = (("FunctionName", name),)
            for metric, value in counts.items():
                points.append(
                    MetricPoint(account, region, "AWS/Lambda", metric, dimensions, value, "Count", stamp)
                )
            for metric, (count, total, low, high) in samples.items():
                points.append(
                    MetricPoint(
                        account,
                        region,
                        "AWS/Lambda",
                        metric,
                        dimensions,
                        total,
                        "Milliseconds",
                        stamp,
                        count,
                        low,
                        high,
                    )
                )
            running = float(self.executor.function_inflight.get(key, 0))
            points.append(
                MetricPoint(
                    account, region, "AWS/Lambda", "ConcurrentExecutions", dimensions, running, "Count", stamp
                )
            )
        return points

    def count_invocation(self, account: str, region: str, name: str, result: Result) -> None:
        now = self.clock.now()
        self.metrics.add(account, region, name, now, Invocations=1, Errors=1 if result.function_error else 0)
        self.metrics.observe(account, region, name, now, "Duration", result.duration_ms)

    async def _reap_idle_workers(self) -> None:
        while True:
            await asyncio.sleep(30)
            self.executor.reap_idle()

    # -- hooks -------------------------------------------------------------------------------------

    def tagging_request(self, arn: str, add=None, remove=None) -> tuple[str, dict[str, Any]] | None:
        """TagResource / UntagResource of a function."""
        if add is not None:
            return "TagResource", {"Resource": arn, "Tags": dict(add)}
        return "UntagResource", {"Resource": arn, "TagKeys": list(remove or ())}

    def resource_arn(self, ctx: RequestContext, params: dict[str, Any]) -> str | None:
        """The resource a request acts on, for authorization."""
        name = params.get("FunctionName")
        if not name:
            return params.get("Resource") or params.get("ARN")
        if name.startswith("arn:"):
            return name
        return ctx.arn("lambda", f"function:{name}")  # a name, name:qualifier or account:function:name

    def authorization_resource(self, ctx: RequestContext, arn: str) -> Any:
        """The policy engine's view of a function (owner, resource policy, tags); None when there is none."""
        from overcast.policy.enforcement import ResourcePolicy

        match = FUNCTION_REF.match(arn)
        parsed = parse_arn(arn)
        if not match or parsed is None or parsed.resource_type != "function":
            return None
        account, region, name = parsed.account, parsed.region, match.group("name")
        if self.store.function_row(account, region, name) is None:
            return None
        policy = self.resource_policy(account, region, name, match.group("qualifier"))
        tags = self.tags.get(function_arn(Scope(account, region), name))
        return ResourcePolicy(account, json.dumps(policy) if policy else None, tags)

    async def serve_url(self, request: HttpRequest) -> HttpResponse:
        """A request to a function URL (the route above)."""
        return await function_urls.serve(self, request)

    # -- names -------------------------------------------------------------------------------------

    def parse_ref(self, ctx: RequestContext, params: dict[str, Any]) -> tuple[str, str | None]:
        """(name, qualifier) of the FunctionName (a name, a partial or full ARN) and Qualifier of a request."""
        match = FUNCTION_REF.match(params["FunctionName"])
        if not match:
            raise ServiceError(
                "ValidationException",
                f"1 validation error detected: Value '{params['FunctionName']}' at 'functionName' failed to "
                f"satisfy constraint: Member must satisfy regular expression pattern: {FUNCTION_NAME_PATTERN}",
            )
        region = match.group("region")
        if region and region != ctx.region:
            raise not_found(f"Functions from '{region}' are not reachable in this region ('{ctx.region}')")
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

    def latest(self, where: Where, name: str) -> dict[str, Any]:
        config = self.store.version(where.account_id, where.region, name, "$LATEST")
        if config is None:
            raise not_found(f"Function not found: {function_arn(where, name)}")
        return config

    def resolve(self, where: Where, name: str, qualifier: str | None) -> dict[str, Any]:
        """The configuration a qualifier names ($LATEST, a version number or an alias's main version)."""
        account, region = where.account_id, where.region
        if qualifier is None or qualifier == "$LATEST" or qualifier.isdigit():
            config = self.store.version(account, region, name, qualifier or "$LATEST")
            if config is None:
                raise not_found(f"Function not found: {function_arn(where, name, qualifier)}")
            return config
        alias = self.store.alias(account, region, name, qualifier)
        if alias is None:
            self.latest(where, name)
            raise not_found(f"Function not found: {function_arn(where, name, qualifier)}")
        return self.store.version(account, region, name, alias["FunctionVersion"])

    def publish(
        self, ctx: RequestContext, name: str, latest: dict[str, Any], description: str | None
    ) -> dict:
        """Publish $LATEST as the next version (none when nothing changed since the last one)."""
        versions = self.store.versions(ctx.account_id, ctx.region, name)
        if len(versions) > 1 and _fingerprint(versions[-1]) == _fingerprint(latest):
            return function_view(versions[-1], self.clock.now())
        number = self.store.function_row(ctx.account_id, ctx.region, name).next_version
        version = dict(
            latest,
            Version=str(number),
            FunctionArn=function_arn(ctx, name, str(number)),
            RevisionId=str(uuid.uuid4()),
            LastModified=lambda_time(self.clock.now()),
        )
        if description is not None:
            version["Description"] = description
        self.store.put_version(ctx.account_id, ctx.region, name, version)
        self.store.set_function_field(ctx.account_id, ctx.region, name, "next_version", number + 1)
        return function_view(version, self.clock.now())

    def resource_policy(
        self, account: str, region: str, name: str, qualifier: str | None = None
    ) -> dict[str, Any] | None:
        """The function's resource-based policy document for a qualifier; None when it has no statement."""
        row = self.store.function_row(account, region, name)
        if row is None:
            return None
        statements = [public(s) for s in json.loads(row.policy) if s.get("_Qualifier") == qualifier]
        if not statements:
            return None
        return {"Version": "2012-10-17", "Id": "default", "Statement": statements}

    # -- code packages (content addressed: one blob per distinct zip) -------------------------------

    async def fetch_code(self, ctx: RequestContext, code: dict[str, Any]) -> bytes:
        if code.get("ZipFile") is not None:
            data = code["ZipFile"]
            if len(data) > packages.MAX_DIRECT_ZIP:  # AWS counts the request: the zip in base64
                raise ServiceError(
                    "RequestEntityTooLargeException",
                    f"Request must be smaller than {packages.MAX_DIRECT_REQUEST} bytes for the "
                    f"{ctx.operation} operation",
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

    def store_package(self, zip_bytes: bytes) -> tuple[str, str]:
        """Inside a transaction: keep a zip (once per content); its (hex sha256, base64 sha256)."""
        sha, sha_b64 = packages.digests(zip_bytes)
        if self.store.code_blob(sha) is None:
            packages.check_zip(zip_bytes)
            blob = self.platform.blobs.write_bytes(zip_bytes)
            self.store.add_code(sha, self.platform.blobs.commit(blob), len(zip_bytes))
        return sha, sha_b64

    def release_package(self, sha: str | None) -> None:
        if sha and self.store.code_unused(sha):
            blob_id = self.store.drop_code(sha)
            if blob_id:
                self.platform.blobs.delete(blob_id)

    def code_location(self, sha: str) -> str:
        """Where GetFunction's Code.Location downloads the package (a pre-signed S3 URL in AWS; here the
        package's SHA-256, which only those who could read the function know, names it)."""
        return f"{self.endpoint()}/_overcast/lambda/code/{sha}"

    async def internal_endpoint(self, request: HttpRequest, path: str) -> HttpResponse | None:
        """GET /_overcast/lambda/code/<sha>: a function's or layer's deployment package (Code.Location)."""
        prefix = "/_overcast/lambda/code/"
        if request.method != "GET" or not path.startswith(prefix):
            return None
        with self.db.transaction():
            blob_id = self.store.code_blob(path[len(prefix) :])
        if blob_id is None:
            return HttpResponse(404, [("content-type", "application/json")], b'{"Message":"Not Found"}')
        data = self.platform.blobs.path(blob_id).read_bytes()
        return HttpResponse(200, [("content-type", "application/zip")], data)

    def _unpack(self, sha: str) -> Path:
        blob_id = self.store.code_blob(sha)
        return packages.unpacked(self.code_root, sha, self.platform.blobs.path(blob_id))

    # -- the execution role ------------------------------------------------------------------------

    def check_role_assumable(self, ctx: RequestContext, name: str, role: str) -> None:
        """AWS assumes the execution role when a function is created or given a new role, and refuses one
        that does not exist or does not trust lambda.amazonaws.com. Under `--iam enforce` so does Overcast;
        in `off` and `soft` modes a made-up role ARN is accepted (the function then runs with its account's
        root keys), so scripts that never create the role keep working."""
        if self.platform.config.iam == "off":
            return
        try:
            with self.db.transaction():  # a refusal leaves nothing half-written in the request's transaction
                sts.credentials_for_role(
                    self.platform,
                    role,
                    "lambda.amazonaws.com",
                    name[:64],
                    duration=900,
                    source_arn=function_arn(ctx, name),
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

    async def _role_credentials(
        self, account: str, region: str, config: dict[str, Any]
    ) -> tuple[str, str, str]:
        """The execution role's temporary credentials, issued by STS for lambda.amazonaws.com (the role's
        trust policy must allow it). A role that does not exist or does not trust Lambda fails the
        invocation under `--iam enforce`; otherwise the function runs with its account's root keys (so
        functions created with a made-up role ARN still work) and the log says so."""
        role, name = config["Role"], config["FunctionName"]
        problem = "STS is not available"
        sts.prepare(self.platform)  # built outside the transaction below (its migrations must not roll back)
        try:
            with self.db.transaction():
                credentials = sts.credentials_for_role(
                    self.platform,
                    role,
                    "lambda.amazonaws.com",
                    name[:64],
                    source_arn=function_arn(Scope(account, region), name),
                    source_account=account,
                )
            if credentials is not None:
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
        log.info("function %s runs with its account's root keys: %s", name, problem)
        parsed = parse_arn(role)
        return (parsed.account if parsed and parsed.account else account), "test", ""

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

    # -- running a version -------------------------------------------------------------------------

    def version_for_invoke(self, where: Where, name: str, qualifier: str | None) -> tuple[dict, str]:
        """The configuration to run and its version: an alias with weights picks one at random."""
        if qualifier and not qualifier.isdigit() and qualifier != "$LATEST":
            alias = self.store.alias(where.account_id, where.region, name, qualifier)
            if alias is None:
                raise not_found(f"Function not found: {function_arn(where, name, qualifier)}")
            version = alias["FunctionVersion"]
            for other, weight in alias.get("RoutingConfig", {}).get("AdditionalVersionWeights", {}).items():
                if random.random() < weight:
                    version = other
            return self.store.version(where.account_id, where.region, name, version), version
        config = self.resolve(where, name, qualifier)
        return config, config["Version"]

    def throttle_or_acquire(self, account: str, region: str, name: str) -> int | None:
        """Take a concurrency slot for a synchronous invocation or raise AWS's throttling error; the
        function's reserved concurrency (to release the slot with)."""
        acquired, reserved, reason = self._acquire(account, region, name)
        if not acquired:
            self.metrics.add(account, region, name, self.clock.now(), Throttles=1)
            raise ServiceError(
                "TooManyRequestsException", "Rate Exceeded.", 429, Reason=reason, headers={"Retry-After": "1"}
            )
        return reserved

    def try_acquire(self, account: str, region: str, name: str) -> tuple[bool, int | None]:
        """For queued work: take a concurrency slot if one is free (never raises throttling)."""
        acquired, reserved, _ = self._acquire(account, region, name)
        return acquired, reserved

    def _acquire(self, account: str, region: str, name: str) -> tuple[bool, int | None, str | None]:
        row = self.store.function_row(account, region, name)
        reserved = row.reserved_concurrency if row else None
        reason = self.executor.try_acquire(
            account, region, name, reserved, self.unreserved_limit(account, region)
        )
        return reason is None, reserved, reason

    def unreserved_limit(self, account: str, region: str) -> int:
        key = (account, region)
        if key not in self._unreserved_cache:
            self._unreserved_cache[key] = self.account_concurrency - self.store.total_reserved(
                account, region
            )
        return self._unreserved_cache[key]

    def forget_reservations(self) -> None:
        """After a commit that changed a reserved concurrency."""
        self._unreserved_cache.clear()

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
        invoked_arn = function_arn(Scope(account, region), name, qualifier)
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
        self.count_invocation(account, region, name, result)
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
        env.update(await kms_keys.unseal(self, account, region, config))
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

    async def _environment(
        self, account: str, region: str, config: dict[str, Any], stream: str
    ) -> dict[str, str]:
        name = config["FunctionName"]
        key, secret, token = await self._role_credentials(account, region, config)
        env = {
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_ENDPOINT_URL": self.endpoint(),
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

    def endpoint(self) -> str:
        config = self.platform.config
        host = "127.0.0.1" if config.host in ("0.0.0.0", "::", "") else config.host
        return f"http://{host}:{config.port}"


# -- helpers ---------------------------------------------------------------------------------------


def _fingerprint(config: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in config.items() if k not in _VOLATILE}, sort_keys=True)


def _decode_client_context(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return base64.b64decode(value).decode()
    except ValueError:
        raise ServiceError(
            "InvalidRequestContentException", "Client context must be a valid Base64-encoded JSON object."
        ) from None
