"""EventBridge Scheduler's operations: schedules, schedule groups, and the groups' tags."""

from __future__ import annotations

import json
from typing import Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.events import schedules
from overcast.services.kit.arns import parse_arn
from overcast.services.kit.paging import decode_token, page_of
from overcast.services.kit.tags import tag_dict, tag_list

DEFAULT_GROUP = "default"
_MEMBERS = (
    "ScheduleExpression",
    "StartDate",
    "EndDate",
    "Description",
    "ScheduleExpressionTimezone",
    "State",
    "KmsKeyArn",
    "Target",
    "FlexibleTimeWindow",
    "ActionAfterCompletion",
)


def _validation(message: str) -> ServiceError:
    return ServiceError("ValidationException", message, 400)


def _invalid_token() -> ServiceError:
    return _validation("Invalid NextToken.")


def _check(config: dict[str, Any]) -> None:
    """AWS's ValidationExceptions for a schedule's configuration."""
    from overcast.services.events.scheduler import epoch

    try:
        schedules.parse_scheduler(config["ScheduleExpression"], config.get("ScheduleExpressionTimezone"))
    except schedules.ScheduleError:
        if config.get("ScheduleExpressionTimezone"):
            try:
                schedules.parse_scheduler("rate(1 minute)", config["ScheduleExpressionTimezone"])
            except schedules.ScheduleError:
                raise _validation(
                    f"Invalid ScheduleExpressionTimezone {config['ScheduleExpressionTimezone']}."
                ) from None
        raise _validation(f"Invalid Schedule Expression {config['ScheduleExpression']}.") from None
    window = config["FlexibleTimeWindow"]
    if window["Mode"] == "FLEXIBLE" and not window.get("MaximumWindowInMinutes"):
        raise _validation("MaximumWindowInMinutes must be provided when Mode is FLEXIBLE.")
    if window["Mode"] == "OFF" and window.get("MaximumWindowInMinutes"):
        raise _validation("MaximumWindowInMinutes must not be provided when Mode is OFF.")
    start, end = epoch(config.get("StartDate")), epoch(config.get("EndDate"))
    if start is not None and end is not None and end <= start:
        raise _validation("The EndDate must be after the StartDate.")
    target = config["Target"]
    arn = parse_arn(target["Arn"])
    if arn is None:
        raise _validation(f"Invalid target ARN {target['Arn']}.")
    if (
        arn.service == "events"
        and arn.resource_type == "event-bus"
        and not target.get("EventBridgeParameters")
    ):
        raise _validation("EventBridgeParameters must be provided for an event bus target.")
    if arn.service == "sqs" and arn.resource.endswith(".fifo") and not target.get("SqsParameters"):
        raise _validation("SqsParameters.MessageGroupId must be provided for a FIFO queue target.")
    dead_letter = (target.get("DeadLetterConfig") or {}).get("Arn")
    if dead_letter and (parse_arn(dead_letter) is None or parse_arn(dead_letter).service != "sqs"):
        raise _validation("DeadLetterConfig.Arn must be the ARN of an SQS queue.")


def _stored(config: dict[str, Any]) -> dict[str, Any]:
    """The configuration as JSON can keep it (dates as epoch seconds)."""
    from overcast.services.events.scheduler import epoch

    kept = dict(config)
    for name in ("StartDate", "EndDate"):
        if kept.get(name) is not None:
            kept[name] = epoch(kept[name])
    return kept


