"""The reachability engine's snapshot of the network, read from the store: the VPCs a path starts and ends in,
the VPCs peered with them, those behind the transit gateways they attach to, and everything in them that
routes or filters traffic (subnets, route tables, ACLs, security groups, interfaces, gateways)."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from overcast.services.ec2 import kinds
from overcast.services.ec2 import reachability as r
from overcast.services.ec2.shapes import TARGET_KEYS as ROUTE_TARGETS
from overcast.services.ec2.store import Resource, Rule

if TYPE_CHECKING:
    from overcast.services.ec2.network import Network

ROUTE_KEYS = ("DestinationCidrBlock", "DestinationIpv6CidrBlock", "DestinationPrefixListId")


def verdict(net: Network, query: r.Query) -> r.Verdict:
    """Analyse a path over the VPCs its ends are in and those connected to them. Instances are named by their
    primary interface; a source or destination that no longer exists is a KeyError."""
    query.source = primary_interface(net, query.source)
    if query.destination:
        query.destination = primary_interface(net, query.destination)
    vpcs = [vpc_of(net, query.source)]
    if query.destination:
        vpcs.append(vpc_of(net, query.destination))
    return r.analyze(build(net, vpcs), query)


def primary_interface(net: Network, resource_id: str) -> str:
    if resource_id.startswith("i-"):
        for eni in net.store.children(resource_id, kinds.NETWORK_INTERFACE.name):
            if eni.body["Attachment"]["DeviceIndex"] == 0:
                return eni.id
        raise KeyError(resource_id)
    return resource_id


def vpc_of(net: Network, resource_id: str) -> str:
    resource = net.store.get(resource_id)
    if resource is None or not resource.vpc_id:
        raise KeyError(resource_id)
    return resource.vpc_id


def build(net: Network, vpc_ids: list[str]) -> r.Topology:
    topology = r.Topology()
    builder = _Builder(net, topology)
    for vpc_id in _connected(net, vpc_ids):
        builder.add_vpc(vpc_id)
    return topology


def _connected(net: Network, vpc_ids: list[str]) -> list[str]:
    """The VPCs given, those peered with them, and those attached to the same transit gateways."""
    store = net.store
    found = dict.fromkeys(v for v in vpc_ids if v)
    for vpc_id in list(found):
        for pcx in net.peerings_of(vpc_id):
            for end in (pcx.vpc_id, pcx.parent_id):
                found.setdefault(end)
        for attachment in store.in_vpc(vpc_id, kinds.TGW_ATTACHMENT.name):
            for other in store.children(attachment.parent_id or "", kinds.TGW_ATTACHMENT.name):
                found.setdefault(other.vpc_id)
    return [v for v in found if v]


def ref(resource: Resource) -> r.Ref:
    return r.Ref(resource.id, resource_arn(resource))


def resource_arn(resource: Resource) -> str:
    kind = kinds.kind_of(resource.id)
    return kind.arn(resource.region, resource.account, resource.id) if kind else resource.id


class _Builder:
    def __init__(self, net: Network, topology: r.Topology) -> None:
        self.net = net
        self.store = net.store
        self.topology = topology
        self._prefix_lists: dict[str, list[r.Net]] = {}

    def prefix_list(self, list_id: str) -> list[r.Net]:
        if list_id not in self._prefix_lists:
            found = self.store.get(list_id)
            entries = found.body.get("_entries", []) if found else []
            self._prefix_lists[list_id] = [r.network(e["Cidr"]) for e in entries]
        return self._prefix_lists[list_id]

    def add_vpc(self, vpc_id: str) -> None:
        vpc = self.store.get(vpc_id)
        if vpc is None or vpc_id in self.topology.vpcs:
            return
        topology, store = self.topology, self.store
        topology.vpcs[vpc_id] = r.Vpc(ref(vpc), self.net.vpc_networks(vpc))
        main = self.net.main_association(vpc_id).parent_id or ""
        explicit = {
            a.subnet_id: a.parent_id for a in store.in_vpc(vpc_id, kinds.RTB_ASSOCIATION.name) if a.subnet_id
        }
        acl_of = {a.subnet_id: a.parent_id for a in store.in_vpc(vpc_id, kinds.ACL_ASSOCIATION.name)}
        for subnet in store.in_vpc(vpc_id, kinds.SUBNET.name):
            topology.subnets[subnet.id] = r.Subnet(
                ref(subnet), vpc_id, ipaddress.ip_network(subnet.body["CidrBlock"]),
                explicit.get(subnet.id) or main, acl_of.get(subnet.id) or "",
            )  # fmt: skip
        for table in store.in_vpc(vpc_id, kinds.ROUTE_TABLE.name):
            routes = table.body["Routes"] + (
                self.net.propagated_routes(table) if table.body["PropagatingVgws"] else []
            )
            topology.route_tables[table.id] = r.RouteTable(ref(table), [self.route(x) for x in routes])
        for acl in store.in_vpc(vpc_id, kinds.NETWORK_ACL.name):
            entries = sorted(acl.body["Entries"], key=lambda e: e["RuleNumber"])
            topology.acls[acl.id] = r.Acl(ref(acl), [acl_entry(e) for e in entries])
        for group in store.in_vpc(vpc_id, kinds.SECURITY_GROUP.name):
            topology.groups[group.id] = r.Group(
                ref(group), [self.rule(group, x) for x in store.rules(group.id)]
            )
        for eni in store.in_vpc(vpc_id, kinds.NETWORK_INTERFACE.name):
            topology.add_interface(interface(eni))
        self.add_gateways(vpc_id)

    def add_gateways(self, vpc_id: str) -> None:
        topology, store = self.topology, self.store
        edges = {
            a.body.get("GatewayId"): a.parent_id
            for a in store.in_vpc(vpc_id, kinds.RTB_ASSOCIATION.name)
            if a.name == "gateway"
        }
        for igw in store.in_vpc(vpc_id, kinds.INTERNET_GATEWAY.name):
            topology.gateways[igw.id] = r.Gateway(ref(igw), vpc_id, edges.get(igw.id))
        for vgw in store.in_vpc(vpc_id, kinds.VPN_GATEWAY.name):
            topology.gateways[vgw.id] = r.Gateway(ref(vgw), vpc_id)
        for eigw in store.in_vpc(vpc_id, kinds.EGRESS_ONLY_GATEWAY.name):
            topology.gateways[eigw.id] = r.Gateway(ref(eigw), vpc_id)
        for nat in store.in_vpc(vpc_id, kinds.NAT_GATEWAY.name):
            entry = nat.body["NatGatewayAddresses"][0]
            if nat.body["State"] in ("deleted", "deleting", "failed"):
                continue
            topology.nats[nat.id] = r.Nat(
                ref(nat), vpc_id, nat.subnet_id or "", entry["NetworkInterfaceId"], nat.body["State"] == "available",
                nat.body["ConnectivityType"] == "public",
            )  # fmt: skip
        for pcx in self.net.peerings_of(vpc_id):
            ends = (pcx.vpc_id or "", pcx.parent_id or "")
            topology.peerings[pcx.id] = r.Peering(ref(pcx), ends, pcx.body["Status"]["Code"] == "active")
        for endpoint in store.in_vpc(vpc_id, kinds.VPC_ENDPOINT.name):
            networks: list[r.Net] = []
            for table_id in endpoint.body["RouteTableIds"]:
                table = store.get(table_id)
                for route in table.body["Routes"] if table else ():
                    if route.get("GatewayId") == endpoint.id and route.get("DestinationPrefixListId"):
                        networks = self.prefix_list(route["DestinationPrefixListId"])
            topology.endpoints[endpoint.id] = r.Endpoint(
                ref(endpoint), vpc_id, list(endpoint.body["NetworkInterfaceIds"]), networks or [r.INTERNET]
            )
        for attachment in store.in_vpc(vpc_id, kinds.TGW_ATTACHMENT.name):
            body = attachment.body
            topology.tgw_attachments[attachment.id] = r.TgwAttachment(
                ref(attachment), body["TransitGatewayId"], vpc_id, body.get("_association"),
                body["State"] in ("available", "pending"),
            )  # fmt: skip
            table_id = body.get("_association")
            table = store.get(table_id) if table_id else None
            if table is not None and table.id not in topology.tgw_tables:
                routes = [
                    (r.network(x["DestinationCidrBlock"]), x.get("TransitGatewayAttachmentId"), x["State"])
                    for x in self.net.tgw_routes(table)
                ]
                topology.tgw_tables[table.id] = r.TgwTable(ref(table), routes)

    def route(self, route: dict[str, Any]) -> r.Route:
        key = next(k for k in ROUTE_KEYS if k in route)
        if key == "DestinationPrefixListId":
            destinations = self.prefix_list(route[key])
        else:
            destinations = [r.network(route[key])]
        target = route.get("NetworkInterfaceId") or next(
            (route[k] for k in ROUTE_TARGETS if route.get(k) and k not in ("InstanceId",)), "local"
        )
        described = {
            ("DestinationPrefixListId" if key == "DestinationPrefixListId" else "DestinationCidr"): route[key]
        }
        described.update({k: v for k, v in route.items() if k not in ROUTE_KEYS and k != "InstanceOwnerId"})
        return r.Route(destinations, target, route.get("State", "active"), described)

    def rule(self, group: Resource, rule: Rule) -> r.SgRule:
        body = rule.body
        protocol = r.protocol_number(body["IpProtocol"])
        ports = (
            None if protocol == "-1" or body.get("FromPort", -1) == -1 else (body["FromPort"], body["ToPort"])
        )
        networks: list[r.Net] = []
        peer_group = None
        description: dict[str, Any] = {
            "Direction": "egress" if rule.egress else "ingress",
            "SecurityGroupId": group.id,
            "Protocol": protocol,
        }
        if ports:
            description["PortRange"] = {"From": ports[0], "To": ports[1]}
        if "CidrIpv4" in body or "CidrIpv6" in body:
            cidr = body.get("CidrIpv4") or body["CidrIpv6"]
            networks = [r.network(cidr)]
            description["Cidr"] = cidr
        elif "PrefixListId" in body:
            networks = self.prefix_list(body["PrefixListId"])
            description["PrefixListId"] = body["PrefixListId"]
        else:
            peer_group = body["ReferencedGroupInfo"]["GroupId"]
            description["SecurityGroupId"] = group.id
        return r.SgRule(rule.egress, protocol, ports, networks, peer_group, description)


def acl_entry(entry: dict[str, Any]) -> r.AclEntry:
    cidr = entry.get("CidrBlock") or entry["Ipv6CidrBlock"]
    ports = None
    if "PortRange" in entry:
        ports = (entry["PortRange"]["From"], entry["PortRange"]["To"])
    described: dict[str, Any] = {
        "Cidr": cidr,
        "Egress": entry["Egress"],
        "Protocol": entry["Protocol"],
        "RuleAction": entry["RuleAction"],
        "RuleNumber": entry["RuleNumber"],
    }
    if ports:
        described["PortRange"] = {"From": ports[0], "To": ports[1]}
    return r.AclEntry(
        entry["RuleNumber"], entry["Egress"], entry["Protocol"], r.network(cidr), entry["RuleAction"] == "allow",
        ports, described,
    )  # fmt: skip


def interface(eni: Resource) -> r.Interface:
    body = eni.body
    public = {
        p["PrivateIpAddress"]: p["Association"]["PublicIp"]
        for p in body["PrivateIpAddresses"]
        if p.get("Association")
    }
    return r.Interface(
        ref(eni), eni.subnet_id or "", eni.vpc_id or "", [p["PrivateIpAddress"] for p in body["PrivateIpAddresses"]],
        public, [g["GroupId"] for g in body["Groups"]], body["InterfaceType"], body["SourceDestCheck"],
    )  # fmt: skip
