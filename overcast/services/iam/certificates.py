"""Server certificates (for load balancers and CloudFront, by name and path, with their private key) and users'
signing certificates (X.509, at most two per user). Certificates are parsed as AWS parses them: PEM X.509,
and a server certificate's private key must match its public key."""

from __future__ import annotations

import secrets
import string
from datetime import UTC
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.iam.errors import limit_exceeded
from overcast.services.iam.store import Entity

if TYPE_CHECKING:
    from overcast.services.iam.provider import IamProvider

SIGNING_CERTIFICATES_PER_USER = 2
_CERTIFICATE_ID = string.ascii_uppercase + string.digits


def parse_certificate(body: str) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(body.strip().encode())
    except ValueError:
        raise ServiceError(
            "MalformedCertificate",
            "Unable to parse certificate. Please ensure the certificate is in PEM format.",
        ) from None


def _check_key_matches(certificate: x509.Certificate, private_key: str) -> None:
    try:
        key = serialization.load_pem_private_key(private_key.strip().encode(), password=None)
    except (ValueError, TypeError):
        raise ServiceError("MalformedCertificate", "Unable to parse private key.") from None
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    ours = key.public_key().public_bytes(serialization.Encoding.DER, public)
    theirs = certificate.public_key().public_bytes(serialization.Encoding.DER, public)
    if ours != theirs:
        raise ServiceError("KeyPairMismatch", "Private key does not match certificate.")


class ServerCertificateOperations(Operations):
    service: IamProvider

    def upload_server_certificate(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        iam = self.service
        name = params["ServerCertificateName"]
        certificate = parse_certificate(params["CertificateBody"])
        _check_key_matches(certificate, params["PrivateKey"])
        for chained in _chain(params.get("CertificateChain")):
            parse_certificate(chained)
        if iam.store.get(ctx.account_id, "server-certificate", name):
            raise ServiceError(
                "EntityAlreadyExists", f"The Server Certificate with name {name} already exists.", 409
            )
        data = {
            "body": params["CertificateBody"],
            "chain": params.get("CertificateChain"),
            "expiration": certificate.not_valid_after_utc.astimezone(UTC).timestamp(),
        }
        entity = iam.create_entity(ctx, "server-certificate", name, params.get("Path"), data)
        iam.add_tags(entity, params.get("Tags"))
        result: dict[str, Any] = {"ServerCertificateMetadata": _metadata(entity)}
        tags = iam.tags_of(entity)
        if tags:
            result["Tags"] = tags
        return result

    def get_server_certificate(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        iam = self.service
        entity = self._certificate(ctx, params["ServerCertificateName"])
        shape: dict[str, Any] = {
            "ServerCertificateMetadata": _metadata(entity),
            "CertificateBody": entity.data["body"],
        }
        if entity.data.get("chain"):
            shape["CertificateChain"] = entity.data["chain"]
        return {"ServerCertificate": iam.with_tags(shape, entity)}

    def list_server_certificates(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entities, paging = self.service.listing(ctx, "server-certificate", params)
        return {"ServerCertificateMetadataList": [_metadata(e) for e in entities], **paging}

    def update_server_certificate(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        iam = self.service
        entity = self._certificate(ctx, params["ServerCertificateName"])
        new_name = params.get("NewServerCertificateName") or entity.name
        new_path = params.get("NewPath") or entity.path
        if new_name.lower() != entity.name.lower() and iam.store.get(
            ctx.account_id, "server-certificate", new_name
        ):
            raise ServiceError(
                "EntityAlreadyExists", f"The Server Certificate with name {new_name} already exists.", 409
            )
        tags = iam.tags_of(entity)
        iam.remove_entity(entity)
        arn = iam.arn(ctx.account_id, "server-certificate", new_path, new_name)
        moved = Entity(
            ctx.account_id, entity.kind, new_name, entity.id, new_path, arn, entity.created, entity.data
        )
        iam.store.insert(moved)  # the same certificate (and id) under its new name and path
        iam.add_tags(moved, tags)
        return {}

    def delete_server_certificate(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.service.remove_entity(self._certificate(ctx, params["ServerCertificateName"]))
        return {}

    def _certificate(self, ctx: RequestContext, name: str) -> Entity:
        found = self.service.store.get(ctx.account_id, "server-certificate", name)
        if found is None:
            raise ServiceError(
                "NoSuchEntity", f"The Server Certificate with name {name} cannot be found.", 404
            )
        return found


class SigningCertificateOperations(Operations):
    service: IamProvider

    def upload_signing_certificate(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        iam = self.service
        user = iam.caller_user(ctx, params)
        body = params["CertificateBody"]
        parse_certificate(body)
        owned = self._owned(ctx, user)
        if any(e.data["body"].strip() == body.strip() for e in owned):
            raise ServiceError("DuplicateCertificate", "The certificate already exists for this user.", 409)
        if len(owned) >= SIGNING_CERTIFICATES_PER_USER:
            raise limit_exceeded(
                f"Cannot exceed quota for SigningCertificatesPerUser: {SIGNING_CERTIFICATES_PER_USER}"
            )
        certificate_id = "".join(secrets.choice(_CERTIFICATE_ID) for _ in range(32))
        data = {"user": user.key, "body": body, "status": "Active"}
        entity = iam.create_entity(ctx, "signing-certificate", certificate_id, None, data)
        return {"Certificate": _signing_shape(entity, user)}

    def list_signing_certificates(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        user = self.service.caller_user(ctx, params)
        return {
            "Certificates": [_signing_shape(e, user) for e in self._owned(ctx, user)],
            "IsTruncated": False,
        }

    def update_signing_certificate(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entity = self._certificate(ctx, params)
        entity.data["status"] = params["Status"]
        self.service.store.update(entity)
        self.service.changed()
        return {}

    def delete_signing_certificate(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.service.remove_entity(self._certificate(ctx, params))
        return {}

    def _owned(self, ctx: RequestContext, user: Entity) -> list[Entity]:
        return [
            e
            for e in self.service.store.all_of(ctx.account_id, "signing-certificate")
            if e.data["user"] == user.key
        ]

    def _certificate(self, ctx: RequestContext, params: dict[str, Any]) -> Entity:
        user = self.service.caller_user(ctx, params)
        found = self.service.store.get(ctx.account_id, "signing-certificate", params["CertificateId"])
        if found is None or found.data["user"] != user.key:
            raise ServiceError(
                "NoSuchEntity", f"The Certificate with id {params['CertificateId']} cannot be found.", 404
            )
        return found


def _chain(text: str | None) -> list[str]:
    """The PEM certificates of a certificate chain."""
    if not text:
        return []
    marker = "-----END CERTIFICATE-----"
    return [part + marker for part in text.split(marker) if part.strip()]


def _metadata(entity: Entity) -> dict[str, Any]:
    return {
        "Path": entity.path,
        "ServerCertificateName": entity.name,
        "ServerCertificateId": entity.id,
        "Arn": entity.arn,
        "UploadDate": entity.created,
        "Expiration": entity.data["expiration"],
    }


def _signing_shape(entity: Entity, user: Entity) -> dict[str, Any]:
    return {
        "UserName": user.name,
        "CertificateId": entity.name,
        "CertificateBody": entity.data["body"],
        "Status": entity.data["status"],
        "UploadDate": entity.created,
    }
