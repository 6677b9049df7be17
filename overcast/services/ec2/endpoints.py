"""VPC endpoints: gateway endpoints (S3, DynamoDB) add a route to the service's prefix list in the chosen route
tables; interface endpoints put a requester-managed interface in each chosen subnet (one per zone). Policies are
stored and returned; Overcast does not route calls through endpoints, so it does not evaluate them."""

from __future__ import annotations

import json
import secrets
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.ec2 import aws_services, kinds, zones
from overcast.services.ec2.errors import invalid
from overcast.services.ec2.filters import check, matches, tag_specifications
from overcast.services.ec2.ids import new_id
from overcast.services.ec2.shapes import OPEN_POLICY, route_entry
from overcast.services.ec2.store import Resource
from overcast.services.ec2.workers import DELETED_VISIBLE, PROVISIONING

if TYPE_CHECKING:
    from overcast.services.ec2.provider import Ec2Provider

FILTERS = {
    "ip-address-type": "IpAddressType",
    "service-name": "ServiceName",
    "state": "State",
    "vpc-endpoint-state": "State",
    "vpc-id": "VpcId",
    "vpc-endpoint-id": "VpcEndpointId",
    "vpc-endpoint-type": "VpcEndpointType",
}
SERVICE_FILTERS = {"service-name": "ServiceName", "service-type": "ServiceType.ServiceType"}


