"""KMS's cryptography, with the `cryptography` library: key specs, key material, ciphertext blobs, signatures,
MACs, key agreement and the wrapping of imported key material. Pure logic: no request context, no database.

A symmetric ciphertext blob is Overcast's own format (AWS's is opaque too), so that `Decrypt` needs no KeyId:

    version (1) | account (12 ASCII digits) | id kind (1) | key id (16) | generation (4) | nonce (12) | AES-GCM

The header and the canonical encryption context are the GCM associated data: a changed byte or a different
context fails authentication (InvalidCiphertextException). `generation` names the key material (rotation keeps
every generation, so old ciphertexts still decrypt).
"""

from __future__ import annotations

import os
import struct
import uuid
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, hmac, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap_with_padding

SYMMETRIC = "SYMMETRIC_DEFAULT"
RSA_SPECS = {"RSA_2048": 2048, "RSA_3072": 3072, "RSA_4096": 4096}
ECC_SPECS: dict[str, type[ec.EllipticCurve]] = {
    "ECC_NIST_P256": ec.SECP256R1,
    "ECC_NIST_P384": ec.SECP384R1,
    "ECC_NIST_P521": ec.SECP521R1,
    "ECC_SECG_P256K1": ec.SECP256K1,
}
HMAC_SPECS = {"HMAC_224": 28, "HMAC_256": 32, "HMAC_384": 48, "HMAC_512": 64}
MAC_ALGORITHMS = {"HMAC_224": "HMAC_SHA_224", "HMAC_256": "HMAC_SHA_256", "HMAC_384": "HMAC_SHA_384"}
MAC_ALGORITHMS["HMAC_512"] = "HMAC_SHA_512"
SUPPORTED_SPECS = (SYMMETRIC, *RSA_SPECS, *ECC_SPECS, *HMAC_SPECS)

HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "SHA_224": hashes.SHA224,
    "SHA_256": hashes.SHA256,
    "SHA_384": hashes.SHA384,
    "SHA_512": hashes.SHA512,
    "SHA_1": hashes.SHA1,
}
RSA_SIGNING = [
    "RSASSA_PSS_SHA_256",
    "RSASSA_PSS_SHA_384",
    "RSASSA_PSS_SHA_512",
    "RSASSA_PKCS1_V1_5_SHA_256",
    "RSASSA_PKCS1_V1_5_SHA_384",
    "RSASSA_PKCS1_V1_5_SHA_512",
]
ECDSA_SIGNING = {
    "ECC_NIST_P256": ["ECDSA_SHA_256"],
    "ECC_NIST_P384": ["ECDSA_SHA_384"],
    "ECC_NIST_P521": ["ECDSA_SHA_512"],
    "ECC_SECG_P256K1": ["ECDSA_SHA_256"],
}
RSA_ENCRYPTION = ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"]

MAX_PLAINTEXT = 4096
BLOB_VERSION = 1
_HEADER = struct.Struct(">B12sB16sI")  # version, account, id kind, key id, generation
_NONCE = 12
MRK_PREFIX = "mrk-"


class CiphertextError(Exception):
    """The blob is not a ciphertext of ours, or it does not authenticate (wrong key, context or bytes)."""


class SignatureMismatch(Exception):
    """A signature or MAC that does not verify."""


# -- key specs ------------------------------------------------------------------------------------------


def usages_of(spec: str) -> tuple[str, ...]:
    """The key usages a key spec allows (the first is CreateKey's default where one is)."""
    if spec == SYMMETRIC:
        return ("ENCRYPT_DECRYPT",)
    if spec in RSA_SPECS:
        return ("ENCRYPT_DECRYPT", "SIGN_VERIFY")
    if spec == "ECC_SECG_P256K1":
        return ("SIGN_VERIFY",)
    if spec in ECC_SPECS:
        return ("SIGN_VERIFY", "KEY_AGREEMENT")
    if spec in HMAC_SPECS:
        return ("GENERATE_VERIFY_MAC",)
    return ()


def algorithms_of(spec: str, usage: str) -> dict[str, list[str]]:
    """DescribeKey's algorithm lists of a key: {"EncryptionAlgorithms": [...]} and the like."""
    if usage == "ENCRYPT_DECRYPT":
        return {"EncryptionAlgorithms": [SYMMETRIC] if spec == SYMMETRIC else list(RSA_ENCRYPTION)}
    if usage == "SIGN_VERIFY":
        return {"SigningAlgorithms": list(RSA_SIGNING) if spec in RSA_SPECS else list(ECDSA_SIGNING[spec])}
    if usage == "GENERATE_VERIFY_MAC":
        return {"MacAlgorithms": [MAC_ALGORITHMS[spec]]}
    if usage == "KEY_AGREEMENT":
        return {"KeyAgreementAlgorithms": ["ECDH"]}
    return {}


