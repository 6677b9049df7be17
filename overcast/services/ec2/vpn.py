"""Site-to-Site VPN as configuration: virtual private gateways (attached to one VPC), customer gateways, VPN
connections between them (pending → available on the clock; their tunnels are described, never brought up:
there is no peer), static routes, and route propagation into route tables."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.ec2 import cidrs, kinds
from overcast.services.ec2.errors import bad_cidr, incorrect_state, invalid
from overcast.services.ec2.filters import tag_specifications
from overcast.services.ec2.ids import new_id
from overcast.services.ec2.store import Resource
from overcast.services.ec2.workers import DELETED_VISIBLE, PROVISIONING

if TYPE_CHECKING:
    from overcast.services.ec2.provider import Ec2Provider

VGW_FILTERS = {
    "amazon-side-asn": "AmazonSideAsn",
    "attachment.state": "VpcAttachments.State",
    "attachment.vpc-id": "VpcAttachments.VpcId",
    "availability-zone": "AvailabilityZone",
    "state": "State",
    "type": "Type",
    "vpn-gateway-id": "VpnGatewayId",
}
CGW_FILTERS = {
    "bgp-asn": "BgpAsn",
    "customer-gateway-id": "CustomerGatewayId",
    "ip-address": "IpAddress",
    "state": "State",
    "type": "Type",
}
VPN_FILTERS = {
    "customer-gateway-configuration": "CustomerGatewayConfiguration",
    "customer-gateway-id": "CustomerGatewayId",
    "state": "State",
    "option.static-routes-only": "Options.StaticRoutesOnly",
    "route.destination-cidr-block": "Routes.DestinationCidrBlock",
    "bgp-asn": "BgpAsn",
    "type": "Type",
    "vpn-connection-id": "VpnConnectionId",
    "vpn-gateway-id": "VpnGatewayId",
    "transit-gateway-id": "TransitGatewayId",
}


def _tunnel_configuration(connection_id: str, customer_ip: str, outside: list[str]) -> str:
    """A short customer gateway configuration document (AWS's is the same XML, with more detail)."""
    tunnels = "".join(
        f"<ipsec_tunnel><customer_gateway><tunnel_outside_address><ip_address>{customer_ip}</ip_address>"
        f"</tunnel_outside_address></customer_gateway><vpn_gateway><tunnel_outside_address><ip_address>{ip}"
        "</ip_address></tunnel_outside_address></vpn_gateway></ipsec_tunnel>"
        for ip in outside
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<vpn_connection id="{connection_id}">'
        f"<customer_gateway_id></customer_gateway_id><vpn_connection_type>ipsec.1</vpn_connection_type>"
        f"{tunnels}</vpn_connection>"
    )


class VpnOperations(Operations):
    service: Ec2Provider

    # -- virtual private gateways ----------------------------------------------------------------------

    def create_vpn_gateway(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net = self.service.net
        gateway_id = new_id("vgw")
        body: dict[str, Any] = {
            "State": "available",
            "Type": params["Type"],
            "VpcAttachments": [],
            "VpnGatewayId": gateway_id,
            "AmazonSideAsn": params.get("AmazonSideAsn") or 64512,
        }
        if params.get("AvailabilityZone"):
            body["AvailabilityZone"] = net.check_zone(ctx.region, params["AvailabilityZone"], None).name
        gateway = self.service.store.insert(
            Resource(gateway_id, ctx.account_id, ctx.region, kinds.VPN_GATEWAY.name, body)
        )
        net.tag(gateway, tag_specifications(params, "vpn-gateway"))
        return {"VpnGateway": net.render(gateway)}

    def attach_vpn_gateway(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net, store = self.service.net, self.service.store
        gateway = net.require(ctx, kinds.VPN_GATEWAY, params["VpnGatewayId"])
        vpc = net.require(ctx, kinds.VPC, params["VpcId"])
        if gateway.vpc_id:
            raise ServiceError(
                "VpnGatewayAttachmentLimitExceeded", f"{gateway.id} is already attached to {gateway.vpc_id}"
            )
        if store.in_vpc(vpc.id, kinds.VPN_GATEWAY.name):
            raise ServiceError(
                "VpnGatewayAttachmentLimitExceeded",
                f"{vpc.id} already has a virtual private gateway attached",
            )
        gateway.body["VpcAttachments"] = [{"State": "attached", "VpcId": vpc.id}]
        gateway.vpc_id = vpc.id
        store.save(gateway)
        net.revive_routes(vpc.id, gateway.id)
        return {"VpcAttachment": {"State": "attaching", "VpcId": vpc.id}}

    def detach_vpn_gateway(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net, store = self.service.net, self.service.store
        gateway = net.require(ctx, kinds.VPN_GATEWAY, params["VpnGatewayId"])
        vpc_id = params["VpcId"]
        if gateway.vpc_id != vpc_id:
            raise ServiceError(
                "InvalidVpnGatewayAttachment.NotFound",
                f"The attachment with vpn gateway ID '{gateway.id}' and vpc ID '{vpc_id}' does not exist",
            )
        gateway.body["VpcAttachments"] = [{"State": "detached", "VpcId": vpc_id}]
        gateway.vpc_id = None
        store.save(gateway)
        net.blackhole_routes(vpc_id, gateway.id)
        for table in store.in_vpc(vpc_id, kinds.ROUTE_TABLE.name):
            table.body["PropagatingVgws"] = [
                p for p in table.body["PropagatingVgws"] if p["GatewayId"] != gateway.id
            ]
            store.save(table)
        return {}

    def delete_vpn_gateway(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net, store = self.service.net, self.service.store
        gateway = net.require(ctx, kinds.VPN_GATEWAY, params["VpnGatewayId"])
        live = [
            c for c in store.children(gateway.id, kinds.VPN_CONNECTION.name) if c.body["State"] != "deleted"
        ]
        if gateway.vpc_id or live:
            raise incorrect_state(f"The vpnGateway '{gateway.id}' is in use.")
        net.forget(gateway)
        return {}

    def describe_vpn_gateways(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ids = params.get("VpnGatewayIds")
        return self.service.net.describe(ctx, params, kinds.VPN_GATEWAY, ids, VGW_FILTERS, "VpnGateways")

    def enable_vgw_route_propagation(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net, store = self.service.net, self.service.store
        table = net.require(ctx, kinds.ROUTE_TABLE, params["RouteTableId"])
        gateway = net.require(ctx, kinds.VPN_GATEWAY, params["GatewayId"])
        if gateway.vpc_id != table.vpc_id:
            raise invalid(
                f"route table {table.id} and network gateway {gateway.id} belong to different networks"
            )
        if all(p["GatewayId"] != gateway.id for p in table.body["PropagatingVgws"]):
            table.body["PropagatingVgws"].append({"GatewayId": gateway.id})
            store.save(table)
        return {}

    def disable_vgw_route_propagation(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net, store = self.service.net, self.service.store
        table = net.require(ctx, kinds.ROUTE_TABLE, params["RouteTableId"])
        table.body["PropagatingVgws"] = [
            p for p in table.body["PropagatingVgws"] if p["GatewayId"] != params["GatewayId"]
        ]
        store.save(table)
        return {}

    # -- customer gateways -----------------------------------------------------------------------------

    def create_customer_gateway(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net = self.service.net
        address = params.get("IpAddress") or params.get("PublicIp")
        if address is not None and cidrs.parse_address(address) is None:
            raise invalid(f"Value ({address}) for parameter ipAddress is invalid. Invalid Format.")
        gateway_id = new_id("cgw")
        body: dict[str, Any] = {
            "BgpAsn": str(params.get("BgpAsn") or params.get("BgpAsnExtended") or 65000),
            "CustomerGatewayId": gateway_id,
            "IpAddress": address,
            "State": "available",
            "Type": params["Type"],
        }
        if params.get("DeviceName"):
            body["DeviceName"] = params["DeviceName"]
        if params.get("CertificateArn"):
            body["CertificateArn"] = params["CertificateArn"]
        gateway = self.service.store.insert(
            Resource(gateway_id, ctx.account_id, ctx.region, kinds.CUSTOMER_GATEWAY.name, body)
        )
        net.tag(gateway, tag_specifications(params, "customer-gateway"))
        return {"CustomerGateway": net.render(gateway)}

    def delete_customer_gateway(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net = self.service.net
        gateway = net.require(ctx, kinds.CUSTOMER_GATEWAY, params["CustomerGatewayId"])
        if any(
            c.body["State"] != "deleted"
            for c in self.service.store.children(gateway.id, kinds.VPN_CONNECTION.name)
        ):
            raise incorrect_state(f"The customer gateway '{gateway.id}' is in use.")
        net.forget(gateway)
        return {}

    def describe_customer_gateways(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ids = params.get("CustomerGatewayIds")
        return self.service.net.describe(
            ctx, params, kinds.CUSTOMER_GATEWAY, ids, CGW_FILTERS, "CustomerGateways"
        )

    # -- connections -----------------------------------------------------------------------------------

    def create_vpn_connection(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net, store = self.service.net, self.service.store
        customer = net.require(ctx, kinds.CUSTOMER_GATEWAY, params["CustomerGatewayId"])
        if bool(params.get("VpnGatewayId")) == bool(params.get("TransitGatewayId")):
            raise ServiceError(
                "InvalidParameterCombination",
                "Exactly one of VpnGatewayId and TransitGatewayId must be specified.",
            )
        target = (
            net.require(ctx, kinds.VPN_GATEWAY, params["VpnGatewayId"])
            if params.get("VpnGatewayId")
            else net.require(ctx, kinds.TRANSIT_GATEWAY, params["TransitGatewayId"])
        )
        connection_id = new_id("vpn")
        outside = [net.claim_public_ip(connection_id) for _ in range(2)]
        given = params.get("Options") or {}
        body: dict[str, Any] = {
            "CustomerGatewayConfiguration": _tunnel_configuration(
                connection_id, customer.body["IpAddress"], outside
            ),
            "CustomerGatewayId": customer.id,
            "Category": "VPN",
            "State": "pending",
            "Type": params["Type"],
            "VpnConnectionId": connection_id,
            "GatewayAssociationState": "associated",
            "Options": {
                "EnableAcceleration": bool(given.get("EnableAcceleration")),
                "StaticRoutesOnly": bool(given.get("StaticRoutesOnly")),
                "LocalIpv4NetworkCidr": given.get("LocalIpv4NetworkCidr") or "0.0.0.0/0",
                "RemoteIpv4NetworkCidr": given.get("RemoteIpv4NetworkCidr") or "0.0.0.0/0",
                "OutsideIpAddressType": given.get("OutsideIpAddressType") or "PublicIpv4",
                "TunnelInsideIpVersion": given.get("TunnelInsideIpVersion") or "ipv4",
            },
            "Routes": [],
            "VgwTelemetry": [
                {
                    "AcceptedRouteCount": 0,
                    "LastStatusChange": round(self.clock.now(), 3),
                    "OutsideIpAddress": ip,
                    "Status": "DOWN",
                    "StatusMessage": "",
                }
                for ip in outside
            ],  # fmt: skip
        }
        body["VpnGatewayId" if target.kind == kinds.VPN_GATEWAY.name else "TransitGatewayId"] = target.id
        connection = store.insert(
            Resource(connection_id, ctx.account_id, ctx.region, kinds.VPN_CONNECTION.name, body, parent_id=target.id,
                     name=customer.id)
        )  # fmt: skip
        net.tag(connection, tag_specifications(params, "vpn-connection"))
        self.service.schedule(connection.id, "available", PROVISIONING)
        return {"VpnConnection": net.render(connection)}

    def delete_vpn_connection(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net, store = self.service.net, self.service.store
        connection = net.require(ctx, kinds.VPN_CONNECTION, params["VpnConnectionId"])
        connection.body["State"] = "deleted"
        connection.body["Routes"] = []
        connection.parent_id = connection.name = None
        store.save(connection)
        for tunnel in connection.body["VgwTelemetry"]:
            store.release_public(tunnel["OutsideIpAddress"])
        store.cancel(connection.id)
        self.service.schedule(connection.id, "forget", DELETED_VISIBLE)
        return {}

    def describe_vpn_connections(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ids = params.get("VpnConnectionIds")
        return self.service.net.describe(
            ctx, params, kinds.VPN_CONNECTION, ids, VPN_FILTERS, "VpnConnections"
        )

    def create_vpn_connection_route(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        connection = self._connection(ctx, params["VpnConnectionId"])
        network = cidrs.parse_ipv4_network(params["DestinationCidrBlock"])
        if network is None:
            raise bad_cidr(params["DestinationCidrBlock"], "destinationCidrBlock")
        routes = connection.body["Routes"]
        if any(r["DestinationCidrBlock"] == str(network) for r in routes):
            raise ServiceError("RouteAlreadyExists", f"The route identified by {network} already exists.")
        routes.append({"DestinationCidrBlock": str(network), "Source": "Static", "State": "available"})
        self.service.store.save(connection)
        return {}

    def delete_vpn_connection_route(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        connection = self._connection(ctx, params["VpnConnectionId"])
        destination = params["DestinationCidrBlock"]
        routes = connection.body["Routes"]
        if not any(r["DestinationCidrBlock"] == destination for r in routes):
            raise ServiceError(
                "InvalidRoute.NotFound", f"The route identified by {destination} does not exist."
            )
        connection.body["Routes"] = [r for r in routes if r["DestinationCidrBlock"] != destination]
        self.service.store.save(connection)
        return {}

    def _connection(self, ctx: RequestContext, connection_id: str) -> Resource:
        connection = self.service.net.require(ctx, kinds.VPN_CONNECTION, connection_id)
        if connection.body["State"] == "deleted":
            raise kinds.VPN_CONNECTION.not_found([connection_id])
        return connection
