"""Cloud Control's resource operations: requests that run in the background and the reads that answer at once."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import jsonpatch

import overcast.services.cloudformation.api as cloudformation
from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations

if TYPE_CHECKING:
    from overcast.services.cloudcontrol.provider import CloudControlProvider

_ERROR_CODES = {
    "AlreadyExists": "AlreadyExists",
    "NotFound": "NotFound",
    "AccessDenied": "AccessDenied",
    "NotUpdatable": "NotUpdatable",
    "NotStabilized": "NotStabilized",
    "InvalidRequest": "InvalidRequest",
    "ServiceInternalError": "ServiceInternalError",
    "ServiceLimitExceeded": "ServiceLimitExceeded",
    "GeneralServiceException": "GeneralServiceException",
}


def _now(at: float) -> datetime:
    return datetime.fromtimestamp(at, UTC)


def type_not_found(name: str) -> ServiceError:
    return ServiceError("TypeNotFoundException", f"The type '{name}' cannot be found.", 400)


def not_found(name: str, identifier: str) -> ServiceError:
    return ServiceError(
        "ResourceNotFoundException", f"{name} with identifier '{identifier}' was not found", 400
    )


def _error_code(error: Exception) -> str:
    if isinstance(error, cloudformation.HandlerError):
        return _ERROR_CODES.get(error.code, "GeneralServiceException")
    if isinstance(error, ServiceError):
        code = error.code
        if "AlreadyExists" in code or "Exists" in code:
            return "AlreadyExists"
        if "NotFound" in code or "NoSuch" in code or "NonExistent" in code or "DoesNotExist" in code:
            return "NotFound"
        if "AccessDenied" in code:
            return "AccessDenied"
        return "InvalidRequest" if error.sender_fault else "ServiceInternalError"
    return "InternalFailure"


def _message(error: Exception) -> str:
    return getattr(error, "message", None) or str(error)


class ResourceOperations(Operations):
    service: CloudControlProvider

    def _handler(self, name: str) -> cloudformation.ResourceHandler:
        found = cloudformation.handler(name)
        if found is None:
            raise type_not_found(name)
        return found

    def _event(
        self,
        ctx: RequestContext,
        name: str,
        operation: str,
        identifier: str | None,
        model: dict[str, Any] | None,
    ) -> dict[str, Any]:
        event: dict[str, Any] = {
            "TypeName": name,
            "RequestToken": str(uuid.uuid4()),
            "Operation": operation,
            "OperationStatus": "IN_PROGRESS",
            "EventTime": self.clock.now(),
        }
        if identifier is not None:
            event["Identifier"] = identifier
        if model is not None:
            event["ResourceModel"] = json.dumps(model)
        return event

    def _start(
        self, ctx: RequestContext, params: dict[str, Any], event: dict[str, Any], work
    ) -> dict[str, Any]:
        store = self.service.store
        client_token = params.get("ClientToken")
        if client_token:
            earlier = store.request_by_client_token(ctx.account_id, ctx.region, client_token)
            if earlier is not None:
                if earlier["Operation"] != event["Operation"] or earlier["TypeName"] != event["TypeName"]:
                    raise ServiceError(
                        "ClientTokenConflictException",
                        f"Client token {client_token} was used for a different request",
                        400,
                    )
                return {"ProgressEvent": self.service.view(earlier)}
        store.put_request(
            event["RequestToken"], ctx.account_id, ctx.region, client_token, event, self.clock.now()
        )
        self.db.after_commit(lambda: self.platform.spawn(self._run(ctx, event, work)))
        return {"ProgressEvent": self.service.view(event)}

    async def _run(self, ctx: RequestContext, event: dict[str, Any], work) -> None:
        await asyncio.sleep(0)
        try:
            identifier, model = await work()
        except (cloudformation.HandlerError, ServiceError) as error:
            event = {
                **event,
                "OperationStatus": "FAILED",
                "ErrorCode": _error_code(error),
                "StatusMessage": _message(error),
            }
        else:
            event = {**event, "OperationStatus": "SUCCESS"}
            if identifier is not None:
                event["Identifier"] = identifier
            if model is not None:
                event["ResourceModel"] = json.dumps(model)
            else:
                event.pop("ResourceModel", None)
        event["EventTime"] = self.clock.now()
        with self.db.transaction():
            self.service.store.put_request(
                event["RequestToken"], ctx.account_id, ctx.region, None, event, self.clock.now()
            )

    def _context(self, ctx: RequestContext, name: str) -> cloudformation.ResourceContext:
        """The handler's context: calls made as the request's RoleArn (assumed by CloudFormation), else as
        the caller."""
        principal = ctx.extra.get("cloudcontrol.principal") or ctx.principal
        return cloudformation.resource_context(self.platform, principal, ctx.account_id, ctx.region, name)

    def _assume(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        """Inside a transaction: the principal RoleArn stands for (AccessDenied when it cannot be assumed)."""
        role = params.get("RoleArn")
        if not role:
            return
        import overcast.services.sts.api as sts

        credentials = sts.credentials_for_role(
            self.platform, role, "cloudformation.amazonaws.com", "CloudControl"
        )
        found = self.platform.credentials.lookup(credentials["AccessKeyId"])
        if found is not None:
            ctx.extra["cloudcontrol.principal"] = found.principal

    # -- requests ----------------------------------------------------------------------------------

    def create_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self._assume(ctx, params)
        name = params["TypeName"]
        handler = self._handler(name)
        try:
            desired = json.loads(params["DesiredState"])
        except ValueError:
            raise ServiceError("ValidationException", "DesiredState is not valid JSON", 400) from None
        if not isinstance(desired, dict):
            raise ServiceError("ValidationException", "DesiredState must be a JSON object", 400)
        missing = [key for key in handler.required if key not in desired]
        if missing:
            raise ServiceError(
                "InvalidRequestException",
                f"Model validation failed (#: required key [{missing[0]}] not found)",
                400,
            )
        event = self._event(ctx, name, "CREATE", None, desired)
        store = self.service.store

        async def work():
            created = await handler.create(self._context(ctx, name), desired)
            model = {**desired, handler.primary_identifier: created.physical_id}
            with self.db.transaction():
                store.set_properties(ctx.account_id, ctx.region, name, created.physical_id, desired)
            return created.physical_id, model

        return self._start(ctx, params, event, work)

    async def _current(
        self, ctx: RequestContext, handler: cloudformation.ResourceHandler, name: str, identifier: str
    ) -> dict[str, Any]:
        with self.db.transaction():
            known = self.service.store.properties(ctx.account_id, ctx.region, name, identifier)
        found = await handler.read(self._context(ctx, name), identifier, known or {})
        if found is None or (known is None and found == {}):
            raise not_found(name, identifier)
        return found

    async def get_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.transaction():
            self._assume(ctx, params)
        name, identifier = params["TypeName"], params["Identifier"]
        handler = self._handler(name)
        if type(handler).read is cloudformation.ResourceHandler.read:
            raise ServiceError(
                "UnsupportedActionException", f"Resource type {name} does not support READ action", 400
            )
        properties = await self._current(ctx, handler, name, identifier)
        properties = {**properties, handler.primary_identifier: identifier}
        return {
            "TypeName": name,
            "ResourceDescription": {"Identifier": identifier, "Properties": json.dumps(properties)},
        }

    async def list_resources(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.transaction():
            self._assume(ctx, params)
        name = params["TypeName"]
        handler = self._handler(name)
        identifiers = await handler.list(self._context(ctx, name))
        if identifiers is None:
            raise ServiceError(
                "UnsupportedActionException", f"Resource type {name} does not support LIST action", 400
            )
        return {
            "TypeName": name,
            "ResourceDescriptions": [
                {"Identifier": identifier, "Properties": json.dumps({handler.primary_identifier: identifier})}
                for identifier in identifiers
            ],
        }

    async def update_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.transaction():
            self._assume(ctx, params)
        name, identifier = params["TypeName"], params["Identifier"]
        handler = self._handler(name)
        try:
            patch = jsonpatch.JsonPatch(json.loads(params["PatchDocument"]))
        except (ValueError, jsonpatch.InvalidJsonPatch) as error:
            raise ServiceError("ValidationException", f"Invalid patch document: {error}", 400) from None
        with self.db.transaction():
            known = self.service.store.properties(ctx.account_id, ctx.region, name, identifier)
        current = known if known is not None else await self._current(ctx, handler, name, identifier)
        try:
            desired = patch.apply(current)
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as error:
            raise ServiceError("ValidationException", f"Invalid patch: {error}", 400) from None
        changed = sorted(key for key in handler.create_only if desired.get(key) != current.get(key))
        if changed:
            raise ServiceError(
                "NotUpdatableException",
                f"Invalid patch update: createOnlyProperties [{', '.join('/properties/' + key for key in changed)}] cannot be updated",
                400,
            )
        store = self.service.store
        with self.db.transaction():
            event = self._event(ctx, name, "UPDATE", identifier, desired)

            async def work():
                await handler.update(
                    self._context(ctx, name),
                    identifier,
                    desired,
                    current,
                    handler.known_attributes(self._context(ctx, name), identifier),
                )
                with self.db.transaction():
                    store.set_properties(ctx.account_id, ctx.region, name, identifier, desired)
                return identifier, {**desired, handler.primary_identifier: identifier}

            return self._start(ctx, params, event, work)

    def delete_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self._assume(ctx, params)
        name, identifier = params["TypeName"], params["Identifier"]
        handler = self._handler(name)
        store = self.service.store
        event = self._event(ctx, name, "DELETE", identifier, None)

        async def work():
            with self.db.transaction():
                known = store.properties(ctx.account_id, ctx.region, name, identifier)
            if type(handler).read is not cloudformation.ResourceHandler.read:
                found = await handler.read(self._context(ctx, name), identifier, known or {})
                if found is None:
                    raise cloudformation.HandlerError(
                        f"{name} with identifier '{identifier}' was not found", "NotFound"
                    )
            await handler.delete(self._context(ctx, name), identifier, known or {})
            with self.db.transaction():
                store.set_properties(ctx.account_id, ctx.region, name, identifier, None)
            return identifier, None

        return self._start(ctx, params, event, work)

    # -- request status ----------------------------------------------------------------------------

    def get_resource_request_status(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        found = self.service.store.request(params["RequestToken"])
        if found is None or found[0] != ctx.account_id:
            raise ServiceError(
                "RequestTokenNotFoundException",
                f"Request with token {params['RequestToken']} was not found",
                400,
            )
        return {"ProgressEvent": self.service.view(found[2])}

    def list_resource_requests(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        filters = params.get("ResourceRequestStatusFilter") or {}
        operations, statuses = (
            set(filters.get("Operations") or []),
            set(filters.get("OperationStatuses") or []),
        )
        events = [
            event
            for event in self.service.store.requests(ctx.account_id, ctx.region)
            if (not operations or event["Operation"] in operations)
            and (not statuses or event["OperationStatus"] in statuses)
        ]
        limit = params.get("MaxResults") or 100
        return {"ResourceRequestStatusSummaries": [self.service.view(event) for event in events[:limit]]}

    def cancel_resource_request(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        found = self.service.store.request(params["RequestToken"])
        if found is None or found[0] != ctx.account_id:
            raise ServiceError(
                "RequestTokenNotFoundException",
                f"Request with token {params['RequestToken']} was not found",
                400,
            )
        event = found[2]
        if event["OperationStatus"] not in ("PENDING", "IN_PROGRESS"):
            raise ServiceError(
                "ConcurrentModificationException", "Request cannot be cancelled in its current status", 400
            )
        return {"ProgressEvent": self.service.view(event)}
