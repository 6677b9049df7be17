"""Message signatures as SNS makes them (AWS: "Verifying the signatures of Amazon SNS messages").

A topic's `SignatureVersion` picks the algorithm: "1" (the default) is SHA1withRSA, "2" SHA256withRSA, both
RSASSA-PKCS1-v1_5. What is signed is the string to sign: "Name\\nValue\\n" for each field of a fixed list, in
that list's order, skipping the optional ones a message lacks; the list differs between a Notification and a
SubscriptionConfirmation or UnsubscribeConfirmation.

The key is a 2048-bit RSA key (as AWS's SNS certificates hold) with a self-signed X.509 certificate, made once
and kept in the SNS store (table `sns_signing_keys`, the key as PKCS#1 PEM), so a message delivered before a
restart still verifies against the certificate served at its SigningCertURL afterwards. A key stored by an
earlier version (1024-bit, made by the `rsa` package, the same PEM) is loaded and kept, never replaced: its
certificate and URL stay valid. The URL names the certificate by its fingerprint, as AWS's
`SimpleNotificationService-<hex>.pem` does, so a subscriber that caches certificates by URL can never pair a
message with the wrong one.

`cryptography` (OpenSSL) makes the key and certificate and signs, once per message text and version rather than
once per subscriber: about a quarter of a millisecond with a 2048-bit key.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

if TYPE_CHECKING:
    from overcast.services.sns.store import SnsStore

KEY_NAME = "default"
KEY_BITS = 2048
CERTIFICATE_DIR = "/_overcast/sns/"
CERTIFICATE_PREFIX = CERTIFICATE_DIR + "SimpleNotificationService"
LEGACY_CERTIFICATE_PATH = CERTIFICATE_PREFIX + ".pem"  # what older versions put in SigningCertURL
NOTIFICATION_FIELDS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
CONFIRMATION_FIELDS = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")
# SignatureVersion -> the hash signed with PKCS#1 v1.5 (SHA1 for 1 is AWS's choice, kept for compatibility)
DIGESTS = {"1": hashes.SHA1(), "2": hashes.SHA256()}
SIGNATURE_VERSIONS = tuple(DIGESTS)
_PADDING = padding.PKCS1v15()


def string_to_sign(document: dict[str, Any]) -> str:
    """The text a signature covers, from the document as delivered (values as they are, not JSON-escaped)."""
    fields = NOTIFICATION_FIELDS if document["Type"] == "Notification" else CONFIRMATION_FIELDS
    return "".join(f"{name}\n{document[name]}\n" for name in fields if name in document)


class SigningKey:
    """A loaded key: what signing needs, parsed once and cached by the `Signer`."""

    __slots__ = ("_key", "certificate", "certificate_path", "private_pem")

    def __init__(self, private_pem: str, certificate: str) -> None:
        self.private_pem = private_pem
        key = serialization.load_pem_private_key(private_pem.encode(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError(f"the SNS signing key is not an RSA key: {type(key).__name__}")
        self._key = key
        self.certificate = certificate
        der = base64.b64decode("".join(line for line in certificate.splitlines() if "-----" not in line))
        self.certificate_path = f"{CERTIFICATE_PREFIX}-{hashlib.sha256(der).hexdigest()[:32]}.pem"

    def sign(self, text: str, version: str) -> str:
        return base64.b64encode(self._key.sign(text.encode(), _PADDING, DIGESTS[version])).decode()


class Signer:
    """The service's signing key: loaded from the store on first use, made (and stored) if there is none."""

    def __init__(self, store: SnsStore) -> None:
        self._store = store
        self._key: SigningKey | None = None
        self._making: asyncio.Future | None = None  # a key being made in a worker thread

    async def ready(self) -> SigningKey:
        """The key; one that has to be made is made in a worker thread, off the event loop."""
        if self._key is None and not self._load():
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
        assert self._key is not None
        return self._key

    def key(self) -> SigningKey:
        """The key, made here and now if need be (callers on the event loop `await ready()` first)."""
        if self._key is None and not self._load():
            self._keep(*_generate())
        assert self._key is not None
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
        text = string_to_sign(document)
        signature = memo.get((version, text)) if memo is not None else None
        if signature is None:
            signature = key.sign(text, version)
            if memo is not None:
                memo[(version, text)] = signature
        document["Signature"] = signature
        document["SigningCertURL"] = base_url + key.certificate_path


def _generate() -> tuple[str, str]:
    """A new key (PKCS#1 PEM, as earlier versions stored theirs) and its self-signed certificate (PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Overcast"),
            x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com"),
        ]
    )
    now = datetime.now(UTC)  # validity is checked against real time, not the virtual clock
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    return private_pem.decode(), certificate.public_bytes(serialization.Encoding.PEM).decode()
