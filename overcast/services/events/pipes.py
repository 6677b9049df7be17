"""EventBridge Pipes (botocore "pipes"): a source (an SQS queue), optional filtering with the event-pattern
language, optional enrichment (a Lambda function), and a target, with input templates. Served from the
EventBridge package (it shares the pattern language and the templates); its tables are its own (namespace
"pipes"). The polling is in `pipes_workers.py`.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations, ServiceProvider
from overcast.services.events import patterns
from overcast.services.events.store import PipesStore
from overcast.services.kit.arns import parse_arn
from overcast.services.kit.paging import decode_token, page_of

SOURCES = ("sqs",)  # source kinds Overcast polls
TARGETS = ("sqs", "sns", "lambda", "states", "events", "kinesis", "firehose")
_CONFIG = (
    "Description",
    "Source",
    "SourceParameters",
    "Enrichment",
    "EnrichmentParameters",
    "Target",
    "TargetParameters",
    "RoleArn",
    "LogConfiguration",
    "KmsKeyIdentifier",
)


def _validation(message: str) -> ServiceError:
    return ServiceError("ValidationException", message, 400)


def _not_found(name: str) -> ServiceError:
    return ServiceError("NotFoundException", f"Pipe {name} does not exist.", 404)


def _check(config: dict[str, Any]) -> None:
    source = parse_arn(config["Source"])
    if source is None or source.service not in SOURCES:
        raise _validation(f"Overcast does not poll the source {config['Source']} (SQS queues only).")
    target = parse_arn(config["Target"])
    if target is None or target.service not in TARGETS:
        raise _validation(f"Target {config['Target']} is not supported.")
    enrichment = config.get("Enrichment")
    if enrichment and (parse_arn(enrichment) is None or parse_arn(enrichment).service != "lambda"):
        raise _validation(f"Enrichment {enrichment} is not supported (Lambda functions only).")
    for index, item in enumerate(
        ((config.get("SourceParameters") or {}).get("FilterCriteria") or {}).get("Filters") or []
    ):
        try:
            patterns.compile_pattern(item.get("Pattern") or "")
        except patterns.PatternError as error:
            raise _validation(f"Filter {index} is not valid: {error}") from None


class PipeOperations(Operations):
    def create_pipe(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["Name"]
        if self.service.store.pipe(ctx.account_id, ctx.region, name) is not None:
            raise ServiceError("ConflictException", f"Pipe {name} already exists.", 409)
        config = {k: params[k] for k in _CONFIG if params.get(k) is not None}
        _check(config)
        now = self.clock.now()
        desired = params.get("DesiredState") or "RUNNING"
        arn = ctx.arn("pipes", f"pipe/{name}")
        self.service.store.put_pipe(
            (ctx.account_id, ctx.region, name, arn, json.dumps(config), desired, desired, now, now)
        )
        if params.get("Tags"):
            self.service.tags.add(arn, params["Tags"], account=ctx.account_id, region=ctx.region)
        self.db.after_commit(self.service.changed.set)
        return self._answer(arn, name, desired, "CREATING", now, now)

    def update_pipe(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self._pipe(ctx, params["Name"])
        config = json.loads(row[4])
        for member in _CONFIG:
            if member in params and member != "Source":
                config[member] = params[member]
        _check(config)
        desired = params.get("DesiredState") or row[5]
        now = self.clock.now()
        self.service.store.put_pipe((*row[:4], json.dumps(config), desired, desired, row[7], now))
        self.db.after_commit(self.service.changed.set)
        return self._answer(row[3], row[2], desired, "UPDATING", row[7], now)

    def describe_pipe(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self._pipe(ctx, params["Name"])
        config = json.loads(row[4])
        result: dict[str, Any] = {"Arn": row[3], "Name": row[2]}
        if config.get("Description"):
            result["Description"] = config["Description"]
        result.update(DesiredState=row[5], CurrentState=row[6])
        result.update({k: config[k] for k in _CONFIG if k in config and k != "Description"})
        result["Tags"] = self.service.tags.get(row[3])
        result.update(CreationTime=row[7], LastModifiedTime=row[8])
        return result

    def delete_pipe(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self._pipe(ctx, params["Name"])
        self.service.store.delete_pipe(row[0], row[1], row[2])
        self.service.tags.forget(row[3])
        return self._answer(row[3], row[2], "STOPPED", "DELETING", row[7], self.clock.now())

    def list_pipes(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        def invalid() -> ServiceError:
            return _validation("Invalid NextToken.")

        prefix = params.get("NamePrefix") or ""
        limit = params.get("Limit") or 100
        after = decode_token(params.get("NextToken"), invalid, f"pipes:{prefix}") or ""
        rows = [
            row
            for row in self.service.store.pipes(ctx.account_id, ctx.region, prefix, after, 1000)
            if (not params.get("DesiredState") or row[5] == params["DesiredState"])
            and (not params.get("CurrentState") or row[6] == params["CurrentState"])
            and json.loads(row[4])["Source"].startswith(params.get("SourcePrefix") or "")
            and json.loads(row[4])["Target"].startswith(params.get("TargetPrefix") or "")
        ]
        page, token = page_of(rows, limit, lambda row: row[2], f"pipes:{prefix}")
        result: dict[str, Any] = {"Pipes": [self._summary(row) for row in page]}
        if token:
            result["NextToken"] = token
        return result

    def start_pipe(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._move(ctx, params["Name"], "RUNNING", "STARTING")

    def stop_pipe(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._move(ctx, params["Name"], "STOPPED", "STOPPING")

    def tag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = self._arn(params["resourceArn"])
        self.service.tags.add(arn, params["tags"], account=ctx.account_id, region=ctx.region)
        return {}

    def untag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.service.tags.remove(self._arn(params["resourceArn"]), params["tagKeys"])
        return {}

    def list_tags_for_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"tags": self.service.tags.get(self._arn(params["resourceArn"]))}

    # -- helpers ---------------------------------------------------------------------------------------------

    def _move(self, ctx: RequestContext, name: str, state: str, moving: str) -> dict[str, Any]:
        row = self._pipe(ctx, name)
        now = self.clock.now()
        self.service.store.put_pipe((*row[:5], state, state, row[7], now))
        self.db.after_commit(self.service.changed.set)
        return self._answer(row[3], row[2], state, moving, row[7], now)

    def _pipe(self, ctx: RequestContext, name: str) -> tuple:
        row = self.service.store.pipe(ctx.account_id, ctx.region, name)
        if row is None:
            raise _not_found(name)
        return row

    def _arn(self, arn: str) -> str:
        if self.service.store.by_arn(arn) is None:
            parsed = parse_arn(arn)
            raise _not_found(parsed.resource_id if parsed else arn)
        return arn

    @staticmethod
    def _answer(
        arn: str, name: str, desired: str, current: str, created: float, modified: float
    ) -> dict[str, Any]:
        return {
            "Arn": arn,
            "Name": name,
            "DesiredState": desired,
            "CurrentState": current,
            "CreationTime": created,
            "LastModifiedTime": modified,
        }

    @staticmethod
    def _summary(row: tuple) -> dict[str, Any]:
        config = json.loads(row[4])
        summary: dict[str, Any] = {
            "Name": row[2],
            "Arn": row[3],
            "DesiredState": row[5],
            "CurrentState": row[6],
            "CreationTime": row[7],
            "LastModifiedTime": row[8],
            "Source": config["Source"],
            "Target": config["Target"],
        }
        if config.get("Enrichment"):
            summary["Enrichment"] = config["Enrichment"]
        return summary


class PipesProvider(ServiceProvider):
    service_name = "pipes"
    families = (PipeOperations,)

    def __init__(self, platform) -> None:
        super().__init__(platform)
        self.store = PipesStore(self.db)
        self.changed = asyncio.Event()

    async def start(self) -> None:
        from overcast.services.events import pipes_workers

        self.platform.spawn(pipes_workers.run_forever(self))

    def resource_arn(self, ctx: RequestContext, params: dict[str, Any]) -> str | None:
        if params.get("resourceArn"):
            return params["resourceArn"]
        return ctx.arn("pipes", f"pipe/{params['Name']}") if params.get("Name") else None