def new_material(spec: str) -> bytes:
    """Fresh key material: 32 random bytes (AES-256), an HMAC key, or a private key (PKCS#8 DER)."""
    if spec == SYMMETRIC:
        return os.urandom(32)
    if spec in HMAC_SPECS:
        return os.urandom(HMAC_SPECS[spec])
    return private_der(new_private_key(spec))


def new_private_key(spec: str) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
    if spec in RSA_SPECS:
        return rsa.generate_private_key(65537, RSA_SPECS[spec])
    return ec.generate_private_key(ECC_SPECS[spec]())


def private_der(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def load_private(material: bytes):
    return serialization.load_der_private_key(material, None)


def public_der(material: bytes) -> bytes:
    """The DER SubjectPublicKeyInfo of a private key's material (what GetPublicKey returns)."""
    return (
        load_private(material)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def spec_of_private(material: bytes) -> str | None:
    """The key spec of imported private key material, or None when it is none of KMS's."""
    try:
        key = load_private(material)
    except ValueError:
        return None
    if isinstance(key, rsa.RSAPrivateKey):
        return next((name for name, bits in RSA_SPECS.items() if bits == key.key_size), None)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return next((name for name, curve in ECC_SPECS.items() if curve.name == key.curve.name), None)
    return None


# -- key ids ---------------------------------------------------------------------------------------------


def new_key_id(multi_region: bool = False) -> str:
    return f"{MRK_PREFIX}{uuid.uuid4().hex}" if multi_region else str(uuid.uuid4())


def _id_bytes(key_id: str) -> tuple[int, bytes]:
    if key_id.startswith(MRK_PREFIX):
        return 1, bytes.fromhex(key_id[len(MRK_PREFIX) :])
    return 0, bytes.fromhex(key_id.replace("-", ""))  # uuid.UUID(key_id).bytes, without the object


def _id_text(kind: int, raw: bytes) -> str:
    text = raw.hex()
    if kind == 1:
        return MRK_PREFIX + text
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"  # str(UUID(bytes=raw)), faster


# -- symmetric encryption ----------------------------------------------------------------------------------


def canonical_context(context: dict[str, str] | None) -> bytes:
    """The encryption context as authenticated data: order-independent and unambiguous (each key and value
    prefixed by its length)."""
    if not context:
        return b""
    return "".join([f"{len(k)}:{k}{len(context[k])}:{context[k]}" for k in sorted(context)]).encode()


@dataclass(frozen=True)
class BlobHeader:
    account: str
    key_id: str
    generation: int


def read_header(blob: bytes) -> BlobHeader:
    """Who a symmetric ciphertext belongs to; CiphertextError when it is not one of ours."""
    if len(blob) < _HEADER.size + _NONCE + 16 or blob[0] != BLOB_VERSION:
        raise CiphertextError()
    return _header(bytes(blob[: _HEADER.size]))


@lru_cache(maxsize=1024)
def _header(head: bytes) -> BlobHeader:
    """A header's fields, read once per key material generation (every Decrypt reads one)."""
    _, account, kind, raw, generation = _HEADER.unpack(head)
    if kind not in (0, 1) or not account.isdigit():
        raise CiphertextError()
    return BlobHeader(account.decode(), _id_text(kind, raw), generation)


@lru_cache(maxsize=1024)
def _aead(material: bytes) -> AESGCM:
    """The cipher object of a key's material, made once (its key schedule is not free)."""
    return AESGCM(material)


def encrypt(
    material: bytes, account: str, key_id: str, generation: int, plaintext: bytes, context: dict | None
) -> bytes:
    kind, raw = _id_bytes(key_id)
    header = _HEADER.pack(BLOB_VERSION, account.encode(), kind, raw, generation)
    nonce = os.urandom(_NONCE)
    sealed = _aead(material).encrypt(nonce, plaintext, header + canonical_context(context))
    return header + nonce + sealed


def decrypt(material: bytes, blob: bytes, context: dict | None) -> bytes:
    header, nonce = blob[: _HEADER.size], blob[_HEADER.size : _HEADER.size + _NONCE]
    try:
        return _aead(material).decrypt(
            nonce, blob[_HEADER.size + _NONCE :], header + canonical_context(context)
        )
    except InvalidTag:
        raise CiphertextError() from None


# -- asymmetric ------------------------------------------------------------------------------------------


def _oaep(algorithm: str) -> padding.OAEP:
    digest = HASHES["SHA_1" if algorithm == "RSAES_OAEP_SHA_1" else "SHA_256"]()
    return padding.OAEP(mgf=padding.MGF1(digest), algorithm=digest, label=None)


def rsa_max_plaintext(spec: str, algorithm: str) -> int:
    """The longest plaintext RSA-OAEP takes with this key size and hash."""
    digest_size = 20 if algorithm == "RSAES_OAEP_SHA_1" else 32
    return RSA_SPECS[spec] // 8 - 2 * digest_size - 2


def rsa_encrypt(public: bytes, algorithm: str, plaintext: bytes) -> bytes:
    key = serialization.load_der_public_key(public)
    assert isinstance(key, rsa.RSAPublicKey)
    return key.encrypt(plaintext, _oaep(algorithm))


def rsa_decrypt(material: bytes, algorithm: str, ciphertext: bytes) -> bytes:
    key = load_private(material)
    assert isinstance(key, rsa.RSAPrivateKey)
    try:
        return key.decrypt(ciphertext, _oaep(algorithm))
    except ValueError:
        raise CiphertextError() from None


def digest_size(algorithm: str) -> int:
    return HASHES[_hash_name(algorithm)].digest_size


def _hash_name(algorithm: str) -> str:
    return "SHA_" + algorithm.rsplit("_", 1)[-1]


def _signing(algorithm: str, key, prehashed: bool):
    """(the arguments of key.sign/verify after the data) for a KMS signing algorithm."""
    digest = HASHES[_hash_name(algorithm)]()
    chosen = utils.Prehashed(digest) if prehashed else digest
    if algorithm.startswith("ECDSA"):
        return (ec.ECDSA(chosen),)
    if algorithm.startswith("RSASSA_PSS"):
        # KMS signs PSS with a salt as long as the digest (RFC 8017's recommendation)
        return padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size), chosen
    return padding.PKCS1v15(), chosen


def sign(material: bytes, algorithm: str, message: bytes, prehashed: bool) -> bytes:
    key = load_private(material)
    return key.sign(message, *_signing(algorithm, key, prehashed))


def verify(public: bytes, algorithm: str, message: bytes, signature: bytes, prehashed: bool) -> None:
    key = serialization.load_der_public_key(public)
    try:
        key.verify(signature, message, *_signing(algorithm, key, prehashed))  # type: ignore[union-attr]
    except (InvalidSignature, ValueError):
        raise SignatureMismatch() from None


def derive_shared_secret(material: bytes, peer_public_der: bytes) -> bytes:
    """ECDH between the key's private key and a peer's public key (DER SubjectPublicKeyInfo)."""
    key = load_private(material)
    try:
        peer = serialization.load_der_public_key(peer_public_der)
    except ValueError:
        raise CiphertextError() from None
    if not isinstance(peer, ec.EllipticCurvePublicKey) or peer.curve.name != key.curve.name:
        raise CiphertextError()
    return key.exchange(ec.ECDH(), peer)


# -- HMAC ------------------------------------------------------------------------------------------------


def mac(material: bytes, algorithm: str, message: bytes) -> bytes:
    signer = hmac.HMAC(material, HASHES[_hash_name(algorithm)]())
    signer.update(message)
    return signer.finalize()


def verify_mac(material: bytes, algorithm: str, message: bytes, tag: bytes) -> None:
    checker = hmac.HMAC(material, HASHES[_hash_name(algorithm)]())
    checker.update(message)
    try:
        checker.verify(tag)
    except InvalidSignature:
        raise SignatureMismatch() from None


# -- imported key material ---------------------------------------------------------------------------------

WRAPPING_ALGORITHMS = (
    "RSAES_OAEP_SHA_1",
    "RSAES_OAEP_SHA_256",
    "RSA_AES_KEY_WRAP_SHA_1",
    "RSA_AES_KEY_WRAP_SHA_256",
    "RSAES_PKCS1_V1_5",
)


def unwrap_import(wrapping_private: bytes, algorithm: str, encrypted: bytes) -> bytes:
    """The key material a user wrapped with GetParametersForImport's public key."""
    key = load_private(wrapping_private)
    assert isinstance(key, rsa.RSAPrivateKey)
    try:
        if algorithm == "RSAES_PKCS1_V1_5":
            return key.decrypt(encrypted, padding.PKCS1v15())
        hash_name = "RSAES_OAEP_SHA_1" if algorithm.endswith("SHA_1") else "RSAES_OAEP_SHA_256"
        if algorithm.startswith("RSAES_OAEP"):
            return key.decrypt(encrypted, _oaep(hash_name))
        # RSA_AES_KEY_WRAP: an RSA-OAEP encrypted AES key, then the material under AES key wrap with padding
        size = key.key_size // 8
        aes_key = key.decrypt(encrypted[:size], _oaep(hash_name))
        return aes_key_unwrap_with_padding(aes_key, encrypted[size:])
    except (ValueError, InvalidUnwrap):
        raise CiphertextError() from None
