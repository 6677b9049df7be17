"""Export tasks: a log group's events of a time range written to an S3 bucket (CreateExportTask,
DescribeExportTasks, CancelExportTask).

As in AWS, Logs first writes `<prefix>/aws-logs-write-test` (its permission check), then one gzipped object
per log stream, `<prefix>/<taskId>/<stream>/000000.gz`, each line `<ISO timestamp> <message>`. The objects are
put through S3 itself as `logs.amazonaws.com`, so the bucket's policy decides. A task runs off the request
path once created (PENDING, RUNNING, then COMPLETED or FAILED); an unfinished one is resumed after a restart.
At most one task per account and Region is unfinished at a time.
"""

from __future__ import annotations

import gzip
import logging
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.identity import service_principal
from overcast.services.base import Operations
from overcast.services.logs.common import invalid, not_found

if TYPE_CHECKING:
    from overcast.services.logs.provider import LogsProvider

log = logging.getLogger("overcast.logs")
UNFINISHED = ("PENDING", "RUNNING")


class ExportTaskOperations(Operations):
    service: LogsProvider

    def create_export_task(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service = self.service
        group = service.group(ctx, params)
        if params["from"] > params["to"]:  # (our wording: AWS's text for this case is not recorded)
            raise invalid("The from time must be earlier than or equal to the to time.")
        if any(service.store.export_tasks(ctx.account_id, ctx.region, code) for code in UNFINISHED):
            raise ServiceError("LimitExceededException", "Resource limit exceeded.")
        task: dict[str, Any] = {"taskId": str(uuid.uuid4())}
        if params.get("taskName"):
            task["taskName"] = params["taskName"]
        task.update(
            logGroupName=group.name,
            **{"from": params["from"], "to": params["to"]},
            destination=params["destination"],
            destinationPrefix=params.get("destinationPrefix") or "exportedlogs",
            status={"code": "PENDING", "message": "Pending"},
            executionInfo={"creationTime": service.now_ms()},
        )
        if params.get("logStreamNamePrefix"):
            task["_streamPrefix"] = params["logStreamNamePrefix"]
        service.store.save_export_task(ctx.account_id, ctx.region, task)
        self.db.after_commit(
            lambda: service.platform.spawn(run(service, ctx.account_id, ctx.region, task["taskId"]))
        )
        return {"taskId": task["taskId"]}

    def describe_export_tasks(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        tasks = self.service.store.export_tasks(ctx.account_id, ctx.region, params.get("statusCode"))
        if params.get("taskId"):
            tasks = [t for t in tasks if t["taskId"] == params["taskId"]]
        limit = params.get("limit") or 50
        return {"exportTasks": [_shape(t) for t in tasks[:limit]]}

    def cancel_export_task(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        task = self.service.store.export_task(params["taskId"])
        if task is None:
            raise not_found("The specified export task does not exist.")
        if task["status"]["code"] not in UNFINISHED:
            raise ServiceError("InvalidOperationException", "The specified export task has already finished")
        task["status"] = {"code": "CANCELLED", "message": "Cancelled by user"}
        task["executionInfo"]["completionTime"] = self.service.now_ms()
        self.service.store.save_export_task(ctx.account_id, ctx.region, task)
        return {}


def _shape(task: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in task.items() if not k.startswith("_")}


def _line(timestamp_ms: int, message: str) -> str:
    moment = datetime.fromtimestamp(timestamp_ms / 1000, UTC)
    return f"{moment.strftime('%Y-%m-%dT%H:%M:%S.')}{timestamp_ms % 1000:03d}Z {message}\n"


async def run(service: LogsProvider, account: str, region: str, task_id: str) -> None:
    """Carry out one export task: the permission check object, then each stream's events."""
    platform, store = service.platform, service.store
    with platform.db.transaction():
        task = store.export_task(task_id)
        if task is None or task["status"]["code"] not in UNFINISHED:
            return
        task["status"] = {"code": "RUNNING", "message": "Started successfully"}
        store.save_export_task(account, region, task)
        group = store.group(account, region, task["logGroupName"])
        streams = store.stream_ids(group.id, None, task.get("_streamPrefix") or "") if group else {}
    bucket, prefix = task["destination"], task["destinationPrefix"]
    try:
        await _put(
            service, account, region, bucket, f"{prefix}/aws-logs-write-test", b"Permission Check Successful"
        )
        for stream_id, name in sorted(streams.items(), key=lambda item: item[1]):
            with platform.db.transaction():
                events = store.stream_page(stream_id, task["from"], task["to"] + 1, None, True, 1_000_000)
            if events:
                body = "".join(_line(e.timestamp, e.message) for e in events).encode()
                await _put(
                    service,
                    account,
                    region,
                    bucket,
                    f"{prefix}/{task_id}/{name}/000000.gz",
                    gzip.compress(body),
                )
        outcome = {"code": "COMPLETED", "message": "Completed successfully"}
    except Exception as error:  # S3's refusal, or anything else: the task fails rather than hangs
        log.warning("export task %s failed: %s", task_id, error)
        outcome = {
            "code": "FAILED",
            "message": "GetBucketAcl call on the given bucket failed. Please check if CloudWatch Logs has been "
            "granted permission to perform this operation.",
        }
    with platform.db.transaction():
        current = store.export_task(task_id)
        if current is None or current["status"]["code"] == "CANCELLED":
            return
        current["status"] = outcome
        current["executionInfo"]["completionTime"] = service.now_ms()
        store.save_export_task(account, region, current)


async def _put(service: LogsProvider, account: str, region: str, bucket: str, key: str, body: bytes) -> None:
    await service.platform.call(
        "s3",
        "PutObject",
        {"Bucket": bucket, "Key": key, "Body": body},
        principal=service_principal("logs.amazonaws.com", account),
        account_id=account,
        region=region,
        condition_keys={"aws:SourceAccount": account},
    )


async def resume(service: LogsProvider) -> None:
    """Tasks a stopped server left unfinished run again."""
    with service.platform.db.transaction():
        unfinished = service.store.unfinished_export_tasks()
    for account, region, task in unfinished:
        await run(service, account, region, task["taskId"])
