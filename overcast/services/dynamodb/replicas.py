"""Global tables, version 2019.11.21: UpdateTable's ReplicaUpdates create, update and delete a table's replicas in
other regions of the same account, and every write to any member is applied to the others.

Each member keeps, in its meta, the other members in the order it saw them join (`_replicas`: a list of
{"RegionName", overrides...}); DescribeTable lists exactly those, as AWS does. Replication is synchronous (a
write and its copies commit together), where AWS replicates within about a second: conflicts cannot arise.
The texts are those AWS answers (recorded against AWS: error codes are ValidationException throughout, never
the legacy API's ReplicaAlreadyExists/ReplicaNotFound).
"""

from __future__ import annotations

import json
import uuid
from functools import cache
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.services.dynamodb.store import Table
from overcast.services.dynamodb.values import invalid_parameter, validation

if TYPE_CHECKING:
    from overcast.services.dynamodb.tables import TableOperations

VERSION = "2019.11.21"
_ACTIONS = ("Create", "Update", "Delete")


@cache
def _supported_regions(partition_of: str) -> tuple[str, ...]:
    """The regions of the partition `partition_of` belongs to, from botocore's endpoint data."""
    import re

    from botocore.loaders import Loader

    for partition in Loader().load_data("endpoints")["partitions"]:
        if re.match(partition["regionRegex"], partition_of):
            return tuple(partition["regions"])
    return ()


def members(table: Table) -> list[str]:
    """The regions of the other replicas of `table`, in the order this member saw them join."""
    return [entry["RegionName"] for entry in table.meta.get("_replicas", ())]


def describe(store: Any, table: Table) -> dict[str, Any]:
    """DescribeTable's GlobalTableVersion and Replicas of a member of a global table ({} otherwise)."""
    if "_replicas" not in table.meta:
        return {}
    replicas = []
    for entry in table.meta["_replicas"]:
        described: dict[str, Any] = {"RegionName": entry["RegionName"], "ReplicaStatus": "ACTIVE"}
        if entry.get("ProvisionedThroughputOverride"):
            described["ProvisionedThroughputOverride"] = entry["ProvisionedThroughputOverride"]
        other = store.table(table.account, entry["RegionName"], table.name)
        if other is not None and other.meta.get("TableClass"):
            described["ReplicaTableClassSummary"] = {"TableClass": other.meta["TableClass"]}
        replicas.append(described)
    return {"GlobalTableVersion": VERSION, "Replicas": replicas}


def check_stream_change(table: Table, spec: dict[str, Any]) -> None:
    """A member's stream carries the replication: it cannot be turned off."""
    if table.meta.get("_replicas") and not spec.get("StreamEnabled"):
        raise validation("Disabling Stream is not allowed for a Global Table replica.")


def update_replicas(
    operations: TableOperations, ctx: RequestContext, table: Table, params: dict[str, Any]
) -> str | None:
    """Apply UpdateTable's ReplicaUpdates to `table`'s group; the region a Create adds, if any."""
    if any(name not in ("TableName", "ReplicaUpdates") for name in params):
        raise invalid_parameter("Replica modification must be the only operation in the request")
    actions = _parse(params["ReplicaUpdates"])
    joined = [(kind, spec["RegionName"]) for kind, spec in actions if kind != "Update"]
    if len(set(joined)) > 1:
        raise validation(
            "Update table operation with more than one create or delete replica actions not allowed"
        )
    for kind, spec in actions:
        _check_region(ctx, kind, spec["RegionName"])
    current = members(table)
    strangers = [
        spec["RegionName"] for kind, spec in actions if kind != "Create" and spec["RegionName"] not in current
    ]
    if strangers:
        raise validation(
            "Update global table operation failed because one or more replicas were not part of the global "
            f"table. Please retry the request without these replicas: [{', '.join(dict.fromkeys(strangers))}]."
        )
    added = None
    for kind, spec in dict(((kind, spec["RegionName"]), (kind, spec)) for kind, spec in actions).values():
        if kind == "Create":
            _create(operations, ctx, table, spec)
            added = spec["RegionName"]
        elif kind == "Delete":
            _delete(operations, ctx, table, spec["RegionName"])
        else:
            _update(operations, ctx, table, spec)
    return added


