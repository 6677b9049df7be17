"""Elastic Load Balancing v2 resource types: AWS::ElasticLoadBalancingV2::LoadBalancer, TargetGroup,
Listener, ListenerRule, ListenerCertificate.

Templates give numbers as text ("80") where the API takes integers, and attributes as [{Key, Value}] lists;
the handlers convert both. A load balancer's, target group's, listener's and rule's Ref is its ARN.
"""

from __future__ import annotations

from typing import Any

from overcast.errors import ServiceError
from overcast.services.cloudformation.resources.base import (
    Created,
    ResourceContext,
    ResourceHandler,
    boolean,
    drop_none,
    ignore_missing,
    integer,
    not_found,
    tag_list,
    text,
)

SERVICE = "elbv2"


def _key_values(value: Any) -> list[dict[str, str]]:
    """LoadBalancerAttributes / TargetGroupAttributes as the API takes them (values are text)."""
    return [{"Key": str(item["Key"]), "Value": text(item.get("Value")) or ""} for item in value or []]


def _actions(actions: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Listener and rule actions with the integers the API wants."""
    converted = []
    for action in actions or []:
        action = dict(action)
        if "Order" in action:
            action["Order"] = integer(action["Order"])
        forward = action.get("ForwardConfig")
        if forward:
            forward = dict(forward)
            forward["TargetGroups"] = [
                drop_none({**group, "Weight": integer(group.get("Weight"))})
                for group in forward.get("TargetGroups", [])
            ]
            stickiness = forward.get("TargetGroupStickinessConfig")
            if stickiness:
                forward["TargetGroupStickinessConfig"] = drop_none(
                    {
                        "Enabled": boolean(stickiness.get("Enabled")),
                        "DurationSeconds": integer(stickiness.get("DurationSeconds")),
                    }
                )
            action["ForwardConfig"] = forward
        converted.append(action)
    return converted


def _certificates(value: Any) -> list[dict[str, str]] | None:
    certificates = [{"CertificateArn": item["CertificateArn"]} for item in value or []]
    return certificates or None


async def _retag(
    ctx: ResourceContext, arn: str, properties: dict[str, Any], previous: dict[str, Any]
) -> None:
    old, new = tag_list(previous.get("Tags")), tag_list(properties.get("Tags"))
    gone = [tag["Key"] for tag in old if tag["Key"] not in {t["Key"] for t in new}]
    if gone:
        await ctx.call(SERVICE, "RemoveTags", {"ResourceArns": [arn], "TagKeys": gone})
    if new and new != old:
        await ctx.call(SERVICE, "AddTags", {"ResourceArns": [arn], "Tags": new})


async def _delete(ctx: ResourceContext, operation: str, params: dict[str, Any]) -> None:
    await ignore_missing(ctx.call(SERVICE, operation, params))


def _full_name(arn: str, marker: str) -> str:
    """`app/name/id` of a load balancer ARN, `targetgroup/name/id` of a target group's."""
    return arn.split(f":{marker}/", 1)[-1] if marker == "loadbalancer" else arn.split(":", 5)[-1]


class LoadBalancer(ResourceHandler):
    type_name = "AWS::ElasticLoadBalancingV2::LoadBalancer"
    service = SERVICE
    create_only = frozenset({"Name", "Scheme", "Type"})
    attributes = (
        "CanonicalHostedZoneID",
        "DNSName",
        "LoadBalancerArn",
        "LoadBalancerFullName",
        "LoadBalancerName",
        "SecurityGroups",
    )
    primary_identifier = "LoadBalancerArn"

    async def create(self, ctx, properties):
        params = drop_none(
            {
                "Name": properties.get("Name") or ctx.generated_name(32),
                "Subnets": properties.get("Subnets"),
                "SubnetMappings": properties.get("SubnetMappings"),
                "SecurityGroups": properties.get("SecurityGroups"),
                "Scheme": properties.get("Scheme"),
                "Type": properties.get("Type"),
                "IpAddressType": properties.get("IpAddressType"),
                "Tags": tag_list(properties.get("Tags")) or None,
            }
        )
        found = (await ctx.call(SERVICE, "CreateLoadBalancer", params))["LoadBalancers"][0]
        arn = found["LoadBalancerArn"]
        if properties.get("LoadBalancerAttributes"):
            await ctx.call(
                SERVICE,
                "ModifyLoadBalancerAttributes",
                {"LoadBalancerArn": arn, "Attributes": _key_values(properties["LoadBalancerAttributes"])},
            )
        return Created(arn, self._attributes(found))

    @staticmethod
    def _attributes(found: dict[str, Any]) -> dict[str, Any]:
        arn = found["LoadBalancerArn"]
        return {
            "CanonicalHostedZoneID": found.get("CanonicalHostedZoneId"),
            "DNSName": found.get("DNSName"),
            "LoadBalancerArn": arn,
            "LoadBalancerFullName": _full_name(arn, "loadbalancer"),
            "LoadBalancerName": found.get("LoadBalancerName"),
            "SecurityGroups": found.get("SecurityGroups", []),
        }

    async def _describe(self, ctx: ResourceContext, arn: str) -> dict[str, Any] | None:
        try:
            found = await ctx.call(SERVICE, "DescribeLoadBalancers", {"LoadBalancerArns": [arn]})
        except ServiceError as error:
            if not_found(error):
                return None
            raise
        return (found.get("LoadBalancers") or [None])[0]

    async def update(self, ctx, physical_id, properties, previous, attributes):
        if properties.get("Subnets") != previous.get("Subnets") or properties.get(
            "SubnetMappings"
        ) != previous.get("SubnetMappings"):
            await ctx.call(
                SERVICE,
                "SetSubnets",
                drop_none(
                    {
                        "LoadBalancerArn": physical_id,
                        "Subnets": properties.get("Subnets"),
                        "SubnetMappings": properties.get("SubnetMappings"),
                    }
                ),
            )
        if properties.get("SecurityGroups") != previous.get("SecurityGroups"):
            await ctx.call(
                SERVICE,
                "SetSecurityGroups",
                {"LoadBalancerArn": physical_id, "SecurityGroups": properties.get("SecurityGroups") or []},
            )
        if properties.get("IpAddressType") != previous.get("IpAddressType") and properties.get(
            "IpAddressType"
        ):
            await ctx.call(
                SERVICE,
                "SetIpAddressType",
                {"LoadBalancerArn": physical_id, "IpAddressType": properties["IpAddressType"]},
            )
        if properties.get("LoadBalancerAttributes") != previous.get("LoadBalancerAttributes"):
            values = _key_values(properties.get("LoadBalancerAttributes"))
            if values:
                await ctx.call(
                    SERVICE,
                    "ModifyLoadBalancerAttributes",
                    {"LoadBalancerArn": physical_id, "Attributes": values},
                )
        await _retag(ctx, physical_id, properties, previous)
        found = await self._describe(ctx, physical_id)
        return self._attributes(found) if found else attributes

    async def delete(self, ctx, physical_id, properties):
        await _delete(ctx, "DeleteLoadBalancer", {"LoadBalancerArn": physical_id})

    async def read(self, ctx, physical_id, properties):
        found = await self._describe(ctx, physical_id)
        if found is None:
            return None
        live = dict(properties)
        live["Type"] = found.get("Type")
        live["Scheme"] = found.get("Scheme")
        if "SecurityGroups" in properties or found.get("SecurityGroups"):
            live["SecurityGroups"] = found.get("SecurityGroups", [])
        return live

    async def list(self, ctx):
        found = await ctx.call(SERVICE, "DescribeLoadBalancers", {})
        return [item["LoadBalancerArn"] for item in found.get("LoadBalancers", [])]


_HEALTH_CHECK = (
    ("HealthCheckProtocol", text),
    ("HealthCheckPort", text),
    ("HealthCheckEnabled", boolean),
    ("HealthCheckPath", text),
    ("HealthCheckIntervalSeconds", integer),
    ("HealthCheckTimeoutSeconds", integer),
    ("HealthyThresholdCount", integer),
    ("UnhealthyThresholdCount", integer),
)


class TargetGroup(ResourceHandler):
    type_name = "AWS::ElasticLoadBalancingV2::TargetGroup"
    service = SERVICE
    create_only = frozenset(
        {"Name", "Port", "Protocol", "ProtocolVersion", "TargetType", "VpcId", "IpAddressType"}
    )
    attributes = ("LoadBalancerArns", "TargetGroupArn", "TargetGroupFullName", "TargetGroupName")
    primary_identifier = "TargetGroupArn"

    def _health_check(self, properties: dict[str, Any]) -> dict[str, Any]:
        values = {name: convert(properties.get(name)) for name, convert in _HEALTH_CHECK}
        values["Matcher"] = properties.get("Matcher")
        return drop_none(values)

    async def create(self, ctx, properties):
        params = drop_none(
            {
                "Name": properties.get("Name") or ctx.generated_name(32),
                "Protocol": properties.get("Protocol"),
                "ProtocolVersion": properties.get("ProtocolVersion"),
                "Port": integer(properties.get("Port")),
                "VpcId": properties.get("VpcId"),
                "TargetType": properties.get("TargetType"),
                "IpAddressType": properties.get("IpAddressType"),
                "Tags": tag_list(properties.get("Tags")) or None,
                **self._health_check(properties),
            }
        )
        found = (await ctx.call(SERVICE, "CreateTargetGroup", params))["TargetGroups"][0]
        arn = found["TargetGroupArn"]
        if properties.get("TargetGroupAttributes"):
            await ctx.call(
                SERVICE,
                "ModifyTargetGroupAttributes",
                {"TargetGroupArn": arn, "Attributes": _key_values(properties["TargetGroupAttributes"])},
            )
        if properties.get("Targets"):
            await ctx.call(
                SERVICE,
                "RegisterTargets",
                {"TargetGroupArn": arn, "Targets": self._targets(properties["Targets"])},
            )
        return Created(arn, self._attributes(found))

    @staticmethod
    def _targets(targets: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            drop_none(
                {
                    "Id": text(target["Id"]),
                    "Port": integer(target.get("Port")),
                    "AvailabilityZone": target.get("AvailabilityZone"),
                }
            )
            for target in targets
        ]

    @staticmethod
    def _attributes(found: dict[str, Any]) -> dict[str, Any]:
        arn = found["TargetGroupArn"]
        return {
            "LoadBalancerArns": found.get("LoadBalancerArns", []),
            "TargetGroupArn": arn,
            "TargetGroupFullName": _full_name(arn, "targetgroup"),
            "TargetGroupName": found.get("TargetGroupName"),
        }

    async def update(self, ctx, physical_id, properties, previous, attributes):
        health = self._health_check(properties)
        if health != self._health_check(previous) and health:
            await ctx.call(SERVICE, "ModifyTargetGroup", {"TargetGroupArn": physical_id, **health})
        if properties.get("TargetGroupAttributes") != previous.get("TargetGroupAttributes"):
            values = _key_values(properties.get("TargetGroupAttributes"))
            if values:
                await ctx.call(
                    SERVICE,
                    "ModifyTargetGroupAttributes",
                    {"TargetGroupArn": physical_id, "Attributes": values},
                )
        old = self._targets(previous.get("Targets") or [])
        new = self._targets(properties.get("Targets") or [])
        gone = [target for target in old if target not in new]
        if gone:
            await ctx.call(SERVICE, "DeregisterTargets", {"TargetGroupArn": physical_id, "Targets": gone})
        added = [target for target in new if target not in old]
        if added:
            await ctx.call(SERVICE, "RegisterTargets", {"TargetGroupArn": physical_id, "Targets": added})
        await _retag(ctx, physical_id, properties, previous)
        found = await ctx.call(SERVICE, "DescribeTargetGroups", {"TargetGroupArns": [physical_id]})
        return self._attributes(found["TargetGroups"][0])

    async def delete(self, ctx, physical_id, properties):
        await _delete(ctx, "DeleteTargetGroup", {"TargetGroupArn": physical_id})

    async def read(self, ctx, physical_id, properties):
        try:
            await ctx.call(SERVICE, "DescribeTargetGroups", {"TargetGroupArns": [physical_id]})
        except ServiceError as error:
            if not_found(error):
                return None
            raise
        return dict(properties)

    async def list(self, ctx):
        found = await ctx.call(SERVICE, "DescribeTargetGroups", {})
        return [item["TargetGroupArn"] for item in found.get("TargetGroups", [])]


class Listener(ResourceHandler):
    type_name = "AWS::ElasticLoadBalancingV2::Listener"
    service = SERVICE
    required = ("DefaultActions", "LoadBalancerArn")
    create_only = frozenset({"LoadBalancerArn"})
    attributes = ("ListenerArn",)
    primary_identifier = "ListenerArn"

    def _settings(self, properties: dict[str, Any]) -> dict[str, Any]:
        return drop_none(
            {
                "Protocol": properties.get("Protocol"),
                "Port": integer(properties.get("Port")),
                "SslPolicy": properties.get("SslPolicy"),
                "Certificates": _certificates(properties.get("Certificates")),
                "AlpnPolicy": properties.get("AlpnPolicy"),
                "DefaultActions": _actions(properties.get("DefaultActions")),
            }
        )

    async def create(self, ctx, properties):
        params = {"LoadBalancerArn": properties["LoadBalancerArn"], **self._settings(properties)}
        found = (await ctx.call(SERVICE, "CreateListener", params))["Listeners"][0]
        return Created(found["ListenerArn"], {"ListenerArn": found["ListenerArn"]})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await ctx.call(SERVICE, "ModifyListener", {"ListenerArn": physical_id, **self._settings(properties)})
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await _delete(ctx, "DeleteListener", {"ListenerArn": physical_id})

    async def read(self, ctx, physical_id, properties):
        try:
            await ctx.call(SERVICE, "DescribeListeners", {"ListenerArns": [physical_id]})
        except ServiceError as error:
            if not_found(error):
                return None
            raise
        return dict(properties)


class ListenerRule(ResourceHandler):
    type_name = "AWS::ElasticLoadBalancingV2::ListenerRule"
    service = SERVICE
    required = ("Actions", "Conditions", "Priority")
    create_only = frozenset({"ListenerArn"})
    attributes = ("IsDefault", "RuleArn")
    primary_identifier = "RuleArn"

    async def create(self, ctx, properties):
        params = {
            "ListenerArn": properties["ListenerArn"],
            "Priority": integer(properties["Priority"]),
            "Conditions": properties["Conditions"],
            "Actions": _actions(properties["Actions"]),
        }
        found = (await ctx.call(SERVICE, "CreateRule", params))["Rules"][0]
        return Created(found["RuleArn"], {"RuleArn": found["RuleArn"], "IsDefault": found.get("IsDefault")})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        if integer(properties["Priority"]) != integer(previous.get("Priority")):
            await ctx.call(
                SERVICE,
                "SetRulePriorities",
                {"RulePriorities": [{"RuleArn": physical_id, "Priority": integer(properties["Priority"])}]},
            )
        await ctx.call(
            SERVICE,
            "ModifyRule",
            {
                "RuleArn": physical_id,
                "Conditions": properties["Conditions"],
                "Actions": _actions(properties["Actions"]),
            },
        )
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await _delete(ctx, "DeleteRule", {"RuleArn": physical_id})

    async def read(self, ctx, physical_id, properties):
        try:
            await ctx.call(SERVICE, "DescribeRules", {"RuleArns": [physical_id]})
        except ServiceError as error:
            if not_found(error):
                return None
            raise
        return dict(properties)


class ListenerCertificate(ResourceHandler):
    type_name = "AWS::ElasticLoadBalancingV2::ListenerCertificate"
    service = SERVICE
    required = ("Certificates", "ListenerArn")
    create_only = frozenset({"ListenerArn"})

    async def create(self, ctx, properties):
        await ctx.call(
            SERVICE,
            "AddListenerCertificates",
            {
                "ListenerArn": properties["ListenerArn"],
                "Certificates": _certificates(properties["Certificates"]),
            },
        )
        return Created(ctx.generated_name(255))

    async def update(self, ctx, physical_id, properties, previous, attributes):
        old = _certificates(previous.get("Certificates")) or []
        new = _certificates(properties.get("Certificates")) or []
        gone = [item for item in old if item not in new]
        if gone:
            await ctx.call(
                SERVICE,
                "RemoveListenerCertificates",
                {"ListenerArn": properties["ListenerArn"], "Certificates": gone},
            )
        added = [item for item in new if item not in old]
        if added:
            await ctx.call(
                SERVICE,
                "AddListenerCertificates",
                {"ListenerArn": properties["ListenerArn"], "Certificates": added},
            )
        return attributes

    async def delete(self, ctx, physical_id, properties):
        certificates = _certificates(properties.get("Certificates"))
        if certificates:
            await _delete(
                ctx,
                "RemoveListenerCertificates",
                {"ListenerArn": properties["ListenerArn"], "Certificates": certificates},
            )


HANDLERS = (LoadBalancer, TargetGroup, Listener, ListenerRule, ListenerCertificate)
