"""KMS's provider: composition, key lookup (ids, ARNs, aliases), key states, key material, and the hooks the
policy engine asks (a key's policy and grants as its resource policy, KMS's condition keys)."""

from __future__ import annotations

import asyncio
import os
import re
from typing import Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import ServiceProvider
from overcast.services.kit.arns import parse_arn
from overcast.services.kit.timers import run_due_work
from overcast.services.kms import cipher, key_policies
from overcast.services.kms.aliases import AliasOperations
from overcast.services.kms.crypto import CryptoOperations
from overcast.services.kms.grants import GrantOperations
from overcast.services.kms.keys import KeyOperations
from overcast.services.kms.policies import PolicyOperations
from overcast.services.kms.rules import MANAGED_SERVICES, invalid_state, not_found, state_message
from overcast.services.kms.store import Key, KmsStore, Material
from overcast.services.kms.tagging import TagOperations
from overcast.services.kms.vault import Vault, load_master_key
from overcast.services.kms.workers import KeyTimers

_KEY_ID = re.compile(r"^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$")
_HEADER = "kms.header"  # ctx.extra: (ciphertext blob, its BlobHeader)
_KEYLESS_OPERATIONS = frozenset({"CreateKey", "ListKeys", "GenerateRandom", "ListRetirableGrants"})


