"""Message signatures as SNS makes them (AWS: "Verifying the signatures of Amazon SNS messages").

A topic's `SignatureVersion` picks the algorithm: "1" (the default) is SHA1withRSA, "2" SHA256withRSA. What is
signed is the string to sign: "Name\\nValue\\n" for each field of a fixed list, in that list's order, skipping
the optional ones a message lacks; the list differs between a Notification and a SubscriptionConfirmation or
UnsubscribeConfirmation.

The key is an RSA key with a self-signed X.509 certificate, made once and kept in the SNS store (table
`sns_signing_keys`), so a message delivered before a restart still verifies against the certificate served at
its SigningCertURL afterwards. The URL names the certificate by its fingerprint, as AWS's
`SimpleNotificationService-<hex>.pem` does, so a subscriber that caches certificates by URL can never pair a
message with the wrong one.

The `rsa` package makes the key and reads and writes it as PEM. Signing is PKCS#1 v1.5 with the
Chinese-remainder exponentiation (a third of `rsa.sign`'s cost, which does not use it), once per message text
and version rather than once per subscriber. Without `rsa` messages carry an empty Signature.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

try:
    import rsa
except ImportError:  # pragma: no cover - depends on the environment
    rsa = None

if TYPE_CHECKING:
    from overcast.services.sns.store import SnsStore

KEY_NAME = "default"
KEY_BITS = 1024  # made in pure Python; a 2048-bit key would cost six times as much per signature
CERTIFICATE_DIR = "/_overcast/sns/"
CERTIFICATE_PREFIX = CERTIFICATE_DIR + "SimpleNotificationService"
LEGACY_CERTIFICATE_PATH = CERTIFICATE_PREFIX + ".pem"  # what older versions put in SigningCertURL
NOTIFICATION_FIELDS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
CONFIRMATION_FIELDS = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")
# SignatureVersion -> (hash, DER of the DigestInfo that precedes the digest in PKCS#1 v1.5, RFC 8017 9.2)
DIGESTS = {
    "1": ("sha1", bytes.fromhex("3021300906052b0e03021a05000414")),
    "2": ("sha256", bytes.fromhex("3031300d060960864801650304020105000420")),
}
SIGNATURE_VERSIONS = tuple(DIGESTS)


def string_to_sign(document: dict[str, Any]) -> str:
    """The text a signature covers, from the document as delivered (values as they are, not JSON-escaped)."""
    fields = NOTIFICATION_FIELDS if document["Type"] == "Notification" else CONFIRMATION_FIELDS
    return "".join(f"{name}\n{document[name]}\n" for name in fields if name in document)


def _pkcs1_sign(key: Any, data: bytes, version: str) -> bytes:
    """RSASSA-PKCS1-v1_5 signature of `data` with an `rsa.PrivateKey`, hashed per `version`."""
    algorithm, digest_info = DIGESTS[version]
    size = (key.n.bit_length() + 7) // 8
    encoded = digest_info + hashlib.new(algorithm, data).digest()
    message = int.from_bytes(b"\x00\x01" + b"\xff" * (size - len(encoded) - 3) + b"\x00" + encoded, "big")
    low, high = pow(message, key.exp1, key.p), pow(message, key.exp2, key.q)
    signature = high + (key.coef * (low - high) % key.p) * key.q
    return signature.to_bytes(size, "big")


class SigningKey:
    """A loaded key: what signing needs, parsed once and cached by the `Signer`."""

    __slots__ = ("_key", "certificate", "certificate_path", "private_pem")

    def __init__(self, private_pem: str, certificate: str) -> None:
        self.private_pem = private_pem
        self._key = rsa.PrivateKey.load_pkcs1(private_pem.encode())
        self.certificate = certificate
        der = base64.b64decode("".join(line for line in certificate.splitlines() if "-----" not in line))
        self.certificate_path = f"{CERTIFICATE_PREFIX}-{hashlib.sha256(der).hexdigest()[:32]}.pem"

    def sign(self, text: str, version: str) -> str:
        return base64.b64encode(_pkcs1_sign(self._key, text.encode(), version)).decode()


class Signer:
    """The service's signing key: loaded from the store on first use, made (and stored) if there is none."""

    def __init__(self, store: SnsStore) -> None:
        self._store = store
        self._key: SigningKey | None = None
        self._making: asyncio.Future | None = None  # a key being made in a worker thread

    @property
    def available(self) -> bool:
        return rsa is not None

    async def ready(self) -> SigningKey | None:
        """The key; one that has to be made is made in a worker thread, off the event loop."""
        if self._key is None and rsa is not None and not self._load():
            if self._making is None:
                self._making = asyncio.ensure_future(asyncio.to_thread(_generate))
            making = self._making
            try:
                made = await making
            finally:
                if self._making is making:
                    self._making = None
            if not self._load():  # the first of those waiting stores it
                self._keep(*made)
        return self._key

    def key(self) -> SigningKey | None:
        """The key, made here and now if need be (callers on the event loop `await ready()` first)."""
        if self._key is None and rsa is not None and not self._load():
            self._keep(*_generate())
        return self._key

    def _load(self) -> bool:
        row = self._store.signing_key(KEY_NAME)
        if row is not None:
            self._key = SigningKey(*row)
        return self._key is not None

    def _keep(self, private_pem: str, certificate: str) -> None:
        with self._store.db.transaction():
            self._store.add_signing_key(KEY_NAME, private_pem, certificate)
        self._load()

    def restore(self) -> None:
        """Put the key back after `overcast reset` emptied the tables: it is the service's, not a resource."""
        if self._key is not None:
            self._keep(self._key.private_pem, self._key.certificate)

    def sign(self, document: dict[str, Any], base_url: str, version: str, memo: dict | None = None) -> None:
        """Add SignatureVersion, Signature and SigningCertURL to a Notification or a confirmation.

        `memo` ({(version, text): signature}) lets the subscribers of one message share its signature: the
        string to sign names no subscriber."""
        document["SignatureVersion"] = version
        key = self.key()
        signature = ""
        if key is not None:
            text = string_to_sign(document)
            signature = memo.get((version, text), "") if memo is not None else ""
            if not signature:
                signature = key.sign(text, version)
                if memo is not None:
                    memo[(version, text)] = signature
        document["Signature"] = signature
        document["SigningCertURL"] = base_url + (key.certificate_path if key else LEGACY_CERTIFICATE_PATH)


