"""Secrets: create, describe, list (with filters), update, delete with a recovery window, restore, tags and
GetRandomPassword."""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.kit.paging import decode_token, page_of
from overcast.services.kit.tags import tag_dict, tag_list
from overcast.services.secretsmanager import passwords
from overcast.services.secretsmanager import rules as errors
from overcast.services.secretsmanager.store import Secret
from overcast.services.secretsmanager.values import requested_value

if TYPE_CHECKING:
    from overcast.services.secretsmanager.provider import SecretsManagerProvider

DAY = 86400.0
_NAME = re.compile(r"^[a-zA-Z0-9/_+=.@-]{1,512}$")


class SecretOperations(Operations):
    service: SecretsManagerProvider

    # -- create, describe, list ----------------------------------------------------------------------------

    def create_secret(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["Name"]
        if not _NAME.match(name):
            raise errors.invalid_parameter(
                "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: "
                "-/_+=.@!"
            )
        value = requested_value(params)
        existing = self.service.store.secret_by_name(ctx.account_id, ctx.region, name)
        if existing is not None:
            if existing.deleted_date is not None:
                raise errors.invalid_request(
                    "You can't create this secret because a secret with this name is already scheduled for deletion."
                )
            token = params.get("ClientRequestToken")
            version = self.service.store.version(existing.arn, token) if token else None
            if version is not None:  # a retried CreateSecret: the same answer
                return {"ARN": existing.arn, "Name": existing.name, "VersionId": token}
            raise ServiceError(
                "ResourceExistsException", f"The operation failed because the secret {name} already exists."
            )
        now = self.clock.now()
        secret = Secret(
            arn=self.service.new_arn(ctx, name),
            account=ctx.account_id,
            region=ctx.region,
            name=name,
            description=params.get("Description"),
            kms_key_id=params.get("KmsKeyId"),
            created=now,
            last_changed=now,
        )
        self.service.store.put_secret(secret)
        tags = tag_dict(params.get("Tags"))
        if tags:
            self.service.tags.add(
                secret.arn, tags, errors.TAG_RULES, account=ctx.account_id, region=ctx.region
            )
        result: dict[str, Any] = {"ARN": secret.arn, "Name": name}
        if value is not None:
            version_id = params.get("ClientRequestToken") or str(uuid.uuid4())
            self.service.values.add_version(ctx, secret, version_id, value, ["AWSCURRENT"])
            result["VersionId"] = version_id
        if params.get("AddReplicaRegions"):
            self.service.replicator.add(
                ctx, secret, params["AddReplicaRegions"], bool(params.get("ForceOverwriteReplicaSecret"))
            )
            result["ReplicationStatus"] = self.service.replicator.status(secret)
        return result

    def describe_secret(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        secret = self.service.secret_of(ctx, params["SecretId"], deleted_ok=True)
        return self.description(secret, "VersionIdsToStages")

    def description(self, secret: Secret, stages_member: str) -> dict[str, Any]:
        """DescribeSecret's answer (ListSecrets' entries name the stages SecretVersionsToStages)."""
        result: dict[str, Any] = {"ARN": secret.arn, "Name": secret.name}
        if secret.description is not None:
            result["Description"] = secret.description
        if secret.kms_key_id:
            result["KmsKeyId"] = secret.kms_key_id
        result["RotationEnabled"] = secret.rotation_enabled
        if secret.rotation_lambda:
            result["RotationLambdaARN"] = secret.rotation_lambda
        if secret.rotation_rules:
            result["RotationRules"] = secret.rotation_rules
        if secret.last_rotated is not None:
            result["LastRotatedDate"] = secret.last_rotated
        result["LastChangedDate"] = secret.last_changed
        if secret.last_accessed is not None:
            result["LastAccessedDate"] = secret.last_accessed
        if secret.deleted_date is not None:
            result["DeletedDate"] = secret.deleted_date
        if secret.rotation_enabled and secret.next_rotation is not None:
            result["NextRotationDate"] = secret.next_rotation
        tags = self.service.tags.get(secret.arn)
        if tags:
            result["Tags"] = tag_list(tags)
        stages = self.service.store.stages(secret.arn)
        if stages:
            result[stages_member] = stages
        if secret.owning_service:
            result["OwningService"] = secret.owning_service
        result["CreatedDate"] = secret.created
        if secret.primary_region:
            result["PrimaryRegion"] = secret.primary_region
        replication = self.service.replicator.status(secret)
        if replication and stages_member == "VersionIdsToStages":
            result["ReplicationStatus"] = replication
        return result

    def list_secrets(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = params.get("MaxResults") or 100
        descending = params.get("SortOrder") == "desc"
        scope = "secrets"
        after = decode_token(params.get("NextToken"), errors.invalid_token, scope) or ""
        filters = params.get("Filters") or []
        _check_filters(filters)
        include_deleted = bool(params.get("IncludePlannedDeletion"))
        found: list[Secret] = []
        cursor = after
        while len(found) <= limit:  # filtered pages read the table in batches, never all at once
            batch = self.service.store.secrets_after(ctx.account_id, ctx.region, cursor, 200, descending)
            for secret in batch:
                if (include_deleted or secret.deleted_date is None) and self._matches(secret, filters):
                    found.append(secret)
            if len(batch) < 200:
                break
            cursor = batch[-1].name
        page, token = page_of(found, limit, lambda secret: secret.name, scope)
        result: dict[str, Any] = {"SecretList": [self.description(s, "SecretVersionsToStages") for s in page]}
        if token:
            result["NextToken"] = token
        return result

    def _matches(self, secret: Secret, filters: list[dict[str, Any]]) -> bool:
        tags = self.service.tags.get(secret.arn) if filters else {}
        for item in filters:
            key, values = item["Key"], item.get("Values") or []
            fields = {
                "name": [secret.name],
                "description": [secret.description or ""],
                "tag-key": list(tags),
                "tag-value": list(tags.values()),
                "primary-region": [],
                "owning-service": [secret.owning_service or ""],
            }
            haystack = fields.get(key, [v for f in fields.values() for v in f])
            if not any(_filter_match(value, text) for value in values for text in haystack):
                return False
        return True

    # -- change and delete -----------------------------------------------------------------------------------

    def update_secret(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        secret = self.service.secret_of(ctx, params["SecretId"], change=True)
        value = requested_value(params)
        if "Description" in params:
            secret.description = params["Description"]
        if params.get("KmsKeyId"):
            secret.kms_key_id = params["KmsKeyId"]
        secret.last_changed = self.clock.now()
        self.service.store.put_secret(secret)
        result: dict[str, Any] = {"ARN": secret.arn, "Name": secret.name}
        if value is not None:
            version_id = params.get("ClientRequestToken") or str(uuid.uuid4())
            self.service.values.add_version(ctx, secret, version_id, value, ["AWSCURRENT"])
            result["VersionId"] = version_id
        else:
            self.service.changed(ctx, secret)
        return result

    def delete_secret(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        secret = self.service.secret_of(ctx, params["SecretId"], deleted_ok=True, change=True)
        replicas = [region for region, *_ in self.service.store.replicas(secret.arn)]
        if replicas:
            raise errors.invalid_request(
                f"You can't delete secret {secret.name} that still has replica regions {replicas}"
            )
        force = params.get("ForceDeleteWithoutRecovery")
        window = params.get("RecoveryWindowInDays")
        if force and window is not None:
            raise errors.invalid_parameter(
                "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays."
            )
        if window is not None and not 7 <= window <= 30:
            raise errors.invalid_parameter(
                "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive)."
            )
        now = self.clock.now()
        if force:
            self.purge(secret)
            return {"ARN": secret.arn, "Name": secret.name, "DeletionDate": now}
        if secret.deleted_date is not None:
            raise errors.marked_for_deletion()
        secret.deleted_date = now + (window or 30) * DAY
        self.service.store.put_secret(secret)
        self.service.schedule_changed()
        return {"ARN": secret.arn, "Name": secret.name, "DeletionDate": secret.deleted_date}

    def purge(self, secret: Secret) -> None:
        self.service.store.purge(secret.arn)
        self.service.tags.forget(secret.arn)

    def restore_secret(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        secret = self.service.secret_of(ctx, params["SecretId"], deleted_ok=True)
        secret.deleted_date = None
        self.service.store.put_secret(secret)
        return {"ARN": secret.arn, "Name": secret.name}

    # -- tags and passwords ----------------------------------------------------------------------------------

    def tag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        secret = self.service.secret_of(ctx, params["SecretId"], change=True)
        tags = tag_dict(params["Tags"])
        self.service.tags.add(
            secret.arn, tags, errors.TAG_RULES, account=secret.account, region=secret.region
        )
        self.service.changed(ctx, secret)
        return {}

    def untag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        secret = self.service.secret_of(ctx, params["SecretId"], change=True)
        self.service.tags.remove(secret.arn, params["TagKeys"])
        self.service.changed(ctx, secret)
        return {}

    def get_random_password(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        try:
            password = passwords.random_password(
                params.get("PasswordLength", 32),
                params.get("ExcludeCharacters", ""),
                numbers=not params.get("ExcludeNumbers"),
                punctuation=not params.get("ExcludePunctuation"),
                uppercase=not params.get("ExcludeUppercase"),
                lowercase=not params.get("ExcludeLowercase"),
                space=bool(params.get("IncludeSpace")),
                each_type=params.get("RequireEachIncludedType", True),
            )
        except passwords.PasswordError as error:
            raise errors.invalid_parameter(str(error)) from None
        return {"RandomPassword": password}


def _check_filters(filters: list[dict[str, Any]]) -> None:
    for item in filters:
        if not item.get("Values"):
            raise errors.invalid_parameter("Invalid filter values.")


def _filter_match(value: str, text: str) -> bool:
    """ListSecrets filters: a prefix match, case-insensitive; a leading `!` negates."""
    if value.startswith("!"):
        return not text.lower().startswith(value[1:].lower())
    return text.lower().startswith(value.lower())