class KmsProvider(ServiceProvider):
    service_name = "kms"
    families = (
        KeyOperations,
        CryptoOperations,
        AliasOperations,
        PolicyOperations,
        GrantOperations,
        TagOperations,
    )
    # ReEncrypt is authorized as ReEncryptFrom on the source key here, and ReEncryptTo on the destination
    # key by the operation itself.
    iam_actions = {"ReEncrypt": "ReEncryptFrom"}

    def __init__(self, platform) -> None:
        super().__init__(platform)
        self.store = KmsStore(self.db)
        self.vault = Vault(load_master_key(platform.root))
        self.wake = asyncio.Event()
        self._material_ids: dict[tuple[str, str, int], str] = {}
        self.keys = next(f for f in self.operations if isinstance(f, KeyOperations))  # rotations, expiries
        self.timers = KeyTimers(self)

    async def start(self) -> None:
        self.platform.spawn(run_due_work(self.clock, self.wake, self.timers.run_due, "kms key timers"))

    def reset(self) -> None:
        self.store.forget_keys()
        self.vault.clear()
        self._material_ids.clear()

    def schedule_changed(self) -> None:
        """A deletion, rotation or expiry time was set: the worker looks again once this request commits."""
        self.db.after_commit(self.wake.set)

    # -- finding keys ------------------------------------------------------------------------------------

    def locate(self, ctx: RequestContext, key_id: str) -> tuple[str, str, str] | tuple[str, str, None]:
        """(account, region, key id) a KeyId names, or (account, region, None) for an alias (`key_of` reads
        its key). Raises NotFoundException for an ARN that names no key or alias."""
        arn = parse_arn(key_id) if key_id.startswith("arn:") else None
        if arn is not None:
            if arn.service != "kms" or arn.resource_type not in ("key", "alias") or not arn.resource_id:
                raise not_found(f"Invalid arn {key_id}")
            if arn.resource_type == "alias":
                return arn.account, arn.region, None
            return arn.account, arn.region, arn.resource_id
        if key_id.startswith("alias/"):
            return ctx.account_id, ctx.region, None
        return ctx.account_id, ctx.region, key_id

    def key_of(self, ctx: RequestContext, key_id: str, *, create_managed: bool = True) -> Key:
        """The key a KeyId names: a key id, key ARN, alias name or alias ARN. An `alias/aws/<service>` that
        does not exist yet makes the AWS managed key (as the first use through the service does in AWS)."""
        account, region, found_id = self.locate(ctx, key_id)
        if found_id is None:
            alias = key_id.split(":", 5)[-1] if key_id.startswith("arn:") else key_id
            target = self.store.alias(account, region, alias)
            if target is None:
                service = alias.removeprefix("alias/aws/") if alias.startswith("alias/aws/") else None
                if create_managed and service in MANAGED_SERVICES and account == ctx.account_id:
                    return self.managed_key(account, region, service)
                raise not_found(f"Alias arn:aws:kms:{region}:{account}:{alias} is not found.")
            found_id = target[0]
        if region != ctx.region:
            raise not_found(f"Key 'arn:aws:kms:{region}:{account}:key/{found_id}' does not exist")
        if not _plausible_id(found_id):
            raise not_found(f"Invalid keyId {key_id}")
        key = self.store.key(account, region, found_id)
        if key is None:
            raise not_found(f"Key 'arn:aws:kms:{region}:{account}:key/{found_id}' does not exist")
        return key

    def key_at(self, account: str, region: str, key_id: str) -> Key:
        """The key of a ciphertext's header (no id to parse or alias to resolve)."""
        key = self.store.key(account, region, key_id)
        if key is None:
            raise not_found(f"Key 'arn:aws:kms:{region}:{account}:key/{key_id}' does not exist")
        return key

    def managed_key(self, account: str, region: str, service: str) -> Key:
        """The AWS managed key `aws/<service>`, made (with its alias and yearly rotation) on first use."""
        alias = f"alias/aws/{service}"
        existing = self.store.managed_key(account, region, alias)
        if existing is not None:
            return existing
        now = self.clock.now()
        key = Key(
            account=account,
            region=region,
            key_id=cipher.new_key_id(),
            description=f"Default key that protects my {service.upper()} data when no other key is defined",
            usage="ENCRYPT_DECRYPT",
            spec=cipher.SYMMETRIC,
            origin="AWS_KMS",
            manager="AWS",
            state="Enabled",
            created=now,
            rotation_period=365,
            next_rotation=now + 365 * 86400,
            policy=key_policies.managed_policy(account, region, service),
        )
        self.add_material(key, cipher.new_material(key.spec), None)
        self.store.put_alias(account, region, alias, key.key_id, now)
        self.schedule_changed()
        return key

    # -- key material ------------------------------------------------------------------------------------

    def add_material(self, key: Key, material: bytes, rotation_type: str | None) -> Material:
        """Make `material` the key's current material (a new generation) and store the key."""
        key.generation += 1
        asymmetric = key.spec in cipher.RSA_SPECS or key.spec in cipher.ECC_SPECS
        public = cipher.public_der(material) if asymmetric else None
        record = Material(
            generation=key.generation,
            material_id=os.urandom(32).hex(),
            wrapped=self.vault.wrap(key.account, key.key_id, key.generation, material),
            public_key=public,
            created=self.clock.now(),
            rotation_type=rotation_type,
        )
        self.store.add_material(key.account, key.key_id, record)
        self.store.put_key(key)
        return record

    def material(self, key: Key, generation: int | None = None) -> bytes:
        """The plaintext key material of a generation (the current one by default)."""
        wanted = key.generation if generation is None else generation

        def stored() -> bytes:
            record = self.store.material(key.account, key.key_id, wanted)
            if record is None or not record.wrapped:
                raise ServiceError("InvalidCiphertextException", "")
            return record.wrapped

        return self.vault.unwrap(key.account, key.key_id, wanted, stored)

    def material_id(self, key: Key, generation: int) -> str | None:
        """KeyMaterialId of a generation (ids never change: remembered in a bounded cache)."""
        slot = (key.account, key.key_id, generation)
        found = self._material_ids.get(slot)
        if found is None:
            record = self.store.material(key.account, key.key_id, generation)
            if record is None:
                return None
            found = self._material_ids[slot] = record.material_id
            if len(self._material_ids) > 4096:
                self._material_ids.pop(next(iter(self._material_ids)))
        return found

    def public_key(self, key: Key) -> bytes:
        record = self.store.material(key.account, key.key_id, key.generation)
        assert record is not None and record.public_key is not None
        return record.public_key

    # -- states ------------------------------------------------------------------------------------------

    def check_usable(self, key: Key) -> None:
        """A cryptographic operation's check of the key's state."""
        if key.state == "Enabled":
            return
        if key.state == "Disabled":
            raise ServiceError("DisabledException", f"{key.arn} is disabled.")
        if key.state == "Unavailable":
            raise ServiceError("KeyUnavailableException", f"{key.arn} is unavailable.")
        raise invalid_state(state_message(key))

    def check_not_pending(self, key: Key) -> None:
        """A management operation's check: keys pending deletion or import refuse most changes."""
        if key.state in ("PendingDeletion", "PendingReplicaDeletion"):
            raise invalid_state(state_message(key))

    def check_usage(self, key: Key, usage: str, operation: str) -> None:
        if key.usage != usage:
            raise ServiceError(
                "InvalidKeyUsageException",
                f"{key.arn} key usage is {key.usage} which is not valid for {operation}.",
            )

    def check_customer_managed(self, key: Key, operation: str) -> None:
        if key.manager == "AWS":
            raise ServiceError(
                "UnsupportedOperationException",
                f"{key.arn} is an AWS managed key. {operation} is not supported for AWS managed keys.",
            )

    # -- the policy engine's hooks -----------------------------------------------------------------------

    def resource_arn(self, ctx: RequestContext, params: dict[str, Any]) -> str | None:
        """The key a request acts on: built from a key id or ARN without a lookup (this runs on every request),
        read from the alias table for an alias; "*" for the operations on no key."""
        operation = ctx.operation
        if operation in _KEYLESS_OPERATIONS or (operation == "ListAliases" and not params.get("KeyId")):
            return "*"
        named = self._named_key(ctx, params)
        if named is None:
            return "*"
        if named.startswith("arn:") and ":key/" in named:
            return named
        if not named.startswith("alias/") and ":alias/" not in named:
            return f"arn:aws:kms:{ctx.region}:{ctx.account_id}:key/{named}"
        try:
            if named.startswith(
                "alias/aws/"
            ):  # an AWS managed key is made on its first use, before it is used
                with self.db.transaction():
                    return self.key_of(ctx, named).arn
            return self.key_of(ctx, named, create_managed=False).arn
        except ServiceError:
            return "*"

    def _named_key(self, ctx: RequestContext, params: dict[str, Any]) -> str | None:
        operation = ctx.operation
        if operation == "ReEncryptTo":
            return params.get("DestinationKeyId")
        if operation in ("CreateAlias", "UpdateAlias"):
            return params.get("TargetKeyId")
        if operation == "DeleteAlias":
            return params.get("AliasName")
        if operation == "ReEncrypt":
            named = params.get("SourceKeyId")
            blob = params.get("CiphertextBlob")
        else:
            named = params.get("KeyId")
            blob = params.get("CiphertextBlob") if operation == "Decrypt" else None
        if named:
            return named
        if operation == "RetireGrant" and params.get("GrantToken"):
            grant = self.store.grant_by_token(params["GrantToken"])
            return f"arn:aws:kms:{grant.region}:{grant.account}:key/{grant.key_id}" if grant else None
        if blob:
            try:
                header = self.header_of(ctx, blob)
            except cipher.CiphertextError:
                return None
            return f"arn:aws:kms:{ctx.region}:{header.account}:key/{header.key_id}"
        return None

    def header_of(self, ctx: RequestContext, blob: bytes) -> cipher.BlobHeader:
        """A ciphertext's header, read once per request (authorization reads it first, then the operation)."""
        seen = ctx.extra.get(_HEADER)
        if seen is not None and seen[0] is blob:
            return seen[1]
        header = cipher.read_header(blob)
        ctx.extra[_HEADER] = (blob, header)
        return header

    def authorization_resource(self, ctx: RequestContext, arn: str) -> Any:
        from overcast.policy.enforcement import ResourcePolicy

        parsed = parse_arn(arn)
        if parsed is None or parsed.service != "kms" or parsed.resource_type != "key":
            return None
        key = self.store.key(parsed.account, parsed.region, parsed.resource_id)
        if key is None:
            return None
        grants = self.store.grants(key.account, key.region, key.key_id)
        document = key_policies.with_grants(key.policy, grants)
        return ResourcePolicy(key.account, document, self.tags.get(key.arn), required=True)

    def condition_keys(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        keys: dict[str, Any] = {"kms:CallerAccount": ctx.principal.account_id}
        context = params.get("EncryptionContext")
        if ctx.operation == "ReEncrypt":
            context = params.get("SourceEncryptionContext")
        elif ctx.operation == "ReEncryptTo":
            context = params.get("DestinationEncryptionContext")
        if context:
            for name, value in context.items():
                keys[f"kms:EncryptionContext:{name}"] = value
            keys["kms:EncryptionContextKeys"] = list(context)
        for member, key in (
            ("EncryptionAlgorithm", "kms:EncryptionAlgorithm"),
            ("SigningAlgorithm", "kms:SigningAlgorithm"),
            ("MacAlgorithm", "kms:MacAlgorithm"),
            ("KeySpec", "kms:KeySpec"),
            ("KeyUsage", "kms:KeyUsage"),
            ("KeyPairSpec", "kms:DataKeyPairSpec"),
            ("GranteePrincipal", "kms:GranteePrincipal"),
            ("RetiringPrincipal", "kms:RetiringPrincipal"),
            ("MessageType", "kms:MessageType"),
        ):
            if params.get(member):
                keys[key] = params[member]
        if params.get("Operations"):
            keys["kms:GrantOperations"] = list(params["Operations"])
        named = params.get("KeyId")
        if isinstance(named, str) and "alias/" in named:
            keys["kms:RequestAlias"] = "alias/" + named.split("alias/", 1)[1]
        if ctx.operation == "ScheduleKeyDeletion" and params.get("PendingWindowInDays"):
            keys["kms:ScheduleKeyDeletionPendingWindowInDays"] = str(params["PendingWindowInDays"])
        return keys


def _plausible_id(key_id: str) -> bool:
    """A key id's form: a UUID, or `mrk-` and 32 hex digits."""
    return bool(_KEY_ID.match(key_id))
