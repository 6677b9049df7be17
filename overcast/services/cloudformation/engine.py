"""The stack engine: runs a stack's operation (create, update, delete and their rollbacks) to its end.

The operation is stored with the stack (`operation`), and its phase is the stack's status: each phase reads
the resources' rows, does what is left (a resource row records the operation that last touched it), and
writes the next status in the same transaction as its last event. After a restart `resume` starts every
stack that has an operation, and it goes on from the phase it was in.

Resources are worked on in dependency order, those that do not depend on one another at the same time, each
through its handler (resources/), which calls the owning service's operations as the stack's service role
or its caller.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from overcast.errors import ServiceError
from overcast.identity import Principal, service_principal
from overcast.services.cloudformation import graph as graphs
from overcast.services.cloudformation.intrinsics import (
    UNKNOWN,
    Scope,
    evaluate_conditions,
    resolve,
)
from overcast.services.cloudformation.parameters import Bound
from overcast.services.cloudformation.resources import handler_for
from overcast.services.cloudformation.resources.base import (
    Created,
    HandlerError,
    ResourceContext,
    ResourceHandler,
)
from overcast.services.cloudformation.store import Resource, Stack

if TYPE_CHECKING:
    from overcast.services.cloudformation.provider import CloudFormationProvider

log = logging.getLogger("overcast.cloudformation")

STACK_TYPE = "AWS::CloudFormation::Stack"
_DYNAMIC = re.compile(r"\{\{resolve:(ssm|ssm-secure|secretsmanager):([^}]+)\}\}")


class ResourceFailed(Exception):
    def __init__(self, logical_id: str, reason: str) -> None:
        super().__init__(reason)
        self.logical_id = logical_id
        self.reason = reason


@dataclass
class Step:
    """The work on one resource: writes before (`begin`), the service calls (`run`), writes after (`done`
    with run's result, or `failed` with its error, returning the status reason). A step with `error` failed
    before any call (its `begin` wrote the failure)."""

    begin: Callable[[], None] | None = None
    run: Callable[[], Awaitable[Any]] = field(default=lambda: _nothing())
    done: Callable[[Any], None] = field(default=lambda result: None)
    failed: Callable[[BaseException], str] = field(default=lambda error: reason_of(error))
    error: str | None = None
    cancelled: str = "Resource creation cancelled"  # the reason when the operation cancels it in flight


async def _nothing() -> None:
    return None


@dataclass
class Plan:
    """What an operation works from: the template's active resources, their graph, and the scope."""

    template: dict[str, Any]
    active: dict[str, dict[str, Any]]  # logical id -> resource definition (its condition holds)
    graph: dict[str, set[str]]
    scope: Scope
    conditions: dict[str, bool]


def timestamp(at: float) -> str:
    """ISO 8601 with milliseconds, as event ids carry it."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at)) + f".{int(at * 1000) % 1000:03d}Z"


_ENCODER = json.JSONEncoder(separators=(",", ":"))  # json.dumps with separators builds one per call


def compact(value: Any) -> str:
    return _ENCODER.encode(value)


def principal_data(principal: Principal) -> dict[str, Any]:
    return {
        "account_id": principal.account_id,
        "arn": principal.arn,
        "user_id": principal.user_id,
        "kind": principal.kind,
        "access_key_id": principal.access_key_id,
        "attributes": principal.attributes,
    }


def reason_of(error: BaseException) -> str:
    """A failed resource's status reason, worded as CloudFormation's resource handlers word theirs."""
    if isinstance(error, ResourceFailed):
        return error.reason
    if isinstance(error, HandlerError):
        return error.message
    if isinstance(error, ServiceError):
        if error.code == "ValidationError" and error.message.startswith("Template"):
            return error.message
        return (
            f'Resource handler returned message: "{error.message}" (HandlerErrorCode: {_handler_code(error)})'
        )
    return f"Internal failure: {type(error).__name__}: {error}"


def _handler_code(error: ServiceError) -> str:
    code = error.code
    if "AlreadyExists" in code or "Exists" in code:
        return "AlreadyExists"
    if "NotFound" in code or "NoSuch" in code or "NonExistent" in code or "DoesNotExist" in code:
        return "NotFound"
    if code in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation"):
        return "AccessDenied"
    if code == "NotImplemented":
        return "ServiceInternalError"
    if "Limit" in code or "Throttl" in code:
        return "ServiceLimitExceeded"
    return "InvalidRequest" if error.sender_fault else "ServiceInternalError"


class Engine:
    def __init__(self, service: CloudFormationProvider) -> None:
        self.service = service
        self.platform = service.platform
        self.db = service.db
        self.clock = service.clock
        self.store = service.store
        self._running: dict[int, asyncio.Task] = {}
        self.cancelled: set[int] = set()  # stacks whose update CancelUpdateStack stopped

    # -- running operations ------------------------------------------------------------------------

    def start(self, stack_id: int) -> None:
        """Run the stack's operation in the background (call after its transaction commits)."""
        task = self._running.get(stack_id)
        if task is not None and not task.done():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        task = loop.create_task(self.run(stack_id))
        self._running[stack_id] = task
        task.add_done_callback(lambda _: self._running.pop(stack_id, None))

    def task(self, stack_id: int) -> asyncio.Task | None:
        """The task running the stack's operation, if one is running."""
        task = self._running.get(stack_id)
        return task if task is not None and not task.done() else None

    def resume(self) -> None:
        for stack_id in self.store.busy_stacks():
            self.start(stack_id)

    async def run(self, stack_id: int) -> None:
        try:
            while True:
                stack = self.store.stack_by_id(stack_id)
                if stack is None or stack.operation is None:
                    return
                phase = {
                    "CREATE_IN_PROGRESS": self._deploy,
                    "UPDATE_IN_PROGRESS": self._deploy,
                    "IMPORT_IN_PROGRESS": self._deploy,
                    "ROLLBACK_IN_PROGRESS": self._rollback_create,
                    "DELETE_IN_PROGRESS": self._delete_stack,
                    "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS": self._cleanup_update,
                    "UPDATE_ROLLBACK_IN_PROGRESS": self._rollback_update,
                    "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS": self._cleanup_rollback,
                    "IMPORT_ROLLBACK_IN_PROGRESS": self._rollback_update,
                }.get(stack.status)
                if phase is None:
                    with self.db.transaction():
                        self.store.set_operation(stack_id, None)
                    return
                await phase(stack)
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug must not leave the stack stuck in progress without a word
            log.exception("stack operation failed")
            with self.db.transaction():
                stack = self.store.stack_by_id(stack_id)
                if stack is not None and stack.operation is not None:
                    failed = stack.status.replace("IN_PROGRESS", "FAILED")
                    if failed.endswith("CLEANUP_FAILED"):
                        failed = failed.replace("_CLEANUP_FAILED", "")
                    self._finish(
                        stack,
                        failed if failed in _FAILED_STATES else "UPDATE_ROLLBACK_FAILED",
                        "Internal failure",
                    )
        finally:
            self.service.stack_settled(stack_id)

    def _finish(self, stack: Stack, status: str, reason: str | None = None) -> None:
        """Move the stack to a final `status` with its stack event (inside a transaction): the operation
        ends (its change set, if it ran one, records how)."""
        now = self.clock.now()
        self.store.set_status(stack.id, status, reason, None if status.startswith("CREATE") else now)
        self.stack_event(stack, status, reason)
        operation = stack.operation or {}
        change_set = operation.get("change_set")
        if change_set:
            found = self.store.change_set_by_arn(change_set)
            if found is not None:
                succeeded = status in ("CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE")
                self.store.update_change_set(
                    found.id, execution_status="EXECUTE_COMPLETE" if succeeded else "EXECUTE_FAILED"
                )
        self.store.set_operation(stack.id, None)
        if status in ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE"):
            self.store.set_previous(stack.id, None)
        requested = stack.settings.get("delete_requested")
        if requested and status not in ("DELETE_COMPLETE", "DELETE_FAILED"):
            settings = {key: value for key, value in stack.settings.items() if key != "delete_requested"}
            self.store.set_settings(stack.id, settings)
            self.store.set_operation(
                stack.id,
                {
                    "id": str(uuid.uuid4()),
                    "kind": "DELETE",
                    "principal": operation.get("principal"),
                    "role_arn": requested if isinstance(requested, str) else None,
                },
            )
            self.store.set_status(stack.id, "DELETE_IN_PROGRESS", None)
            self.stack_event(stack, "DELETE_IN_PROGRESS", "User Initiated")

    # -- events ------------------------------------------------------------------------------------

    def stack_event(self, stack: Stack, status: str, reason: str | None = None) -> None:
        self.event(stack, stack.name, STACK_TYPE, status, reason, stack.arn, event_id=str(uuid.uuid4()))

    def event(
        self,
        stack: Stack,
        logical_id: str,
        kind: str,
        status: str,
        reason: str | None = None,
        physical_id: str | None = None,
        properties: Any = None,
        event_id: str | None = None,
    ) -> None:
        now = self.clock.now()
        operation = stack.operation or {}
        record = {
            "event_id": event_id or f"{logical_id}-{status}-{timestamp(now)}",
            "at": now,
            "logical_id": logical_id,
            "physical_id": physical_id,
            "type": kind,
            "status": status,
            "reason": reason,
            "properties": properties
            if properties is None or isinstance(properties, str)
            else compact(properties),
            "token": operation.get("token"),
            "operation_id": operation.get("id"),
        }
        self.store.add_event(stack.id, record)
        topics = stack.settings.get("notification_arns") or []
        if topics:
            self.db.after_commit(lambda: self.platform.spawn(self._notify(stack, record, topics)))

    async def _notify(self, stack: Stack, record: dict[str, Any], topics: list[str]) -> None:
        """Stack events to the stack's notification topics, as CloudFormation words them."""
        fields = [
            ("StackId", stack.arn),
            ("Timestamp", timestamp(record["at"])),
            ("EventId", record["event_id"]),
            ("LogicalResourceId", record["logical_id"]),
            ("Namespace", stack.account),
            ("PhysicalResourceId", record["physical_id"] or ""),
            ("PrincipalId", (stack.operation or {}).get("principal", {}).get("user_id", stack.account)),
            ("ResourceProperties", record["properties"] or "null"),
            ("ResourceStatus", record["status"]),
            ("ResourceStatusReason", record["reason"] or ""),
            ("ResourceType", record["type"]),
            ("StackName", stack.name),
            ("ClientRequestToken", record["token"] or "null"),
        ]
        message = "".join(f"{key}='{value}'\n" for key, value in fields)
        for topic in topics:
            try:
                await self.platform.call(
                    "sns",
                    "Publish",
                    {"TopicArn": topic, "Message": message, "Subject": "AWS CloudFormation Notification"},
                    principal=service_principal("cloudformation.amazonaws.com", stack.account),
                    account_id=stack.account,
                    region=stack.region,
                    condition_keys={"aws:SourceArn": stack.arn, "aws:SourceAccount": stack.account},
                )
            except ServiceError as error:
                log.info("stack notification to %s failed: %s", topic, error.message)

    # -- identity ----------------------------------------------------------------------------------

    def principal_for(self, stack: Stack) -> Principal:
        """Who the resource calls act as: the stack's service role, else the operation's caller."""
        operation = stack.operation or {}
        role_arn = operation.get("role_arn") or stack.settings.get("role_arn")
        if role_arn:
            import overcast.services.sts.api as sts

            with self.db.transaction():
                credentials = sts.credentials_for_role(
                    self.platform,
                    role_arn,
                    "cloudformation.amazonaws.com",
                    "AWSCloudFormation",
                    source_arn=stack.arn,
                    source_account=stack.account,
                )
            found = self.platform.credentials.lookup(credentials["AccessKeyId"])
            if found is not None:
                return found.principal
        data = operation.get("principal")
        if not data:
            from overcast.identity import root_principal

            return root_principal(stack.account)
        if data.get("access_key_id"):
            found = self.platform.credentials.lookup(data["access_key_id"])
            if found is not None and found.principal.arn == data["arn"]:
                return found.principal
        return Principal(
            data["account_id"],
            data["arn"],
            data["user_id"],
            data["kind"],
            data.get("access_key_id"),
            data.get("attributes") or {},
        )

    def context(
        self, stack: Stack, logical_id: str, principal: Principal, definition: dict[str, Any] | None = None
    ) -> ResourceContext:
        async def caller(service: str, operation: str, params: dict[str, Any], region: str | None = None):
            return await self.platform.call(
                service,
                operation,
                params,
                principal=principal,
                account_id=stack.account,
                region=region or stack.region,
            )

        definition = definition or {}
        return ResourceContext(
            caller=caller,
            account=stack.account,
            region=stack.region,
            stack_name=stack.name,
            stack_id=stack.arn,
            logical_id=logical_id,
            now=self.clock.now,
            sleep_until=self.clock.sleep_until,
            request_token=(stack.operation or {}).get("token") or "",
            extra={
                "responses": self.service.responses,
                "macros": self.service.store,
                "nested": Nesting(self, stack),
                "resource_type": definition.get("Type"),
                "creation_policy": definition.get("CreationPolicy"),
            },
        )

    # -- plans and scopes --------------------------------------------------------------------------

    def plan(
        self, stack: Stack, template: dict[str, Any] | None = None, bound: list[Bound] | None = None
    ) -> Plan:
        template = stack.template if template is None else template
        if bound is None:
            bound = [Bound.load(item) for item in stack.settings.get("parameters", [])]
        scope = self.scope(stack, template, bound)
        conditions = evaluate_conditions(template.get("Conditions") or {}, scope)
        scope.conditions = conditions
        active = {
            logical_id: resource
            for logical_id, resource in (template.get("Resources") or {}).items()
            if resource.get("Condition") is None or conditions.get(resource["Condition"], False)
        }
        scope.resources = set(active)
        return Plan(template, active, graphs.dependencies(active, conditions), scope, conditions)

    def scope(self, stack: Stack, template: dict[str, Any], bound: list[Bound]) -> Scope:
        stack_id = stack.id

        def ref(name: str) -> Any:
            row = self.store.resource(stack_id, name)
            if row is None or row.physical_id is None:
                return UNKNOWN
            return row.physical_id

        def attribute(name: str, attribute: str) -> Any:
            row = self.store.resource(stack_id, name)
            resource_type = (template.get("Resources") or {}).get(name, {}).get("Type", "")
            handler = handler_for(resource_type)
            if handler is not None and not _accepts_attribute(handler, resource_type, attribute):
                raise ServiceError(
                    "ValidationError",
                    f"Template error: resource {name} does not support attribute type {attribute} in Fn::GetAtt",
                    400,
                )
            if row is None or row.physical_id is None:
                return UNKNOWN
            if attribute not in row.attributes:
                if (
                    resource_type.startswith("Custom::")
                    or resource_type == "AWS::CloudFormation::CustomResource"
                ):
                    raise ResourceFailed(
                        name,
                        f"CustomResource attribute error: Vendor response doesn't contain {attribute} key in object {stack.arn}|{name}|{row.physical_id} in S3 bucket",
                    )
                return UNKNOWN
            return row.attributes[attribute]

        def export(name: str) -> Any:
            found = self.store.export(stack.account, stack.region, name)
            if found is None:
                raise ResourceFailed("", f"No export named {name} found. Rollback requested by user.")
            return found[0]

        transforms = template.get("Transform")
        extensions = transforms == "AWS::LanguageExtensions" or (
            isinstance(transforms, list) and "AWS::LanguageExtensions" in transforms
        )
        return Scope(
            parameters={item.key: item.template_value() for item in bound},
            pseudo=self.pseudo(stack),
            mappings=template.get("Mappings") or {},
            ref=ref,
            attribute=attribute,
            export=export,
            region=stack.region,
            language_extensions=extensions,
        )

    def pseudo(self, stack: Stack) -> dict[str, Any]:
        return {
            "AWS::AccountId": stack.account,
            "AWS::Region": stack.region,
            "AWS::StackId": stack.arn,
            "AWS::StackName": stack.name,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NotificationARNs": list(stack.settings.get("notification_arns") or []),
        }

    async def dynamic_references(self, value: Any, ctx: ResourceContext) -> Any:
        """`{{resolve:ssm:...}}`, `{{resolve:ssm-secure:...}}` and `{{resolve:secretsmanager:...}}` in the
        resolved properties, replaced by what they name."""
        if isinstance(value, dict):
            return {key: await self.dynamic_references(item, ctx) for key, item in value.items()}
        if isinstance(value, list):
            return [await self.dynamic_references(item, ctx) for item in value]
        if not isinstance(value, str) or "{{resolve:" not in value:
            return value
        parts, position = [], 0
        for match in _DYNAMIC.finditer(value):
            parts.append(value[position : match.start()])
            parts.append(await dynamic_reference(ctx, match.group(1), match.group(2)))
            position = match.end()
        parts.append(value[position:])
        return "".join(parts)

    # -- deploy: create, update, import ------------------------------------------------------------

    async def _deploy(self, stack: Stack) -> None:
        creating = stack.status == "CREATE_IN_PROGRESS"
        operation = stack.operation or {}
        try:
            plan = self.plan(stack)
        except ServiceError as error:
            with self.db.transaction():
                self._fail_deploy(self.store.stack_by_id(stack.id) or stack, error.message, creating)
            return
        principal = await self._principal_or_fail(stack, creating)
        if principal is None:
            return
        failures = await self._walk(
            plan,
            lambda logical_id: self._deploy_step(
                stack, plan, logical_id, principal, operation["id"], creating
            ),
            forward=True,
            cancelled=lambda: stack.id in self.cancelled or self._timed_out(stack, creating),
        )
        if stack.id in self.cancelled:
            self.cancelled.discard(stack.id)
            failures = [(stack.name, "Stack update cancelled")]
        elif self._timed_out(stack, creating):
            failures = [(stack.name, "Stack creation time has exceeded the specified timeout. ")]
        if not failures:
            try:
                with self.db.transaction():
                    self._publish_outputs(stack, plan)
            except ResourceFailed as failure:
                failures = [(stack.name, failure.reason)]
        with self.db.transaction():
            current = self.store.stack_by_id(stack.id)
            if current is None:
                return
            if failures:
                names = ", ".join(name for name, _ in failures if name != stack.name)
                verb = "create" if creating else "update"
                reason = (
                    failures[0][1]
                    if not names
                    else f"The following resource(s) failed to {verb}: [{names}]. "
                )
                self._fail_deploy(current, reason, creating)
            elif creating:
                self._finish(current, "CREATE_COMPLETE")
            elif current.status == "IMPORT_IN_PROGRESS":
                self._finish(current, "IMPORT_COMPLETE")
            else:
                self.store.set_status(
                    current.id, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", None, self.clock.now()
                )
                self.stack_event(current, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")

    def _timed_out(self, stack: Stack, creating: bool) -> bool:
        """A creation past the stack's TimeoutInMinutes (on the virtual clock)."""
        minutes = stack.settings.get("timeout")
        return bool(creating and minutes and self.clock.now() > stack.created_at + 60 * int(minutes))

    async def _principal_or_fail(self, stack: Stack, creating: bool) -> Principal | None:
        try:
            return self.principal_for(stack)
        except ServiceError:
            role = (stack.operation or {}).get("role_arn") or stack.settings.get("role_arn")
            with self.db.transaction():
                current = self.store.stack_by_id(stack.id)
                if current is not None:
                    self._fail_deploy(current, f"Role {role} is invalid or cannot be assumed", creating)
            return None

    def _fail_deploy(self, stack: Stack, reason: str, creating: bool) -> None:
        """A deploy failed: roll back (or stop, or delete) as the operation asked."""
        operation = stack.operation or {}
        if stack.status == "IMPORT_IN_PROGRESS":
            self.store.set_status(stack.id, "IMPORT_ROLLBACK_IN_PROGRESS", reason, self.clock.now())
            self.stack_event(stack, "IMPORT_ROLLBACK_IN_PROGRESS", reason)
            return
        if not creating:
            if operation.get("disable_rollback"):
                self.store.set_settings(stack.id, {**stack.settings, "last_operation": operation.get("id")})
                self._finish(stack, "UPDATE_FAILED", reason)
                return
            self.store.set_status(stack.id, "UPDATE_ROLLBACK_IN_PROGRESS", reason, self.clock.now())
            self.stack_event(stack, "UPDATE_ROLLBACK_IN_PROGRESS", reason)
            return
        on_failure = operation.get("on_failure", "ROLLBACK")
        if on_failure == "DO_NOTHING":
            self._finish(stack, "CREATE_FAILED", reason)
        elif on_failure == "DELETE":
            self.stack_event(stack, "CREATE_FAILED", reason)
            self.store.set_status(stack.id, "DELETE_IN_PROGRESS", None)
            self.stack_event(stack, "DELETE_IN_PROGRESS")
            self.store.set_operation(stack.id, {**operation, "rollback_delete": True})
        else:
            reason = reason + "Rollback requested by user." if reason.endswith(". ") else reason
            self.store.set_status(stack.id, "ROLLBACK_IN_PROGRESS", reason)
            self.stack_event(stack, "ROLLBACK_IN_PROGRESS", reason)

    async def _walk(
        self,
        plan: Plan,
        work,
        *,
        forward: bool,
        names: Iterable[str] | None = None,
        cancelled: Callable[[], bool] = lambda: False,
    ) -> list[tuple[str, str]]:
        """Run `work(logical_id) -> Step | None` over the resources in dependency order (reverse order when
        not `forward`), those that do not depend on one another at the same time. The writes of the steps
        that start together share one transaction, as do those of the steps that end together (each in its
        own savepoint). Stops starting new work at the first failure; returns the failures [(logical id,
        reason)]."""
        names = list(plan.active if names is None else names)
        chosen = set(names)
        if forward:
            needs = {name: plan.graph.get(name, set()) & chosen for name in names}
        else:
            reverse = graphs.dependents(plan.graph)
            needs = {name: reverse.get(name, set()) & chosen for name in names}
        done: set[str] = set()
        pending = list(names)
        running: dict[asyncio.Future, tuple[str, Step]] = {}
        failures: list[tuple[str, str]] = []
        while pending or running:
            ready = (
                [name for name in pending if needs[name] <= done] if not failures and not cancelled() else []
            )
            if ready:
                with self.db.transaction():
                    for name in ready:
                        pending.remove(name)
                        step = self._begin(name, work, failures)
                        if step is None:
                            done.add(name)
                        elif step.error is None:
                            running[asyncio.ensure_future(step.run())] = (name, step)
                if not running:
                    continue
            if not running:
                break
            finished, _ = await asyncio.wait(running, timeout=0.25, return_when=asyncio.FIRST_COMPLETED)
            if cancelled() and not finished:  # CancelUpdateStack: what is in flight is cancelled too
                for task in running:
                    task.cancel()
                finished, _ = await asyncio.wait(running)
            with self.db.transaction():
                for task in finished:
                    name, step = running.pop(task)
                    reason = self._end(name, step, task)
                    if reason is None:
                        done.add(name)
                    else:
                        failures.append((name, reason))
        return failures

    def _begin(self, name: str, work, failures: list[tuple[str, str]]) -> Step | None:
        """A step's first writes, in a savepoint of the batch."""
        try:
            with self.db.transaction():
                step = work(name)
                if step is not None and step.begin is not None:
                    step.begin()
        except Exception as error:  # noqa: BLE001 - a bug in one resource fails that resource, not the loop
            log.error("resource %s failed", name, exc_info=error)
            failures.append((name, reason_of(error)))
            return Step(error=reason_of(error))
        if step is not None and step.error is not None:
            failures.append((name, step.error))
        return step

    def _end(self, name: str, step: Step, task: asyncio.Future) -> str | None:
        """A step's last writes, in a savepoint of the batch: None when it succeeded, else the reason."""
        error = HandlerError(step.cancelled) if task.cancelled() else task.exception()
        try:
            with self.db.transaction():
                if error is None:
                    step.done(task.result())
                    return None
                if not isinstance(error, (HandlerError, ServiceError, ResourceFailed)):
                    log.error("resource %s failed", name, exc_info=error)
                return step.failed(error)
        except Exception as failure:  # noqa: BLE001
            log.error("resource %s failed", name, exc_info=failure)
            return reason_of(failure)

    async def _one(self, step: Step | None) -> None:
        """Run one step on its own (the cleanups, which go one resource at a time)."""
        if step is None:
            return
        with self.db.transaction():
            if step.begin is not None:
                step.begin()
        if step.error is not None:
            raise ResourceFailed("", step.error)
        try:
            result = await step.run()
        except (HandlerError, ServiceError, ResourceFailed) as error:
            with self.db.transaction():
                reason = step.failed(error)
            raise ResourceFailed("", reason) from None
        with self.db.transaction():
            step.done(result)

    def _deploy_step(
        self,
        stack: Stack,
        plan: Plan,
        logical_id: str,
        principal: Principal,
        operation_id: str,
        creating: bool,
    ) -> Step | None:
        definition = plan.active[logical_id]
        kind = definition["Type"]
        row = self.store.resource(stack.id, logical_id)
        if (
            row is not None
            and row.operation == operation_id
            and row.status in ("CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE")
        ):
            return None  # done before a restart
        handler = handler_for(kind)
        ctx = self.context(stack, logical_id, principal, definition)
        existing = (
            row is not None
            and row.physical_id is not None
            and row.status not in ("DELETE_COMPLETE", "CREATE_FAILED")
        )
        try:
            properties = resolve(definition.get("Properties") or {}, plan.scope)
        except (ResourceFailed, ServiceError) as error:
            reason = error.reason if isinstance(error, ResourceFailed) else error.message
            return self._failed_step(
                stack, row, logical_id, kind, reason, operation_id, creating or not existing
            )
        if not existing:
            return self._create_step(stack, ctx, handler, logical_id, kind, properties, operation_id)
        assert row is not None
        if row.properties == properties and row.type == kind:
            return None  # unchanged: no event
        return self._update_step(stack, ctx, handler, row, properties, operation_id)

    def _failed_step(
        self,
        stack: Stack,
        row: Resource | None,
        logical_id: str,
        kind: str,
        reason: str,
        operation_id: str,
        creating: bool,
    ) -> Step:
        """A resource that failed before any call (its properties did not resolve)."""

        def begin() -> None:
            status = "CREATE_FAILED" if creating else "UPDATE_FAILED"
            now = self.clock.now()
            if row is None or creating:
                self.store.put_resource(
                    Resource(
                        stack.id,
                        logical_id,
                        kind,
                        row.physical_id if row else None,
                        status,
                        reason,
                        row.properties if row else None,
                        row.attributes if row else {},
                        now,
                        operation_id,
                        row.prior if row else None,
                        None,
                    )
                )
            else:
                row.status, row.reason, row.operation, row.updated_at = status, reason, operation_id, now
                if row.prior is None:
                    row.prior = _state(row)
                self.store.put_resource(row)
            self.event(stack, logical_id, kind, status, reason, row.physical_id if row else None)

        return Step(begin=begin, error=reason)

    def _create_step(
        self,
        stack: Stack,
        ctx: ResourceContext,
        handler: ResourceHandler | None,
        logical_id: str,
        kind: str,
        properties: dict[str, Any],
        operation_id: str,
    ) -> Step:
        prior = {"absent": True} if stack.status != "CREATE_IN_PROGRESS" else None
        shown = compact(properties)  # the events' ResourceProperties, serialized once

        def row(
            status: str,
            physical_id: str | None = None,
            reason: str | None = None,
            attributes: dict | None = None,
        ) -> Resource:
            return Resource(
                stack.id,
                logical_id,
                kind,
                physical_id,
                status,
                reason,
                properties,
                attributes or {},
                self.clock.now(),
                operation_id,
                prior,
                None,
            )

        def begin() -> None:
            self.store.put_resource(row("CREATE_IN_PROGRESS"))
            self.event(stack, logical_id, kind, "CREATE_IN_PROGRESS", properties=shown)

        async def run() -> Created:
            if handler is None:
                raise HandlerError(_unsupported(kind))
            _check_required(handler, properties)
            resolved = await self.dynamic_references(properties, ctx)
            created = await handler.create(ctx, resolved)
            policy = (ctx.extra.get("creation_policy") or {}).get("ResourceSignal")
            if policy and kind != "AWS::CloudFormation::WaitCondition":
                await self._signals(ctx, stack, logical_id, policy)
            return created

        def done(created: Created) -> None:
            self.store.put_resource(
                row("CREATE_COMPLETE", created.physical_id, attributes=created.attributes)
            )
            self.event(
                stack,
                logical_id,
                kind,
                "CREATE_IN_PROGRESS",
                "Resource creation Initiated",
                created.physical_id,
                shown,
            )
            self.event(stack, logical_id, kind, "CREATE_COMPLETE", None, created.physical_id, shown)

        def failed(error: BaseException) -> str:
            reason = reason_of(error)
            self.store.put_resource(row("CREATE_FAILED", reason=reason))
            self.event(stack, logical_id, kind, "CREATE_FAILED", reason, properties=shown)
            return reason

        return Step(begin=begin, run=run, done=done, failed=failed)

    async def _signals(
        self, ctx: ResourceContext, stack: Stack, logical_id: str, policy: dict[str, Any]
    ) -> None:
        """A CreationPolicy: wait for its count of SUCCESS signals (SignalResource, cfn-signal) or its timeout."""
        from overcast.services.cloudformation.resources.cloudformation import iso_duration, signal_key

        count = int(policy.get("Count", 1))
        deadline = self.clock.now() + iso_duration(policy.get("Timeout", "PT5M"))

        def parsed(bodies: list[bytes]) -> list[dict[str, Any]]:
            found = []
            for body in bodies:
                try:
                    found.append(json.loads(body))
                except ValueError:
                    continue
            return found

        def enough(bodies: list[bytes]) -> bool:
            signals = parsed(bodies)
            return any(s.get("Status") == "FAILURE" for s in signals) or len(signals) >= count

        bodies = await self.service.responses.wait(
            stack.region, signal_key(stack.arn, logical_id), deadline, enough
        )
        if bodies is None:
            raise HandlerError(
                f"Failed to receive {count} resource signal(s) within the specified duration", "NotStabilized"
            )
        failed = [s for s in parsed(bodies) if s.get("Status") == "FAILURE"]
        if failed:
            raise HandlerError(f"Received FAILURE signal with UniqueId {failed[0].get('UniqueId')}")

    def _update_step(
        self,
        stack: Stack,
        ctx: ResourceContext,
        handler: ResourceHandler | None,
        row: Resource,
        properties: dict[str, Any],
        operation_id: str,
    ) -> Step:
        logical_id, kind = row.logical_id, row.type
        prior = row.prior if row.operation == operation_id and row.prior else _state(row)
        old_properties = prior.get("properties") or {}
        replace = handler is not None and (
            handler.needs_replacement(properties, old_properties) or prior.get("type") != kind
        )
        denied = self._policy_denies(stack, logical_id, kind, "Replace" if replace else "Modify")
        if replace and handler is not None and not denied:
            named = [
                name
                for name in handler.create_only
                if name.endswith("Name")
                and properties.get(name) is not None
                and properties.get(name) == old_properties.get(name)
            ]
            if named:  # the replacement would need the name the resource has
                denied = (
                    "CloudFormation cannot update a stack when a custom-named resource requires replacing. "
                    f"Rename {properties[named[0]]} and update the stack again."
                )

        def begin() -> None:
            reason = (
                "Requested update requires the creation of a new physical resource; hence creating one."
                if replace
                else None
            )
            self.event(stack, logical_id, kind, "UPDATE_IN_PROGRESS", reason, row.physical_id, properties)
            row.status, row.operation, row.prior, row.updated_at = (
                "UPDATE_IN_PROGRESS",
                operation_id,
                prior,
                self.clock.now(),
            )
            self.store.put_resource(row)

        async def run() -> tuple[str, dict[str, Any], bool]:
            if denied:
                raise HandlerError(denied)
            if handler is None:
                raise HandlerError(_unsupported(kind))
            _check_required(handler, properties)
            resolved = await self.dynamic_references(properties, ctx)
            if replace:
                created = await handler.create(ctx, resolved)
                return created.physical_id, created.attributes, True
            updated = await handler.update(
                ctx, prior["physical_id"], resolved, old_properties, prior.get("attributes") or {}
            )
            if isinstance(updated, Created):  # the handler replaced it (a custom resource's new id)
                return updated.physical_id, updated.attributes, True
            return prior["physical_id"], updated, False

        def done(result: tuple[str, dict[str, Any], bool]) -> None:
            physical_id, attributes, replaced = result
            row.physical_id, row.properties, row.attributes = physical_id, properties, attributes
            row.status, row.reason, row.updated_at, row.type = "UPDATE_COMPLETE", None, self.clock.now(), kind
            self.store.put_resource(row)
            if replaced:
                self.event(
                    stack,
                    logical_id,
                    kind,
                    "UPDATE_IN_PROGRESS",
                    "Resource creation Initiated",
                    physical_id,
                    properties,
                )
            self.event(stack, logical_id, kind, "UPDATE_COMPLETE", None, physical_id, properties)

        def failed(error: BaseException) -> str:
            reason = reason_of(error)
            row.status, row.reason, row.updated_at = "UPDATE_FAILED", reason, self.clock.now()
            self.store.put_resource(row)
            self.event(stack, logical_id, kind, "UPDATE_FAILED", reason, row.physical_id, properties)
            return reason

        return Step(begin=begin, run=run, done=done, failed=failed, cancelled="Resource update cancelled")

    def _policy_denies(self, stack: Stack, logical_id: str, kind: str, action: str) -> str | None:
        """The stack policy's refusal of an update action on a resource (None: allowed)."""
        operation = stack.operation or {}
        text = operation.get("policy_during_update") or stack.settings.get("policy")
        if not text:
            return None
        from overcast.services.cloudformation.stack_policy import denies

        return denies(text, logical_id, kind, action)

    # -- outputs and exports -----------------------------------------------------------------------

    def outputs(self, stack: Stack, plan: Plan) -> list[dict[str, Any]]:
        results = []
        for key, output in (plan.template.get("Outputs") or {}).items():
            condition = output.get("Condition")
            if condition is not None and not plan.conditions.get(condition, False):
                continue
            try:
                value = resolve(output["Value"], plan.scope)
            except ServiceError as error:
                raise ResourceFailed(stack.name, error.message) from None
            entry: dict[str, Any] = {"OutputKey": key, "OutputValue": _output_text(value)}
            if "Description" in output:
                entry["Description"] = resolve(output["Description"], plan.scope)
            export = output.get("Export")
            if isinstance(export, dict) and "Name" in export:
                entry["ExportName"] = _output_text(resolve(export["Name"], plan.scope))
            results.append(entry)
        return results

    def _publish_outputs(self, stack: Stack, plan: Plan) -> None:
        """Write the outputs and exports of a successful deploy; an export clash fails the operation."""
        outputs = self.outputs(stack, plan)
        exports = {entry["ExportName"]: entry["OutputValue"] for entry in outputs if "ExportName" in entry}
        current = self.store.exports_of(stack.id)
        for name, value in exports.items():
            owner = self.store.export(stack.account, stack.region, name)
            if owner is not None and owner[1] != stack.id:
                other = self.store.stack_by_id(owner[1])
                raise ResourceFailed(
                    stack.name,
                    f"Export with name {name} is already exported by stack {other.name if other else owner[1]}",
                )
            if name in current and current[name] != value:
                users = self.store.importers(stack.account, stack.region, name)
                if users:
                    raise ResourceFailed(
                        stack.name, f"Cannot update export {name} as it is in use by {users[0]}"
                    )
        for name in current:
            if name not in exports:
                users = self.store.importers(stack.account, stack.region, name)
                if users:
                    raise ResourceFailed(
                        stack.name,
                        f"Delete canceled. Cannot delete export {name} as it is in use by {users[0]}.",
                    )
        for name in current:
            if name not in exports:
                self.store.remove_export(stack.account, stack.region, name)
        for name, value in exports.items():
            self.store.put_export(stack.account, stack.region, name, value, stack.id)
        self.store.set_outputs(stack.id, outputs)
        self.store.set_imports(stack.account, stack.region, stack.id, self.imports(plan))

    def imports(self, plan: Plan) -> set[str]:
        """The export names the stack's resources and outputs import."""
        names: set[str] = set()

        def walk(value: Any) -> None:
            if isinstance(value, dict):
                if len(value) == 1 and "Fn::ImportValue" in value:
                    try:
                        name = resolve(value["Fn::ImportValue"], plan.scope)
                    except (ServiceError, ResourceFailed):
                        return
                    if isinstance(name, str):
                        names.add(name)
                    return
                for item in value.values():
                    walk(item)
            elif isinstance(value, list):
                for item in value:
                    walk(item)

        walk(list(plan.active.values()))
        walk(plan.template.get("Outputs") or {})
        return names

    # -- delete ------------------------------------------------------------------------------------

    async def _delete_stack(self, stack: Stack) -> None:
        operation = stack.operation or {}
        if not operation.get("rollback_delete"):
            for name in self.store.exports_of(stack.id):
                users = self.store.importers(stack.account, stack.region, name)
                if users:
                    with self.db.transaction():
                        self._finish(
                            stack,
                            "DELETE_FAILED",
                            f"Export {name} cannot be deleted as it is in use by {users[0]}",
                        )
                    return
        try:
            plan = self.plan(stack)
            rows = self.store.resources(stack.id)
            principal = self.principal_for(stack)
        except ServiceError as error:
            with self.db.transaction():
                self._finish(stack, "DELETE_FAILED", error.message)
            return
        retain = set(operation.get("retain") or ())
        failures = await self._delete_rows(stack, plan, rows, principal, retain, during="delete")
        with self.db.transaction():
            current = self.store.stack_by_id(stack.id)
            if current is None:
                return
            if failures:
                names = ", ".join(name for name, _ in failures)
                self._finish(
                    current, "DELETE_FAILED", f"The following resource(s) failed to delete: [{names}]. "
                )
                return
            self.store.set_status(current.id, "DELETE_COMPLETE", None)
            self.stack_event(current, "DELETE_COMPLETE")
            self.store.mark_deleted(current.id, self.clock.now())

    async def _delete_rows(
        self,
        stack: Stack,
        plan: Plan,
        rows: list[Resource],
        principal: Principal,
        retain: set[str],
        during: str,
    ) -> list[tuple[str, str]]:
        """Delete the resources of `rows` in reverse dependency order (those kept by DeletionPolicy Retain,
        or named in `retain`, are skipped); rows are kept with DELETE_COMPLETE / DELETE_SKIPPED."""
        by_name = {
            row.logical_id: row for row in rows if row.status not in ("DELETE_COMPLETE", "DELETE_SKIPPED")
        }
        definitions = plan.template.get("Resources") or {}
        operation = stack.operation or {}
        retain_except_on_create = operation.get("retain_except_on_create")

        def delete_one(logical_id: str) -> Step | None:
            row = by_name[logical_id]
            definition = definitions.get(logical_id) or {}
            policy = _policy(definition.get("DeletionPolicy"), plan.scope) or "Delete"
            created_now = row.operation == operation.get("id") and during == "rollback"
            if during == "rollback" and created_now and retain_except_on_create:
                policy = "Delete"
            if logical_id in retain or (
                policy in ("Retain", "RetainExceptOnCreate")
                and not (policy == "RetainExceptOnCreate" and created_now)
            ):
                row.status, row.updated_at = "DELETE_SKIPPED", self.clock.now()
                self.store.put_resource(row)
                self.event(
                    stack, logical_id, row.type, "DELETE_SKIPPED", None, row.physical_id, row.properties
                )
                return None
            return self._delete_step(stack, row, principal)

        graph_plan = Plan(
            plan.template,
            {name: definitions.get(name, {}) for name in by_name},
            {name: plan.graph.get(name, set()) & set(by_name) for name in by_name},
            plan.scope,
            plan.conditions,
        )
        return await self._walk(graph_plan, delete_one, forward=False)

    def _delete_step(
        self, stack: Stack, row: Resource, principal: Principal, *, keep_row: bool = True
    ) -> Step:
        logical_id = row.logical_id
        handler = handler_for(row.type)

        def mark(status: str, reason: str | None = None) -> None:
            if keep_row:
                row.status, row.reason, row.updated_at = status, reason, self.clock.now()
                self.store.put_resource(row)
            self.event(stack, logical_id, row.type, status, reason, row.physical_id, row.properties)

        async def run() -> None:
            if row.physical_id is not None and handler is not None:
                ctx = self.context(stack, logical_id, principal, {"Type": row.type})
                await handler.delete(ctx, row.physical_id, row.properties or {})

        def failed(error: BaseException) -> str:
            reason = reason_of(error)
            mark("DELETE_FAILED", reason)
            return reason

        return Step(
            begin=lambda: mark("DELETE_IN_PROGRESS"),
            run=run,
            done=lambda _: mark("DELETE_COMPLETE"),
            failed=failed,
        )

    async def _delete_resource(
        self, stack: Stack, row: Resource, principal: Principal, *, keep_row: bool = True
    ) -> None:
        """Delete one resource on its own (the cleanups); ResourceFailed when it fails."""
        await self._one(self._delete_step(stack, row, principal, keep_row=keep_row))

    # -- rollback of a create ----------------------------------------------------------------------

    async def _rollback_create(self, stack: Stack) -> None:
        plan = self.plan(stack)
        try:
            principal = self.principal_for(stack)
        except ServiceError:
            with self.db.transaction():
                self._finish(stack, "ROLLBACK_FAILED", "Role is invalid or cannot be assumed")
            return
        failures = await self._delete_rows(
            stack, plan, self.store.resources(stack.id), principal, set(), during="rollback"
        )
        with self.db.transaction():
            current = self.store.stack_by_id(stack.id)
            if current is None:
                return
            if failures:
                names = ", ".join(name for name, _ in failures)
                self._finish(
                    current, "ROLLBACK_FAILED", f"The following resource(s) failed to delete: [{names}]. "
                )
            else:
                self._finish(current, "ROLLBACK_COMPLETE")

    # -- the end of an update ----------------------------------------------------------------------

    async def _cleanup_update(self, stack: Stack) -> None:
        """Delete what the update replaced or removed (UpdateReplacePolicy and DeletionPolicy decide)."""
        plan = self.plan(stack)
        previous = stack.previous or {}
        old_definitions = (previous.get("template") or {}).get("Resources") or {}
        principal = self.principal_for(stack)
        for row in reversed(self.store.resources(stack.id)):  # the newest (dependents) first
            if row.logical_id not in plan.active:
                policy = _policy(
                    (old_definitions.get(row.logical_id) or {}).get("DeletionPolicy"), plan.scope
                )
                if row.status not in ("DELETE_COMPLETE", "DELETE_SKIPPED") and policy not in (
                    "Retain",
                    "RetainExceptOnCreate",
                ):
                    try:
                        await self._delete_resource(stack, row, principal, keep_row=False)
                    except ResourceFailed:
                        pass  # a failed cleanup leaves the resource behind; the update stands
                elif row.status not in ("DELETE_COMPLETE", "DELETE_SKIPPED"):
                    with self.db.transaction():
                        self.event(stack, row.logical_id, row.type, "DELETE_SKIPPED", None, row.physical_id)
                with self.db.transaction():
                    self.store.delete_resource(stack.id, row.logical_id)
                continue
            prior = row.prior
            if (
                prior
                and not prior.get("absent")
                and prior.get("physical_id")
                and prior["physical_id"] != row.physical_id
            ):
                policy = _policy((plan.active[row.logical_id]).get("UpdateReplacePolicy"), plan.scope)
                old = Resource(
                    stack.id,
                    row.logical_id,
                    prior.get("type", row.type),
                    prior["physical_id"],
                    "UPDATE_COMPLETE",
                    None,
                    prior.get("properties"),
                    prior.get("attributes") or {},
                    self.clock.now(),
                    None,
                    None,
                    None,
                )
                if policy == "Retain":
                    with self.db.transaction():
                        self.event(stack, row.logical_id, old.type, "DELETE_SKIPPED", None, old.physical_id)
                else:
                    try:
                        await self._delete_resource(stack, old, principal, keep_row=False)
                    except ResourceFailed:
                        pass
            if prior is not None:
                with self.db.transaction():
                    row.prior = None
                    self.store.put_resource(row)
        with self.db.transaction():
            current = self.store.stack_by_id(stack.id)
            if current is not None:
                self._finish(current, "UPDATE_COMPLETE")

    # -- rollback of an update ---------------------------------------------------------------------

    async def _rollback_update(self, stack: Stack) -> None:
        """Put back the resources the update touched, in the previous template's dependency order."""
        previous = stack.previous or {}
        template = previous.get("template") or stack.template
        bound = [
            Bound.load(item) for item in previous.get("parameters", stack.settings.get("parameters", []))
        ]
        with self.db.transaction():
            self.store.set_template(stack.id, template, previous.get("original", stack.original), previous)
            settings = {**stack.settings, "parameters": [item.stored() for item in bound]}
            self.store.set_settings(stack.id, settings)
        stack = self.store.stack_by_id(stack.id) or stack
        plan = self.plan(stack, template, bound)
        principal = self.principal_for(stack)
        operation_id = (stack.operation or {}).get("id")
        rows = {row.logical_id: row for row in self.store.resources(stack.id)}
        touched = [
            name
            for name, row in rows.items()
            if row.operation == operation_id
            and row.prior
            and not row.prior.get("absent")
            and name in plan.active
        ]
        failures = await self._walk(
            plan, lambda name: self._restore(stack, rows[name], principal), forward=True, names=touched
        )
        with self.db.transaction():
            current = self.store.stack_by_id(stack.id)
            if current is None:
                return
            if failures:
                names = ", ".join(name for name, _ in failures)
                self._finish(
                    current,
                    "UPDATE_ROLLBACK_FAILED",
                    f"The following resource(s) failed to update: [{names}]. ",
                )
                return
            self.store.set_outputs(current.id, previous.get("outputs", current.outputs))
            for name, value in (previous.get("exports") or {}).items():
                self.store.put_export(current.account, current.region, name, value, current.id)
            status = (
                "IMPORT_ROLLBACK_COMPLETE"
                if stack.status == "IMPORT_ROLLBACK_IN_PROGRESS"
                else "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"
            )
            self.store.set_status(current.id, status, None, self.clock.now())
            self.stack_event(current, status)
            if status == "IMPORT_ROLLBACK_COMPLETE":
                self.store.set_operation(current.id, None)

    def _restore(self, stack: Stack, row: Resource, principal: Principal) -> Step:
        prior = row.prior or {}
        handler = handler_for(prior.get("type", row.type))
        replaced = prior.get("physical_id") != row.physical_id

        def begin() -> None:
            self.event(
                stack,
                row.logical_id,
                row.type,
                "UPDATE_IN_PROGRESS",
                None,
                prior.get("physical_id"),
                prior.get("properties"),
            )

        async def run() -> None:
            if not replaced and handler is not None and row.properties != prior.get("properties"):
                ctx = self.context(stack, row.logical_id, principal, {"Type": row.type})
                await handler.update(
                    ctx, row.physical_id, prior.get("properties") or {}, row.properties or {}, row.attributes
                )

        def done(_: Any) -> None:
            discarded = row.physical_id if replaced else None
            restored = Resource(
                stack.id,
                row.logical_id,
                prior.get("type", row.type),
                prior.get("physical_id"),
                "UPDATE_COMPLETE",
                None,
                prior.get("properties"),
                prior.get("attributes") or {},
                self.clock.now(),
                row.operation,
                None,
                {"discard": {"physical_id": discarded, "type": row.type, "properties": row.properties}}
                if discarded
                else None,
            )
            self.store.put_resource(restored)
            self.event(
                stack,
                row.logical_id,
                restored.type,
                "UPDATE_COMPLETE",
                None,
                restored.physical_id,
                restored.properties,
            )

        def failed(error: BaseException) -> str:
            reason = reason_of(error)
            self.event(stack, row.logical_id, row.type, "UPDATE_FAILED", reason, row.physical_id)
            return reason

        return Step(begin=begin, run=run, done=done, failed=failed)

    async def _cleanup_rollback(self, stack: Stack) -> None:
        """Delete what the failed update created: new resources, and the replacements it made."""
        principal = self.principal_for(stack)
        plan = self.plan(stack)
        operation_id = (stack.operation or {}).get("id")
        for row in reversed(self.store.resources(stack.id)):  # the newest (dependents) first
            discard = (row.pending or {}).get("discard")
            if discard:
                old = Resource(
                    stack.id,
                    row.logical_id,
                    discard["type"],
                    discard["physical_id"],
                    "UPDATE_COMPLETE",
                    None,
                    discard.get("properties"),
                    {},
                    self.clock.now(),
                    None,
                    None,
                    None,
                )
                try:
                    await self._delete_resource(stack, old, principal, keep_row=False)
                except ResourceFailed:
                    pass
                with self.db.transaction():
                    row.pending = None
                    self.store.put_resource(row)
            elif (
                row.operation == operation_id
                and (row.prior or {}).get("absent")
                or (row.logical_id not in plan.active and row.operation == operation_id)
            ):
                if row.physical_id is not None and row.status not in ("DELETE_COMPLETE",):
                    try:
                        await self._delete_resource(stack, row, principal, keep_row=False)
                    except ResourceFailed:
                        pass
                with self.db.transaction():
                    self.store.delete_resource(stack.id, row.logical_id)
            elif row.prior is not None:
                with self.db.transaction():
                    row.prior = None
                    self.store.put_resource(row)
        with self.db.transaction():
            current = self.store.stack_by_id(stack.id)
            if current is not None:
                self._finish(current, "UPDATE_ROLLBACK_COMPLETE")


class Nesting:
    """What a nested stack's handler needs of the engine: marking a stack as its parent's child, and waiting
    for a child's operation to end."""

    def __init__(self, engine: Engine, parent: Stack) -> None:
        self.engine = engine
        self.parent = parent

    def adopt(self, arn: str) -> None:
        with self.engine.db.transaction():
            self.engine.store.set_parent(arn, self.parent.arn, self.parent.root_arn or self.parent.arn)

    async def settle(self, arn: str) -> dict[str, Any]:
        from overcast.services.cloudformation.stacks import StackOperations

        while True:
            child = self.engine.store.stack_by_arn(arn)
            if child is None:
                raise ResourceFailed("", f"Stack {arn} does not exist")
            if child.operation is None:
                return self.engine.service.family(StackOperations).describe(child)
            await asyncio.sleep(0.02)


_FAILED_STATES = {
    "CREATE_FAILED",
    "ROLLBACK_FAILED",
    "DELETE_FAILED",
    "UPDATE_FAILED",
    "UPDATE_ROLLBACK_FAILED",
}


def _state(row: Resource) -> dict[str, Any]:
    return {
        "physical_id": row.physical_id,
        "properties": row.properties,
        "attributes": row.attributes,
        "type": row.type,
        "status": row.status,
    }


def _policy(value: Any, scope: Scope) -> str | None:
    if value is None:
        return None
    try:
        resolved = resolve(value, scope)
    except ServiceError:
        return None
    return resolved if isinstance(resolved, str) else None


def _output_text(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(_output_text(item) for item in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is UNKNOWN:
        return ""
    return str(value)


def _unsupported(kind: str) -> str:
    return f"Resource type {kind} is not supported by Overcast"


def _accepts_attribute(handler: ResourceHandler, kind: str, attribute: str) -> bool:
    if kind.startswith("Custom::") or kind in ("AWS::CloudFormation::CustomResource", STACK_TYPE):
        return True
    if not handler.attributes:
        return False
    return attribute in handler.attributes or any(
        name.endswith("*") and attribute.startswith(name[:-1]) for name in handler.attributes
    )


def _check_required(handler: ResourceHandler, properties: dict[str, Any]) -> None:
    missing = [name for name in handler.required if name not in properties]
    if missing:
        raise HandlerError(
            f"Properties validation failed for resource with message: #: required key [{missing[0]}] not found",
            "InvalidRequest",
        )


async def dynamic_reference(ctx: ResourceContext, kind: str, reference: str) -> str:
    """The value a dynamic reference names, read through SSM or Secrets Manager."""
    if kind in ("ssm", "ssm-secure"):
        name, _, version = reference.partition(":")
        params: dict[str, Any] = {"Name": f"{name}:{version}" if version else name}
        if kind == "ssm-secure":
            params["WithDecryption"] = True
        try:
            found = await ctx.call("ssm", "GetParameter", params)
        except ServiceError as error:
            if error.code == "ParameterNotFound":
                raise HandlerError(f"Parameter {name} does not exist", "NotFound") from None
            raise
        return found["Parameter"]["Value"]
    parts = reference.split(":")
    if reference.startswith("arn:"):
        secret, rest = ":".join(parts[:7]), parts[7:]
    else:
        secret, rest = parts[0], parts[1:]
    rest += [""] * (4 - len(rest))
    _, json_key, stage, version = rest[:4]
    params = {"SecretId": secret}
    if stage:
        params["VersionStage"] = stage
    if version:
        params["VersionId"] = version
    value = (await ctx.call("secretsmanager", "GetSecretValue", params)).get("SecretString", "")
    if json_key:
        try:
            value = json.loads(value)[json_key]
        except (ValueError, KeyError, TypeError):
            raise HandlerError(f"Could not find SecretString key {json_key} in secret {secret}") from None
        value = value if isinstance(value, str) else json.dumps(value)
    return value
