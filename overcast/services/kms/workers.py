"""KMS's timed work on the virtual clock: scheduled deletions, automatic rotations, imported key material
that expires. The due times are columns of `kms_keys`; `run_due` is driven by kit.timers.run_due_work."""

from __future__ import annotations

from typing import TYPE_CHECKING

from overcast.services.kms.keys import DAY

if TYPE_CHECKING:
    from overcast.services.kms.provider import KmsProvider


class KeyTimers:
    def __init__(self, provider: KmsProvider) -> None:
        self.provider = provider

    async def run_due(self) -> float | None:
        """Everything due by now, in one transaction; when the next thing is due (None: nothing is)."""
        provider = self.provider
        store = provider.store
        keys = provider.keys
        with provider.db.transaction():
            now = provider.clock.now()
            for key in store.due("deletion_date", now):
                self._delete(key)
            for key in store.due("next_rotation", now):
                if key.state in ("Enabled", "Disabled"):
                    keys.rotate(key, "AUTOMATIC")
                key.next_rotation = (key.next_rotation or now) + (key.rotation_period or 365) * DAY
                store.put_key(key)
            for key in store.due("valid_to", now):
                keys.expire_material(key)
            upcoming = [store.earliest(column) for column in ("deletion_date", "next_rotation", "valid_to")]
        found = [moment for moment in upcoming if moment is not None]
        return min(found) if found else None

    def _delete(self, key) -> None:
        provider = self.provider
        provider.store.delete_key(key)
        provider.tags.forget(key.arn)
        provider.vault.forget(key.account, key.key_id)
        if key.multi_region and key.region != key.primary_region:  # a replica: its primary may be waiting
            primary = provider.store.key(key.account, key.primary_region or "", key.key_id)
            if primary is not None and primary.state == "PendingReplicaDeletion":
                left = [
                    r for r in provider.store.replicas(key.account, key.key_id) if r.region != primary.region
                ]
                if not left:
                    primary.state = "PendingDeletion"
                    primary.deletion_date = provider.clock.now() + (primary.pending_window or 30) * DAY
                    provider.store.put_key(primary)