class EndpointOperations(Operations):
    service: Ec2Provider

    def create_vpc_endpoint(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net, store = self.service.net, self.service.store
        vpc = net.require(ctx, kinds.VPC, params["VpcId"])
        name = params["ServiceName"]
        service = aws_services.service_of(name, ctx.region)
        kind = params.get("VpcEndpointType") or "Gateway"
        gateway_only = kind == "Gateway" and service not in aws_services.GATEWAY_SERVICE_RANGES
        if service is None or gateway_only or kind == "GatewayLoadBalancer":  # no load balancer services here
            raise ServiceError("InvalidServiceName", f"The Vpc Endpoint Service '{name}' does not exist")
        policy = params.get("PolicyDocument") or OPEN_POLICY
        _check_policy(policy)
        endpoint_id = new_id("vpce")
        body: dict[str, Any] = {
            "VpcEndpointId": endpoint_id,
            "VpcEndpointType": kind,
            "VpcId": vpc.id,
            "ServiceName": name,
            "State": "available" if kind == "Gateway" else "pending",
            "PolicyDocument": policy,
            "RouteTableIds": [],
            "SubnetIds": [],
            "Groups": [],
            "IpAddressType": "ipv4",
            "DnsOptions": {"DnsRecordIpType": "ipv4"},
            "PrivateDnsEnabled": bool(params.get("PrivateDnsEnabled", kind == "Interface")),
            "RequesterManaged": False,
            "NetworkInterfaceIds": [],
            "DnsEntries": [],
            "CreationTimestamp": round(self.clock.now(), 3),
            "OwnerId": ctx.account_id,
        }
        endpoint = store.insert(
            Resource(endpoint_id, ctx.account_id, ctx.region, kinds.VPC_ENDPOINT.name, body, vpc_id=vpc.id)
        )
        if kind == "Gateway":
            self._add_route_tables(ctx, endpoint, params.get("RouteTableIds") or [], service)
        else:
            self._add_subnets(
                ctx, endpoint, params.get("SubnetIds") or [], params.get("SecurityGroupIds"), service
            )
            self.service.schedule(endpoint.id, "vpce-available", PROVISIONING)
        store.save(endpoint)
        net.tag(endpoint, tag_specifications(params, "vpc-endpoint"))
        result: dict[str, Any] = {"VpcEndpoint": net.render(endpoint)}
        if params.get("ClientToken"):
            result["ClientToken"] = params["ClientToken"]
        return result

    def _add_route_tables(
        self, ctx: RequestContext, endpoint: Resource, table_ids: list[str], service: str
    ) -> None:
        net, store = self.service.net, self.service.store
        list_id = aws_services.prefix_list_id(ctx.account_id, ctx.region, service)
        for table in net.require_all(ctx, kinds.ROUTE_TABLE, table_ids):
            if table.vpc_id != endpoint.vpc_id:
                raise invalid(
                    f"route table {table.id} and endpoint {endpoint.id} belong to different networks"
                )
            if any(r.get("DestinationPrefixListId") == list_id for r in table.body["Routes"]):
                raise ServiceError("RouteAlreadyExists", f"The route identified by {list_id} already exists.")
            route = route_entry(None, {"GatewayId": endpoint.id}, "CreateRoute")
            table.body["Routes"].append({"DestinationPrefixListId": list_id, **route})
            store.save(table)
            endpoint.body["RouteTableIds"].append(table.id)

    def _remove_route_tables(self, endpoint: Resource, table_ids: list[str]) -> None:
        store = self.service.store
        for table_id in table_ids:
            table = store.get(table_id)
            if table is not None:
                table.body["Routes"] = [r for r in table.body["Routes"] if r.get("GatewayId") != endpoint.id]
                store.save(table)
        endpoint.body["RouteTableIds"] = [t for t in endpoint.body["RouteTableIds"] if t not in table_ids]

    def _add_subnets(
        self,
        ctx: RequestContext,
        endpoint: Resource,
        subnet_ids: list[str],
        group_ids: list[str] | None,
        service: str,
    ) -> None:
        net, store = self.service.net, self.service.store
        subnets = net.require_all(ctx, kinds.SUBNET, subnet_ids)
        zones_seen = {
            store.get(s).body["AvailabilityZone"] for s in endpoint.body["SubnetIds"] if store.get(s)
        }
        groups = self._groups(ctx, endpoint, group_ids)
        for subnet in subnets:
            if subnet.vpc_id != endpoint.vpc_id:
                raise invalid(f"Subnet {subnet.id} and endpoint {endpoint.id} belong to different networks")
            zone = subnet.body["AvailabilityZone"]
            if zone in zones_seen:
                raise ServiceError(
                    "DuplicateSubnetsInSameZone", "Found another VPC endpoint subnet in the availability zone"
                )
            zones_seen.add(zone)
            eni = net.create_interface(
                subnet, groups=groups, description=f"VPC Endpoint Interface {endpoint.id}",
                interface_type="vpc_endpoint", requester_id="amazon",
            )  # fmt: skip
            eni.parent_id = endpoint.id
            store.save(eni)
            endpoint.body["SubnetIds"].append(subnet.id)
            endpoint.body["NetworkInterfaceIds"].append(eni.id)
        suffix = f"{service}.{ctx.region}.vpce.amazonaws.com"
        entries = [
            {"DnsName": f"{endpoint.id}-{secrets.token_hex(4)}.{suffix}", "HostedZoneId": "Z7HUB22UULQXV"}
        ]
        entries += [
            {"DnsName": f"{endpoint.id}-{secrets.token_hex(4)}-{store.get(s).body['AvailabilityZone']}.{suffix}",
             "HostedZoneId": "Z7HUB22UULQXV"}
            for s in endpoint.body["SubnetIds"]
        ]  # fmt: skip
        endpoint.body["DnsEntries"] = entries

    def _groups(self, ctx: RequestContext, endpoint: Resource, group_ids: list[str] | None) -> list[Resource]:
        net, store = self.service.net, self.service.store
        if group_ids:
            groups = net.require_all(ctx, kinds.SECURITY_GROUP, group_ids)
        else:
            groups = [
                g
                for g in store.in_vpc(endpoint.vpc_id or "", kinds.SECURITY_GROUP.name)
                if g.name == "default"
            ][:1]
        endpoint.body["Groups"] = [{"GroupId": g.id, "GroupName": g.body["GroupName"]} for g in groups]
        return groups

    def modify_vpc_endpoint(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net, store = self.service.net, self.service.store
        endpoint = net.require(ctx, kinds.VPC_ENDPOINT, params["VpcEndpointId"])
        service = aws_services.service_of(endpoint.body["ServiceName"], ctx.region) or ""
        if params.get("ResetPolicy"):
            endpoint.body["PolicyDocument"] = OPEN_POLICY
        elif params.get("PolicyDocument"):
            _check_policy(params["PolicyDocument"])
            endpoint.body["PolicyDocument"] = params["PolicyDocument"]
        self._add_route_tables(ctx, endpoint, params.get("AddRouteTableIds") or [], service)
        self._remove_route_tables(endpoint, params.get("RemoveRouteTableIds") or [])
        if params.get("AddSubnetIds"):
            self._add_subnets(ctx, endpoint, params["AddSubnetIds"], None, service)
        for subnet_id in params.get("RemoveSubnetIds") or ():
            self._remove_subnet(endpoint, subnet_id)
        if params.get("AddSecurityGroupIds") or params.get("RemoveSecurityGroupIds"):
            current = [g["GroupId"] for g in endpoint.body["Groups"]]
            wanted = [g for g in current if g not in (params.get("RemoveSecurityGroupIds") or [])]
            wanted += [g for g in params.get("AddSecurityGroupIds") or () if g not in wanted]
            groups = self._groups(ctx, endpoint, wanted)
            for eni_id in endpoint.body["NetworkInterfaceIds"]:
                eni = store.get(eni_id)
                if eni is not None:
                    eni.body["Groups"] = [{"GroupId": g.id, "GroupName": g.body["GroupName"]} for g in groups]
                    store.save(eni)
        if params.get("PrivateDnsEnabled") is not None:
            endpoint.body["PrivateDnsEnabled"] = bool(params["PrivateDnsEnabled"])
        store.save(endpoint)
        return {"Return": True}

    def _remove_subnet(self, endpoint: Resource, subnet_id: str) -> None:
        store = self.service.store
        for eni_id in list(endpoint.body["NetworkInterfaceIds"]):
            eni = store.get(eni_id)
            if eni is not None and eni.subnet_id == subnet_id:
                self.service.net.delete_interface(eni)
                endpoint.body["NetworkInterfaceIds"].remove(eni_id)
        endpoint.body["SubnetIds"] = [s for s in endpoint.body["SubnetIds"] if s != subnet_id]

    def delete_vpc_endpoints(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net, store = self.service.net, self.service.store
        unsuccessful = []
        for endpoint_id in params["VpcEndpointIds"]:
            endpoint = net.find(ctx, kinds.VPC_ENDPOINT, endpoint_id)
            if endpoint is None or endpoint.body["State"] == "deleted":
                unsuccessful.append({
                    "Error": {"Code": "InvalidVpcEndpoint.NotFound", "Message": f"The VPC endpoint '{endpoint_id}' does not exist"},
                    "ResourceId": endpoint_id,
                })  # fmt: skip
                continue
            self._remove_route_tables(endpoint, list(endpoint.body["RouteTableIds"]))
            for subnet_id in list(endpoint.body["SubnetIds"]):
                self._remove_subnet(endpoint, subnet_id)
            endpoint.body["State"] = "deleted"
            store.save(endpoint)
            store.cancel(endpoint.id)
            self.service.schedule(endpoint.id, "forget", DELETED_VISIBLE)
        return {"Unsuccessful": unsuccessful}

    def describe_vpc_endpoints(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ids = params.get("VpcEndpointIds")
        return self.service.net.describe(ctx, params, kinds.VPC_ENDPOINT, ids, FILTERS, "VpcEndpoints")

    def describe_vpc_endpoint_services(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        filters = params.get("Filters") or []
        check(filters, SERVICE_FILTERS)
        zones_here = [z.name for z in self._zones(ctx)]
        details = []
        for service in aws_services.INTERFACE_SERVICES:
            types = ["Interface"] + (["Gateway"] if service in aws_services.GATEWAY_SERVICE_RANGES else [])
            for kind in types:
                details.append({
                    "ServiceName": aws_services.service_name(ctx.region, service),
                    "ServiceId": f"vpce-svc-{aws_services.prefix_list_id('aws', ctx.region, service)[3:]}{len(kind):x}",
                    "ServiceType": [{"ServiceType": kind}],
                    "AvailabilityZones": zones_here,
                    "Owner": "amazon",
                    "BaseEndpointDnsNames": [f"{service}.{ctx.region}.vpce.amazonaws.com"],
                    "VpcEndpointPolicySupported": True,
                    "AcceptanceRequired": False,
                    "ManagesVpcEndpoints": False,
                    "SupportedIpAddressTypes": ["ipv4"],
                })  # fmt: skip
        wanted = params.get("ServiceNames")
        if wanted:
            known = {d["ServiceName"] for d in details}
            unknown = [n for n in wanted if n not in known]
            if unknown:
                raise ServiceError(
                    "InvalidServiceName", f"The Vpc Endpoint Service '{unknown[0]}' does not exist"
                )
            details = [d for d in details if d["ServiceName"] in wanted]
        details = [d for d in details if matches(d, filters, SERVICE_FILTERS)]
        return {"ServiceNames": sorted({d["ServiceName"] for d in details}), "ServiceDetails": details}

    def _zones(self, ctx: RequestContext) -> list[zones.Zone]:
        return zones.zones(ctx.region)


def _check_policy(document: str) -> None:
    try:
        parsed = json.loads(document)
    except ValueError:
        raise ServiceError("MalformedPolicyDocument", "The policy document is not valid JSON.") from None
    if not isinstance(parsed, dict) or "Statement" not in parsed:
        raise ServiceError("MalformedPolicyDocument", "The policy document must contain a Statement.")
