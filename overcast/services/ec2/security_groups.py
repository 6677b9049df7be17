"""Security groups: allow rules in and out (CIDR v4/v6, prefix lists, other groups: itself, or across a peering),
each a rule with an `sgr-` id; the default egress rule; AWS's limits and its duplicate and dependency errors."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.ec2 import cidrs, kinds
from overcast.services.ec2.errors import bad_cidr, bad_token, dependent_object, invalid
from overcast.services.ec2.filters import check, matches, tag_specifications
from overcast.services.ec2.shapes import ALL_TRAFFIC
from overcast.services.ec2.store import Resource, Rule
from overcast.services.kit.paging import decode_token, encode_token

if TYPE_CHECKING:
    from overcast.services.ec2.provider import Ec2Provider

MAX_GROUPS = 2500  # per VPC
MAX_RULES = 60  # per direction
PROTOCOLS = {"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6", "all": ALL_TRAFFIC}
_NAME = re.compile(r"[a-zA-Z0-9 ._\-:/()#,@\[\]+=&;{}!$*]{1,255}")


def _permission_filters(prefix: str, key: str) -> dict[str, Any]:
    return {
        f"{prefix}.cidr": f"{key}.IpRanges.CidrIp",
        f"{prefix}.from-port": f"{key}.FromPort",
        f"{prefix}.group-id": f"{key}.UserIdGroupPairs.GroupId",
        f"{prefix}.group-name": f"{key}.UserIdGroupPairs.GroupName",
        f"{prefix}.ipv6-cidr": f"{key}.Ipv6Ranges.CidrIpv6",
        f"{prefix}.prefix-list-id": f"{key}.PrefixListIds.PrefixListId",
        f"{prefix}.protocol": f"{key}.IpProtocol",
        f"{prefix}.to-port": f"{key}.ToPort",
        f"{prefix}.user-id": f"{key}.UserIdGroupPairs.UserId",
    }


FILTERS = {
    "description": "Description",
    "group-id": "GroupId",
    "group-name": "GroupName",
    "owner-id": "OwnerId",
    "vpc-id": "VpcId",
    **_permission_filters("ip-permission", "IpPermissions"),
    **_permission_filters("egress.ip-permission", "IpPermissionsEgress"),
}
RULE_FILTERS = {"group-id": "GroupId", "security-group-rule-id": "SecurityGroupRuleId"}


def normalise_protocol(value: Any) -> str:
    text = str(value).lower()
    return PROTOCOLS.get(text, text)


def peer_text(body: dict[str, Any]) -> str:
    for key in ("CidrIpv4", "CidrIpv6", "PrefixListId"):
        if key in body:
            return body[key]
    return body["ReferencedGroupInfo"]["GroupId"]


def rule_text(body: dict[str, Any]) -> str:
    """A rule as AWS quotes it in InvalidPermission.Duplicate."""
    protocol = body["IpProtocol"]
    peer = f"peer: {peer_text(body)}"
    if protocol == ALL_TRAFFIC:
        return f"{peer}, ALL, ALLOW"
    if protocol in ("tcp", "udp"):
        return f"{peer}, {protocol.upper()}, from port: {body['FromPort']}, to port: {body['ToPort']}, ALLOW"
    if protocol in ("icmp", "icmpv6"):
        return f"{peer}, {protocol.upper()}, type: {body['FromPort']}, code: {body['ToPort']}, ALLOW"
    return f"{peer}, protocol: {protocol}, ALLOW"


def same_rule(a: dict[str, Any], b: dict[str, Any]) -> bool:
    keys = ("IpProtocol", "FromPort", "ToPort")
    return all(a.get(k) == b.get(k) for k in keys) and peer_text(a) == peer_text(b)


class SecurityGroupOperations(Operations):
    service: Ec2Provider

    # -- groups ----------------------------------------------------------------------------------------

    def create_security_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net, store = self.service.net, self.service.store
        name, description = params["GroupName"], params["Description"]
        vpc = self._vpc(ctx, params.get("VpcId"))
        if name.lower().startswith("sg-"):
            raise invalid("Group names may not be in the format sg-*")
        if not _NAME.fullmatch(name):
            raise invalid(
                f"Value ({name}) for parameter GroupName is invalid. Character sets beyond ASCII are not supported."
            )
        if not _NAME.fullmatch(description):
            raise invalid(
                f"Value ({description}) for parameter GroupDescription is invalid. Character sets beyond ASCII are not supported."
            )
        if name == "default":
            raise invalid("Cannot use reserved security group name: default")
        groups = store.in_vpc(vpc.id, kinds.SECURITY_GROUP.name)
        if any(g.name == name for g in groups):
            raise ServiceError(
                "InvalidGroup.Duplicate", f"The security group '{name}' already exists for VPC '{vpc.id}'"
            )
        if len(groups) >= MAX_GROUPS:
            raise ServiceError(
                "SecurityGroupLimitExceeded", "The maximum number of security groups has been reached."
            )
        group = net.create_security_group(vpc, name, description)
        tags = tag_specifications(params, "security-group")
        net.tag(group, tags)
        result: dict[str, Any] = {"GroupId": group.id}
        if tags:
            result["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
        result["SecurityGroupArn"] = group.body["SecurityGroupArn"]
        return result

    def _vpc(self, ctx: RequestContext, vpc_id: str | None) -> Resource:
        net = self.service.net
        if vpc_id:
            return net.require(ctx, kinds.VPC, vpc_id)
        vpc = net.default_vpc(ctx.account_id, ctx.region)
        if vpc is None:
            raise ServiceError("VPCIdNotSpecified", "No default VPC for this user")
        return vpc

    def _group(self, ctx: RequestContext, params: dict[str, Any]) -> Resource:
        """The group a request names by GroupId, or by GroupName in the default VPC."""
        net = self.service.net
        if params.get("GroupId"):
            return net.require(ctx, kinds.SECURITY_GROUP, params["GroupId"])
        name = params.get("GroupName")
        if not name:
            raise ServiceError(
                "MissingParameter", "The request must contain the parameter groupName or groupId"
            )
        vpc = net.default_vpc(ctx.account_id, ctx.region)
        found = [g for g in self.service.store.named(ctx.account_id, ctx.region, kinds.SECURITY_GROUP.name, name)
                 if vpc is not None and g.vpc_id == vpc.id]  # fmt: skip
        if not found:
            where = f" in default VPC '{vpc.id}'" if vpc else ""
            raise ServiceError("InvalidGroup.NotFound", f"The security group '{name}' does not exist{where}")
        return found[0]

    def delete_security_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net, store = self.service.net, self.service.store
        group = self._group(ctx, params)
        if group.name == "default":
            raise ServiceError(
                "CannotDelete",
                f'the specified group: "{group.id}" name: "default" cannot be deleted by a user',
            )
        if store.groups_referencing(group.id) or net.interfaces_with_group(group):
            raise dependent_object(group.id)
        for rule in store.rules(group.id):
            self.service.tags.forget(kinds.SECURITY_GROUP_RULE.arn(group.region, group.account, rule.id))
        store.delete_rules_of(group.id)
        net.forget(group)
        return {"Return": True, "GroupId": group.id}

    def describe_security_groups(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ids = list(params.get("GroupIds") or [])
        ids += [self._group(ctx, {"GroupName": name}).id for name in params.get("GroupNames") or ()]
        return self.service.net.describe(ctx, params, kinds.SECURITY_GROUP, ids, FILTERS, "SecurityGroups")

    # -- rules -----------------------------------------------------------------------------------------

    def authorize_security_group_ingress(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._authorize(ctx, params, egress=False)

    def authorize_security_group_egress(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._authorize(ctx, params, egress=True)

    def _authorize(self, ctx: RequestContext, params: dict[str, Any], egress: bool) -> dict[str, Any]:
        net, store = self.service.net, self.service.store
        group = self._group(ctx, params)
        wanted = self._rule_bodies(ctx, group, params)
        existing = [r.body for r in store.rules(group.id, egress)]
        for index, body in enumerate(wanted):
            if any(same_rule(body, other) for other in existing + wanted[:index]):
                raise ServiceError(
                    "InvalidPermission.Duplicate", f'the specified rule "{rule_text(body)}" already exists'
                )
        if len(existing) + len(wanted) > MAX_RULES:
            raise ServiceError(
                "RulesPerSecurityGroupLimitExceeded",
                "The maximum number of rules per security group has been reached.",
            )
        tags = tag_specifications(params, "security-group-rule")
        rules = [net.add_rule(group, egress, body) for body in wanted]
        for rule in rules:
            if tags:
                arn = kinds.SECURITY_GROUP_RULE.arn(group.region, group.account, rule.id)
                self.service.tags.add(arn, tags, account=group.account, region=group.region)
        return {"Return": True, "SecurityGroupRules": [net.describe_rule(group, r) for r in rules]}

    def revoke_security_group_ingress(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._revoke(ctx, params, egress=False)

    def revoke_security_group_egress(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._revoke(ctx, params, egress=True)

    def _revoke(self, ctx: RequestContext, params: dict[str, Any], egress: bool) -> dict[str, Any]:
        store = self.service.store
        group = self._group(ctx, params)
        rules = store.rules(group.id, egress)
        if params.get("SecurityGroupRuleIds"):
            doomed = []
            for rule_id in params["SecurityGroupRuleIds"]:
                rule = next((r for r in rules if r.id == rule_id), None)
                if rule is None:
                    raise ServiceError(
                        "InvalidSecurityGroupRuleId.NotFound",
                        f"The security group rule ID '{rule_id}' does not exist",
                    )
                doomed.append(rule)
        else:
            doomed = []
            for body in self._rule_bodies(ctx, group, params, checking=False):
                rule = next((r for r in rules if same_rule(r.body, body)), None)
                if rule is None:
                    raise ServiceError(
                        "InvalidPermission.NotFound",
                        "The specified rule does not exist in this security group.",
                    )
                doomed.append(rule)
        for rule in doomed:
            store.delete_rule(rule.id)
            self.service.tags.forget(kinds.SECURITY_GROUP_RULE.arn(group.region, group.account, rule.id))
        return {"Return": True, "RevokedSecurityGroupRules": [_revoked(group, r) for r in doomed]}

    def describe_security_group_rules(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        filters = params.get("Filters") or []
        check(filters, RULE_FILTERS)
        net, store = self.service.net, self.service.store
        described: list[dict[str, Any]] = []
        wanted_ids = params.get("SecurityGroupRuleIds")
        if wanted_ids:
            for rule_id in wanted_ids:
                rule = store.rule(rule_id)
                group = net.find(ctx, kinds.SECURITY_GROUP, rule.group_id) if rule else None
                if rule is None or group is None:
                    raise ServiceError(
                        "InvalidSecurityGroupRuleId.NotFound",
                        f"The security group rule ID '{rule_id}' does not exist",
                    )
                described.append(net.describe_rule(group, rule))
        else:
            groups = store.page(ctx.account_id, ctx.region, kinds.SECURITY_GROUP.name, 0, 1_000_000)
            rules = store.rules_of([g.id for g in groups])
            pairs = [(g, rule) for g in groups for rule in rules[g.id]]
            arns = [kinds.SECURITY_GROUP_RULE.arn(g.region, g.account, rule.id) for g, rule in pairs]
            tags = self.service.tags.get_many(arns)
            described += [
                net.describe_rule(g, rule, tags.get(arn, {}))
                for (g, rule), arn in zip(pairs, arns, strict=True)
            ]
        described = [d for d in described if matches(d, filters, RULE_FILTERS)]
        return _page(described, params, "SecurityGroupRules")

    def modify_security_group_rules(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        store = self.service.store
        group = self._group(ctx, params)
        for change in params["SecurityGroupRules"]:
            rule = store.rule(change["SecurityGroupRuleId"])
            if rule is None or rule.group_id != group.id:
                raise ServiceError(
                    "InvalidSecurityGroupRuleId.NotFound",
                    f"The security group rule ID '{change['SecurityGroupRuleId']}' does not exist",
                )
            request = change.get("SecurityGroupRule") or {}
            permission: dict[str, Any] = {"IpProtocol": request.get("IpProtocol", "-1")}
            for key in ("FromPort", "ToPort"):
                if key in request:
                    permission[key] = request[key]
            note = {"Description": request["Description"]} if request.get("Description") else {}
            if request.get("CidrIpv4"):
                permission["IpRanges"] = [{"CidrIp": request["CidrIpv4"], **note}]
            elif request.get("CidrIpv6"):
                permission["Ipv6Ranges"] = [{"CidrIpv6": request["CidrIpv6"], **note}]
            elif request.get("PrefixListId"):
                permission["PrefixListIds"] = [{"PrefixListId": request["PrefixListId"], **note}]
            elif request.get("ReferencedGroupId"):
                permission["UserIdGroupPairs"] = [{"GroupId": request["ReferencedGroupId"], **note}]
            else:
                raise ServiceError(
                    "MissingParameter", "The request must contain a rule source or destination"
                )
            (body,) = self._rule_bodies(ctx, group, {"IpPermissions": [permission]})
            others = [r.body for r in store.rules(group.id, rule.egress) if r.id != rule.id]
            if any(same_rule(body, other) for other in others):
                raise ServiceError(
                    "InvalidPermission.Duplicate", f'the specified rule "{rule_text(body)}" already exists'
                )
            rule.body = {"FromPort": -1, "ToPort": -1, **body} if body["IpProtocol"] == ALL_TRAFFIC else body
            rule.referenced_group = (body.get("ReferencedGroupInfo") or {}).get("GroupId")
            store.save_rule(rule)
            self.service.net.rules_changed(group.vpc_id)
        return {"Return": True}

    def update_security_group_rule_descriptions_ingress(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict:
        return self._describe_rules(ctx, params, egress=False)

    def update_security_group_rule_descriptions_egress(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict:
        return self._describe_rules(ctx, params, egress=True)

    def _describe_rules(self, ctx: RequestContext, params: dict[str, Any], egress: bool) -> dict[str, Any]:
        store = self.service.store
        group = self._group(ctx, params)
        rules = store.rules(group.id, egress)
        for body in self._rule_bodies(ctx, group, params, checking=False):
            rule = next((r for r in rules if same_rule(r.body, body)), None)
            if rule is None:
                raise ServiceError(
                    "InvalidPermission.NotFound", "The specified rule does not exist in this security group."
                )
            rule.body.pop("Description", None)
            if body.get("Description"):
                rule.body["Description"] = body["Description"]
            store.save_rule(rule)
        return {"Return": True}

    # -- what a request's permissions say --------------------------------------------------------------

    def _rule_bodies(
        self, ctx: RequestContext, group: Resource, params: dict[str, Any], checking: bool = True
    ) -> list[dict[str, Any]]:
        """One rule per peer of each IpPermission (or of the legacy top-level members)."""
        permissions = params.get("IpPermissions")
        if not permissions:
            permissions = [self._legacy_permission(params)]
        bodies = []
        for permission in permissions:
            head = self._protocol_and_ports(permission)
            for peer in self._peers(ctx, group, permission, checking):
                bodies.append({**head, **peer})
        return bodies

    def _legacy_permission(self, params: dict[str, Any]) -> dict[str, Any]:
        permission: dict[str, Any] = {"IpProtocol": params.get("IpProtocol") or ALL_TRAFFIC}
        for key in ("FromPort", "ToPort"):
            if params.get(key) is not None:
                permission[key] = params[key]
        if params.get("CidrIp"):
            permission["IpRanges"] = [{"CidrIp": params["CidrIp"]}]
        elif params.get("SourceSecurityGroupName"):
            pair = {"GroupName": params["SourceSecurityGroupName"]}
            if params.get("SourceSecurityGroupOwnerId"):
                pair["UserId"] = params["SourceSecurityGroupOwnerId"]
            permission["UserIdGroupPairs"] = [pair]
        else:
            raise ServiceError("MissingParameter", "The request must contain the parameter ipPermissions")
        return permission

    @staticmethod
    def _protocol_and_ports(permission: dict[str, Any]) -> dict[str, Any]:
        protocol = normalise_protocol(permission.get("IpProtocol", ALL_TRAFFIC))
        if protocol == ALL_TRAFFIC:
            return {"IpProtocol": ALL_TRAFFIC, "FromPort": -1, "ToPort": -1}
        low, high = permission.get("FromPort"), permission.get("ToPort")
        if protocol in ("tcp", "udp"):
            if low is None or high is None:
                raise invalid(
                    "Invalid value 'Must specify both from and to ports with TCP/UDP.' for portRange"
                )
            if not (0 <= low <= 65535 and 0 <= high <= 65535) or low > high:
                raise invalid(f"Invalid {protocol.upper()} port range: {low} - {high}")
        elif protocol in ("icmp", "icmpv6"):
            low = -1 if low is None else low
            high = -1 if high is None else high
        elif not protocol.isdigit() or int(protocol) > 255:
            raise invalid(
                f"Invalid value '{permission.get('IpProtocol')}' for IP protocol. Unknown protocol."
            )
        else:
            low = -1 if low is None else low
            high = -1 if high is None else high
        return {"IpProtocol": protocol, "FromPort": low, "ToPort": high}

    def _peers(
        self, ctx: RequestContext, group: Resource, permission: dict[str, Any], checking: bool
    ) -> list[dict[str, Any]]:
        peers: list[dict[str, Any]] = []
        for item in permission.get("IpRanges") or ():
            network = cidrs.parse_ipv4_network(item.get("CidrIp") or "")
            if network is None:
                raise bad_cidr(item.get("CidrIp"), "cidrIp")
            peers.append({"CidrIpv4": str(network), **_note(item)})
        for item in permission.get("Ipv6Ranges") or ():
            network = cidrs.parse_network(item.get("CidrIpv6") or "")
            if network is None or network.version != 6:
                raise bad_cidr(item.get("CidrIpv6"), "cidrIpv6")
            peers.append({"CidrIpv6": str(network), **_note(item)})
        for item in permission.get("PrefixListIds") or ():
            if (
                checking
                and self.service.net.find(ctx, kinds.PREFIX_LIST, item.get("PrefixListId") or "") is None
            ):
                raise kinds.PREFIX_LIST.not_found([item.get("PrefixListId")])
            peers.append({"PrefixListId": item["PrefixListId"], **_note(item)})
        for item in permission.get("UserIdGroupPairs") or ():
            peers.append({"ReferencedGroupInfo": self._referenced(ctx, group, item, checking), **_note(item)})
        if not peers:
            raise ServiceError("MissingParameter", "The request must contain a rule source or destination")
        return peers

    def _referenced(
        self, ctx: RequestContext, group: Resource, pair: dict[str, Any], checking: bool
    ) -> dict[str, Any]:
        """A group a rule names as its peer: in the same VPC, or in a VPC peered with it (any account)."""
        store = self.service.store
        peering_id = pair.get("VpcPeeringConnectionId")
        if pair.get("GroupId"):
            peer = store.get(pair["GroupId"])
            if peer is None or peer.kind != kinds.SECURITY_GROUP.name:
                if checking:
                    raise kinds.SECURITY_GROUP.not_found([pair["GroupId"]])
                return {"GroupId": pair["GroupId"], "UserId": pair.get("UserId") or ctx.account_id}
        else:
            peer = self._group(ctx, {"GroupName": pair.get("GroupName")})
        info: dict[str, Any] = {"GroupId": peer.id, "UserId": peer.account}
        if peer.vpc_id != group.vpc_id:
            pcx = self._peering_between(group.vpc_id or "", peer.vpc_id or "", peering_id)
            if pcx is None:
                if checking:
                    raise invalid("You have specified two resources that belong to different networks.")
            else:
                info.update(VpcId=peer.vpc_id, VpcPeeringConnectionId=pcx.id, PeeringStatus="active")
        elif peer.account != ctx.account_id and checking:
            raise kinds.SECURITY_GROUP.not_found([peer.id])
        return info

    def _peering_between(self, vpc_a: str, vpc_b: str, wanted: str | None) -> Resource | None:
        for pcx in self.service.net.peerings_of(vpc_a):
            ends = {pcx.body["RequesterVpcInfo"]["VpcId"], pcx.body["AccepterVpcInfo"]["VpcId"]}
            if ends == {vpc_a, vpc_b} and pcx.body["Status"]["Code"] == "active" and wanted in (None, pcx.id):
                return pcx
        return None


def _note(item: dict[str, Any]) -> dict[str, Any]:
    return {"Description": item["Description"]} if item.get("Description") else {}


def _revoked(group: Resource, rule: Rule) -> dict[str, Any]:
    body = rule.body
    out: dict[str, Any] = {
        "SecurityGroupRuleId": rule.id,
        "GroupId": group.id,
        "IsEgress": rule.egress,
        "IpProtocol": body["IpProtocol"],
        "FromPort": body.get("FromPort", -1),
        "ToPort": body.get("ToPort", -1),
    }
    for key in ("CidrIpv4", "CidrIpv6", "PrefixListId", "Description"):
        if key in body:
            out[key] = body[key]
    if "ReferencedGroupInfo" in body:
        out["ReferencedSecurityGroupId"] = body["ReferencedGroupInfo"]["GroupId"]
    return out


def _page(items: list[dict[str, Any]], params: dict[str, Any], key: str) -> dict[str, Any]:
    start = decode_token(params.get("NextToken") or None, bad_token, key) or 0
    if not isinstance(start, int):
        raise bad_token()
    limit = params.get("MaxResults")
    if limit is None:
        return {key: items[start:]}
    page = items[start : start + limit]
    result: dict[str, Any] = {key: page}
    if start + limit < len(items):
        result["NextToken"] = encode_token(start + limit, key)
    return result
