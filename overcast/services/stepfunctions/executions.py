"""Executions: starting them (Standard, Express, synchronous Express), reading them and their history,
stopping and redriving them, map runs, and TestState."""

from __future__ import annotations

import json
import random
import uuid
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.kit.paging import decode_token, page_of
from overcast.services.stepfunctions import testing
from overcast.services.stepfunctions.common import (
    check_name,
    execution_missing,
    invalid_arn,
    invalid_token,
    iso_date,
)
from overcast.services.stepfunctions.failures import StatesError
from overcast.services.stepfunctions.store import Execution

if TYPE_CHECKING:
    from overcast.services.stepfunctions.provider import StepFunctionsProvider

EXPRESS_TIMEOUT = 300  # Express executions run at most five minutes
MAX_INPUT = 256 * 1024


class ExecutionOperations(Operations):
    service: StepFunctionsProvider

    # -- starting --------------------------------------------------------------------------------------------

    def start_execution(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        execution = self._start(ctx, params, sync=False)
        return {"executionArn": execution.arn, "startDate": iso_date(execution.started_at)}

    async def start_sync_execution(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        engine = self.service.engine
        with self.db.transaction():
            execution = self._start(ctx, params, sync=True)
            thread_id = self.service.store.root_thread(execution.id).id  # type: ignore[union-attr]
        with self.db.transaction():
            engine.step(thread_id)  # a machine of pure states ends right here
            done = self.service.store.execution_by_id(execution.id)
        if done is not None and done.status == "RUNNING":
            await engine.finished(execution.id)
        with self.db.transaction():
            done = self.service.store.execution_by_id(execution.id)
            if done is None:  # the store was reset meanwhile
                raise execution_missing(execution.arn)
            self.service.store.delete_execution(done.id)
        result: dict[str, Any] = {
            "executionArn": done.arn,
            "stateMachineArn": done.machine_arn,
            "name": done.name,
            "startDate": iso_date(done.started_at),
            "stopDate": iso_date(done.stopped_at),
            "status": done.status if done.status in ("SUCCEEDED", "FAILED") else "TIMED_OUT",
            "input": done.input,
            "inputDetails": {"included": True},
            "billingDetails": {
                "billedMemoryUsedInMB": 64,
                "billedDurationInMilliseconds": max(
                    100, int(((done.stopped_at or 0) - done.started_at) * 1000)
                ),
            },
        }
        if done.status == "SUCCEEDED":
            result["output"] = done.output
            result["outputDetails"] = {"included": True}
        if done.error is not None:
            result["error"] = done.error
        if done.cause is not None:
            result["cause"] = done.cause
        if done.trace_header:
            result["traceHeader"] = done.trace_header
        return result

    def _start(self, ctx: RequestContext, params: dict[str, Any], sync: bool) -> Execution:
        store = self.service.store
        machine, version, alias = self.service.resolve(ctx, params["stateMachineArn"])
        if sync and machine.type != "EXPRESS":
            raise ServiceError(
                "StateMachineTypeNotSupported",
                "This operation is not supported by this type of state machine",
                400,
            )
        if alias is not None:  # an alias routes to one of its versions by weight
            chosen = random.choices(alias.routing, weights=[r["weight"] for r in alias.routing])[0]
            version = store.version(chosen["stateMachineVersionArn"])
            if version is None:
                raise ServiceError(
                    "StateMachineDoesNotExist", f"State Machine Does Not Exist: '{chosen}'", 400
                )
        name = params.get("name") or str(uuid.uuid4())
        check_name(name)
        text = params.get("input")
        text = "{}" if text is None else text
        data = _input(text)
        now = self.clock.now()
        express = machine.type == "EXPRESS"
        arn = (
            f"arn:aws:states:{ctx.region}:{ctx.account_id}:express:{machine.name}:{name}:{uuid.uuid4()}"
            if express
            else f"arn:aws:states:{ctx.region}:{ctx.account_id}:execution:{machine.name}:{name}"
        )
        if not express:
            existing = store.execution(arn)
            if existing is not None:
                if existing.status == "RUNNING" and existing.input == text:
                    return existing  # the same request again: the same execution (idempotent by name)
                raise ServiceError("ExecutionAlreadyExists", f"Execution Already Exists: '{arn}'", 400)
        definition_id = version.definition_id if version else machine.definition_id
        timeout = self.service.engine.definition(definition_id).timeout_seconds
        if express:
            timeout = min(timeout or EXPRESS_TIMEOUT, EXPRESS_TIMEOUT)
        execution = Execution(
            0,
            ctx.account_id,
            ctx.region,
            arn,
            machine.arn,
            version.arn if version else None,
            alias.arn if alias else None,
            name,
            machine.type,
            "RUNNING",
            definition_id,
            version.role_arn if version else machine.role_arn,
            text,
            None,
            None,
            None,
            now,
            None,
            now + timeout if timeout else None,
            params.get("traceHeader"),
            0,
            0,
            None,
            None,
            None,
            _details(version.logging if version else machine.logging, sync),
        )
        execution.id = store.add_execution(execution)
        self.service.engine.begin(execution, data, run_now=not sync)
        return execution

    # -- reading ---------------------------------------------------------------------------------------------

    def _execution(self, ctx: RequestContext, arn: str) -> Execution:
        parsed = self.service.parse_arn(ctx, arn, ("execution", "express"))
        if parsed.resource.startswith("express:"):
            raise invalid_arn(arn, "Resource type not valid in this context: express")
        execution = self.service.store.execution(arn)
        if execution is None or (execution.account, execution.region) != (ctx.account_id, ctx.region):
            raise execution_missing(arn)
        return execution

    def describe_execution(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        execution = self._execution(ctx, params["executionArn"])
        return self.service.describe_execution_shape(execution)

    def describe_state_machine_for_execution(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        execution = self._execution(ctx, params["executionArn"])
        store = self.service.store
        machine = store.machine(execution.machine_arn)
        version = store.version(execution.version_arn) if execution.version_arn else None
        source: Any = version or machine
        result: dict[str, Any] = {
            "stateMachineArn": execution.machine_arn,
            "name": execution.machine_arn.split(":")[6],
            "definition": store.definition_text(execution.definition_id),
            "roleArn": execution.role_arn,
            "updateDate": iso_date(
                (machine.updated_at or machine.created_at) if machine else execution.started_at
            ),
        }
        if source is not None:
            result["loggingConfiguration"] = source.logging
            result["tracingConfiguration"] = source.tracing
            result["revisionId"] = source.revision_id
            result["encryptionConfiguration"] = source.encryption
        if execution.map_run_arn:
            result["mapRunArn"] = execution.map_run_arn
            result["label"] = execution.map_run_arn.split("/")[-1].split(":")[0]
        return result

    def get_execution_history(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        execution = self._execution(ctx, params["executionArn"])
        limit = params.get("maxResults") or 100
        reverse = bool(params.get("reverseOrder"))
        scope = f"history:{execution.arn}:{reverse}"
        position = decode_token(params.get("nextToken"), invalid_token, scope)
        after = position if position is not None else (1 << 62 if reverse else 0)
        rows = self.service.store.events(execution.id, after, limit + 1, reverse)
        page, token = page_of(rows, limit, lambda e: e[0], scope)
        include = params.get("includeExecutionData", True)
        events = []
        for event_id, kind, moment, previous, details in page:
            event: dict[str, Any] = {
                "timestamp": iso_date(moment),
                "type": kind,
                "id": event_id,
                "previousEventId": previous,
            }
            if details:
                if not include:
                    details = _without_data(details)
                event.update(details)
            events.append(event)
        result: dict[str, Any] = {"events": events}
        if token:
            result["nextToken"] = token
        return result

    def list_executions(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        store = self.service.store
        if params.get("mapRunArn") and params.get("stateMachineArn"):
            raise ServiceError(
                "ValidationException", "Either stateMachineArn or mapRunArn must be specified, not both", 400
            )
        version_arn = alias_arn = None
        if params.get("mapRunArn"):
            run = store.map_run(params["mapRunArn"])
            if run is None:
                raise ServiceError("ResourceNotFound", f"Resource not found: '{params['mapRunArn']}'", 400)
            arns: list[str] = []
            scope = f"executions:{params['mapRunArn']}"
        elif params.get("stateMachineArn"):
            machine, version, alias = self.service.resolve(ctx, params["stateMachineArn"])
            if machine.type == "EXPRESS":
                raise ServiceError(
                    "StateMachineTypeNotSupported",
                    "This operation is not supported by this type of state machine",
                    400,
                )
            arns = [machine.arn]
            version_arn = version.arn if version else None
            alias_arn = alias.arn if alias else None
            scope = f"executions:{params['stateMachineArn']}"
        else:
            raise ServiceError("ValidationException", "Must provide a StateMachine ARN or MapRun ARN", 400)
        status = params.get("statusFilter")
        scope += f":{status}:{params.get('redriveFilter')}"
        limit = params.get("maxResults") or 100
        after = decode_token(params.get("nextToken"), invalid_token, scope)
        rows = store.executions(
            arns, status, params.get("mapRunArn"), after, limit + 1, version_arn, alias_arn
        )
        redrive = params.get("redriveFilter")
        if redrive == "REDRIVEN":
            rows = [r for r in rows if r.redrive_count > 0]
        elif redrive == "NOT_REDRIVEN":
            rows = [r for r in rows if r.redrive_count == 0]
        page, token = page_of(rows, limit, lambda e: e.id, scope)
        result: dict[str, Any] = {"executions": [_list_item(e) for e in page]}
        if token:
            result["nextToken"] = token
        return result

    # -- stopping and redriving ------------------------------------------------------------------------------

    def stop_execution(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        execution = self._execution(ctx, params["executionArn"])
        if execution.status != "RUNNING":
            return {"stopDate": iso_date(execution.stopped_at)}
        error = StatesError(params.get("error") or "", params.get("cause"))
        has = params.get("error") is not None or params.get("cause") is not None
        self.service.engine.stop(
            execution, "ABORTED", "ExecutionAborted", "executionAbortedEventDetails", error if has else None
        )
        done = self.service.store.execution_by_id(execution.id)
        return {"stopDate": iso_date(done.stopped_at if done else self.clock.now())}

    def redrive_execution(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        execution = self._execution(ctx, params["executionArn"])
        status, reason = self.service.redrive_status(execution)
        if status != "REDRIVABLE":
            raise ServiceError("ExecutionNotRedrivable", reason or "Execution cannot be redriven", 400)
        point = execution.details["redrive"]
        now = self.clock.now()
        timeout = self.service.engine.definition(execution.definition_id).timeout_seconds
        self.service.store.redrive_execution(execution.id, now, now + timeout if timeout else None)
        execution.redrive_count += 1
        engine = self.service.engine
        first = engine.event(
            execution,
            "ExecutionRedriven",
            execution.last_event,
            "executionRedrivenEventDetails",
            {"redriveCount": execution.redrive_count},
        )
        self.service.store.add_thread(
            execution.id,
            None,
            0,
            (),
            point["state"],
            point["input"],
            point.get("variables") or {},
            now,
            first,
        )
        self.db.after_commit(engine.wake)
        return {"redriveDate": iso_date(now)}

    # -- map runs --------------------------------------------------------------------------------------------

    def describe_map_run(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self.service.distributed.describe(ctx, params["mapRunArn"])

    def list_map_runs(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        execution = self._execution(ctx, params["executionArn"])
        limit = params.get("maxResults") or 100
        scope = f"mapruns:{execution.arn}"
        after = decode_token(params.get("nextToken"), invalid_token, scope) or ""
        rows = self.service.store.map_runs(execution.arn, after, limit + 1)
        page, token = page_of(rows, limit, lambda r: r["arn"], scope)
        result: dict[str, Any] = {
            "mapRuns": [
                {
                    "executionArn": r["execution_arn"],
                    "mapRunArn": r["arn"],
                    "stateMachineArn": execution.machine_arn,
                    "startDate": iso_date(r["started_at"]),
                    **({"stopDate": iso_date(r["stopped_at"])} if r["stopped_at"] else {}),
                }
                for r in page
            ]
        }
        if token:
            result["nextToken"] = token
        return result

    def update_map_run(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self.service.distributed.update(ctx, params)

    # -- TestState -------------------------------------------------------------------------------------------

    async def test_state(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return await testing.test_state(self.service, ctx, params)


def _details(logging: dict[str, Any], sync: bool) -> dict[str, Any]:
    """What an execution keeps of its start: its machine's logging configuration, whether a request waits."""
    details: dict[str, Any] = {}
    if logging.get("level", "OFF") != "OFF":
        details["logging"] = logging
    if sync:
        details["sync"] = True
    return details


def _input(text: str) -> Any:
    if len(text.encode()) > MAX_INPUT:
        raise ServiceError(
            "InvalidExecutionInput",
            f"Invalid State Machine Execution Input: 'The input exceeds the maximum size of {MAX_INPUT} bytes'",
            400,
        )
    try:
        return json.loads(text)
    except ValueError as error:
        raise ServiceError(
            "InvalidExecutionInput", f"Invalid State Machine Execution Input: '{error}'", 400
        ) from None


def _list_item(execution: Execution) -> dict[str, Any]:
    item: dict[str, Any] = {
        "executionArn": execution.arn,
        "stateMachineArn": execution.machine_arn,
        "name": execution.name,
        "status": execution.status,
        "startDate": iso_date(execution.started_at),
        "redriveCount": execution.redrive_count,
    }
    if execution.stopped_at is not None:
        item["stopDate"] = iso_date(execution.stopped_at)
    if execution.version_arn:
        item["stateMachineVersionArn"] = execution.version_arn
    if execution.alias_arn:
        item["stateMachineAliasArn"] = execution.alias_arn
    if execution.map_run_arn:
        item["mapRunArn"] = execution.map_run_arn
    if execution.redriven_at is not None:
        item["redriveDate"] = iso_date(execution.redriven_at)
    return item


_DATA_FIELDS = ("input", "output", "parameters", "assignedVariables")


def _without_data(details: dict[str, Any]) -> dict[str, Any]:
    """History details without the execution data (includeExecutionData false)."""
    return {
        key: {k: v for k, v in value.items() if k not in _DATA_FIELDS and not k.endswith("Details")}
        if isinstance(value, dict)
        else value
        for key, value in details.items()
    }
