"""On-demand backups and point-in-time recovery.

A backup copies the table's definition and items into backup rows. Point-in-time recovery keeps every item
version written while it is enabled (starting with a snapshot of the table when it is turned on), so a
restore rebuilds the table as it was at any moment of the recovery window on the virtual clock.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.dynamodb import definitions
from overcast.services.dynamodb.backup_store import Backup
from overcast.services.dynamodb.parameters import table_name
from overcast.services.dynamodb.store import Table, key_from_item
from overcast.services.dynamodb.values import Item, item_size, load_item

if TYPE_CHECKING:
    from overcast.services.dynamodb.provider import DynamoDBProvider

DEFAULT_RECOVERY_DAYS = 35
_COPIED_META = (
    "AttributeDefinitions",
    "KeySchema",
    "BillingMode",
    "ProvisionedThroughput",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "TableClass",
    "SSEDescription",
)


def _time(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


def _backup_not_found(arn: str) -> ServiceError:
    return ServiceError("BackupNotFoundException", f"Backup not found: {arn}")


class BackupOperations(Operations):
    service: DynamoDBProvider

    # -- on-demand backups ---------------------------------------------------------------------------

    def create_backup(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        store = self.service.store
        table = store.table(ctx.account_id, ctx.region, params["TableName"])
        if table is None:
            raise ServiceError("TableNotFoundException", f"Table not found: {params['TableName']}")
        now = self.clock.now()
        arn = f"{table.arn}/backup/{int(now * 1000):017d}-{uuid.uuid4().hex[:8]}"
        item_count, size = store.table_stats(table)
        meta = {k: copy.deepcopy(v) for k, v in table.meta.items() if k in _COPIED_META}
        meta["_source"] = {
            "TableArn": table.arn,
            "TableId": table.meta["TableId"],
            "Created": table.meta["_created"],
            "ItemCount": item_count,
            "Size": size,
        }
        items = ((text, binary) for _h, _pk, _sk, text, binary in store.all_items(table.id))
        store.backups.add(arn, ctx.account_id, ctx.region, table.name, params["BackupName"], now, meta, items)
        return {"BackupDetails": _backup_details(self._backup(ctx, arn))}

    def _backup(self, ctx: RequestContext, arn: str) -> Backup:
        found = self.service.store.backups.backup(arn, ctx.account_id, ctx.region)
        if found is None:
            raise _backup_not_found(arn)
        return found

    @staticmethod
    def _backup_description(backup: Backup, status: str = "AVAILABLE") -> dict[str, Any]:
        meta = backup.meta
        source = meta["_source"]
        details = {
            "TableName": backup.table_name,
            "TableId": source["TableId"],
            "TableArn": source["TableArn"],
            "TableSizeBytes": source["Size"],
            "KeySchema": meta["KeySchema"],
            "TableCreationDateTime": _time(source["Created"]),
            "ProvisionedThroughput": definitions.throughput_description(meta.get("ProvisionedThroughput")),
            "ItemCount": source["ItemCount"],
            "BillingMode": meta["BillingMode"],
        }
        features: dict[str, Any] = {}
        for listing in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            if meta.get(listing):
                features[listing] = [
                    {
                        k: v
                        for k, v in index.items()
                        if k in ("IndexName", "KeySchema", "Projection", "ProvisionedThroughput")
                    }
                    for index in meta[listing]
                ]
        return {
            "BackupDetails": _backup_details(backup, status),
            "SourceTableDetails": details,
            "SourceTableFeatureDetails": features,
        }

    def describe_backup(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"BackupDescription": self._backup_description(self._backup(ctx, params["BackupArn"]))}

    def delete_backup(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        backup = self._backup(ctx, params["BackupArn"])
        self.service.store.backups.delete(backup.arn)
        return {"BackupDescription": self._backup_description(backup, "DELETED")}

    def list_backups(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("BackupType") == "SYSTEM":
            return {"BackupSummaries": []}  # only user backups exist here
        lower, upper = params.get("TimeRangeLowerBound"), params.get("TimeRangeUpperBound")
        limit = params.get("Limit", 100)
        found = self.service.store.backups.backups(
            ctx.account_id,
            ctx.region,
            params.get("TableName") or None,
            params.get("ExclusiveStartBackupArn") or None,
            lower.timestamp() if lower else None,
            upper.timestamp() if upper else None,
            limit + 1,
        )
        summaries = []
        for backup in found[:limit]:
            source = backup.meta["_source"]
            summaries.append(
                {
                    "TableName": backup.table_name,
                    "TableId": source["TableId"],
                    "TableArn": source["TableArn"],
                    **_backup_details(backup),
                }
            )
        result: dict[str, Any] = {"BackupSummaries": summaries}
        if len(found) > limit:
            result["LastEvaluatedBackupArn"] = found[limit - 1].arn
        return result

    def restore_table_from_backup(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        backup = self._backup(ctx, params["BackupArn"])
        items = (
            load_item(text, bool(binary)) for text, binary in self.service.store.backups.items(backup.arn)
        )
        summary = {"SourceBackupArn": backup.arn, "SourceTableArn": backup.meta["_source"]["TableArn"]}
        return self._restore(ctx, params, backup.meta, items, summary)

    # -- point-in-time recovery ------------------------------------------------------------------------

    def _pitr_table(self, ctx: RequestContext, name: str) -> Table:
        table = self.service.store.table(ctx.account_id, ctx.region, name)
        if table is None:
            raise ServiceError("TableNotFoundException", f"Table not found: {name}")
        return table

    def _continuous_backups(self, table: Table) -> dict[str, Any]:
        pitr = table.meta.get("_pitr")
        description: dict[str, Any] = {"PointInTimeRecoveryStatus": "ENABLED" if pitr else "DISABLED"}
        if pitr:
            earliest, latest = self._restorable_window(table)
            description.update(
                EarliestRestorableDateTime=_time(earliest),
                LatestRestorableDateTime=_time(latest),
                RecoveryPeriodInDays=pitr["days"],
            )
        return {"ContinuousBackupsStatus": "ENABLED", "PointInTimeRecoveryDescription": description}

    def _restorable_window(self, table: Table) -> tuple[float, float]:
        pitr = table.meta["_pitr"]
        now = self.clock.now()
        return max(pitr["since"], now - pitr["days"] * 86400), now

    def describe_continuous_backups(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        table = self._pitr_table(ctx, params["TableName"])
        return {"ContinuousBackupsDescription": self._continuous_backups(table)}

    def update_continuous_backups(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        table = self._pitr_table(ctx, params["TableName"])
        spec = params["PointInTimeRecoverySpecification"]
        meta = copy.deepcopy(table.meta)
        enabled = spec["PointInTimeRecoveryEnabled"]
        now = self.clock.now()
        if enabled and not meta.get("_pitr"):
            meta["_pitr"] = {"since": now, "days": spec.get("RecoveryPeriodInDays") or DEFAULT_RECOVERY_DAYS}
            self.service.store.snapshot_history(table, now)
        elif enabled:
            meta["_pitr"]["days"] = spec.get("RecoveryPeriodInDays") or meta["_pitr"]["days"]
        elif meta.pop("_pitr", None):
            self.service.store.drop_history(table)
        self.service.store.save_meta(ctx.account_id, ctx.region, table.name, table.id, meta)
        updated = self.service.store.table(ctx.account_id, ctx.region, table.name)
        return {"ContinuousBackupsDescription": self._continuous_backups(updated)}  # type: ignore[arg-type]

    def restore_table_to_point_in_time(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        source_name = params.get("SourceTableName") or table_name(params.get("SourceTableArn") or "")
        table = self._pitr_table(ctx, source_name)
        if not table.meta.get("_pitr"):
            raise ServiceError(
                "PointInTimeRecoveryUnavailableException",
                f"Point in time recovery is not enabled for table '{table.name}'",
            )
        earliest, latest = self._restorable_window(table)
        moment = latest if params.get("UseLatestRestorableTime") else params.get("RestoreDateTime")
        if moment is None:
            raise ServiceError(
                "ValidationException", "Either RestoreDateTime or UseLatestRestorableTime must be given"
            )
        if isinstance(moment, datetime):
            moment = moment.timestamp()
        if not earliest <= moment <= latest:
            raise ServiceError(
                "InvalidRestoreTimeException",
                f"Only the restore time between {_time(earliest).isoformat()} and {_time(latest).isoformat()} is allowed",
            )
        meta = {k: copy.deepcopy(v) for k, v in table.meta.items() if k in _COPIED_META}
        items = self.service.store.history_at(table, moment)
        summary = {"SourceTableArn": table.arn, "RestoreDateTime": _time(moment)}
        return self._restore(ctx, params, meta, items, summary)

    # -- restoring -------------------------------------------------------------------------------------

    def _restore(
        self,
        ctx: RequestContext,
        params: dict[str, Any],
        source: dict[str, Any],
        items: Iterable[Item],
        summary: dict,
    ) -> dict[str, Any]:
        store = self.service.store
        name = params["TargetTableName"]
        definitions.check_table_name(name)
        if store.table(ctx.account_id, ctx.region, name) is not None:
            raise ServiceError("TableAlreadyExistsException", f"Table already exists: {name}")
        now = self.clock.now()
        request = {k: v for k, v in source.items() if not k.startswith("_")}
        request["TableName"] = name
        _apply_overrides(request, params)
        meta = definitions.new_table_meta(ctx, request, request["BillingMode"], now)
        if source.get("SSEDescription"):
            meta["SSEDescription"] = source["SSEDescription"]
        table = store.create_table(ctx.account_id, ctx.region, name, meta)
        for item in items:
            self.service.write(table, key_from_item(table.key, item), None, item, item_size(item))
        description = definitions.describe(store, table, "CREATING")
        description["RestoreSummary"] = {"RestoreDateTime": _time(now), **summary, "RestoreInProgress": False}
        return {"TableDescription": description}


def _backup_details(backup: Backup, status: str = "AVAILABLE") -> dict[str, Any]:
    return {
        "BackupArn": backup.arn,
        "BackupName": backup.name,
        "BackupSizeBytes": backup.meta["_source"]["Size"],
        "BackupStatus": status,
        "BackupType": "USER",
        "BackupCreationDateTime": _time(backup.created),
    }


def _apply_overrides(request: dict[str, Any], params: dict[str, Any]) -> None:
    if params.get("BillingModeOverride"):
        request["BillingMode"] = params["BillingModeOverride"]
        if request["BillingMode"] == "PAY_PER_REQUEST":
            request.pop("ProvisionedThroughput", None)
            for index in request.get("GlobalSecondaryIndexes", ()):
                index.pop("ProvisionedThroughput", None)
    if params.get("ProvisionedThroughputOverride"):
        request["ProvisionedThroughput"] = params["ProvisionedThroughputOverride"]
    for listing in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        override = params.get(listing.replace("Indexes", "IndexOverride"))
        if override is not None:
            request[listing] = override
    for listing in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        for index in request.get(listing, ()):
            index.pop("_id", None)
