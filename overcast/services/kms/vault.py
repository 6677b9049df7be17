"""Key material at rest: wrapped (AES-256-GCM) under a master key that is not in the database.

The master key comes from `OVERCAST_KMS_MASTER_KEY` (64 hex digits) when it is set, so that nothing in the data
directory can unwrap the keys; otherwise it is made once and kept in `<data dir>/kms-master.key` (mode 0600),
beside the database but not in it: a copied `overcast.db` (a backup, a bug report) holds no key in plain text.
Each wrapping is bound to its key and generation (the GCM associated data), so rows cannot be swapped.
Unwrapped material is cached in a bounded LRU: the hot path (Encrypt/Decrypt) does one GCM operation, not two.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

ENVIRONMENT = "OVERCAST_KMS_MASTER_KEY"
FILE_NAME = "kms-master.key"
_CACHE_SIZE = 4096


def load_master_key(root: Path) -> bytes:
    """The master key: from the environment, else the data directory's key file (made on first use)."""
    given = os.environ.get(ENVIRONMENT)
    if given:
        key = bytes.fromhex(given.strip())
        if len(key) != 32:
            raise ValueError(f"{ENVIRONMENT} must be 64 hex digits (a 256-bit key)")
        return key
    path = root / FILE_NAME
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        pass
    key = os.urandom(32)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(key.hex())
        file.flush()
        os.fsync(file.fileno())
    return key


class Vault:
    def __init__(self, master_key: bytes) -> None:
        self._aead = AESGCM(master_key)
        self._cache: OrderedDict[tuple[str, str, int], bytes] = OrderedDict()

    def wrap(self, account: str, key_id: str, generation: int, material: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, material, _binding(account, key_id, generation))

    def unwrap(
        self, account: str, key_id: str, generation: int, wrapped: bytes | Callable[[], bytes]
    ) -> bytes:
        """The material `wrapped` holds (or `wrapped()` reads from the store, when the cache does not have it)."""
        slot = (account, key_id, generation)
        found = self._cache.get(slot)
        if found is not None:
            self._cache.move_to_end(slot)
            return found
        if callable(wrapped):
            wrapped = wrapped()
        material = self._aead.decrypt(wrapped[:12], wrapped[12:], _binding(account, key_id, generation))
        self._cache[slot] = material
        if len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return material

    def forget(self, account: str, key_id: str) -> None:
        for slot in [slot for slot in self._cache if slot[:2] == (account, key_id)]:
            del self._cache[slot]

    def clear(self) -> None:
        self._cache.clear()


def _binding(account: str, key_id: str, generation: int) -> bytes:
    return f"{account}/{key_id}/{generation}".encode()
