"""Message signatures: a local RSA key and self-signed X.509 certificate, SignatureVersion 1 (SHA1withRSA).

Real SNS signs with a key whose certificate lives on sns.<region>.amazonaws.com; ours is generated per server
process and served by the platform (see `SnsProvider.signing_certificate`), so a subscriber that fetches
SigningCertURL can verify the signature. The `rsa` package (an awscli dependency) does the arithmetic;
without it messages carry an empty Signature.
"""

from __future__ import annotations

import base64
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

try:
    import rsa
except ImportError:  # pragma: no cover - depends on the environment
    rsa = None

KEY_BITS = 1024  # generated in pure Python at start-up: 2048 bits takes seconds
SIGNED_KEYS = ("Message", "MessageId", "Subject", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")
CERTIFICATE_PATH = "/_overcast/sns/SimpleNotificationService.pem"


class Signer:
    def __init__(self) -> None:
        self._key: Any = None
        self._certificate: str | None = None
        self._ready = threading.Event()
        if rsa is not None:
            threading.Thread(target=self._generate, name="sns-signing-key", daemon=True).start()

    def _generate(self) -> None:
        public, private = rsa.newkeys(KEY_BITS)
        self._key = private
        self._certificate = _self_signed_pem(public, private)
        self._ready.set()

    @property
    def available(self) -> bool:
        return rsa is not None

    def certificate_pem(self) -> str | None:
        if not self.available:
            return None
        self._ready.wait(60)
        return self._certificate

    def sign(self, document: dict[str, Any], base_url: str) -> None:
        """Add SignatureVersion, Signature and SigningCertURL to a Notification or SubscriptionConfirmation."""
        document["SignatureVersion"] = "1"
        document["Signature"] = ""
        if self.available and self._ready.wait(60):
            text = "".join(f"{key}\n{document[key]}\n" for key in SIGNED_KEYS if key in document)
            document["Signature"] = base64.b64encode(rsa.sign(text.encode(), self._key, "SHA-1")).decode()
        document["SigningCertURL"] = base_url + CERTIFICATE_PATH


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


def _name(common_name: str) -> bytes:
    attribute = _sequence(_oid("2.5.4.3"), _der(0x0C, common_name.encode()))
    return _sequence(_der(0x31, attribute))


def _time(moment: datetime) -> bytes:
    return _der(0x17, moment.strftime("%y%m%d%H%M%SZ").encode())


def _self_signed_pem(public: Any, private: Any) -> str:
    sha1_rsa = _sequence(_oid("1.2.840.113549.1.1.5"), b"\x05\x00")
    now = datetime.now(UTC)
    key_info = _sequence(
        _sequence(_oid("1.2.840.113549.1.1.1"), b"\x05\x00"),
        _der(0x03, b"\x00" + public.save_pkcs1(format="DER")),
    )
    tbs = _sequence(
        _der(0xA0, _integer(2)),  # version 3
        _integer(int.from_bytes(rsa.randnum.read_random_bits(64), "big")),
        sha1_rsa,
        _name("sns.amazonaws.com (Overcast)"),
        _sequence(_time(now - timedelta(days=1)), _time(now + timedelta(days=3650))),
        _name("sns.amazonaws.com (Overcast)"),
        key_info,
    )
    signature = rsa.sign(tbs, private, "SHA-1")
    certificate = _sequence(tbs, sha1_rsa, _der(0x03, b"\x00" + signature))
    encoded = base64.encodebytes(certificate).decode().replace("\n", "")
    lines = [encoded[i : i + 64] for i in range(0, len(encoded), 64)]
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"
