"""Internet gateways (one per VPC, attached or not) and egress-only internet gateways (IPv6 out only)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.ec2 import kinds
from overcast.services.ec2.errors import already_associated, dependency
from overcast.services.ec2.filters import tag_specifications
from overcast.services.ec2.ids import new_id
from overcast.services.ec2.store import Resource

if TYPE_CHECKING:
    from overcast.services.ec2.provider import Ec2Provider

IGW_FILTERS = {
    "attachment.state": "Attachments.State",
    "attachment.vpc-id": "Attachments.VpcId",
    "internet-gateway-id": "InternetGatewayId",
    "owner-id": "OwnerId",
}
EIGW_FILTERS = {"egress-only-internet-gateway-id": "EgressOnlyInternetGatewayId"}


class GatewayOperations(Operations):
    service: Ec2Provider

    def create_internet_gateway(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net = self.service.net
        igw = net.create_internet_gateway(ctx.account_id, ctx.region)
        net.tag(igw, tag_specifications(params, "internet-gateway"))
        return {"InternetGateway": net.render(igw)}

    def attach_internet_gateway(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net = self.service.net
        igw = net.require(ctx, kinds.INTERNET_GATEWAY, params["InternetGatewayId"])
        vpc = net.require(ctx, kinds.VPC, params["VpcId"])
        if igw.vpc_id:
            raise already_associated(f"resource {igw.id} is already attached to network {igw.vpc_id}")
        current = net.internet_gateway_of(vpc.id)
        if current is not None:
            raise already_associated(f"Network {vpc.id} already has an internet gateway attached")
        net.attach_internet_gateway(igw, vpc)
        return {}

    def detach_internet_gateway(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net = self.service.net
        igw = net.require(ctx, kinds.INTERNET_GATEWAY, params["InternetGatewayId"])
        vpc_id = params["VpcId"]
        if igw.vpc_id != vpc_id:
            net.require(ctx, kinds.VPC, vpc_id)
            raise ServiceError(
                "Gateway.NotAttached", f"resource {igw.id} is not attached to network {vpc_id}"
            )
        if self._has_public_addresses(vpc_id):
            raise ServiceError(
                "DependencyViolation",
                f"Network {vpc_id} has some mapped public address(es). Please unmap those public address(es) "
                "before detaching the gateway.",
            )
        igw.body["Attachments"] = []
        igw.vpc_id = None
        self.service.store.save(igw)
        net.blackhole_routes(vpc_id, igw.id)
        return {}

    def _has_public_addresses(self, vpc_id: str) -> bool:
        interfaces = self.service.store.in_vpc(vpc_id, kinds.NETWORK_INTERFACE.name)
        return any((eni.body.get("Association") or {}).get("PublicIp") for eni in interfaces)

    def delete_internet_gateway(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net = self.service.net
        igw = net.require(ctx, kinds.INTERNET_GATEWAY, params["InternetGatewayId"])
        if igw.vpc_id:
            raise dependency("internetGateway", igw.id)
        net.forget(igw)
        return {}

    def describe_internet_gateways(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ids = params.get("InternetGatewayIds")
        return self.service.net.describe(
            ctx, params, kinds.INTERNET_GATEWAY, ids, IGW_FILTERS, "InternetGateways"
        )

    # -- egress-only ----------------------------------------------------------------------------------

    def create_egress_only_internet_gateway(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        net = self.service.net
        vpc = net.require(ctx, kinds.VPC, params["VpcId"])
        gateway_id = new_id("eigw")
        body = {
            "Attachments": [{"State": "attached", "VpcId": vpc.id}],
            "EgressOnlyInternetGatewayId": gateway_id,
        }
        gateway = self.service.store.insert(
            Resource(
                gateway_id, ctx.account_id, ctx.region, kinds.EGRESS_ONLY_GATEWAY.name, body, vpc_id=vpc.id
            )
        )
        net.tag(gateway, tag_specifications(params, "egress-only-internet-gateway"))
        result: dict[str, Any] = {"EgressOnlyInternetGateway": net.render(gateway)}
        if params.get("ClientToken"):
            result["ClientToken"] = params["ClientToken"]
        return result

    def delete_egress_only_internet_gateway(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        net = self.service.net
        gateway = net.require(ctx, kinds.EGRESS_ONLY_GATEWAY, params["EgressOnlyInternetGatewayId"])
        net.blackhole_routes(gateway.vpc_id or "", gateway.id)
        net.forget(gateway)
        return {"ReturnCode": True}

    def describe_egress_only_internet_gateways(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        ids = params.get("EgressOnlyInternetGatewayIds")
        key = "EgressOnlyInternetGateways"
        return self.service.net.describe(ctx, params, kinds.EGRESS_ONLY_GATEWAY, ids, EIGW_FILTERS, key)
