"""Overcast's local certificate authority and the certificates it issues (pure: `cryptography`, no state).

One root per data directory (RSA 2048, ten years), created on first use and kept by the store. Certificates
carry AWS's extensions: the names as subject alternative names, digital signature and key encipherment (RSA) or
digital signature (EC), TLS web server and client authentication.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ROOT_NAME = "Overcast Local Root CA"
VALIDITY_DAYS = 395  # ACM's public certificates: 13 months


@dataclass(frozen=True)
class Authority:
    key_pem: str
    cert_pem: str

    @property
    def key(self) -> rsa.RSAPrivateKey:
        return serialization.load_pem_private_key(self.key_pem.encode(), None)  # type: ignore[return-value]

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.cert_pem.encode())


def new_authority(now: float) -> Authority:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, ROOT_NAME),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Overcast"),
        ]
    )
    start = dt.datetime.fromtimestamp(now, dt.UTC) - dt.timedelta(days=1)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    return Authority(_key_pem(key), certificate.public_bytes(serialization.Encoding.PEM).decode())


def new_key(algorithm: str) -> str:
    """A private key of ACM's KeyAlgorithm, as unencrypted PKCS#8 PEM."""
    if algorithm.startswith("EC_"):
        curve = {
            "EC_prime256v1": ec.SECP256R1(),
            "EC_secp384r1": ec.SECP384R1(),
            "EC_secp521r1": ec.SECP521R1(),
        }[algorithm]
        return _key_pem(ec.generate_private_key(curve))
    return _key_pem(rsa.generate_private_key(public_exponent=65537, key_size=int(algorithm.split("_")[1])))


def _key_pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def issue(authority: Authority, key_pem: str, names: list[str], now: float, client_only: bool = False) -> str:
    """A certificate for `names` (the first is the subject's common name) with the key `key_pem`, PEM."""
    key = serialization.load_pem_private_key(key_pem.encode(), None)
    start = dt.datetime.fromtimestamp(now, dt.UTC)
    is_rsa = isinstance(key, rsa.RSAPrivateKey)
    usages = (
        [ExtendedKeyUsageOID.CLIENT_AUTH]
        if client_only
        else [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
    )
    ca_cert = authority.certificate
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())  # type: ignore[arg-type]
        .serial_number(x509.random_serial_number())
        .not_valid_before(start - dt.timedelta(minutes=5))
        .not_valid_after(start + dt.timedelta(days=VALIDITY_DAYS))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name) for name in names]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=is_rsa, data_encipherment=False,
                key_agreement=False, key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()), critical=False)  # type: ignore[arg-type]
    )  # fmt: skip
    return builder.sign(authority.key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


# -- reading certificates (imports, descriptions) -----------------------------------------------------------------


@dataclass
class Facts:
    """What DescribeCertificate reports of an X.509 certificate."""

    serial: str
    subject: str
    issuer: str
    not_before: float
    not_after: float
    names: list[str]
    key_algorithm: str
    signature_algorithm: str
    key_usages: list[str]
    extended_key_usages: list[tuple[str, str]]  # (ACM name, OID)


_EKU = {
    ExtendedKeyUsageOID.SERVER_AUTH: "TLS_WEB_SERVER_AUTHENTICATION",
    ExtendedKeyUsageOID.CLIENT_AUTH: "TLS_WEB_CLIENT_AUTHENTICATION",
    ExtendedKeyUsageOID.CODE_SIGNING: "CODE_SIGNING",
    ExtendedKeyUsageOID.EMAIL_PROTECTION: "EMAIL_PROTECTION",
    ExtendedKeyUsageOID.TIME_STAMPING: "TIME_STAMPING",
    ExtendedKeyUsageOID.OCSP_SIGNING: "OCSP_SIGNING",
}
_KU = (
    ("digital_signature", "DIGITAL_SIGNATURE"),
    ("content_commitment", "NON_REPUDIATION"),
    ("key_encipherment", "KEY_ENCIPHERMENT"),
    ("data_encipherment", "DATA_ENCIPHERMENT"),
    ("key_agreement", "KEY_AGREEMENT"),
    ("key_cert_sign", "CERTIFICATE_SIGNING"),
    ("crl_sign", "CRL_SIGNING"),
)


def _name(name: x509.Name) -> str:
    """A distinguished name as ACM writes it: "CN=example.com,O=Example" (most specific first)."""
    return ",".join(attribute.rfc4514_string() for attribute in reversed(list(name)))


def key_algorithm(key: object) -> str:
    if isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey):
        return f"RSA_{key.key_size}"
    if isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
        return {"secp256r1": "EC_prime256v1", "secp384r1": "EC_secp384r1", "secp521r1": "EC_secp521r1"}.get(
            key.curve.name, "EC_prime256v1"
        )
    return "UNKNOWN"


