"""Event buses: the default bus (made on an account's first use), custom buses, and the resource policy
(PutPermission) that lets other accounts and organizations put events on a bus."""

from __future__ import annotations

import json
import re
from typing import Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.events.store import Bus
from overcast.services.kit.paging import decode_token, page_of
from overcast.services.kit.tags import tag_dict

_BUS_NAME = re.compile(r"^[/\.\-_A-Za-z0-9]{1,256}$")
_ACCOUNT = re.compile(r"^\d{12}$")


def _invalid_token() -> ServiceError:
    return ServiceError("ValidationException", "The nextToken provided is invalid.", 400)


def _policy_changed() -> ServiceError:
    return ServiceError("ResourceNotFoundException", "EventBus does not have a policy.", 400)


class BusOperations(Operations):
    def create_event_bus(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["Name"]
        source = params.get("EventSourceName")
        if name == "default":
            raise ServiceError("ResourceAlreadyExistsException", "Event bus default already exists.", 400)
        if "/" in name and not source:
            raise ServiceError("ValidationException", "Event bus name must not contain '/'.", 400)
        if not _BUS_NAME.match(name):
            raise ServiceError("ValidationException", f"Event bus name {name} is not valid.", 400)
        if self.service.store.bus(ctx.account_id, ctx.region, name) is not None:
            raise ServiceError("ResourceAlreadyExistsException", f"Event bus {name} already exists.", 400)
        now = self.clock.now()
        dead_letter = params.get("DeadLetterConfig")
        bus = Bus(
            ctx.account_id,
            ctx.region,
            name,
            ctx.arn("events", f"event-bus/{name}"),
            params.get("Description"),
            None,
            source,
            json.dumps(dead_letter) if dead_letter else None,
            now,
            now,
        )
        self.service.store.add_bus(bus)
        if params.get("Tags"):
            self.service.tags.add(
                bus.arn, tag_dict(params["Tags"]), account=ctx.account_id, region=ctx.region
            )
        result: dict[str, Any] = {"EventBusArn": bus.arn}
        if bus.description:
            result["Description"] = bus.description
        if dead_letter:
            result["DeadLetterConfig"] = dead_letter
        return result

    def update_event_bus(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bus = self.service.require_bus(ctx, params.get("Name"))
        if "Description" in params:
            bus.description = params["Description"] or None
        if "DeadLetterConfig" in params:
            bus.dead_letter = json.dumps(params["DeadLetterConfig"]) if params["DeadLetterConfig"] else None
        bus.modified = self.clock.now()
        self.service.store.update_bus(bus)
        result: dict[str, Any] = {"Arn": bus.arn, "Name": bus.name}
        if bus.description:
            result["Description"] = bus.description
        if bus.dead_letter:
            result["DeadLetterConfig"] = json.loads(bus.dead_letter)
        return result

    def describe_event_bus(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bus = self.service.require_bus(ctx, params.get("Name"))
        result = self._bus(bus)
        if bus.dead_letter:
            result["DeadLetterConfig"] = json.loads(bus.dead_letter)
        return result

    def list_event_buses(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.service.bus(ctx.account_id, ctx.region, "default")  # an account always has its default bus
        limit = params.get("Limit") or 100
        prefix = params.get("NamePrefix") or ""
        after = decode_token(params.get("NextToken"), _invalid_token, f"buses:{prefix}") or ""
        rows = self.service.store.buses(ctx.account_id, ctx.region, prefix, after, limit + 1)
        page, token = page_of(rows, limit, lambda bus: bus.name, f"buses:{prefix}")
        result: dict[str, Any] = {"EventBuses": [self._bus(bus) for bus in page]}
        if token:
            result["NextToken"] = token
        return result

    def delete_event_bus(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["Name"]
        if name == "default":
            raise ServiceError("ValidationException", "Cannot delete event bus default.", 400)
        bus = self.service.store.bus(ctx.account_id, ctx.region, name)
        if bus is not None:  # deleting a bus that does not exist succeeds, as in AWS
            self.service.store.delete_bus(ctx.account_id, ctx.region, name)
            self.service.tags.forget(bus.arn)
            self.service.rules_changed(ctx.account_id, ctx.region, name)
        return {}

    def _bus(self, bus: Bus) -> dict[str, Any]:
        result: dict[str, Any] = {"Name": bus.name, "Arn": bus.arn}
        if bus.description:
            result["Description"] = bus.description
        if bus.policy:
            result["Policy"] = bus.policy
        result["CreationTime"] = bus.created
        result["LastModifiedTime"] = bus.modified
        return result

    # -- resource policy -----------------------------------------------------------------------------------

    def put_permission(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bus = self.service.require_bus(ctx, params.get("EventBusName"))
        if params.get("Policy"):
            try:
                document = json.loads(params["Policy"])
            except ValueError:
                raise ServiceError("ValidationException", "Policy is not valid JSON.", 400) from None
            if not isinstance(document, dict) or "Statement" not in document:
                raise ServiceError("ValidationException", "Policy is not valid.", 400)
            self._save_policy(bus, document)
            return {}
        action, principal, sid = params.get("Action"), params.get("Principal"), params.get("StatementId")
        if not (action and principal and sid):
            raise ServiceError(
                "ValidationException",
                "Parameter(s) Action, Principal and StatementId must be specified when Policy is not.",
                400,
            )
        if action != "events:PutEvents":
            raise ServiceError(
                "ValidationException", "Provided value in parameter 'action' is not supported.", 400
            )
        if principal != "*" and not _ACCOUNT.match(principal):
            raise ServiceError("ValidationException", "Parameter Principal is not valid.", 400)
        condition = params.get("Condition")
        if principal == "*" and condition is None:
            pass  # allowed: any account (AWS recommends a condition, it does not require one)
        statement: dict[str, Any] = {
            "Sid": sid,
            "Effect": "Allow",
            "Principal": "*" if principal == "*" else {"AWS": f"arn:aws:iam::{principal}:root"},
            "Action": action,
            "Resource": bus.arn,
        }
        if condition:
            statement["Condition"] = {condition["Type"]: {condition["Key"]: condition["Value"]}}
        document = json.loads(bus.policy) if bus.policy else {"Version": "2012-10-17", "Statement": []}
        statements = [s for s in document["Statement"] if s.get("Sid") != sid]
        statements.append(statement)
        document["Statement"] = statements
        self._save_policy(bus, document)
        return {}

    def remove_permission(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bus = self.service.require_bus(ctx, params.get("EventBusName"))
        if params.get("RemoveAllPermissions"):
            if not bus.policy:
                raise _policy_changed()
            self._save_policy(bus, None)
            return {}
        sid = params.get("StatementId")
        if not sid:
            raise ServiceError("ValidationException", "Parameter StatementId must be specified.", 400)
        if not bus.policy:
            raise _policy_changed()
        document = json.loads(bus.policy)
        remaining = [s for s in document.get("Statement", []) if s.get("Sid") != sid]
        if len(remaining) == len(document.get("Statement", [])):
            raise ServiceError(
                "ResourceNotFoundException", "Statement with the provided id does not exist.", 400
            )
        document["Statement"] = remaining
        self._save_policy(bus, document if remaining else None)
        return {}

    def _save_policy(self, bus: Bus, document: dict[str, Any] | None) -> None:
        bus.policy = json.dumps(document, separators=(",", ":")) if document else None
        bus.modified = self.clock.now()
        self.service.store.update_bus(bus)
