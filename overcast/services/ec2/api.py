"""What other code may ask of EC2's VPC networking besides its AWS operations (docs/adding-a-service.md).

    import overcast.services.ec2.api as ec2

    eni = ec2.create_interface(platform, account, region, subnet_id, ["sg-..."], description="ELB app/my-lb")
    verdict = ec2.reachable(platform, eni["NetworkInterfaceId"], "eni-...", "tcp", 80)
    if verdict.reachable: ...

Every function runs in its own transaction (a savepoint inside the caller's, when there is one) and takes the
account and region the resources live in. Interfaces, addresses and verdicts are what the instances families
(issue 17, in this package: they may use `provider.net` directly, see `Network`), load balancers, RDS, Lambda
functions in a VPC and ECS tasks need:

- `subnet`, `security_groups_of`, `default_subnet`: look things up (None when missing);
- `allocate_private_ip` / `release_private_ip`: a free address of a subnet (never one of the 5 reserved; the
  subnet's AvailableIpAddressCount falls and rises with them);
- `create_interface` (requester-managed when `requester_id` is given, as load balancers' and Lambda's are),
  `attach_interface`, `detach_interface`, `delete_interface`;
- `assign_public_ip` / `release_public_ip`: the auto-assigned public IPv4 of an instance's primary interface
  (MapPublicIpOnLaunch), which changes on stop/start while an Elastic IP stays;
- `endpoint_policy`: the policy of the VPC endpoint a call from an interface to an AWS service goes through,
  for the policy engine to evaluate on calls made from inside a VPC;
- `reachable`: the Reachability Analyzer's verdict on traffic from an interface (or instance, IGW, NAT gateway)
  to another or to an address, on a protocol and port: routes, NACLs both ways, security groups;
- `instances`, `connect`: instances' descriptions, and a connection to a port of a running instance's sandbox
  (load balancers' targets and health checks);
- `act_for_service`, `tag_as_aws`: EC2 operations made by an AWS service with its service-linked role (Auto
  Scaling), and the `aws:` tags AWS puts on resources;
- `public_image_parameters`: the SSM public parameters that name the public AMIs (for SSM's GetParameter).

Instances are rows of `ec2_resources` of kind "instance" (store them with `provider.store.insert`): an
instance's interfaces are those whose attachment names it, and its primary one (device index 0) is what
Elastic IPs, routes with an InstanceId and paths naming the instance use.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from overcast.errors import ServiceError
from overcast.services.ec2 import kinds, topology, zones
from overcast.services.ec2 import reachability as r
from overcast.services.ec2.shapes import public

if TYPE_CHECKING:
    from overcast.platform import Platform
    from overcast.services.ec2.provider import Ec2Provider
    from overcast.services.ec2.store import Resource

Verdict = r.Verdict


def provider(platform: Platform) -> Ec2Provider:
    return platform.provider("ec2")  # type: ignore[return-value]


def build(platform: Platform) -> None:
    """Build EC2 now, outside any transaction (its tables are made then): from another service's __init__."""
    provider(platform)


def prepare(platform: Platform, account: str, region: str) -> None:
    """Build EC2 now (its tables are made outside any request's transaction) and set up a region's defaults."""
    ec2 = provider(platform)
    with platform.db.transaction():
        ec2.net.ensure_region(account, region)


def _get(platform: Platform, kind: kinds.Kind, resource_id: str, account: str, region: str) -> Resource:
    found = provider(platform).store.get(resource_id)
    if found is None or found.kind != kind.name or (found.account, found.region) != (account, region):
        raise kind.not_found([resource_id])
    return found


def subnet(platform: Platform, account: str, region: str, subnet_id: str) -> dict[str, Any] | None:
    """A subnet's description (DescribeSubnets' shape), or None."""
    ec2 = provider(platform)
    with platform.db.transaction():
        found = ec2.store.get(subnet_id)
        if (
            found is None
            or found.kind != kinds.SUBNET.name
            or (found.account, found.region) != (account, region)
        ):
            return None
        return ec2.net.render(found)


