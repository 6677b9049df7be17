"""Log groups: creating, describing and deleting them, their retention and their KMS key."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.kit.paging import page_of
from overcast.services.logs.common import TAG_RULES, check_name, group_name, invalid, token_position
from overcast.services.logs.store import LogGroup

if TYPE_CHECKING:
    from overcast.services.logs.provider import LogsProvider

RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
_NAME = re.compile(r"[.\-_/#A-Za-z0-9]+")


class GroupOperations(Operations):
    service: LogsProvider

    def create_log_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service = self.service
        name = params["logGroupName"]
        check_name(name, "logGroupName", _NAME)
        if name.lower().startswith("aws/"):
            raise invalid("Log groups starting with AWS/ are reserved for AWS.")
        tags = params.get("tags") or {}
        TAG_RULES.check(tags)
        if service.store.group(ctx.account_id, ctx.region, name):
            raise ServiceError("ResourceAlreadyExistsException", "The specified log group already exists")
        service.store.create_group(
            ctx.account_id,
            ctx.region,
            name,
            service.now_ms(),
            params.get("kmsKeyId"),
            params.get("logGroupClass") or "STANDARD",
        )
        group = service.store.group(ctx.account_id, ctx.region, name)
        service.tags.add(group.arn, tags, TAG_RULES, account=ctx.account_id, region=ctx.region)
        return {}

    def delete_log_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group = self.service.group(ctx, params)
        self.service.store.delete_group(group.id)
        self.service.tags.forget(group.arn)
        return {}

    def describe_log_groups(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        store = self.service.store
        prefix, pattern = params.get("logGroupNamePrefix") or "", params.get("logGroupNamePattern")
        if prefix and pattern:
            raise invalid("LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.")
        limit = params.get("limit") or 50
        token = token_position(params, "DescribeLogGroups", str)
        after = token[0] if token else ""
        identifiers = params.get("logGroupIdentifiers")
        if identifiers:
            found = (store.group(ctx.account_id, ctx.region, group_name(i)) for i in identifiers)
            groups = [g for g in found if g]
        else:
            groups = store.list_groups(
                ctx.account_id, ctx.region, prefix, pattern, after, params.get("logGroupClass"), limit + 1
            )
        shown, next_token = page_of(groups, limit, lambda group: [group.name], "DescribeLogGroups")
        result: dict[str, Any] = {"logGroups": [self._describe(g) for g in shown]}
        if next_token:
            result["nextToken"] = next_token
        return result

    def list_log_groups(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        """The newer listing: name, ARN and class of each group, filtered by a pattern of alternatives (`|`),
        each a prefix (`^/aws/lambda`) or a substring, case-sensitive as AWS documents it."""
        matches = _name_pattern(params.get("logGroupNamePattern"))
        limit = params.get("limit") or 50
        token = token_position(params, "ListLogGroups", str)
        after, found = token[0] if token else "", []
        while len(found) <= limit:
            chunk = self.service.store.list_groups(
                ctx.account_id, ctx.region, "", None, after, params.get("logGroupClass"), 1000
            )
            found += [group for group in chunk if matches(group.name)]
            if len(chunk) < 1000:
                break
            after = chunk[-1].name
        shown, next_token = page_of(found, limit, lambda group: [group.name], "ListLogGroups")
        result: dict[str, Any] = {
            "logGroups": [
                {"logGroupName": g.name, "logGroupArn": g.arn, "logGroupClass": g.group_class} for g in shown
            ]
        }
        if next_token:
            result["nextToken"] = next_token
        return result

    def _describe(self, group: LogGroup) -> dict[str, Any]:
        described: dict[str, Any] = {
            "logGroupName": group.name,
            "creationTime": group.created_at,
            "metricFilterCount": self.service.store.metric_filter_count(group.id),
            "arn": group.arn + ":*",
            "storedBytes": group.stored_bytes,
            "logGroupClass": group.group_class,
            "logGroupArn": group.arn,
        }
        if group.retention_days:
            described["retentionInDays"] = group.retention_days
        if group.kms_key_id:
            described["kmsKeyId"] = group.kms_key_id
        return described

    def put_retention_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        days = params["retentionInDays"]
        if days not in RETENTION_DAYS:
            raise invalid(
                f"1 validation error detected: Value '{days}' at 'retentionInDays' failed to satisfy "
                f"constraint: Member must satisfy enum value set: [{', '.join(map(str, RETENTION_DAYS))}]"
            )
        group = self.service.group(ctx, params)
        self.service.store.update_group(group.id, retention_days=days)
        self.db.after_commit(self.service.retention.wake)
        return {}

    def delete_retention_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.service.store.update_group(self.service.group(ctx, params).id, retention_days=None)
        return {}

    def associate_kms_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.service.store.update_group(self.service.group(ctx, params).id, kms_key_id=params["kmsKeyId"])
        return {}

    def disassociate_kms_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.service.store.update_group(self.service.group(ctx, params).id, kms_key_id=None)
        return {}


def _name_pattern(pattern: str | None) -> Callable[[str], bool]:
    """ListLogGroups' logGroupNamePattern: alternatives separated by `|`, `^` anchoring one at the start."""
    if not pattern:
        return lambda name: True
    alternatives = pattern.split("|")
    return lambda name: any(
        name.startswith(alt[1:]) if alt.startswith("^") else alt in name for alt in alternatives
    )
