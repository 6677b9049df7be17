"""Targets that are EC2 instances (issue 17's sandboxes): `instance` targets, and `ip` targets whose address is an
instance's private IP in the load balancer's VPC. AWS's load balancers reach them from their own network
interfaces in the VPC (one per subnet, requester-managed, with the load balancer's security groups), so the
instance's security groups must let those in: here EC2's reachability engine decides (security groups, network
ACLs, routes) from the load balancer's interface, and the connection is made into the instance's sandbox."""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import overcast.services.ec2.api as ec2
from overcast.errors import ServiceError
from overcast.services import is_available

if TYPE_CHECKING:
    from overcast.platform import Platform
    from overcast.services.elbv2.store import LoadBalancer

INTERFACES = (
    "_Interfaces"  # the load balancer's document keeps its interfaces' ids under this (never described)
)
REUSE_SECONDS = 1.0  # real seconds the data plane reuses a verdict (security groups may change at any moment)


@dataclass(frozen=True)
class Reach:
    instance_id: str
    address: str  # the instance's private IP
    state: str  # the instance's state name (running, stopping, stopped...)


@lru_cache(maxsize=4096)
def is_instance_address(target_type: str, target_id: str) -> bool:
    """Whether a target is reached in an instance's sandbox rather than on this machine's loopback."""
    if target_type == "instance":
        return True
    if target_type != "ip":
        return False
    try:
        return not ipaddress.ip_address(target_id).is_loopback
    except ValueError:
        return False


# -- the load balancer's interfaces ------------------------------------------------------------------------------


def create_interfaces(platform: Platform, lb: LoadBalancer, groups: list[str] | None) -> None:
    """One requester-managed interface per subnet (`ELB app/<name>/<id>`), with the load balancer's groups (the
    VPC's default group when none is given: the load balancer then reports it). Only once EC2 runs."""
    if not is_available("ec2"):
        return
    kind = {"application": "app", "network": "net", "gateway": "gwy"}[lb.type]
    description = f"ELB {kind}/{lb.name}/{lb.arn.rsplit('/', 1)[1]}"
    made: list[str] = []
    for zone in lb.doc["AvailabilityZones"]:
        try:
            eni = ec2.create_interface(platform, lb.account, lb.region, zone["SubnetId"], groups or None,
                                       description=description, requester_id="amazon-elb")  # fmt: skip
        except ServiceError as error:
            for eni_id in made:
                ec2.delete_interface(platform, eni_id)
            if error.code.startswith("InvalidGroup"):
                missing = next((g for g in groups or () if g in error.message), (groups or [""])[0])
                raise ServiceError(
                    "InvalidSecurityGroup", f"The security group '{missing}' does not exist", 400
                ) from None
            raise
        made.append(eni["NetworkInterfaceId"])
        if lb.type == "application" and not groups:
            lb.doc["SecurityGroups"] = [group["GroupId"] for group in eni["Groups"]]
    lb.doc[INTERFACES] = made


def delete_interfaces(platform: Platform, lb: LoadBalancer) -> None:
    for eni_id in lb.doc.pop(INTERFACES, None) or ():
        ec2.delete_interface(platform, eni_id)


def recreate_interfaces(platform: Platform, lb: LoadBalancer) -> None:
    """After SetSubnets or SetSecurityGroups: interfaces in the new subnets with the new groups."""
    if INTERFACES not in lb.doc:
        return
    delete_interfaces(platform, lb)
    create_interfaces(platform, lb, lb.doc.get("SecurityGroups"))


# -- reaching instances ----------------------------------------------------------------------------------------


class InstanceTargets:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self._recent: dict[tuple[str, str], tuple[float, Reach | None]] = {}

    def reach(self, lb: LoadBalancer, target_type: str, target_id: str, fresh: bool = False) -> Reach | None:
        """The instance a target is and its state; None when no instance of the load balancer's VPC is that
        target (or Overcast has no EC2)."""
        key = (lb.arn, target_id)
        now = time.monotonic()
        remembered = self._recent.get(key)
        if not fresh and remembered is not None and now - remembered[0] < REUSE_SECONDS:
            return remembered[1]
        found = self._look(lb, target_type, target_id)
        if len(self._recent) > 4096:
            self._recent.clear()
        self._recent[key] = (now, found)
        return found

    def _look(self, lb: LoadBalancer, target_type: str, target_id: str) -> Reach | None:
        if not is_available("ec2"):
            return None
        instance_id = (
            target_id
            if target_type == "instance"
            else ec2.instance_at(self.platform, lb.doc["VpcId"], target_id)
        )
        if instance_id is None:
            return None
        described = ec2.instances(self.platform, lb.account, lb.region, [instance_id]).get(instance_id)
        if described is None:
            return None
        state = described["State"]["Name"]
        address = described.get("PrivateIpAddress", "")
        if target_type == "ip" and address != target_id:
            address = target_id  # a secondary address of the instance
        return Reach(instance_id, address, state)

    def allowed(self, lb: LoadBalancer, instance_id: str, port: int) -> bool:
        """Whether a new connection from the load balancer's interface to the instance's port is let through
        (security groups, network ACLs, routes), asked at each connection as security groups may change."""
        interfaces = lb.doc.get(INTERFACES) or ()
        if not interfaces:
            return False
        try:
            return ec2.reachable(self.platform, interfaces[0], instance_id, "tcp", port).reachable
        except KeyError:
            return False

    async def connect(
        self, instance_id: str, port: int, tls: ssl.SSLContext | None, timeout: float
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """A connection to the port in the instance's sandbox (TLS when asked); ConnectionRefusedError when nothing
        listens there."""
        connection = await asyncio.wait_for(ec2.connect(self.platform, instance_id, port), timeout)
        if connection is None:
            raise ConnectionRefusedError(f"nothing listens on port {port} of {instance_id}")
        reader, writer = connection
        if tls is not None:
            try:
                await asyncio.wait_for(writer.start_tls(tls), timeout)
            except BaseException:
                writer.close()
                raise
        return reader, writer


def describe_shape(doc: dict[str, Any]) -> dict[str, Any]:
    """The load balancer's document without what Overcast keeps for itself."""
    return {key: value for key, value in doc.items() if not key.startswith("_")}
