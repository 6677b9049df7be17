"""Load balancers: create (idempotent, as AWS's is), describe, delete, attributes, subnets, security groups."""

from __future__ import annotations

import hashlib
import socket
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.elbv2.common import (
    attribute_list,
    canonical_zone,
    dns_name,
    invalid_config,
    lb_not_found,
    load_balancer_arn,
    load_balancer_attributes,
    page,
    validation,
)
from overcast.services.elbv2.instances import (
    create_interfaces,
    delete_interfaces,
    describe_shape,
    recreate_interfaces,
)
from overcast.services.elbv2.store import LoadBalancer
from overcast.services.elbv2.tagging import RULES, check_new_tags
from overcast.services.kit.tags import tag_dict

if TYPE_CHECKING:
    from overcast.services.elbv2.provider import ElbV2Provider

MAX_LOAD_BALANCERS = 50
DECREASES_PER_DAY = 4  # capacity reservation decreases (or resets) a load balancer may make per day
_BOOL = ("true", "false")


def check_name(name: str, what: str) -> None:
    """AWS's naming rules of load balancers and target groups (`what`: "load balancer", "target group")."""
    if len(name) > 32:
        raise validation(f"The {what} name '{name}' cannot be longer than '32' characters")
    if not name or not all(c.isalnum() and c.isascii() or c == "-" for c in name):
        raise validation(
            f"The {what} name '{name}' can only contain characters that are alphanumeric characters and hyphens(-)"
        )
    if name.startswith("-") or name.endswith("-"):
        raise validation(f"The {what} name '{name}' cannot begin or end with '-' character")
    if what == "load balancer" and name.lower().startswith("internal-"):
        raise validation(f"The {what} name '{name}' cannot begin with 'internal-'")


