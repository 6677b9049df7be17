"""The Reachability Analyzer's engine: does a packet from a source reach a destination, and if not, which
component stops it? Pure: it reads a `Topology` (a snapshot of the VPCs involved, built by `topology.py`) and
knows nothing of requests or storage, so the instances engine can ask it which flows between sandboxes pass.

A packet is a set of packets: source and destination address spaces (a single address is a /32), a protocol,
and source and destination port ranges. A path is reachable when some packet of the set gets through, as AWS's
analyzer answers. The walk follows what AWS evaluates, in order:

- the source interface's security groups, outbound (stateful: replies need no rule);
- the source subnet's network ACL, outbound, unless the destination is in the same subnet (ACLs do not filter
  traffic inside a subnet); rules in number order, the first that matches decides;
- the subnet's route table, longest prefix first: `local` delivers inside the VPC; an internet gateway needs a
  public address on the source; a NAT gateway forwards from its own subnet with its own address (outbound only);
  a peering connection carries only traffic for the peer VPC's own blocks (peering is not transitive); a
  transit gateway routes by its attachment's route table; an interface with the source/destination check off
  forwards; a gateway endpoint reaches its service's prefix list; a route whose target is gone is a blackhole;
- the destination subnet's network ACL inbound, the destination interface's security groups inbound;
- the way back: the network ACLs again in the other direction (stateless) on ephemeral ports, and a route back
  where the path crossed a peering connection, a transit gateway or an internet gateway.

Blocked paths carry AWS's explanation codes (Reachability Analyzer "Explanation codes") naming the component.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

Net = ipaddress.IPv4Network | ipaddress.IPv6Network
PROTOCOL_NUMBERS = {"tcp": "6", "udp": "17", "icmp": "1", "icmpv6": "58", "-1": "-1", "all": "-1"}
EPHEMERAL = (1024, 65535)
ALL_PORTS = (0, 65535)
INTERNET = ipaddress.ip_network("0.0.0.0/0")
MAX_HOPS = 16
PRIVATE = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")]


def protocol_number(protocol: str) -> str:
    text = str(protocol).lower()
    return PROTOCOL_NUMBERS.get(text, text)


def network(text: str) -> Net:
    return ipaddress.ip_network(text, strict=False)


# -- the topology ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ref:
    id: str
    arn: str

    def component(self) -> dict[str, str]:
        return {"Id": self.id, "Arn": self.arn}


@dataclass
class Route:
    destinations: list[Net]  # a CIDR, or a prefix list's entries
    target: str  # "local" or the target's id (igw-, nat-, eni-, pcx-, tgw-, vpce-, eigw-)
    state: str
    description: dict[str, Any]  # AnalysisRouteTableRoute


@dataclass
class RouteTable:
    ref: Ref
    routes: list[Route]


@dataclass
class AclEntry:
    number: int
    egress: bool
    protocol: str
    network: Net
    allow: bool
    ports: tuple[int, int] | None  # None: every port
    description: dict[str, Any]  # AnalysisAclRule


@dataclass
class Acl:
    ref: Ref
    entries: list[AclEntry]  # in rule-number order


@dataclass
class SgRule:
    egress: bool
    protocol: str
    ports: tuple[int, int] | None
    networks: list[Net]  # CIDR or prefix-list peers
    group: str | None  # a referenced group
    description: dict[str, Any]  # AnalysisSecurityGroupRule


@dataclass
class Group:
    ref: Ref
    rules: list[SgRule]


@dataclass
class Interface:
    ref: Ref
    subnet_id: str
    vpc_id: str
    ips: list[str]
    public: dict[str, str]  # private address -> public address
    groups: list[str]
    kind: str = "interface"
    source_dest_check: bool = True


@dataclass
class Subnet:
    ref: Ref
    vpc_id: str
    network: Net
    route_table: str
    acl: str


@dataclass
class Vpc:
    ref: Ref
    networks: list[Net]


@dataclass
class Nat:
    ref: Ref
    vpc_id: str
    subnet_id: str
    interface_id: str
    available: bool
    public: bool


@dataclass
class Peering:
    ref: Ref
    vpcs: tuple[str, str]
    active: bool


@dataclass
class TgwAttachment:
    ref: Ref
    tgw_id: str
    vpc_id: str
    table_id: str | None
    available: bool


@dataclass
class TgwTable:
    ref: Ref
    routes: list[tuple[Net, str | None, str]]  # (destination, attachment id or None for blackhole, state)


@dataclass
class Gateway:
    ref: Ref
    vpc_id: str | None
    edge_table: str | None = None  # a gateway route table associated with it (ingress routing)


@dataclass
class Endpoint:
    ref: Ref
    vpc_id: str
    interfaces: list[str]
    networks: list[Net]  # a gateway endpoint's service ranges


@dataclass
class Topology:
    vpcs: dict[str, Vpc] = field(default_factory=dict)
    subnets: dict[str, Subnet] = field(default_factory=dict)
    route_tables: dict[str, RouteTable] = field(default_factory=dict)
    acls: dict[str, Acl] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    interfaces: dict[str, Interface] = field(default_factory=dict)
    gateways: dict[str, Gateway] = field(default_factory=dict)
    nats: dict[str, Nat] = field(default_factory=dict)
    peerings: dict[str, Peering] = field(default_factory=dict)
    tgw_attachments: dict[str, TgwAttachment] = field(default_factory=dict)
    tgw_tables: dict[str, TgwTable] = field(default_factory=dict)
    endpoints: dict[str, Endpoint] = field(default_factory=dict)
    _by_address: dict[tuple[str, str], str] = field(default_factory=dict)

    def add_interface(self, interface: Interface) -> None:
        self.interfaces[interface.ref.id] = interface
        for ip in interface.ips:
            self._by_address[(interface.vpc_id, ip)] = interface.ref.id

    def interface_at(self, vpc_id: str, space: Net) -> Interface | None:
        """The interface holding the one address of `space` in a VPC, if `space` is one address."""
        if space.num_addresses != 1:
            return None
        found = self._by_address.get((vpc_id, str(space.network_address)))
        return self.interfaces.get(found) if found else None

    def vpc_of_address(self, space: Net) -> Vpc | None:
        for vpc in self.vpcs.values():
            if any(_within(space, block) for block in vpc.networks):
                return vpc
        return None


# -- the question and the answer ------------------------------------------------------------------------


@dataclass(frozen=True)
class Packet:
    source: Net
    destination: Net
    protocol: str  # a protocol number, "-1" for all
    source_ports: tuple[int, int]
    destination_ports: tuple[int, int]

    def reply(self) -> Packet:
        return Packet(self.destination, self.source, self.protocol, self.destination_ports, self.source_ports)

    def header(self) -> dict[str, Any]:
        return {
            "DestinationAddresses": [str(self.destination)],
            "DestinationPortRanges": [{"From": self.destination_ports[0], "To": self.destination_ports[1]}],
            "Protocol": self.protocol,
            "SourceAddresses": [str(self.source)],
            "SourcePortRanges": [{"From": self.source_ports[0], "To": self.source_ports[1]}],
        }


@dataclass
class Query:
    source: str  # eni-, igw-, nat-, vpce- id
    destination: str | None  # eni-, igw-, nat-, vpce- id, or None with destination_ip
    protocol: str = "tcp"
    port: int | None = None
    source_ip: str | None = None
    destination_ip: str | None = None
    port_range: tuple[int, int] | None = None  # instead of `port`: any port of the range


@dataclass
class Verdict:
    reachable: bool
    forward: list[dict[str, Any]] = field(default_factory=list)
    back: list[dict[str, Any]] = field(default_factory=list)
    explanations: list[dict[str, Any]] = field(default_factory=list)


class Blocked(Exception):
    """The walk stops at a component; `explanation` says why, in AWS's terms."""

    def __init__(self, explanation: dict[str, Any]) -> None:
        super().__init__(explanation["ExplanationCode"])
        self.explanation = explanation


