"""Replicas of a secret in other Regions: ReplicateSecretToRegions (and CreateSecret's AddReplicaRegions),
RemoveRegionsFromReplication, StopReplicationToReplica.

A replica is a secret of the same name and ARN (but its Region) whose versions, labels, description, tags and
resource policy follow its primary's: after every change to the primary, `Replicator.sync` copies what changed,
each value decrypted in the primary's Region and encrypted again under the replica's own KMS key (the Region's
`aws/secretsmanager` unless another is named). Replicas refuse changes of their own."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.kit.arns import parse_arn
from overcast.services.secretsmanager import rules as errors
from overcast.services.secretsmanager.store import Secret, Version

if TYPE_CHECKING:
    from overcast.services.secretsmanager.provider import SecretsManagerProvider


def replica_arn(arn: str, region: str) -> str:
    parsed = parse_arn(arn)
    assert parsed is not None
    return f"arn:aws:secretsmanager:{region}:{parsed.account}:{parsed.resource}"


class Replicator:
    def __init__(self, provider: SecretsManagerProvider) -> None:
        self.provider = provider

    def status(self, secret: Secret) -> list[dict[str, Any]]:
        """DescribeSecret's ReplicationStatus of a primary."""
        entries = []
        for region, key, status, message in self.provider.store.replicas(secret.arn):
            entry: dict[str, Any] = {
                "Region": region,
                "KmsKeyId": key or "alias/aws/secretsmanager",
                "Status": status,
            }
            if message:
                entry["StatusMessage"] = message
            entries.append(entry)
        return entries

    def check_writable(self, secret: Secret) -> None:
        if secret.primary_region:
            raise errors.invalid_request(
                f"Operation is not permitted on a replica secret. You must perform this operation on the primary "
                f"secret in {secret.primary_region}."
            )

    def add(
        self, ctx: RequestContext, secret: Secret, regions: list[dict[str, str]], overwrite: bool
    ) -> None:
        store = self.provider.store
        for item in regions:
            region = item["Region"]
            if region == secret.region:
                raise errors.invalid_parameter(
                    "The replica Region can't be the primary Region of the secret."
                )
            existing = store.secret_by_name(secret.account, region, secret.name)
            if existing is not None and existing.arn != replica_arn(secret.arn, region):
                if not overwrite:
                    store.put_replica(
                        secret.arn,
                        region,
                        item.get("KmsKeyId"),
                        "Failed",
                        "Replication failed: Secret name already exists in Region: " + region + ".",
                    )
                    continue
                store.purge(existing.arn)
            store.put_replica(secret.arn, region, item.get("KmsKeyId"), "InSync", "Replication succeeded")
        self.sync(ctx, secret)

    def sync(self, ctx: RequestContext, secret: Secret) -> None:
        """Bring every in-sync replica of `secret` up to date with it."""
        store = self.provider.store
        for region, key, status, _ in store.replicas(secret.arn):
            if status != "InSync":
                continue
            copy = replace(secret, arn=replica_arn(secret.arn, region), region=region, kms_key_id=key)
            copy.primary_region = secret.region
            copy.rotation_enabled, copy.next_rotation = False, None
            store.put_secret(copy)
            self._copy_versions(ctx, secret, copy)
            self.provider.tags.replace(
                copy.arn, self.provider.tags.get(secret.arn), account=copy.account, region=region
            )

    def _copy_versions(self, ctx: RequestContext, primary: Secret, copy: Secret) -> None:
        store = self.provider.store
        wanted = {v.version_id: v for v in store.versions(primary.arn)}
        for held in store.versions(copy.arn):
            if held.version_id not in wanted:
                store.delete_version(copy.arn, held.version_id)
        for version in reversed(list(wanted.values())):  # oldest first, as they were made
            held = store.version(copy.arn, version.version_id)
            if held is not None and held.kind == version.kind:
                continue
            if version.kind is None:
                store.put_version(copy.arn, replace(version))
                continue
            data = self.provider.open(ctx, primary, version)
            data_key, sealed, key_arn = self.provider.seal(ctx, copy, version.version_id, data)
            store.put_version(
                copy.arn,
                Version(version.version_id, version.created, version.kind, data_key, sealed, key_arn, None),
            )
        store.clear_stages(copy.arn)
        for version_id, labels in store.stages(primary.arn).items():
            for label in labels:
                store.set_stage(copy.arn, label, version_id)


class ReplicationOperations(Operations):
    service: SecretsManagerProvider

    def replicate_secret_to_regions(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        secret = self.service.secret_of(ctx, params["SecretId"])
        self.service.replicator.check_writable(secret)
        self.service.replicator.add(
            ctx, secret, params["AddReplicaRegions"], bool(params.get("ForceOverwriteReplicaSecret"))
        )
        return {"ARN": secret.arn, "ReplicationStatus": self.service.replicator.status(secret)}

    def remove_regions_from_replication(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        secret = self.service.secret_of(ctx, params["SecretId"])
        self.service.replicator.check_writable(secret)
        held = {region for region, *_ in self.service.store.replicas(secret.arn)}
        for region in params["RemoveReplicaRegions"]:
            if region not in held:
                raise errors.invalid_parameter(f"The secret has no replica in Region {region}.")
            self.service.store.remove_replica(secret.arn, region)
            self.service.store.purge(replica_arn(secret.arn, region))
            self.service.tags.forget(replica_arn(secret.arn, region))
        return {"ARN": secret.arn, "ReplicationStatus": self.service.replicator.status(secret)}

    def stop_replication_to_replica(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        secret = self.service.secret_of(ctx, params["SecretId"])
        if not secret.primary_region:
            raise ServiceError("InvalidRequestException", "This secret is not a replica secret.")
        primary = replica_arn(secret.arn, secret.primary_region)
        self.service.store.remove_replica(primary, secret.region)
        secret.primary_region = None
        self.service.store.put_secret(secret)
        return {"ARN": secret.arn}
