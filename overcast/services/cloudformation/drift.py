"""Drift detection: each resource's live properties (read through its service) against what the stack set."""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.cloudformation.resources import handler_for
from overcast.services.cloudformation.resources.base import HandlerError, ResourceHandler
from overcast.services.cloudformation.stacks import iso
from overcast.services.cloudformation.store import Resource, Stack

if TYPE_CHECKING:
    from overcast.services.cloudformation.provider import CloudFormationProvider

CHECKABLE = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"}


def validation_error(message: str) -> ServiceError:
    return ServiceError("ValidationError", message, 400)


def _normal(value: Any) -> Any:
    """Values as compared: numbers and booleans as their text, JSON documents as objects."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return _normal(json.loads(value))
        except ValueError:
            return value
    if isinstance(value, dict):
        return {key: _normal(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_normal(item) for item in value]
    return value


def differences(expected: dict[str, Any], actual: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for key, value in expected.items():
        if key not in actual:
            found.append(
                {
                    "PropertyPath": f"/{key}",
                    "ExpectedValue": json.dumps(value),
                    "ActualValue": "null",
                    "DifferenceType": "REMOVE",
                }
            )
        elif _normal(value) != _normal(actual[key]):
            found.append(
                {
                    "PropertyPath": f"/{key}",
                    "ExpectedValue": json.dumps(value),
                    "ActualValue": json.dumps(actual[key]),
                    "DifferenceType": "NOT_EQUAL",
                }
            )
    return found


class DriftOperations(Operations):
    service: CloudFormationProvider

    async def detect_stack_drift(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service = self.service
        with self.db.transaction():
            stack = service.find_stack(ctx, params["StackName"], deleted=False)
        if stack.operation is not None:
            raise validation_error(
                f"Drift detection cannot be performed on stack {stack.name} in status {stack.status}"
            )
        wanted = set(params.get("LogicalResourceIds") or [])
        with self.db.transaction():
            rows = [
                row for row in service.store.resources(stack.id) if not wanted or row.logical_id in wanted
            ]
        drifted = 0
        for row in rows:
            drift = await self.check(stack, row)
            if drift["status"] in ("MODIFIED", "DELETED"):
                drifted += 1
        detection = str(uuid.uuid4())
        with self.db.transaction():
            current = service.store.stack_by_id(stack.id)
            assert current is not None
            settings = {
                **current.settings,
                "drift": {
                    "id": detection,
                    "status": "DRIFTED" if drifted else "IN_SYNC",
                    "at": self.clock.now(),
                    "drifted": drifted,
                },
            }
            service.store.set_settings(stack.id, settings)
        return {"StackDriftDetectionId": detection}

    async def check(self, stack: Stack, row: Resource) -> dict[str, Any]:
        """Read one resource and record its drift."""
        handler = handler_for(row.type)
        now = self.clock.now()
        drift: dict[str, Any] = {"status": "NOT_CHECKED", "at": now}
        if handler is not None and row.status in CHECKABLE and row.physical_id and _reads(handler):
            ctx = self.service.engine.context(stack, row.logical_id, self.service.engine.principal_for(stack))
            try:
                actual = await handler.read(ctx, row.physical_id, row.properties or {})
            except (ServiceError, HandlerError):
                actual = None
                drift["status"] = "UNKNOWN"
            else:
                expected = row.properties or {}
                if actual is None:
                    drift.update(status="DELETED", expected=expected)
                else:
                    found = differences(expected, actual)
                    drift.update(
                        status="MODIFIED" if found else "IN_SYNC",
                        expected=expected,
                        actual={key: actual.get(key) for key in set(expected) | set(actual)},
                        differences=found,
                    )
        with self.db.transaction():
            current = self.service.store.resource(row.stack_id, row.logical_id)
            if current is not None:
                current.drift = drift
                self.service.store.put_resource(current)
        return drift

    def describe_stack_drift_detection_status(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        detection = params["StackDriftDetectionId"]
        for stack in self.service.store.stacks(ctx.account_id, ctx.region, 0, 10_000, live_only=True):
            drift = stack.settings.get("drift") or {}
            if drift.get("id") == detection:
                result = {
                    "StackId": stack.arn,
                    "StackDriftDetectionId": detection,
                    "StackDriftStatus": drift["status"],
                    "DetectionStatus": "DETECTION_COMPLETE",
                    "DriftedStackResourceCount": drift.get("drifted", 0),
                    "Timestamp": iso(drift["at"]),
                }
                return result
        raise validation_error(f"Drift detection with id {detection} does not exist")

    def describe_stack_resource_drifts(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stack = self.service.find_stack(ctx, params["StackName"])
        filters = set(params.get("StackResourceDriftStatusFilters") or [])
        drifts = []
        for row in self.service.store.resources(stack.id):
            if row.drift is None:
                continue
            if filters and row.drift["status"] not in filters:
                continue
            drifts.append(self.drift_view(stack, row))
        return {"StackResourceDrifts": drifts}

    async def detect_stack_resource_drift(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        with self.db.transaction():
            stack = self.service.find_stack(ctx, params["StackName"], deleted=False)
            row = self.service.store.resource(stack.id, params["LogicalResourceId"])
        if row is None:
            raise validation_error(
                f"Resource {params['LogicalResourceId']} does not exist for stack {stack.name}"
            )
        await self.check(stack, row)
        with self.db.transaction():
            row = self.service.store.resource(stack.id, params["LogicalResourceId"])
        assert row is not None
        return {"StackResourceDrift": self.drift_view(stack, row)}

    @staticmethod
    def drift_view(stack: Stack, row: Resource) -> dict[str, Any]:
        drift = row.drift or {}
        view: dict[str, Any] = {
            "StackId": stack.arn,
            "LogicalResourceId": row.logical_id,
            "ResourceType": row.type,
        }
        if row.physical_id:
            view["PhysicalResourceId"] = row.physical_id
        if "expected" in drift:
            view["ExpectedProperties"] = json.dumps(drift["expected"])
        if "actual" in drift:
            view["ActualProperties"] = json.dumps(drift["actual"])
        if "differences" in drift:
            view["PropertyDifferences"] = drift["differences"]
        view["StackResourceDriftStatus"] = drift.get("status", "NOT_CHECKED")
        view["Timestamp"] = iso(drift.get("at"))
        return view


def _reads(handler: ResourceHandler) -> bool:
    return type(handler).read is not ResourceHandler.read
