"""ACM's provider: composition, the local CA, issuing and renewing, how certificates are described, the worker
(validation, timeouts, renewal, expiry), Overcast's endpoints (`ca.pem`, email approval) and the hooks."""

from __future__ import annotations

import asyncio
import json
import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import overcast.services.events.api as events
import overcast.services.route53.api as route53
from overcast.context import RequestContext
from overcast.http import HttpRequest, HttpResponse, json_response
from overcast.services.acm import ca
from overcast.services.acm.certificates import (
    CHECK_EVERY,
    RENEW_BEFORE,
    VALIDATION_TIMEOUT,
    CertificateOperations,
)
from overcast.services.acm.store import AcmStore, Certificate
from overcast.services.base import ServiceProvider
from overcast.services.kit.timers import run_due_work

if TYPE_CHECKING:
    from overcast.platform import Platform

_TIMES = ("CreatedAt", "IssuedAt", "ImportedAt", "NotBefore", "NotAfter", "RevokedAt")
_SERVER_AUTH = ("TLS_WEB_SERVER_AUTHENTICATION", "1.3.6.1.5.5.7.3.1")
DAY = 86400.0
_CLIENT_AUTH = ("TLS_WEB_CLIENT_AUTHENTICATION", "1.3.6.1.5.5.7.3.2")