def analyze(topology: Topology, query: Query) -> Verdict:
    walk = Walk(topology, query)
    try:
        walk.run()
    except Blocked as blocked:
        return Verdict(False, walk.forward, [], [blocked.explanation])
    return Verdict(True, walk.forward, walk.back, [])


# -- matching --------------------------------------------------------------------------------------------


def _within(space: Net, block: Net) -> bool:
    return space.version == block.version and space.subnet_of(block)  # type: ignore[arg-type]


def _overlaps(space: Net, block: Net) -> bool:
    return space.version == block.version and space.overlaps(block)  # type: ignore[arg-type]


def _ports_cover(rule: tuple[int, int] | None, ports: tuple[int, int]) -> bool:
    return rule is None or (rule[0] <= ports[0] and ports[1] <= rule[1])


def _ports_overlap(rule: tuple[int, int] | None, ports: tuple[int, int]) -> bool:
    return rule is None or (rule[0] <= ports[1] and ports[0] <= rule[1])


def _protocol_matches(rule: str, packet: str) -> bool:
    return rule == "-1" or packet == "-1" or rule == packet


def acl_decision(acl: Acl, egress: bool, packet: Packet) -> AclEntry | None:
    """The entry that admits some of the packets (first match wins, in number order), None when they are all
    denied. An entry covering all that remains decides; one covering part of it admits that part if it
    allows, and leaves the rest to later entries if it denies."""
    remote = packet.destination if egress else packet.source
    ports = packet.destination_ports
    for entry in acl.entries:
        if entry.egress != egress or entry.network.version != remote.version:
            continue
        if not _protocol_matches(entry.protocol, packet.protocol):
            continue
        if not (_overlaps(remote, entry.network) and _ports_overlap(entry.ports, ports)):
            continue
        whole = _within(remote, entry.network) and _ports_cover(entry.ports, ports)
        if entry.allow:
            return entry
        if whole:
            return None
    return None


