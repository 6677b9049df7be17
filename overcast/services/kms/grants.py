"""Grants: permissions on one key for a principal, with encryption-context constraints, retired or revoked.

A grant is evaluated by the policy engine as a statement of the key's resource policy (key_policies.py)."""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.kit.paging import decode_token, page_of
from overcast.services.kms.rules import (
    check_grant_tokens,
    dry_run,
    grant_id_of_token,
    grant_token,
    invalid_marker,
    not_found,
    validation,
)
from overcast.services.kms.store import Grant, Key

if TYPE_CHECKING:
    from overcast.services.kms.provider import KmsProvider

_PRINCIPAL = re.compile(r"^(arn:aws:(iam|sts)::\d{12}:\S+|\d{12}|[a-z0-9.-]+\.amazonaws\.com)$")
_GRANT_ID = re.compile(r"^[0-9a-f]{64}$")
# Operations that take an encryption context: the only ones a grant with context constraints may allow.
_CONTEXT_OPERATIONS = {
    "Decrypt",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "ReEncryptFrom",
    "ReEncryptTo",
    "CreateGrant",
    "RetireGrant",
    "DescribeKey",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
}


def _check_principal(name: str, member: str) -> None:
    if not _PRINCIPAL.match(name):
        raise ServiceError("InvalidArnException", f"{member} {name} is not a valid principal.")


def _entry(key: Key, grant: Grant) -> dict[str, Any]:
    entry: dict[str, Any] = {"KeyId": key.arn, "GrantId": grant.grant_id}
    if grant.name:
        entry["Name"] = grant.name
    entry["CreationDate"] = grant.created
    entry["GranteePrincipal"] = grant.grantee
    if grant.retiring:
        entry["RetiringPrincipal"] = grant.retiring
    entry["IssuingAccount"] = f"arn:aws:iam::{grant.issuing_account}:root"
    entry["Operations"] = grant.operations
    if grant.constraints:
        entry["Constraints"] = grant.constraints
    return entry


class GrantOperations(Operations):
    service: KmsProvider

    def create_grant(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        check_grant_tokens(self.service.store, params.get("GrantTokens"))
        key = self.service.key_of(ctx, params["KeyId"])
        self.service.check_usable(key)
        grantee = params.get("GranteePrincipal") or params.get("GranteeServicePrincipal")
        if not grantee:
            raise validation("GranteePrincipal is required.")
        _check_principal(grantee, "GranteePrincipal")
        retiring = params.get("RetiringPrincipal") or params.get("RetiringServicePrincipal")
        if retiring:
            _check_principal(retiring, "RetiringPrincipal")
        operations = list(dict.fromkeys(params["Operations"]))
        constraints = params.get("Constraints") or None
        if constraints:
            if "EncryptionContextSubset" in constraints and "EncryptionContextEquals" in constraints:
                raise validation(
                    "Only one of EncryptionContextSubset or EncryptionContextEquals may be given."
                )
            if not set(operations) <= _CONTEXT_OPERATIONS:
                raise validation(
                    "Grant constraints are allowed only for operations that accept an encryption context."
                )
        if params.get("DryRun"):
            raise dry_run()
        name = params.get("Name")
        if name:  # the same request with the same name returns the same grant
            same = self.service.store.grant_named(key.account, key.region, key.key_id, name)
            if same and (same.grantee, same.retiring, same.operations, same.constraints) == (
                grantee,
                retiring,
                operations,
                constraints,
            ):
                return {"GrantToken": same.token, "GrantId": same.grant_id}
        grant_id = os.urandom(32).hex()
        grant = Grant(
            grant_id=grant_id,
            account=key.account,
            region=key.region,
            key_id=key.key_id,
            name=name,
            grantee=grantee,
            retiring=retiring,
            issuing_account=ctx.principal.account_id,
            operations=operations,
            constraints=constraints,
            created=self.clock.now(),
            token=grant_token(grant_id),
        )
        self.service.store.add_grant(grant)
        return {"GrantToken": grant.token, "GrantId": grant_id}

    def list_grants(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        key = self.service.key_of(ctx, params["KeyId"])
        grants = self.service.store.grants(key.account, key.region, key.key_id)
        if params.get("GrantId"):
            grants = [g for g in grants if g.grant_id == params["GrantId"]]
        grantee = params.get("GranteePrincipal") or params.get("GranteeServicePrincipal")
        if grantee:
            grants = [g for g in grants if g.grantee == grantee]
        return self._page(params, [(key, g) for g in grants], f"grants:{key.key_id}")

    def list_retirable_grants(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        retiring = params.get("RetiringPrincipal") or params.get("RetiringServicePrincipal")
        if not retiring:
            raise validation("RetiringPrincipal is required.")
        _check_principal(retiring, "RetiringPrincipal")
        found = []
        for grant in self.service.store.retirable_grants(retiring):
            key = self.service.store.key(grant.account, grant.region, grant.key_id)
            if key is not None:
                found.append((key, grant))
        return self._page(params, found, f"retirable:{retiring}")

    def _page(self, params: dict[str, Any], rows: list[tuple[Key, Grant]], scope: str) -> dict[str, Any]:
        limit = params.get("Limit") or 50
        after = decode_token(params.get("Marker"), invalid_marker, scope)
        if after is not None:
            ids = [grant.grant_id for _, grant in rows]
            rows = rows[ids.index(after) + 1 :] if after in ids else []
        page, marker = page_of(rows, limit, lambda row: row[1].grant_id, scope)
        result: dict[str, Any] = {"Grants": [_entry(key, grant) for key, grant in page]}
        if marker:
            result["NextMarker"] = marker
        result["Truncated"] = marker is not None
        return result

    def _grant_of(self, ctx: RequestContext, key_id: str, grant_id: str) -> tuple[Key, Grant]:
        key = self.service.key_of(ctx, key_id)
        if not _GRANT_ID.match(grant_id):
            raise ServiceError("InvalidGrantIdException", "Invalid GrantId")
        grant = self.service.store.grant(grant_id)
        if grant is None or (grant.account, grant.region, grant.key_id) != (
            key.account,
            key.region,
            key.key_id,
        ):
            raise not_found(f"Grant ID {grant_id} not found")
        return key, grant

    def retire_grant(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        token = params.get("GrantToken")
        if token:
            grant_id = grant_id_of_token(token)
            grant = self.service.store.grant(grant_id) if grant_id else None
            if grant_id is None:
                raise ServiceError("InvalidGrantTokenException", "Invalid grant token")
            if grant is None:
                raise not_found(f"Grant ID {grant_id} not found")
        elif params.get("KeyId") and params.get("GrantId"):
            _, grant = self._grant_of(ctx, params["KeyId"], params["GrantId"])
        else:
            raise validation("Either GrantToken, or both KeyId and GrantId must be specified.")
        if params.get("DryRun"):
            raise dry_run()
        self.service.store.delete_grant(grant.grant_id)
        return {}

    def revoke_grant(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        _, grant = self._grant_of(ctx, params["KeyId"], params["GrantId"])
        if params.get("DryRun"):
            raise dry_run()
        self.service.store.delete_grant(grant.grant_id)
        return {}
