"""Encryption at rest: object bodies are stored encrypted with AES-256, never in plain text.

Every version records how its data is stored (`s3_objects.enc`; a multipart upload records it for its parts):

- None: plain text, as objects written before encryption at rest existed (they stay readable);
- "S3": under the server's own key (SSE-S3, and SSE-KMS until there is a KMS service to hold the key). The key
  is made once and kept in S3's tables (`s3_keys`), so data survives restarts; `--ephemeral` keeps it in its
  in-memory database like everything else;
- "C": under the customer's key (SSE-C), as sent with every request and never stored (S3 keeps only the key's
  MD5, which the request's key must match before any byte is decrypted).

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
import os
from collections.abc import AsyncIterator
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, CipherContext, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from overcast.errors import ServiceError

SERVER = "S3"  # `enc` of a version under the server's key
CUSTOMER = "C"  # `enc` of a version under the customer's key
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

    def __init__(self, server_key: bytes) -> None:
        self.server_key = server_key
        self.server = BodyCipher(server_key)

    def enc_for(self, meta: dict[str, Any]) -> str:
        """How a new object (or upload) whose recorded encryption is `meta`'s stores its data."""
        return CUSTOMER if meta.get("SSECustomer") else SERVER

    def cipher_for(self, enc: str | None, params: dict[str, Any], prefix: str = "") -> BodyCipher | None:
        """The cipher for data stored as `enc` (None: plain text); an SSE-C key comes from `params`, its names
        starting with `prefix` ("CopySource" for the source of a copy)."""
        if enc is None:
            return None
        if enc == SERVER:
            return self.server
        return BodyCipher(customer_key(params, prefix))

    def for_new(self, meta: dict[str, Any], params: dict[str, Any]) -> tuple[str, BodyCipher]:
        """(enc, cipher) for a new object."""
        enc = self.enc_for(meta)
        return enc, self.server if enc == SERVER else BodyCipher(customer_key(params))
