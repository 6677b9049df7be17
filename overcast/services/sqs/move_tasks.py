"""SQS message move tasks (dead-letter queue redrive): start, list, cancel. The moving is workers.py's."""

from __future__ import annotations

import base64
import json
import uuid
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.sqs import workers
from overcast.services.sqs.checks import int_param, invalid_parameter, resource_not_found

if TYPE_CHECKING:
    from overcast.services.sqs.provider import SqsProvider


class MoveTaskOperations(Operations):
    service: SqsProvider

    def start_message_move_task(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service, store = self.service, self.service.store
        source_arn = params["SourceArn"]
        source = service.queue_by_arn(source_arn)
        if source is None:
            raise resource_not_found("SourceArn")
        if not store.is_dead_letter_queue(source_arn):
            raise ServiceError(
                "InvalidParameterValue", "Source queue must be configured as a Dead Letter Queue."
            )
        destination_arn = params.get("DestinationArn")
        if destination_arn:
            destination = service.queue_by_arn(destination_arn)
            if destination is None:
                raise resource_not_found("DestinationArn")
            if destination.fifo != source.fifo:
                raise invalid_parameter(
                    "DestinationArn",
                    destination_arn,
                    "The destination queue must be the same type of queue as the source queue.",
                )
        rate = int_param(params, "MaxNumberOfMessagesPerSecond", 1, 500)
        if any(
            t["status"] == "RUNNING" for t in store.move_tasks(source.account, source.region, source_arn, 10)
        ):
            raise ServiceError(
                "UnsupportedOperation",
                "There is already a task running. Only one active task is "
                "allowed for a source queue arn at a given time.",
            )
        handle = base64.b64encode(json.dumps({"taskId": str(uuid.uuid4()), "sourceArn": source_arn}).encode())
        handle_text = handle.decode()
        # The task moves the messages available when it starts; in-flight and delayed ones stay behind.
        now = self.clock.now()
        store.expire_messages(source, now)
        visible, _, _ = store.depth(source, now)
        store.create_move_task(
            handle_text,
            source.account,
            source.region,
            source_arn,
            destination_arn,
            rate,
            visible,
            now,
        )
        self.db.after_commit(lambda: self.platform.spawn(workers.run_move_task(service, handle_text)))
        return {"TaskHandle": handle_text}

    def list_message_move_tasks(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        source = self.service.queue_by_arn(params["SourceArn"])
        if source is None:
            raise resource_not_found("SourceArn")
        limit = int_param(params, "MaxResults", 1, 10) or 1
        tasks = self.service.store.move_tasks(source.account, source.region, params["SourceArn"], limit)
        return {"Results": [_render_task(task) for task in tasks]}

    def cancel_message_move_task(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        store = self.service.store
        source_arn = _handle_source(params["TaskHandle"])
        if self.service.queue_by_arn(source_arn) is None:
            raise resource_not_found("SourceArn")
        task = store.move_task(params["TaskHandle"])
        if task is None or task["account"] != ctx.account_id:
            raise resource_not_found("TaskHandle")
        if task["status"] != "RUNNING":
            raise ServiceError("UnsupportedOperation", "Only active tasks can be cancelled.")
        store.update_move_task(task["handle"], status="CANCELLING")
        store.update_move_task(task["handle"], status="CANCELLED")
        return {"ApproximateNumberOfMessagesMoved": task["moved"]}


def _handle_source(handle: str) -> str:
    """The source queue ARN a TaskHandle (base64 of {"taskId", "sourceArn"}) names; a handle that is not one
    is AWS's InvalidParameterValue."""
    try:
        decoded = json.loads(base64.b64decode(handle, validate=True))
        if isinstance(decoded, dict) and isinstance(decoded.get("taskId"), str):
            source = decoded.get("sourceArn")
            if isinstance(source, str):
                return source
    except ValueError:
        pass
    raise ServiceError("InvalidParameterValue", "Value for parameter TaskHandle is invalid.")


def _render_task(task: dict[str, Any]) -> dict[str, Any]:
    rendered = {
        "Status": task["status"],
        "SourceArn": task["source_arn"],
        "ApproximateNumberOfMessagesMoved": task["moved"],
        "ApproximateNumberOfMessagesToMove": task["to_move"],
        "StartedTimestamp": int(task["started_at"] * 1000),
    }
    if task["status"] == "RUNNING":
        rendered["TaskHandle"] = task["handle"]
    for key, column in (
        ("DestinationArn", "destination_arn"),
        ("MaxNumberOfMessagesPerSecond", "max_per_second"),
        ("FailureReason", "failure"),
    ):
        if task[column] is not None:
            rendered[key] = task[column]
    return rendered
