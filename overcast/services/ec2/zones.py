"""Regions and their Availability Zones as DescribeRegions and DescribeAvailabilityZones report them.

AWS maps zone names to zone ids per account; here the mapping is the same for every account, in order
(us-east-1a is use1-az1, us-east-1b is use1-az2, ...), which is a mapping AWS could give.
"""

from __future__ import annotations

from dataclasses import dataclass

# region -> (zone id prefix, zone letters, long name)
REGIONS: dict[str, tuple[str, str, str]] = {
    "us-east-1": ("use1", "abcdef", "US East (N. Virginia)"),
    "us-east-2": ("use2", "abc", "US East (Ohio)"),
    "us-west-1": ("usw1", "ab", "US West (N. California)"),
    "us-west-2": ("usw2", "abcd", "US West (Oregon)"),
    "ca-central-1": ("cac1", "abd", "Canada (Central)"),
    "eu-west-1": ("euw1", "abc", "Europe (Ireland)"),
    "eu-west-2": ("euw2", "abc", "Europe (London)"),
    "eu-west-3": ("euw3", "abc", "Europe (Paris)"),
    "eu-central-1": ("euc1", "abc", "Europe (Frankfurt)"),
    "eu-north-1": ("eun1", "abc", "Europe (Stockholm)"),
    "ap-south-1": ("aps1", "abc", "Asia Pacific (Mumbai)"),
    "ap-southeast-1": ("apse1", "abc", "Asia Pacific (Singapore)"),
    "ap-southeast-2": ("apse2", "abc", "Asia Pacific (Sydney)"),
    "ap-northeast-1": ("apne1", "acd", "Asia Pacific (Tokyo)"),
    "ap-northeast-2": ("apne2", "abcd", "Asia Pacific (Seoul)"),
    "ap-northeast-3": ("apne3", "abc", "Asia Pacific (Osaka)"),
    "sa-east-1": ("sae1", "abc", "South America (Sao Paulo)"),
}
GEOGRAPHY = {
    "us": "United States",
    "ca": "Canada",
    "eu": "Europe",
    "ap": "Asia Pacific",
    "sa": "South America",
}
DEFAULT_ZONES = ("az1", "az2", "az3")  # regions outside the table still get three zones


@dataclass(frozen=True)
class Zone:
    name: str  # us-east-1a
    zone_id: str  # use1-az1
    region: str


def zones(region: str) -> list[Zone]:
    prefix, letters, _ = REGIONS.get(region, (region.replace("-", "")[:5], "abc", region))
    return [Zone(f"{region}{letter}", f"{prefix}-az{i + 1}", region) for i, letter in enumerate(letters)]


def zone(region: str, name_or_id: str) -> Zone | None:
    for candidate in zones(region):
        if name_or_id in (candidate.name, candidate.zone_id):
            return candidate
    return None


def describe_zone(found: Zone) -> dict:
    long_name = REGIONS.get(found.region, ("", "", found.region))[2]
    return {
        "OptInStatus": "opt-in-not-required",
        "Messages": [],
        "RegionName": found.region,
        "ZoneName": found.name,
        "ZoneId": found.zone_id,
        "GroupName": f"{found.region}-zg-1",
        "NetworkBorderGroup": found.region,
        "ZoneType": "availability-zone",
        "GroupLongName": f"{long_name} 1",
        "State": "available",
    }


def describe_region(name: str) -> dict:
    return {"Endpoint": f"ec2.{name}.amazonaws.com", "RegionName": name, "OptInStatus": "opt-in-not-required"}


def private_dns_suffix(region: str) -> str:
    """The private DNS domain of a region's instances: ec2.internal in us-east-1, else <region>.compute.internal."""
    return "ec2.internal" if region == "us-east-1" else f"{region}.compute.internal"


def private_dns_name(ip: str, region: str) -> str:
    return f"ip-{ip.replace('.', '-')}.{private_dns_suffix(region)}"


def public_dns_name(ip: str, region: str) -> str:
    suffix = "compute-1.amazonaws.com" if region == "us-east-1" else f"{region}.compute.amazonaws.com"
    return f"ec2-{ip.replace('.', '-')}.{suffix}"
