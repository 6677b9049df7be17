"""Certificate Manager resource types: AWS::CertificateManager::Certificate.

As CloudFormation does, the resource is created only once ACM has issued the certificate: with DNS
validation and a `HostedZoneId` in `DomainValidationOptions`, CloudFormation itself writes ACM's validation
CNAME into that Route 53 zone; otherwise the stack waits until someone validates the names (or ACM gives
up after 72 hours of virtual time and the resource fails).
"""

from __future__ import annotations

import asyncio

from overcast.errors import ServiceError
from overcast.services.cloudformation.resources.base import (
    Created,
    HandlerError,
    ResourceContext,
    ResourceHandler,
    drop_none,
    not_found,
    tag_list,
)

SERVICE = "acm"
POLL_SECONDS = 0.5
FAILED = ("FAILED", "VALIDATION_TIMED_OUT", "REVOKED", "EXPIRED", "INACTIVE")


class Certificate(ResourceHandler):
    type_name = "AWS::CertificateManager::Certificate"
    service = SERVICE
    required = ("DomainName",)
    create_only = frozenset(
        {
            "CertificateAuthorityArn",
            "DomainName",
            "DomainValidationOptions",
            "KeyAlgorithm",
            "SubjectAlternativeNames",
            "ValidationMethod",
        }
    )
    primary_identifier = "Id"

    async def create(self, ctx, properties):
        options = properties.get("DomainValidationOptions") or []
        transparency = properties.get("CertificateTransparencyLoggingPreference")
        params = drop_none(
            {
                "DomainName": properties["DomainName"],
                "SubjectAlternativeNames": properties.get("SubjectAlternativeNames"),
                "ValidationMethod": properties.get("ValidationMethod"),
                "KeyAlgorithm": properties.get("KeyAlgorithm"),
                "CertificateAuthorityArn": properties.get("CertificateAuthorityArn"),
                "DomainValidationOptions": [
                    {"DomainName": o["DomainName"], "ValidationDomain": o["ValidationDomain"]}
                    for o in options
                    if o.get("ValidationDomain")
                ]
                or None,
                "Options": {"CertificateTransparencyLoggingPreference": transparency}
                if transparency
                else None,
                "Tags": tag_list(properties.get("Tags")) or None,
            }
        )
        arn = (await ctx.call(SERVICE, "RequestCertificate", params))["CertificateArn"]
        zones = {o["DomainName"]: o["HostedZoneId"] for o in options if o.get("HostedZoneId")}
        await self._issued(ctx, arn, zones)
        return Created(arn)

    async def _issued(self, ctx: ResourceContext, arn: str, zones: dict[str, str]) -> None:
        """Wait for ACM to issue `arn`, writing the validation records of the names that have a zone."""
        written: set[str] = set()
        while True:
            found = (await ctx.call(SERVICE, "DescribeCertificate", {"CertificateArn": arn}))["Certificate"]
            status = found["Status"]
            if status == "ISSUED":
                return
            if status in FAILED:
                raise HandlerError(
                    f"Certificate {arn} is {status}: {found.get('FailureReason', 'not validated')}",
                    "NotStabilized",
                )
            for option in found.get("DomainValidationOptions", []):
                record = option.get("ResourceRecord")
                zone = zones.get(option["DomainName"])
                if record and zone and record["Name"] not in written:
                    await self._write_record(ctx, zone, record)
                    written.add(record["Name"])
            await asyncio.sleep(POLL_SECONDS)

    @staticmethod
    async def _write_record(ctx: ResourceContext, zone: str, record: dict[str, str]) -> None:
        change = {
            "Action": "UPSERT",
            "ResourceRecordSet": {
                "Name": record["Name"],
                "Type": record["Type"],
                "TTL": 300,
                "ResourceRecords": [{"Value": record["Value"]}],
            },
        }
        await ctx.call(
            "route53",
            "ChangeResourceRecordSets",
            {"HostedZoneId": zone, "ChangeBatch": {"Changes": [change]}},
        )

    async def update(self, ctx, physical_id, properties, previous, attributes):
        old, new = tag_list(previous.get("Tags")), tag_list(properties.get("Tags"))
        gone = [tag for tag in old if tag["Key"] not in {t["Key"] for t in new}]
        if gone:
            await ctx.call(
                SERVICE, "RemoveTagsFromCertificate", {"CertificateArn": physical_id, "Tags": gone}
            )
        if new and new != old:
            await ctx.call(SERVICE, "AddTagsToCertificate", {"CertificateArn": physical_id, "Tags": new})
        return attributes

    async def delete(self, ctx, physical_id, properties):
        try:
            await ctx.call(SERVICE, "DeleteCertificate", {"CertificateArn": physical_id})
        except ServiceError as error:
            if not not_found(error):
                raise

    async def read(self, ctx, physical_id, properties):
        try:
            await ctx.call(SERVICE, "DescribeCertificate", {"CertificateArn": physical_id})
        except ServiceError as error:
            if not_found(error):
                return None
            raise
        return dict(properties)

    async def list(self, ctx):
        found = await ctx.call(SERVICE, "ListCertificates", {})
        return [item["CertificateArn"] for item in found.get("CertificateSummaryList", [])]


HANDLERS = (Certificate,)
