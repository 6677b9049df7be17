"""Target groups, their targets and the targets' health as DescribeTargetHealth reports it."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.elbv2.common import (
    attribute_list,
    page,
    target_group_arn,
    target_group_attributes,
    tg_not_found,
    validation,
)
from overcast.services.elbv2.load_balancers import check_name
from overcast.services.elbv2.store import Target, TargetGroup
from overcast.services.elbv2.tagging import RULES, check_new_tags
from overcast.services.kit.arns import parse_arn
from overcast.services.kit.tags import tag_dict

if TYPE_CHECKING:
    from overcast.services.elbv2.provider import ElbV2Provider

MAX_TARGET_GROUPS = 3000
MAX_TARGETS = 1000
RESERVED_COOKIES = ("AWSALB", "AWSALBAPP", "AWSALBTG")
# state -> (reason, description) where the state has one reason only
NOT_IN_USE = (
    "unused",
    "Target.NotInUse",
    "Target group is not configured to receive traffic from the load balancer",
)
NOT_REGISTERED = ("unused", "Target.NotRegistered", "Target is not registered to the target group")
DISABLED = ("unavailable", "Target.HealthCheckDisabled", "Health checks disabled")
REGISTERING = ("initial", "Elb.RegistrationInProgress", "Target registration is in progress")
DRAINING = ("draining", "Target.DeregistrationInProgress", "Target deregistration is in progress")


def health_check_defaults(target_type: str, protocol: str | None) -> dict[str, Any]:
    if target_type == "lambda":
        return {
            "HealthCheckEnabled": False,
            "HealthCheckIntervalSeconds": 35,
            "HealthCheckTimeoutSeconds": 30,
            "HealthyThresholdCount": 5,
            "UnhealthyThresholdCount": 2,
            "HealthCheckPath": "/",
            "Matcher": {"HttpCode": "200"},
        }
    if protocol in ("HTTP", "HTTPS"):
        return {
            "HealthCheckProtocol": protocol,
            "HealthCheckPort": "traffic-port",
            "HealthCheckEnabled": True,
            "HealthCheckIntervalSeconds": 30,
            "HealthCheckTimeoutSeconds": 5,
            "HealthyThresholdCount": 5,
            "UnhealthyThresholdCount": 2,
            "HealthCheckPath": "/",
            "Matcher": {"HttpCode": "200"},
        }
    if protocol == "GENEVE":
        return {
            "HealthCheckProtocol": "TCP",
            "HealthCheckPort": "80",
            "HealthCheckEnabled": True,
            "HealthCheckIntervalSeconds": 10,
            "HealthCheckTimeoutSeconds": 5,
            "HealthyThresholdCount": 5,
            "UnhealthyThresholdCount": 2,
        }
    return {
        "HealthCheckProtocol": "TCP",
        "HealthCheckPort": "traffic-port",
        "HealthCheckEnabled": True,
        "HealthCheckIntervalSeconds": 30,
        "HealthCheckTimeoutSeconds": 10,
        "HealthyThresholdCount": 5,
        "UnhealthyThresholdCount": 2,
    }


_HEALTH_MEMBERS = (
    "HealthCheckProtocol",
    "HealthCheckPort",
    "HealthCheckEnabled",
    "HealthCheckIntervalSeconds",
    "HealthCheckTimeoutSeconds",
    "HealthyThresholdCount",
    "UnhealthyThresholdCount",
    "HealthCheckPath",
    "Matcher",
)


def apply_health_check(doc: dict[str, Any], params: dict[str, Any]) -> None:
    """Set the health check members `params` gives on `doc`, with AWS's checks of the result."""
    for member in _HEALTH_MEMBERS:
        if params.get(member) is not None:
            doc[member] = params[member]
    protocol = doc.get("HealthCheckProtocol")
    if protocol == "TCP" and (params.get("HealthCheckPath") or params.get("Matcher")):
        raise validation(
            "Health check path and matcher cannot be specified with the TCP health check protocol"
        )
    if protocol in ("HTTP", "HTTPS") and doc["TargetType"] != "lambda":
        doc.setdefault("HealthCheckPath", "/")
        doc.setdefault(
            "Matcher",
            {"HttpCode": "200-399" if doc.get("Protocol") in ("TCP", "TLS", "UDP", "TCP_UDP") else "200"},
        )
    if doc.get("Protocol") in ("HTTP", "HTTPS") and protocol == "TCP":
        raise validation(
            "Health check protocol 'TCP' is not supported for target groups with the protocol 'HTTP'"
        )
    interval, timeout = doc.get("HealthCheckIntervalSeconds"), doc.get("HealthCheckTimeoutSeconds")
    if interval is not None and not 5 <= interval <= 300:
        raise validation("Health check interval must be between 5 and 300 seconds")
    if timeout is not None and not 2 <= timeout <= 120:
        raise validation("Health check timeout must be between 2 and 120 seconds")
    if interval is not None and timeout is not None and timeout >= interval:
        raise validation(f"Health check timeout '{timeout}' must be smaller than the interval '{interval}'")
    for member in ("HealthyThresholdCount", "UnhealthyThresholdCount"):
        if doc.get(member) is not None and not 2 <= doc[member] <= 10:
            raise validation(f"{member} must be between 2 and 10")
    port = doc.get("HealthCheckPort")
    if port not in (None, "traffic-port") and not (str(port).isdigit() and 1 <= int(port) <= 65535):
        raise validation(f"Health check port '{port}' must be 'traffic-port' or a port between 1 and 65535")
    code = (doc.get("Matcher") or {}).get("HttpCode")
    if code is not None:
        parse_matcher(code)


