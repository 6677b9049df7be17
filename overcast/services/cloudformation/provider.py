"""CloudFormation: stacks, change sets, exports, drift, the registry of supported types.

The operations live in families (stacks.py, change_sets.py, exports.py, drift.py, registry.py); what they
share is here: finding a stack, reading a template (a body, or an object in Overcast's S3), processing its
macros, binding its parameters, checking it before anything runs, and the engine (engine.py) that runs
stack operations in the background.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any
from urllib.parse import unquote, urlsplit

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import ServiceProvider
from overcast.services.cloudformation import macros
from overcast.services.cloudformation import template as templates
from overcast.services.cloudformation.change_sets import ChangeSetOperations
from overcast.services.cloudformation.drift import DriftOperations
from overcast.services.cloudformation.engine import Engine, Plan, principal_data
from overcast.services.cloudformation.exports import ExportOperations
from overcast.services.cloudformation.graph import check_acyclic, undefined_dependencies
from overcast.services.cloudformation.intrinsics import Scope, evaluate_conditions, resolve
from overcast.services.cloudformation.parameters import Bound, bind, ssm_type
from overcast.services.cloudformation.registry import RegistryOperations
from overcast.services.cloudformation.resources import handler_for
from overcast.services.cloudformation.responses import Responses
from overcast.services.cloudformation.rules import check_rules
from overcast.services.cloudformation.stack_sets import StackSetOperations, run_set_operation
from overcast.services.cloudformation.stacks import RecoveryOperations, StackOperations
from overcast.services.cloudformation.store import CloudFormationStore, Stack

SETTLE_WAIT = 2.0  # seconds a stack-changing request waits for its operation to end
_STACK_NAME = re.compile(r"^[a-zA-Z][-a-zA-Z0-9]*$")
IAM_TYPES = {
    "AWS::IAM::AccessKey": None,
    "AWS::IAM::Group": "GroupName",
    "AWS::IAM::InstanceProfile": "InstanceProfileName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::Policy": None,
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::User": "UserName",
    "AWS::IAM::UserToGroupAddition": None,
}


def validation_error(message: str) -> ServiceError:
    return ServiceError("ValidationError", message, 400)


def stack_not_found(name: str) -> ServiceError:
    return validation_error(f"Stack with id {name} does not exist")


class CloudFormationProvider(ServiceProvider):
    service_name = "cloudformation"
    families = (
        StackOperations,
        RecoveryOperations,
        ChangeSetOperations,
        ExportOperations,
        DriftOperations,
        RegistryOperations,
        StackSetOperations,
    )

    def __init__(self, platform) -> None:
        super().__init__(platform)
        self.store = CloudFormationStore(self.db)
        self.engine = Engine(self)
        self.responses = Responses(self)
        import overcast.services.sts.api as sts

        sts.prepare(platform)
        self._set_operations: dict[str, asyncio.Task] = {}

    async def start(self) -> None:
        self.engine.resume()
        for operation_id in self.store.running_set_operations():
            self.start_set_operation(operation_id)

    def start_set_operation(self, operation_id: str) -> None:
        """Run a stack set operation in the background (after its transaction commits; again after a restart)."""
        task = self._set_operations.get(operation_id)
        if task is not None and not task.done():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        task = loop.create_task(run_set_operation(self, operation_id))
        self._set_operations[operation_id] = task
        task.add_done_callback(lambda _: self._set_operations.pop(operation_id, None))

    def set_operation_task(self, operation_id: str) -> asyncio.Task | None:
        task = self._set_operations.get(operation_id)
        return task if task is not None and not task.done() else None

    def reset(self) -> None:
        """After `overcast reset`: the response bucket and its signing key are gone with everything else."""
        self.responses = Responses(self)

    def stack_settled(self, stack_id: int) -> None:
        """An operation of the stack ended (its background task returned)."""

    async def settle(self, stack_id: int) -> None:
        """Wait for the stack's operation to end, at most SETTLE_WAIT seconds: the operations that start one
        (CreateStack, UpdateStack, DeleteStack, ExecuteChangeSet) answer once a quick one is over, so that a
        client's first DescribeStacks, and the CLI's and SDKs' waiters (whose first poll is at once), see its
        outcome rather than sleeping a polling interval (30 s for the CLI's)."""
        task = self.engine.task(stack_id)
        if task is not None:
            await asyncio.wait({task}, timeout=SETTLE_WAIT)

    # -- stacks ------------------------------------------------------------------------------------

    def new_stack_arn(self, ctx: RequestContext, name: str) -> str:
        return ctx.arn("cloudformation", f"stack/{name}/{uuid.uuid4()}")

    @staticmethod
    def check_stack_name(name: str) -> None:
        if not _STACK_NAME.match(name) or len(name) > 128:
            raise validation_error(
                f"1 validation error detected: Value '{name}' at 'stackName' failed to satisfy constraint: "
                "Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*"
            )

    def find_stack(self, ctx: RequestContext, name: str, *, deleted: bool = True) -> Stack:
        """The stack a StackName names: a live stack's name, or any stack's id (ARN)."""
        stack = self.lookup_stack(ctx, name, deleted=deleted)
        if stack is None:
            raise stack_not_found(name)
        return stack

    def lookup_stack(self, ctx: RequestContext, name: str, *, deleted: bool = True) -> Stack | None:
        if name.startswith("arn:"):
            stack = self.store.stack_by_arn(name)
            if stack is None or stack.account != ctx.account_id or stack.region != ctx.region:
                return None
            if not deleted and not stack.live:
                return None
            return stack
        return self.store.live_stack(ctx.account_id, ctx.region, name)

    def operation_record(self, ctx: RequestContext, kind: str, **values: Any) -> dict[str, Any]:
        return {
            "id": str(uuid.uuid4()),
            "kind": kind,
            "principal": principal_data(ctx.principal),
            **{key: value for key, value in values.items() if value is not None},
        }

    # -- templates ---------------------------------------------------------------------------------

    async def template_text(self, ctx: RequestContext, params: dict[str, Any]) -> str:
        """The template a request gives: TemplateBody, or TemplateURL read from Overcast's S3."""
        body, url = params.get("TemplateBody"), params.get("TemplateURL")
        if body is not None and url is not None:
            raise validation_error("Specify exactly one of TemplateBody or TemplateUrl.")
        if body is not None:
            return body
        if url is None:
            raise validation_error("Either Template URL or Template Body must be specified.")
        return await self.fetch_s3_text(ctx, url)

    async def fetch_s3_text(self, ctx: RequestContext, url: str) -> str:
        location = s3_location(url)
        if location is None:
            raise validation_error("TemplateURL must be a supported URL.")
        bucket, key = location
        try:
            found = await self.platform.call(
                "s3",
                "GetObject",
                {"Bucket": bucket, "Key": key},
                principal=ctx.principal,
                account_id=ctx.account_id,
                region=ctx.region,
            )
        except ServiceError:
            raise validation_error(
                "TemplateURL must reference a valid S3 object to which you have access."
            ) from None
        body = found.get("Body", b"")
        if not isinstance(body, bytes | bytearray):
            body = b"".join([chunk async for chunk in body])
        if len(body) > templates.MAX_URL_BODY:
            raise validation_error(
                "1 validation error detected: Value at 'templateUrl' failed to satisfy constraint: "
                "Member must have length less than or equal to 1024"
            )
        return bytes(body).decode("utf-8", errors="replace")

    async def processed(
        self,
        ctx: RequestContext,
        text: str,
        given: list[dict[str, Any]] | None,
        stack_name: str,
        capabilities: list[str] | None = None,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """(the template as given, the template after its macros ran). With `capabilities` (a stack made or
        updated directly, not through a change set), the account's own macros run only once
        CAPABILITY_AUTO_EXPAND is given."""
        original = templates.parse(text)
        templates.check_shape(original) if not templates.transforms_of(original) else None
        if capabilities is not None and set(templates.transforms_of(original)) - set(macros.BUILT_IN):
            self.check_capabilities(["CAPABILITY_AUTO_EXPAND"], capabilities)
        processed = await macros.process(self, ctx, original, given or [], stack_name)
        templates.check_shape(processed)
        return original, processed

    async def bind_parameters(
        self,
        ctx: RequestContext,
        template: dict[str, Any],
        given: list[dict[str, Any]] | None,
        previous: list[Bound] | None = None,
    ) -> list[Bound]:
        """The template's parameters bound to the values given (SSM parameter types read from SSM)."""
        bound = bind(
            template.get("Parameters") or {}, given, {b.key: b for b in previous} if previous else None
        )
        for item in bound:
            if ssm_type(item.kind):
                item.resolved = await self._ssm_value(ctx, item)
        return bound

    async def _ssm_value(self, ctx: RequestContext, item: Bound) -> str:
        try:
            found = await self.platform.call(
                "ssm",
                "GetParameter",
                {"Name": item.value},
                principal=ctx.principal,
                account_id=ctx.account_id,
                region=ctx.region,
            )
        except ServiceError as error:
            if error.code == "NotImplemented":
                raise validation_error(
                    f"Parameter {item.key} of type {item.kind} needs SSM Parameter Store, which Overcast "
                    "does not provide yet"
                ) from None
            raise validation_error(
                f"Unable to fetch parameters [{item.value}] from parameter store for this account."
            ) from None
        return found["Parameter"]["Value"]

    def static_plan(self, stack: Stack, template: dict[str, Any], bound: list[Bound]) -> Plan:
        """Check a template against its parameters before anything runs: conditions, rules, references,
        dependencies, attributes, mappings (what CloudFormation refuses with a ValidationError)."""
        resources = template.get("Resources") or {}
        missing = undefined_dependencies(resources, set(resources))
        if missing:
            raise validation_error(
                f"Template format error: Unresolved resource dependencies [{', '.join(missing)}] in the "
                "Resources block of the template"
            )
        conditions = template.get("Conditions") or {}
        for _logical_id, resource in resources.items():
            condition = resource.get("Condition")
            if condition is not None and condition not in conditions:
                raise validation_error(
                    f"Template format error: Unresolved dependencies [{condition}]. Cannot reference "
                    "resources in the Conditions block of the template"
                )
        plan = self.engine.plan(stack, template, bound)
        check_rules(template.get("Rules") or {}, plan.scope)
        check_acyclic(plan.graph)
        static = Scope(
            parameters=plan.scope.parameters,
            pseudo=plan.scope.pseudo,
            mappings=plan.scope.mappings,
            conditions=plan.conditions,
            resources=plan.scope.resources,
            ref=plan.scope.ref,
            attribute=plan.scope.attribute,
            region=plan.scope.region,
            language_extensions=plan.scope.language_extensions,
        )
        for resource in plan.active.values():
            resolve(resource.get("Properties") or {}, static)
        for output in (template.get("Outputs") or {}).values():
            condition = output.get("Condition")
            if condition is None or plan.conditions.get(condition, False):
                resolve(output.get("Value"), static)
        return plan

    def skeleton(self, ctx: RequestContext, name: str, arn: str, settings: dict[str, Any]) -> Stack:
        """A stack not stored yet (id -1: no resource rows), for checking a template."""
        return Stack(
            -1,
            arn,
            ctx.account_id,
            ctx.region,
            name,
            "REVIEW_IN_PROGRESS",
            None,
            True,
            settings,
            {},
            "",
            None,
            None,
            [],
            self.clock.now(),
            None,
            None,
            None,
            None,
        )

    @staticmethod
    def required_capabilities(
        original: dict[str, Any], processed: dict[str, Any], plan: Plan | None
    ) -> list[str]:
        """The capabilities a template needs: IAM resources (named ones: CAPABILITY_NAMED_IAM), macros."""
        needed: list[str] = []
        resources = plan.active if plan else processed.get("Resources") or {}
        named = False
        iam = False
        for resource in resources.values():
            kind = resource.get("Type")
            if kind in IAM_TYPES:
                iam = True
                name_property = IAM_TYPES[kind]
                if name_property and name_property in (resource.get("Properties") or {}):
                    named = True
        if named:
            needed.append("CAPABILITY_NAMED_IAM")
        elif iam:
            needed.append("CAPABILITY_IAM")
        if templates.transforms_of(original) and set(templates.transforms_of(original)) != {
            "AWS::LanguageExtensions"
        }:
            needed.append("CAPABILITY_AUTO_EXPAND")
        return needed

    @staticmethod
    def check_capabilities(
        needed: list[str], given: list[str] | None, *, macros_expanded: bool = False
    ) -> None:
        given = given or []
        missing = []
        for capability in needed:
            if capability == "CAPABILITY_AUTO_EXPAND" and macros_expanded:
                continue
            if capability == "CAPABILITY_IAM" and "CAPABILITY_NAMED_IAM" in given:
                continue
            if capability not in given:
                missing.append(capability)
        if missing:
            raise ServiceError(
                "InsufficientCapabilitiesException", f"Requires capabilities : [{', '.join(missing)}]", 400
            )

    def conditions_of(self, stack: Stack, template: dict[str, Any], bound: list[Bound]) -> dict[str, bool]:
        scope = self.engine.scope(stack, template, bound)
        return evaluate_conditions(template.get("Conditions") or {}, scope)

    def imported_attributes(self, stack: Stack, kind: str, physical_id: str) -> dict[str, Any]:
        """What Fn::GetAtt gives of a resource brought in by an import (as far as its id tells)."""
        handler = handler_for(kind)
        if handler is None:
            return {}
        ctx = self.engine.context(stack, "", self.engine.principal_for(stack))
        return handler.known_attributes(ctx, physical_id)

    def unknown_types(self, template: dict[str, Any]) -> list[str]:
        return sorted(
            {
                resource["Type"]
                for resource in (template.get("Resources") or {}).values()
                if handler_for(resource["Type"]) is None
            }
        )


def s3_location(url: str) -> tuple[str, str] | None:
    """(bucket, key) of an S3 object URL in any of its forms (path style, virtual-hosted, s3://)."""
    parts = urlsplit(url)
    if parts.scheme == "s3":
        return (parts.netloc, unquote(parts.path.lstrip("/"))) if parts.netloc and parts.path else None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname
    path = unquote(parts.path.lstrip("/"))
    for marker in (".s3.", ".s3-", ".s3-website"):
        if marker in host:
            bucket = host.split(marker, 1)[0]
            return (bucket, path) if path else None
    if host.endswith(".localhost") and not host.startswith(("s3.", "localhost")):
        return (host.split(".", 1)[0], path) if path else None
    bucket, _, key = path.partition("/")
    return (bucket, key) if bucket and key else None