def acl_denier(acl: Acl, egress: bool, packet: Packet) -> AclEntry | None:
    """The entry that denies the packets (for the explanation): the first matching deny."""
    remote = packet.destination if egress else packet.source
    for entry in acl.entries:
        if entry.egress == egress and not entry.allow and _overlaps(remote, entry.network):
            if _protocol_matches(entry.protocol, packet.protocol) and _ports_overlap(
                entry.ports, packet.destination_ports
            ):
                return entry
    return None


def sg_rule_for(
    topology: Topology, groups: list[str], egress: bool, packet: Packet, remote: Interface | None
) -> SgRule | None:
    """A rule of the groups that allows the packets (outbound to their destination or inbound from their
    source); a group peer matches when the interface at the other end is in that group."""
    remote_space = packet.destination if egress else packet.source
    for group_id in groups:
        group = topology.groups.get(group_id)
        for rule in group.rules if group else ():
            if rule.egress != egress or not _protocol_matches(rule.protocol, packet.protocol):
                continue
            if not _ports_overlap(rule.ports, packet.destination_ports):
                continue
            if rule.group is not None:
                if remote is not None and rule.group in remote.groups:
                    return rule
            elif any(_overlaps(remote_space, block) for block in rule.networks):
                return rule
    return None


def longest_match(table: RouteTable, space: Net) -> Route | None:
    """The most specific route whose destination holds the whole destination space."""
    best: tuple[int, Route] | None = None
    for route in table.routes:
        for block in route.destinations:
            if _within(space, block) and (best is None or block.prefixlen > best[0]):
                best = (block.prefixlen, route)
    return best[1] if best else None


# -- the walk --------------------------------------------------------------------------------------------