def _generate() -> tuple[str, str]:
    """A new key and its self-signed certificate, both PEM."""
    public, private = rsa.newkeys(KEY_BITS)
    return private.save_pkcs1().decode(), _self_signed_pem(public, private)


# -- a minimal DER encoder: just what one self-signed certificate needs ----------------------------------


def _der(tag: int, content: bytes) -> bytes:
    length = len(content)
    if length < 0x80:
        return bytes([tag, length]) + content
    size = (length.bit_length() + 7) // 8
    return bytes([tag, 0x80 | size]) + length.to_bytes(size, "big") + content


def _integer(value: int) -> bytes:
    return _der(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big", signed=False))


def _oid(dotted: str) -> bytes:
    parts = [int(p) for p in dotted.split(".")]
    body = bytes([40 * parts[0] + parts[1]])
    for part in parts[2:]:
        chunk = [part & 0x7F]
        part >>= 7
        while part:
            chunk.insert(0, 0x80 | (part & 0x7F))
            part >>= 7
        body += bytes(chunk)
    return _der(0x06, body)


def _sequence(*items: bytes) -> bytes:
    return _der(0x30, b"".join(items))


def _name(organization: str, common_name: str) -> bytes:
    def rdn(oid: str, value: str) -> bytes:
        return _der(0x31, _sequence(_oid(oid), _der(0x0C, value.encode())))

    return _sequence(rdn("2.5.4.10", organization), rdn("2.5.4.3", common_name))


def _time(moment: datetime) -> bytes:
    return _der(0x17, moment.strftime("%y%m%d%H%M%SZ").encode())


def _self_signed_pem(public: Any, private: Any) -> str:
    sha256_rsa = _sequence(_oid("1.2.840.113549.1.1.11"), b"\x05\x00")
    now = datetime.now(UTC)  # validity is checked against real time, not the virtual clock
    key_info = _sequence(
        _sequence(_oid("1.2.840.113549.1.1.1"), b"\x05\x00"),
        _der(0x03, b"\x00" + public.save_pkcs1(format="DER")),
    )
    name = _name("Overcast", "sns.amazonaws.com")
    tbs = _sequence(
        _der(0xA0, _integer(2)),  # version 3
        _integer(int.from_bytes(os.urandom(8), "big") >> 1),
        sha256_rsa,
        name,
        _sequence(_time(now - timedelta(days=1)), _time(now + timedelta(days=3650))),
        name,
        key_info,
    )
    certificate = _sequence(tbs, sha256_rsa, _der(0x03, b"\x00" + _pkcs1_sign(private, tbs, "2")))
    encoded = base64.b64encode(certificate).decode()
    lines = [encoded[i : i + 64] for i in range(0, len(encoded), 64)]
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"
