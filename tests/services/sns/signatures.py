"""Check an SNS message's signature the way an AWS SDK's message validator does, independently of Overcast's
code: the string to sign from AWS's "Verifying the signatures of Amazon SNS messages", the certificate
downloaded from SigningCertURL, the signature checked with the certificate's public key by `cryptography` and,
where the `openssl` command is installed, by it too: a second, separate program (the SDKs use their own
crypto libraries; the two here must agree)."""

import base64
import shutil
import subprocess
import tempfile
import urllib.request
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

# Fixed lists in a fixed order; optional fields (Subject) are skipped when absent.
NOTIFICATION = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
CONFIRMATION = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")
HASHES = {"1": "sha1", "2": "sha256"}

OPENSSL = shutil.which("openssl")


class VerifiersDisagree(Exception):
    """Not an AssertionError: a test expecting a signature to fail must not take this for the failure."""


def string_to_sign(document: dict) -> bytes:
    fields = NOTIFICATION if document["Type"] == "Notification" else CONFIRMATION
    return "".join(f"{name}\n{document[name]}\n" for name in fields if name in document).encode()


def certificate_url(document: dict) -> str:
    return document.get("SigningCertURL") or document["SigningCertUrl"]  # Lambda's event spells it so


def download(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.status == 200
        return response.read()


def verifies(certificate: bytes, data: bytes, signature: bytes, algorithm: str) -> bool:
    """Does `signature` verify over `data` with the certificate's key, as SHA1withRSA or SHA256withRSA? Both
    verifiers are asked when both are there, and must give the same answer."""
    verified = verifies_with_cryptography(certificate, data, signature, algorithm)
    if OPENSSL is not None and verifies_with_openssl(certificate, data, signature, algorithm) != verified:
        raise VerifiersDisagree(f"{algorithm}: cryptography says {verified}, openssl says {not verified}")
    return verified


def verifies_with_cryptography(certificate: bytes, data: bytes, signature: bytes, algorithm: str) -> bool:
    key = x509.load_pem_x509_certificate(certificate).public_key()
    assert isinstance(key, rsa.RSAPublicKey), key
    digest = hashes.SHA1() if algorithm == "sha1" else hashes.SHA256()
    try:
        key.verify(signature, data, padding.PKCS1v15(), digest)
    except InvalidSignature:
        return False
    return True


def verifies_with_openssl(certificate: bytes, data: bytes, signature: bytes, algorithm: str) -> bool:
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        public = subprocess.run(
            ["openssl", "x509", "-pubkey", "-noout"], input=certificate, capture_output=True, check=True
        ).stdout
        (folder / "key.pem").write_bytes(public)
        (folder / "signature").write_bytes(signature)
        (folder / "data").write_bytes(data)
        checked = subprocess.run(
            ["openssl", "dgst", f"-{algorithm}", "-verify", "key.pem", "-signature", "signature", "data"],
            cwd=folder,
            capture_output=True,
            text=True,
        )
        return checked.returncode == 0 and "Verified OK" in checked.stdout


def validate(document: dict, certificate: bytes | None = None) -> bytes:
    """Verify a message as a validator does (the certificate fetched from its URL unless given); returns the
    certificate. Raises AssertionError when the signature does not verify with the version's algorithm."""
    version = document["SignatureVersion"]
    assert version in HASHES, version
    if certificate is None:
        certificate = download(certificate_url(document))
    signature = base64.b64decode(document["Signature"])
    assert verifies(certificate, string_to_sign(document), signature, HASHES[version]), document
    return certificate


def certificate_text(certificate: bytes) -> str:
    """`openssl x509 -text` of a certificate (its subject, algorithms, key size)."""
    return subprocess.run(
        ["openssl", "x509", "-noout", "-text"], input=certificate, capture_output=True, check=True
    ).stdout.decode()
