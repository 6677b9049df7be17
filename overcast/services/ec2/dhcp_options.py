"""DHCP option sets: created, associated with VPCs (or "default": none), deleted only when no VPC uses them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.services.base import Operations
from overcast.services.ec2 import kinds
from overcast.services.ec2.errors import dependency, invalid_value
from overcast.services.ec2.filters import tag_specifications
from overcast.services.ec2.ids import new_id
from overcast.services.ec2.store import Resource

if TYPE_CHECKING:
    from overcast.services.ec2.provider import Ec2Provider

KEYS = (
    "domain-name-servers",
    "domain-name",
    "ntp-servers",
    "netbios-name-servers",
    "netbios-node-type",
    "ipv6-address-preferred-lease-time",
)
FILTERS = {
    "dhcp-options-id": "DhcpOptionsId",
    "key": "DhcpConfigurations.Key",
    "value": "DhcpConfigurations.Values.Value",
    "owner-id": "OwnerId",
}


class DhcpOptionsOperations(Operations):
    service: Ec2Provider

    def create_dhcp_options(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net = self.service.net
        configurations = []
        for item in params["DhcpConfigurations"]:
            key = item.get("Key")
            if key not in KEYS:
                raise invalid_value(key, "name", "Unrecognized option name.")
            configurations.append({"Key": key, "Values": [{"Value": v} for v in item.get("Values") or ()]})
        dhcp_id = new_id("dopt")
        body = {"DhcpConfigurations": configurations, "DhcpOptionsId": dhcp_id, "OwnerId": ctx.account_id}
        options = self.service.store.insert(
            Resource(dhcp_id, ctx.account_id, ctx.region, kinds.DHCP_OPTIONS.name, body)
        )
        net.tag(options, tag_specifications(params, "dhcp-options"))
        return {"DhcpOptions": net.render(options)}

    def associate_dhcp_options(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net = self.service.net
        vpc = net.require(ctx, kinds.VPC, params["VpcId"])
        options_id = params["DhcpOptionsId"]
        if options_id != "default":
            net.require(ctx, kinds.DHCP_OPTIONS, options_id)
        vpc.body["DhcpOptionsId"] = options_id
        self.service.store.save(vpc)
        return {}

    def delete_dhcp_options(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net, store = self.service.net, self.service.store
        options = net.require(ctx, kinds.DHCP_OPTIONS, params["DhcpOptionsId"])
        for vpc in store.page(ctx.account_id, ctx.region, kinds.VPC.name, 0, 1_000_000):
            if vpc.body["DhcpOptionsId"] == options.id:
                raise dependency("dhcpOptions", options.id)
        net.forget(options)
        return {}

    def describe_dhcp_options(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ids = params.get("DhcpOptionsIds")
        return self.service.net.describe(ctx, params, kinds.DHCP_OPTIONS, ids, FILTERS, "DhcpOptions")