def default_subnet(platform: Platform, account: str, region: str, zone: str | None = None) -> str | None:
    """The default VPC's default subnet in a zone (the first zone's when none is given), or None."""
    ec2 = provider(platform)
    with platform.db.transaction():
        ec2.net.ensure_region(account, region)
        vpc = ec2.net.default_vpc(account, region)
        if vpc is None:
            return None
        wanted = zone or zones.zones(region)[0].name
        for found in ec2.store.in_vpc(vpc.id, kinds.SUBNET.name):
            if found.body["DefaultForAz"] and found.body["AvailabilityZone"] == wanted:
                return found.id
        return None


def allocate_private_ip(
    platform: Platform, account: str, region: str, subnet_id: str, holder: str, address: str | None = None
) -> str:
    """A private address of the subnet for `holder` (any id): the one asked for, or the lowest free one.
    Raises AWS's errors (InvalidParameterValue for a reserved or outside address, InvalidIPAddress.InUse,
    InsufficientFreeAddressesInSubnet)."""
    ec2 = provider(platform)
    with platform.db.transaction():
        return ec2.net.allocate_ip(_get(platform, kinds.SUBNET, subnet_id, account, region), holder, address)


def release_private_ip(platform: Platform, subnet_id: str, address: str) -> None:
    with platform.db.transaction():
        provider(platform).store.release_ip(subnet_id, int(ipaddress.ip_address(address)))


def create_interface(
    platform: Platform,
    account: str,
    region: str,
    subnet_id: str,
    group_ids: list[str] | None = None,
    *,
    description: str = "",
    private_ip: str | None = None,
    interface_type: str = "interface",
    requester_id: str | None = None,
    secondary_count: int = 0,
) -> dict[str, Any]:
    """A new interface in the subnet with the groups named (the VPC's default group when none), its
    description (DescribeNetworkInterfaces' shape)."""
    ec2 = provider(platform)
    with platform.db.transaction():
        where = _get(platform, kinds.SUBNET, subnet_id, account, region)
        groups = [_get(platform, kinds.SECURITY_GROUP, g, account, region) for g in group_ids or ()]
        for group in groups:
            if group.vpc_id != where.vpc_id:
                raise ServiceError(
                    "InvalidParameter",
                    f"Security group {group.id} and subnet {where.id} belong to different networks.",
                )
        if not groups:
            groups = [
                g
                for g in ec2.store.in_vpc(where.vpc_id or "", kinds.SECURITY_GROUP.name)
                if g.name == "default"
            ]
        eni = ec2.net.create_interface(
            where, groups=groups, description=description, private_ip=private_ip, interface_type=interface_type,
            requester_id=requester_id, secondary_count=secondary_count,
        )  # fmt: skip
        return ec2.net.render(eni)


def attach_interface(
    platform: Platform,
    eni_id: str,
    instance_id: str,
    device_index: int,
    *,
    delete_on_termination: bool = False,
) -> str:
    """Attach an interface to an instance; the attachment id (eni-attach-...)."""
    ec2 = provider(platform)
    with platform.db.transaction():
        eni = ec2.store.get(eni_id)
        if eni is None:
            raise kinds.NETWORK_INTERFACE.not_found([eni_id])
        return ec2.net.attach_interface(
            eni, instance_id, device_index, delete_on_termination=delete_on_termination
        )


def detach_interface(platform: Platform, eni_id: str) -> None:
    ec2 = provider(platform)
    with platform.db.transaction():
        eni = ec2.store.get(eni_id)
        if eni is not None:
            ec2.net.detach_interface(eni)


def delete_interface(platform: Platform, eni_id: str) -> None:
    """Delete an interface, freeing its addresses and Elastic IP association; routes to it turn blackhole."""
    ec2 = provider(platform)
    with platform.db.transaction():
        eni = ec2.store.get(eni_id)
        if eni is None:
            return
        association = eni.body.get("Association") or {}
        if association.get("AllocationId"):
            address = ec2.store.get(association["AllocationId"])
            if address is not None:
                ec2.net.disassociate_address(address)
        elif association.get("PublicIp"):
            ec2.store.release_public(association["PublicIp"])
        ec2.net.delete_interface(eni)