def parse_matcher(code: str) -> list[tuple[int, int]]:
    """'200', '200,202' or '200-299' as ranges; AWS's ValidationError otherwise."""
    ranges = []
    for part in code.split(","):
        low, _, high = part.strip().partition("-")
        if not low.isdigit() or (high and not high.isdigit()):
            raise validation(f"Health check matcher HTTP code '{code}' must be a valid HTTP code or range")
        first, last = int(low), int(high or low)
        if not 200 <= first <= last <= 599:
            raise validation(f"Health check matcher HTTP code '{code}' must be between 200 and 599")
        ranges.append((first, last))
    return ranges


NO_OVERRIDE = {"State": "no_override", "Reason": "AdministrativeOverride.NoOverride",
               "Description": "No override is currently active on target"}  # fmt: skip


class TargetGroupOperations(Operations):
    service: ElbV2Provider

    # -- target groups --------------------------------------------------------------------------------------

    def create_target_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        store = self.service.store
        name = params["Name"]
        check_name(name, "target group")
        target_type = params.get("TargetType", "instance")
        protocol, port, vpc = params.get("Protocol"), params.get("Port"), params.get("VpcId")
        if target_type == "lambda":
            if protocol or port or vpc:
                raise validation(
                    "Protocol, port and VPC ID cannot be specified for a target group of type 'lambda'"
                )
        else:
            if not protocol:
                raise validation("A protocol must be specified")
            if port is None and protocol != "GENEVE":
                raise validation("A port must be specified")
            if not vpc:
                raise validation("A VPC ID must be specified")
            if target_type == "alb" and protocol != "TCP":
                raise validation("Target groups of type 'alb' must use the TCP protocol")
            if protocol == "GENEVE":
                port = 6081 if port is None else port
                if port != 6081:
                    raise validation("The port of a GENEVE target group must be 6081")
        doc: dict[str, Any] = {"TargetGroupArn": "", "TargetGroupName": name}
        if protocol:
            doc["Protocol"] = protocol
        if port is not None:
            doc["Port"] = port
        if vpc:
            doc["VpcId"] = vpc
        doc.update(health_check_defaults(target_type, protocol))
        doc["TargetType"] = target_type
        apply_health_check(doc, params)
        if protocol in ("HTTP", "HTTPS"):
            doc["ProtocolVersion"] = params.get("ProtocolVersion", "HTTP1")
        elif params.get("ProtocolVersion"):
            raise validation("A protocol version can be specified only for HTTP and HTTPS target groups")
        if target_type != "lambda":
            doc["IpAddressType"] = params.get("IpAddressType", "ipv4")
        existing = store.target_group_named(ctx.account_id, ctx.region, name)
        if existing is not None:
            if {**existing.doc, "TargetGroupArn": ""} != doc:
                raise ServiceError(
                    "DuplicateTargetGroupName",
                    f"A target group with the same name '{name}' exists, but with different settings",
                    400,
                )
            return {"TargetGroups": [self.service.target_group_doc(existing)]}
        if store.count_target_groups(ctx.account_id, ctx.region) >= MAX_TARGET_GROUPS:
            raise ServiceError(
                "TooManyTargetGroups", "The quota for the number of target groups has been reached", 400
            )
        check_new_tags(params.get("Tags"))
        arn = target_group_arn(ctx.region, ctx.account_id, name)
        doc["TargetGroupArn"] = arn
        tg = TargetGroup(
            arn,
            ctx.account_id,
            ctx.region,
            name,
            doc,
            target_group_attributes(target_type, protocol),
            self.clock.now(),
        )
        store.put_target_group(tg)
        tags = tag_dict(params.get("Tags"))
        if tags:
            self.service.tags.add(arn, tags, RULES, account=ctx.account_id, region=ctx.region)
        return {"TargetGroups": [self.service.target_group_doc(tg)]}

    def describe_target_groups(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        store = self.service.store
        arns, names, lb_arn = (
            params.get("TargetGroupArns"),
            params.get("Names"),
            params.get("LoadBalancerArn"),
        )
        if sum(bool(given) for given in (arns, names, lb_arn)) > 1:
            raise validation("Target group ARNs, names and a load balancer ARN cannot be specified together")
        if arns:
            found = [self.service.target_group(ctx, arn) for arn in arns]
        elif names:
            found = [store.target_group_named(ctx.account_id, ctx.region, name) for name in names]
            if any(tg is None for tg in found):
                raise tg_not_found()
        elif lb_arn:
            lb = self.service.load_balancer(ctx, lb_arn)
            found = [store.target_group(arn) for arn in store.target_groups_of_load_balancer(lb.arn)]
        else:
            found = store.target_groups(ctx.account_id, ctx.region)
        chunk, marker = page([tg for tg in found if tg is not None], params, "DescribeTargetGroups")
        result: dict[str, Any] = {"TargetGroups": [self.service.target_group_doc(tg) for tg in chunk]}
        if marker:
            result["NextMarker"] = marker
        return result

    def modify_target_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        tg = self.service.target_group(ctx, params["TargetGroupArn"])
        if tg.target_type == "lambda" and params.get("HealthCheckProtocol"):
            raise validation(
                "A health check protocol cannot be specified for a target group of type 'lambda'"
            )
        doc = dict(tg.doc)
        apply_health_check(doc, params)
        enabled_now = doc.get("HealthCheckEnabled") and not tg.doc.get("HealthCheckEnabled")
        disabled_now = not doc.get("HealthCheckEnabled") and tg.doc.get("HealthCheckEnabled")
        tg.doc = doc
        self.service.store.put_target_group(tg)
        if enabled_now or disabled_now:
            now = self.clock.now()
            for target in self.service.store.targets(tg.arn):
                if target.drain_until is None:
                    state = REGISTERING if enabled_now else DISABLED
                    target.state, target.reason, target.description = state
                    target.passes = target.failures = 0
                    target.next_check = now if enabled_now else None
                    self.service.store.put_target(target)
        self.service.changed()
        return {"TargetGroups": [self.service.target_group_doc(tg)]}

    def delete_target_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        tg = self.service.store.target_group(params["TargetGroupArn"])
        if tg is None or tg.account != ctx.account_id or tg.region != ctx.region:
            return {}
        if self.service.store.load_balancers_of_target_group(tg.arn):
            raise ServiceError(
                "ResourceInUse", f"Target group '{tg.arn}' is currently in use by a listener or a rule", 400
            )
        self.service.store.delete_target_group(tg.arn)
        self.service.tags.forget(tg.arn)
        self.service.changed()
        return {}

    # -- attributes --------------------------------------------------------------------------------------------

    def describe_target_group_attributes(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        tg = self.service.target_group(ctx, params["TargetGroupArn"])
        return {"Attributes": attribute_list(tg.attributes)}

    def modify_target_group_attributes(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        tg = self.service.target_group(ctx, params["TargetGroupArn"])
        changes = {item["Key"]: item.get("Value", "") for item in params["Attributes"]}
        for key, value in changes.items():
            _check_tg_attribute(tg, key, value)
        tg.attributes.update(changes)
        if (
            tg.attributes.get("stickiness.type") == "app_cookie"
            and tg.attributes.get("stickiness.enabled") == "true"
        ):
            if not tg.attributes.get("stickiness.app_cookie.cookie_name"):
                raise validation("An application cookie name must be specified for app_cookie stickiness")
        self.service.store.put_target_group(tg)
        self.service.changed()
        return {"Attributes": attribute_list(tg.attributes)}

    # -- targets -----------------------------------------------------------------------------------------------

    async def register_targets(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.transaction():
            tg = self.service.target_group(ctx, params["TargetGroupArn"])
        if tg.target_type == "instance":
            ids = [target["Id"] for target in params["Targets"]]
            known = await self.service.instance_addresses(ctx.account_id, ctx.region, ids)
            if known is not None:
                missing = [i for i in ids if i not in known]
                if missing:
                    raise ServiceError(
                        "InvalidTarget",
                        "The following targets are not in a running state and cannot be registered: "
                        + ", ".join(f"'{i}'" for i in missing),
                        400,
                    )
        with self.db.transaction():
            return self._register(ctx, params)

    def _register(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        store = self.service.store
        tg = self.service.target_group(ctx, params["TargetGroupArn"])
        now = self.clock.now()
        wanted = [self._target(ctx, tg, target) for target in params["Targets"]]
        if tg.target_type == "lambda" and (len(wanted) > 1 or store.count_targets(tg.arn) >= 1):
            existing = store.targets(tg.arn)
            if len(wanted) > 1 or (existing and existing[0].target_id != wanted[0][0]):
                raise ServiceError(
                    "TooManyTargets",
                    "You can register only one target with a target group of type 'lambda'",
                    400,
                )
        if store.count_targets(tg.arn) + len(wanted) > MAX_TARGETS:
            raise ServiceError("TooManyTargets", "The quota for the number of targets has been reached", 400)
        checking = bool(tg.doc.get("HealthCheckEnabled"))
        for target_id, port, zone in wanted:
            current = store.target(tg.arn, target_id, port)
            if current is not None and current.drain_until is None:
                continue  # registered already
            state = REGISTERING if checking else DISABLED
            store.put_target(
                Target(tg.arn, target_id, port, zone, *state, now, None, 0, 0, now if checking else None)
            )
        self.service.changed()
        return {}

    def _target(
        self, ctx: RequestContext, tg: TargetGroup, target: dict[str, Any]
    ) -> tuple[str, int, str | None]:
        target_id = target["Id"]
        port = target.get("Port", tg.doc.get("Port"))
        kind = tg.target_type
        if kind == "lambda":
            arn = parse_arn(target_id)
            if arn is None or arn.service != "lambda" or arn.resource_type != "function":
                raise ServiceError(
                    "InvalidTarget", f"The target ID '{target_id}' is not a valid Lambda function ARN", 400
                )
            return target_id, 0, "all"
        if port is not None and not 1 <= port <= 65535:
            raise validation("Port must be between 1 and 65535")
        if kind == "ip":
            try:
                address = ipaddress.ip_address(target_id)
            except ValueError:
                raise ServiceError(
                    "InvalidTarget", f"The IP address '{target_id}' is not a valid IPv4 address", 400
                ) from None
            if address.version == 6 and tg.doc.get("IpAddressType") != "ipv6":
                raise ServiceError(
                    "InvalidTarget", f"The IP address '{target_id}' is not a valid IPv4 address", 400
                )
        elif kind == "instance":
            if not target_id.startswith("i-"):
                raise ServiceError(
                    "InvalidTarget", f"The target ID '{target_id}' is not a valid instance ID", 400
                )
        elif kind == "alb":
            lb = self.service.store.load_balancer(target_id)
            if lb is None or lb.type != "application" or lb.account != ctx.account_id:
                raise ServiceError(
                    "InvalidTarget",
                    f"The target ID '{target_id}' is not a valid application load balancer ARN",
                    400,
                )
            if not any(listener.port == port for listener in self.service.store.listeners_of(lb.arn)):
                raise ServiceError(
                    "InvalidTarget",
                    f"The application load balancer '{target_id}' has no listener on port '{port}'",
                    400,
                )
        return target_id, int(port), target.get("AvailabilityZone")

    def deregister_targets(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        store = self.service.store
        tg = self.service.target_group(ctx, params["TargetGroupArn"])
        now = self.clock.now()
        delay = int(tg.attributes.get("deregistration_delay.timeout_seconds", "0"))
        in_use = bool(store.load_balancers_of_target_group(tg.arn))
        for given in params["Targets"]:
            port = 0 if tg.target_type == "lambda" else given.get("Port", tg.doc.get("Port"))
            target = store.target(tg.arn, given["Id"], port)
            if target is None:
                raise ServiceError(
                    "InvalidTarget",
                    f"The target '{given['Id']}' is not registered with target group '{tg.arn}'",
                    400,
                )
            if not in_use or delay == 0 or tg.target_type == "lambda":
                store.delete_target(tg.arn, target.target_id, target.port)
                continue
            if target.drain_until is None:
                target.state, target.reason, target.description = DRAINING
                target.drain_until = now + delay
                target.next_check = None
                store.put_target(target)
        self.service.changed()
        return {}

    def describe_target_health(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        store = self.service.store
        tg = self.service.target_group(ctx, params["TargetGroupArn"])
        in_use = bool(store.load_balancers_of_target_group(tg.arn))
        if params.get("Targets"):
            described = []
            for given in params["Targets"]:
                port = 0 if tg.target_type == "lambda" else given.get("Port", tg.doc.get("Port"))
                target = store.target(tg.arn, given["Id"], port)
                if target is None:
                    described.append(self._health(tg, Target(tg.arn, given["Id"], port, given.get("AvailabilityZone"),
                                                              *NOT_REGISTERED, 0, None, 0, 0, None), in_use))  # fmt: skip
                else:
                    described.append(self._health(tg, target, in_use))
        else:
            described = [self._health(tg, target, in_use) for target in store.targets(tg.arn)]
        include = params.get("Include") or []
        if ("AnomalyDetection" in include or "All" in include) and tg.doc.get("Protocol") in (
            "HTTP",
            "HTTPS",
        ):
            for item in described:  # no target is ever anomalous here: every one answers alike
                item["AnomalyDetection"] = {"Result": "normal", "MitigationInEffect": "no"}
        return {"TargetHealthDescriptions": described}

    @staticmethod
    def _health(tg: TargetGroup, target: Target, in_use: bool) -> dict[str, Any]:
        described: dict[str, Any] = {"Target": {"Id": target.target_id}}
        if tg.target_type != "lambda":
            described["Target"]["Port"] = target.port
        if target.zone:
            described["Target"]["AvailabilityZone"] = target.zone
        if tg.target_type != "lambda":
            configured = tg.doc.get("HealthCheckPort", "traffic-port")
            described["HealthCheckPort"] = (
                str(target.port) if configured == "traffic-port" else str(configured)
            )
        state, reason, description = target.state, target.reason, target.description
        if not in_use and target.reason != "Target.NotRegistered" and state != "draining":
            state, reason, description = NOT_IN_USE
        health: dict[str, Any] = {"State": state}
        if reason:
            health["Reason"] = reason
        if description:
            health["Description"] = description
        described["TargetHealth"] = health
        described["AdministrativeOverride"] = dict(NO_OVERRIDE)  # no zonal shift is ever active here
        return described


def _check_tg_attribute(tg: TargetGroup, key: str, value: str) -> None:
    if key not in tg.attributes:
        raise validation(f"Target group attribute key '{key}' is not recognized")
    if (
        key.endswith(".enabled")
        and key != "load_balancing.cross_zone.enabled"
        and value not in ("true", "false")
    ):
        raise validation(f"Target group attribute value '{value}' for key '{key}' must be 'true' or 'false'")
    ranges = {
        "deregistration_delay.timeout_seconds": (0, 3600),
        "stickiness.lb_cookie.duration_seconds": (1, 604800),
        "stickiness.app_cookie.duration_seconds": (1, 604800),
        "slow_start.duration_seconds": (0, 900),
    }
    if key in ranges:
        low, high = ranges[key]
        if not (value.isdigit() and low <= int(value) <= high):
            raise validation(f"The value of '{key}' must be between {low} and {high}")
        if key == "slow_start.duration_seconds" and 0 < int(value) < 30:
            raise validation(f"The value of '{key}' must be 0 or between 30 and 900")
    if key == "stickiness.type":
        allowed = (
            ("lb_cookie", "app_cookie") if tg.doc.get("Protocol") in ("HTTP", "HTTPS") else ("source_ip",)
        )
        if value not in allowed:
            raise validation(
                f"Stickiness type '{value}' is not supported for target groups with the protocol '{tg.doc.get('Protocol')}'"
            )
    if key == "stickiness.app_cookie.cookie_name" and value:
        if value.upper().startswith(RESERVED_COOKIES):
            raise validation(
                f"The cookie name '{value}' is reserved: names starting with AWSALB, AWSALBAPP or AWSALBTG cannot be used"
            )
    if key == "load_balancing.algorithm.type" and value not in (
        "round_robin",
        "least_outstanding_requests",
        "weighted_random",
    ):
        raise validation(f"Load balancing algorithm '{value}' is not supported")
    if key == "load_balancing.cross_zone.enabled" and value not in (
        "true",
        "false",
        "use_load_balancer_configuration",
    ):
        raise validation(f"Target group attribute value '{value}' for key '{key}' is not valid")
