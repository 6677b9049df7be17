"""Encryption at rest: object bodies are stored encrypted with AES-256, never in plain text.

Every version records how its data is stored (`s3_objects.enc`; a multipart upload records it for its parts):

- None: plain text, as objects written before encryption at rest existed (they stay readable);
- "S3": under the server's own key (SSE-S3, and SSE-KMS until there is a KMS service to hold the key). The key
  is made once and kept in S3's tables (`s3_keys`), so data survives restarts; `--ephemeral` keeps it in its
  in-memory database like everything else;
- "C": under the customer's key (SSE-C), as sent with every request and never stored (S3 keeps only the key's
  MD5, which the request's key must match before any byte is decrypted);
- "K:{...}": SSE-KMS, under a data key from KMS (envelope encryption, as S3 does it): the JSON after "K:" holds
  the data key as KMS encrypted it, its key's ARN and the encryption context (`aws:s3:arn`, plus the
  request's `SSEKMSEncryptionContext`). Writing asks KMS for the data key (`kms:GenerateDataKey`), reading
  asks KMS to decrypt it (`kms:Decrypt`), both as the caller through S3 (`kms:ViaService`), so a disabled or
  deleted key, a key policy or an IAM policy stops reads and writes as in AWS.

Two formats, chosen for how each body is read:

- A body kept in its row (small, read whole): AES-256-GCM, `nonce (12) || ciphertext || tag (16)`. One call
  per body on an AESGCM object built once per key (about 1 µs for 1 KiB), and authenticated.
- A blob file (large, streamed, read by ranges and parts): a random 16-byte initial counter block, then the
  body in AES-256-CTR, byte for byte. CTR because a range can start anywhere: the counter for byte `n` is
  `iv + n // 16`, and `n % 16` bytes of keystream are skipped, so a range GET decrypts only what it sends
  and the file's offsets stay the body's (+16). GCM per chunk would authenticate each chunk but make every
  range read whole chunks and every copy re-chunk. CTR is not authenticated: what this protects is
  confidentiality at rest (a copied disk, a backup, a grep through the data directory); the integrity of
  stored bodies is what ETags and checksums are for. The counter block is random per file: with 2^128
  values, two files never share keystream.

A blob file is self-describing (its counter block travels with it), so a hard-linked copy under the same key
(CopyObject, replication) shares the file as before; a copy under another key is re-encrypted.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, CipherContext, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from overcast.errors import ServiceError
from overcast.identity import root_principal
from overcast.services.kms import api as kms

if TYPE_CHECKING:
    from overcast.context import RequestContext
    from overcast.platform import Platform

SERVER = "S3"  # `enc` of a version under the server's key
CUSTOMER = "C"  # `enc` of a version under the customer's key
KMS = "K:"  # `enc` of a version under a data key from KMS: "K:" + JSON {key, arn, context}
HEADER = 16  # bytes before the ciphertext in a blob file: the initial counter block
_NONCE = 12
_BLOCK = 16
_COUNTERS = 1 << 128


class BodyCipher:
    """AES-256 under one key: GCM for bodies kept in rows, CTR for blob files. Built once per key and reused
    (the server's for the life of the process; a customer's for the request that sent it)."""

    __slots__ = ("_aes", "_gcm")

    def __init__(self, key: bytes) -> None:
        self._gcm = AESGCM(key)
        self._aes = algorithms.AES(key)

    # -- bodies kept in their row -------------------------------------------------------------------

    def seal(self, data: bytes) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + self._gcm.encrypt(nonce, data, None)

    def open(self, sealed: bytes) -> bytes:
        try:
            return self._gcm.decrypt(sealed[:_NONCE], sealed[_NONCE:], None)
        except InvalidTag:
            raise ServiceError(
                "InternalError", "The stored object data could not be decrypted", 500, sender_fault=False
            ) from None

    # -- blob files ---------------------------------------------------------------------------------

    async def encrypting(self, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        """The file's content for a body arriving as `chunks`: the counter block, then the ciphertext."""
        iv = os.urandom(_BLOCK)
        encryptor = Cipher(self._aes, modes.CTR(iv)).encryptor()
        yield iv
        async for chunk in chunks:
            yield encryptor.update(chunk)

    def decryptor(self, iv: bytes, offset: int) -> CipherContext:
        """Decrypts a file's ciphertext from body byte `offset` on (`iv` is the file's first 16 bytes)."""
        block, skip = divmod(offset, _BLOCK)
        counter = ((int.from_bytes(iv, "big") + block) % _COUNTERS).to_bytes(_BLOCK, "big")
        decryptor = Cipher(self._aes, modes.CTR(counter)).decryptor()
        if skip:
            decryptor.update(bytes(skip))
        return decryptor


def customer_key(params: dict[str, Any], prefix: str = "") -> bytes:
    """The SSE-C key of a request (already validated by `check_customer_key`); `prefix` "CopySource" for
    the source of a copy."""
    return base64.b64decode(params[f"{prefix}SSECustomerKey"])


