"""Secret values: versions and staging labels (AWSCURRENT, AWSPREVIOUS, AWSPENDING, custom), GetSecretValue,
PutSecretValue, BatchGetSecretValue, ListSecretVersionIds and UpdateSecretVersionStage."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.kit.paging import decode_token, page_of
from overcast.services.secretsmanager import rules as errors
from overcast.services.secretsmanager.store import Secret, Version

if TYPE_CHECKING:
    from overcast.services.secretsmanager.provider import SecretsManagerProvider

DAY = 86400.0
CURRENT, PREVIOUS, PENDING = "AWSCURRENT", "AWSPREVIOUS", "AWSPENDING"


def requested_value(params: dict[str, Any]) -> tuple[str, bytes] | None:
    """("string" | "binary", bytes) of a request's SecretString or SecretBinary, or None."""
    string, binary = params.get("SecretString"), params.get("SecretBinary")
    if string is not None and binary is not None:
        raise errors.invalid_parameter(
            "You can't specify both a binary secret value and a string secret value in the same secret."
        )
    if string is not None:
        return "string", string.encode()
    if binary is not None:
        return "binary", binary
    return None


class ValueOperations(Operations):
    service: SecretsManagerProvider

    # -- writing versions ------------------------------------------------------------------------------------

    def add_version(
        self,
        ctx: RequestContext,
        secret: Secret,
        version_id: str,
        value: tuple[str, bytes],
        stages: list[str],
    ) -> None:
        """Store `value` as version `version_id` (idempotent for the same value) and attach `stages` to it."""
        kind, data = value
        store = self.service.store
        existing = store.version(secret.arn, version_id)
        if existing is not None and existing.kind is not None:
            if existing.kind == kind and self.service.open(ctx, secret, existing) == data:
                return  # a retry of the same request
            raise ServiceError(
                "ResourceExistsException",
                "You can't modify an existing version, you can only create a new version.",
            )
        if len(stages) > errors.MAX_LABELS_PER_VERSION:
            raise ServiceError("LimitExceededException", "A version can't have more than 20 staging labels.")
        data_key, sealed, key_arn = self.service.seal(ctx, secret, version_id, data)
        now = self.clock.now()
        created = existing.created if existing is not None else now
        store.put_version(secret.arn, Version(version_id, created, kind, data_key, sealed, key_arn, None))
        for label in stages:
            self.move_stage(secret, label, version_id)
        secret.last_changed = now
        store.put_secret(secret)
        self._prune(secret)
        self.service.changed(ctx, secret)

    def move_stage(self, secret: Secret, label: str, version_id: str) -> None:
        """Attach `label` to `version_id`; AWSCURRENT leaving a version leaves AWSPREVIOUS on it."""
        store = self.service.store
        previous = store.stage(secret.arn, label)
        if label == CURRENT and previous is not None and previous != version_id:
            store.set_stage(secret.arn, PREVIOUS, previous)
        store.set_stage(secret.arn, label, version_id)

    def _prune(self, secret: Secret) -> None:
        store = self.service.store
        versions = store.versions(secret.arn)
        if len(versions) <= errors.MAX_VERSIONS:
            return
        labelled = store.stages(secret.arn)
        for version in reversed(versions[errors.MAX_VERSIONS :]):
            if version.version_id not in labelled:
                store.delete_version(secret.arn, version.version_id)

    def put_secret_value(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        secret = self.service.secret_of(ctx, params["SecretId"], change=True)
        value = requested_value(params)
        if value is None:
            raise errors.invalid_parameter("You must provide either SecretString or SecretBinary.")
        version_id = params.get("ClientRequestToken") or str(uuid.uuid4())
        stages = params.get("VersionStages") or [CURRENT]
        self.add_version(ctx, secret, version_id, value, stages)
        return {
            "ARN": secret.arn,
            "Name": secret.name,
            "VersionId": version_id,
            "VersionStages": self.service.store.labels_of(secret.arn, version_id),
        }

    # -- reading values --------------------------------------------------------------------------------------

    def get_secret_value(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        secret = self.service.secret_of(ctx, params["SecretId"])
        return self.value_of(ctx, secret, params.get("VersionId"), params.get("VersionStage"))

    def value_of(
        self, ctx: RequestContext, secret: Secret, version_id: str | None, stage: str | None
    ) -> dict[str, Any]:
        store = self.service.store
        if version_id is None:
            stage = stage or CURRENT
            found = store.version_with_labels(secret.arn, None, stage)
            if found is None:
                raise ServiceError(
                    "ResourceNotFoundException",
                    f"Secrets Manager can't find the specified secret value for staging label: {stage}",
                )
            version_id = found[0].version_id
        else:
            found = store.version_with_labels(secret.arn, version_id)
        version, labels = found if found is not None else (None, [])
        if version is None or (stage is not None and stage not in labels):
            if version is not None:
                raise ServiceError(
                    "ResourceNotFoundException",
                    "You provided a VersionStage that is not associated to the provided VersionId.",
                )
            raise ServiceError(
                "ResourceNotFoundException",
                f"Secrets Manager can't find the specified secret value for VersionId: {version_id}",
            )
        if version.kind is None:
            what = f"staging label: {stage}" if stage else f"VersionId: {version_id}"
            raise ServiceError(
                "ResourceNotFoundException",
                f"Secrets Manager can't find the specified secret value for {what}",
            )
        data = self.service.open(ctx, secret, version)
        self._touch(secret, version)
        result: dict[str, Any] = {"ARN": secret.arn, "Name": secret.name, "VersionId": version_id}
        if version.kind == "binary":
            result["SecretBinary"] = data
        else:
            result["SecretString"] = data.decode()
        result["VersionStages"] = labels
        result["CreatedDate"] = version.created
        return result

    def _touch(self, secret: Secret, version: Version) -> None:
        """LastAccessedDate is a day (midnight UTC): written once a day, not on every read."""
        today = self.clock.now() // DAY * DAY
        if secret.last_accessed != today:
            secret.last_accessed = today
            self.service.store.put_secret(secret)
        if version.last_accessed != today:
            self.service.store.touch_version(secret.arn, version.version_id, today)

    def batch_get_secret_value(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ids, filters = params.get("SecretIdList"), params.get("Filters")
        if bool(ids) == bool(filters):
            raise errors.invalid_parameter(
                "Either 'SecretIdList' or 'Filters' must be provided, but not both."
            )
        if ids and params.get("MaxResults"):
            raise errors.invalid_parameter("'MaxResults' is only valid with 'Filters'.")
        values: list[dict[str, Any]] = []
        failures: list[dict[str, Any]] = []
        result: dict[str, Any] = {}
        if ids:
            for secret_id in ids:
                try:
                    secret = self.service.secret_of(ctx, secret_id)
                    values.append(self.value_of(ctx, secret, None, None))
                except ServiceError as error:
                    failures.append(
                        {"SecretId": secret_id, "ErrorCode": error.code, "Message": error.message}
                    )
        else:
            listing = self.service.secrets.list_secrets(
                ctx,
                {
                    "Filters": filters,
                    "MaxResults": params.get("MaxResults") or 20,
                    "NextToken": params.get("NextToken"),
                },
            )
            for entry in listing["SecretList"]:
                secret = self.service.secret_of(ctx, entry["ARN"])
                try:
                    values.append(self.value_of(ctx, secret, None, None))
                except ServiceError as error:
                    failures.append(
                        {"SecretId": secret.arn, "ErrorCode": error.code, "Message": error.message}
                    )
            if listing.get("NextToken"):
                result["NextToken"] = listing["NextToken"]
        result["SecretValues"] = values
        result["Errors"] = failures
        return result

    # -- versions and labels ---------------------------------------------------------------------------------

    def list_secret_version_ids(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        secret = self.service.secret_of(ctx, params["SecretId"], deleted_ok=True)
        stages = self.service.store.stages(secret.arn)
        versions = [
            v
            for v in self.service.store.versions(secret.arn)
            if params.get("IncludeDeprecated") or v.version_id in stages
        ]
        limit = params.get("MaxResults") or 100
        scope = f"versions:{secret.arn}"
        after = decode_token(params.get("NextToken"), errors.invalid_token, scope)
        if after is not None:
            ids = [v.version_id for v in versions]
            versions = versions[ids.index(after) + 1 :] if after in ids else []
        page, token = page_of(versions, limit, lambda v: v.version_id, scope)
        entries = []
        for version in page:
            entry: dict[str, Any] = {"VersionId": version.version_id}
            if version.version_id in stages:
                entry["VersionStages"] = stages[version.version_id]
            if version.last_accessed is not None:
                entry["LastAccessedDate"] = version.last_accessed
            entry["CreatedDate"] = version.created
            if version.kms_key_arn:
                entry["KmsKeyIds"] = [version.kms_key_arn]
            entries.append(entry)
        result: dict[str, Any] = {"Versions": entries}
        if token:
            result["NextToken"] = token
        result["ARN"] = secret.arn
        result["Name"] = secret.name
        return result

    def update_secret_version_stage(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        secret = self.service.secret_of(ctx, params["SecretId"], change=True)
        store = self.service.store
        label = params["VersionStage"]
        move_to, remove_from = params.get("MoveToVersionId"), params.get("RemoveFromVersionId")
        attached = store.stage(secret.arn, label)
        if move_to is not None and store.version(secret.arn, move_to) is None:
            raise errors.invalid_parameter(f"The version {move_to} doesn't exist.")
        if attached is not None and attached != move_to and remove_from != attached:
            if remove_from is None:
                raise errors.invalid_parameter(
                    f"The parameter RemoveFromVersionId is required because the staging label {label} is currently "
                    f"attached to version {attached}."
                )
            raise errors.invalid_parameter(
                "The parameter RemoveFromVersionId doesn't match the version currently attached to the staging label."
            )
        if move_to is None:
            if label == CURRENT:
                raise errors.invalid_parameter(
                    "You can't remove the staging label AWSCURRENT from a version."
                )
            if attached is not None:
                store.remove_stage(secret.arn, label)
        else:
            if len(store.labels_of(secret.arn, move_to)) >= errors.MAX_LABELS_PER_VERSION:
                raise ServiceError(
                    "LimitExceededException", "A version can't have more than 20 staging labels."
                )
            self.move_stage(secret, label, move_to)
            if label == CURRENT:
                self.service.rotator.finished(secret, move_to)
        secret.last_changed = self.clock.now()
        store.put_secret(secret)
        self.service.changed(ctx, secret)
        return {"ARN": secret.arn, "Name": secret.name}
