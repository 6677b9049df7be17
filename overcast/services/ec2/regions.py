"""Regions, Availability Zones and the account attributes EC2 reports (what tools ask before creating)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.services.base import Operations
from overcast.services.ec2 import zones
from overcast.services.ec2.errors import invalid
from overcast.services.ec2.filters import check, matches

if TYPE_CHECKING:
    from overcast.services.ec2.provider import Ec2Provider

REGION_FILTERS = {"endpoint": "Endpoint", "region-name": "RegionName", "opt-in-status": "OptInStatus"}
ZONE_FILTERS = {
    "group-long-name": "GroupLongName",
    "group-name": "GroupName",
    "message": "Messages.Message",
    "network-border-group": "NetworkBorderGroup",
    "opt-in-status": "OptInStatus",
    "region-name": "RegionName",
    "state": "State",
    "zone-id": "ZoneId",
    "zone-name": "ZoneName",
    "zone-type": "ZoneType",
}


class RegionOperations(Operations):
    service: Ec2Provider

    def describe_regions(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        filters = params.get("Filters") or []
        check(filters, REGION_FILTERS)
        names = params.get("RegionNames")
        for name in names or ():
            if name not in zones.REGIONS:
                raise invalid(f"Invalid region: {name}")
        described = [zones.describe_region(name) for name in (names or zones.REGIONS)]
        return {"Regions": [d for d in described if matches(d, filters, REGION_FILTERS)]}

    def describe_availability_zones(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        filters = params.get("Filters") or []
        check(filters, ZONE_FILTERS)
        found = zones.zones(ctx.region)
        wanted = [*(params.get("ZoneNames") or ()), *(params.get("ZoneIds") or ())]
        unknown = [w for w in wanted if zones.zone(ctx.region, w) is None]
        if unknown:
            raise invalid(f"Invalid availability zone: [{unknown[0]}]")
        if wanted:
            found = [z for z in found if z.name in wanted or z.zone_id in wanted]
        described = [zones.describe_zone(z) for z in found]
        return {"AvailabilityZones": [d for d in described if matches(d, filters, ZONE_FILTERS)]}

    def describe_account_attributes(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        default = self.service.net.default_vpc(ctx.account_id, ctx.region)
        values = {
            "supported-platforms": ["VPC"],
            "default-vpc": [default.id if default else "none"],
            "max-instances": ["20"],
            "vpc-max-security-groups-per-interface": ["5"],
            "max-elastic-ips": ["5"],
            "vpc-max-elastic-ips": ["5"],
        }
        wanted = params.get("AttributeNames") or list(values)
        return {
            "AccountAttributes": [
                {"AttributeName": name, "AttributeValues": [{"AttributeValue": v} for v in values[name]]}
                for name in wanted
                if name in values
            ]
        }
