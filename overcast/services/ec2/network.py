"""What EC2's VPC families share: finding, describing and tagging resources, and building the pieces that come
with others (a VPC's main route table, default network ACL and default security group; the default VPC of a
region; a subnet's addresses; the interfaces NAT gateways and endpoints create).

`Network` lives on the provider (`self.service.net`) and is what `api.py` hands other services' code.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from overcast.errors import ServiceError
from overcast.services.ec2 import aws_services, cidrs, kinds, zones
from overcast.services.ec2.errors import bad_token, invalid, invalid_value
from overcast.services.ec2.filters import FilterSpec, check, matches
from overcast.services.ec2.ids import mac_address, new_id
from overcast.services.ec2.kinds import Kind
from overcast.services.ec2.shapes import (
    ACL_DEFAULT_RULE,
    ALL_TRAFFIC,
    TARGET_KEYS,
    acl_entry,
    cidr_association,
    ipv6_association,
    permissions,
    public,
    route_entry,
    subnet_ipv6_association,
)
from overcast.services.ec2.store import Ec2Store, Resource, Rule
from overcast.services.kit.arns import build_arn
from overcast.services.kit.paging import decode_token, encode_token
from overcast.services.kit.tags import TagRules, tag_list

if TYPE_CHECKING:
    from overcast.context import RequestContext
    from overcast.services.kit.tags import ResourceTags
    from overcast.state import Clock

BATCH = 500
TAG_RULES = TagRules(
    max_tags=50,
    too_many=lambda limit: ServiceError(
        "TagLimitExceeded", f"The maximum number of Tags for a resource has been reached (limit: {limit})."
    ),
    invalid=lambda key: invalid(f"Tag key or value exceeds the maximum length: {key}"),
    reserved=lambda key: invalid("Tag keys starting with 'aws:' are reserved for internal use"),
)


class Network:
    def __init__(self, store: Ec2Store, tags: ResourceTags, clock: Clock) -> None:
        self.store = store
        self.tags = tags
        self.clock = clock
        self._ready: set[tuple[str, str]] = set()  # regions known to be set up (saves a query per request)
        # A group of a VPC opened ports (the sandboxes' router listens on them).
        self.rules_changed: Callable[[str | None], None] = lambda vpc_id: None
        # Moves an instance to a state (the instances family's set_state; workers call it on the clock).
        self.instance_state: Callable[[Resource, str, str], None] = lambda instance, state, reason: None

    def reset(self) -> None:
        self._ready.clear()

    # -- finding ---------------------------------------------------------------------------------------

    def find(self, ctx: RequestContext, kind: Kind, resource_id: str) -> Resource | None:
        found = self.store.get(resource_id)
        if found is None or found.kind != kind.name or not self.visible(ctx, found):
            return None
        return found

    def require(self, ctx: RequestContext, kind: Kind, resource_id: str) -> Resource:
        found = self.find(ctx, kind, resource_id)
        if found is None:
            raise kind.not_found([resource_id])
        return found

    def require_all(self, ctx: RequestContext, kind: Kind, ids: list[str]) -> list[Resource]:
        found, missing = [], []
        for resource_id in dict.fromkeys(ids):
            resource = self.find(ctx, kind, resource_id)
            (found if resource else missing).append(resource or resource_id)
        if missing:
            raise kind.not_found(missing)
        return found

    @staticmethod
    def visible(ctx: RequestContext, resource: Resource) -> bool:
        own = resource.account == ctx.account_id and resource.region == ctx.region
        shared = resource.shared_account == ctx.account_id and resource.shared_region == ctx.region
        return own or shared

    # -- describing ------------------------------------------------------------------------------------

    def arn(self, resource: Resource) -> str:
        kind = kinds.BY_PREFIX[resource.id.rsplit("-", 1)[0]]
        return kind.arn(resource.region, resource.account, resource.id)

    def render(self, resource: Resource) -> dict[str, Any]:
        """The description AWS gives of a resource: its body, what is computed from other rows, its tags."""
        return self.render_many([resource])[0]

    def render_many(self, resources: list[Resource]) -> list[dict[str, Any]]:
        """Descriptions of many resources, with a few queries for all of them (not a few for each)."""
        described = [public(r.body) for r in resources]
        by_kind: dict[str, list[int]] = {}
        for index, resource in enumerate(resources):
            by_kind.setdefault(resource.kind, []).append(index)
        for kind_name, indexes in by_kind.items():
            augment = self._augmenters.get(kind_name)
            if augment:
                augment(self, [resources[i] for i in indexes], [described[i] for i in indexes])
        kinds_of = [kinds.BY_PREFIX.get(r.id.rsplit("-", 1)[0]) for r in resources]
        arns = [k.arn(r.region, r.account, r.id) for k, r in zip(kinds_of, resources, strict=True) if k]
        tags = self.tags.get_many(arns) if arns else {}
        for kind, resource, description in zip(kinds_of, resources, described, strict=True):
            if kind is None:
                continue
            found = tags.get(kind.arn(resource.region, resource.account, resource.id))
            if found or kind.tags_key == "TagSet":
                description[kind.tags_key] = tag_list(found or {})
        return described

    def describe(
        self,
        ctx: RequestContext,
        params: dict[str, Any],
        kind: Kind,
        ids: list[str] | None,
        spec: FilterSpec,
        result_key: str,
        render: Callable[[Resource], dict[str, Any]] | None = None,
        candidates: Callable[[int], list[Resource]] | None = None,
    ) -> dict[str, Any]:
        """A Describe call: the named resources (every one must exist) or all of the kind, filtered, paged
        with MaxResults/NextToken as EC2 pages. `candidates(after)` replaces the kind's own listing."""
        filters = params.get("Filters") or []
        check(filters, spec)

        def show(batch: list[Resource]) -> list[dict[str, Any]]:
            return [render(r) for r in batch] if render else self.render_many(batch)

        if ids:
            described = show(self.require_all(ctx, kind, ids))
            return {result_key: [d for d in described if matches(d, filters, spec)]}
        limit = params.get("MaxResults")
        scope = f"{kind.name}"
        after = decode_token(params.get("NextToken") or None, bad_token, scope) or 0
        if not isinstance(after, int):
            raise bad_token()
        page: list[dict[str, Any]] = []
        last = after
        # Without filters a page needs no more rows than it shows (and one to know there are more)
        size = BATCH if filters or limit is None else min(BATCH, limit + 1)
        listing = candidates or (
            lambda position: self.store.page(ctx.account_id, ctx.region, kind.name, position, size)
        )
        for batch in _batches(listing, after, size):
            for resource, described in zip(batch, show(batch), strict=True):
                if not matches(described, filters, spec):
                    continue
                if limit is not None and len(page) == limit:
                    return {result_key: page, "NextToken": encode_token(last, scope)}
                page.append(described)
                last = resource.position
        return {result_key: page}

    # -- tags ------------------------------------------------------------------------------------------

    def tag(self, resource: Resource, tags: dict[str, str]) -> None:
        if tags:
            kind = kinds.BY_PREFIX[resource.id.rsplit("-", 1)[0]]
            arn = kind.arn(resource.region, resource.account, resource.id)
            self.tags.add(arn, tags, TAG_RULES, account=resource.account, region=resource.region)

    def forget(self, resource: Resource) -> None:
        """Delete a resource and its tags."""
        self.tags.forget(self.arn(resource))
        self.store.delete(resource.id)
        self.store.cancel(resource.id)

    # -- the default VPC -------------------------------------------------------------------------------

    def ensure_region(self, account: str, region: str) -> None:
        """A region's first use creates its default DHCP options and default VPC, as AWS has them ready."""
        if (account, region) in self._ready:
            return
        if self.store.region_ready(account, region):
            self.store.db.after_commit(lambda: self._ready.add((account, region)))
            return
        self.store.mark_region_ready(account, region)
        self.ensure_aws_prefix_lists(account, region)
        self.create_default_vpc(account, region)

    def ensure_aws_prefix_lists(self, account: str, region: str) -> None:
        """AWS's prefix lists for its gateway-endpoint services, as the account sees them in a region."""
        for service, ranges in aws_services.GATEWAY_SERVICE_RANGES.items():
            list_id = aws_services.prefix_list_id(account, region, service)
            if self.store.get(list_id) is not None:
                continue
            name = aws_services.service_name(region, service)
            body = {
                "PrefixListId": list_id,
                "AddressFamily": "IPv4",
                "State": "create-complete",
                "PrefixListArn": build_arn("ec2", region, "aws", f"prefix-list/{list_id}"),
                "PrefixListName": name,
                "OwnerId": "AWS",
                "_entries": [{"Cidr": cidr} for cidr in ranges],
            }
            self.store.insert(Resource(list_id, account, region, kinds.PREFIX_LIST.name, body, name=name))

    def default_dhcp_options(self, account: str, region: str) -> Resource:
        found = self.store.named(account, region, kinds.DHCP_OPTIONS.name, "default")
        if found:
            return found[0]
        options = [
            {"Key": "domain-name", "Values": [{"Value": zones.private_dns_suffix(region)}]},
            {"Key": "domain-name-servers", "Values": [{"Value": "AmazonProvidedDNS"}]},
        ]
        dhcp_id = new_id("dopt")
        body = {"DhcpConfigurations": options, "DhcpOptionsId": dhcp_id, "OwnerId": account}
        return self.store.insert(
            Resource(dhcp_id, account, region, kinds.DHCP_OPTIONS.name, body, name="default")
        )

    def default_vpc(self, account: str, region: str) -> Resource | None:
        found = self.store.named(account, region, kinds.VPC.name, "default")
        return found[0] if found else None

    def create_default_vpc(self, account: str, region: str) -> Resource:
        """172.31.0.0/16 with a /20 per Availability Zone mapping public IPs, an attached internet gateway and
        a main route table sending 0.0.0.0/0 to it."""
        vpc = self.create_vpc(account, region, "172.31.0.0/16", "default", is_default=True)
        igw = self.create_internet_gateway(account, region)
        self.attach_internet_gateway(igw, vpc)
        main = self.main_route_table(vpc.id)
        main.body["Routes"].append(route_entry("0.0.0.0/0", {"GatewayId": igw.id}, "CreateRoute"))
        self.store.save(main)
        for index, found in enumerate(zones.zones(region)):
            cidr = f"172.31.{16 * index}.0/20"
            self.create_subnet(account, region, vpc, cidr, found, default_for_az=True)
        return vpc

    # -- VPCs and what comes with them -----------------------------------------------------------------

    def create_vpc(
        self,
        account: str,
        region: str,
        cidr: str,
        tenancy: str,
        *,
        is_default: bool = False,
        ipv6: str | None = None,
    ) -> Resource:
        vpc_id = new_id("vpc")
        dhcp = self.default_dhcp_options(account, region)
        body: dict[str, Any] = {
            "OwnerId": account,
            "InstanceTenancy": tenancy,
            "CidrBlockAssociationSet": [cidr_association(cidr)],
            "IsDefault": is_default,
            "BlockPublicAccessStates": {"InternetGatewayBlockMode": "off"},
            "VpcId": vpc_id,
            "State": "available",
            "CidrBlock": cidr,
            "DhcpOptionsId": dhcp.id,
            "_dns_support": True,
            "_dns_hostnames": is_default,
            "_nau_metrics": False,
        }
        if ipv6:
            body["Ipv6CidrBlockAssociationSet"] = [ipv6_association(ipv6, region)]
        name = "default" if is_default else None
        vpc = self.store.insert(
            Resource(vpc_id, account, region, kinds.VPC.name, body, vpc_id=vpc_id, name=name)
        )
        self.create_route_table(vpc, main=True)
        self.create_network_acl(vpc, default=True)
        self.create_security_group(vpc, "default", "default VPC security group", default=True)
        return vpc

    def vpc_networks(self, vpc: Resource) -> list[cidrs.Network]:
        """The IPv4 and IPv6 blocks associated with a VPC."""
        blocks = [
            ipaddress.ip_network(a["CidrBlock"])
            for a in vpc.body["CidrBlockAssociationSet"]
            if a["CidrBlockState"]["State"] == "associated"
        ]
        blocks += [
            ipaddress.ip_network(a["Ipv6CidrBlock"])
            for a in vpc.body.get("Ipv6CidrBlockAssociationSet") or ()
            if a["Ipv6CidrBlockState"]["State"] == "associated"
        ]
        return blocks

    def create_subnet(
        self,
        account: str,
        region: str,
        vpc: Resource,
        cidr: str,
        zone: zones.Zone,
        *,
        default_for_az: bool = False,
        ipv6: str | None = None,
    ) -> Resource:
        subnet_id = new_id("subnet")
        body: dict[str, Any] = {
            "AvailabilityZoneId": zone.zone_id,
            "MapCustomerOwnedIpOnLaunch": False,
            "OwnerId": account,
            "AssignIpv6AddressOnCreation": False,
            "Ipv6CidrBlockAssociationSet": [subnet_ipv6_association(ipv6)] if ipv6 else [],
            "SubnetArn": kinds.SUBNET.arn(region, account, subnet_id),
            "EnableDns64": False,
            "Ipv6Native": False,
            "PrivateDnsNameOptionsOnLaunch": {
                "HostnameType": "ip-name",
                "EnableResourceNameDnsARecord": False,
                "EnableResourceNameDnsAAAARecord": False,
            },
            "BlockPublicAccessStates": {"InternetGatewayBlockMode": "off"},
            "SubnetId": subnet_id,
            "State": "available",
            "VpcId": vpc.id,
            "CidrBlock": cidr,
            "AvailabilityZone": zone.name,
            "DefaultForAz": default_for_az,
            "MapPublicIpOnLaunch": default_for_az,
        }
        subnet = self.store.insert(
            Resource(subnet_id, account, region, kinds.SUBNET.name, body, vpc_id=vpc.id, subnet_id=subnet_id)
        )
        self.associate_acl(self.default_acl(vpc.id), subnet)
        return subnet

    def create_internet_gateway(self, account: str, region: str) -> Resource:
        igw_id = new_id("igw")
        body = {"Attachments": [], "InternetGatewayId": igw_id, "OwnerId": account}
        return self.store.insert(Resource(igw_id, account, region, kinds.INTERNET_GATEWAY.name, body))

    def attach_internet_gateway(self, igw: Resource, vpc: Resource) -> None:
        igw.body["Attachments"] = [{"State": "available", "VpcId": vpc.id}]
        igw.vpc_id = vpc.id
        self.store.save(igw)
        self.revive_routes(vpc.id, igw.id)

    def internet_gateway_of(self, vpc_id: str) -> Resource | None:
        found = self.store.in_vpc(vpc_id, kinds.INTERNET_GATEWAY.name)
        return found[0] if found else None

    # -- route tables ----------------------------------------------------------------------------------

    def create_route_table(self, vpc: Resource, *, main: bool = False) -> Resource:
        rtb_id = new_id("rtb")
        routes = [
            route_entry(a["CidrBlock"], {"GatewayId": "local"}, "CreateRouteTable") for a in _cidrs(vpc)
        ]
        routes += [
            {
                **route_entry(None, {"GatewayId": "local"}, "CreateRouteTable"),
                "DestinationIpv6CidrBlock": block,
            }
            for block in _ipv6_cidrs(vpc)
        ]
        body = {
            "PropagatingVgws": [],
            "RouteTableId": rtb_id,
            "Routes": routes,
            "VpcId": vpc.id,
            "OwnerId": vpc.account,
        }
        table = self.store.insert(
            Resource(rtb_id, vpc.account, vpc.region, kinds.ROUTE_TABLE.name, body, vpc_id=vpc.id)
        )
        if main:
            self.associate_route_table(table, None, main=True)
        return table

    def associate_route_table(
        self, table: Resource, subnet: Resource | None, *, main: bool = False, gateway_id: str | None = None
    ) -> Resource:
        association_id = new_id("rtbassoc")
        body: dict[str, Any] = {
            "Main": main,
            "RouteTableAssociationId": association_id,
            "RouteTableId": table.id,
        }
        if subnet is not None:
            body["SubnetId"] = subnet.id
        if gateway_id:
            body["GatewayId"] = gateway_id
        body["AssociationState"] = {"State": "associated"}
        name = "main" if main else ("gateway" if gateway_id else "subnet")
        return self.store.insert(
            Resource(
                association_id, table.account, table.region, kinds.RTB_ASSOCIATION.name, body, vpc_id=table.vpc_id,
                subnet_id=subnet.id if subnet else None, parent_id=table.id, name=name,
            )
        )  # fmt: skip

    def main_association(self, vpc_id: str) -> Resource:
        return next(a for a in self.store.in_vpc(vpc_id, kinds.RTB_ASSOCIATION.name) if a.name == "main")

    def main_route_table(self, vpc_id: str) -> Resource:
        found = self.store.get(self.main_association(vpc_id).parent_id or "")
        assert found is not None
        return found

    def subnet_association(self, subnet_id: str) -> Resource | None:
        found = self.store.in_subnet(subnet_id, kinds.RTB_ASSOCIATION.name)
        return found[0] if found else None

    def set_route_state(self, vpc_id: str, target_id: str, state: str) -> None:
        """Mark every route of the VPC's route tables that sends traffic to `target_id` (a deleted NAT gateway,
        a detached gateway, a deleted interface...) `blackhole`, or `active` again."""
        for table in self.store.in_vpc(vpc_id, kinds.ROUTE_TABLE.name):
            changed = False
            for route in table.body["Routes"]:
                if target_id in (route.get(k) for k in TARGET_KEYS) and route.get("State") != state:
                    route["State"] = state
                    changed = True
            if changed:
                self.store.save(table)

    def blackhole_routes(self, vpc_id: str, target_id: str) -> None:
        self.set_route_state(vpc_id, target_id, "blackhole")

    def revive_routes(self, vpc_id: str, target_id: str) -> None:
        self.set_route_state(vpc_id, target_id, "active")

    # -- network ACLs ----------------------------------------------------------------------------------

    def create_network_acl(self, vpc: Resource, *, default: bool = False) -> Resource:
        acl_id = new_id("acl")
        entries = []
        for egress in (True, False):
            if default:
                entries.append(acl_entry(100, "allow", egress, "0.0.0.0/0"))
            entries.append(acl_entry(ACL_DEFAULT_RULE, "deny", egress, "0.0.0.0/0"))
            if _ipv6_cidrs(vpc):
                if default:
                    entries.append(acl_entry(101, "allow", egress, ipv6="::/0"))
                entries.append(acl_entry(ACL_DEFAULT_RULE + 1, "deny", egress, ipv6="::/0"))
        body = {
            "Entries": entries,
            "IsDefault": default,
            "NetworkAclId": acl_id,
            "VpcId": vpc.id,
            "OwnerId": vpc.account,
        }
        name = "default" if default else None
        return self.store.insert(
            Resource(acl_id, vpc.account, vpc.region, kinds.NETWORK_ACL.name, body, vpc_id=vpc.id, name=name)
        )

    def default_acl(self, vpc_id: str) -> Resource:
        return next(a for a in self.store.in_vpc(vpc_id, kinds.NETWORK_ACL.name) if a.body["IsDefault"])

    def associate_acl(self, acl: Resource, subnet: Resource) -> Resource:
        association_id = new_id("aclassoc")
        body = {"NetworkAclAssociationId": association_id, "NetworkAclId": acl.id, "SubnetId": subnet.id}
        return self.store.insert(
            Resource(
                association_id, acl.account, acl.region, kinds.ACL_ASSOCIATION.name, body, vpc_id=acl.vpc_id,
                subnet_id=subnet.id, parent_id=acl.id,
            )
        )  # fmt: skip

    # -- security groups -------------------------------------------------------------------------------

    def create_security_group(
        self, vpc: Resource, name: str, description: str, *, default: bool = False
    ) -> Resource:
        group_id = new_id("sg")
        body = {
            "GroupId": group_id,
            "VpcId": vpc.id,
            "SecurityGroupArn": kinds.SECURITY_GROUP.arn(vpc.region, vpc.account, group_id),
            "OwnerId": vpc.account,
            "GroupName": name,
            "Description": description,
        }
        group = self.store.insert(
            Resource(
                group_id, vpc.account, vpc.region, kinds.SECURITY_GROUP.name, body, vpc_id=vpc.id, name=name
            )
        )
        self.add_rule(group, True, {"IpProtocol": ALL_TRAFFIC, "CidrIpv4": "0.0.0.0/0"})
        if default:
            peer = {"GroupId": group_id, "UserId": vpc.account}
            self.add_rule(group, False, {"IpProtocol": ALL_TRAFFIC, "ReferencedGroupInfo": peer})
        return group

    def add_rule(self, group: Resource, egress: bool, body: dict[str, Any]) -> Rule:
        body = {"FromPort": -1, "ToPort": -1, **body} if body["IpProtocol"] == ALL_TRAFFIC else body
        referenced = (body.get("ReferencedGroupInfo") or {}).get("GroupId")
        rule = Rule(new_id("sgr"), group.id, egress, body, referenced)
        self.store.add_rule(rule)
        if not egress:
            self.rules_changed(group.vpc_id)
        return rule

    def describe_rule(
        self, group: Resource, rule: Rule, tags: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """A rule as DescribeSecurityGroupRules gives it; `tags` when the caller fetched them already."""
        described = {
            "SecurityGroupRuleId": rule.id,
            "GroupId": group.id,
            "GroupOwnerId": group.account,
            "IsEgress": rule.egress,
            **rule.body,
            "SecurityGroupRuleArn": kinds.SECURITY_GROUP_RULE.arn(group.region, group.account, rule.id),
        }
        if tags is None:
            tags = self.tags.get(described["SecurityGroupRuleArn"])
        described["Tags"] = tag_list(tags)
        return described

    # -- addresses and interfaces ----------------------------------------------------------------------

    def allocate_ip(self, subnet: Resource, holder: str, requested: str | None = None) -> str:
        """A private address of the subnet for `holder`: the one requested (AWS's errors when it is reserved,
        outside the subnet or taken) or the lowest free one."""
        network = ipaddress.ip_network(subnet.body["CidrBlock"])
        if requested is not None:
            address = cidrs.parse_address(requested)
            if address is None or address not in network:
                raise invalid(f"Address {requested} does not fall within the subnet's address range")
            if cidrs.is_reserved(network, address):
                raise invalid(f"Address {requested} is in subnet's reserved address range")
            if not self.store.take_ip(subnet.id, int(address), holder):
                raise ServiceError("InvalidIPAddress.InUse", f"Address {requested} is in use.")
            return requested
        free = self.store.lowest_free_ip(subnet.id, cidrs.first_usable(network), cidrs.last_usable(network))
        if free is None:
            raise ServiceError(
                "InsufficientFreeAddressesInSubnet",
                f"There are not enough free addresses in subnet '{subnet.id}' to satisfy the requested number "
                "of instances.",
            )
        self.store.take_ip(subnet.id, free, holder)
        return str(ipaddress.ip_address(free))

    def create_interface(
        self,
        subnet: Resource,
        *,
        groups: list[Resource],
        description: str = "",
        private_ip: str | None = None,
        interface_type: str = "interface",
        requester_id: str | None = None,
        secondary_count: int = 0,
        secondary_ips: list[str] | None = None,
    ) -> Resource:
        eni_id = new_id("eni")
        primary = self.allocate_ip(subnet, eni_id, private_ip)
        addresses = [primary] + [self.allocate_ip(subnet, eni_id, ip) for ip in secondary_ips or ()]
        addresses += [self.allocate_ip(subnet, eni_id) for _ in range(secondary_count)]
        region = subnet.region
        body: dict[str, Any] = {
            "AvailabilityZone": subnet.body["AvailabilityZone"],
            "AvailabilityZoneId": subnet.body["AvailabilityZoneId"],
            "Description": description,
            "Groups": [{"GroupId": g.id, "GroupName": g.body["GroupName"]} for g in groups],
            "InterfaceType": interface_type,
            "Ipv6Addresses": [],
            "MacAddress": mac_address(),
            "NetworkInterfaceId": eni_id,
            "OwnerId": subnet.account,
            "PrivateDnsName": zones.private_dns_name(primary, region),
            "PrivateIpAddress": primary,
            "PrivateIpAddresses": [
                {
                    "Primary": i == 0,
                    "PrivateDnsName": zones.private_dns_name(ip, region),
                    "PrivateIpAddress": ip,
                }
                for i, ip in enumerate(addresses)
            ],
            "RequesterManaged": requester_id is not None,
            "SourceDestCheck": True,
            "Status": "in-use" if requester_id else "available",
            "SubnetId": subnet.id,
            "VpcId": subnet.vpc_id,
        }
        if requester_id:
            body["RequesterId"] = requester_id
        return self.store.insert(
            Resource(eni_id, subnet.account, subnet.region, kinds.NETWORK_INTERFACE.name, body, vpc_id=subnet.vpc_id,
                     subnet_id=subnet.id)
        )  # fmt: skip

    def delete_interface(self, eni: Resource) -> None:
        self.store.release_ips_of(eni.id)
        self.blackhole_routes(eni.vpc_id or "", eni.id)
        self.forget(eni)

    def interfaces_with_group(self, group: Resource) -> list[Resource]:
        return [
            eni
            for eni in self.store.in_vpc(group.vpc_id or "", kinds.NETWORK_INTERFACE.name)
            if any(g["GroupId"] == group.id for g in eni.body["Groups"])
        ]

    def interface_of_instance(self, account: str, region: str, instance_id: str) -> Resource | None:
        """The primary interface (device 0) of an instance: what an Elastic IP on the instance sits on."""
        for eni in self.store.children(instance_id, kinds.NETWORK_INTERFACE.name):
            if eni.account == account and eni.region == region and eni.body["Attachment"]["DeviceIndex"] == 0:
                return eni
        return None

    def associate_address(self, address: Resource, eni: Resource, private_ip: str | None = None) -> str:
        """Put an Elastic IP on one of an interface's private addresses (its primary by default), replacing the
        public IP it had; the association id."""
        private_ip = private_ip or eni.body["PrivateIpAddress"]
        association_id = new_id("eipassoc")
        public_ip = address.body["PublicIp"]
        mapping = {
            "AllocationId": address.id,
            "AssociationId": association_id,
            "IpOwnerId": address.account,
            "PublicDnsName": zones.public_dns_name(public_ip, eni.region),
            "PublicIp": public_ip,
        }
        self.set_public_mapping(eni, private_ip, mapping)
        attachment = eni.body.get("Attachment") or {}
        address.body.update(
            AssociationId=association_id,
            NetworkInterfaceId=eni.id,
            NetworkInterfaceOwnerId=eni.account,
            PrivateIpAddress=private_ip,
        )
        if attachment.get("InstanceId"):
            address.body["InstanceId"] = attachment["InstanceId"]
        address.subnet_id, address.parent_id = eni.subnet_id, eni.id
        self.store.save(address)
        return association_id

    def disassociate_address(self, address: Resource) -> None:
        eni = self.store.get(address.body.get("NetworkInterfaceId") or "")
        if eni is not None:
            self.set_public_mapping(eni, address.body["PrivateIpAddress"], None)
        for key in (
            "AssociationId",
            "NetworkInterfaceId",
            "NetworkInterfaceOwnerId",
            "PrivateIpAddress",
            "InstanceId",
        ):
            address.body.pop(key, None)
        address.subnet_id = address.parent_id = None
        self.store.save(address)

    def set_public_mapping(self, eni: Resource, private_ip: str, mapping: dict[str, Any] | None) -> None:
        """Set (or clear) the public address of one private address of an interface."""
        for entry in eni.body["PrivateIpAddresses"]:
            if entry["PrivateIpAddress"] == private_ip:
                if mapping is None:
                    entry.pop("Association", None)
                else:
                    entry["Association"] = dict(mapping)
        if private_ip == eni.body["PrivateIpAddress"]:
            if mapping is None:
                eni.body.pop("Association", None)
                eni.body.pop("PublicDnsName", None)
            else:
                eni.body["Association"] = dict(mapping)
                eni.body["PublicDnsName"] = mapping["PublicDnsName"]
        self.store.save(eni)

    def release_nat(self, nat: Resource) -> None:
        """What deleting (or failing) a NAT gateway frees: its Elastic IP, its interface, the routes to it."""
        for entry in nat.body["NatGatewayAddresses"]:
            address = self.store.get(entry.get("AllocationId") or "")
            if address is not None:
                self.disassociate_address(address)
            entry["Status"] = "disassociating"
            eni = self.store.get(entry["NetworkInterfaceId"])
            if eni is not None:
                self.delete_interface(eni)
        self.blackhole_routes(nat.vpc_id or "", nat.id)

    def attach_interface(
        self, eni: Resource, instance_id: str, device_index: int, *, delete_on_termination: bool = False
    ) -> str:
        """Attach an interface to an instance at a device index; the attachment id."""
        attachment_id = new_id("eni-attach")
        eni.body["Attachment"] = {
            "AttachTime": round(self.clock.now(), 3),
            "AttachmentId": attachment_id,
            "DeleteOnTermination": delete_on_termination,
            "DeviceIndex": device_index,
            "NetworkCardIndex": 0,
            "InstanceId": instance_id,
            "InstanceOwnerId": eni.account,
            "Status": "attached",
        }
        eni.body["Status"] = "in-use"
        eni.parent_id = instance_id
        self.store.save(eni)
        return attachment_id

    def detach_interface(self, eni: Resource) -> None:
        eni.body.pop("Attachment", None)
        eni.body["Status"] = "available"
        eni.parent_id = None
        self.store.save(eni)

    def peerings_of(self, vpc_id: str) -> list[Resource]:
        """Peering connections a VPC requested (vpc_id) or was asked into (parent_id)."""
        return self.store.in_vpc(vpc_id, kinds.PEERING.name) + self.store.children(vpc_id, kinds.PEERING.name)

    def propagated_routes(self, table: Resource) -> list[dict[str, Any]]:
        """The routes virtual private gateways propagate into a table: their VPN connections' static routes
        (a table's own route to the same block wins)."""
        own = {r.get("DestinationCidrBlock") for r in table.body["Routes"]}
        routes = []
        for propagating in table.body["PropagatingVgws"]:
            for connection in self.store.children(propagating["GatewayId"], kinds.VPN_CONNECTION.name):
                if connection.body["State"] != "available":
                    continue
                for route in connection.body["Routes"]:
                    if route["DestinationCidrBlock"] not in own:
                        own.add(route["DestinationCidrBlock"])
                        routes.append({
                            "DestinationCidrBlock": route["DestinationCidrBlock"],
                            "GatewayId": propagating["GatewayId"],
                            "Origin": "EnableVgwRoutePropagation",
                            "State": "active",
                        })  # fmt: skip
        return routes

    def tgw_routes(self, table: Resource) -> list[dict[str, Any]]:
        """A transit gateway route table's routes: its static ones, then the blocks of the VPCs whose attachments
        propagate to it (a static route wins over a propagated one to the same block)."""
        routes = [dict(route) for route in table.body["_routes"]]
        static = {route["DestinationCidrBlock"] for route in routes}
        for attachment in self.store.children(table.parent_id or "", kinds.TGW_ATTACHMENT.name):
            if table.id not in attachment.body["_propagations"]:
                continue
            vpc = self.store.get(attachment.body["VpcId"])
            for block in _cidrs(vpc) if vpc else []:
                if block["CidrBlock"] not in static:
                    routes.append({
                        "DestinationCidrBlock": block["CidrBlock"],
                        "TransitGatewayAttachmentId": attachment.id,
                        "Type": "propagated",
                        "State": "active",
                    })  # fmt: skip
        return routes

    def claim_public_ip(self, holder: str) -> str:
        while True:
            address = cidrs.public_ipv4()
            if self.store.claim_public(address, holder):
                return address

    def check_zone(self, region: str, name: str | None, zone_id: str | None) -> zones.Zone:
        wanted = name or zone_id
        found = zones.zone(region, wanted) if wanted else zones.zones(region)[0]
        if found is None:
            names = ", ".join(z.name for z in zones.zones(region))
            parameter = "availabilityZone" if name else "availabilityZoneId"
            raise invalid_value(
                wanted,
                parameter,
                f"Subnets can currently only be created in the following availability zones: {names}.",
            )
        return found

    # -- what descriptions compute from other rows -----------------------------------------------------

    def _subnets(self, subnets: list[Resource], described: list[dict[str, Any]]) -> None:
        used = self.store.used_ips_of([s.id for s in subnets])
        for subnet, description in zip(subnets, described, strict=True):
            prefix = int(subnet.body["CidrBlock"].rsplit("/", 1)[1])  # no ip_network parse on every describe
            description["AvailableIpAddressCount"] = 2 ** (32 - prefix) - 5 - used[subnet.id]

    def _route_tables(self, tables: list[Resource], described: list[dict[str, Any]]) -> None:
        associations = self.store.children_of([t.id for t in tables], kinds.RTB_ASSOCIATION.name)
        for table, description in zip(tables, described, strict=True):
            description["Associations"] = [public(a.body) for a in associations[table.id]]
            if table.body["PropagatingVgws"]:
                description["Routes"] = description["Routes"] + self.propagated_routes(table)

    def _network_acls(self, acls: list[Resource], described: list[dict[str, Any]]) -> None:
        associations = self.store.children_of([a.id for a in acls], kinds.ACL_ASSOCIATION.name)
        for acl, description in zip(acls, described, strict=True):
            description["Associations"] = [public(a.body) for a in associations[acl.id]]
            description["Entries"] = sorted(
                description["Entries"], key=lambda e: (not e["Egress"], e["RuleNumber"])
            )

    def _security_groups(self, groups: list[Resource], described: list[dict[str, Any]]) -> None:
        rules = self.store.rules_of([g.id for g in groups])
        for group, description in zip(groups, described, strict=True):
            description["IpPermissions"] = permissions([r for r in rules[group.id] if not r.egress])
            description["IpPermissionsEgress"] = permissions([r for r in rules[group.id] if r.egress])

    def _instances(self, instances: list[Resource], described: list[dict[str, Any]]) -> None:
        """An instance's addresses, groups and interfaces are its interfaces' (the primary one's, device 0)."""
        attached = self.store.children_of([i.id for i in instances], kinds.NETWORK_INTERFACE.name)
        for instance, description in zip(instances, described, strict=True):
            description["_ReservationId"] = instance.body["_ReservationId"]
            description["_OwnerId"] = instance.account
            interfaces = sorted(attached[instance.id], key=lambda e: e.body["Attachment"]["DeviceIndex"])
            description["PrivateDnsName"] = description["PublicDnsName"] = ""
            if not interfaces:
                description["NetworkInterfaces"] = []
                continue
            shown = [_instance_interface(eni.body) for eni in interfaces]
            primary = interfaces[0].body
            description.update(
                NetworkInterfaces=shown,
                PrivateDnsName=primary["PrivateDnsName"],
                PrivateIpAddress=primary["PrivateIpAddress"],
                SecurityGroups=[
                    {"GroupId": g["GroupId"], "GroupName": g["GroupName"]} for g in primary["Groups"]
                ],
                SourceDestCheck=primary["SourceDestCheck"],
                SubnetId=primary["SubnetId"],
                VpcId=primary["VpcId"],
            )
            association = primary.get("Association")
            if association:
                description["PublicIpAddress"] = association["PublicIp"]
                description["PublicDnsName"] = association.get("PublicDnsName", "")

    _augmenters: dict[str, Callable[[Network, list[Resource], list[dict[str, Any]]], None]] = {
        kinds.SUBNET.name: _subnets,
        kinds.ROUTE_TABLE.name: _route_tables,
        kinds.NETWORK_ACL.name: _network_acls,
        kinds.SECURITY_GROUP.name: _security_groups,
        kinds.INSTANCE.name: _instances,
    }


def _instance_interface(eni: dict[str, Any]) -> dict[str, Any]:
    """An interface as DescribeInstances shows it inside the instance."""
    attachment = eni["Attachment"]
    shown: dict[str, Any] = {
        "Attachment": {key: attachment[key] for key in ("AttachTime", "AttachmentId", "DeleteOnTermination",
                                                         "DeviceIndex", "Status", "NetworkCardIndex")},
        "Description": eni["Description"],
        "Groups": eni["Groups"],
        "Ipv6Addresses": eni["Ipv6Addresses"],
        "MacAddress": eni["MacAddress"],
        "NetworkInterfaceId": eni["NetworkInterfaceId"],
        "OwnerId": eni["OwnerId"],
        "PrivateDnsName": eni["PrivateDnsName"],
        "PrivateIpAddress": eni["PrivateIpAddress"],
        "PrivateIpAddresses": [_public_view(p) for p in eni["PrivateIpAddresses"]],
        "SourceDestCheck": eni["SourceDestCheck"],
        "Status": eni["Status"],
        "SubnetId": eni["SubnetId"],
        "VpcId": eni["VpcId"],
        "InterfaceType": eni["InterfaceType"],
        "Operator": {"Managed": False},
    }  # fmt: skip
    if eni.get("Association"):
        shown["Association"] = _association_view(eni["Association"])
    return shown


def _association_view(association: dict[str, Any]) -> dict[str, Any]:
    return {key: association[key] for key in ("IpOwnerId", "PublicDnsName", "PublicIp") if key in association}


def _public_view(address: dict[str, Any]) -> dict[str, Any]:
    shown = {key: value for key, value in address.items() if key != "Association"}
    if address.get("Association"):
        shown["Association"] = _association_view(address["Association"])
    return shown


def _batches(listing: Callable[[int], list[Resource]], after: int, size: int) -> Iterator[list[Resource]]:
    while True:
        batch = listing(after)
        yield batch
        if len(batch) < size:
            return
        after = batch[-1].position


def _cidrs(vpc: Resource) -> list[dict[str, Any]]:
    return [a for a in vpc.body["CidrBlockAssociationSet"] if a["CidrBlockState"]["State"] == "associated"]


def _ipv6_cidrs(vpc: Resource) -> list[str]:
    return [
        a["Ipv6CidrBlock"]
        for a in vpc.body.get("Ipv6CidrBlockAssociationSet") or ()
        if a["Ipv6CidrBlockState"]["State"] == "associated"
    ]