def facts(cert_pem: str) -> Facts:
    certificate = x509.load_pem_x509_certificate(cert_pem.encode())
    try:
        names = certificate.extensions.get_extension_for_class(
            x509.SubjectAlternativeName
        ).value.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        names = []
    common = [a.value for a in certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    if common and common[0] not in names:
        names = [str(common[0]), *names]
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
        key_usages = []
        for attribute, label in _KU:
            try:
                if getattr(usage, attribute):
                    key_usages.append(label)
            except ValueError:
                pass
    except x509.ExtensionNotFound:
        key_usages = []
    try:
        extended = [(_EKU.get(oid, "OTHER"), oid.dotted_string)
                    for oid in certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value]  # fmt: skip
    except x509.ExtensionNotFound:
        extended = []
    digest = (
        certificate.signature_hash_algorithm.name if certificate.signature_hash_algorithm else ""
    ).upper()
    public = certificate.public_key()
    kind = "RSA" if isinstance(public, rsa.RSAPublicKey) else "ECDSA"
    serial = certificate.serial_number.to_bytes((certificate.serial_number.bit_length() + 7) // 8 or 1, "big")
    return Facts(
        serial=":".join(f"{b:02x}" for b in serial),
        subject=_name(certificate.subject),
        issuer=_name(certificate.issuer),
        not_before=certificate.not_valid_before_utc.timestamp(),
        not_after=certificate.not_valid_after_utc.timestamp(),
        names=names,
        key_algorithm=key_algorithm(public),
        signature_algorithm=f"{digest}WITH{kind}",
        key_usages=key_usages,
        extended_key_usages=extended,
    )


class BadImport(Exception):
    """What is wrong with an imported certificate, chain or key (ACM's ValidationException message)."""


def _certificates(pem: bytes, what: str) -> list[x509.Certificate]:
    try:
        found = x509.load_pem_x509_certificates(pem)
    except ValueError:
        raise BadImport(f"Could not validate the {what}. Check that the {what} is PEM-encoded.") from None
    return found


def check_import(cert: bytes, key: bytes, chain: bytes | None, now: float) -> tuple[str, str, str]:
    """(certificate PEM, key PEM as PKCS#8, chain PEM) of an import, after ACM's checks."""
    certificates = _certificates(cert, "certificate")
    if len(certificates) != 1:
        raise BadImport(
            "The certificate field contains more than one certificate. You can specify only one certificate in this field."
        )
    certificate = certificates[0]
    try:
        private = serialization.load_pem_private_key(key, None)
    except (ValueError, TypeError):
        raise BadImport("The private key is not supported.") from None
    if not isinstance(private, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise BadImport("The private key is not supported.")
    if private.public_key().public_numbers() != certificate.public_key().public_numbers():  # type: ignore[union-attr]
        raise BadImport("The private key does not match the public key in the certificate.")
    moment = dt.datetime.fromtimestamp(now, dt.UTC)
    if certificate.not_valid_after_utc < moment:
        raise BadImport("The certificate is expired.")
    if certificate.not_valid_before_utc > moment:
        raise BadImport("The certificate is not valid yet.")
    chain_pem = ""
    if chain:
        links = _certificates(chain, "certificate chain")
        child = certificate
        for link in links:
            if not _signed_by(child, link):
                raise BadImport("The certificate chain provided is not in a valid order.")
            child = link
        chain_pem = "".join(link.public_bytes(serialization.Encoding.PEM).decode() for link in links)
    return certificate.public_bytes(serialization.Encoding.PEM).decode(), _key_pem(private), chain_pem


def _signed_by(child: x509.Certificate, issuer: x509.Certificate) -> bool:
    if child.issuer != issuer.subject:
        return False
    public = issuer.public_key()
    try:
        if isinstance(public, rsa.RSAPublicKey):
            public.verify(
                child.signature,
                child.tbs_certificate_bytes,
                padding.PKCS1v15(),
                child.signature_hash_algorithm,
            )  # type: ignore[arg-type]
        elif isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(
                child.signature, child.tbs_certificate_bytes, ec.ECDSA(child.signature_hash_algorithm)
            )  # type: ignore[arg-type]
        else:
            return False
    except InvalidSignature:
        return False
    return True


def encrypted_key(key_pem: str, passphrase: bytes) -> str:
    """The key as encrypted PKCS#8 PEM (ExportCertificate's PrivateKey)."""
    key = serialization.load_pem_private_key(key_pem.encode(), None)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase),
    ).decode()


def validation_record(account: str, domain: str) -> tuple[str, str]:
    """(name, value) of the CNAME proving control of `domain`: stable per account and domain, as ACM's are."""
    base = domain[2:] if domain.startswith("*.") else domain
    digest = hashlib.sha256(f"{account}/{base}".encode()).hexdigest()
    value_digest = hashlib.sha256(f"value/{account}/{base}".encode()).hexdigest()
    return f"_{digest[:32]}.{base}.", f"_{value_digest[:32]}.{value_digest[32:42]}.acm-validations.aws."
