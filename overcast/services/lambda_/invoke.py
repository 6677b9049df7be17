"""Invoking a function: synchronously (buffered or as an event stream), asynchronously, or as a dry run."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.lambda_.executor import tail

if TYPE_CHECKING:
    from overcast.services.lambda_.provider import LambdaProvider

MAX_SYNC_PAYLOAD = 6 * 1024 * 1024
MAX_ASYNC_PAYLOAD = 256 * 1024
STREAM_CHUNK = 64 * 1024  # bytes per PayloadChunk event of InvokeWithResponseStream


class InvokeOperations(Operations):
    service: LambdaProvider

    async def invoke_async(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        """The deprecated InvokeAsync: an Event invocation of the function with InvokeArgs as its payload,
        answered 202 Accepted once it is queued."""
        args = params.get("InvokeArgs") or b""
        if hasattr(args, "read"):  # a streaming body (the model streams InvokeArgs)
            args = await args.read()
        await self.invoke(
            ctx, {"FunctionName": params["FunctionName"], "InvocationType": "Event", "Payload": args}
        )
        return {"Status": 202}

    async def invoke(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service = self.service
        name, qualifier = service.parse_ref(ctx, params)
        kind = params.get("InvocationType") or "RequestResponse"
        payload = params.get("Payload") or b""
        if isinstance(payload, str):
            payload = payload.encode()
        if kind == "Event" and len(payload) > MAX_ASYNC_PAYLOAD:
            raise ServiceError(
                "RequestEntityTooLargeException",
                f"{len(payload)} byte payload is too large for the Event invocation type "
                f"(limit {MAX_ASYNC_PAYLOAD} bytes)",
                413,
            )
        if len(payload) > MAX_SYNC_PAYLOAD:
            raise ServiceError(
                "RequestEntityTooLargeException",
                f"Request must be smaller than {MAX_SYNC_PAYLOAD} bytes for the InvokeFunction operation",
                413,
            )
        _check_json(payload)
        config, version = service.version_for_invoke(ctx, name, qualifier)
        if kind == "DryRun":
            return {"StatusCode": 204, "Payload": b""}
        if kind == "Event":
            with self.db.transaction():
                service.store.enqueue(
                    ctx.account_id,
                    ctx.region,
                    name,
                    qualifier or "$LATEST",
                    ctx.request_id,
                    payload or b"{}",
                    self.clock.now(),
                )
            service.async_invoker.wake()
            return {"StatusCode": 202, "Payload": b""}
        reserved = service.throttle_or_acquire(ctx.account_id, ctx.region, name)
        try:
            result = await service.execute(
                ctx.account_id,
                ctx.region,
                config,
                qualifier,
                payload or b"{}",
                ctx.request_id,
                params.get("ClientContext"),
            )
        finally:
            service.executor.release(ctx.account_id, ctx.region, name, reserved)
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
