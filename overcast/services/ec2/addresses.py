"""Elastic IP addresses: allocated to the account (5 per region), associated with an interface or an instance's
primary interface, disassociated, released."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.ec2 import kinds
from overcast.services.ec2.errors import already_associated, invalid
from overcast.services.ec2.filters import tag_specifications
from overcast.services.ec2.ids import new_id
from overcast.services.ec2.store import Resource

if TYPE_CHECKING:
    from overcast.services.ec2.provider import Ec2Provider

MAX_ADDRESSES = 5  # per region (AWS's default quota)
FILTERS = {
    "allocation-id": "AllocationId",
    "association-id": "AssociationId",
    "domain": "Domain",
    "instance-id": "InstanceId",
    "network-border-group": "NetworkBorderGroup",
    "network-interface-id": "NetworkInterfaceId",
    "network-interface-owner-id": "NetworkInterfaceOwnerId",
    "private-ip-address": "PrivateIpAddress",
    "public-ip": "PublicIp",
}


class AddressOperations(Operations):
    service: Ec2Provider

    def allocate_address(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net, store = self.service.net, self.service.store
        if store.count(ctx.account_id, ctx.region, kinds.ADDRESS.name) >= MAX_ADDRESSES:
            raise ServiceError("AddressLimitExceeded", "The maximum number of addresses has been reached.")
        allocation_id = new_id("eipalloc")
        public_ip = net.claim_public_ip(allocation_id)
        body = {
            "AllocationId": allocation_id,
            "Domain": "vpc",
            "PublicIp": public_ip,
            "PublicIpv4Pool": "amazon",
            "NetworkBorderGroup": params.get("NetworkBorderGroup") or ctx.region,
        }
        address = store.insert(
            Resource(allocation_id, ctx.account_id, ctx.region, kinds.ADDRESS.name, body, name=public_ip)
        )
        net.tag(address, tag_specifications(params, "elastic-ip"))
        return {**body}

    def associate_address(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net = self.service.net
        address = self._address(ctx, params)
        if params.get("InstanceId"):
            eni = net.interface_of_instance(ctx.account_id, ctx.region, params["InstanceId"])
            if eni is None:
                raise ServiceError(
                    "InvalidInstanceID.NotFound", f"The instance ID '{params['InstanceId']}' does not exist"
                )
        elif params.get("NetworkInterfaceId"):
            eni = net.require(ctx, kinds.NETWORK_INTERFACE, params["NetworkInterfaceId"])
        else:
            raise ServiceError(
                "MissingParameter", "Either instance ID or network interface id must be specified"
            )
        if net.internet_gateway_of(eni.vpc_id or "") is None:
            raise ServiceError(
                "Gateway.NotAttached", f"Network {eni.vpc_id} is not attached to any internet gateway"
            )
        private_ip = params.get("PrivateIpAddress") or eni.body["PrivateIpAddress"]
        if private_ip not in [p["PrivateIpAddress"] for p in eni.body["PrivateIpAddresses"]]:
            raise invalid(
                f"The private IP address {private_ip} is not associated with the network interface {eni.id}"
            )
        if address.body.get("AssociationId"):
            if not params.get("AllowReassociation"):
                raise already_associated(
                    f"resource {address.id} is already associated with associate-id {address.body['AssociationId']}"
                )
            net.disassociate_address(address)
        eni = net.store.get(eni.id) or eni
        current = next(
            (
                p.get("Association")
                for p in eni.body["PrivateIpAddresses"]
                if p["PrivateIpAddress"] == private_ip
            ),
            None,
        )
        if current and current.get("AllocationId"):
            previous = net.store.get(current["AllocationId"])
            if previous is not None:
                net.disassociate_address(previous)
                eni = net.store.get(eni.id) or eni
        return {"AssociationId": net.associate_address(address, eni, private_ip)}

    def _address(self, ctx: RequestContext, params: dict[str, Any]) -> Resource:
        if params.get("AllocationId"):
            return self.service.net.require(ctx, kinds.ADDRESS, params["AllocationId"])
        if params.get("PublicIp"):
            found = self.service.store.named(
                ctx.account_id, ctx.region, kinds.ADDRESS.name, params["PublicIp"]
            )
            if not found:
                raise ServiceError("InvalidAddress.NotFound", f"Address '{params['PublicIp']}' not found.")
            return found[0]
        raise ServiceError("MissingParameter", "The request must contain the parameter allocationId")

    def disassociate_address(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        store = self.service.store
        association_id = params.get("AssociationId")
        if params.get("PublicIp") and not association_id:
            address = self._address(ctx, {"PublicIp": params["PublicIp"]})
            association_id = address.body.get("AssociationId")
        for address in store.page(ctx.account_id, ctx.region, kinds.ADDRESS.name, 0, 10_000):
            if association_id and address.body.get("AssociationId") == association_id:
                if _is_service_managed(self.service, address):
                    raise ServiceError(
                        "InvalidIPAddress.InUse", f"The address with allocation id [{address.id}] is in use"
                    )
                self.service.net.disassociate_address(address)
                return {}
        raise ServiceError(
            "InvalidAssociationID.NotFound", f"The association ID '{association_id}' does not exist"
        )

    def release_address(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        address = self._address(ctx, params)
        if address.body.get("AssociationId"):
            raise ServiceError(
                "InvalidIPAddress.InUse", f"The address with allocation id [{address.id}] is in use"
            )
        self.service.store.release_public(address.body["PublicIp"])
        self.service.net.forget(address)
        return {}

    def describe_addresses(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net = self.service.net
        ips = params.get("PublicIps")
        if ips:
            for ip in ips:
                if not self.service.store.named(ctx.account_id, ctx.region, kinds.ADDRESS.name, ip):
                    raise ServiceError("InvalidAddress.NotFound", f"Address '{ip}' not found.")
            params = {
                **params,
                "Filters": [*(params.get("Filters") or []), {"Name": "public-ip", "Values": ips}],
            }
        return net.describe(ctx, params, kinds.ADDRESS, params.get("AllocationIds"), FILTERS, "Addresses")


def _is_service_managed(service: Ec2Provider, address: Resource) -> bool:
    """An address a NAT gateway holds: only deleting the NAT gateway frees it."""
    eni = service.store.get(address.body.get("NetworkInterfaceId") or "")
    return eni is not None and eni.body.get("InterfaceType") == "nat_gateway"