def _parse(updates: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    actions = []
    for update in updates:
        kinds = [kind for kind in _ACTIONS if update.get(kind) is not None]
        if len(kinds) > 1:
            raise validation("Update table operation with more than one type of replica actions not allowed")
        if not kinds:
            raise validation("There are no actions specified in the Replica Update Action of the request.")
        spec = update[kinds[0]]
        if kinds[0] == "Update" and not any(v is not None for k, v in spec.items() if k != "RegionName"):
            raise validation("There are no actions specified in the Replica Update Action of the request.")
        actions.append((kinds[0], spec))
    return actions


def _check_region(ctx: RequestContext, kind: str, region: str) -> None:
    supported = _supported_regions(ctx.region)
    if region not in supported:
        raise validation(
            f"Region {region} is not supported. The latest version of global tables are only supported in "
            f"the following regions: [{', '.join(supported)}]."
        )
    if region == ctx.region and kind != "Update":
        raise validation(
            "Cannot add or delete the local region through ReplicaUpdates. Use CreateTable, DeleteTable, or "
            "UpdateTable as required."
        )


# -- create --------------------------------------------------------------------------------------------


def _create(operations: TableOperations, ctx: RequestContext, table: Table, spec: dict[str, Any]) -> None:
    service, store = operations.service, operations.service.store
    region = spec["RegionName"]
    if region in members(table) or store.table(ctx.account_id, region, table.name) is not None:
        raise validation(
            f"Failed to create a the new replica of table with name: \u2018{table.name}\u2019 because one or more "
            "replicas already existed as tables."
        )
    if table.meta["BillingMode"] == "PROVISIONED":  # AWS: unless Application Auto Scaling manages writes
        raise validation("Table write capacity should either be Pay-Per-Request or AutoScaled.")
    now = operations.clock.now()
    source = json.loads(json.dumps(table.meta))
    if not source.get("_stream"):  # replication rides the stream: AWS turns it on (and leaves it on)
        operations.enable_stream(ctx, source, table.name, {"StreamViewType": "NEW_AND_OLD_IMAGES"}, now)
    # The new replica lists the others in the order they joined (the first table first), as AWS does.
    source.setdefault("_joined", 0)
    group = sorted(
        [(source["_joined"], ctx.region)] + [(p.meta["_joined"], p.region) for p in peers(store, table)]
    )
    source.setdefault("_replicas", []).append({"RegionName": region})
    store.save_meta(ctx.account_id, ctx.region, table.name, table.id, source)
    replica_meta = _replica_meta(ctx, source, region, spec, now)
    replica_meta["_replicas"] = [{"RegionName": name} for _, name in group]
    replica_meta["_joined"] = group[-1][0] + 1
    operations.enable_stream(
        ctx, replica_meta, table.name, {"StreamViewType": "NEW_AND_OLD_IMAGES"}, now, region
    )
    replica = store.create_table(ctx.account_id, region, table.name, replica_meta)
    store.copy_items(table, replica)
    if table.ttl_attribute:
        store.set_ttl_attribute(replica, table.ttl_attribute, now)
    for _, name in group:  # the members that joined earlier learn of the new one
        if name == ctx.region:
            continue
        _edit_meta(
            service,
            ctx.account_id,
            name,
            table.name,
            lambda meta: meta["_replicas"].append({"RegionName": region}),
        )


def _replica_meta(
    ctx: RequestContext, source: dict[str, Any], region: str, spec: dict[str, Any], now: float
) -> dict[str, Any]:
    """The definition of a new replica: the source's keys, indexes and capacity, its own identity."""
    meta = {
        key: json.loads(json.dumps(source[key]))
        for key in (
            "AttributeDefinitions",
            "KeySchema",
            "BillingMode",
            "ProvisionedThroughput",
            "GlobalSecondaryIndexes",
            "LocalSecondaryIndexes",
        )
        if key in source
    }
    for listing in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        for index in meta.get(listing, ()):
            index.pop("_id", None)
            index.pop("_status", None)
    name = source["TableArn"].split("/", 1)[1]
    meta.update(
        TableArn=ctx.arn("dynamodb", f"table/{name}", region=region),
        TableId=str(uuid.uuid4()),
        DeletionProtectionEnabled=False,
        _created=now,
    )
    if spec.get("TableClassOverride"):
        meta["TableClass"] = spec["TableClassOverride"]
    if source.get("SSEDescription"):
        meta["SSEDescription"] = {
            **source["SSEDescription"],
            "KMSMasterKeyArn": spec.get("KMSMasterKeyId")
            or ctx.arn("kms", "key/aws-dynamodb", region=region),
        }
    return meta


# -- update and delete -----------------------------------------------------------------------------------


def _update(operations: TableOperations, ctx: RequestContext, table: Table, spec: dict[str, Any]) -> None:
    service, region = operations.service, spec["RegionName"]
    if spec.get("ProvisionedThroughputOverride") and table.meta["BillingMode"] == "PAY_PER_REQUEST":
        raise validation(
            "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST"
        )
    if region == ctx.region:
        target = table
    else:
        target = service.store.table(ctx.account_id, region, table.name)  # type: ignore[assignment]
    if spec.get("TableClassOverride") and target is not None:
        _edit_meta(
            service,
            ctx.account_id,
            region,
            table.name,
            lambda meta: meta.update(TableClass=spec["TableClassOverride"]),
        )
    override = spec.get("ProvisionedThroughputOverride")
    if override:

        def set_override(meta: dict[str, Any]) -> None:
            for entry in meta["_replicas"]:
                if entry["RegionName"] == region:
                    entry["ProvisionedThroughputOverride"] = override

        _edit_meta(service, ctx.account_id, ctx.region, table.name, set_override)


def _delete(operations: TableOperations, ctx: RequestContext, table: Table, region: str) -> None:
    """Delete the replica in `region` with its items; the remaining members forget it."""
    replica = operations.service.store.table(ctx.account_id, region, table.name)
    if replica is not None:
        operations.drop_table(replica)
    leave(operations.service, table.account, region, table.name, [ctx.region, *members(table)])


def leave(service: Any, account: str, region: str, name: str, group: list[str]) -> None:
    """`region` left the group: every other member drops it (and stops being global when none remain)."""

    def drop(meta: dict[str, Any]) -> None:
        meta["_replicas"] = [entry for entry in meta.get("_replicas", ()) if entry["RegionName"] != region]
        if not meta["_replicas"]:
            meta.pop("_replicas")

    for member in group:
        if member != region:
            _edit_meta(service, account, member, name, drop)


def _edit_meta(service: Any, account: str, region: str, name: str, edit: Any) -> None:
    table = service.store.table(account, region, name)
    if table is None:
        return
    meta = json.loads(json.dumps(table.meta))
    edit(meta)
    service.store.save_meta(account, region, name, table.id, meta)


# -- writes -------------------------------------------------------------------------------------------------


def peers(store: Any, table: Table) -> list[Table]:
    """The other members' tables, to which a write to `table` is applied."""
    found = []
    for region in members(table):
        other = store.table(table.account, region, table.name)
        if other is not None:
            found.append(other)
    return found
