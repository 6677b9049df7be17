"""The lifecycle worker: applies each bucket's lifecycle rules as the virtual clock moves.

Rules are evaluated in sweeps (every real minute, and at once whenever the clock is advanced): current
versions expire or transition by age or date, noncurrent versions by days since they became noncurrent
(approximated by the modification time of the next newer version), expired delete markers go, and
incomplete multipart uploads are aborted. An age in days counts as AWS counts it: the moment plus the days,
rounded up to the next midnight UTC (an object written at 10:30 with `Days: 3` expires at 00:00 four days
later); that moment is also what the `x-amz-expiration` header announces (`expiration`).
"""

from __future__ import annotations

import asyncio
import logging
from email.utils import formatdate
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from overcast.services.s3 import multipart
from overcast.services.s3.common import seconds

if TYPE_CHECKING:
    from overcast.services.s3.provider import S3Provider

log = logging.getLogger("overcast.s3")
DAY = 86400
BATCH = 500
# The order of storage classes from warm to cold: a transition never goes back up.
_TEMPERATURE = [
    "STANDARD",
    "INTELLIGENT_TIERING",
    "STANDARD_IA",
    "ONEZONE_IA",
    "GLACIER_IR",
    "GLACIER",
    "DEEP_ARCHIVE",
]


async def run(provider: S3Provider) -> None:
    while True:
        try:
            sweep(provider)
        except Exception:  # a bad rule must not stop the worker
            log.exception("lifecycle sweep failed")
        await provider.clock.wait_for_change(60)
        await asyncio.sleep(0)


def sweep(provider: S3Provider) -> None:
    """One pass over every bucket that has a lifecycle configuration."""
    now = provider.clock.now()
    for bucket_id, config in provider.store.buckets_with_config("lifecycle"):
        rules = [r for r in config.get("Rules") or [] if r.get("Status") == "Enabled"]
        minimum = config.get("TransitionDefaultMinimumObjectSize") or "all_storage_classes_128K"
        if rules:
            _apply(provider, bucket_id, [{**rule, "$minimum": minimum} for rule in rules], now)


def _apply(provider: S3Provider, bucket_id: int, rules: list[dict[str, Any]], now: float) -> None:
    store = provider.store
    after = 0
    while True:
        with provider.db.transaction():
            versions = store.versions_after(bucket_id, after, BATCH)
            for version in versions:
                for rule in rules:
                    if _matches(rule, version) and _act(provider, bucket_id, rule, version, now):
                        break
            for rule in rules:
                _abort_uploads(provider, bucket_id, rule, now)
        if len(versions) < BATCH:
            return
        after = versions[-1].id


def _matches(rule: dict[str, Any], version: Any) -> bool:
    spec = rule.get("Filter") or {}
    prefix = rule.get("Prefix") or spec.get("Prefix") or (spec.get("And") or {}).get("Prefix") or ""
    if not version.key.startswith(prefix):
        return False
    tags = [spec["Tag"]] if spec.get("Tag") else (spec.get("And") or {}).get("Tags") or []
    have = {(t["Key"], t["Value"]) for t in version.meta.get("Tags") or []}
    if any((t["Key"], t.get("Value", "")) not in have for t in tags):
        return False
    larger = spec.get("ObjectSizeGreaterThan") or (spec.get("And") or {}).get("ObjectSizeGreaterThan")
    smaller = spec.get("ObjectSizeLessThan") or (spec.get("And") or {}).get("ObjectSizeLessThan")
    return (larger is None or version.size > larger) and (smaller is None or version.size < smaller)


