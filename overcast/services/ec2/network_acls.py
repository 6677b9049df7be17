"""Network ACLs: stateless rules per subnet, evaluated in rule-number order (first match wins) and ending in the
`*` deny rule no one can remove; every subnet is associated with exactly one (its VPC's default until replaced)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.ec2 import cidrs, kinds
from overcast.services.ec2.errors import bad_cidr, dependency, invalid, invalid_value
from overcast.services.ec2.filters import tag_specifications
from overcast.services.ec2.shapes import ACL_DEFAULT_RULE

if TYPE_CHECKING:
    from overcast.services.ec2.provider import Ec2Provider
    from overcast.services.ec2.store import Resource

MAX_ENTRIES = 20  # per direction (AWS's default quota)
PROTOCOL_NUMBERS = {"all": "-1", "tcp": "6", "udp": "17", "icmp": "1", "icmpv6": "58"}
FILTERS = {
    "association.association-id": "Associations.NetworkAclAssociationId",
    "association.network-acl-id": "Associations.NetworkAclId",
    "association.subnet-id": "Associations.SubnetId",
    "default": "IsDefault",
    "entry.cidr": "Entries.CidrBlock",
    "entry.egress": "Entries.Egress",
    "entry.icmp.code": "Entries.IcmpTypeCode.Code",
    "entry.icmp.type": "Entries.IcmpTypeCode.Type",
    "entry.ipv6-cidr": "Entries.Ipv6CidrBlock",
    "entry.port-range.from": "Entries.PortRange.From",
    "entry.port-range.to": "Entries.PortRange.To",
    "entry.protocol": "Entries.Protocol",
    "entry.rule-action": "Entries.RuleAction",
    "entry.rule-number": "Entries.RuleNumber",
    "network-acl-id": "NetworkAclId",
    "owner-id": "OwnerId",
    "vpc-id": "VpcId",
}


def protocol_number(value: str) -> str:
    number = PROTOCOL_NUMBERS.get(str(value).lower(), str(value))
    if number != "-1" and not (number.isdigit() and 0 <= int(number) <= 255):
        raise invalid(f"Invalid value '{value}' for protocol. Must be a valid protocol number or -1 for all.")
    return number


class NetworkAclOperations(Operations):
    service: Ec2Provider

    def create_network_acl(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net = self.service.net
        vpc = net.require(ctx, kinds.VPC, params["VpcId"])
        acl = net.create_network_acl(vpc)
        net.tag(acl, tag_specifications(params, "network-acl"))
        result: dict[str, Any] = {"NetworkAcl": net.render(acl)}
        if params.get("ClientToken"):
            result["ClientToken"] = params["ClientToken"]
        return result

    def delete_network_acl(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net = self.service.net
        acl = net.require(ctx, kinds.NETWORK_ACL, params["NetworkAclId"])
        if acl.body["IsDefault"]:
            raise ServiceError("InvalidParameterValue", f"cannot delete default network ACL {acl.id}")
        if self.service.store.children(acl.id, kinds.ACL_ASSOCIATION.name):
            raise dependency("networkAcl", acl.id)
        net.forget(acl)
        return {}

    def describe_network_acls(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ids = params.get("NetworkAclIds")
        return self.service.net.describe(ctx, params, kinds.NETWORK_ACL, ids, FILTERS, "NetworkAcls")

    def create_network_acl_entry(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        acl = self.service.net.require(ctx, kinds.NETWORK_ACL, params["NetworkAclId"])
        entry = self._entry(params)
        entries = acl.body["Entries"]
        if _find(entries, entry["RuleNumber"], entry["Egress"]) is not None:
            raise ServiceError(
                "NetworkAclEntryAlreadyExists",
                f"The network acl entry identified by {entry['RuleNumber']} already exists.",
            )
        if (
            sum(1 for e in entries if e["Egress"] == entry["Egress"] and e["RuleNumber"] < ACL_DEFAULT_RULE)
            >= MAX_ENTRIES
        ):
            raise ServiceError(
                "NetworkAclEntryLimitExceeded", "The maximum number of network acl entries has been reached."
            )
        entries.append(entry)
        self.service.store.save(acl)
        return {}

    def replace_network_acl_entry(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        acl = self.service.net.require(ctx, kinds.NETWORK_ACL, params["NetworkAclId"])
        entry = self._entry(params)
        entries = acl.body["Entries"]
        index = _find(entries, entry["RuleNumber"], entry["Egress"])
        if index is None:
            raise _no_entry(entry["RuleNumber"], entry["Egress"])
        entries[index] = entry
        self.service.store.save(acl)
        return {}

    def delete_network_acl_entry(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        acl = self.service.net.require(ctx, kinds.NETWORK_ACL, params["NetworkAclId"])
        number, egress = params["RuleNumber"], bool(params["Egress"])
        _check_rule_number(number)
        entries = acl.body["Entries"]
        index = _find(entries, number, egress)
        if index is None:
            raise _no_entry(number, egress)
        del entries[index]
        self.service.store.save(acl)
        return {}

    def replace_network_acl_association(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net, store = self.service.net, self.service.store
        association = net.require(ctx, kinds.ACL_ASSOCIATION, params["AssociationId"])
        acl = net.require(ctx, kinds.NETWORK_ACL, params["NetworkAclId"])
        if acl.vpc_id != association.vpc_id:
            raise invalid(
                f"Network ACL {acl.id} and association {association.id} belong to different networks"
            )
        subnet: Resource | None = store.get(association.subnet_id or "")
        assert subnet is not None
        store.delete(association.id)
        return {"NewAssociationId": net.associate_acl(acl, subnet).id}

    def _entry(self, params: dict[str, Any]) -> dict[str, Any]:
        number = params["RuleNumber"]
        _check_rule_number(number)
        protocol = protocol_number(params["Protocol"])
        entry: dict[str, Any] = {}
        if params.get("CidrBlock"):
            network = cidrs.parse_ipv4_network(params["CidrBlock"])
            if network is None:
                raise bad_cidr(params["CidrBlock"])
            entry["CidrBlock"] = str(network)
        elif params.get("Ipv6CidrBlock"):
            network = cidrs.parse_network(params["Ipv6CidrBlock"])
            if network is None or network.version != 6:
                raise bad_cidr(params["Ipv6CidrBlock"], "ipv6CidrBlock")
            entry["Ipv6CidrBlock"] = str(network)
        else:
            raise ServiceError(
                "MissingParameter", "The request must contain the parameter cidrBlock or ipv6CidrBlock"
            )
        entry.update(Egress=bool(params["Egress"]), Protocol=protocol)
        if protocol in ("6", "17"):
            ports = params.get("PortRange")
            if not ports or ports.get("From") is None or ports.get("To") is None:
                raise ServiceError("MissingParameter", "The request must contain the parameter portRange")
            low, high = ports["From"], ports["To"]
            if not (0 <= low <= 65535 and 0 <= high <= 65535) or low > high:
                raise invalid_value(f"{low}-{high}", "portRange")
            entry["PortRange"] = {"From": low, "To": high}
        elif protocol in ("1", "58"):
            icmp = params.get("IcmpTypeCode")
            if not icmp:
                raise ServiceError("MissingParameter", "The request must contain the parameter icmpTypeCode")
            entry["IcmpTypeCode"] = {"Code": icmp.get("Code", -1), "Type": icmp.get("Type", -1)}
        entry.update(RuleAction=params["RuleAction"], RuleNumber=number)
        return entry


def _check_rule_number(number: int) -> None:
    if not 1 <= number <= ACL_DEFAULT_RULE - 1:
        raise invalid(
            f"Value ({number}) for parameter ruleNumber is invalid. Rulenumber must be in range 1..32766"
        )


def _find(entries: list[dict[str, Any]], number: int, egress: bool) -> int | None:
    return next(
        (i for i, e in enumerate(entries) if e["RuleNumber"] == number and e["Egress"] == egress), None
    )


def _no_entry(number: int, egress: bool) -> ServiceError:
    direction = "egress" if egress else "ingress"
    return ServiceError("InvalidNetworkAclEntry.NotFound", f"no {direction} entry with number {number}")
