"""Secrets Manager's provider: composition, finding secrets (name, ARN, partial ARN), values sealed under a KMS
data key per version, and the policy engine's hooks (a secret's resource policy and tags)."""

from __future__ import annotations

import asyncio
import os
import string
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

import overcast.services.kms.api as kms
from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import ServiceProvider
from overcast.services.kit.arns import parse_arn
from overcast.services.kit.timers import run_due_work
from overcast.services.secretsmanager.policies import PolicyOperations
from overcast.services.secretsmanager.replication import ReplicationOperations, Replicator
from overcast.services.secretsmanager.rotation import RotationOperations, Rotator
from overcast.services.secretsmanager.rules import marked_for_deletion, not_found
from overcast.services.secretsmanager.secrets import SecretOperations
from overcast.services.secretsmanager.store import Secret, SecretsStore, Version
from overcast.services.secretsmanager.values import ValueOperations

DEFAULT_KEY = "alias/aws/secretsmanager"
_SUFFIX_CHARS = string.ascii_letters + string.digits
_FOUND = "secretsmanager.found"  # ctx.extra: (SecretId, total_changes, Secret) from resource_arn
_NO_SECRET_OPERATIONS = frozenset({"ListSecrets", "GetRandomPassword", "BatchGetSecretValue"})


class SecretsManagerProvider(ServiceProvider):
    service_name = "secretsmanager"
    families = (
        SecretOperations,
        ValueOperations,
        RotationOperations,
        PolicyOperations,
        ReplicationOperations,
    )
    remembered = frozenset({"GetSecretValue"})

    def __init__(self, platform) -> None:
        super().__init__(platform)
        self.store = SecretsStore(self.db)
        self.wake = asyncio.Event()
        self.rotator = Rotator(self)
        # the families the others use: versions are written by CreateSecret, listings read by batch reads
        self.values = next(f for f in self.operations if isinstance(f, ValueOperations))
        self.secrets = next(f for f in self.operations if isinstance(f, SecretOperations))
        self.replicator = Replicator(self)

    async def start(self) -> None:
        self.platform.spawn(
            run_due_work(self.clock, self.wake, self.rotator.run_due, "secretsmanager timers")
        )
        for arn in self.store.rotations_in_progress():  # rotations a restart interrupted go on
            self.platform.spawn(self.rotator.run(arn))

    def reset(self) -> None:
        self.store.forget()

    def schedule_changed(self) -> None:
        self.db.after_commit(self.wake.set)

    # -- finding secrets -----------------------------------------------------------------------------------

    def new_arn(self, ctx: RequestContext, name: str) -> str:
        suffix = "".join(_SUFFIX_CHARS[b % len(_SUFFIX_CHARS)] for b in os.urandom(6))
        return f"arn:aws:secretsmanager:{ctx.region}:{ctx.account_id}:secret:{name}-{suffix}"

    def find(self, ctx: RequestContext, secret_id: str) -> Secret | None:
        """The secret a SecretId names: its name, its ARN, or its ARN without the six-character suffix."""
        if secret_id.startswith("arn:"):
            found = self.store.secret_by_arn(secret_id)
            if found is not None:
                return found
            arn = parse_arn(secret_id)
            if arn is None or arn.service != "secretsmanager" or not arn.resource.startswith("secret:"):
                return None
            partial = self.store.secret_by_name(arn.account, arn.region, arn.resource[len("secret:") :])
            return partial if partial is not None and partial.arn.startswith(secret_id + "-") else None
        return self.store.secret_by_name(ctx.account_id, ctx.region, secret_id)

    def secret_of(
        self, ctx: RequestContext, secret_id: str, *, deleted_ok: bool = False, change: bool = False
    ) -> Secret:
        """The secret a SecretId names; `change`: the request changes it (a replica refuses)."""
        secret = self._seen(ctx, secret_id) or self.find(ctx, secret_id)
        if secret is None:
            raise not_found()
        if secret.deleted_date is not None and not deleted_ok:
            raise marked_for_deletion()
        if change:
            self.replicator.check_writable(secret)
        return secret

    def changed(self, ctx: RequestContext, secret: Secret) -> None:
        """A secret changed: its replicas follow."""
        self.replicator.sync(ctx, secret)

    def _seen(self, ctx: RequestContext, secret_id: str) -> Secret | None:
        """The secret as `resource_arn` found it for this request, if the database has not changed since (this
        process is its only writer): the handler need not read it again."""
        seen = ctx.extra.pop(_FOUND, None)
        if seen is None:
            return None
        named, changes, secret = seen
        return secret if named == secret_id and changes == self.db.conn.total_changes else None

    # -- values: sealed under a KMS data key ---------------------------------------------------------------

    @staticmethod
    def _context(secret: Secret, version_id: str) -> dict[str, str]:
        return {"SecretARN": secret.arn, "SecretVersionId": version_id}

    def seal(
        self, ctx: RequestContext, secret: Secret, version_id: str, value: bytes
    ) -> tuple[bytes, bytes, str]:
        """(encrypted data key, sealed value, KMS key ARN) of a new version's value."""
        try:
            data_key = kms.generate_data_key(
                self.platform,
                ctx.principal,
                secret.account,
                secret.region,
                secret.kms_key_id or DEFAULT_KEY,
                self._context(secret, version_id),
                via="secretsmanager",
            )
        except ServiceError as error:
            if error.code.startswith("AccessDenied"):
                raise
            raise ServiceError(
                "EncryptionFailure",
                "Secrets Manager can't encrypt the protected secret text using the provided KMS key. Check that "
                "the KMS key is available, enabled, and not in an invalid state.",
            ) from None
        nonce = os.urandom(12)
        sealed = nonce + AESGCM(data_key.plaintext).encrypt(nonce, value, secret.arn.encode())
        return data_key.ciphertext, sealed, data_key.key_arn

    def open(self, ctx: RequestContext, secret: Secret, version: Version) -> bytes:
        assert version.data_key is not None and version.sealed is not None
        try:
            plaintext_key = kms.decrypt(
                self.platform,
                ctx.principal,
                secret.account,
                secret.region,
                version.data_key,
                self._context(secret, version.version_id),
                via="secretsmanager",
            )
            return AESGCM(plaintext_key).decrypt(
                version.sealed[:12], version.sealed[12:], secret.arn.encode()
            )
        except ServiceError as error:
            if error.code.startswith("AccessDenied"):
                raise
            raise ServiceError(
                "DecryptionFailure",
                "Secrets Manager can't decrypt the protected secret text using the provided KMS key.",
            ) from None
        except InvalidTag:
            raise ServiceError(
                "DecryptionFailure", "Secrets Manager can't decrypt the protected secret text."
            ) from None

    # -- the policy engine's hooks -------------------------------------------------------------------------

    def resource_arn(self, ctx: RequestContext, params: dict[str, Any]) -> str | None:
        if ctx.operation in _NO_SECRET_OPERATIONS:
            return "*"
        if ctx.operation == "CreateSecret":
            return (
                f"arn:aws:secretsmanager:{ctx.region}:{ctx.account_id}:secret:{params.get('Name', '')}-??????"
            )
        secret_id = params.get("SecretId")
        if not secret_id:
            return "*"
        found = self.find(ctx, secret_id)
        if found is None:
            return None
        ctx.extra[_FOUND] = (secret_id, self.db.conn.total_changes, found)
        return found.arn

    def authorization_resource(self, ctx: RequestContext, arn: str) -> Any:
        from overcast.policy.enforcement import ResourcePolicy

        secret = self.store.secret_by_arn(arn)
        if secret is None:
            return None
        return ResourcePolicy(secret.account, secret.policy, self.tags.get(secret.arn))

    def condition_keys(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        keys: dict[str, Any] = {}
        for member, key in (
            ("Name", "secretsmanager:Name"),
            ("Description", "secretsmanager:Description"),
            ("KmsKeyId", "secretsmanager:KmsKeyId"),
            ("VersionId", "secretsmanager:VersionId"),
            ("VersionStage", "secretsmanager:VersionStage"),
            ("RotationLambdaARN", "secretsmanager:RotationLambdaARN"),
            ("SecretId", "secretsmanager:SecretId"),
        ):
            if params.get(member):
                keys[key] = params[member]
        if "BlockPublicPolicy" in params:
            keys["secretsmanager:BlockPublicPolicy"] = "true" if params["BlockPublicPolicy"] else "false"
        return keys