class AcmProvider(ServiceProvider):
    service_name = "acm"
    families = (CertificateOperations,)
    # pure reads of the certificate rows (a status changes only by the worker's writes): state/answers.py
    remembered = frozenset(
        {"DescribeCertificate", "ListCertificates", "GetCertificate", "ListTagsForCertificate",
         "GetAccountConfiguration"}
    )  # fmt: skip

    def __init__(self, platform: Platform) -> None:
        super().__init__(platform)
        self.store = AcmStore(self.db)
        self.wake = asyncio.Event()
        self.generation = 0  # bumped when a certificate's material changes (acm.api.generation)

    async def start(self) -> None:
        self.platform.spawn(run_due_work(self.clock, self.wake, self.run_due, "acm certificates"))

    def schedule_changed(self) -> None:
        self.db.after_commit(self.wake.set)

    # -- the local certificate authority ---------------------------------------------------------------------

    def authority(self) -> ca.Authority:
        """The root CA, made on first use and kept in the database (one per data directory)."""
        found = self.store.authority()
        if found is None:
            made = ca.new_authority(self.clock.now())
            with self.db.transaction():
                self.store.put_authority(made.key_pem, made.cert_pem)
                found = self.store.authority()
        assert found is not None
        return ca.Authority(*found)

    def issue(self, certificate: Certificate) -> None:
        """Sign the certificate (its key was made at the request) and mark it issued."""
        authority = self.authority()
        doc = certificate.doc
        now = self.clock.now()
        certificate.cert_pem = ca.issue(
            authority, certificate.key_pem or "", doc["SubjectAlternativeNames"], now
        )
        certificate.chain_pem = authority.cert_pem
        facts = ca.facts(certificate.cert_pem)
        doc.update(
            Status="ISSUED",
            Serial=facts.serial,
            Subject=facts.subject,
            Issuer="Amazon" if doc["Type"] == "AMAZON_ISSUED" else ca.ROOT_NAME,
            IssuedAt=now,
            NotBefore=facts.not_before,
            NotAfter=facts.not_after,
            SignatureAlgorithm=facts.signature_algorithm,
        )
        for entry in doc.get("DomainValidationOptions", []):
            entry["ValidationStatus"] = "SUCCESS"
        certificate.due = facts.not_after - RENEW_BEFORE
        self.plan_notice(certificate)
        self.material_changed()

    def material_changed(self) -> None:
        self.db.after_commit(self._next_generation)

    def _next_generation(self) -> None:
        self.generation += 1

    def renew(self, certificate: Certificate) -> None:
        self.issue(certificate)
        certificate.doc["RenewalSummary"] = {
            "RenewalStatus": "SUCCESS",
            **(
                {"DomainValidationOptions": certificate.doc["DomainValidationOptions"]}
                if certificate.doc.get("DomainValidationOptions")
                else {}
            ),
            "UpdatedAt": self.clock.now(),
        }

    # -- descriptions -----------------------------------------------------------------------------------------

    def usages(self, certificate: Certificate) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
        doc = certificate.doc
        if doc["Type"] == "IMPORTED":
            return doc.get("KeyUsages", []), doc.get("ExtendedKeyUsages", [])
        if doc["Status"] != "ISSUED" and "IssuedAt" not in doc:
            return [], []
        rsa = doc["KeyAlgorithm"].startswith("RSA")
        keys = [{"Name": "DIGITAL_SIGNATURE"}] + ([{"Name": "KEY_ENCIPHERMENT"}] if rsa else [])
        extended = [{"Name": name, "OID": oid} for name, oid in (_SERVER_AUTH, _CLIENT_AUTH)]
        return keys, extended

    def _eligibility(self, certificate: Certificate, in_use: bool) -> str:
        doc = certificate.doc
        if doc["Type"] == "IMPORTED" or doc["Status"] != "ISSUED":
            return "INELIGIBLE"
        return "ELIGIBLE" if in_use or doc.get("Exported") else "INELIGIBLE"

    def described(self, certificate: Certificate) -> dict[str, Any]:
        doc = {key: value for key, value in certificate.doc.items() if key != "Exported"}
        for key in _TIMES:
            if key in doc:
                doc[key] = datetime.fromtimestamp(doc[key], UTC)
        if "RenewalSummary" in doc:
            doc["RenewalSummary"] = {
                **doc["RenewalSummary"],
                "UpdatedAt": datetime.fromtimestamp(doc["RenewalSummary"]["UpdatedAt"], UTC),
            }
        users = self.store.users(certificate.arn)
        doc["InUseBy"] = users
        keys, extended = self.usages(certificate)
        doc["KeyUsages"], doc["ExtendedKeyUsages"] = keys, extended
        doc["RenewalEligibility"] = self._eligibility(certificate, bool(users))
        if certificate.status == "PENDING_VALIDATION":
            for key in ("KeyUsages", "ExtendedKeyUsages"):
                doc[key] = []
        return doc

    def summary(self, certificate: Certificate) -> dict[str, Any]:
        doc = certificate.doc
        names = doc.get("SubjectAlternativeNames", [])
        keys, extended = self.usages(certificate)
        users = self.store.users(certificate.arn)
        summary: dict[str, Any] = {
            "CertificateArn": certificate.arn,
            "DomainName": doc.get("DomainName", ""),
            "SubjectAlternativeNameSummaries": names[:100],
            "HasAdditionalSubjectAlternativeNames": len(names) > 100,
            "Status": doc["Status"],
            "Type": doc["Type"],
            "KeyAlgorithm": doc["KeyAlgorithm"],
            "KeyUsages": [usage["Name"] for usage in keys],
            "ExtendedKeyUsages": [usage["Name"] for usage in extended],
            "ExportOption": doc.get("Options", {}).get("Export", "DISABLED"),
            "InUse": bool(users),
            "Exported": bool(doc.get("Exported")),
            "RenewalEligibility": self._eligibility(certificate, bool(users)),
        }
        for key in _TIMES:
            if key in doc:
                summary[key] = datetime.fromtimestamp(doc[key], UTC)
        if doc.get("ManagedBy"):
            summary["ManagedBy"] = doc["ManagedBy"]
        return summary

    # -- expiry events (EventBridge) ---------------------------------------------------------------------------------

    def plan_notice(self, certificate: Certificate) -> None:
        """When the certificate's next "ACM Certificate Approaching Expiration" event is due: daily from
        DaysBeforeExpiry days before NotAfter (the account's setting, 45 by default) until it expires."""
        not_after = certificate.doc.get("NotAfter")
        if certificate.status != "ISSUED" or not not_after:
            self.store.set_notice(certificate.arn, None)
            return
        now = self.clock.now()
        start = not_after - self.store.days_before_expiry(certificate.account) * DAY
        due = start if now < start else now
        self.store.set_notice(certificate.arn, due if due < not_after else None)

    def _notify(self, arn: str, now: float) -> None:
        certificate = self.store.get(arn)
        if certificate is None:
            self.store.set_notice(arn, None)
            return
        not_after = certificate.doc.get("NotAfter") or 0
        start = not_after - self.store.days_before_expiry(certificate.account) * DAY
        if certificate.status != "ISSUED" or now >= not_after:
            self.store.set_notice(arn, None)
            return
        if now < start:  # the account's setting moved the window
            self.store.set_notice(arn, start)
            return
        if self.platform.running("events") is not None:  # no EventBridge yet: no rule would receive it
            events.put_event(self.platform, certificate.account, certificate.region, source="aws.acm",
                             detail_type="ACM Certificate Approaching Expiration",
                             detail={"DaysToExpiry": math.ceil((not_after - now) / DAY),
                                     "CommonName": certificate.doc.get("DomainName", "")},
                             resources=[arn], moment=now)  # fmt: skip
        self.store.set_notice(arn, now + DAY if now + DAY < not_after else None)

    # -- the worker -------------------------------------------------------------------------------------------------

    async def run_due(self) -> float | None:
        now = self.clock.now()
        with self.db.transaction():
            for certificate in self.store.due(now):
                self._advance(certificate, now)
                self.store.put(certificate)
            for arn in self.store.due_notices(now):
                self._notify(arn, now)
            return self.store.next_due()

    def _advance(self, certificate: Certificate, now: float) -> None:
        """One due moment of a certificate: DNS validation checked, a timeout, a renewal, an expiry."""
        doc = certificate.doc
        status = doc["Status"]
        if status == "PENDING_VALIDATION":
            entries = doc.get("DomainValidationOptions", [])
            for entry in entries:
                record = entry.get("ResourceRecord")
                if entry["ValidationStatus"] != "SUCCESS" and record is not None:
                    if route53.has_record(
                        self.platform, certificate.account, record["Name"], "CNAME", record["Value"]
                    ):
                        entry["ValidationStatus"] = "SUCCESS"
            if entries and all(entry["ValidationStatus"] == "SUCCESS" for entry in entries):
                self.issue(certificate)
            elif now - certificate.created >= VALIDATION_TIMEOUT:
                doc["Status"] = "VALIDATION_TIMED_OUT"
                for entry in entries:
                    if entry["ValidationStatus"] != "SUCCESS":
                        entry["ValidationStatus"] = "FAILED"
                certificate.due = None
            else:
                certificate.due = now + CHECK_EVERY
            return
        if status == "ISSUED":
            if doc.get("NotAfter") and now >= doc["NotAfter"]:
                doc["Status"] = "EXPIRED"
                certificate.due = None
            elif (
                doc["Type"] != "IMPORTED"
                and self._eligibility(certificate, bool(self.store.users(certificate.arn))) == "ELIGIBLE"
            ):
                self.renew(certificate)
            else:
                certificate.due = doc.get("NotAfter")
            return
        certificate.due = None

    def approve(self, arn: str, domain: str | None) -> bool:
        """Email validation: the approval link of the validation email was followed."""
        with self.db.transaction():
            certificate = self.store.get(arn)
            if certificate is None or certificate.status != "PENDING_VALIDATION":
                return False
            for entry in certificate.doc.get("DomainValidationOptions", []):
                if entry.get("ValidationMethod") == "EMAIL" and domain in (None, entry["DomainName"]):
                    entry["ValidationStatus"] = "SUCCESS"
            certificate.due = self.clock.now()
            self.store.put(certificate)
            self.schedule_changed()
        return True

    # -- Overcast's own endpoints -------------------------------------------------------------------------------

    async def internal_endpoint(self, request: HttpRequest, path: str) -> HttpResponse | None:
        """`GET /_overcast/acm/ca.pem`: the local CA's root certificate (trust it to trust what Overcast
        serves). `POST /_overcast/acm/approve` {"CertificateArn", "Domain"?}: approve email validation."""
        if path == "/_overcast/acm/ca.pem" and request.method in ("GET", "HEAD"):
            pem = self.authority().cert_pem
            return HttpResponse(200, [("content-type", "application/x-pem-file")], pem.encode())
        if path == "/_overcast/acm/approve" and request.method == "POST":
            try:
                order = json.loads(request.body or b"{}")
                arn = order["CertificateArn"]
            except (ValueError, KeyError, TypeError):
                return json_response({"error": 'body must be {"CertificateArn": ..., "Domain": ...}'}, 400)
            if not self.approve(arn, order.get("Domain")):
                return json_response({"error": f"{arn} is not pending validation"}, 404)
            await self.run_due()
            return json_response({"approved": arn})
        return None

    # -- hooks --------------------------------------------------------------------------------------------------

    def tagging_request(self, arn: str, add=None, remove=None) -> tuple[str, dict[str, Any]] | None:
        if add is not None:
            return "AddTagsToCertificate", {
                "CertificateArn": arn,
                "Tags": [{"Key": k, "Value": v} for k, v in add.items()],
            }
        return "RemoveTagsFromCertificate", {
            "CertificateArn": arn,
            "Tags": [{"Key": k} for k in remove or ()],
        }

    def resource_arn(self, ctx: RequestContext, params: dict[str, Any]) -> str | None:
        return params.get("CertificateArn")