def assign_public_ip(platform: Platform, eni_id: str) -> str:
    """Give an interface's primary address an auto-assigned public IPv4 (owned by Amazon, not an Elastic IP);
    the address. An interface holding an Elastic IP keeps it."""
    ec2 = provider(platform)
    with platform.db.transaction():
        eni = ec2.store.get(eni_id)
        if eni is None:
            raise kinds.NETWORK_INTERFACE.not_found([eni_id])
        current = eni.body.get("Association")
        if current:
            return current["PublicIp"]
        address = ec2.net.claim_public_ip(eni.id)
        mapping = {
            "IpOwnerId": "amazon",
            "PublicDnsName": zones.public_dns_name(address, eni.region),
            "PublicIp": address,
        }
        ec2.net.set_public_mapping(eni, eni.body["PrivateIpAddress"], mapping)
        return address


def release_public_ip(platform: Platform, eni_id: str) -> None:
    """Take back an auto-assigned public IPv4 (on stop or terminate); an Elastic IP stays."""
    ec2 = provider(platform)
    with platform.db.transaction():
        eni = ec2.store.get(eni_id)
        current = (eni.body.get("Association") or {}) if eni else {}
        if eni is None or not current or current.get("AllocationId"):
            return
        ec2.store.release_public(current["PublicIp"])
        ec2.net.set_public_mapping(eni, eni.body["PrivateIpAddress"], None)


def security_groups_of(platform: Platform, eni_id: str) -> list[dict[str, Any]]:
    """The groups of an interface, described as DescribeSecurityGroups describes them (with their rules)."""
    ec2 = provider(platform)
    with platform.db.transaction():
        eni = ec2.store.get(eni_id)
        if eni is None:
            return []
        groups = [ec2.store.get(g["GroupId"]) for g in eni.body["Groups"]]
        return [ec2.net.render(g) for g in groups if g is not None]


def interface(platform: Platform, eni_id: str) -> dict[str, Any] | None:
    ec2 = provider(platform)
    with platform.db.transaction():
        eni = ec2.store.get(eni_id)
        return public(eni.body) if eni is not None else None


def reachable(
    platform: Platform,
    source: str,
    destination: str | None,
    protocol: str = "tcp",
    port: int | None = None,
    *,
    source_ip: str | None = None,
    destination_ip: str | None = None,
) -> Verdict:
    """Whether traffic flows from `source` (an interface, instance, internet gateway, NAT gateway or endpoint id)
    to `destination` (the same kinds, or None with `destination_ip`) on `protocol` ("tcp", "udp", "-1") and
    `port`: `Verdict.reachable`, with the path (`forward`, `back`) or AWS's `explanations`. Raises KeyError
    when an end does not exist."""
    ec2 = provider(platform)
    with platform.db.transaction():
        query = r.Query(source, destination, protocol, port, source_ip, destination_ip)
        return topology.verdict(ec2.net, query)


def endpoint_policy(platform: Platform, eni_id: str, service: str) -> str | None:
    """The policy of the VPC endpoint that calls from an interface to an AWS service (`s3`, `sqs`, ...) go
    through, or None when they go to the service's public endpoint: a gateway endpoint whose route the
    interface's subnet route table holds, else an interface endpoint of the service in its VPC with private DNS
    on. The policy engine evaluates it with the caller's policies for calls made from inside the VPC (issue 17's
    instances), as AWS does for calls through an endpoint."""
    ec2 = provider(platform)
    with platform.db.transaction():
        eni = ec2.store.get(eni_id)
        if eni is None or eni.kind != kinds.NETWORK_INTERFACE.name:
            return None
        name = f"com.amazonaws.{eni.region}.{service}"
        endpoints = [e for e in ec2.store.in_vpc(eni.vpc_id or "", kinds.VPC_ENDPOINT.name)
                     if e.body["ServiceName"] == name and e.body["State"] == "available"]  # fmt: skip
        association = ec2.net.subnet_association(eni.subnet_id or "")
        table_id = (
            association.parent_id if association else ec2.net.main_association(eni.vpc_id or "").parent_id
        )
        for endpoint in endpoints:
            if endpoint.body["VpcEndpointType"] == "Gateway" and table_id in endpoint.body["RouteTableIds"]:
                return endpoint.body["PolicyDocument"]
        for endpoint in endpoints:
            if endpoint.body["VpcEndpointType"] == "Interface" and endpoint.body["PrivateDnsEnabled"]:
                return endpoint.body["PolicyDocument"]
        return None


