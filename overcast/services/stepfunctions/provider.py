"""Step Functions: composition, the helpers its families share, and the engine's worker."""

from __future__ import annotations

import asyncio
from typing import Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.identity import Principal
from overcast.services.base import ServiceProvider
from overcast.services.kit import roles
from overcast.services.kit.arns import parse_arn
from overcast.services.stepfunctions.activities import ActivityOperations
from overcast.services.stepfunctions.common import invalid_arn, iso_date, machine_missing
from overcast.services.stepfunctions.distributed import DistributedMap
from overcast.services.stepfunctions.executions import ExecutionOperations
from overcast.services.stepfunctions.logging_delivery import LogShipper
from overcast.services.stepfunctions.machines import MachineOperations
from overcast.services.stepfunctions.store import Alias, Execution, Machine, StepFunctionsStore, Version
from overcast.services.stepfunctions.workers import Engine


class StepFunctionsProvider(ServiceProvider):
    service_name = "stepfunctions"
    families = (MachineOperations, ExecutionOperations, ActivityOperations)

    def tagging_request(self, arn: str, add=None, remove=None) -> tuple[str, dict[str, Any]] | None:
        """TagResource / UntagResource of a state machine or activity (the Tagging API's road)."""
        if add is not None:
            tags = [{"key": k, "value": v} for k, v in add.items()]
            return "TagResource", {"resourceArn": arn, "tags": tags}
        return "UntagResource", {"resourceArn": arn, "tagKeys": list(remove or ())}

    def __init__(self, platform: Any) -> None:
        super().__init__(platform)
        self.store = StepFunctionsStore(self.db)
        self.engine = Engine(self)
        self.distributed = DistributedMap(self)
        self.logs = LogShipper(self)
        self._activity_events: dict[str, asyncio.Event] = {}

    async def start(self) -> None:
        self.platform.spawn(self.engine.run())
        self.platform.spawn(self.logs.run())

    def reset(self) -> None:
        self.store.forget()
        self.engine.reset()
        for event in self._activity_events.values():
            event.set()
        self._activity_events.clear()

    # -- resources -----------------------------------------------------------------------------------------

    def parse_arn(self, ctx: RequestContext, arn: str, kinds: tuple[str, ...]) -> Any:
        """The ARN, checked to be a Step Functions ARN of one of `kinds` (stateMachine, execution, ...)."""
        parsed = parse_arn(arn)
        if parsed is None or parsed.service != "states":
            raise invalid_arn(arn, f"Invalid ARN prefix: {arn}" if parsed is None else None)
        kind = parsed.resource.split(":", 1)[0]
        if kind not in kinds:
            raise invalid_arn(arn, f"Resource type not valid in this context: {kind}")
        return parsed

    def resolve(self, ctx: RequestContext, arn: str) -> tuple[Machine, Version | None, Alias | None]:
        """A state machine ARN, or one of its versions or aliases: the machine and what was named."""
        parsed = self.parse_arn(ctx, arn, ("stateMachine",))
        parts = parsed.resource.split(":")
        if len(parts) > 3:
            raise invalid_arn(arn)
        base = f"arn:{parsed.partition}:states:{parsed.region}:{parsed.account}:stateMachine:{parts[1]}"
        machine = self.store.machine(base)
        if machine is None or (parsed.account, parsed.region) != (ctx.account_id, ctx.region):
            raise machine_missing(arn)
        if len(parts) == 2:
            return machine, None, None
        qualifier = parts[2]
        if qualifier.isdigit():
            version = self.store.version(arn)
            if version is None:
                raise machine_missing(arn)
            return machine, version, None
        alias = self.store.alias(arn)
        if alias is None:
            raise ServiceError("ResourceNotFound", f"Resource not found: '{arn}'", 400)
        return machine, None, alias

    # -- roles -----------------------------------------------------------------------------------------------

    async def assume_role(self, account: str, region: str, role_arn: str) -> Principal:
        """The session Step Functions acts in for a state machine: STS AssumeRole as states.amazonaws.com,
        so the role's trust policy decides (services/kit/roles.py)."""
        return await roles.session(
            self.platform,
            role_arn,
            "states.amazonaws.com",
            account,
            region,
            "overcast-stepfunctions",
            lenient=False,
        )

    async def check_role(self, ctx: RequestContext, role_arn: str) -> None:
        """AWS refuses a role Step Functions cannot assume (missing, or not trusting states.amazonaws.com).
        Overcast does under `--iam enforce`; in `off` and `soft` modes a made-up role is accepted (tasks then
        run as the account), so scripts that never create the role keep working — as Lambda does."""
        parsed = parse_arn(role_arn)
        if parsed is None or parsed.service != "iam" or not parsed.resource.startswith("role/"):
            raise invalid_arn(role_arn, f"Invalid Role Arn: {role_arn}" if parsed is None else None)
        if self.platform.config.iam != "enforce":
            return
        try:
            await self.assume_role(ctx.account_id, ctx.region, role_arn)
        except ServiceError:
            raise ServiceError(
                "AccessDeniedException",
                "Neither the global service principal states.amazonaws.com, nor the regional one is authorized "
                "to assume the provided role.",
                400,
            ) from None

    # -- activities ------------------------------------------------------------------------------------------

    def activity_event(self, arn: str) -> asyncio.Event:
        event = self._activity_events.get(arn)
        if event is None:
            event = self._activity_events[arn] = asyncio.Event()
        return event

    def activity_waiting(self, arn: str) -> None:
        """A task was queued for an activity: wake the workers polling it (after the commit)."""
        event = self._activity_events.get(arn)
        if event is not None:
            self.db.after_commit(event.set)

    # -- nested executions -------------------------------------------------------------------------------------

    def watch_child(self, execution_arn: str, token: str) -> None:
        """A `.sync` task started `execution_arn`: its end completes the task (inside a transaction)."""
        child = self.store.execution(execution_arn)
        if child is None:
            return
        self.store.set_parent_token(child.id, token)
        if child.status != "RUNNING":
            from overcast.services.stepfunctions.failures import StatesError

            error = StatesError(child.error or "States.TaskFailed", child.cause) if child.error else None
            child.parent_token = token
            self.engine.complete_parent(child, child.status, child.output, error)

    def describe_execution_shape(self, execution: Execution) -> dict[str, Any]:
        """DescribeExecution's answer for an execution."""
        result: dict[str, Any] = {
            "executionArn": execution.arn,
            "stateMachineArn": execution.machine_arn,
            "name": execution.name,
            "status": execution.status,
            "startDate": iso_date(execution.started_at),
            "input": execution.input,
            "inputDetails": {"included": True},
            "redriveCount": execution.redrive_count,
        }
        if execution.stopped_at is not None:
            result["stopDate"] = iso_date(execution.stopped_at)
        if execution.status == "SUCCEEDED":
            result["output"] = execution.output
            result["outputDetails"] = {"included": True}
        if execution.error is not None:
            result["error"] = execution.error
        if execution.cause is not None:
            result["cause"] = execution.cause
        if execution.trace_header:
            result["traceHeader"] = execution.trace_header
        if execution.version_arn:
            result["stateMachineVersionArn"] = execution.version_arn
        if execution.alias_arn:
            result["stateMachineAliasArn"] = execution.alias_arn
        if execution.map_run_arn:
            result["mapRunArn"] = execution.map_run_arn
        if execution.redriven_at is not None:
            result["redriveDate"] = iso_date(execution.redriven_at)
        status, reason = self.redrive_status(execution)
        result["redriveStatus"] = status
        if reason:
            result["redriveStatusReason"] = reason
        return result

    def redrive_status(self, execution: Execution) -> tuple[str, str | None]:
        if execution.status == "RUNNING":
            return "NOT_REDRIVABLE", "Execution is RUNNING and cannot be redriven"
        if execution.status == "SUCCEEDED":
            return "NOT_REDRIVABLE", "Execution is SUCCEEDED and cannot be redriven"
        if execution.stopped_at is not None and self.clock.now() - execution.stopped_at > 14 * 86400:
            return "NOT_REDRIVABLE", "Execution redrive period has expired"
        if not execution.details.get("redrive"):
            return "NOT_REDRIVABLE", "Execution cannot be redriven"
        return "REDRIVABLE", None
