"""Key pairs: CreateKeyPair makes a real key (RSA 2048 in PEM, or ED25519 in OpenSSH format) that ssh-keygen
accepts, ImportKeyPair takes an OpenSSH public key; fingerprints as AWS computes them (created RSA: SHA-1 of
the PKCS#8 DER private key; imported RSA: MD5 of the DER public key; ED25519: SHA-256 of the OpenSSH key, in
base64 as ssh-keygen prints it). The public key goes into the instance's authorized_keys."""

from __future__ import annotations

import base64
import hashlib
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.ec2 import kinds
from overcast.services.ec2.errors import invalid
from overcast.services.ec2.filters import tag_specifications
from overcast.services.ec2.ids import new_id
from overcast.services.ec2.store import Resource
from overcast.services.kit.tags import tag_list

if TYPE_CHECKING:
    from overcast.services.ec2.provider import Ec2Provider

FILTERS = {
    "key-pair-id": "KeyPairId",
    "key-name": "KeyName",
    "fingerprint": "KeyFingerprint",
    "key-type": "KeyType",
}
NAME_LIMIT = 255


def _colon_hex(digest: bytes) -> str:
    return ":".join(f"{b:02x}" for b in digest)


def _openssh_fingerprint(public_key: Any) -> str:
    blob = public_key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    raw = base64.b64decode(blob.split()[1])
    return base64.b64encode(hashlib.sha256(raw).digest()).decode()


def generate(key_type: str) -> tuple[str, str, str]:
    """A new key: (private key text, OpenSSH public key, AWS's fingerprint)."""
    if key_type == "ed25519":
        private = ed25519.Ed25519PrivateKey.generate()
        material = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
        )
        fingerprint = _openssh_fingerprint(private.public_key())
    else:
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        material = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
        pkcs8 = private.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        fingerprint = _colon_hex(hashlib.sha1(pkcs8).digest())  # noqa: S324 - AWS's fingerprint
    public = private.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    return material.decode().rstrip("\n"), public.decode(), fingerprint


def imported(text: str) -> tuple[str, str, str]:
    """An imported public key: (OpenSSH public key, key type, AWS's fingerprint); InvalidKey.Format otherwise."""
    try:
        key = serialization.load_ssh_public_key(text.strip().encode())
    except (ValueError, TypeError, IndexError):
        try:
            key = serialization.load_pem_public_key(text.strip().encode())
        except (ValueError, TypeError):
            raise ServiceError("InvalidKey.Format", "Key is not in valid OpenSSH public key format") from None
    public = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    if isinstance(key, rsa.RSAPublicKey):
        der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        return public, "rsa", _colon_hex(hashlib.md5(der).digest())  # noqa: S324 - AWS's fingerprint
    if isinstance(key, ed25519.Ed25519PublicKey):
        return public, "ed25519", _openssh_fingerprint(key)
    raise ServiceError("InvalidKey.Format", "Key is not in valid OpenSSH public key format")


class KeyPairOperations(Operations):
    service: Ec2Provider

    def create_key_pair(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        key_type = params.get("KeyType") or "rsa"
        if key_type not in ("rsa", "ed25519"):
            raise invalid(f"Value ({key_type}) for parameter keyType is invalid.")
        if (params.get("KeyFormat") or "pem") != "pem":
            raise invalid("Only the pem key format is supported by Overcast")
        material, public, fingerprint = generate(key_type)
        key = self._store(ctx, params, public, key_type, fingerprint)
        return {
            "KeyFingerprint": fingerprint,
            "KeyMaterial": material,
            "KeyName": key.name,
            "KeyPairId": key.id,
            "Tags": tag_list(tag_specifications(params, "key-pair")),
        }

    def import_key_pair(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        material = params["PublicKeyMaterial"]
        text = material.decode(errors="replace") if isinstance(material, bytes) else str(material)
        public, key_type, fingerprint = imported(text)
        key = self._store(ctx, params, public, key_type, fingerprint)
        return {
            "KeyFingerprint": fingerprint,
            "KeyName": key.name,
            "KeyPairId": key.id,
            "Tags": tag_list(tag_specifications(params, "key-pair")),
        }

    def _store(
        self, ctx: RequestContext, params: dict[str, Any], public: str, key_type: str, fingerprint: str
    ) -> Resource:
        name = params["KeyName"]
        if not name or len(name) > NAME_LIMIT:
            raise invalid(f"Value ({name}) for parameter keyName is invalid. Length exceeds maximum of 255.")
        store = self.service.store
        if store.named(ctx.account_id, ctx.region, kinds.KEY_PAIR.name, name):
            raise ServiceError("InvalidKeyPair.Duplicate", f"The keypair '{name}' already exists.")
        key_id = new_id("key")
        body = {
            "KeyPairId": key_id,
            "KeyType": key_type,
            "KeyName": name,
            "KeyFingerprint": fingerprint,
            "CreateTime": round(self.service.clock.now(), 3),
            "_public": public,
        }
        key = store.insert(Resource(key_id, ctx.account_id, ctx.region, kinds.KEY_PAIR.name, body, name=name))
        self.service.net.tag(key, tag_specifications(params, "key-pair"))
        return key

    def find_key(self, ctx: RequestContext, name: str) -> Resource:
        found = self.service.store.named(ctx.account_id, ctx.region, kinds.KEY_PAIR.name, name)
        if not found:
            raise ServiceError("InvalidKeyPair.NotFound", f"The key pair '{name}' does not exist")
        return found[0]

    def describe_key_pairs(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        names = params.get("KeyNames")
        ids = list(params.get("KeyPairIds") or ())
        if names:
            ids += [self.find_key(ctx, name).id for name in names]
        include_public = bool(params.get("IncludePublicKey"))

        def render(key: Resource) -> dict[str, Any]:
            described = self.service.net.render(key)
            if include_public:
                described["PublicKey"] = key.body["_public"]
            return described

        result = self.service.net.describe(
            ctx, params, kinds.KEY_PAIR, ids or None, FILTERS, "KeyPairs", render
        )
        return {"KeyPairs": result["KeyPairs"]}

    def delete_key_pair(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        """Deleting a key that does not exist succeeds, as in AWS."""
        store = self.service.store
        if params.get("KeyPairId"):
            key = self.service.net.find(ctx, kinds.KEY_PAIR, params["KeyPairId"])
        else:
            found = store.named(ctx.account_id, ctx.region, kinds.KEY_PAIR.name, params.get("KeyName") or "")
            key = found[0] if found else None
        if key is None:
            return {"Return": True}
        self.service.net.forget(key)
        return {"KeyPairId": key.id, "Return": True}