def instances(platform: Platform, account: str, region: str, ids: list[str]) -> dict[str, dict[str, Any]]:
    """{instance id: its description (DescribeInstances' shape)} for those of `ids` that exist (Auto Scaling's
    health checks and balancing read them)."""
    ec2 = provider(platform)
    with platform.db.transaction():
        found = [ec2.store.get(i) for i in ids]
        rows = [f for f in found if f is not None and f.kind == kinds.INSTANCE.name and f.account == account
                and f.region == region]  # fmt: skip
        return {
            row.id: public(described) for row, described in zip(rows, ec2.net.render_many(rows), strict=True)
        }


def tag_as_aws(platform: Platform, account: str, region: str, resource_id: str, tags: dict[str, str]) -> None:
    """Tags AWS puts on a resource itself (`aws:autoscaling:groupName`, `aws:ec2launchtemplate:id`): keys
    with the `aws:` prefix users may not write."""
    import dataclasses

    from overcast.services.ec2.network import TAG_RULES

    ec2 = provider(platform)
    with platform.db.transaction():
        found = ec2.store.get(resource_id)
        if found is None or (found.account, found.region) != (account, region):
            return
        arn = ec2.net.arn(found)
        ec2.tags.add(
            arn, tags, dataclasses.replace(TAG_RULES, reserved_prefix=None), account=account, region=region
        )


def act_for_service(
    platform: Platform, service_host: str, account: str, region: str, operation: str, params: dict[str, Any]
) -> dict[str, Any]:
    """An EC2 operation made by an AWS service with its service-linked role (Auto Scaling's
    AWSServiceRoleForAutoScaling, whose AWS managed policy allows what it does to instances): validated as any
    call, answered as any call, but not put to the policy engine (the role's permissions are AWS's)."""
    from overcast.context import RequestContext
    from overcast.identity import service_principal
    from overcast.platform import new_request_id
    from overcast.protocol.models import get_service_model
    from overcast.protocol.validate import validate

    validate(get_service_model("ec2").operation_model(operation), params)
    ec2 = provider(platform)
    entry = ec2.handler(operation)
    assert entry is not None, operation
    ctx = RequestContext("ec2", operation, account, region, service_principal(service_host, account),
                         new_request_id())  # fmt: skip
    with platform.db.transaction():
        return entry[0](ctx, params)


def public_image_parameters(region: str) -> dict[str, str]:
    """{SSM public parameter name: AMI id} of the public images of a region
    (`/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64` ...), for SSM's GetParameter(s)."""
    from overcast.services.ec2.images import ssm_parameters

    return ssm_parameters(region)


async def connect(platform: Platform, instance_id: str, port: int) -> tuple[Any, Any] | None:
    """A TCP connection (asyncio reader, writer) to a port of a running instance's sandbox, made from inside
    its network, or None when it has no sandbox or nothing listens there (for load balancers' targets and
    health checks; decide reachability first with `reachable`)."""
    return await provider(platform).sandboxes.connect(instance_id, port)


def instance_at(platform: Platform, vpc_id: str, address: str) -> str | None:
    """The id of the instance whose interface holds the private `address` in the VPC, or None (load balancers'
    `ip` targets that are instances' addresses)."""
    ec2 = provider(platform)
    try:
        ip = int(ipaddress.ip_address(address))
    except ValueError:
        return None
    with platform.db.transaction():
        for subnet_id, holder in ec2.store.holders_of_ip(ip):
            subnet, eni = ec2.store.get(subnet_id), ec2.store.get(holder)
            if subnet is None or subnet.vpc_id != vpc_id or eni is None:
                continue
            attachment = eni.body.get("Attachment") or {}
            if eni.kind == kinds.NETWORK_INTERFACE.name and attachment.get("InstanceId"):
                return attachment["InstanceId"]
        return None
