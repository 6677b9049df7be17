"""Trust stores and mutual TLS: a CA bundle and a revocation list read from S3, an HTTPS listener in `verify`
mode that admits only clients whose certificate the trust store's CA signed and did not revoke, and the client
certificate's details forwarded to the target."""

from __future__ import annotations

import datetime
import json
import socket
import ssl
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.helpers import error_of, shared_network
from tests.services.elbv2.conftest import port_of
from tests.waiting import wait_for

AUTHORITY = (
    "arn:aws:acm-pca:us-east-1:000000000000:certificate-authority/12345678-1234-1234-1234-123456789012"
)


def _name(common: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Clients"),
            x509.NameAttribute(NameOID.COMMON_NAME, common),
        ]
    )


class Authority:
    """A client CA of the test's own, issuing client certificates and revocation lists."""

    def __init__(self, common: str = "Client Root") -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        self.cert = (
            x509.CertificateBuilder().subject_name(_name(common)).issuer_name(_name(common))
            .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )  # fmt: skip

    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def client(self, folder: Path, common: str, expired: bool = False) -> tuple[x509.Certificate, str, str]:
        """A client certificate and key, written to files (as `load_cert_chain` reads them)."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        start, end = (now - datetime.timedelta(days=10), now - datetime.timedelta(days=1)) if expired else (
            now - datetime.timedelta(hours=1), now + datetime.timedelta(days=10))  # fmt: skip
        cert = (
            x509.CertificateBuilder().subject_name(_name(common)).issuer_name(self.cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end).sign(self.key, hashes.SHA256())
        )  # fmt: skip
        cert_path, key_path = folder / f"{common}.pem", folder / f"{common}.key"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        return cert, str(cert_path), str(key_path)

    def crl(self, revoked: list[x509.Certificate]) -> bytes:
        now = datetime.datetime.now(datetime.UTC)
        builder = x509.CertificateRevocationListBuilder().issuer_name(self.cert.subject).last_update(now).next_update(
            now + datetime.timedelta(days=1))  # fmt: skip
        for cert in revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(cert.serial_number)
                .revocation_date(now)
                .build()
            )
        return builder.sign(self.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def fetch(port: int, root: str, cert: tuple[str, str] | None) -> dict:
    """The headers the target saw of a GET through the HTTPS listener, from a client presenting `cert` (file
    paths) or none."""
    context = ssl.create_default_context(cadata=root)
    if cert:
        context.load_cert_chain(*cert)
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="secure.internal") as tls,
    ):
        tls.sendall(b"GET /whoami HTTP/1.1\r\nHost: secure.internal\r\nConnection: close\r\n\r\n")
        reply = b""
        while chunk := tls.recv(65536):
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise ConnectionError(head.decode(errors="replace") or "closed without an answer")
    return {k.lower(): v for k, v in json.loads(body)["headers"].items()}


def refused(port: int, root: str, cert: tuple[str, str] | None) -> bool:
    try:
        fetch(port, root, cert)
    except (ssl.SSLError, ConnectionError):
        return True
    return False


def test_a_verify_listener_admits_only_clients_the_trust_store_vouches_for(overcast, elb, backends, tmp_path):
    s3 = overcast.client("s3")
    s3.create_bucket(Bucket="pki")
    authority = Authority()
    s3.put_object(Bucket="pki", Key="clients-ca.pem", Body=authority.pem())
    good, good_pem, good_key = authority.client(tmp_path, "alice")
    revoked, revoked_pem, revoked_key = authority.client(tmp_path, "mallory")
    _, stranger_pem, stranger_key = Authority("Other Root").client(tmp_path, "eve")

    store = elb.create_trust_store(Name="clients", CaCertificatesBundleS3Bucket="pki",
                                   CaCertificatesBundleS3Key="clients-ca.pem")["TrustStores"][0]  # fmt: skip
    assert (
        store["Status"] == "ACTIVE"
        and store["NumberOfCaCertificates"] == 1
        and store["TotalRevokedEntries"] == 0
    )
    arn = store["TrustStoreArn"]
    assert arn.startswith("arn:aws:elasticloadbalancing:us-east-1:000000000000:truststore/clients/")

    s3.put_object(Bucket="pki", Key="revoked.crl", Body=authority.crl([revoked]))
    added = elb.add_trust_store_revocations(
        TrustStoreArn=arn,
        RevocationContents=[{"S3Bucket": "pki", "S3Key": "revoked.crl", "RevocationType": "CRL"}],
    )["TrustStoreRevocations"]
    assert added == [
        {"TrustStoreArn": arn, "RevocationId": 1, "RevocationType": "CRL", "NumberOfRevokedEntries": 1}
    ]

    web = backends("web")
    lb = elb.create_load_balancer(Name="mtls", Subnets=shared_network(elb)[1])["LoadBalancers"][0]
    tg = elb.create_target_group(Name="web", Protocol="HTTP", Port=80, VpcId=lb["VpcId"], TargetType="ip")[
        "TargetGroups"
    ][0]
    elb.register_targets(TargetGroupArn=tg["TargetGroupArn"], Targets=[{"Id": "127.0.0.1", "Port": web.port}])
    server_cert = overcast.client("acm").request_certificate(
        DomainName="secure.internal", CertificateAuthorityArn=AUTHORITY
    )
    secure = elb.create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTPS", Port=443,
        Certificates=[{"CertificateArn": server_cert["CertificateArn"]}],
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}],
        MutualAuthentication={"Mode": "verify", "TrustStoreArn": arn},
    )["Listeners"][0]  # fmt: skip
    assert secure["MutualAuthentication"] == {"Mode": "verify", "TrustStoreArn": arn, "IgnoreClientCertificateExpiry": False,
                                              "TrustStoreAssociationStatus": "active", "AdvertiseTrustStoreCaNames": "off"}  # fmt: skip
    port = port_of(lb)
    root = urllib.request.urlopen(overcast.endpoint + "/_overcast/acm/ca.pem").read().decode()

    seen = fetch(port, root, (good_pem, good_key))
    assert seen["x-amzn-mtls-clientcert-serial-number"] == format(good.serial_number, "X")
    assert seen["x-amzn-mtls-clientcert-subject"] == "CN=alice,O=Clients"
    assert seen["x-amzn-mtls-clientcert-issuer"] == "CN=Client Root,O=Clients"
    assert (
        seen["x-amzn-mtls-clientcert-validity"].startswith("NotBefore=")
        and ";NotAfter=" in seen["x-amzn-mtls-clientcert-validity"]
    )
    assert urllib.parse.unquote(seen["x-amzn-mtls-clientcert-leaf"]).encode() == good.public_bytes(
        serialization.Encoding.PEM
    )
    assert refused(port, root, None)  # no certificate
    assert refused(port, root, (stranger_pem, stranger_key))  # signed by another CA
    assert refused(port, root, (revoked_pem, revoked_key))  # revoked

    # without the revocation list, the revoked client gets in
    elb.remove_trust_store_revocations(TrustStoreArn=arn, RevocationIds=[1])
    assert (
        fetch(port, root, (revoked_pem, revoked_key))["x-amzn-mtls-clientcert-subject"]
        == "CN=mallory,O=Clients"
    )

    # an expired certificate is refused, unless the listener ignores client certificates' expiry
    _, old_pem, old_key = authority.client(tmp_path, "bob", expired=True)
    assert refused(port, root, (old_pem, old_key))
    elb.modify_listener(ListenerArn=secure["ListenerArn"],
                        MutualAuthentication={"Mode": "verify", "TrustStoreArn": arn, "IgnoreClientCertificateExpiry": True})  # fmt: skip
    assert wait_for(lambda: not refused(port, root, (old_pem, old_key)))
    assert refused(port, root, None)

    assert elb.describe_trust_store_associations(TrustStoreArn=arn)["TrustStoreAssociations"] == [
        {"ResourceArn": lb["LoadBalancerArn"]}
    ]
    with pytest.raises(ClientError) as raised:
        elb.delete_trust_store(TrustStoreArn=arn)
    assert error_of(raised) == ("TrustStoreInUse", 400)


def test_trust_store_api_errors_and_downloads(overcast, elb):
    s3 = overcast.client("s3")
    s3.create_bucket(Bucket="pki")
    s3.put_object(Bucket="pki", Key="junk.pem", Body=b"not a certificate")
    with pytest.raises(ClientError) as raised:
        elb.create_trust_store(
            Name="bad", CaCertificatesBundleS3Bucket="pki", CaCertificatesBundleS3Key="junk.pem"
        )
    assert error_of(raised) == ("InvalidCaCertificatesBundle", 400)
    with pytest.raises(ClientError) as raised:
        elb.create_trust_store(
            Name="bad", CaCertificatesBundleS3Bucket="pki", CaCertificatesBundleS3Key="missing.pem"
        )
    assert error_of(raised) == ("CaCertificatesBundleNotFound", 400)

    first, second = Authority("One"), Authority("Two")
    s3.put_object(Bucket="pki", Key="bundle.pem", Body=first.pem() + second.pem())
    store = elb.create_trust_store(Name="two-roots", CaCertificatesBundleS3Bucket="pki", CaCertificatesBundleS3Key="bundle.pem",
                                   Tags=[{"Key": "team", "Value": "edge"}])["TrustStores"][0]  # fmt: skip
    arn = store["TrustStoreArn"]
    assert store["NumberOfCaCertificates"] == 2
    with pytest.raises(ClientError) as raised:
        elb.create_trust_store(
            Name="two-roots", CaCertificatesBundleS3Bucket="pki", CaCertificatesBundleS3Key="bundle.pem"
        )
    assert error_of(raised) == ("DuplicateTrustStoreName", 400)
    assert elb.describe_tags(ResourceArns=[arn])["TagDescriptions"][0]["Tags"] == [
        {"Key": "team", "Value": "edge"}
    ]
    assert [item["Name"] for item in elb.describe_trust_stores(Names=["two-roots"])["TrustStores"]] == [
        "two-roots"
    ]

    location = elb.get_trust_store_ca_certificates_bundle(TrustStoreArn=arn)["Location"]
    assert urllib.request.urlopen(location).read() == first.pem() + second.pem()

    s3.put_object(Bucket="pki", Key="one.pem", Body=first.pem())
    modified = elb.modify_trust_store(
        TrustStoreArn=arn, CaCertificatesBundleS3Bucket="pki", CaCertificatesBundleS3Key="one.pem"
    )
    assert modified["TrustStores"][0]["NumberOfCaCertificates"] == 1

    s3.put_object(Bucket="pki", Key="empty.crl", Body=first.crl([]))
    added = elb.add_trust_store_revocations(
        TrustStoreArn=arn, RevocationContents=[{"S3Bucket": "pki", "S3Key": "empty.crl"}]
    )
    revocation = added["TrustStoreRevocations"][0]["RevocationId"]
    content = elb.get_trust_store_revocation_content(TrustStoreArn=arn, RevocationId=revocation)["Location"]
    assert x509.load_der_x509_crl(urllib.request.urlopen(content).read()).issuer == first.cert.subject
    assert (
        elb.describe_trust_store_revocations(TrustStoreArn=arn)["TrustStoreRevocations"][0]["RevocationId"]
        == revocation
    )
    with pytest.raises(ClientError) as raised:
        elb.describe_trust_store_revocations(TrustStoreArn=arn, RevocationIds=[99])
    assert error_of(raised) == ("RevocationIdNotFound", 400)
    s3.put_object(Bucket="pki", Key="junk.crl", Body=b"junk")
    with pytest.raises(ClientError) as raised:
        elb.add_trust_store_revocations(
            TrustStoreArn=arn, RevocationContents=[{"S3Bucket": "pki", "S3Key": "junk.crl"}]
        )
    assert error_of(raised) == ("InvalidRevocationContent", 400)

    lb = elb.create_load_balancer(Name="mtls", Subnets=shared_network(elb)[1])["LoadBalancers"][0]
    server_cert = overcast.client("acm").request_certificate(
        DomainName="x.internal", CertificateAuthorityArn=AUTHORITY
    )
    with pytest.raises(ClientError) as raised:
        elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTPS", Port=443,
                            Certificates=[{"CertificateArn": server_cert["CertificateArn"]}],
                            DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "200"}}],
                            MutualAuthentication={"Mode": "verify", "TrustStoreArn": arn + "0"})  # fmt: skip
    assert error_of(raised) == ("TrustStoreNotFound", 400)

    elb.delete_trust_store(TrustStoreArn=arn)
    with pytest.raises(ClientError) as raised:
        elb.describe_trust_stores(TrustStoreArns=[arn])
    assert error_of(raised) == ("TrustStoreNotFound", 400)
