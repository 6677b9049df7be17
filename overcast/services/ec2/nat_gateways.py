"""NAT gateways: public ones (an Elastic IP on a requester-managed interface in the subnet, failing without an
internet gateway) and private ones, pending → available on the clock; deleting one turns the routes to it into
blackholes at once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.ec2 import kinds
from overcast.services.ec2.errors import already_associated
from overcast.services.ec2.filters import tag_specifications
from overcast.services.ec2.ids import new_id
from overcast.services.ec2.store import Resource
from overcast.services.ec2.workers import DELETED_VISIBLE, PROVISIONING

if TYPE_CHECKING:
    from overcast.services.ec2.provider import Ec2Provider

FILTERS = {
    "nat-gateway-id": "NatGatewayId",
    "state": "State",
    "subnet-id": "SubnetId",
    "vpc-id": "VpcId",
}


class NatGatewayOperations(Operations):
    service: Ec2Provider

    def create_nat_gateway(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net, store = self.service.net, self.service.store
        subnet = net.require(ctx, kinds.SUBNET, params["SubnetId"])
        connectivity = params.get("ConnectivityType") or "public"
        address = None
        if connectivity == "public":
            if not params.get("AllocationId"):
                raise ServiceError("MissingParameter", "The request must contain the parameter allocationId")
            address = net.require(ctx, kinds.ADDRESS, params["AllocationId"])
            if address.body.get("AssociationId"):
                raise already_associated(f"Elastic IP address [{address.id}] is already associated")
        nat_id = new_id("nat")
        eni = net.create_interface(
            subnet,
            groups=[],
            description=f"Interface for NAT Gateway {nat_id}",
            private_ip=params.get("PrivateIpAddress"),
            interface_type="nat_gateway",
            requester_id="amazon",
        )
        entry: dict[str, Any] = {"NetworkInterfaceId": eni.id, "PrivateIp": eni.body["PrivateIpAddress"]}
        if address is not None:
            association_id = net.associate_address(address, eni)
            entry = {"AllocationId": address.id, **entry, "PublicIp": address.body["PublicIp"],
                     "AssociationId": association_id}  # fmt: skip
        entry.update(IsPrimary=True, Status="associating" if address is not None else "succeeded")
        body: dict[str, Any] = {
            "CreateTime": round(self.clock.now(), 3),
            "NatGatewayAddresses": [entry],
            "NatGatewayId": nat_id,
            "State": "pending",
            "SubnetId": subnet.id,
            "VpcId": subnet.vpc_id,
            "ConnectivityType": connectivity,
        }
        if address is not None and net.internet_gateway_of(subnet.vpc_id or "") is None:
            body["_failure"] = [
                "Gateway.NotAttached",
                f"Network {subnet.vpc_id} has no Internet gateway attached",
            ]
        nat = store.insert(
            Resource(nat_id, ctx.account_id, ctx.region, kinds.NAT_GATEWAY.name, body, vpc_id=subnet.vpc_id,
                     subnet_id=subnet.id)
        )  # fmt: skip
        eni.parent_id = nat_id
        store.save(eni)
        net.tag(nat, tag_specifications(params, "natgateway"))
        self.service.schedule(nat.id, "nat-available", PROVISIONING)
        result: dict[str, Any] = {"NatGateway": net.render(nat)}
        if params.get("ClientToken"):
            result["ClientToken"] = params["ClientToken"]
        return result

    def delete_nat_gateway(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net = self.service.net
        nat = net.find(ctx, kinds.NAT_GATEWAY, params["NatGatewayId"])
        if nat is None or nat.body["State"] == "deleted":
            raise kinds.NAT_GATEWAY.not_found([params["NatGatewayId"]])
        self.service.net.release_nat(nat)
        nat.body["State"] = "deleting"
        nat.body["DeleteTime"] = round(self.clock.now(), 3)
        self.service.store.save(nat)
        self.service.store.cancel(nat.id)
        self.service.schedule(nat.id, "nat-deleted", PROVISIONING)
        self.service.schedule(nat.id, "forget", PROVISIONING + DELETED_VISIBLE)
        return {"NatGatewayId": nat.id}

    def describe_nat_gateways(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ids = params.get("NatGatewayIds")
        return self.service.net.describe(ctx, params, kinds.NAT_GATEWAY, ids, FILTERS, "NatGateways")
