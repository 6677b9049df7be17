"""Route 53 resource types: AWS::Route53::HostedZone, RecordSet, RecordSetGroup, HealthCheck.

A record set's physical id is its name, as CloudFormation's is; its zone is given by id or by name
(`HostedZoneName`, with the final dot). Updates are UPSERTs; a new name, type or set identifier replaces it.
"""

from __future__ import annotations

import uuid
from typing import Any

from overcast.errors import ServiceError
from overcast.services.cloudformation.resources.base import (
    Created,
    HandlerError,
    ResourceContext,
    ResourceHandler,
    boolean,
    drop_none,
    integer,
    not_found,
    tag_list,
    text,
)

SERVICE = "route53"


def _zone_id(value: str) -> str:
    return value.rsplit("/", 1)[-1]


async def _change(ctx: ResourceContext, zone_id: str, changes: list[dict[str, Any]]) -> None:
    if changes:
        await ctx.call(
            SERVICE,
            "ChangeResourceRecordSets",
            {"HostedZoneId": zone_id, "ChangeBatch": {"Changes": changes}},
        )


async def _retag(ctx: ResourceContext, kind: str, resource_id: str, old: Any, new: Any) -> None:
    before, after = tag_list(old), tag_list(new)
    gone = [tag["Key"] for tag in before if tag["Key"] not in {t["Key"] for t in after}]
    added = [tag for tag in after if tag not in before]
    if gone or added:
        await ctx.call(
            SERVICE,
            "ChangeTagsForResource",
            drop_none(
                {
                    "ResourceType": kind,
                    "ResourceId": resource_id,
                    "AddTags": added or None,
                    "RemoveTagKeys": gone or None,
                }
            ),
        )


class HostedZone(ResourceHandler):
    type_name = "AWS::Route53::HostedZone"
    service = SERVICE
    required = ("Name",)
    create_only = frozenset({"Name"})
    attributes = ("Id", "NameServers")
    primary_identifier = "Id"

    async def create(self, ctx, properties):
        vpcs = properties.get("VPCs") or []
        params = drop_none(
            {
                "Name": properties["Name"],
                "CallerReference": str(uuid.uuid4()),
                "HostedZoneConfig": drop_none(
                    {
                        "Comment": (properties.get("HostedZoneConfig") or {}).get("Comment"),
                        "PrivateZone": True if vpcs else None,
                    }
                )
                or None,
                "VPC": {"VPCId": vpcs[0]["VPCId"], "VPCRegion": vpcs[0]["VPCRegion"]} if vpcs else None,
            }
        )
        found = await ctx.call(SERVICE, "CreateHostedZone", params)
        zone_id = _zone_id(found["HostedZone"]["Id"])
        for vpc in vpcs[1:]:
            await ctx.call(
                SERVICE,
                "AssociateVPCWithHostedZone",
                {"HostedZoneId": zone_id, "VPC": {"VPCId": vpc["VPCId"], "VPCRegion": vpc["VPCRegion"]}},
            )
        await _retag(ctx, "hostedzone", zone_id, [], properties.get("HostedZoneTags"))
        logging = (properties.get("QueryLoggingConfig") or {}).get("CloudWatchLogsLogGroupArn")
        if logging:
            await ctx.call(
                SERVICE,
                "CreateQueryLoggingConfig",
                {"HostedZoneId": zone_id, "CloudWatchLogsLogGroupArn": logging},
            )
        servers = (found.get("DelegationSet") or {}).get("NameServers", [])
        return Created(zone_id, {"Id": zone_id, "NameServers": servers})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        comment = (properties.get("HostedZoneConfig") or {}).get("Comment")
        if comment != (previous.get("HostedZoneConfig") or {}).get("Comment"):
            await ctx.call(
                SERVICE, "UpdateHostedZoneComment", drop_none({"Id": physical_id, "Comment": comment})
            )
        old = {(v["VPCId"], v["VPCRegion"]) for v in previous.get("VPCs") or []}
        new = {(v["VPCId"], v["VPCRegion"]) for v in properties.get("VPCs") or []}
        for vpc_id, region in new - old:
            await ctx.call(
                SERVICE,
                "AssociateVPCWithHostedZone",
                {"HostedZoneId": physical_id, "VPC": {"VPCId": vpc_id, "VPCRegion": region}},
            )
        for vpc_id, region in old - new:
            await ctx.call(
                SERVICE,
                "DisassociateVPCFromHostedZone",
                {"HostedZoneId": physical_id, "VPC": {"VPCId": vpc_id, "VPCRegion": region}},
            )
        await _retag(
            ctx, "hostedzone", physical_id, previous.get("HostedZoneTags"), properties.get("HostedZoneTags")
        )
        return attributes

    async def delete(self, ctx, physical_id, properties):
        try:
            configs = await ctx.call(SERVICE, "ListQueryLoggingConfigs", {"HostedZoneId": physical_id})
            for config in configs.get("QueryLoggingConfigs", []):
                await ctx.call(SERVICE, "DeleteQueryLoggingConfig", {"Id": config["Id"]})
            await ctx.call(SERVICE, "DeleteHostedZone", {"Id": physical_id})
        except ServiceError as error:
            if not not_found(error):
                raise

    async def read(self, ctx, physical_id, properties):
        try:
            await ctx.call(SERVICE, "GetHostedZone", {"Id": physical_id})
        except ServiceError as error:
            if not_found(error):
                return None
            raise
        return dict(properties)

    async def list(self, ctx):
        found = await ctx.call(SERVICE, "ListHostedZones", {})
        return [_zone_id(zone["Id"]) for zone in found.get("HostedZones", [])]