class Keyring:
    """Which cipher reads and writes a version's data. The server's cipher is built once."""

    def __init__(self, server_key: bytes, platform: Platform) -> None:
        self.server_key = server_key
        self.server = BodyCipher(server_key)
        self.platform = platform

    def enc_for(self, ctx: RequestContext, meta: dict[str, Any], params: dict[str, Any], arn: str) -> str:
        """How a new object (or upload) whose recorded encryption is `meta`'s stores its data; for SSE-KMS, a
        new data key for the object `arn` (and `meta`'s key id becomes the key's ARN, as S3 reports it)."""
        return self.for_new(ctx, meta, params, arn)[0]

    def cipher_for(
        self, enc: str | None, params: dict[str, Any], prefix: str = "", ctx: RequestContext | None = None
    ) -> BodyCipher | None:
        """The cipher for data stored as `enc` (None: plain text); an SSE-C key comes from `params`, its names
        starting with `prefix` ("CopySource" for the source of a copy); an SSE-KMS data key is decrypted by
        KMS for `ctx`'s caller (without a request: for the key's account, as S3's own background work)."""
        if enc is None:
            return None
        if enc == SERVER:
            return self.server
        if enc.startswith(KMS):
            return BodyCipher(self._open_data_key(enc, ctx))
        return BodyCipher(customer_key(params, prefix))

    def for_new(
        self, ctx: RequestContext, meta: dict[str, Any], params: dict[str, Any], arn: str
    ) -> tuple[str, BodyCipher]:
        """(enc, cipher) for a new object."""
        if meta.get("SSECustomer"):
            return CUSTOMER, BodyCipher(customer_key(params))
        if str(meta.get("SSE", "")).startswith("aws:kms"):
            return self._new_data_key(ctx, meta, params, arn)
        return SERVER, self.server

    def _new_data_key(
        self, ctx: RequestContext, meta: dict[str, Any], params: dict[str, Any], arn: str
    ) -> tuple[str, BodyCipher]:
        context = {**_user_context(params), "aws:s3:arn": arn}
        key_id = meta.get("KMSKeyId") or "alias/aws/s3"
        try:
            data_key = kms.generate_data_key(
                self.platform, ctx.principal, ctx.account_id, ctx.region, key_id, context, via="s3"
            )
        except ServiceError as error:
            raise _as_s3(error, key_id) from error
        meta["KMSKeyId"] = data_key.key_arn
        sealed = {
            "key": base64.b64encode(data_key.ciphertext).decode(),
            "arn": data_key.key_arn,
            "context": context,
        }
        return KMS + json.dumps(sealed, separators=(",", ":")), BodyCipher(data_key.plaintext)

    def _open_data_key(self, enc: str, ctx: RequestContext | None) -> bytes:
        sealed = json.loads(enc[len(KMS) :])
        arn = sealed["arn"]
        if ctx is not None:
            principal, account, region = ctx.principal, ctx.account_id, ctx.region
        else:
            _, _, _, region, account, _ = arn.split(":", 5)
            principal = root_principal(account)
        try:
            return kms.decrypt(
                self.platform,
                principal,
                account,
                region,
                base64.b64decode(sealed["key"]),
                sealed["context"],
                via="s3",
            )
        except ServiceError as error:
            raise _as_s3(error, arn) from error


def _user_context(params: dict[str, Any]) -> dict[str, str]:
    """The encryption context a request adds (`x-amz-server-side-encryption-context`, base64 JSON)."""
    given = params.get("SSEKMSEncryptionContext")
    if not given:
        return {}
    try:
        found = json.loads(base64.b64decode(given))
    except ValueError:
        raise ServiceError("InvalidArgument", "The encryption context is not valid JSON.", 400) from None
    if not isinstance(found, dict) or not all(isinstance(v, str) for v in found.values()):
        raise ServiceError("InvalidArgument", "The encryption context must be a map of strings.", 400)
    return found


def _as_s3(error: ServiceError, key_id: str) -> ServiceError:
    """KMS's error as S3 answers it: a missing key is `KMS.NotFoundException` "Invalid keyId ...", a disabled
    or pending one `KMS.DisabledException` / `KMS.KMSInvalidStateException`, a denial S3's AccessDenied with
    KMS's words."""
    if error.code == "NotFoundException":
        return ServiceError("KMS.NotFoundException", f"Invalid keyId {key_id}", 400)
    if error.code == "DisabledException":
        return ServiceError("KMS.DisabledException", error.message, 400)
    if error.code == "KMSInvalidStateException":
        return ServiceError("KMS.KMSInvalidStateException", error.message, 400)
    if error.code in ("AccessDeniedException", "InvalidCiphertextException"):
        return ServiceError("AccessDenied", error.message, 403)
    return error