class ScheduleOperations(Operations):
    def create_schedule(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group = params.get("GroupName") or DEFAULT_GROUP
        if not self.service.group_exists(ctx, group):
            raise ServiceError("ResourceNotFoundException", f"Schedule group {group} does not exist.", 404)
        if self.service.store.schedule(ctx.account_id, ctx.region, group, params["Name"]) is not None:
            raise ServiceError("ConflictException", f"Schedule {params['Name']} already exists.", 409)
        config = _stored({k: params[k] for k in _MEMBERS if params.get(k) is not None})
        _check(config)
        arn = ctx.arn("scheduler", f"schedule/{group}/{params['Name']}")
        now = self.clock.now()
        self._save(ctx, group, params["Name"], arn, config, now, now)
        return {"ScheduleArn": arn}

    def update_schedule(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self.service.require_schedule(ctx, params)
        config = _stored({k: params[k] for k in _MEMBERS if params.get(k) is not None})  # a whole replacement
        _check(config)
        self._save(ctx, row[2], row[3], row[4], config, row[7], self.clock.now())
        return {"ScheduleArn": row[4]}

    def _save(
        self,
        ctx: RequestContext,
        group: str,
        name: str,
        arn: str,
        config: dict[str, Any],
        created: float,
        now: float,
    ) -> None:
        from overcast.services.events.scheduler import next_fire

        state = config.get("State") or "ENABLED"
        config["State"] = state
        config.setdefault("ActionAfterCompletion", "NONE")
        anchor = config.get("StartDate") or now
        moment = next_fire(config, anchor, now) if state == "ENABLED" else None
        self.service.store.put_schedule(
            (
                ctx.account_id,
                ctx.region,
                group,
                name,
                arn,
                json.dumps(config),
                state,
                created,
                now,
                anchor,
                moment,
            )
        )
        self.db.after_commit(self.service.changed.set)

    def get_schedule(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self.service.require_schedule(ctx, params)
        config = self.service.config_of(row)
        result: dict[str, Any] = {"Arn": row[4], "GroupName": row[2], "Name": row[3]}
        result.update({k: config[k] for k in _MEMBERS if k in config})
        result["CreationDate"] = row[7]
        result["LastModificationDate"] = row[8]
        return result

    def delete_schedule(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self.service.require_schedule(ctx, params)
        self.service.store.delete_schedule(row[0], row[1], row[2], row[3])
        return {}

    def list_schedules(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group = params.get("GroupName")
        if group is not None and not self.service.group_exists(ctx, group):
            raise ServiceError("ResourceNotFoundException", f"Schedule group {group} does not exist.", 404)
        limit = params.get("MaxResults") or 100
        scope = f"schedules:{group}:{params.get('NamePrefix')}:{params.get('State')}"
        after = decode_token(params.get("NextToken"), _invalid_token, scope) or ""
        rows = self.service.store.schedules(
            ctx.account_id,
            ctx.region,
            group,
            params.get("NamePrefix") or "",
            params.get("State"),
            after,
            limit + 1,
        )
        page, token = page_of(rows, limit, lambda row: f"{row[2]}/{row[3]}", scope)
        result: dict[str, Any] = {
            "Schedules": [
                {
                    "Arn": row[4],
                    "Name": row[3],
                    "GroupName": row[2],
                    "State": row[6],
                    "CreationDate": row[7],
                    "LastModificationDate": row[8],
                    "Target": {"Arn": self.service.config_of(row)["Target"]["Arn"]},
                }
                for row in page
            ]
        }
        if token:
            result["NextToken"] = token
        return result


class GroupOperations(Operations):
    def create_schedule_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["Name"]
        if self.service.group_exists(ctx, name):
            raise ServiceError("ConflictException", f"Schedule group {name} already exists.", 409)
        arn = ctx.arn("scheduler", f"schedule-group/{name}")
        self.service.store.add_group(ctx.account_id, ctx.region, name, arn, self.clock.now())
        if params.get("Tags"):
            self.service.tags.add(arn, tag_dict(params["Tags"]), account=ctx.account_id, region=ctx.region)
        return {"ScheduleGroupArn": arn}

    def get_schedule_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._group_entry(ctx, self._group(ctx, params["Name"]))

    def delete_schedule_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        if params["Name"] == DEFAULT_GROUP:
            raise _validation("The default schedule group cannot be deleted.")
        row = self._group(ctx, params["Name"])
        self.service.store.delete_group(ctx.account_id, ctx.region, row[2])
        self.service.tags.forget(row[3])
        return {}

    def list_schedule_groups(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        prefix = params.get("NamePrefix") or ""
        limit = params.get("MaxResults") or 100
        after = decode_token(params.get("NextToken"), _invalid_token, f"groups:{prefix}") or ""
        rows = [self._default(ctx)] if DEFAULT_GROUP.startswith(prefix) and after < DEFAULT_GROUP else []
        rows += self.service.store.groups(ctx.account_id, ctx.region, prefix, after, limit + 1)
        rows.sort(key=lambda row: row[2])
        page, token = page_of(rows, limit, lambda row: row[2], f"groups:{prefix}")
        result: dict[str, Any] = {"ScheduleGroups": [self._group_entry(ctx, row) for row in page]}
        if token:
            result["NextToken"] = token
        return result

    def _group(self, ctx: RequestContext, name: str) -> tuple:
        if name == DEFAULT_GROUP:
            return self._default(ctx)
        row = self.service.store.group(ctx.account_id, ctx.region, name)
        if row is None:
            raise ServiceError("ResourceNotFoundException", f"Schedule group {name} does not exist.", 404)
        return row

    def _default(self, ctx: RequestContext) -> tuple:
        """The default group, which every account has (it is not stored)."""
        return (
            ctx.account_id,
            ctx.region,
            DEFAULT_GROUP,
            ctx.arn("scheduler", "schedule-group/default"),
            0.0,
            0.0,
        )

    @staticmethod
    def _group_entry(ctx: RequestContext, row: tuple) -> dict[str, Any]:
        return {
            "Arn": row[3],
            "Name": row[2],
            "State": "ACTIVE",
            "CreationDate": row[4],
            "LastModificationDate": row[5],
        }


class SchedulerTagOperations(Operations):
    """Tags of schedule groups (schedules themselves take none)."""

    def tag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = self._group_arn(params["ResourceArn"])
        self.service.tags.add(arn, tag_dict(params["Tags"]), account=ctx.account_id, region=ctx.region)
        return {}

    def untag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.service.tags.remove(self._group_arn(params["ResourceArn"]), params["TagKeys"])
        return {}

    def list_tags_for_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"Tags": tag_list(self.service.tags.get(self._group_arn(params["ResourceArn"])))}

    def _group_arn(self, arn: str) -> str:
        if self.service.store.group_by_arn(arn) is None:
            raise ServiceError("ResourceNotFoundException", f"Resource {arn} does not exist.", 404)
        return arn