class Walk:
    def __init__(self, topology: Topology, query: Query) -> None:
        self.topology = topology
        self.query = query
        self.forward: list[dict[str, Any]] = []
        self.back: list[dict[str, Any]] = []
        self.hops = 0

    # components ------------------------------------------------------------------------------------------

    def note(self, component: Ref, path: list[dict[str, Any]] | None = None, **details: Any) -> None:
        path = self.forward if path is None else path
        path.append({"SequenceNumber": len(path) + 1, "Component": component.component(), **details})

    def blocked(self, code: str, **details: Any) -> Blocked:
        return Blocked({"ExplanationCode": code, **details})

    # the start -------------------------------------------------------------------------------------------

    def run(self) -> None:
        topology, query = self.topology, self.query
        ports = (query.port, query.port) if query.port is not None else (query.port_range or ALL_PORTS)
        protocol = protocol_number(query.protocol)
        if query.source in topology.gateways:
            self.from_internet(topology.gateways[query.source], protocol, ports)
            return
        source = self.source_interface(query.source)
        subnet = topology.subnets[source.subnet_id]
        source_ip = query.source_ip or source.ips[0]
        destination_space = self.destination_space(source)
        packet = Packet(network(source_ip), destination_space, protocol, EPHEMERAL, ports)
        self.note(source.ref, Subnet=subnet.ref.component(), Vpc=topology.vpcs[subnet.vpc_id].ref.component(),
                  OutboundHeader=packet.header())  # fmt: skip
        if source.kind == "interface":  # an egress rule naming a group matches the destination's groups
            self.check_groups(source, egress=True, packet=packet, remote=self.destination_interface())
        self.leave_subnet(subnet, packet, source)

    def source_interface(self, source_id: str) -> Interface:
        topology = self.topology
        if source_id in topology.nats:
            return topology.interfaces[topology.nats[source_id].interface_id]
        if source_id in topology.endpoints:
            return topology.interfaces[topology.endpoints[source_id].interfaces[0]]
        return topology.interfaces[source_id]

    def destination_space(self, source: Interface) -> Net:
        topology, query = self.topology, self.query
        if query.destination_ip:
            return network(query.destination_ip)
        destination = query.destination or ""
        if destination in topology.gateways:
            return INTERNET
        target = self.destination_interface()
        if target is not None:
            return network(target.ips[0])
        if destination in topology.endpoints:
            return topology.endpoints[destination].networks[0]
        return INTERNET

    def destination_interface(self) -> Interface | None:
        topology, destination = self.topology, self.query.destination or ""
        if destination in topology.interfaces:
            return topology.interfaces[destination]
        if destination in topology.nats:
            return topology.interfaces[topology.nats[destination].interface_id]
        if destination in topology.endpoints and topology.endpoints[destination].interfaces:
            return topology.interfaces[topology.endpoints[destination].interfaces[0]]
        return None

    # security groups and ACLs ----------------------------------------------------------------------------

    def check_groups(
        self, interface: Interface, egress: bool, packet: Packet, remote: Interface | None = None
    ) -> None:
        rule = sg_rule_for(self.topology, interface.groups, egress, packet, remote)
        direction = "egress" if egress else "ingress"
        groups = [
            self.topology.groups[g].ref.component() for g in interface.groups if g in self.topology.groups
        ]
        if rule is None:
            raise self.blocked(
                "ENI_SG_RULES_MISMATCH", Direction=direction, NetworkInterface=interface.ref.component(),
                SecurityGroups=groups, Vpc=self.topology.vpcs[interface.vpc_id].ref.component(),
            )  # fmt: skip
        group = next(
            g for g in interface.groups if g in self.topology.groups and rule in self.topology.groups[g].rules
        )
        self.note(self.topology.groups[group].ref, SecurityGroupRule=rule.description)

    def check_acl(
        self, subnet: Subnet, egress: bool, packet: Packet, path: list[dict[str, Any]] | None = None
    ) -> None:
        acl = self.topology.acls[subnet.acl]
        entry = acl_decision(acl, egress, packet)
        if entry is None:
            denier = acl_denier(acl, egress, packet)
            details: dict[str, Any] = {"Acl": acl.ref.component(), "Direction": "egress" if egress else "ingress",
                                       "Subnet": subnet.ref.component(), "Vpc": self.topology.vpcs[subnet.vpc_id].ref.component()}  # fmt: skip
            if denier is not None:
                details["AclRule"] = denier.description
            raise self.blocked("SUBNET_ACL_RESTRICTION", **details)
        self.note(acl.ref, path, AclRule=entry.description)

    # leaving a subnet ------------------------------------------------------------------------------------

    def leave_subnet(self, subnet: Subnet, packet: Packet, sender: Interface) -> None:
        """The packet leaves an interface in `subnet` for its destination."""
        self.hops += 1
        if self.hops > MAX_HOPS:
            raise self.blocked("NO_ROUTE_TO_DESTINATION", Subnet=subnet.ref.component())
        topology = self.topology
        vpc = topology.vpcs[subnet.vpc_id]
        local = topology.interface_at(vpc.ref.id, packet.destination)
        if local is not None and local.subnet_id == subnet.ref.id:
            self.arrive(local, packet, sender, subnet)  # same subnet: no ACL, no routing
            return
        self.check_acl(subnet, egress=True, packet=packet)
        table = topology.route_tables[subnet.route_table]
        route = longest_match(table, packet.destination)
        if route is None:
            raise self.blocked(
                "NO_ROUTE_TO_DESTINATION", RouteTable=table.ref.component(), Subnet=subnet.ref.component(),
                Vpc=vpc.ref.component(),
            )  # fmt: skip
        if route.state != "active":
            raise self.blocked("BAD_STATE_ROUTE", RouteTable=table.ref.component(), RouteTableRoute=route.description,
                               Subnet=subnet.ref.component())  # fmt: skip
        self.note(table.ref, RouteTableRoute=route.description)
        self.follow(route, vpc, subnet, packet, sender)

    def follow(self, route: Route, vpc: Vpc, subnet: Subnet, packet: Packet, sender: Interface) -> None:
        target = route.target
        topology = self.topology
        if target == "local":
            self.deliver_in_vpc(vpc, packet, sender, subnet)
        elif target.startswith("igw-"):
            self.to_internet(topology.gateways[target], packet, sender, subnet)
        elif target.startswith("nat-"):
            self.through_nat(topology.nats[target], packet, sender, subnet)
        elif target.startswith("pcx-"):
            self.through_peering(topology.peerings[target], vpc, packet, sender, subnet)
        elif target.startswith("tgw-"):
            self.through_transit_gateway(target, vpc, packet, sender, subnet)
        elif target.startswith("eni-"):
            self.through_appliance(topology.interfaces[target], packet, sender, subnet)
        elif target.startswith("vpce-"):
            endpoint = topology.endpoints[target]
            self.note(endpoint.ref)
            self.check_acl(subnet, egress=False, packet=packet.reply(), path=self.back)
        elif target.startswith("vgw-"):  # to the VPN: the path ends at the gateway (tunnels are not modelled)
            self.note(topology.gateways[target].ref)
            self.check_acl(subnet, egress=False, packet=packet.reply(), path=self.back)
        elif target.startswith("eigw-"):
            if packet.destination.version != 6:
                raise self.blocked("CANNOT_ROUTE", RouteTableRoute=route.description)
            self.note(topology.gateways[target].ref)
        else:
            raise self.blocked("NO_ROUTE_TO_DESTINATION", RouteTableRoute=route.description)

    # arriving --------------------------------------------------------------------------------------------

    def deliver_in_vpc(
        self, vpc: Vpc, packet: Packet, sender: Interface | None, from_subnet: Subnet | None
    ) -> None:
        destination = self.topology.interface_at(vpc.ref.id, packet.destination)
        if destination is None:
            raise self.blocked("VPC_LOCAL_ROUTE_CIDR_RESTRICTION" if self.topology.vpc_of_address(packet.destination) is None
                               else "NO_ROUTE_TO_DESTINATION", Vpc=vpc.ref.component())  # fmt: skip
        subnet = self.topology.subnets[destination.subnet_id]
        if from_subnet is None or subnet.ref.id != from_subnet.ref.id:
            self.check_acl(subnet, egress=False, packet=packet)
        self.arrive(destination, packet, sender, from_subnet)

    def arrive(
        self, destination: Interface, packet: Packet, sender: Interface | None, from_subnet: Subnet | None
    ) -> None:
        """The packet reaches an interface: its groups admit it (if it has any), then the replies' ACLs."""
        wanted = self.destination_interface()
        if wanted is not None and wanted.ref.id != destination.ref.id:
            raise self.blocked("NO_POSSIBLE_DESTINATION", Component=destination.ref.component())
        if destination.kind == "interface":
            self.check_groups(destination, egress=False, packet=packet, remote=sender)
        subnet = self.topology.subnets[destination.subnet_id]
        self.note(destination.ref, Subnet=subnet.ref.component(), Vpc=self.topology.vpcs[destination.vpc_id].ref.component(),
                  InboundHeader=packet.header())  # fmt: skip
        if from_subnet is None or from_subnet.ref.id != subnet.ref.id:
            self.check_acl(subnet, egress=True, packet=packet.reply(), path=self.back)
        if from_subnet is not None and from_subnet.ref.id != subnet.ref.id:
            self.check_acl(from_subnet, egress=False, packet=packet.reply(), path=self.back)

    def to_internet(self, gateway: Gateway, packet: Packet, sender: Interface, subnet: Subnet) -> None:
        source_ip = str(packet.source.network_address)
        if source_ip not in sender.public:
            raise self.blocked(
                "IGW_PUBLIC_IP_ASSOCIATION_FOR_EGRESS", InternetGateway=gateway.ref.component(),
                NetworkInterface=sender.ref.component(),
            )  # fmt: skip
        if any(
            _overlaps(packet.destination, block) and _within(packet.destination, block) for block in PRIVATE
        ):
            raise self.blocked(
                "IGW_DESTINATION_ADDRESS_NOT_IN_RFC1918_EGRESS", InternetGateway=gateway.ref.component()
            )
        self.note(
            gateway.ref,
            OutboundHeader={**packet.header(), "SourceAddresses": [f"{sender.public[source_ip]}/32"]},
        )
        wanted = self.query.destination
        if wanted and not wanted.startswith("igw-") and self.query.destination_ip is None:
            raise self.blocked("NO_POSSIBLE_DESTINATION", InternetGateway=gateway.ref.component())
        self.check_acl(subnet, egress=False, packet=packet.reply(), path=self.back)

    def from_internet(self, gateway: Gateway, protocol: str, ports: tuple[int, int]) -> None:
        topology, query = self.topology, self.query
        destination = self.destination_interface()
        source = network(query.source_ip) if query.source_ip else INTERNET
        if source != INTERNET and any(_within(source, block) for block in PRIVATE):
            raise self.blocked(
                "IGW_SOURCE_ADDRESS_NOT_IN_RFC1918_INGRESS", InternetGateway=gateway.ref.component()
            )
        if destination is None or gateway.vpc_id != destination.vpc_id or destination.kind == "nat_gateway":
            raise self.blocked("NO_POSSIBLE_DESTINATION", InternetGateway=gateway.ref.component())
        private_ip = destination.ips[0]
        public_ip = destination.public.get(private_ip)
        if public_ip is None:
            raise self.blocked(
                "IGW_PRIVATE_IP_ASSOCIATION_FOR_INGRESS", InternetGateway=gateway.ref.component(),
                NetworkInterface=destination.ref.component(),
            )  # fmt: skip
        packet = Packet(source, network(private_ip), protocol, EPHEMERAL, ports)
        header = {**packet.header(), "DestinationAddresses": [f"{public_ip}/32"]}
        self.note(gateway.ref, Vpc=topology.vpcs[gateway.vpc_id].ref.component(), OutboundHeader=header)
        subnet = topology.subnets[destination.subnet_id]
        appliance = self.ingress_appliance(gateway, packet)
        if appliance is None:
            self.check_acl(subnet, egress=False, packet=packet)
        else:
            self.through_middlebox(appliance, packet, subnet)
        self.check_groups(destination, egress=False, packet=packet)
        self.note(destination.ref, Subnet=subnet.ref.component(), Vpc=topology.vpcs[destination.vpc_id].ref.component(),
                  InboundHeader=packet.header())  # fmt: skip
        reply = packet.reply()
        self.check_acl(subnet, egress=True, packet=reply, path=self.back)
        table = topology.route_tables[subnet.route_table]
        route = longest_match(table, reply.destination)
        if route is None or route.target != gateway.ref.id or route.state != "active":
            raise self.blocked(
                "NO_ROUTE_TO_DESTINATION", RouteTable=table.ref.component(), Subnet=subnet.ref.component(),
                InternetGateway=gateway.ref.component(),
            )  # fmt: skip
        self.note(table.ref, self.back, RouteTableRoute=route.description)
        self.note(gateway.ref, self.back)

    def ingress_appliance(self, gateway: Gateway, packet: Packet) -> Interface | None:
        """The appliance a gateway route table sends inbound traffic to (ingress routing), if any."""
        if gateway.edge_table is None or gateway.edge_table not in self.topology.route_tables:
            return None
        table = self.topology.route_tables[gateway.edge_table]
        route = longest_match(table, packet.destination)
        if route is None or route.target == "local":
            return None
        if route.state != "active" or route.target not in self.topology.interfaces:
            raise self.blocked(
                "BAD_STATE_ROUTE", RouteTable=table.ref.component(), RouteTableRoute=route.description
            )
        self.note(table.ref, RouteTableRoute=route.description)
        return self.topology.interfaces[route.target]

    def through_middlebox(self, appliance: Interface, packet: Packet, subnet: Subnet) -> None:
        """Inbound traffic redirected to an appliance, which forwards it on to the destination's subnet."""
        if appliance.source_dest_check:
            raise self.blocked(
                "ENI_SOURCE_DEST_CHECK_RESTRICTION", NetworkInterface=appliance.ref.component()
            )
        appliance_subnet = self.topology.subnets[appliance.subnet_id]
        self.check_acl(appliance_subnet, egress=False, packet=packet)
        if appliance.kind == "interface":
            self.check_groups(appliance, egress=False, packet=packet)
            self.check_groups(appliance, egress=True, packet=packet)
        self.note(appliance.ref, Subnet=appliance_subnet.ref.component())
        if appliance_subnet.ref.id != subnet.ref.id:
            self.check_acl(appliance_subnet, egress=True, packet=packet)
            self.check_acl(subnet, egress=False, packet=packet)

    def through_nat(self, nat: Nat, packet: Packet, sender: Interface, subnet: Subnet) -> None:
        if not nat.available:
            raise self.blocked("BAD_STATE", Component=nat.ref.component(), NatGateway=nat.ref.component())
        nat_subnet = self.topology.subnets[nat.subnet_id]
        if nat_subnet.ref.id != subnet.ref.id:
            self.check_acl(nat_subnet, egress=False, packet=packet)
        interface = self.topology.interfaces[nat.interface_id]
        translated = Packet(
            network(interface.ips[0]),
            packet.destination,
            packet.protocol,
            EPHEMERAL,
            packet.destination_ports,
        )
        self.note(nat.ref, Subnet=nat_subnet.ref.component(), OutboundHeader=translated.header())
        if nat_subnet.ref.id != subnet.ref.id:
            reply = packet.reply()
            self.check_acl(nat_subnet, egress=True, packet=reply, path=self.back)
            self.check_acl(subnet, egress=False, packet=reply, path=self.back)
        self.leave_subnet(nat_subnet, translated, interface)

    def through_peering(
        self, peering: Peering, vpc: Vpc, packet: Packet, sender: Interface, subnet: Subnet
    ) -> None:
        if not peering.active:
            raise self.blocked(
                "BAD_STATE", Component=peering.ref.component(), VpcPeeringConnection=peering.ref.component()
            )
        other_id = peering.vpcs[1] if peering.vpcs[0] == vpc.ref.id else peering.vpcs[0]
        other = self.topology.vpcs.get(other_id)
        if other is None or not any(_within(packet.destination, block) for block in other.networks):
            raise self.blocked(
                "PCX_REQUIRES_ADDRESS_IN_VPC_CIDR", VpcPeeringConnection=peering.ref.component(),
                DestinationVpc=(other.ref.component() if other else {"Id": other_id}),
            )  # fmt: skip
        self.note(peering.ref, SourceVpc=vpc.ref.component(), DestinationVpc=other.ref.component())
        self.deliver_in_vpc(other, packet, sender, None)
        self.route_back(other, packet, peering.ref)
        self.check_acl(subnet, egress=False, packet=packet.reply(), path=self.back)

    def through_transit_gateway(
        self, tgw_id: str, vpc: Vpc, packet: Packet, sender: Interface, subnet: Subnet
    ) -> None:
        topology = self.topology
        attachment = next(
            (a for a in topology.tgw_attachments.values() if a.tgw_id == tgw_id and a.vpc_id == vpc.ref.id),
            None,
        )
        if attachment is None or not attachment.available:
            raise self.blocked("BAD_STATE_ATTACHMENT", TransitGateway={"Id": tgw_id})
        if attachment.table_id is None or attachment.table_id not in topology.tgw_tables:
            raise self.blocked(
                "TGW_ATTACH_MISSING_TGW_RTB_ASSOCIATION", TransitGatewayAttachment=attachment.ref.component()
            )
        table = topology.tgw_tables[attachment.table_id]
        best: tuple[int, str | None, str] | None = None
        for destination, target, state in table.routes:
            if _within(packet.destination, destination) and (best is None or destination.prefixlen > best[0]):
                best = (destination.prefixlen, target, state)
        if best is None:
            raise self.blocked("TGW_RTB_CANNOT_ROUTE", TransitGatewayRouteTable=table.ref.component())
        if best[1] is None or best[2] != "active":
            raise self.blocked("TGW_RTB_BAD_STATE_ROUTE", TransitGatewayRouteTable=table.ref.component())
        self.note(attachment.ref)
        self.note(table.ref)
        target = topology.tgw_attachments[best[1]]
        other = topology.vpcs[target.vpc_id]
        self.note(target.ref)
        self.deliver_in_vpc(other, packet, sender, None)
        self.route_back(other, packet, Ref(tgw_id, ""))
        self.check_acl(subnet, egress=False, packet=packet.reply(), path=self.back)

    def through_appliance(
        self, appliance: Interface, packet: Packet, sender: Interface, subnet: Subnet
    ) -> None:
        if appliance.source_dest_check and str(packet.destination.network_address) not in appliance.ips:
            raise self.blocked(
                "ENI_SOURCE_DEST_CHECK_RESTRICTION", NetworkInterface=appliance.ref.component()
            )
        appliance_subnet = self.topology.subnets[appliance.subnet_id]
        if appliance_subnet.ref.id != subnet.ref.id:
            self.check_acl(appliance_subnet, egress=False, packet=packet)
        if appliance.kind == "interface":
            self.check_groups(appliance, egress=False, packet=packet, remote=sender)
            self.check_groups(appliance, egress=True, packet=packet)
        self.note(appliance.ref, Subnet=appliance_subnet.ref.component())
        self.leave_subnet(appliance_subnet, packet, sender)

    def route_back(self, vpc: Vpc, packet: Packet, via: Ref) -> None:
        """Across a peering connection or a transit gateway, the destination's route table must send replies
        back the same way."""
        destination = self.topology.interface_at(vpc.ref.id, packet.destination)
        if destination is None:
            return
        subnet = self.topology.subnets[destination.subnet_id]
        table = self.topology.route_tables[subnet.route_table]
        route = longest_match(table, packet.source)
        if route is None or route.target != via.id or route.state != "active":
            raise self.blocked(
                "NO_ROUTE_TO_DESTINATION", RouteTable=table.ref.component(), Subnet=subnet.ref.component(),
                Vpc=vpc.ref.component(),
            )  # fmt: skip
        self.note(table.ref, self.back, RouteTableRoute=route.description)