_RECORD_FIELDS = ("SetIdentifier", "Region", "Failover", "HealthCheckId")


def record_set(properties: dict[str, Any]) -> dict[str, Any]:
    """A template's record set as the API's ResourceRecordSet."""
    alias = properties.get("AliasTarget")
    values = properties.get("ResourceRecords")
    record: dict[str, Any] = {"Name": properties["Name"], "Type": properties["Type"]}
    for name in _RECORD_FIELDS:
        if properties.get(name) is not None:
            record[name] = text(properties[name])
    record.update(
        drop_none(
            {
                "TTL": integer(properties.get("TTL")),
                "Weight": integer(properties.get("Weight")),
                "MultiValueAnswer": boolean(properties.get("MultiValueAnswer")),
                "GeoLocation": properties.get("GeoLocation"),
                "CidrRoutingConfig": properties.get("CidrRoutingConfig"),
                "ResourceRecords": [{"Value": text(value)} for value in values] if values else None,
                "AliasTarget": {
                    "HostedZoneId": alias["HostedZoneId"],
                    "DNSName": alias["DNSName"],
                    "EvaluateTargetHealth": bool(boolean(alias.get("EvaluateTargetHealth"))),
                }
                if alias
                else None,
            }
        )
    )
    return record


async def zone_of(ctx: ResourceContext, properties: dict[str, Any]) -> str:
    """The zone id a record set names, by `HostedZoneId` or `HostedZoneName`."""
    if properties.get("HostedZoneId"):
        return _zone_id(properties["HostedZoneId"])
    name = properties.get("HostedZoneName")
    if not name:
        raise HandlerError("Exactly one of [HostedZoneId, HostedZoneName] must be specified")
    wanted = name.lower().rstrip(".") + "."
    found = await ctx.call(SERVICE, "ListHostedZonesByName", {"DNSName": wanted})
    zones = [zone for zone in found.get("HostedZones", []) if zone["Name"] == wanted]
    if len(zones) != 1:
        raise HandlerError(
            f"No hosted zone found with name {name}"
            if not zones
            else f"Found more than one hosted zone with name {name}"
        )
    return _zone_id(zones[0]["Id"])


class RecordSet(ResourceHandler):
    type_name = "AWS::Route53::RecordSet"
    service = SERVICE
    required = ("Name", "Type")
    create_only = frozenset({"HostedZoneId", "HostedZoneName", "Name", "Type", "SetIdentifier"})
    primary_identifier = "Id"

    async def create(self, ctx, properties):
        zone_id = await zone_of(ctx, properties)
        await _change(ctx, zone_id, [{"Action": "CREATE", "ResourceRecordSet": record_set(properties)}])
        return Created(properties["Name"].rstrip(".") if properties["Name"] != "." else ".")

    async def update(self, ctx, physical_id, properties, previous, attributes):
        zone_id = await zone_of(ctx, properties)
        await _change(ctx, zone_id, [{"Action": "UPSERT", "ResourceRecordSet": record_set(properties)}])
        return attributes

    async def delete(self, ctx, physical_id, properties):
        try:
            zone_id = await zone_of(ctx, properties)
            await _change(ctx, zone_id, [{"Action": "DELETE", "ResourceRecordSet": record_set(properties)}])
        except HandlerError:
            return  # the zone is gone, and its records with it
        except ServiceError as error:
            if not not_found(error) and error.code != "InvalidChangeBatch":
                raise