def midnight_after(moment: float) -> float:
    """The next midnight UTC strictly after `moment`: where AWS rounds lifecycle and restore days to."""
    return (moment // DAY + 1) * DAY


def _when(moment: float, days: int | None, date: Any) -> float | None:
    """When an action due `days` after `moment` (or on `date`) falls due; None without either."""
    if days is not None:
        return midnight_after(moment + days * DAY)
    if date is not None:
        return date["$time"] if isinstance(date, dict) else seconds(date)
    return None


def _due(moment: float, days: int | None, date: Any, now: float) -> bool:
    when = _when(moment, days, date)
    return when is not None and now >= when


def expiration(config: dict[str, Any] | None, version: Any) -> str | None:
    """The `x-amz-expiration` value for a current version (`key`, `meta`, `size`, `modified`): when the
    earliest enabled rule with an `Expiration` date or age that matches it expires it, and that rule's id."""
    if not config:
        return None
    found: tuple[float, str] | None = None
    for rule in config.get("Rules") or []:
        action = rule.get("Expiration") or {}
        if rule.get("Status") != "Enabled" or not _matches(rule, version):
            continue
        when = _when(version.modified, action.get("Days"), action.get("Date"))
        if when is not None and (found is None or when < found[0]):
            found = (when, rule.get("ID") or "")
    if found is None:
        return None
    return f'expiry-date="{formatdate(found[0], usegmt=True)}", rule-id="{quote(found[1], safe="")}"'


def _act(provider: S3Provider, bucket_id: int, rule: dict[str, Any], version: Any, now: float) -> bool:
    """Apply the first due action of `rule` to `version`; True if the version was changed."""
    store = provider.store
    if version.is_latest:
        expiration = rule.get("Expiration") or {}
        if version.delete_marker:
            if (
                expiration.get("ExpiredObjectDeleteMarker")
                and len(store.versions_of(bucket_id, version.key)) == 1
            ):
                provider.versions.destroy(version)
                return True
            return False
        if _due(version.modified, expiration.get("Days"), expiration.get("Date"), now):
            provider.versions.delete_one(store.bucket_by_id(bucket_id), version.key, None, {})
            return True
        transitions = _allowed(rule, version, rule.get("Transitions") or [])
        return _transition(provider, version, transitions, version.modified, now)
    noncurrent_since = _noncurrent_since(provider, bucket_id, version)
    expiration = rule.get("NoncurrentVersionExpiration") or {}
    if expiration.get("NoncurrentDays") is not None and _due(
        noncurrent_since, expiration["NoncurrentDays"], None, now
    ):
        provider.versions.destroy(version)
        return True
    transitions = [
        {"Days": t.get("NoncurrentDays"), "StorageClass": t["StorageClass"]}
        for t in _allowed(rule, version, rule.get("NoncurrentVersionTransitions") or [])
    ]
    return not version.delete_marker and _transition(provider, version, transitions, noncurrent_since, now)


SMALL = 128 * 1024


def _allowed(rule: dict[str, Any], version: Any, transitions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The transitions an object may take by its size: under 128 KiB none by default
    (TransitionDefaultMinimumObjectSize all_storage_classes_128K), only to the Glacier classes with
    varies_by_storage_class; a rule whose filter sets ObjectSizeGreaterThan decides for itself."""
    spec = rule.get("Filter") or {}
    if (
        version.size >= SMALL
        or "ObjectSizeGreaterThan" in spec
        or "ObjectSizeGreaterThan" in (spec.get("And") or {})
    ):
        return transitions
    if rule.get("$minimum") == "varies_by_storage_class":
        return [t for t in transitions if t.get("StorageClass") in ("GLACIER", "DEEP_ARCHIVE")]
    return []


def _transition(
    provider: S3Provider, version: Any, transitions: list[dict[str, Any]], since: float, now: float
) -> bool:
    target = None
    for transition in transitions:
        if _due(since, transition.get("Days"), transition.get("Date"), now):
            candidate = transition["StorageClass"]
            if target is None or _TEMPERATURE.index(candidate) > _TEMPERATURE.index(target):
                target = candidate
    if target is None or _TEMPERATURE.index(target) <= _TEMPERATURE.index(version.storage_class):
        return False
    provider.store.update_object(version.id, storage_class=target)
    return True


def _noncurrent_since(provider: S3Provider, bucket_id: int, version: Any) -> float:
    newer = [v for v in provider.store.versions_of(bucket_id, version.key) if v.id > version.id]
    return min(v.modified for v in newer) if newer else version.modified


def _abort_uploads(provider: S3Provider, bucket_id: int, rule: dict[str, Any], now: float) -> None:
    days = (rule.get("AbortIncompleteMultipartUpload") or {}).get("DaysAfterInitiation")
    if days is None:
        return
    spec = rule.get("Filter") or {}
    prefix = rule.get("Prefix") or spec.get("Prefix") or ""
    for upload_id, key in provider.store.uploads_started_before(bucket_id, now - days * DAY):
        if key.startswith(prefix):
            multipart.abort_upload(provider, upload_id)
