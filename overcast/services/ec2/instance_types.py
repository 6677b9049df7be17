"""Instance types as AWS describes them (DescribeInstanceTypes): a catalogue of the common ones with AWS's
published figures (vCPUs, memory, network performance and interface limits, EBS bandwidth/IOPS/throughput),
and DescribeInstanceTypes / DescribeInstanceTypeOfferings over it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.services.base import Operations
from overcast.services.ec2 import zones
from overcast.services.ec2.errors import invalid
from overcast.services.ec2.filters import check, matches

if TYPE_CHECKING:
    from overcast.services.ec2.provider import Ec2Provider


@dataclass(frozen=True)
class Type:
    name: str
    vcpus: int
    memory_mib: int
    network: str  # NetworkPerformance
    max_interfaces: int
    ipv4_per_interface: int
    arch: str = "x86_64"
    nitro: bool = True
    burstable: bool = False
    free_tier: bool = False
    # EBS-optimized figures: baseline/max bandwidth (Mbps), IOPS, throughput (MB/s); None: not EBS-optimized
    ebs: tuple[int, int, int, int, float, float] | None = None
    cores: int = 0  # physical cores (vCPUs / 2 by default)
    clock_ghz: float = 0.0

    @property
    def default_cores(self) -> int:
        return self.cores or max(1, self.vcpus // 2)

    @property
    def threads_per_core(self) -> int:
        return self.vcpus // self.default_cores


TYPES: dict[str, Type] = {
    t.name: t
    for t in (
        Type("t2.nano", 1, 512, "Low to Moderate", 2, 2, nitro=False, burstable=True, cores=1, clock_ghz=2.4),
        Type("t2.micro", 1, 1024, "Low to Moderate", 2, 2, nitro=False, burstable=True, free_tier=True, cores=1,
             clock_ghz=2.5),
        Type("t2.small", 1, 2048, "Low to Moderate", 3, 4, nitro=False, burstable=True, cores=1, clock_ghz=2.5),
        Type("t2.medium", 2, 4096, "Low to Moderate", 3, 6, nitro=False, burstable=True, cores=2, clock_ghz=2.3),
        Type("t3.nano", 2, 512, "Up to 5 Gigabit", 2, 2, burstable=True, ebs=(32, 2085, 250, 11800, 4.0, 260.625),
             cores=1, clock_ghz=2.5),
        Type("t3.micro", 2, 1024, "Up to 5 Gigabit", 2, 2, burstable=True, free_tier=True,
             ebs=(87, 2085, 500, 11800, 10.875, 260.625), cores=1, clock_ghz=2.5),
        Type("t3.small", 2, 2048, "Up to 5 Gigabit", 3, 4, burstable=True, free_tier=True,
             ebs=(174, 2085, 1000, 11800, 21.75, 260.625), cores=1, clock_ghz=2.5),
        Type("t3.medium", 2, 4096, "Up to 5 Gigabit", 3, 6, burstable=True,
             ebs=(347, 2085, 2000, 11800, 43.375, 260.625), cores=1, clock_ghz=2.5),
        Type("t3.large", 2, 8192, "Up to 5 Gigabit", 3, 12, burstable=True,
             ebs=(695, 2780, 4000, 15700, 86.875, 347.5), cores=1, clock_ghz=2.5),
        Type("t4g.micro", 2, 1024, "Up to 5 Gigabit", 2, 2, arch="arm64", burstable=True, free_tier=True,
             ebs=(87, 2085, 500, 11800, 10.875, 260.625), cores=2, clock_ghz=2.5),
        Type("t4g.small", 2, 2048, "Up to 5 Gigabit", 3, 4, arch="arm64", burstable=True, free_tier=True,
             ebs=(174, 2085, 1000, 11800, 21.75, 260.625), cores=2, clock_ghz=2.5),
        Type("m5.large", 2, 8192, "Up to 10 Gigabit", 3, 10, ebs=(650, 4750, 3600, 18750, 81.25, 593.75),
             cores=1, clock_ghz=3.1),
        Type("m5.xlarge", 4, 16384, "Up to 10 Gigabit", 4, 15, ebs=(1150, 4750, 6000, 18750, 143.75, 593.75),
             cores=2, clock_ghz=3.1),
        Type("c5.large", 2, 4096, "Up to 10 Gigabit", 3, 10, ebs=(650, 4750, 4000, 20000, 81.25, 593.75),
             cores=1, clock_ghz=3.4),
        Type("r5.large", 2, 16384, "Up to 10 Gigabit", 3, 10, ebs=(650, 4750, 3600, 18750, 81.25, 593.75),
             cores=1, clock_ghz=3.1),
        Type("m6g.large", 2, 8192, "Up to 10 Gigabit", 3, 10, arch="arm64",
             ebs=(630, 4750, 3600, 20000, 78.75, 593.75), cores=2, clock_ghz=2.5),
        Type("m7i.large", 2, 8192, "Up to 12.5 Gigabit", 3, 10, ebs=(650, 10000, 3600, 40000, 81.25, 1250.0),
             cores=1, clock_ghz=3.2),
    )
}  # fmt: skip


_SIZES = {"nano": 2, "micro": 2, "small": 2, "medium": 2, "large": 2, "xlarge": 4, "metal": 96}
_MEMORY_PER_VCPU = {"c": 2048, "m": 4096, "r": 8192, "x": 16384, "z": 8192, "t": 2048}


def lookup(name: str) -> Type | None:
    """A type RunInstances accepts: one of the catalogue, else one of EC2's other names (botocore's list,
    checked by the protocol layer) with figures from AWS's naming: vCPUs from the size (large = 2, xlarge = 4,
    Nxlarge = 4N), Graviton (arm64) for the families with a "g" after the generation."""
    if name in TYPES:
        return TYPES[name]
    family, _, size = name.partition(".")
    vcpus = _SIZES.get(size) or (4 * int(size[:-6]) if size.endswith("xlarge") and size[:-6].isdigit() else 0)
    if not family or not vcpus:
        return None
    generation = family.lstrip("abcdefghijklmnopqrstuvwxyz-")
    arch = "arm64" if family.startswith("a1") or generation[1:2] == "g" else "x86_64"
    memory = vcpus * _MEMORY_PER_VCPU.get(family[0], 4096)
    return Type(name, vcpus, memory, "Up to 10 Gigabit", 4, 15, arch=arch, cores=max(1, vcpus // 2))


def describe(t: Type) -> dict[str, Any]:
    """An instance type as DescribeInstanceTypes gives it."""
    architectures = ["i386", "x86_64"] if t.name.startswith("t2.") else [t.arch]
    ebs: dict[str, Any] = {
        "EbsOptimizedSupport": "default" if t.ebs else "unsupported",
        "EncryptionSupport": "supported",
        "NvmeSupport": "required" if t.nitro else "unsupported",
    }
    if t.ebs:
        bw, max_bw, iops, max_iops, mbs, max_mbs = t.ebs
        ebs["EbsOptimizedInfo"] = {
            "BaselineBandwidthInMbps": bw,
            "BaselineThroughputInMBps": mbs,
            "BaselineIops": iops,
            "MaximumBandwidthInMbps": max_bw,
            "MaximumThroughputInMBps": max_mbs,
            "MaximumIops": max_iops,
        }
    described: dict[str, Any] = {
        "InstanceType": t.name,
        "CurrentGeneration": True,
        "FreeTierEligible": t.free_tier,
        "SupportedUsageClasses": ["on-demand", "spot"],
        "SupportedRootDeviceTypes": ["ebs"],
        "SupportedVirtualizationTypes": ["hvm"],
        "BareMetal": False,
        "Hypervisor": "nitro" if t.nitro else "xen",
        "ProcessorInfo": {
            "SupportedArchitectures": architectures,
            "SustainedClockSpeedInGhz": t.clock_ghz,
            "Manufacturer": "AWS" if t.arch == "arm64" else "Intel",
        },
        "VCpuInfo": {
            "DefaultVCpus": t.vcpus,
            "DefaultCores": t.default_cores,
            "DefaultThreadsPerCore": t.threads_per_core,
        },
        "MemoryInfo": {"SizeInMiB": t.memory_mib},
        "InstanceStorageSupported": False,
        "EbsInfo": ebs,
        "NetworkInfo": {
            "NetworkPerformance": t.network,
            "MaximumNetworkInterfaces": t.max_interfaces,
            "MaximumNetworkCards": 1,
            "DefaultNetworkCardIndex": 0,
            "NetworkCards": [
                {
                    "NetworkCardIndex": 0,
                    "NetworkPerformance": t.network,
                    "MaximumNetworkInterfaces": t.max_interfaces,
                }
            ],
            "Ipv4AddressesPerInterface": t.ipv4_per_interface,
            "Ipv6AddressesPerInterface": t.ipv4_per_interface,
            "Ipv6Supported": True,
            "EnaSupport": "required" if t.nitro else "unsupported",
            "EfaSupported": False,
            "EncryptionInTransitSupported": False,
            "EnaSrdSupported": False,
        },
        "PlacementGroupInfo": {"SupportedStrategies": ["partition", "spread"] if t.burstable
                               else ["cluster", "partition", "spread"]},
        "HibernationSupported": True,
        "BurstablePerformanceSupported": t.burstable,
        "DedicatedHostsSupported": not t.burstable,
        "AutoRecoverySupported": True,
        "SupportedBootModes": ["legacy-bios"] if not t.nitro else (["uefi"] if t.arch == "arm64"
                                                                    else ["legacy-bios", "uefi"]),
        "NitroEnclavesSupport": "unsupported",
        "NitroTpmSupport": "supported" if t.nitro else "unsupported",
        "PhcSupport": "unsupported",
    }  # fmt: skip
    if t.nitro:
        described["NitroTpmInfo"] = {"SupportedVersions": ["2.0"]}
    return described


TYPE_FILTERS = {
    "instance-type": "InstanceType",
    "current-generation": "CurrentGeneration",
    "free-tier-eligible": "FreeTierEligible",
    "hypervisor": "Hypervisor",
    "processor-info.supported-architecture": "ProcessorInfo.SupportedArchitectures",
    "vcpu-info.default-vcpus": "VCpuInfo.DefaultVCpus",
    "memory-info.size-in-mib": "MemoryInfo.SizeInMiB",
    "network-info.network-performance": "NetworkInfo.NetworkPerformance",
    "burstable-performance-supported": "BurstablePerformanceSupported",
    "bare-metal": "BareMetal",
    "supported-usage-class": "SupportedUsageClasses",
    "supported-virtualization-type": "SupportedVirtualizationTypes",
    "ebs-info.ebs-optimized-support": "EbsInfo.EbsOptimizedSupport",
    "network-info.ena-support": "NetworkInfo.EnaSupport",
    "instance-storage-supported": "InstanceStorageSupported",
}
OFFERING_FILTERS = {"instance-type": "InstanceType", "location": "Location"}


class InstanceTypeOperations(Operations):
    service: Ec2Provider

    def describe_instance_types(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        filters = params.get("Filters") or []
        check(filters, TYPE_FILTERS)
        names = params.get("InstanceTypes")
        if names:
            unknown = [n for n in names if n not in TYPES]
            if unknown:
                raise invalid(f"The following supplied instance types do not exist: [{', '.join(unknown)}]")
            chosen = [TYPES[n] for n in dict.fromkeys(names)]
        else:
            chosen = list(TYPES.values())
        described = [d for d in map(describe, chosen) if matches(d, filters, TYPE_FILTERS)]
        return _paged(params, described, "InstanceTypes")

    def describe_instance_type_offerings(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        filters = params.get("Filters") or []
        check(filters, OFFERING_FILTERS)
        location_type = params.get("LocationType") or "region"
        if location_type == "region":
            locations = [ctx.region]
        elif location_type == "availability-zone":
            locations = [z.name for z in zones.zones(ctx.region)]
        elif location_type == "availability-zone-id":
            locations = [z.zone_id for z in zones.zones(ctx.region)]
        else:
            raise invalid(f"The location type '{location_type}' is invalid")
        offerings = [
            {"InstanceType": name, "LocationType": location_type, "Location": location}
            for location in locations
            for name in TYPES
        ]
        return _paged(params, [o for o in offerings if matches(o, filters, OFFERING_FILTERS)],
                      "InstanceTypeOfferings")  # fmt: skip


def _paged(params: dict[str, Any], items: list[dict[str, Any]], key: str) -> dict[str, Any]:
    """A page of a fixed catalogue: NextToken is the offset, as text."""
    start = int(params["NextToken"]) if str(params.get("NextToken") or "").isdigit() else 0
    limit = params.get("MaxResults") or len(items) or 1
    page = items[start : start + limit]
    result: dict[str, Any] = {key: page}
    if start + limit < len(items):
        result["NextToken"] = str(start + limit)
    return result
