"""Custom domain names with base path mappings, client certificates (records, with a real self-signed
certificate), and the account's API Gateway settings."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.services.apigateway.common import (
    apply_patch,
    bad_request,
    conflict,
    new_id,
    not_found,
    set_field,
)
from overcast.services.apigateway.gateway import DOMAINS
from overcast.services.base import Operations

if TYPE_CHECKING:
    from overcast.services.apigateway.provider import ApiGatewayProvider

_BASE_PATH = re.compile(r"^[A-Za-z0-9._~-]+(/[A-Za-z0-9._~-]+)*$|^\(none\)$")


class DomainNameOperations(Operations):
    service: ApiGatewayProvider

    # -- domain names -----------------------------------------------------------------------------

    def create_domain_name(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["domainName"]
        if self.service.store.get(ctx.account_id, ctx.region, "domain", "", name) is not None:
            raise conflict("The domain name you provided already exists.")
        endpoint = params.get("endpointConfiguration") or {"types": ["EDGE"]}
        domain: dict[str, Any] = {
            "domainName": name,
            "endpointConfiguration": {"types": endpoint.get("types") or ["EDGE"], "ipAddressType": "ipv4"},
            "domainNameStatus": "AVAILABLE",
            "securityPolicy": params.get("securityPolicy") or "TLS_1_2",
            "domainNameArn": self.service.arn(ctx, f"/domainnames/{name}"),
        }
        regional = "REGIONAL" in domain["endpointConfiguration"]["types"]
        if regional:
            domain["regionalDomainName"] = f"d-{new_id()}.execute-api.{ctx.region}.amazonaws.com"
            domain["regionalHostedZoneId"] = "Z1UJRXOUMOOFQ8"
            for key in ("regionalCertificateName", "regionalCertificateArn"):
                if params.get(key):
                    domain[key] = params[key]
        else:
            domain["distributionDomainName"] = f"d{new_id(13)}.cloudfront.net"
            domain["distributionHostedZoneId"] = "Z2FDTNDATAQYW2"
            for key in ("certificateName", "certificateArn"):
                if params.get(key):
                    domain[key] = params[key]
            domain["certificateUploadDate"] = int(self.clock.now())
        if params.get("mutualTlsAuthentication"):
            domain["mutualTlsAuthentication"] = params["mutualTlsAuthentication"]
        self.service.save(ctx, "domain", "", name, domain)
        DOMAINS.add(name.lower())
        if params.get("tags"):
            self.service.tags.add(
                domain["domainNameArn"], params["tags"], account=ctx.account_id, region=ctx.region
            )
        return self.service.with_tags(ctx, f"/domainnames/{name}", domain)

    def _domain(self, ctx: RequestContext, name: str) -> dict[str, Any]:
        return self.service.doc(ctx, "domain", "", name, "Invalid domain name identifier specified")

    def get_domain_name(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        domain = self._domain(ctx, params["domainName"])
        return self.service.with_tags(ctx, f"/domainnames/{domain['domainName']}", domain)

    def get_domain_names(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        domains = self.service.store.list(ctx.account_id, ctx.region, "domain")
        return self.service.page(domains, params, "domainName", "domainnames")

    def update_domain_name(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        domain = self._domain(ctx, params["domainName"])
        apply_patch(
            domain,
            params.get("patchOperations"),
            [
                ("/certificateName", set_field()),
                ("/certificateArn", set_field()),
                ("/regionalCertificateName", set_field()),
                ("/regionalCertificateArn", set_field()),
                ("/securityPolicy", set_field()),
            ],
        )
        self.service.save(ctx, "domain", "", domain["domainName"], domain)
        return domain

    def delete_domain_name(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        domain = self._domain(ctx, params["domainName"])
        self.service.store.delete(ctx.account_id, ctx.region, "domain", "", domain["domainName"])
        self.service.store.delete_children(ctx.account_id, ctx.region, domain["domainName"])
        if self.service.store.owner("domain", domain["domainName"]) is None:
            DOMAINS.discard(domain["domainName"].lower())
        self.service.tags.forget(domain["domainNameArn"])
        return {}

    # -- base path mappings ---------------------------------------------------------------------------

    def create_base_path_mapping(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        domain = self._domain(ctx, params["domainName"])
        base_path = params.get("basePath") or "(none)"
        if not _BASE_PATH.match(base_path):
            raise bad_request("Invalid base path specified")
        api = self.service.rest_api(ctx, params["restApiId"])
        if params.get("stage"):
            self.service.doc(ctx, "stage", api["id"], params["stage"], "Invalid stage identifier specified")
        if self.service.store.get(ctx.account_id, ctx.region, "basepath", domain["domainName"], base_path):
            raise conflict("Base path already exists for this domain name")
        mapping = {"basePath": base_path, "restApiId": api["id"]}
        if params.get("stage"):
            mapping["stage"] = params["stage"]
        self.service.save(ctx, "basepath", domain["domainName"], base_path, mapping)
        return mapping

    def _mapping(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        domain = self._domain(ctx, params["domainName"])
        return self.service.doc(
            ctx,
            "basepath",
            domain["domainName"],
            params["basePath"],
            "Invalid base path mapping identifier specified",
        )

    def get_base_path_mapping(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._mapping(ctx, params)

    def get_base_path_mappings(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        domain = self._domain(ctx, params["domainName"])
        mappings = self.service.store.list(ctx.account_id, ctx.region, "basepath", domain["domainName"])
        return self.service.page(mappings, params, "basePath", f"basepaths:{domain['domainName']}")

    def update_base_path_mapping(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        mapping = self._mapping(ctx, params)
        old = mapping["basePath"]
        apply_patch(
            mapping,
            params.get("patchOperations"),
            [("/basePath", set_field()), ("/restapiId", set_field(key="restApiId")), ("/stage", set_field())],
        )
        self.service.store.delete(ctx.account_id, ctx.region, "basepath", params["domainName"], old)
        self.service.save(ctx, "basepath", params["domainName"], mapping["basePath"], mapping)
        return mapping

    def delete_base_path_mapping(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        mapping = self._mapping(ctx, params)
        self.service.store.delete(
            ctx.account_id, ctx.region, "basepath", params["domainName"], mapping["basePath"]
        )
        return {}

    # -- client certificates ----------------------------------------------------------------------------

    def generate_client_certificate(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        now = self.clock.now()
        certificate: dict[str, Any] = {
            "clientCertificateId": new_id(6),
            "pemEncodedCertificate": _self_signed(now),
            "createdDate": int(now),
            "expirationDate": int(now + 365 * 86400),
        }
        if params.get("description"):
            certificate["description"] = params["description"]
        self.service.save(ctx, "clientcert", "", certificate["clientCertificateId"], certificate)
        path = f"/clientcertificates/{certificate['clientCertificateId']}"
        if params.get("tags"):
            self.service.tags.add(
                self.service.arn(ctx, path), params["tags"], account=ctx.account_id, region=ctx.region
            )
        return self.service.with_tags(ctx, path, certificate)

    def _certificate(self, ctx: RequestContext, certificate_id: str) -> dict[str, Any]:
        return self.service.doc(
            ctx, "clientcert", "", certificate_id, "Invalid Client Certificate identifier specified"
        )

    def get_client_certificate(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        certificate = self._certificate(ctx, params["clientCertificateId"])
        return self.service.with_tags(
            ctx, f"/clientcertificates/{certificate['clientCertificateId']}", certificate
        )

    def get_client_certificates(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        items = self.service.store.list(ctx.account_id, ctx.region, "clientcert")
        return self.service.page(items, params, "clientCertificateId", "clientcertificates")

    def update_client_certificate(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        certificate = self._certificate(ctx, params["clientCertificateId"])
        apply_patch(certificate, params.get("patchOperations"), [("/description", set_field())])
        self.service.save(ctx, "clientcert", "", certificate["clientCertificateId"], certificate)
        return certificate

    def delete_client_certificate(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        certificate = self._certificate(ctx, params["clientCertificateId"])
        self.service.store.delete(
            ctx.account_id, ctx.region, "clientcert", "", certificate["clientCertificateId"]
        )
        self.service.tags.forget(
            self.service.arn(ctx, f"/clientcertificates/{certificate['clientCertificateId']}")
        )
        return {}


def _self_signed(now: float) -> str:
    """A real self-signed certificate (API Gateway's client certificates are what backends verify)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ApiGateway")])
    start = datetime.fromtimestamp(now, UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


class AccountOperations(Operations):
    service: ApiGatewayProvider

    def _account(self, ctx: RequestContext) -> dict[str, Any]:
        found = self.service.store.get(ctx.account_id, ctx.region, "account", "", "account")
        return found or {
            "throttleSettings": {"burstLimit": 5000, "rateLimit": 10000.0},
            "features": ["UsagePlans"],
            "apiKeyVersion": "4",
        }

    def get_account(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._account(ctx)

    def update_account(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        account = self._account(ctx)
        apply_patch(
            account,
            params.get("patchOperations"),
            [("/cloudwatchRoleArn", set_field(lambda v: v or None)), ("/features", _features)],
        )
        account = {k: v for k, v in account.items() if v is not None}
        self.service.save(ctx, "account", "", "account", account)
        return account


def _features(doc: dict[str, Any], op: str, parts: list[str], value: Any) -> None:
    features = doc.setdefault("features", [])
    if op == "remove":
        doc["features"] = [f for f in features if f != value]
    elif value not in features:
        features.append(value)


__all__ = ["DomainNameOperations", "AccountOperations", "not_found"]
