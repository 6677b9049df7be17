"""Route tables: the main table and its local routes, explicit subnet and gateway (edge) associations, routes to
every kind of target, and their states (a route whose target went away is a `blackhole`)."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.ec2 import cidrs, kinds
from overcast.services.ec2.errors import already_associated, combination, dependency, invalid
from overcast.services.ec2.filters import tag_specifications
from overcast.services.ec2.store import Resource

if TYPE_CHECKING:
    from overcast.services.ec2.provider import Ec2Provider

MAX_ROUTES = 500  # per route table
DESTINATIONS = ("DestinationCidrBlock", "DestinationIpv6CidrBlock", "DestinationPrefixListId")
TARGETS = (
    "GatewayId",
    "EgressOnlyInternetGatewayId",
    "NatGatewayId",
    "InstanceId",
    "NetworkInterfaceId",
    "VpcPeeringConnectionId",
    "TransitGatewayId",
    "VpcEndpointId",
    "LocalGatewayId",
    "CarrierGatewayId",
    "CoreNetworkArn",
)
FILTERS = {
    "association.gateway-id": "Associations.GatewayId",
    "association.route-table-association-id": "Associations.RouteTableAssociationId",
    "association.route-table-id": "Associations.RouteTableId",
    "association.subnet-id": "Associations.SubnetId",
    "association.main": "Associations.Main",
    "owner-id": "OwnerId",
    "route-table-id": "RouteTableId",
    "route.destination-cidr-block": "Routes.DestinationCidrBlock",
    "route.destination-ipv6-cidr-block": "Routes.DestinationIpv6CidrBlock",
    "route.destination-prefix-list-id": "Routes.DestinationPrefixListId",
    "route.egress-only-internet-gateway-id": "Routes.EgressOnlyInternetGatewayId",
    "route.gateway-id": "Routes.GatewayId",
    "route.instance-id": "Routes.InstanceId",
    "route.nat-gateway-id": "Routes.NatGatewayId",
    "route.transit-gateway-id": "Routes.TransitGatewayId",
    "route.origin": "Routes.Origin",
    "route.state": "Routes.State",
    "route.vpc-peering-connection-id": "Routes.VpcPeeringConnectionId",
    "vpc-id": "VpcId",
}


class RouteTableOperations(Operations):
    service: Ec2Provider

    # -- tables ----------------------------------------------------------------------------------------

    def create_route_table(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net = self.service.net
        vpc = net.require(ctx, kinds.VPC, params["VpcId"])
        table = net.create_route_table(vpc)
        net.tag(table, tag_specifications(params, "route-table"))
        return {"RouteTable": net.render(table)}

    def delete_route_table(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net, store = self.service.net, self.service.store
        table = net.require(ctx, kinds.ROUTE_TABLE, params["RouteTableId"])
        if store.children(table.id, kinds.RTB_ASSOCIATION.name):
            raise dependency("routeTable", table.id)
        net.forget(table)
        return {}

    def describe_route_tables(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ids = params.get("RouteTableIds")
        return self.service.net.describe(ctx, params, kinds.ROUTE_TABLE, ids, FILTERS, "RouteTables")

    # -- routes ----------------------------------------------------------------------------------------

    def create_route(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        table = self.service.net.require(ctx, kinds.ROUTE_TABLE, params["RouteTableId"])
        key, destination = self._destination(ctx, params)
        if any(r.get(key) == destination for r in table.body["Routes"]):
            raise ServiceError("RouteAlreadyExists", f"The route identified by {destination} already exists.")
        if len(table.body["Routes"]) >= MAX_ROUTES:
            raise ServiceError("RouteLimitExceeded", "The maximum number of routes has been reached.")
        target = self._target(ctx, table, params, key)
        table.body["Routes"].append({key: destination, **target, "Origin": "CreateRoute"})
        self.service.store.save(table)
        return {"Return": True}

    def replace_route(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        table = self.service.net.require(ctx, kinds.ROUTE_TABLE, params["RouteTableId"])
        key, destination = self._destination(ctx, params)
        routes = table.body["Routes"]
        index = next((i for i, r in enumerate(routes) if r.get(key) == destination), None)
        if index is None:
            raise invalid(
                f"There is no route defined for '{destination}' in the route table. Use CreateRoute instead."
            )
        if params.get("LocalTarget") or params.get("GatewayId") == "local":
            target = {"GatewayId": "local", "State": "active"}
        else:
            target = self._target(ctx, table, params, key)
        origin = routes[index]["Origin"]
        routes[index] = {key: destination, **target, "Origin": origin}
        self.service.store.save(table)
        return {}

    def delete_route(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        table = self.service.net.require(ctx, kinds.ROUTE_TABLE, params["RouteTableId"])
        key, destination = self._destination(ctx, params, check=False)
        routes = table.body["Routes"]
        found = next((r for r in routes if r.get(key) == destination), None)
        wire = {"DestinationCidrBlock": "destination-cidr-block", "DestinationIpv6CidrBlock": "destination-ipv6-cidr-block",
                "DestinationPrefixListId": "destination-prefix-list-id"}[key]  # fmt: skip
        if found is None:
            raise ServiceError(
                "InvalidRoute.NotFound", f"no route with {wire} {destination} in route table {table.id}"
            )
        if found.get("GatewayId") == "local":
            raise invalid(f"cannot remove local route {destination} in route table {table.id}")
        routes.remove(found)
        self.service.store.save(table)
        return {}

    def _destination(
        self, ctx: RequestContext, params: dict[str, Any], check: bool = True
    ) -> tuple[str, str]:
        given = [key for key in DESTINATIONS if params.get(key)]
        if not given:
            raise ServiceError(
                "MissingParameter",
                "The request must contain exactly one of: destinationCidrBlock, destinationIpv6CidrBlock, "
                "destinationPrefixListId",
            )
        if len(given) > 1:
            raise combination(
                "The parameter destinationCidrBlock cannot be used with the parameter destinationIpv6CidrBlock"
            )
        key = given[0]
        value = params[key]
        if key == "DestinationPrefixListId":
            if check and self.service.net.find(ctx, kinds.PREFIX_LIST, value) is None:
                raise kinds.PREFIX_LIST.not_found([value])
            return key, value
        network = cidrs.parse_network(value) if "/" in value else None
        if network is None:
            try:
                network = ipaddress.ip_network(value, strict=False)
            except ValueError:
                parameter = (
                    "destinationCidrBlock" if key == "DestinationCidrBlock" else "destinationIpv6CidrBlock"
                )
                raise invalid(
                    f"Value ({value}) for parameter {parameter} is invalid. This is not a valid CIDR block."
                ) from None
        return key, str(network)

    def _target(
        self, ctx: RequestContext, table: Resource, params: dict[str, Any], key: str
    ) -> dict[str, Any]:
        """The target members of a new route and its state, checked against the route table's VPC."""
        given = [name for name in TARGETS if params.get(name)]
        if len(given) != 1:
            if not given:
                raise ServiceError(
                    "MissingParameter",
                    "The request must contain exactly one of gatewayId, natGatewayId, networkInterfaceId, "
                    "vpcPeeringConnectionId, egressOnlyInternetGatewayId, transitGatewayId, localGatewayId, "
                    "carrierGatewayId, coreNetworkArn, vpcEndpointId or instanceId",
                )
            raise combination(
                f"The parameter {_wire(given[0])} cannot be used with the parameter {_wire(given[1])}"
            )
        name = given[0]
        value = params[name]
        net = self.service.net
        vpc_id = table.vpc_id
        if name == "GatewayId":
            if value == "local":
                return {"GatewayId": "local", "State": "active"}
            if value.startswith("vgw-"):
                vgw = net.require(ctx, kinds.VPN_GATEWAY, value)
                if vgw.vpc_id != vpc_id:
                    raise invalid(
                        f"route table {table.id} and network gateway {value} belong to different networks"
                    )
                return {"GatewayId": value, "State": "active"}
            if value.startswith("vpce-"):
                endpoint = net.require(ctx, kinds.VPC_ENDPOINT, value)
                return {"GatewayId": endpoint.id, "State": "active"}
            gateway = net.find(ctx, kinds.INTERNET_GATEWAY, value)
            if gateway is None:
                raise ServiceError("InvalidGatewayID.NotFound", f"The gateway ID '{value}' does not exist")
            if gateway.vpc_id != vpc_id:
                raise invalid(
                    f"route table {table.id} and network gateway {value} belong to different networks"
                )
            return {"GatewayId": value, "State": "active"}
        if name == "EgressOnlyInternetGatewayId":
            gateway = net.require(ctx, kinds.EGRESS_ONLY_GATEWAY, value)
            if key != "DestinationIpv6CidrBlock":
                raise invalid("Egress-only internet gateways can only be used with IPv6 destinations.")
            if gateway.vpc_id != vpc_id:
                raise invalid(
                    f"route table {table.id} and network gateway {value} belong to different networks"
                )
            return {"EgressOnlyInternetGatewayId": value, "State": "active"}
        if name == "NatGatewayId":
            nat = net.find(ctx, kinds.NAT_GATEWAY, value)
            if nat is None or nat.body["State"] == "deleted":
                raise ServiceError(
                    "InvalidNatGatewayID.NotFound", f"The natGateway ID '{value}' does not exist"
                )
            if nat.vpc_id != vpc_id:
                raise invalid(
                    f"route table {table.id} and network gateway {value} belong to different networks"
                )
            state = "blackhole" if nat.body["State"] in ("deleting", "failed") else "active"
            return {"NatGatewayId": value, "State": state}
        if name in ("NetworkInterfaceId", "InstanceId"):
            return self._interface_target(ctx, table, name, value)
        if name == "VpcPeeringConnectionId":
            pcx = net.require(ctx, kinds.PEERING, value)
            ends = (pcx.body["RequesterVpcInfo"]["VpcId"], pcx.body["AccepterVpcInfo"]["VpcId"])
            if vpc_id not in ends:
                raise invalid(
                    f"route table {table.id} and network gateway {value} belong to different networks"
                )
            state = "active" if pcx.body["Status"]["Code"] == "active" else "blackhole"
            return {"VpcPeeringConnectionId": value, "State": state}
        if name == "TransitGatewayId":
            net.require(ctx, kinds.TRANSIT_GATEWAY, value)
            return {"TransitGatewayId": value, "State": "active"}
        if name == "VpcEndpointId":
            net.require(ctx, kinds.VPC_ENDPOINT, value)
            return {"GatewayId": value, "State": "active"}
        raise ServiceError("InvalidGatewayID.NotFound", f"The gateway ID '{value}' does not exist")

    def _interface_target(
        self, ctx: RequestContext, table: Resource, name: str, value: str
    ) -> dict[str, Any]:
        net = self.service.net
        if name == "InstanceId":
            eni = net.interface_of_instance(ctx.account_id, ctx.region, value)
            if eni is None:
                raise ServiceError("InvalidInstanceID.NotFound", f"The instance ID '{value}' does not exist")
        else:
            eni = net.require(ctx, kinds.NETWORK_INTERFACE, value)
        if eni.vpc_id != table.vpc_id:
            raise invalid(f"route table {table.id} and interface {eni.id} belong to different networks")
        target: dict[str, Any] = {}
        attachment = eni.body.get("Attachment") or {}
        if attachment.get("InstanceId"):
            target.update(InstanceId=attachment["InstanceId"], InstanceOwnerId=eni.account)
        return {**target, "NetworkInterfaceId": eni.id, "State": "active"}

    # -- associations ----------------------------------------------------------------------------------

    def associate_route_table(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net, store = self.service.net, self.service.store
        table = net.require(ctx, kinds.ROUTE_TABLE, params["RouteTableId"])
        if params.get("SubnetId") and params.get("GatewayId"):
            raise combination("The parameter subnetId cannot be used with the parameter gatewayId")
        if params.get("GatewayId"):
            gateway = net.find(ctx, kinds.INTERNET_GATEWAY, params["GatewayId"])
            if gateway is None:
                raise ServiceError(
                    "InvalidGatewayID.NotFound", f"The gateway ID '{params['GatewayId']}' does not exist"
                )
            if gateway.vpc_id != table.vpc_id:
                raise invalid(
                    f"route table {table.id} and network gateway {gateway.id} belong to different networks"
                )
            taken = [
                a for a in store.in_vpc(table.vpc_id or "", kinds.RTB_ASSOCIATION.name) if a.name == "gateway"
            ]
            if any(a.body.get("GatewayId") == gateway.id for a in taken):
                raise already_associated(
                    f"the specified association for route table {table.id} conflicts with an existing association"
                )
            association = net.associate_route_table(table, None, gateway_id=gateway.id)
        elif params.get("SubnetId"):
            subnet = net.require(ctx, kinds.SUBNET, params["SubnetId"])
            if subnet.vpc_id != table.vpc_id:
                raise invalid(f"Route table {table.id} and subnet {subnet.id} belong to different networks")
            if net.subnet_association(subnet.id) is not None:
                raise already_associated(
                    f"the specified association for route table {table.id} conflicts with an existing association"
                )
            association = net.associate_route_table(table, subnet)
        else:
            raise ServiceError(
                "MissingParameter", "The request must contain the parameter subnetId or gatewayId"
            )
        return {"AssociationId": association.id, "AssociationState": {"State": "associated"}}

    def disassociate_route_table(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        association = self.service.net.require(ctx, kinds.RTB_ASSOCIATION, params["AssociationId"])
        if association.body["Main"]:
            raise invalid(f"cannot disassociate the main route table association {association.id}")
        self.service.store.delete(association.id)
        return {}

    def replace_route_table_association(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net, store = self.service.net, self.service.store
        association = net.require(ctx, kinds.RTB_ASSOCIATION, params["AssociationId"])
        table = net.require(ctx, kinds.ROUTE_TABLE, params["RouteTableId"])
        if table.vpc_id != association.vpc_id:
            raise invalid(
                f"Route table {table.id} and association {association.id} belong to different networks"
            )
        subnet = store.get(association.subnet_id) if association.subnet_id else None
        store.delete(association.id)
        replacement = net.associate_route_table(
            table, subnet, main=association.body["Main"], gateway_id=association.body.get("GatewayId")
        )
        return {"NewAssociationId": replacement.id, "AssociationState": {"State": "associated"}}


def _wire(member: str) -> str:
    return member[0].lower() + member[1:]