def free_port() -> int:
    """A loopback port nobody listens on now (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def default_vpc(account: str, region: str) -> str:
    """The VPC id reported while Overcast has no EC2: stable per account and region."""
    return "vpc-" + hashlib.sha256(f"{account}/{region}/default-vpc".encode()).hexdigest()[:17]


class LoadBalancerOperations(Operations):
    service: ElbV2Provider

    # -- create ----------------------------------------------------------------------------------------

    async def create_load_balancer(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        kind = params.get("Type", "application")
        name = params["Name"]
        check_name(name, "load balancer")
        subnet_ids = self._subnet_ids(params)
        if kind == "application" and len(subnet_ids) < 2:
            raise validation("At least two subnets in two different Availability Zones must be specified")
        if not subnet_ids:
            raise validation("At least one subnet must be specified")
        if len(set(subnet_ids)) != len(subnet_ids):
            raise validation("The same subnet cannot be specified more than once")
        described = await self.service.subnets(ctx, subnet_ids)
        with self.db.transaction():
            return self._create(ctx, params, kind, name, subnet_ids, described)

    @staticmethod
    def _subnet_ids(params: dict[str, Any]) -> list[str]:
        if params.get("Subnets") and params.get("SubnetMappings"):
            raise validation("You can specify subnets or subnet mappings, not both")
        if params.get("SubnetMappings"):
            return [mapping["SubnetId"] for mapping in params["SubnetMappings"]]
        return list(params.get("Subnets") or ())

    def _create(
        self,
        ctx: RequestContext,
        params: dict[str, Any],
        kind: str,
        name: str,
        subnet_ids: list[str],
        described: list[dict[str, str]] | None,
    ) -> dict[str, Any]:
        store = self.service.store
        scheme = params.get("Scheme", "internet-facing")
        subnets = described if described is not None else self.service.opaque_subnets(ctx.region, subnet_ids)
        zones = [subnet["ZoneName"] for subnet in subnets]
        if len(set(zones)) != len(zones):
            raise invalid_config(
                "A load balancer cannot be attached to multiple subnets in the same Availability Zone"
            )
        if kind == "application" and len(set(zones)) < 2:
            raise validation("At least two subnets in two different Availability Zones must be specified")
        vpcs = {subnet.get("VpcId") for subnet in subnets if subnet.get("VpcId")}
        if len(vpcs) > 1:
            raise invalid_config("The subnets must all belong to the same VPC")
        vpc = vpcs.pop() if vpcs else default_vpc(ctx.account_id, ctx.region)
        groups = list(params.get("SecurityGroups") or ())
        if kind == "gateway" and groups:
            raise validation("Security groups are not supported for load balancers with type 'gateway'")
        if kind == "application" and not groups:
            groups = ["sg-" + hashlib.sha256(f"{vpc}/default".encode()).hexdigest()[:17]]  # the VPC's default
        ip_type = params.get("IpAddressType", "ipv4")
        existing = store.load_balancer_named(ctx.account_id, ctx.region, name)
        if existing is not None:
            same = (
                existing.doc["Type"] == kind
                and existing.doc["Scheme"] == scheme
                and sorted(z["SubnetId"] for z in existing.doc["AvailabilityZones"]) == sorted(subnet_ids)
            )
            if not same:
                raise ServiceError(
                    "DuplicateLoadBalancerName", "A load balancer with the same name exists", 400
                )
            return {"LoadBalancers": [self._described(existing)]}
        if store.count_load_balancers(ctx.account_id, ctx.region) >= MAX_LOAD_BALANCERS:
            raise ServiceError(
                "TooManyLoadBalancers", "The quota for the number of load balancers has been reached", 400
            )
        tags = tag_dict(params.get("Tags"))
        check_new_tags(params.get("Tags"))
        arn = load_balancer_arn(ctx.region, ctx.account_id, kind, name)
        port = free_port()
        now = self.clock.now()
        doc: dict[str, Any] = {
            "LoadBalancerArn": arn,
            "DNSName": dns_name(name, kind, scheme, ctx.region, port),
            "CanonicalHostedZoneId": canonical_zone(ctx.region, kind),
            "LoadBalancerName": name,
            "Scheme": scheme,
            "VpcId": vpc,
            "State": {"Code": "provisioning"},
            "Type": kind,
            "AvailabilityZones": [
                {"ZoneName": subnet["ZoneName"], "SubnetId": subnet["SubnetId"], "LoadBalancerAddresses": []}
                for subnet in subnets
            ],
            "IpAddressType": ip_type,
        }
        if kind != "gateway":
            doc["SecurityGroups"] = groups
        if params.get("IpamPools"):
            doc["IpamPools"] = self._ipam_pools(kind, params["IpamPools"])
        if kind == "gateway":
            doc.pop("DNSName")
            doc.pop("CanonicalHostedZoneId")
            doc.pop("Scheme")
        lb = LoadBalancer(
            arn, ctx.account_id, ctx.region, name, doc, load_balancer_attributes(kind), port, now
        )
        if described is not None and kind != "gateway":
            create_interfaces(self.platform, lb, list(params.get("SecurityGroups") or ()))
        store.put_load_balancer(lb)
        if tags:
            self.service.tags.add(arn, tags, RULES, account=ctx.account_id, region=ctx.region)
        self.service.changed()
        return {"LoadBalancers": [self._described(lb)]}

    def _described(self, lb: LoadBalancer) -> dict[str, Any]:
        """The load balancer as Describe* shows it: provisioning for its first seconds, then active."""
        doc = describe_shape(lb.doc)
        doc["CreatedTime"] = datetime.fromtimestamp(lb.created, UTC)
        if doc["State"]["Code"] == "provisioning" and self.clock.now() - lb.created >= 1:
            doc["State"] = {"Code": "active"}
        return doc

    # -- describe / delete -----------------------------------------------------------------------------------

    def describe_load_balancers(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        store = self.service.store
        arns, names = params.get("LoadBalancerArns"), params.get("Names")
        if arns and names:
            raise validation(
                "Load balancer names and load balancer ARNs cannot be specified at the same time"
            )
        if arns:
            found = [store.load_balancer(arn) for arn in arns]
            if any(lb is None or lb.account != ctx.account_id or lb.region != ctx.region for lb in found):
                raise lb_not_found()
        elif names:
            found = [store.load_balancer_named(ctx.account_id, ctx.region, name) for name in names]
            if any(lb is None for lb in found):
                raise lb_not_found()
        else:
            found = store.load_balancers(ctx.account_id, ctx.region)
        chunk, marker = page(found, params, "DescribeLoadBalancers")
        result: dict[str, Any] = {"LoadBalancers": [self._described(lb) for lb in chunk]}
        if marker:
            result["NextMarker"] = marker
        return result

    def delete_load_balancer(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        lb = self.service.store.load_balancer(params["LoadBalancerArn"])
        if lb is None or lb.account != ctx.account_id or lb.region != ctx.region:
            return {}  # AWS: deleting a load balancer that does not exist succeeds
        if lb.attributes.get("deletion_protection.enabled") == "true":
            raise ServiceError(
                "OperationNotPermitted",
                f"Load balancer '{lb.arn}' cannot be deleted because deletion protection is enabled",
                400,
            )
        listeners = self.service.store.listeners_of(lb.arn)
        for listener in listeners:
            self.service.use_certificates(ctx, listener.arn, listener.certificates, [])
            self.service.tags.forget(listener.arn)
            for rule in self.service.store.rules_of(listener.arn):
                self.service.tags.forget(rule.arn)
        self.service.store.delete_load_balancer(lb.arn)
        delete_interfaces(self.platform, lb)
        self.service.tags.forget(lb.arn)
        arns = [listener.arn for listener in listeners]
        self.db.after_commit(lambda: self.service.data_plane.close(arns))
        self.service.changed()
        return {}

    # -- attributes ------------------------------------------------------------------------------------------

    def describe_load_balancer_attributes(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        lb = self.service.load_balancer(ctx, params["LoadBalancerArn"])
        return {"Attributes": attribute_list(lb.attributes)}

    def modify_load_balancer_attributes(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        lb = self.service.load_balancer(ctx, params["LoadBalancerArn"])
        changes = {item["Key"]: item.get("Value", "") for item in params["Attributes"]}
        for key, value in changes.items():
            _check_lb_attribute(lb, key, value)
        merged = {**lb.attributes, **changes}
        if merged.get("access_logs.s3.enabled") == "true" and not merged.get("access_logs.s3.bucket"):
            raise validation(
                "The value of 'access_logs.s3.bucket' cannot be empty when access logs are enabled"
            )
        lb.attributes = merged
        self.service.store.put_load_balancer(lb)
        self.service.changed()
        return {"Attributes": attribute_list(lb.attributes)}

    # -- subnets, security groups, address type ----------------------------------------------------------------

    async def set_subnets(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        subnet_ids = self._subnet_ids(params)
        described = await self.service.subnets(ctx, subnet_ids) if subnet_ids else []
        with self.db.transaction():
            lb = self.service.load_balancer(ctx, params["LoadBalancerArn"])
            if lb.type == "application" and len(subnet_ids) < 2:
                raise validation("At least two subnets in two different Availability Zones must be specified")
            subnets = (
                described if described is not None else self.service.opaque_subnets(ctx.region, subnet_ids)
            )
            zones = [subnet["ZoneName"] for subnet in subnets]
            if len(set(zones)) != len(zones):
                raise invalid_config(
                    "A load balancer cannot be attached to multiple subnets in the same Availability Zone"
                )
            lb.doc["AvailabilityZones"] = [
                {"ZoneName": s["ZoneName"], "SubnetId": s["SubnetId"], "LoadBalancerAddresses": []}
                for s in subnets
            ]
            recreate_interfaces(self.platform, lb)
            self.service.store.put_load_balancer(lb)
            self.service.changed()
            result: dict[str, Any] = {"AvailabilityZones": lb.doc["AvailabilityZones"]}
            if params.get("IpAddressType"):
                result["IpAddressType"] = params["IpAddressType"]
            return result

    def set_security_groups(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        lb = self.service.load_balancer(ctx, params["LoadBalancerArn"])
        if lb.type == "gateway":
            raise validation("Security groups are not supported for load balancers with type 'gateway'")
        groups = list(params["SecurityGroups"])
        if lb.type == "application" and not groups:
            raise validation("At least one security group must be specified for an application load balancer")
        lb.doc["SecurityGroups"] = groups
        recreate_interfaces(self.platform, lb)
        self.service.store.put_load_balancer(lb)
        self.service.changed()
        result: dict[str, Any] = {"SecurityGroupIds": groups}
        if params.get("EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic"):
            result["EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic"] = params[
                "EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic"
            ]
        return result

    # -- IPAM pools -----------------------------------------------------------------------------------------------

    @staticmethod
    def _ipam_pools(kind: str, pools: dict[str, Any]) -> dict[str, str]:
        """The IPAM pool an application load balancer takes its IPv4 addresses from (kept: every address here
        is loopback)."""
        if kind != "application":
            raise invalid_config("IPAM pools are supported only for application load balancers")
        pool = pools.get("Ipv4IpamPoolId") or ""
        if not pool.startswith("ipam-pool-"):
            raise validation(f"The IPAM pool ID '{pool}' is not valid")
        return {"Ipv4IpamPoolId": pool}

    def modify_ip_pools(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        lb = self.service.load_balancer(ctx, params["LoadBalancerArn"])
        if params.get("IpamPools") and params.get("RemoveIpamPools"):
            raise validation("IpamPools and RemoveIpamPools cannot be specified together")
        if params.get("IpamPools"):
            lb.doc["IpamPools"] = self._ipam_pools(lb.type, params["IpamPools"])
        elif "ipv4" in (params.get("RemoveIpamPools") or []):
            lb.doc.pop("IpamPools", None)
        self.service.store.put_load_balancer(lb)
        return {"IpamPools": lb.doc["IpamPools"]} if lb.doc.get("IpamPools") else {}

    # -- capacity reservations ------------------------------------------------------------------------------------

    def describe_capacity_reservation(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        lb = self.service.load_balancer(ctx, params["LoadBalancerArn"])
        return self._capacity(lb)

    def modify_capacity_reservation(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        """Reserve (or, with ResetCapacityReservation, release) a minimum capacity: kept and described, the
        data plane has no capacity to scale. Decreases are limited per day (virtual time)."""
        lb = self.service.load_balancer(ctx, params["LoadBalancerArn"])
        if lb.type == "gateway":
            raise ServiceError(
                "OperationNotPermitted",
                "Capacity reservations are not supported for gateway load balancers",
                400,
            )
        minimum, reset = params.get("MinimumLoadBalancerCapacity"), params.get("ResetCapacityReservation")
        if bool(minimum) == bool(reset):
            raise validation(
                "Either MinimumLoadBalancerCapacity or ResetCapacityReservation must be specified"
            )
        units = None if reset else minimum.get("CapacityUnits")
        if not reset and (units is None or units < 1):
            raise validation("CapacityUnits must be a positive number")
        now = self.clock.now()
        day = int(now // 86400)
        current, _, counted_day, decreases = self.service.store.capacity(lb.arn) or (None, now, day, 0)
        decreases = decreases if counted_day == day else 0
        if current is not None and (units is None or units < current):
            if decreases >= DECREASES_PER_DAY:
                raise ServiceError(
                    "CapacityDecreaseRequestLimitExceeded",
                    "You've exceeded the daily capacity decrease limit for this reservation.",
                    400,
                )
            decreases += 1
        self.service.store.put_capacity(lb.arn, units, now, day, decreases)
        return self._capacity(lb)

    def _capacity(self, lb: LoadBalancer) -> dict[str, Any]:
        units, modified, day, decreases = self.service.store.capacity(lb.arn) or (None, None, 0, 0)
        today = int(self.clock.now() // 86400)
        zones = [zone["ZoneName"] for zone in lb.doc.get("AvailabilityZones", [])]
        states = []
        for zone in zones:
            state: dict[str, Any] = {"State": {"Code": "provisioned"}, "AvailabilityZone": zone}
            if units is not None:
                state["EffectiveCapacityUnits"] = float(units) / len(zones)
            states.append(state)
        result: dict[str, Any] = {
            "DecreaseRequestsRemaining": DECREASES_PER_DAY - (decreases if day == today else 0),
            "CapacityReservationState": states,
        }
        if modified is not None:
            result["LastModifiedTime"] = datetime.fromtimestamp(modified, UTC)
        if units is not None:
            result["MinimumLoadBalancerCapacity"] = {"CapacityUnits": units}
        return result

    def set_ip_address_type(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        lb = self.service.load_balancer(ctx, params["LoadBalancerArn"])
        if (
            lb.doc.get("Scheme") == "internal"
            and params["IpAddressType"] == "dualstack"
            and lb.type == "application"
        ):
            raise invalid_config("Internal load balancers cannot be dualstack")
        lb.doc["IpAddressType"] = params["IpAddressType"]
        self.service.store.put_load_balancer(lb)
        return {"IpAddressType": params["IpAddressType"]}

    def describe_account_limits(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limits = {
            "application-load-balancers": 50,
            "condition-values-per-alb-rule": 5,
            "condition-wildcards-per-alb-rule": 5,
            "gateway-load-balancers": 100,
            "gateway-load-balancers-per-vpc": 100,
            "geneve-target-groups": 100,
            "listeners-per-application-load-balancer": 50,
            "listeners-per-network-load-balancer": 50,
            "network-load-balancers": 50,
            "rules-per-application-load-balancer": 100,
            "target-groups": 3000,
            "target-groups-per-action-on-application-load-balancer": 5,
            "target-groups-per-action-on-network-load-balancer": 1,
            "target-groups-per-application-load-balancer": 100,
            "targets-per-application-load-balancer": 1000,
            "targets-per-availability-zone-per-network-load-balancer": 500,
            "targets-per-network-load-balancer": 3000,
        }
        return {"Limits": [{"Name": name, "Max": str(value)} for name, value in limits.items()]}


def _check_lb_attribute(lb: LoadBalancer, key: str, value: str) -> None:
    if key not in lb.attributes:
        raise validation(f"Load balancer attribute key '{key}' is not recognized")
    if key.endswith(".enabled") and value not in _BOOL:
        raise validation(f"Load balancer attribute value '{value}' for key '{key}' must be 'true' or 'false'")
    if key == "idle_timeout.timeout_seconds" and not (value.isdigit() and 1 <= int(value) <= 4000):
        raise validation(f"Load balancer attribute key '{key}' must be between 1 and 4000, not '{value}'")
    if key == "client_keep_alive.seconds" and not (value.isdigit() and 60 <= int(value) <= 604800):
        raise validation(f"Load balancer attribute key '{key}' must be between 60 and 604800, not '{value}'")
    if key == "load_balancing.cross_zone.enabled" and lb.type == "application" and value != "true":
        raise invalid_config("Cross-zone load balancing cannot be disabled for application load balancers")
    if key == "routing.http.desync_mitigation_mode" and value not in ("monitor", "defensive", "strictest"):
        raise validation(f"Load balancer attribute value '{value}' for key '{key}' is not valid")
    if key == "routing.http.xff_header_processing.mode" and value not in ("append", "preserve", "remove"):
        raise validation(f"Load balancer attribute value '{value}' for key '{key}' is not valid")
