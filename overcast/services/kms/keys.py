"""KMS keys: creation, description, listing, states (enable, disable, scheduled deletion), rotation,
multi-Region replicas and imported key material."""

from __future__ import annotations

import hashlib
import os
from datetime import datetime
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.kit.paging import decode_token, page_of
from overcast.services.kit.tags import tag_dict, tag_list
from overcast.services.kms import cipher, key_policies
from overcast.services.kms.rules import TAG_RULES, invalid_marker, state_message, unsupported, validation
from overcast.services.kms.store import Key

if TYPE_CHECKING:
    from overcast.services.kms.provider import KmsProvider

DAY = 86400.0
IMPORT_PARAMETERS_LIFETIME = 24 * 3600.0
MAX_ON_DEMAND_ROTATIONS = 25
_UNSUPPORTED_SPECS = ("SM2", "ML_DSA_44", "ML_DSA_65", "ML_DSA_87", "ECC_NIST_EDWARDS25519", "ML_KEM_512")


def _epoch(value: Any) -> float:
    return value.timestamp() if isinstance(value, datetime) else float(value)


class KeyOperations(Operations):
    service: KmsProvider

    # -- creation and description ------------------------------------------------------------------------

    def create_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        spec = params.get("KeySpec") or params.get("CustomerMasterKeySpec") or cipher.SYMMETRIC
        if params.get("KeySpec") and params.get("CustomerMasterKeySpec"):
            raise validation("You cannot specify KeySpec and CustomerMasterKeySpec in the same request.")
        if spec in _UNSUPPORTED_SPECS or spec.startswith("ML_"):
            raise unsupported(f"KeySpec {spec} is not supported by Overcast.")
        usages = cipher.usages_of(spec)
        usage = params.get("KeyUsage") or "ENCRYPT_DECRYPT"
        if not params.get("KeyUsage") and spec in cipher.HMAC_SPECS:
            raise validation(f"KeyUsage is required for KeySpec {spec}.")
        if usage not in usages:
            raise validation(f"KeyUsage {usage} is not compatible with KeySpec {spec}")
        origin = params.get("Origin") or "AWS_KMS"
        if origin not in ("AWS_KMS", "EXTERNAL"):
            raise unsupported(f"Origin {origin} is not supported by Overcast.")
        multi_region = bool(params.get("MultiRegion"))
        key = Key(
            account=ctx.account_id,
            region=ctx.region,
            key_id=cipher.new_key_id(multi_region),
            description=params.get("Description") or "",
            usage=usage,
            spec=spec,
            origin=origin,
            manager="CUSTOMER",
            state="Enabled" if origin == "AWS_KMS" else "PendingImport",
            created=self.clock.now(),
            multi_region=multi_region,
            primary_region=ctx.region if multi_region else None,
            expiration_model=None,
        )
        policy = params.get("Policy")
        if policy is not None:
            key_policies.validate(
                policy, ctx.principal, key.arn, bool(params.get("BypassPolicyLockoutSafetyCheck"))
            )
        key.policy = policy or key_policies.default_policy(ctx.account_id)
        tags = tag_dict(params.get("Tags"), "TagKey", "TagValue")
        if origin == "AWS_KMS":
            self.service.add_material(key, cipher.new_material(spec), None)
        else:
            self.service.store.put_key(key)
        if tags:
            self.service.tags.add(key.arn, tags, TAG_RULES, account=ctx.account_id, region=ctx.region)
        return {"KeyMetadata": self.metadata(key)}

    def describe_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"KeyMetadata": self.metadata(self.service.key_of(ctx, params["KeyId"]))}

    def metadata(self, key: Key) -> dict[str, Any]:
        """DescribeKey's KeyMetadata: every member AWS returns for a key of this kind."""
        meta: dict[str, Any] = {
            "AWSAccountId": key.account,
            "KeyId": key.key_id,
            "Arn": key.arn,
            "CreationDate": key.created,
            "Enabled": key.state == "Enabled",
            "Description": key.description,
            "KeyUsage": key.usage,
            "KeyState": key.state,
        }
        if key.deletion_date is not None:
            meta["DeletionDate"] = key.deletion_date
        if key.valid_to is not None:
            meta["ValidTo"] = key.valid_to
        meta["Origin"] = key.origin
        if key.origin == "EXTERNAL" and key.expiration_model:
            meta["ExpirationModel"] = key.expiration_model
        meta["KeyManager"] = key.manager
        meta["CustomerMasterKeySpec"] = key.spec
        meta["KeySpec"] = key.spec
        meta.update(cipher.algorithms_of(key.spec, key.usage))
        meta["MultiRegion"] = key.multi_region
        if key.multi_region:
            meta["MultiRegionConfiguration"] = self._multi_region(key)
        if key.state == "PendingReplicaDeletion" and key.pending_window:
            meta["PendingDeletionWindowInDays"] = key.pending_window
        if key.spec == cipher.SYMMETRIC and key.generation:
            record = self.service.store.material(key.account, key.key_id, key.generation)
            if record is not None:
                meta["CurrentKeyMaterialId"] = record.material_id
        return meta

    def _multi_region(self, key: Key) -> dict[str, Any]:
        replicas = self.service.store.replicas(key.account, key.key_id)
        primary = key.primary_region or key.region
        return {
            "MultiRegionKeyType": "PRIMARY" if key.region == primary else "REPLICA",
            "PrimaryKey": {"Arn": _arn_in(key, primary), "Region": primary},
            "ReplicaKeys": [{"Arn": r.arn, "Region": r.region} for r in replicas if r.region != primary],
        }

    def list_keys(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = params.get("Limit") or 1000
        after = decode_token(params.get("Marker"), invalid_marker, "keys") or ""
        rows = self.service.store.keys_after(ctx.account_id, ctx.region, after, limit + 1)
        page, marker = page_of(rows, limit, lambda key: key.key_id, "keys")
        result: dict[str, Any] = {"Keys": [{"KeyId": k.key_id, "KeyArn": k.arn} for k in page]}
        if marker:
            result["NextMarker"] = marker
        result["Truncated"] = marker is not None
        return result

    def update_key_description(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        key = self.service.key_of(ctx, params["KeyId"])
        self.service.check_not_pending(key)
        self.service.check_customer_managed(key, "UpdateKeyDescription")
        key.description = params["Description"]
        self.service.store.put_key(key)
        return {}

    # -- states --------------------------------------------------------------------------------------------

    def enable_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        key = self.service.key_of(ctx, params["KeyId"])
        self.service.check_customer_managed(key, "EnableKey")
        if key.state not in ("Enabled", "Disabled"):
            raise ServiceError("KMSInvalidStateException", state_message(key))
        key.state = "Enabled"
        self.service.store.put_key(key)
        return {}

    def disable_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        key = self.service.key_of(ctx, params["KeyId"])
        self.service.check_customer_managed(key, "DisableKey")
        if key.state not in ("Enabled", "Disabled"):
            raise ServiceError("KMSInvalidStateException", state_message(key))
        key.state = "Disabled"
        self.service.store.put_key(key)
        return {}

    def schedule_key_deletion(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        key = self.service.key_of(ctx, params["KeyId"])
        self.service.check_customer_managed(key, "ScheduleKeyDeletion")
        days = params.get("PendingWindowInDays", 30)
        if not 7 <= days <= 30:
            bound = "greater than or equal to 7" if days < 7 else "less than or equal to 30"
            raise validation(
                f"1 validation error detected: Value '{days}' at 'pendingWindowInDays' failed to satisfy "
                f"constraint: Member must have value {bound}"
            )
        if key.state in ("PendingDeletion", "PendingReplicaDeletion"):
            raise ServiceError("KMSInvalidStateException", state_message(key))
        key.pending_window = days
        replicas = [r for r in self.service.store.replicas(key.account, key.key_id) if r.region != key.region]
        if key.multi_region and key.region == (key.primary_region or key.region) and replicas:
            key.state = "PendingReplicaDeletion"  # deleted once its replicas are gone
            key.deletion_date = None
        else:
            key.state = "PendingDeletion"
            key.deletion_date = self.clock.now() + days * DAY
        self.service.store.put_key(key)
        self.service.schedule_changed()
        result: dict[str, Any] = {"KeyId": key.arn}
        if key.deletion_date is not None:
            result["DeletionDate"] = key.deletion_date
        result["KeyState"] = key.state
        result["PendingWindowInDays"] = days
        return result

    def cancel_key_deletion(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        key = self.service.key_of(ctx, params["KeyId"])
        if key.state not in ("PendingDeletion", "PendingReplicaDeletion"):
            raise ServiceError("KMSInvalidStateException", f"{key.arn} is not pending deletion.")
        key.state = "Disabled"  # a key whose deletion is cancelled comes back disabled, as in AWS
        key.deletion_date = None
        key.pending_window = None
        self.service.store.put_key(key)
        return {"KeyId": key.arn}

    # -- rotation ------------------------------------------------------------------------------------------

    def _check_rotatable(self, key: Key) -> None:
        self.service.check_not_pending(key)
        if key.spec != cipher.SYMMETRIC:
            raise unsupported(f"{key.arn} key spec is {key.spec} which is not valid for this operation.")
        if key.multi_region and key.region != key.primary_region:
            raise unsupported(f"{key.arn} is a multi-Region replica key. Rotate its primary key.")

    def enable_key_rotation(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        key = self.service.key_of(ctx, params["KeyId"])
        self.service.check_customer_managed(key, "EnableKeyRotation")
        self._check_rotatable(key)
        if key.origin != "AWS_KMS":
            raise unsupported(f"{key.arn} origin is {key.origin} which is not valid for this operation.")
        if key.state == "Disabled":
            raise ServiceError("DisabledException", f"{key.arn} is disabled.")
        days = params.get("RotationPeriodInDays", 365)
        if not 90 <= days <= 2560:
            raise validation(
                f"1 validation error detected: Value '{days}' at 'rotationPeriodInDays' failed to satisfy "
                f"constraint: Member must have value {'greater than or equal to 90' if days < 90 else 'less than or equal to 2560'}"
            )
        key.rotation_period = days
        key.next_rotation = self.clock.now() + days * DAY
        self.service.store.put_key(key)
        self.service.schedule_changed()
        return {}

    def disable_key_rotation(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        key = self.service.key_of(ctx, params["KeyId"])
        self.service.check_customer_managed(key, "DisableKeyRotation")
        self._check_rotatable(key)
        if key.state == "Disabled":
            raise ServiceError("DisabledException", f"{key.arn} is disabled.")
        key.rotation_period = None
        key.next_rotation = None
        self.service.store.put_key(key)
        return {}

    def get_key_rotation_status(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        key = self.service.key_of(ctx, params["KeyId"])
        enabled = key.rotation_period is not None and key.state != "PendingDeletion"
        result: dict[str, Any] = {"KeyRotationEnabled": enabled, "KeyId": key.arn}
        if enabled:
            result["RotationPeriodInDays"] = key.rotation_period
            result["NextRotationDate"] = key.next_rotation
        return result

    def rotate_key_on_demand(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        key = self.service.key_of(ctx, params["KeyId"])
        self.service.check_customer_managed(key, "RotateKeyOnDemand")
        self._check_rotatable(key)
        if key.origin != "AWS_KMS":
            raise unsupported(f"{key.arn} origin is {key.origin} which is not valid for this operation.")
        self.service.check_usable(key)
        done = [
            m
            for m in self.service.store.rotations(key.account, key.key_id, 0, 1000)
            if m.rotation_type == "ON_DEMAND"
        ]
        if len(done) >= MAX_ON_DEMAND_ROTATIONS:
            raise ServiceError(
                "LimitExceededException",
                f"{key.arn} has reached the maximum number of on-demand rotations.",
            )
        self.rotate(key, "ON_DEMAND")
        return {"KeyId": key.arn}

    def rotate(self, key: Key, rotation_type: str) -> None:
        """New key material for the key and its replicas (they share it); old generations stay for Decrypt."""
        self.service.add_material(key, cipher.new_material(key.spec), rotation_type)
        for replica in self.service.store.replicas(key.account, key.key_id):
            if replica.region != key.region:
                replica.generation = key.generation
                self.service.store.put_key(replica)

    def list_key_rotations(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        key = self.service.key_of(ctx, params["KeyId"])
        if key.spec != cipher.SYMMETRIC:
            raise unsupported(f"{key.arn} key spec is {key.spec} which is not valid for this operation.")
        limit = params.get("Limit") or 100
        after = decode_token(params.get("Marker"), invalid_marker, f"rotations:{key.key_id}") or 0
        rows = self.service.store.rotations(key.account, key.key_id, after, limit + 1)
        page, marker = page_of(rows, limit, lambda m: m.generation, f"rotations:{key.key_id}")
        rotations = [
            {
                "KeyId": key.arn,
                "KeyMaterialId": m.material_id,
                "RotationDate": m.created,
                "RotationType": m.rotation_type,
            }
            for m in page
        ]
        result: dict[str, Any] = {"Rotations": rotations}
        if marker:
            result["NextMarker"] = marker
        result["Truncated"] = marker is not None
        return result

    # -- multi-Region keys -------------------------------------------------------------------------------

    def replicate_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        key = self.service.key_of(ctx, params["KeyId"])
        region = params["ReplicaRegion"]
        if not key.multi_region:
            raise unsupported(f"{key.arn} is not a multi-Region key.")
        if key.region != key.primary_region:
            raise unsupported(f"{key.arn} is not a multi-Region primary key.")
        self.service.check_not_pending(key)
        if region == key.region or self.service.store.key(key.account, region, key.key_id) is not None:
            raise ServiceError(
                "AlreadyExistsException", f"Multi-region key {key.key_id} already exists in region {region}."
            )
        replica = Key(**{**key.__dict__})
        replica.region = region
        replica.description = params.get("Description", key.description)
        replica.created = self.clock.now()
        replica.rotation_period = None
        replica.next_rotation = None
        replica.deletion_date = None
        if key.state == "Disabled":
            replica.state = "Disabled"
        policy = params.get("Policy")
        if policy is not None:
            key_policies.validate(
                policy, ctx.principal, replica.arn, bool(params.get("BypassPolicyLockoutSafetyCheck"))
            )
        replica.policy = policy or key_policies.default_policy(key.account)
        self.service.store.put_key(replica)
        tags = tag_dict(params.get("Tags"), "TagKey", "TagValue")
        if tags:
            self.service.tags.add(replica.arn, tags, TAG_RULES, account=key.account, region=region)
        return {
            "ReplicaKeyMetadata": self.metadata(replica),
            "ReplicaPolicy": replica.policy,
            "ReplicaTags": tag_list(tags, "TagKey", "TagValue"),
        }

    def update_primary_region(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        key = self.service.key_of(ctx, params["KeyId"])
        region = params["PrimaryRegion"]
        if not key.multi_region:
            raise unsupported(f"{key.arn} is not a multi-Region key.")
        if key.region != key.primary_region:
            raise unsupported(f"{key.arn} is not a multi-Region primary key.")
        replicas = self.service.store.replicas(key.account, key.key_id)
        if region not in {r.region for r in replicas}:
            raise not_found_replica(key, region)
        for member in replicas:
            member.primary_region = region
            if member.region == region:  # the new primary rotates for the set
                member.rotation_period, member.next_rotation = key.rotation_period, key.next_rotation
            elif member.region == key.region:
                member.rotation_period = member.next_rotation = None
            self.service.store.put_key(member)
        return {}

    # -- imported key material -----------------------------------------------------------------------------

    def get_parameters_for_import(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        key = self.service.key_of(ctx, params["KeyId"])
        if key.origin != "EXTERNAL":
            raise unsupported(f"{key.arn} origin is {key.origin} which is not valid for this operation.")
        self.service.check_not_pending(key)
        wrapping_spec = params["WrappingKeySpec"]
        if wrapping_spec not in cipher.RSA_SPECS:
            raise unsupported(f"WrappingKeySpec {wrapping_spec} is not supported by Overcast.")
        wrapping = cipher.new_material(wrapping_spec)
        token = os.urandom(64)
        expires = self.clock.now() + IMPORT_PARAMETERS_LIFETIME
        sealed = self.service.vault.wrap(key.account, key.key_id, -1, wrapping)
        self.service.store.put_import(key, token.hex(), sealed, params["WrappingAlgorithm"], expires)
        return {
            "KeyId": key.arn,
            "ImportToken": token,
            "PublicKey": cipher.public_der(wrapping),
            "ParametersValidTo": expires,
        }

    def import_key_material(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        key = self.service.key_of(ctx, params["KeyId"])
        if key.origin != "EXTERNAL":
            raise unsupported(f"{key.arn} origin is {key.origin} which is not valid for this operation.")
        self.service.check_not_pending(key)
        pending = self.service.store.pending_import(key)
        token = params["ImportToken"].hex()
        if pending is None or pending[0] != token:
            raise ServiceError("InvalidImportTokenException", "The import token is not valid for this key.")
        _, sealed, algorithm, expires = pending
        if expires <= self.clock.now():
            raise ServiceError("ExpiredImportTokenException", "The import token has expired.")
        self.service.vault.forget(key.account, key.key_id)
        wrapping = self.service.vault.unwrap(key.account, key.key_id, -1, sealed)
        try:
            material = cipher.unwrap_import(wrapping, algorithm, params["EncryptedKeyMaterial"])
        except cipher.CiphertextError:
            raise ServiceError(
                "InvalidCiphertextException", "The wrapped key material could not be decrypted."
            ) from None
        self._check_imported(key, material)
        model = params.get("ExpirationModel") or ("KEY_MATERIAL_EXPIRES" if params.get("ValidTo") else None)
        if model == "KEY_MATERIAL_EXPIRES" and not params.get("ValidTo"):
            raise validation("A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES")
        if model == "KEY_MATERIAL_DOES_NOT_EXPIRE" and params.get("ValidTo"):
            raise validation(
                "A validTo date must not be set if the ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE"
            )
        fingerprint = hashlib.sha256(material).hexdigest()
        existing = self.service.store.material(key.account, key.key_id, 1)
        if existing is not None and existing.material_id != fingerprint:
            raise ServiceError(
                "IncorrectKeyMaterialException",
                "The key material in the request is, expired, invalid, or is not the same key material that "
                "was previously imported into this customer master key (CMK).",
            )
        key.generation = 0
        record = self.service.add_material(key, material, None)
        record.material_id = fingerprint
        self.service.store.add_material(key.account, key.key_id, record)
        key.expiration_model = model or "KEY_MATERIAL_DOES_NOT_EXPIRE"
        key.valid_to = _epoch(params["ValidTo"]) if model == "KEY_MATERIAL_EXPIRES" else None
        key.state = "Enabled"
        self.service.store.put_key(key)
        self.service.schedule_changed()
        return {"KeyId": key.arn, "KeyMaterialId": fingerprint}

    def _check_imported(self, key: Key, material: bytes) -> None:
        if key.spec == cipher.SYMMETRIC and len(material) != 32:
            raise ServiceError(
                "IncorrectKeyMaterialException", "The key material must be 256 bits (32 bytes)."
            )
        if key.spec in cipher.HMAC_SPECS and not 16 <= len(material) <= 128:
            raise ServiceError(
                "IncorrectKeyMaterialException", "The HMAC key material has an invalid length."
            )
        if (key.spec in cipher.RSA_SPECS or key.spec in cipher.ECC_SPECS) and cipher.spec_of_private(
            material
        ) != key.spec:
            raise ServiceError(
                "IncorrectKeyMaterialException", f"The key material is not a {key.spec} private key."
            )

    def delete_imported_key_material(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        key = self.service.key_of(ctx, params["KeyId"])
        if key.origin != "EXTERNAL":
            raise unsupported(f"{key.arn} origin is {key.origin} which is not valid for this operation.")
        self.service.check_not_pending(key)
        self.expire_material(key)
        return {"KeyId": key.arn}

    def expire_material(self, key: Key) -> None:
        """Imported key material deleted or expired: the key waits for the same material again."""
        self.service.store.forget_material(key.account, key.key_id)
        self.service.vault.forget(key.account, key.key_id)
        key.state = "PendingImport"
        key.valid_to = None
        key.expiration_model = None
        self.service.store.put_key(key)


def _arn_in(key: Key, region: str) -> str:
    return f"arn:aws:kms:{region}:{key.account}:key/{key.key_id}"


def not_found_replica(key: Key, region: str) -> ServiceError:
    return ServiceError("NotFoundException", f"Key '{_arn_in(key, region)}' does not exist")
