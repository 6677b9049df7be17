"""Transit gateways: VPC attachments, route tables with associations, propagations (an attachment's VPC blocks
become routes) and static routes; pending → available on the clock."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.ec2 import cidrs, kinds
from overcast.services.ec2.errors import already_associated, bad_cidr, incorrect_state
from overcast.services.ec2.filters import check, matches, tag_specifications
from overcast.services.ec2.ids import new_id
from overcast.services.ec2.store import Resource
from overcast.services.ec2.workers import DELETED_VISIBLE, PROVISIONING

if TYPE_CHECKING:
    from overcast.services.ec2.provider import Ec2Provider

TGW_FILTERS = {
    "owner-id": "OwnerId",
    "state": "State",
    "transit-gateway-id": "TransitGatewayId",
    "options.amazon-side-asn": "Options.AmazonSideAsn",
    "options.association-default-route-table-id": "Options.AssociationDefaultRouteTableId",
    "options.propagation-default-route-table-id": "Options.PropagationDefaultRouteTableId",
}
ATTACHMENT_FILTERS = {
    "state": "State",
    "transit-gateway-attachment-id": "TransitGatewayAttachmentId",
    "transit-gateway-id": "TransitGatewayId",
    "vpc-id": "VpcId",
    "resource-id": "ResourceId",
    "resource-type": "ResourceType",
    "resource-owner-id": "ResourceOwnerId",
    "transit-gateway-owner-id": "TransitGatewayOwnerId",
    "association.state": "Association.State",
    "association.transit-gateway-route-table-id": "Association.TransitGatewayRouteTableId",
}
TABLE_FILTERS = {
    "default-association-route-table": "DefaultAssociationRouteTable",
    "default-propagation-route-table": "DefaultPropagationRouteTable",
    "state": "State",
    "transit-gateway-id": "TransitGatewayId",
    "transit-gateway-route-table-id": "TransitGatewayRouteTableId",
}
LINK_FILTERS = {
    "resource-id": "ResourceId",
    "resource-type": "ResourceType",
    "transit-gateway-attachment-id": "TransitGatewayAttachmentId",
}
ROUTE_FILTERS = {
    "attachment.transit-gateway-attachment-id": "TransitGatewayAttachments.TransitGatewayAttachmentId",
    "attachment.resource-id": "TransitGatewayAttachments.ResourceId",
    "attachment.resource-type": "TransitGatewayAttachments.ResourceType",
    "route-search.exact-match": "DestinationCidrBlock",
    "state": "State",
    "type": "Type",
}


class TransitGatewayOperations(Operations):
    service: Ec2Provider

    # -- gateways --------------------------------------------------------------------------------------

    def create_transit_gateway(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net, store = self.service.net, self.service.store
        given = params.get("Options") or {}
        tgw_id = new_id("tgw")
        options: dict[str, Any] = {
            "AmazonSideAsn": given.get("AmazonSideAsn") or 64512,
            "AutoAcceptSharedAttachments": given.get("AutoAcceptSharedAttachments") or "disable",
            "DefaultRouteTableAssociation": given.get("DefaultRouteTableAssociation") or "enable",
            "DefaultRouteTablePropagation": given.get("DefaultRouteTablePropagation") or "enable",
            "VpnEcmpSupport": given.get("VpnEcmpSupport") or "enable",
            "DnsSupport": given.get("DnsSupport") or "enable",
            "SecurityGroupReferencingSupport": given.get("SecurityGroupReferencingSupport") or "disable",
            "MulticastSupport": given.get("MulticastSupport") or "disable",
        }
        body: dict[str, Any] = {
            "TransitGatewayId": tgw_id,
            "TransitGatewayArn": kinds.TRANSIT_GATEWAY.arn(ctx.region, ctx.account_id, tgw_id),
            "State": "pending",
            "OwnerId": ctx.account_id,
            "Description": params.get("Description") or "",
            "CreationTime": round(self.clock.now(), 3),
            "Options": options,
        }
        tgw = store.insert(Resource(tgw_id, ctx.account_id, ctx.region, kinds.TRANSIT_GATEWAY.name, body))
        if "enable" in (options["DefaultRouteTableAssociation"], options["DefaultRouteTablePropagation"]):
            table = self._create_table(ctx, tgw, default=True)
            if options["DefaultRouteTableAssociation"] == "enable":
                options["AssociationDefaultRouteTableId"] = table.id
            if options["DefaultRouteTablePropagation"] == "enable":
                options["PropagationDefaultRouteTableId"] = table.id
            store.save(tgw)
        net.tag(tgw, tag_specifications(params, "transit-gateway"))
        self.service.schedule(tgw.id, "available", PROVISIONING)
        return {"TransitGateway": net.render(tgw)}

    def delete_transit_gateway(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net, store = self.service.net, self.service.store
        tgw = net.require(ctx, kinds.TRANSIT_GATEWAY, params["TransitGatewayId"])
        live = [
            a.id
            for a in store.children(tgw.id, kinds.TGW_ATTACHMENT.name)
            if a.body["State"] not in ("deleted", "deleting")
        ]
        if live:
            raise incorrect_state(f"{tgw.id} has non-deleted Transit Gateway Attachments: {', '.join(live)}.")
        for table in store.children(tgw.id, kinds.TGW_ROUTE_TABLE.name):
            net.forget(table)
        tgw.body["State"] = "deleting"
        store.save(tgw)
        store.cancel(tgw.id)
        self.service.schedule(tgw.id, "forget", DELETED_VISIBLE)
        return {"TransitGateway": net.render(tgw)}

    def describe_transit_gateways(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ids = params.get("TransitGatewayIds")
        return self.service.net.describe(
            ctx, params, kinds.TRANSIT_GATEWAY, ids, TGW_FILTERS, "TransitGateways"
        )

    # -- VPC attachments -------------------------------------------------------------------------------

    def create_transit_gateway_vpc_attachment(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        net, store = self.service.net, self.service.store
        tgw = net.require(ctx, kinds.TRANSIT_GATEWAY, params["TransitGatewayId"])
        vpc = net.require(ctx, kinds.VPC, params["VpcId"])
        subnets = net.require_all(ctx, kinds.SUBNET, params["SubnetIds"])
        zones_seen: set[str] = set()
        for subnet in subnets:
            if subnet.vpc_id != vpc.id:
                raise ServiceError(
                    "InvalidParameterValue", f"Subnet {subnet.id} does not belong to VPC {vpc.id}"
                )
            if subnet.body["AvailabilityZone"] in zones_seen:
                raise ServiceError("DuplicateSubnetsInSameZone", "Duplicate Subnets for same AZ")
            zones_seen.add(subnet.body["AvailabilityZone"])
        given = params.get("Options") or {}
        attachment_id = new_id("tgw-attach")
        body: dict[str, Any] = {
            "TransitGatewayAttachmentId": attachment_id,
            "TransitGatewayId": tgw.id,
            "VpcId": vpc.id,
            "VpcOwnerId": vpc.account,
            "State": "pending",
            "SubnetIds": [s.id for s in subnets],
            "CreationTime": round(self.clock.now(), 3),
            "Options": {
                "DnsSupport": given.get("DnsSupport") or "enable",
                "SecurityGroupReferencingSupport": given.get("SecurityGroupReferencingSupport") or "disable",
                "Ipv6Support": given.get("Ipv6Support") or "disable",
                "ApplianceModeSupport": given.get("ApplianceModeSupport") or "disable",
            },
            "_association": None,
            "_propagations": [],
        }
        options = tgw.body["Options"]
        if options.get("AssociationDefaultRouteTableId"):
            body["_association"] = options["AssociationDefaultRouteTableId"]
        if options.get("PropagationDefaultRouteTableId"):
            body["_propagations"].append(options["PropagationDefaultRouteTableId"])
        attachment = store.insert(
            Resource(attachment_id, ctx.account_id, ctx.region, kinds.TGW_ATTACHMENT.name, body, vpc_id=vpc.id,
                     parent_id=tgw.id)
        )  # fmt: skip
        net.tag(attachment, tag_specifications(params, "transit-gateway-attachment"))
        self.service.schedule(attachment.id, "available", PROVISIONING)
        return {"TransitGatewayVpcAttachment": net.render(attachment)}

    def delete_transit_gateway_vpc_attachment(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        net, store = self.service.net, self.service.store
        attachment = net.require(ctx, kinds.TGW_ATTACHMENT, params["TransitGatewayAttachmentId"])
        attachment.body.update(State="deleting", _association=None, _propagations=[])
        store.save(attachment)
        store.cancel(attachment.id)
        self.service.schedule(attachment.id, "forget", DELETED_VISIBLE)
        return {"TransitGatewayVpcAttachment": net.render(attachment)}

    def describe_transit_gateway_vpc_attachments(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        ids = params.get("TransitGatewayAttachmentIds")
        key = "TransitGatewayVpcAttachments"
        return self.service.net.describe(ctx, params, kinds.TGW_ATTACHMENT, ids, ATTACHMENT_FILTERS, key)

    def describe_transit_gateway_attachments(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        key = "TransitGatewayAttachments"
        ids = params.get("TransitGatewayAttachmentIds")
        return self.service.net.describe(
            ctx, params, kinds.TGW_ATTACHMENT, ids, ATTACHMENT_FILTERS, key, render=self._generic_attachment
        )

    def _generic_attachment(self, attachment: Resource) -> dict[str, Any]:
        body = attachment.body
        tgw = self.service.store.get(body["TransitGatewayId"])
        described: dict[str, Any] = {
            "TransitGatewayAttachmentId": attachment.id,
            "TransitGatewayId": body["TransitGatewayId"],
            "TransitGatewayOwnerId": tgw.account if tgw else attachment.account,
            "ResourceOwnerId": body["VpcOwnerId"],
            "ResourceType": "vpc",
            "ResourceId": body["VpcId"],
            "State": body["State"],
            "CreationTime": body["CreationTime"],
        }
        if body.get("_association"):
            described["Association"] = {
                "TransitGatewayRouteTableId": body["_association"],
                "State": "associated",
            }
        tags = self.service.net.render(attachment).get("Tags")
        if tags:
            described["Tags"] = tags
        return described

    # -- route tables ----------------------------------------------------------------------------------

    def _create_table(self, ctx: RequestContext, tgw: Resource, default: bool = False) -> Resource:
        table_id = new_id("tgw-rtb")
        body = {
            "TransitGatewayRouteTableId": table_id,
            "TransitGatewayId": tgw.id,
            "State": "available" if default else "pending",
            "DefaultAssociationRouteTable": default,
            "DefaultPropagationRouteTable": default,
            "CreationTime": round(self.clock.now(), 3),
            "_routes": [],
        }
        return self.service.store.insert(
            Resource(table_id, ctx.account_id, ctx.region, kinds.TGW_ROUTE_TABLE.name, body, parent_id=tgw.id)
        )

    def create_transit_gateway_route_table(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        net = self.service.net
        tgw = net.require(ctx, kinds.TRANSIT_GATEWAY, params["TransitGatewayId"])
        table = self._create_table(ctx, tgw)
        net.tag(table, tag_specifications(params, "transit-gateway-route-table"))
        self.service.schedule(table.id, "available", PROVISIONING)
        return {"TransitGatewayRouteTable": net.render(table)}

    def delete_transit_gateway_route_table(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        net, store = self.service.net, self.service.store
        table = net.require(ctx, kinds.TGW_ROUTE_TABLE, params["TransitGatewayRouteTableId"])
        if any(
            a.body.get("_association") == table.id
            for a in store.children(table.parent_id or "", kinds.TGW_ATTACHMENT.name)
        ):
            raise incorrect_state(f"{table.id} has associated attachments.")
        described = net.render(table)
        net.forget(table)
        return {"TransitGatewayRouteTable": {**described, "State": "deleting"}}

    def describe_transit_gateway_route_tables(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        ids = params.get("TransitGatewayRouteTableIds")
        key = "TransitGatewayRouteTables"
        return self.service.net.describe(ctx, params, kinds.TGW_ROUTE_TABLE, ids, TABLE_FILTERS, key)

    def associate_transit_gateway_route_table(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        table, attachment = self._table_and_attachment(ctx, params)
        if attachment.body.get("_association"):
            raise already_associated(
                f"Transit Gateway Attachment {attachment.id} is already associated to a route table."
            )
        attachment.body["_association"] = table.id
        self.service.store.save(attachment)
        return {"Association": {**_link(table, attachment), "State": "associating"}}

    def disassociate_transit_gateway_route_table(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        table, attachment = self._table_and_attachment(ctx, params)
        if attachment.body.get("_association") != table.id:
            raise ServiceError(
                "InvalidAssociation.NotFound", f"Association {table.id}/{attachment.id} not found."
            )
        attachment.body["_association"] = None
        self.service.store.save(attachment)
        return {"Association": {**_link(table, attachment), "State": "disassociating"}}

    def enable_transit_gateway_route_table_propagation(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict:
        table, attachment = self._table_and_attachment(ctx, params)
        if table.id not in attachment.body["_propagations"]:
            attachment.body["_propagations"].append(table.id)
            self.service.store.save(attachment)
        return {"Propagation": {**_link(table, attachment), "State": "enabling"}}

    def disable_transit_gateway_route_table_propagation(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict:
        table, attachment = self._table_and_attachment(ctx, params)
        attachment.body["_propagations"] = [t for t in attachment.body["_propagations"] if t != table.id]
        self.service.store.save(attachment)
        return {"Propagation": {**_link(table, attachment), "State": "disabling"}}

    def get_transit_gateway_route_table_associations(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        found = self._links(
            ctx, params, lambda body, table_id: body.get("_association") == table_id, "associated"
        )
        return _page(found, params, "Associations")

    def get_transit_gateway_route_table_propagations(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        found = self._links(ctx, params, lambda body, table_id: table_id in body["_propagations"], "enabled")
        return _page(found, params, "TransitGatewayRouteTablePropagations")

    def _links(
        self, ctx: RequestContext, params: dict[str, Any], linked: Any, state: str
    ) -> list[dict[str, Any]]:
        """The attachments associated with (propagating to) a route table, as the Get... operations list them."""
        table = self.service.net.require(ctx, kinds.TGW_ROUTE_TABLE, params["TransitGatewayRouteTableId"])
        filters = params.get("Filters") or []
        check(filters, LINK_FILTERS)
        found = []
        for attachment in self.service.store.children(table.parent_id or "", kinds.TGW_ATTACHMENT.name):
            if linked(attachment.body, table.id):
                described = {**_link(table, attachment), "State": state}
                del described["TransitGatewayRouteTableId"]
                if matches(described, filters, LINK_FILTERS):
                    found.append(described)
        return found

    def _table_and_attachment(self, ctx: RequestContext, params: dict[str, Any]) -> tuple[Resource, Resource]:
        net = self.service.net
        table = net.require(ctx, kinds.TGW_ROUTE_TABLE, params["TransitGatewayRouteTableId"])
        attachment = net.require(ctx, kinds.TGW_ATTACHMENT, params["TransitGatewayAttachmentId"])
        return table, attachment

    def create_transit_gateway_route(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net, store = self.service.net, self.service.store
        table = net.require(ctx, kinds.TGW_ROUTE_TABLE, params["TransitGatewayRouteTableId"])
        network = cidrs.parse_network(params["DestinationCidrBlock"])
        if network is None:
            raise bad_cidr(params["DestinationCidrBlock"], "DestinationCidrBlock")
        destination = str(network)
        if any(r["DestinationCidrBlock"] == destination for r in table.body["_routes"]):
            raise ServiceError(
                "RouteAlreadyExists",
                f"Route {destination} already exists in Transit Gateway Route Table {table.id}.",
            )
        route: dict[str, Any] = {"DestinationCidrBlock": destination, "Type": "static"}
        if params.get("Blackhole"):
            route["State"] = "blackhole"
        else:
            attachment = net.require(
                ctx, kinds.TGW_ATTACHMENT, params.get("TransitGatewayAttachmentId") or ""
            )
            route.update(TransitGatewayAttachmentId=attachment.id, State="active")
        table.body["_routes"].append(route)
        store.save(table)
        return {"Route": self._describe_route(route)}

    def delete_transit_gateway_route(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net, store = self.service.net, self.service.store
        table = net.require(ctx, kinds.TGW_ROUTE_TABLE, params["TransitGatewayRouteTableId"])
        destination = params["DestinationCidrBlock"]
        route = next((r for r in table.body["_routes"] if r["DestinationCidrBlock"] == destination), None)
        if route is None:
            raise ServiceError(
                "InvalidRoute.NotFound",
                f"No route with destination-cidr-block {destination} in Transit Gateway Route Table {table.id}",
            )
        table.body["_routes"].remove(route)
        store.save(table)
        return {"Route": {**self._describe_route(route), "State": "deleted"}}

    def search_transit_gateway_routes(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net = self.service.net
        table = net.require(ctx, kinds.TGW_ROUTE_TABLE, params["TransitGatewayRouteTableId"])
        filters = params.get("Filters") or []
        check(filters, ROUTE_FILTERS)
        routes = [self._describe_route(r) for r in net.tgw_routes(table)]
        routes = [r for r in routes if matches(r, filters, ROUTE_FILTERS)]
        limit = params.get("MaxResults") or 1000
        return {"Routes": routes[:limit], "AdditionalRoutesAvailable": len(routes) > limit}

    def _describe_route(self, route: dict[str, Any]) -> dict[str, Any]:
        described = {k: v for k, v in route.items() if k != "TransitGatewayAttachmentId"}
        attachment_id = route.get("TransitGatewayAttachmentId")
        if attachment_id:
            attachment = self.service.store.get(attachment_id)
            described["TransitGatewayAttachments"] = [{
                "ResourceId": attachment.body["VpcId"] if attachment else "",
                "TransitGatewayAttachmentId": attachment_id,
                "ResourceType": "vpc",
            }]  # fmt: skip
        return described


def _page(found: list[dict[str, Any]], params: dict[str, Any], key: str) -> dict[str, Any]:
    """One page of `found` (NextToken: the offset of the next item)."""
    token = params.get("NextToken") or "0"
    if not token.isdigit():
        raise ServiceError("InvalidNextToken", f"The token '{token}' is invalid.")
    start, limit = int(token), params.get("MaxResults") or 1000
    result: dict[str, Any] = {key: found[start : start + limit]}
    if start + limit < len(found):
        result["NextToken"] = str(start + limit)
    return result


def _link(table: Resource, attachment: Resource) -> dict[str, Any]:
    return {
        "TransitGatewayRouteTableId": table.id,
        "TransitGatewayAttachmentId": attachment.id,
        "ResourceId": attachment.body["VpcId"],
        "ResourceType": "vpc",
    }
