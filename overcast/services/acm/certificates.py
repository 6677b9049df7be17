"""Certificates: request (DNS or email validation, or private from a CA), import, describe, list, get, export,
renew, delete; tags and options."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.acm import ca
from overcast.services.acm.store import Certificate
from overcast.services.base import Operations
from overcast.services.kit.paging import decode_token, page_of
from overcast.services.kit.tags import TagRules, tag_dict, tag_list

if TYPE_CHECKING:
    from overcast.services.acm.provider import AcmProvider

RULES = TagRules(
    max_tags=50,
    too_many=lambda limit: ServiceError("TooManyTagsException", "the TagSet contains too many Tags", 400),
    invalid=lambda key: ServiceError("InvalidTagException", f"Tag key {key} is invalid", 400),
    reserved=lambda key: ServiceError(
        "InvalidTagException", "Tag keys that start with 'aws:' are reserved", 400
    ),
)
_DOMAIN = re.compile(r"^(\*\.)?(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9-]{2,63}\.?$")
VALIDATION_TIMEOUT = 72 * 3600
CHECK_EVERY = 5.0  # DNS validation records are looked for every 5 s (virtual time): Terraform waits on it
RENEW_BEFORE = 60 * 86400
EMAIL_PREFIXES = ("admin", "administrator", "hostmaster", "postmaster", "webmaster")
DEFAULT_KEY_TYPES = ("RSA_1024", "RSA_2048")


def not_found(arn: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", f"Could not find certificate {arn}.", 400)


def invalid_arn(arn: str) -> ServiceError:
    return ServiceError("InvalidArnException", f"The certificate ARN {arn} is not valid.", 400)


def _time(moment: float | None) -> datetime | None:
    return None if moment is None else datetime.fromtimestamp(moment, UTC)


def _check_domain(name: str) -> None:
    if len(name) > 253 or not _DOMAIN.match(name) or name.count("*") > 1:
        raise ServiceError("ValidationException", f"The domain name {name} is not valid.", 400)


class CertificateOperations(Operations):
    service: AcmProvider

    def certificate(self, ctx: RequestContext, arn: str) -> Certificate:
        if not arn.startswith("arn:") or ":acm:" not in arn or ":certificate/" not in arn:
            raise invalid_arn(arn)
        found = self.service.store.get(arn)
        if found is None or found.account != ctx.account_id or found.region != ctx.region:
            raise not_found(arn)
        return found

    # -- request --------------------------------------------------------------------------------------------

    def request_certificate(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        store = self.service.store
        token = params.get("IdempotencyToken")
        if token:
            found = store.by_idempotency(ctx.account_id, ctx.region, token)
            if found is not None and self.clock.now() - found.created < 3600:
                return {"CertificateArn": found.arn}
        domain = params["DomainName"]
        names = [domain, *[name for name in params.get("SubjectAlternativeNames") or () if name != domain]]
        for name in names:
            _check_domain(name)
        if len(names) > 100:
            raise ServiceError(
                "LimitExceededException", "The request contains too many subject alternative names", 400
            )
        private = params.get("CertificateAuthorityArn")
        method = params.get("ValidationMethod") or "EMAIL"
        algorithm = params.get("KeyAlgorithm") or "RSA_2048"
        if algorithm == "RSA_1024" or (algorithm in ("RSA_3072", "RSA_4096", "EC_secp521r1") and not private):
            raise ServiceError(
                "ValidationException",
                f"The key algorithm {algorithm} is not supported for this certificate.",
                400,
            )
        options = {"CertificateTransparencyLoggingPreference": "ENABLED", **(params.get("Options") or {})}
        if private:
            options.pop("CertificateTransparencyLoggingPreference", None)
        options.setdefault("Export", "DISABLED")
        for option in params.get("DomainValidationOptions") or ():
            if option["DomainName"] not in names:
                raise ServiceError(
                    "InvalidDomainValidationOptionsException",
                    f"Domain validation option for {option['DomainName']} does not match a domain of the certificate",
                    400,
                )
        arn = f"arn:aws:acm:{ctx.region}:{ctx.account_id}:certificate/{uuid.uuid4()}"
        now = self.clock.now()
        doc: dict[str, Any] = {
            "CertificateArn": arn,
            "DomainName": domain,
            "SubjectAlternativeNames": names,
            "Status": "PENDING_VALIDATION",
            "Type": "PRIVATE" if private else "AMAZON_ISSUED",
            "KeyAlgorithm": algorithm,
            "SignatureAlgorithm": "SHA256WITHRSA",
            "CreatedAt": now,
            "RenewalEligibility": "INELIGIBLE",
            "Options": options,
        }
        if params.get("ManagedBy"):
            doc["ManagedBy"] = params["ManagedBy"]
        if private:
            doc["CertificateAuthorityArn"] = private
        else:
            doc["DomainValidationOptions"] = [
                self._validation(ctx, name, method, params.get("DomainValidationOptions")) for name in names
            ]
        certificate = Certificate(
            arn, ctx.account_id, ctx.region, doc, ca.new_key(algorithm), None, None, token, now, now
        )
        if private:  # a private CA issues at once: no validation
            self.service.issue(certificate)
        store.put(certificate)
        tags = tag_dict(params.get("Tags"))
        if tags:
            self.service.tags.add(arn, tags, RULES, account=ctx.account_id, region=ctx.region)
        self.service.schedule_changed()
        return {"CertificateArn": arn}

    @staticmethod
    def _validation(
        ctx: RequestContext, name: str, method: str, options: list[dict[str, str]] | None
    ) -> dict[str, Any]:
        base = name[2:] if name.startswith("*.") else name
        validation_domain = next(
            (o["ValidationDomain"] for o in options or () if o["DomainName"] == name), base
        )
        entry: dict[str, Any] = {
            "DomainName": name,
            "ValidationDomain": validation_domain,
            "ValidationStatus": "PENDING_VALIDATION",
        }
        if method == "DNS":
            record_name, value = ca.validation_record(ctx.account_id, name)
            entry["ResourceRecord"] = {"Name": record_name, "Type": "CNAME", "Value": value}
        else:
            entry["ValidationEmails"] = [f"{prefix}@{validation_domain}" for prefix in EMAIL_PREFIXES]
        entry["ValidationMethod"] = method
        return entry

    # -- import ---------------------------------------------------------------------------------------------

    def import_certificate(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        try:
            cert_pem, key_pem, chain_pem = ca.check_import(
                params["Certificate"], params["PrivateKey"], params.get("CertificateChain"), self.clock.now()
            )
        except ca.BadImport as error:
            raise ServiceError("ValidationException", str(error), 400) from None
        facts = ca.facts(cert_pem)
        now = self.clock.now()
        existing = None
        if params.get("CertificateArn"):
            existing = self.certificate(ctx, params["CertificateArn"])
            if existing.doc["Type"] != "IMPORTED":
                raise ServiceError(
                    "ValidationException", "Only imported certificates can be reimported.", 400
                )
            if params.get("Tags"):
                raise ServiceError(
                    "InvalidParameterException",
                    "Tags cannot be specified when reimporting a certificate.",
                    400,
                )
        arn = (
            existing.arn
            if existing
            else f"arn:aws:acm:{ctx.region}:{ctx.account_id}:certificate/{uuid.uuid4()}"
        )
        doc = {
            "CertificateArn": arn,
            "DomainName": facts.names[0] if facts.names else "",
            "SubjectAlternativeNames": facts.names,
            "Serial": facts.serial,
            "Subject": facts.subject,
            "Issuer": facts.issuer.split("CN=")[-1].split(",")[0] if "CN=" in facts.issuer else facts.issuer,
            "CreatedAt": existing.doc["CreatedAt"] if existing else now,
            "ImportedAt": now,
            "Status": "ISSUED",
            "NotBefore": facts.not_before,
            "NotAfter": facts.not_after,
            "KeyAlgorithm": facts.key_algorithm,
            "SignatureAlgorithm": facts.signature_algorithm,
            "Type": "IMPORTED",
            "KeyUsages": [{"Name": usage} for usage in facts.key_usages],
            "ExtendedKeyUsages": [{"Name": name, "OID": oid} for name, oid in facts.extended_key_usages],
            "RenewalEligibility": "INELIGIBLE",
            "Options": {"CertificateTransparencyLoggingPreference": "DISABLED", "Export": "DISABLED"},
        }
        certificate = Certificate(arn, ctx.account_id, ctx.region, doc, key_pem, cert_pem, chain_pem, None,
                                  existing.created if existing else now, facts.not_after)  # fmt: skip
        self.service.store.put(certificate)
        self.service.plan_notice(certificate)
        tags = tag_dict(params.get("Tags"))
        if tags:
            self.service.tags.add(arn, tags, RULES, account=ctx.account_id, region=ctx.region)
        self.service.schedule_changed()
        self.service.material_changed()
        return {"CertificateArn": arn}

    # -- describe / list / get --------------------------------------------------------------------------------

    def describe_certificate(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"Certificate": self.service.described(self.certificate(ctx, params["CertificateArn"]))}

    def list_certificates(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        statuses = params.get("CertificateStatuses")
        includes = params.get("Includes") or {}
        key_types = includes.get("keyTypes") or DEFAULT_KEY_TYPES
        rows = []
        for certificate in self.service.store.listing(ctx.account_id, ctx.region):
            doc = certificate.doc
            if statuses and doc["Status"] not in statuses:
                continue
            if doc["KeyAlgorithm"] not in key_types:
                continue
            if includes.get("managedBy") and doc.get("ManagedBy") != includes["managedBy"]:
                continue
            if (
                includes.get("exportOption")
                and doc.get("Options", {}).get("Export", "DISABLED") != includes["exportOption"]
            ):
                continue
            usages = {usage["Name"] for usage in self.service.usages(certificate)[0]}
            if includes.get("keyUsage") and not set(includes["keyUsage"]) & (usages | {"ANY"}):
                continue
            extended = {usage["Name"] for usage in self.service.usages(certificate)[1]}
            if includes.get("extendedKeyUsage") and not set(includes["extendedKeyUsage"]) & (
                extended | {"ANY"}
            ):
                continue
            rows.append(certificate)
        if params.get("SortBy") == "CREATED_AT" and params.get("SortOrder") == "DESCENDING":
            rows.reverse()
        start = (
            decode_token(
                params.get("NextToken"),
                lambda: ServiceError("InvalidArgsException", "The NextToken is not valid.", 400),
                "list",
            )
            or 0
        )
        limit = params.get("MaxItems") or 1000
        page, token = page_of(rows[start : start + limit + 1], limit, lambda _: start + limit, "list")
        result: dict[str, Any] = {"CertificateSummaryList": [self.service.summary(c) for c in page]}
        if token:
            result["NextToken"] = token
        return result

    def get_certificate(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        certificate = self.certificate(ctx, params["CertificateArn"])
        if certificate.status != "ISSUED" or not certificate.cert_pem:
            raise ServiceError(
                "RequestInProgressException", f"Certificate {certificate.arn} is not yet issued.", 400
            )
        result = {"Certificate": certificate.cert_pem}
        if certificate.chain_pem:
            result["CertificateChain"] = certificate.chain_pem
        return result

    def export_certificate(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        certificate = self.certificate(ctx, params["CertificateArn"])
        exportable = (
            certificate.doc["Type"] == "PRIVATE"
            or certificate.doc.get("Options", {}).get("Export") == "ENABLED"
        )
        if not exportable:
            raise ServiceError(
                "ValidationException", f"Certificate ARN: {certificate.arn} is not a private certificate", 400
            )
        if certificate.status != "ISSUED" or not certificate.cert_pem or not certificate.key_pem:
            raise ServiceError(
                "RequestInProgressException", f"Certificate {certificate.arn} is not yet issued.", 400
            )
        passphrase = params["Passphrase"]
        if len(passphrase) < 4:
            raise ServiceError(
                "ValidationException", "The passphrase must be at least 4 characters long.", 400
            )
        certificate.doc["Exported"] = True
        if certificate.doc["Type"] != "IMPORTED":
            certificate.doc["RenewalEligibility"] = "ELIGIBLE"
        self.service.store.put(certificate)
        return {
            "Certificate": certificate.cert_pem,
            "CertificateChain": certificate.chain_pem or "",
            "PrivateKey": ca.encrypted_key(certificate.key_pem, passphrase),
        }

    # -- delete / renew / options ---------------------------------------------------------------------------------

    def delete_certificate(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        certificate = self.certificate(ctx, params["CertificateArn"])
        users = self.service.store.users(certificate.arn)
        if users:
            raise ServiceError(
                "ResourceInUseException", f"Certificate {certificate.arn} in use by {', '.join(users)}", 400
            )
        self.service.store.delete(certificate.arn)
        self.service.tags.forget(certificate.arn)
        return {}

    def renew_certificate(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        certificate = self.certificate(ctx, params["CertificateArn"])
        exportable = (
            certificate.doc["Type"] == "PRIVATE"
            or certificate.doc.get("Options", {}).get("Export") == "ENABLED"
        )
        if not exportable or certificate.status != "ISSUED":
            raise ServiceError(
                "ValidationException", f"Certificate {certificate.arn} is not eligible for renewal.", 400
            )
        self.service.renew(certificate)
        self.service.store.put(certificate)
        return {}

    def update_certificate_options(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        certificate = self.certificate(ctx, params["CertificateArn"])
        if certificate.doc["Type"] == "IMPORTED":
            raise ServiceError(
                "InvalidStateException",
                f"Certificate {certificate.arn} is imported: its options cannot be updated.",
                400,
            )
        if certificate.status != "ISSUED" and certificate.status != "PENDING_VALIDATION":
            raise ServiceError(
                "InvalidStateException", f"Certificate {certificate.arn} is {certificate.status}.", 400
            )
        certificate.doc.setdefault("Options", {}).update(params["Options"])
        self.service.store.put(certificate)
        return {}

    def resend_validation_email(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        certificate = self.certificate(ctx, params["CertificateArn"])
        if certificate.status != "PENDING_VALIDATION":
            raise ServiceError(
                "InvalidStateException", f"Certificate {certificate.arn} is not pending validation.", 400
            )
        domains = {entry["DomainName"]: entry for entry in certificate.doc.get("DomainValidationOptions", [])}
        entry = domains.get(params["Domain"])
        if entry is None or entry.get("ValidationMethod") != "EMAIL":
            raise ServiceError(
                "InvalidDomainValidationOptionsException",
                f"Domain {params['Domain']} is not validated by email.",
                400,
            )
        return {}

    # -- tags -------------------------------------------------------------------------------------------------------

    def add_tags_to_certificate(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        certificate = self.certificate(ctx, params["CertificateArn"])
        self.service.tags.add(
            certificate.arn, tag_dict(params["Tags"]), RULES, account=ctx.account_id, region=ctx.region
        )
        return {}

    def remove_tags_from_certificate(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        certificate = self.certificate(ctx, params["CertificateArn"])
        current = self.service.tags.get(certificate.arn)
        keys = [
            tag["Key"]
            for tag in params["Tags"]
            if "Value" not in tag or current.get(tag["Key"]) == tag.get("Value")
        ]
        self.service.tags.remove(certificate.arn, keys)
        return {}

    def list_tags_for_certificate(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        certificate = self.certificate(ctx, params["CertificateArn"])
        return {"Tags": tag_list(self.service.tags.get(certificate.arn))}

    def tag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        certificate = self.certificate(ctx, params["ResourceArn"])
        self.service.tags.add(
            certificate.arn, tag_dict(params["Tags"]), RULES, account=ctx.account_id, region=ctx.region
        )
        return {}

    def untag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        certificate = self.certificate(ctx, params["ResourceArn"])
        self.service.tags.remove(certificate.arn, params["TagKeys"])
        return {}

    def list_tags_for_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        certificate = self.certificate(ctx, params["ResourceArn"])
        return {"Tags": tag_list(self.service.tags.get(certificate.arn))}

    def revoke_certificate(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        certificate = self.certificate(ctx, params["CertificateArn"])
        exportable = (
            certificate.doc.get("Options", {}).get("Export") == "ENABLED"
            or certificate.doc["Type"] == "PRIVATE"
        )
        if not exportable or certificate.status != "ISSUED":
            raise ServiceError(
                "ValidationException", f"Certificate {certificate.arn} cannot be revoked.", 400
            )
        users = self.service.store.users(certificate.arn)
        if users:
            raise ServiceError(
                "ResourceInUseException", f"Certificate {certificate.arn} in use by {', '.join(users)}", 400
            )
        certificate.doc.update(
            Status="REVOKED", RevokedAt=self.clock.now(), RevocationReason=params["RevocationReason"]
        )
        certificate.due = None
        self.service.store.put(certificate)
        return {"CertificateArn": certificate.arn}

    # -- account configuration ---------------------------------------------------------------------------------------

    def get_account_configuration(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"ExpiryEvents": {"DaysBeforeExpiry": self.service.store.days_before_expiry(ctx.account_id)}}

    def put_account_configuration(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        days = (params.get("ExpiryEvents") or {}).get("DaysBeforeExpiry")
        if days is not None:
            store = self.service.store
            store.set_days_before_expiry(ctx.account_id, days)
            for arn in store.noticed_arns(ctx.account_id):  # the expiry events' window moved
                certificate = store.get(arn)
                if certificate is not None:
                    self.service.plan_notice(certificate)
            self.service.schedule_changed()
        return {}
