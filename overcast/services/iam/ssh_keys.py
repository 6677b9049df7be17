"""Users' SSH public keys (for CodeCommit and EC2 Instance Connect): at most five per user, each with its MD5
fingerprint, returned in SSH or PEM encoding."""

from __future__ import annotations

import base64
import hashlib
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import serialization

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.iam.errors import limit_exceeded
from overcast.services.iam.keys import new_id
from overcast.services.iam.store import Entity

if TYPE_CHECKING:
    from overcast.services.iam.provider import IamProvider

SSH_KEYS_PER_USER = 5


def _fingerprint(body: str) -> str:
    """The key's MD5 fingerprint as IAM shows it (aa:bb:...), of the decoded key blob."""
    parts = body.split()
    try:
        blob = base64.b64decode(parts[1], validate=True)
        serialization.load_ssh_public_key(body.strip().encode())
    except (IndexError, ValueError, TypeError):
        raise ServiceError("InvalidPublicKey", "The SSH public key is invalid.") from None
    digest = hashlib.md5(blob, usedforsecurity=False).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


class SshPublicKeyOperations(Operations):
    service: IamProvider

    def upload_ssh_public_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        iam = self.service
        user = iam.entity(ctx, "user", params["UserName"])
        body = params["SSHPublicKeyBody"].strip()
        fingerprint = _fingerprint(body)
        owned = self._owned(ctx, user)
        if any(e.data["fingerprint"] == fingerprint for e in owned):
            raise ServiceError(
                "DuplicateSSHPublicKey", "The SSH public key is already associated with the user."
            )
        if len(owned) >= SSH_KEYS_PER_USER:
            raise limit_exceeded(f"Cannot exceed quota for SSHPublicKeysPerUser: {SSH_KEYS_PER_USER}")
        key_id = new_id("APKA")
        data = {"user": user.key, "body": body, "fingerprint": fingerprint, "status": "Active"}
        entity = iam.create_entity(ctx, "ssh-public-key", key_id, None, data)
        return {"SSHPublicKey": _shape(entity, user, "SSH")}

    def get_ssh_public_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        user, entity = self._key(ctx, params)
        return {"SSHPublicKey": _shape(entity, user, params["Encoding"])}

    def list_ssh_public_keys(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        user = self.service.caller_user(ctx, params)
        keys = [
            {
                "UserName": user.name,
                "SSHPublicKeyId": e.name,
                "Status": e.data["status"],
                "UploadDate": e.created,
            }
            for e in self._owned(ctx, user)
        ]
        return {"SSHPublicKeys": keys, "IsTruncated": False}

    def update_ssh_public_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        _, entity = self._key(ctx, params)
        entity.data["status"] = params["Status"]
        self.service.store.update(entity)
        self.service.changed()
        return {}

    def delete_ssh_public_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        _, entity = self._key(ctx, params)
        self.service.remove_entity(entity)
        return {}

    def _owned(self, ctx: RequestContext, user: Entity) -> list[Entity]:
        return [
            e
            for e in self.service.store.all_of(ctx.account_id, "ssh-public-key")
            if e.data["user"] == user.key
        ]

    def _key(self, ctx: RequestContext, params: dict[str, Any]) -> tuple[Entity, Entity]:
        user = self.service.entity(ctx, "user", params["UserName"])
        found = self.service.store.get(ctx.account_id, "ssh-public-key", params["SSHPublicKeyId"])
        if found is None or found.data["user"] != user.key:
            raise ServiceError(
                "NoSuchEntity", f"The Public Key with id {params['SSHPublicKeyId']} cannot be found.", 404
            )
        return user, found


def _shape(entity: Entity, user: Entity, encoding: str) -> dict[str, Any]:
    body = entity.data["body"]
    if encoding == "PEM":
        key = serialization.load_ssh_public_key(body.encode())
        body = key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()
    return {
        "UserName": user.name,
        "SSHPublicKeyId": entity.name,
        "Fingerprint": entity.data["fingerprint"],
        "SSHPublicKeyBody": body,
        "Status": entity.data["status"],
        "UploadDate": entity.created,
    }