class RecordSetGroup(ResourceHandler):
    type_name = "AWS::Route53::RecordSetGroup"
    service = SERVICE
    create_only = frozenset({"HostedZoneId", "HostedZoneName"})
    primary_identifier = "Id"

    @staticmethod
    def _records(properties: dict[str, Any]) -> list[dict[str, Any]]:
        return [record_set(item) for item in properties.get("RecordSets") or []]

    async def create(self, ctx, properties):
        zone_id = await zone_of(ctx, properties)
        await _change(
            ctx, zone_id, [{"Action": "CREATE", "ResourceRecordSet": r} for r in self._records(properties)]
        )
        return Created(ctx.generated_name(255))

    async def update(self, ctx, physical_id, properties, previous, attributes):
        zone_id = await zone_of(ctx, properties)
        new = self._records(properties)
        keys = {(r["Name"], r["Type"], r.get("SetIdentifier")) for r in new}
        changes = [
            {"Action": "DELETE", "ResourceRecordSet": r}
            for r in self._records(previous)
            if (r["Name"], r["Type"], r.get("SetIdentifier")) not in keys
        ]
        changes += [{"Action": "UPSERT", "ResourceRecordSet": r} for r in new]
        await _change(ctx, zone_id, changes)
        return attributes

    async def delete(self, ctx, physical_id, properties):
        try:
            zone_id = await zone_of(ctx, properties)
            await _change(
                ctx,
                zone_id,
                [{"Action": "DELETE", "ResourceRecordSet": r} for r in self._records(properties)],
            )
        except HandlerError:
            return
        except ServiceError as error:
            if not not_found(error) and error.code != "InvalidChangeBatch":
                raise


_CHECK_INTEGERS = ("Port", "RequestInterval", "FailureThreshold", "HealthThreshold")
_CHECK_BOOLEANS = ("Inverted", "Disabled", "EnableSNI", "MeasureLatency")


def _check_config(config: dict[str, Any]) -> dict[str, Any]:
    converted = dict(config)
    for name in _CHECK_INTEGERS:
        if name in converted:
            converted[name] = integer(converted[name])
    for name in _CHECK_BOOLEANS:
        if name in converted:
            converted[name] = boolean(converted[name])
    return converted


class HealthCheck(ResourceHandler):
    type_name = "AWS::Route53::HealthCheck"
    service = SERVICE
    required = ("HealthCheckConfig",)
    attributes = ("HealthCheckId",)
    primary_identifier = "HealthCheckId"

    def needs_replacement(self, properties, previous):
        config = properties.get("HealthCheckConfig") or {}
        before = previous.get("HealthCheckConfig") or {}
        return any(
            config.get(name) != before.get(name) for name in ("Type", "RequestInterval", "MeasureLatency")
        )

    async def create(self, ctx, properties):
        found = await ctx.call(
            SERVICE,
            "CreateHealthCheck",
            {
                "CallerReference": str(uuid.uuid4()),
                "HealthCheckConfig": _check_config(properties["HealthCheckConfig"]),
            },
        )
        check_id = found["HealthCheck"]["Id"]
        await _retag(ctx, "healthcheck", check_id, [], properties.get("HealthCheckTags"))
        return Created(check_id, {"HealthCheckId": check_id})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        config = _check_config(properties["HealthCheckConfig"])
        for name in ("Type", "RequestInterval", "MeasureLatency", "RoutingControlArn"):
            config.pop(name, None)
        await ctx.call(SERVICE, "UpdateHealthCheck", {"HealthCheckId": physical_id, **config})
        await _retag(
            ctx,
            "healthcheck",
            physical_id,
            previous.get("HealthCheckTags"),
            properties.get("HealthCheckTags"),
        )
        return attributes

    async def delete(self, ctx, physical_id, properties):
        try:
            await ctx.call(SERVICE, "DeleteHealthCheck", {"HealthCheckId": physical_id})
        except ServiceError as error:
            if not not_found(error):
                raise

    async def read(self, ctx, physical_id, properties):
        try:
            await ctx.call(SERVICE, "GetHealthCheck", {"HealthCheckId": physical_id})
        except ServiceError as error:
            if not_found(error):
                return None
            raise
        return dict(properties)


HANDLERS = (HostedZone, RecordSet, RecordSetGroup, HealthCheck)
