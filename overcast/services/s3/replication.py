"""Replication: new versions (and delete markers, where the rule says so) copied to another bucket, same- or
cross-region, after the write commits.

A version a rule matches is stored with `ReplicationStatus` PENDING; a background task then stores the
replica in the destination with the same version id, key, metadata and data (blobs hard-linked, never
shared) and status REPLICA, and marks the source COMPLETED (FAILED when the destination is gone or no longer
versioned). Replicas are never replicated again (no chaining A→B→C), and deletions of a specific version are
not replicated, as in AWS.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from overcast.services.kit.arns import parse_arn
from overcast.services.s3.store import INLINE, Bucket, S3Store

if TYPE_CHECKING:
    from overcast.services.s3.provider import S3Provider

log = logging.getLogger("overcast.s3")


def _tags_match(wanted: list[dict[str, str]], meta: dict[str, Any]) -> bool:
    have = {t["Key"]: t["Value"] for t in meta.get("Tags") or []}
    return all(have.get(t["Key"]) == t["Value"] for t in wanted)


def matching_rule(
    config: dict[str, Any], key: str, meta: dict[str, Any], delete_marker: bool
) -> dict[str, Any] | None:
    """The enabled rule (highest priority first) that replicates this version of `key`, if any."""
    rules = [r for r in config.get("Rules") or [] if r.get("Status") == "Enabled"]
    rules.sort(key=lambda r: -(r.get("Priority") or 0))
    for rule in rules:
        if "Filter" in rule:
            flt = rule.get("Filter") or {}
            both = flt.get("And") or {}
            prefix = flt.get("Prefix") or both.get("Prefix") or ""
            tags = ([flt["Tag"]] if flt.get("Tag") else []) + list(both.get("Tags") or [])
            if delete_marker and (rule.get("DeleteMarkerReplication") or {}).get("Status") != "Enabled":
                continue
        else:  # the older schema (rule-level Prefix): delete markers are replicated
            prefix, tags = rule.get("Prefix") or "", []
        if key.startswith(prefix) and (delete_marker or _tags_match(tags, meta)):
            return rule
    return None


def destination_name(rule: dict[str, Any]) -> str:
    """The destination bucket of a rule (its `Bucket` is the bucket's ARN; a bare name is taken as one)."""
    text = str((rule.get("Destination") or {}).get("Bucket", ""))
    arn = parse_arn(text)
    return arn.resource if arn is not None and arn.service == "s3" else text


def rule_for(store: S3Store, bucket: Bucket, key: str, fields: dict[str, Any]) -> dict[str, Any] | None:
    """The rule replicating a version about to be stored (whose `meta` is then marked PENDING)."""
    if bucket.versioning != "Enabled":
        return None
    meta = fields.get("meta") or {}
    if meta.get("ReplicationStatus") == "REPLICA":
        return None
    config = store.document(bucket.id, "replication")
    if not config:
        return None
    rule = matching_rule(config, key, meta, bool(fields.get("delete_marker")))
    if rule is not None and not fields.get("delete_marker"):
        fields["meta"] = {**meta, "ReplicationStatus": "PENDING"}
    return rule


def schedule(service: S3Provider, bucket: Bucket, key: str, version_id: str, rule: dict[str, Any]) -> None:
    """Copy the version once the transaction that stores it commits."""
    target = destination_name(rule)
    storage_class = (rule.get("Destination") or {}).get("StorageClass")
    service.db.after_commit(
        lambda: service.platform.spawn(_replicate(service, bucket.id, key, version_id, target, storage_class))
    )


async def _replicate(
    service: S3Provider, bucket_id: int, key: str, version_id: str, target: str, storage_class: str | None
) -> None:
    try:
        with service.db.transaction():
            _copy_version(service, bucket_id, key, version_id, target, storage_class)
    except Exception:  # a failed replication is the source's FAILED status, never a crash
        log.exception("replication of %s (%s) to %s failed", key, version_id, target)


def _copy_version(
    service: S3Provider, bucket_id: int, key: str, version_id: str, target: str, storage_class: str | None
) -> None:
    store = service.store
    source = store.version(bucket_id, key, version_id)
    if source is None:
        return  # deleted before it could be replicated
    destination = store.bucket(target)
    if destination is None or destination.versioning != "Enabled":
        if not source.delete_marker:
            store.update_object(source.id, meta={**source.meta, "ReplicationStatus": "FAILED"})
        return
    if store.version(destination.id, key, version_id) is None:
        blobs = service.platform.blobs
        parts = [[blobs.commit(blobs.copy(p[0])), *p[1:]] for p in source.part_list]
        blob_id, data = None, None
        if source.blob_id == INLINE:
            data = store.inline_data(source.id)
        elif not parts and source.blob_id:
            blob_id = blobs.commit(blobs.copy(source.blob_id))
        meta = dict(source.meta)
        if not source.delete_marker:
            meta["ReplicationStatus"] = "REPLICA"
        current = store.current(destination.id, key)
        if current is not None:
            store.demote(current.id)
        store.insert_version(
            destination.id,
            key,
            version_id,
            delete_marker=source.delete_marker,
            size=source.size,
            etag=source.etag,
            modified=source.modified,
            storage_class=storage_class or source.storage_class,
            blob_id=blob_id,
            parts=parts or None,
            meta=meta,
            data=data,
            enc=source.enc,  # the same bytes under the same key
        )
    if not source.delete_marker:
        store.update_object(source.id, meta={**source.meta, "ReplicationStatus": "COMPLETED"})
