"""IAM's other credentials: server and signing certificates, SSH public keys, service-specific credentials,
SAML providers and OIDC provider tags, with AWS's shapes and errors."""

import datetime

import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.x509.oid import NameOID

from tests.helpers import error_of, message_of


def certificate() -> tuple[str, str]:
    """(certificate PEM, private key PEM) of a fresh self-signed certificate."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "example.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    pem_key = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode(), pem_key.decode()


def fail(call):
    with pytest.raises(ClientError) as raised:
        call()
    return error_of(raised), message_of(raised)


def test_server_certificates(overcast):
    iam = overcast.client("iam")
    body, key = certificate()
    _, other_key = certificate()
    assert fail(
        lambda: iam.upload_server_certificate(
            ServerCertificateName="web", CertificateBody="nope", PrivateKey=key
        )
    ) == (
        ("MalformedCertificate", 400),
        "Unable to parse certificate. Please ensure the certificate is in PEM format.",
    )
    assert fail(
        lambda: iam.upload_server_certificate(
            ServerCertificateName="web", CertificateBody=body, PrivateKey=other_key
        )
    )[0] == ("KeyPairMismatch", 400)
    uploaded = iam.upload_server_certificate(
        ServerCertificateName="web",
        Path="/cloudfront/",
        CertificateBody=body,
        PrivateKey=key,
        Tags=[{"Key": "env", "Value": "dev"}],
    )
    metadata = uploaded["ServerCertificateMetadata"]
    assert metadata["Arn"] == "arn:aws:iam::000000000000:server-certificate/cloudfront/web"
    assert (
        metadata["ServerCertificateId"].startswith("ASCA") and metadata["Expiration"] > metadata["UploadDate"]
    )
    assert uploaded["Tags"] == [{"Key": "env", "Value": "dev"}]
    assert fail(
        lambda: iam.upload_server_certificate(
            ServerCertificateName="web", CertificateBody=body, PrivateKey=key
        )
    ) == (("EntityAlreadyExists", 409), "The Server Certificate with name web already exists.")
    got = iam.get_server_certificate(ServerCertificateName="web")["ServerCertificate"]
    assert got["CertificateBody"] == body and "PrivateKey" not in got
    listed = iam.list_server_certificates(PathPrefix="/cloudfront/")["ServerCertificateMetadataList"]
    assert [c["ServerCertificateName"] for c in listed] == ["web"]
    iam.update_server_certificate(ServerCertificateName="web", NewServerCertificateName="site", NewPath="/")
    moved = iam.get_server_certificate(ServerCertificateName="site")["ServerCertificate"][
        "ServerCertificateMetadata"
    ]
    assert moved["ServerCertificateId"] == metadata["ServerCertificateId"] and moved["Path"] == "/"
    assert iam.list_server_certificate_tags(ServerCertificateName="site")["Tags"] == [
        {"Key": "env", "Value": "dev"}
    ]
    iam.delete_server_certificate(ServerCertificateName="site")
    assert fail(lambda: iam.get_server_certificate(ServerCertificateName="site")) == (
        ("NoSuchEntity", 404),
        "The Server Certificate with name site cannot be found.",
    )


def test_signing_certificates_and_ssh_keys(overcast):
    iam = overcast.client("iam")
    iam.create_user(UserName="dev")
    assert fail(lambda: iam.upload_ssh_public_key(UserName="ghost", SSHPublicKeyBody="x")) == (
        ("NoSuchEntity", 404),
        "The user with name ghost cannot be found.",
    )
    cert, _ = certificate()
    uploaded = iam.upload_signing_certificate(UserName="dev", CertificateBody=cert)["Certificate"]
    assert uploaded["Status"] == "Active" and len(uploaded["CertificateId"]) == 32
    iam.upload_signing_certificate(UserName="dev", CertificateBody=certificate()[0])
    assert fail(lambda: iam.upload_signing_certificate(UserName="dev", CertificateBody=certificate()[0])) == (
        ("LimitExceeded", 409),
        "Cannot exceed quota for SigningCertificatesPerUser: 2",
    )
    iam.update_signing_certificate(UserName="dev", CertificateId=uploaded["CertificateId"], Status="Inactive")
    statuses = {
        c["CertificateId"]: c["Status"] for c in iam.list_signing_certificates(UserName="dev")["Certificates"]
    }
    assert statuses[uploaded["CertificateId"]] == "Inactive"

    public = ed25519.Ed25519PrivateKey.generate().public_key()
    body = public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    key = iam.upload_ssh_public_key(UserName="dev", SSHPublicKeyBody=body)["SSHPublicKey"]
    assert key["SSHPublicKeyId"].startswith("APKA") and key["Fingerprint"].count(":") == 15
    pem = iam.get_ssh_public_key(UserName="dev", SSHPublicKeyId=key["SSHPublicKeyId"], Encoding="PEM")
    assert pem["SSHPublicKey"]["SSHPublicKeyBody"].startswith("-----BEGIN PUBLIC KEY-----")
    assert [k["SSHPublicKeyId"] for k in iam.list_ssh_public_keys(UserName="dev")["SSHPublicKeys"]] == [
        key["SSHPublicKeyId"]
    ]
    with pytest.raises(ClientError) as raised:
        iam.delete_user(UserName="dev")
    assert error_of(raised) == ("DeleteConflict", 409)
    iam.delete_ssh_public_key(UserName="dev", SSHPublicKeyId=key["SSHPublicKeyId"])
    assert (
        fail(
            lambda: iam.get_ssh_public_key(
                UserName="dev", SSHPublicKeyId=key["SSHPublicKeyId"], Encoding="SSH"
            )
        )[1]
        == f"The Public Key with id {key['SSHPublicKeyId']} cannot be found."
    )


def test_service_specific_credentials(overcast):
    iam = overcast.client("iam")
    iam.create_user(UserName="git")
    created = iam.create_service_specific_credential(UserName="git", ServiceName="codecommit.amazonaws.com")
    credential = created["ServiceSpecificCredential"]
    assert credential["ServiceUserName"] == "git-at-000000000000" and credential["ServicePassword"]
    assert credential["ServiceSpecificCredentialId"].startswith("ACCA") and credential["Status"] == "Active"
    listed = iam.list_service_specific_credentials(UserName="git")["ServiceSpecificCredentials"]
    assert [c["ServiceSpecificCredentialId"] for c in listed] == [credential["ServiceSpecificCredentialId"]]
    assert "ServicePassword" not in listed[0]
    reset = iam.reset_service_specific_credential(
        UserName="git", ServiceSpecificCredentialId=credential["ServiceSpecificCredentialId"]
    )["ServiceSpecificCredential"]
    assert reset["ServicePassword"] != credential["ServicePassword"]
    assert fail(
        lambda: iam.create_service_specific_credential(UserName="git", ServiceName="s3.amazonaws.com")
    ) == (
        ("NotSupportedService", 404),
        "No such service s3.amazonaws.com is supported for Service-Specific Credentials",
    )


def test_saml_providers_and_oidc_tags(overcast):
    iam = overcast.client("iam")
    metadata = (
        '<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example" '
        'validUntil="2030-01-01T00:00:00Z">' + "<!-- padding -->" * 60 + "</EntityDescriptor>"
    )  # AWS takes documents of 1,000 characters at least
    assert fail(lambda: iam.create_saml_provider(Name="corp", SAMLMetadataDocument="x" * 1000))[0] == (
        "InvalidInput",
        400,
    )
    arn = iam.create_saml_provider(Name="corp", SAMLMetadataDocument=metadata)["SAMLProviderArn"]
    assert arn == "arn:aws:iam::000000000000:saml-provider/corp"
    got = iam.get_saml_provider(SAMLProviderArn=arn)
    assert got["SAMLMetadataDocument"] == metadata and got["ValidUntil"].year == 2030
    iam.tag_saml_provider(SAMLProviderArn=arn, Tags=[{"Key": "team", "Value": "idp"}])
    assert iam.list_saml_provider_tags(SAMLProviderArn=arn)["Tags"] == [{"Key": "team", "Value": "idp"}]
    assert [p["Arn"] for p in iam.list_saml_providers()["SAMLProviderList"]] == [arn]
    iam.delete_saml_provider(SAMLProviderArn=arn)
    assert fail(lambda: iam.get_saml_provider(SAMLProviderArn=arn))[0] == ("NoSuchEntity", 404)

    oidc = iam.create_open_id_connect_provider(Url="https://token.example", ClientIDList=["a"])
    provider = oidc["OpenIDConnectProviderArn"]
    iam.tag_open_id_connect_provider(OpenIDConnectProviderArn=provider, Tags=[{"Key": "k", "Value": "v"}])
    assert iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=provider)["Tags"] == [
        {"Key": "k", "Value": "v"}
    ]
    iam.untag_open_id_connect_provider(OpenIDConnectProviderArn=provider, TagKeys=["k"])
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=provider, ClientID="b")
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=provider)["ClientIDList"] == ["a", "b"]
    assert iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=provider)["Tags"] == []
