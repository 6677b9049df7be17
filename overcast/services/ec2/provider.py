"""The EC2 provider (VPC networking): its operation families and what they share.

Every operation runs through `find_operation`'s wrapper, which does what EC2 does before any operation:
- `DryRun`: the caller was authorized (the policy engine ran before the method), so answer AWS's
  `DryRunOperation` (HTTP 412) without acting; an unauthorized caller already got `UnauthorizedOperation`;
- the region's first use creates its default VPC (AWS accounts come with one in every region);
- work that fell due on the virtual clock (a NAT gateway becoming available, a peering request expiring)
  is applied first, so every answer is exact at the virtual moment it is given.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from overcast.context import RequestContext
from overcast.services.base import ServiceProvider
from overcast.services.ec2 import kinds
from overcast.services.ec2.access_scopes import AccessScopeOperations
from overcast.services.ec2.addresses import AddressOperations
from overcast.services.ec2.dhcp_options import DhcpOptionsOperations
from overcast.services.ec2.endpoints import EndpointOperations
from overcast.services.ec2.errors import dry_run
from overcast.services.ec2.flow_logs import FlowLogOperations
from overcast.services.ec2.gateways import GatewayOperations
from overcast.services.ec2.images import ImageOperations
from overcast.services.ec2.instance_types import InstanceTypeOperations
from overcast.services.ec2.instances import InstanceOperations
from overcast.services.ec2.key_pairs import KeyPairOperations
from overcast.services.ec2.launch_templates import LaunchTemplateOperations
from overcast.services.ec2.metrics import Meter, published
from overcast.services.ec2.nat_gateways import NatGatewayOperations
from overcast.services.ec2.network import Network
from overcast.services.ec2.network_acls import NetworkAclOperations
from overcast.services.ec2.network_insights import NetworkInsightsOperations
from overcast.services.ec2.network_interfaces import NetworkInterfaceOperations
from overcast.services.ec2.peering import PeeringOperations
from overcast.services.ec2.placement_groups import PlacementGroupOperations
from overcast.services.ec2.prefix_lists import PrefixListOperations
from overcast.services.ec2.regions import RegionOperations
from overcast.services.ec2.route_tables import RouteTableOperations
from overcast.services.ec2.sandbox import Sandboxes
from overcast.services.ec2.security_groups import SecurityGroupOperations
from overcast.services.ec2.spot import SpotOperations
from overcast.services.ec2.store import Ec2Store
from overcast.services.ec2.subnets import SubnetOperations
from overcast.services.ec2.tagging import TagOperations
from overcast.services.ec2.transit_gateways import TransitGatewayOperations
from overcast.services.ec2.volumes import VolumeOperations
from overcast.services.ec2.vpcs import VpcOperations
from overcast.services.ec2.vpn import VpnOperations
from overcast.services.ec2.workers import Timers
from overcast.services.kit.metrics import MetricPoint

log = logging.getLogger("overcast.ec2")

# Operations that act on no region's resources: they must not create a default VPC.
_REGIONLESS = frozenset({"DescribeRegions", "DescribeInstanceTypes"})


class Ec2Provider(ServiceProvider):
    service_name = "ec2"
    families = (
        VpcOperations,
        SubnetOperations,
        RegionOperations,
        TagOperations,
        RouteTableOperations,
        GatewayOperations,
        NatGatewayOperations,
        AddressOperations,
        NetworkAclOperations,
        SecurityGroupOperations,
        NetworkInterfaceOperations,
        PeeringOperations,
        EndpointOperations,
        DhcpOptionsOperations,
        PrefixListOperations,
        TransitGatewayOperations,
        FlowLogOperations,
        NetworkInsightsOperations,
        VpnOperations,
        AccessScopeOperations,
        InstanceOperations,
        InstanceTypeOperations,
        ImageOperations,
        KeyPairOperations,
        VolumeOperations,
        LaunchTemplateOperations,
        PlacementGroupOperations,
        SpotOperations,
    )
    # pure reads of the stored rows (the first request in a region writes its defaults: not remembered, being
    # a write): state/answers.py
    remembered = frozenset(
        {"DescribeVpcs", "DescribeSubnets", "DescribeSecurityGroups", "DescribeSecurityGroupRules",
         "DescribeRouteTables", "DescribeNetworkAcls", "DescribeInternetGateways", "DescribeDhcpOptions",
         "DescribeRegions", "DescribeAvailabilityZones"}
    )  # fmt: skip

    def __init__(self, platform) -> None:
        super().__init__(platform)
        self.store = Ec2Store(self.db)
        self.net = Network(self.store, self.tags, self.clock)
        self.timers = Timers(self.net, self.db, self.clock)
        self.sandboxes = Sandboxes(platform)
        self.meter = Meter()
        self.instances = self.family(InstanceOperations)
        self.images = self.family(ImageOperations)
        self.key_pairs = self.family(KeyPairOperations)
        self.volumes = self.family(VolumeOperations)
        self.launch_templates = self.family(LaunchTemplateOperations)
        self.placement_groups = self.family(PlacementGroupOperations)
        self.spot = self.family(SpotOperations)
        self.network_interfaces = self.family(NetworkInterfaceOperations)
        self.net.instance_state = self.instances.set_state
        self.net.rules_changed = self.sandboxes.ports_changed_after_commit

    async def start(self) -> None:
        ended = self.sandboxes.sweep()
        if ended:
            log.info("EC2: ended %d sandbox process(es) left by an earlier run", ended)
        links = await asyncio.to_thread(self.sandboxes.sweep_host_links)
        if links:
            log.info("EC2: removed the host link(s) %s left by an earlier run", ", ".join(links))
        self.platform.spawn(self.timers.run())
        self.platform.spawn(self._boot_running())

    async def _boot_running(self) -> None:
        """After a restart, the instances that were running run again (their user data does not)."""
        with self.db.transaction():
            running = [
                self.sandboxes._boot_info(i)
                for i in self.store.of_kind(kinds.INSTANCE.name)
                if i.body["State"]["Name"] in ("pending", "running")
            ]
        for info in running:
            await self.sandboxes.boot(info)

    async def stop(self) -> None:
        self.sandboxes.stop_all()

    def published_metrics(self, minutes: list[float]) -> list[MetricPoint]:
        """AWS/EC2 per running instance and per Auto Scaling group (ec2/metrics.py)."""
        return published(self, minutes)

    def find_operation(self, operation: str) -> Callable | None:
        method = super().find_operation(operation)
        if method is None:
            return None
        prepare = self.prepare

        def run(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
            if params.get("DryRun"):
                raise dry_run()
            prepare(ctx)
            return method(ctx, params)

        return run

    def prepare(self, ctx: RequestContext) -> None:
        """What precedes every operation: the region's defaults, and the work due on the clock."""
        if ctx.operation not in _REGIONLESS:
            self.net.ensure_region(ctx.account_id, ctx.region)
        self.timers.settle()

    async def internal_endpoint(self, request, path: str):
        """`/_overcast/ec2/instances/<id>/http/<port>/<path>`: an HTTP request from the host to a port of a
        running instance, as from the internet (the reachability engine decides, from the VPC's internet
        gateway: a public address, routes, network ACLs and security groups), answered by what listens in
        the instance's sandbox."""
        from overcast.http import HttpResponse, json_response

        parts = path.split("/")  # ['', '_overcast', 'ec2', 'instances', id, 'http', port, ...]
        if len(parts) < 7 or parts[3] != "instances" or parts[5] != "http" or not parts[6].isdigit():
            return None
        instance_id, port = parts[4], int(parts[6])
        verdict = self.reach_from_internet(instance_id, port)
        if verdict is not None:
            return json_response({"error": "unreachable", "explanations": verdict}, 504)
        connection = await self.sandboxes.connect(instance_id, port)
        if connection is None:
            return json_response({"error": f"connection refused: nothing listens on port {port}"}, 502)
        reader, writer = connection
        target = "/" + "/".join(parts[7:]) + (f"?{request.query}" if request.query else "")
        writer.write(f"{request.method} {target} HTTP/1.0\r\nHost: {instance_id}\r\n"
                     f"Content-Length: {len(request.body)}\r\n\r\n".encode() + bytes(request.body))  # fmt: skip
        await writer.drain()
        try:
            raw = await asyncio.wait_for(reader.read(-1), 30)
        finally:
            writer.close()
        head, _, body = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        try:
            status = int(lines[0].split()[1])
        except (IndexError, ValueError):
            return json_response({"error": "the instance's answer is not HTTP"}, 502)
        headers = [tuple(x.strip() for x in line.split(":", 1)) for line in lines[1:] if ":" in line]
        keep = [(k.lower(), v) for k, v in headers if k.lower() in ("content-type", "location")]
        return HttpResponse(status, keep, body)

    def reach_from_internet(self, instance_id: str, port: int) -> list[dict[str, Any]] | None:
        """None when the internet reaches the instance's (or network interface's) port, else AWS's
        explanations of why not."""
        from overcast.services.ec2 import api

        ends = (kinds.INSTANCE.name, kinds.NETWORK_INTERFACE.name)
        with self.db.transaction():
            instance = self.store.get(instance_id)
            if instance is None or instance.kind not in ends or not instance.vpc_id:
                return [{"ExplanationCode": "INSTANCE_NOT_FOUND"}]
            igw = self.net.internet_gateway_of(instance.vpc_id)
        if igw is None:
            return [{"ExplanationCode": "NO_INTERNET_GATEWAY", "Vpc": {"Id": instance.vpc_id}}]
        verdict = api.reachable(self.platform, igw.id, instance_id, "tcp", port)
        return None if verdict.reachable else verdict.explanations

    def schedule(self, resource_id: str, action: str, delay: float) -> None:
        """Do `action` to a resource `delay` virtual seconds from now (workers.TRANSITIONS)."""
        due = self.clock.now() + delay
        self.store.schedule(resource_id, action, due)
        self.timers.scheduled(due)

    def reset(self) -> None:
        self.sandboxes.reset()
        self.net.reset()
        self.timers.reset()
