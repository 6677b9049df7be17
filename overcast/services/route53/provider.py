"""Route 53's provider: composition, changes and their status, what the resolver reads (the `Source`), the DNS
server's and health checkers' life, and the declared hooks."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import overcast.services.elbv2.api as elbv2
from overcast.context import RequestContext
from overcast.errors import NotImplementedOperation, ServiceError
from overcast.identity import root_principal, service_principal
from overcast.services import is_available
from overcast.services.base import ServiceProvider
from overcast.services.kit.timers import run_due_work
from overcast.services.route53.common import PROPAGATION_SECONDS, new_id
from overcast.services.route53.delegation_sets import DelegationSetOperations
from overcast.services.route53.dns_server import DnsServer, location_setting
from overcast.services.route53.health_checks import HealthCheckOperations
from overcast.services.route53.names import normalize, parents
from overcast.services.route53.query_logs import QueryLogs
from overcast.services.route53.record_sets import RecordOperations
from overcast.services.route53.resolver import Client, Resolver
from overcast.services.route53.store import Route53Store
from overcast.services.route53.traffic_policies import TrafficPolicyOperations
from overcast.services.route53.workers import HealthCheckers
from overcast.services.route53.zones import ZoneOperations

if TYPE_CHECKING:
    from overcast.platform import Platform

log = logging.getLogger("overcast")
CACHED_NAMES = 50_000  # record sets of this many names are kept between changes (the DNS server's hot path)


class Route53Provider(ServiceProvider):
    service_name = "route53"
    families = (
        ZoneOperations,
        RecordOperations,
        HealthCheckOperations,
        DelegationSetOperations,
        TrafficPolicyOperations,
    )
    # pure reads of the stored rows (not GetChange: a change turns INSYNC on the clock): state/answers.py
    remembered = frozenset(
        {"ListHostedZones", "ListHostedZonesByName", "GetHostedZone", "GetHostedZoneCount",
         "ListResourceRecordSets"}
    )  # fmt: skip

    def __init__(self, platform: Platform) -> None:
        super().__init__(platform)
        self.store = Route53Store(self.db)
        self.zones = self.family(ZoneOperations)
        self.version = 0  # bumped after each committed change: the resolver's caches key on it
        self._zone_index: tuple[int, dict[str, tuple[str, str]]] | None = None
        self._private: dict[tuple[str, str], tuple[int, dict[str, tuple[str, str]]]] = {}
        self._sets: OrderedDict[tuple[str, str], list[dict[str, Any]]] = OrderedDict()
        self._sets_version = 0
        self.resolver = Resolver(_Source(self))
        self.location = location_setting()
        self.wake = asyncio.Event()
        self.checkers = HealthCheckers(self)
        self.query_logs = QueryLogs(self)
        self._logs_wake = asyncio.Event()
        # answers DNS messages; listens on --dns-port when given (EC2's VPC resolver uses it through api.py)
        self.dns = DnsServer(self, platform.config.host, platform.config.dns_port or 0)

    async def start(self) -> None:
        self.platform.spawn(
            run_due_work(self.clock, self.wake, self.checkers.run_due, "route53 health checks")
        )
        self.platform.spawn(
            run_due_work(self.clock, self._logs_wake, self.query_logs.flush, "route53 query logs")
        )
        port = self.platform.config.dns_port
        if port:
            try:
                await self.dns.start()
            except OSError as error:
                log.error("route53: the DNS server cannot listen on port %d: %s", port, error)

    async def stop(self) -> None:
        self.dns.stop()

    def reset(self) -> None:
        self.version += 1
        self.query_logs.pending.clear()

    def changed(self) -> None:
        self.db.after_commit(self._bump)

    def _bump(self) -> None:
        self.version += 1
        self.wake.set()

    # -- changes ------------------------------------------------------------------------------------------------

    def new_change(self, ctx: RequestContext, comment: str | None) -> dict[str, Any]:
        change_id = new_id("C")
        now = self.clock.now()
        self.store.put_change(change_id, ctx.account_id, now, comment)
        return self.change_info(change_id, now, comment)

    def change_info(self, change_id: str, submitted: float, comment: str | None) -> dict[str, Any]:
        """PENDING while the change propagates, INSYNC after PROPAGATION_SECONDS of virtual time."""
        status = "INSYNC" if self.clock.now() - submitted >= PROPAGATION_SECONDS else "PENDING"
        info: dict[str, Any] = {
            "Id": f"/change/{change_id}",
            "Status": status,
            "SubmittedAt": datetime.fromtimestamp(submitted, UTC),
        }
        if comment:
            info["Comment"] = comment
        return info

    # -- what other services ask (api.py) -------------------------------------------------------------------------

    def has_record(self, name: str, record_type: str, value: str) -> bool:
        wanted = normalize(value) if record_type == "CNAME" else value
        for doc in self.store.find_records(normalize(name), record_type):
            for item in doc.get("ResourceRecords", []):
                got = normalize(item["Value"]) if record_type == "CNAME" else item["Value"]
                if got == wanted:
                    return True
        return False

    async def signing_public_key(self, ctx: RequestContext, kms_arn: str) -> bytes:
        """The public key of the KMS key a key-signing key signs with, as Route 53 reads it (a customer managed
        ECC_NIST_P256 SIGN_VERIFY key in us-east-1, whose policy lets dnssec-route53.amazonaws.com use it)."""
        invalid = ServiceError(
            "InvalidKMSArn",
            "The KeyManagementServiceArn that you specified isn't valid to use with DNSSEC signing.",
            400,
        )
        parts = kms_arn.split(":")
        if len(parts) < 6 or parts[2] != "kms" or parts[3] != "us-east-1":
            raise invalid
        try:
            found = await self.platform.call(
                "kms", "GetPublicKey", {"KeyId": kms_arn},
                principal=service_principal("dnssec-route53.amazonaws.com", ctx.account_id),
                account_id=parts[4], region=parts[3],
            )  # fmt: skip
        except ServiceError as error:
            raise invalid from error
        if found.get("KeySpec") != "ECC_NIST_P256" or found.get("KeyUsage") != "SIGN_VERIFY":
            raise invalid
        return bytes(found["PublicKey"])

    async def check_vpc(self, ctx: RequestContext, vpc: dict[str, Any]) -> None:
        """The VPC must exist once Overcast has EC2 (its id is taken as given until then)."""
        if not vpc.get("VPCId"):
            raise ServiceError("InvalidVPCId", "The VPC ID is required.", 400)
        if not is_available("ec2"):
            return
        try:
            await self.platform.call(
                "ec2", "DescribeVpcs", {"VpcIds": [vpc["VPCId"]]}, principal=root_principal(ctx.account_id),
                account_id=ctx.account_id, region=vpc.get("VPCRegion") or ctx.region,
            )  # fmt: skip
        except NotImplementedOperation:
            return
        except ServiceError as error:
            if "NotFound" in error.code or "Malformed" in error.code:
                raise ServiceError("InvalidVPCId", f"The VPC ID '{vpc['VPCId']}' is not valid", 400) from None
            raise

    async def check_log_group(self, ctx: RequestContext, arn: str) -> None:
        """A query logging configuration's log group must exist (NoSuchCloudWatchLogsLogGroup)."""
        from overcast.services.kit.arns import parse_arn

        parsed = parse_arn(arn)
        if parsed is None or parsed.service != "logs" or parsed.resource_type != "log-group":
            raise ServiceError("InvalidInput", f"The ARN {arn} is not a CloudWatch Logs log group ARN.", 400)
        if parsed.region != "us-east-1":
            raise ServiceError("InvalidInput", "The log group must be in the us-east-1 Region.", 400)
        name = parsed.resource_id.removesuffix(":*")
        try:
            found = await self.platform.call(
                "logs", "DescribeLogGroups", {"logGroupNamePrefix": name}, principal=root_principal(ctx.account_id),
                account_id=parsed.account or ctx.account_id, region=parsed.region,
            )  # fmt: skip
        except NotImplementedOperation:
            return
        if not any(group["logGroupName"] == name for group in found.get("logGroups", [])):
            raise ServiceError(
                "NoSuchCloudWatchLogsLogGroup",
                "There is no CloudWatch Logs log group with the specified ARN.",
                404,
            )

    # -- what the resolver reads -------------------------------------------------------------------------------------

    def zone_index(self) -> dict[str, tuple[str, str]]:
        """{zone name: (id, name)} of the public zones, oldest first per name, for this configuration version."""
        if self._zone_index is None or self._zone_index[0] != self.version:
            index: dict[str, tuple[str, str]] = {}
            for zone_id, name in self.store.public_zones():  # newest first: the oldest of a name wins
                index[name] = (zone_id, name)
            self._zone_index = (self.version, index)
        return self._zone_index[1]

    def private_index(self, vpc_id: str, region: str) -> dict[str, tuple[str, str]]:
        """{zone name: (id, name)} of the private zones associated with a VPC, for this configuration version."""
        key = (vpc_id, region)
        cached = self._private.get(key)
        if cached is None or cached[0] != self.version:
            zones = {
                zone.name: (zone.id, zone.name) for zone in reversed(self.store.zones_of_vpc(vpc_id, region))
            }
            if len(self._private) > 1000:
                self._private.clear()
            cached = self._private[key] = (self.version, zones)
        return cached[1]

    def record_sets(self, zone_id: str, name: str) -> list[dict[str, Any]]:
        if self._sets_version != self.version:
            self._sets.clear()
            self._sets_version = self.version
        key = (zone_id, name)
        found = self._sets.get(key)
        if found is None:
            found = self.store.record_sets(zone_id, name)
            self._sets[key] = found
            if len(self._sets) > CACHED_NAMES:
                self._sets.popitem(last=False)
        return found

    # -- hooks ------------------------------------------------------------------------------------------------------

    def resource_arn(self, ctx: RequestContext, params: dict[str, Any]) -> str | None:
        """Zones, health checks, delegation sets and changes by the id members their operations take."""
        from overcast.services.route53.common import bare

        if ctx.operation in ("GetChange",):
            return f"arn:aws:route53:::change/{bare(params['Id'])}"
        if "TrafficPolicyInstance" in ctx.operation and params.get("Id"):
            return f"arn:aws:route53:::trafficpolicyinstance/{params['Id']}"
        if "TrafficPolic" in ctx.operation and (params.get("Id") or params.get("TrafficPolicyId")):
            return f"arn:aws:route53:::trafficpolicy/{params.get('Id') or params['TrafficPolicyId']}"
        delegation_set = params.get("DelegationSetId") or params.get("Id")
        if "ReusableDelegationSet" in ctx.operation and delegation_set:
            return f"arn:aws:route53:::delegationset/{bare(delegation_set)}"
        zone = params.get("HostedZoneId") or (params.get("Id") if "HostedZone" in ctx.operation else None)
        if zone:
            return f"arn:aws:route53:::hostedzone/{bare(zone)}"
        if params.get("HealthCheckId"):
            return f"arn:aws:route53:::healthcheck/{params['HealthCheckId']}"
        if params.get("ResourceType") in ("hostedzone", "healthcheck") and params.get("ResourceId"):
            return f"arn:aws:route53:::{params['ResourceType']}/{bare(params['ResourceId'])}"
        return None

    def tagging_request(self, arn: str, add=None, remove=None) -> tuple[str, dict[str, Any]] | None:
        kind, _, resource_id = arn.split(":::", 1)[-1].partition("/")
        if kind not in ("hostedzone", "healthcheck"):
            return None
        params: dict[str, Any] = {"ResourceType": kind, "ResourceId": resource_id}
        if add is not None:
            params["AddTags"] = [{"Key": k, "Value": v} for k, v in add.items()]
        else:
            params["RemoveTagKeys"] = list(remove or ())
        return "ChangeTagsForResource", params


class _Source:
    """The resolver's view of the hosted zones (resolver.Source)."""

    def __init__(self, service: Route53Provider) -> None:
        self.service = service

    def zone_for(self, name: str, client: Client) -> tuple[str, str] | None:
        if client.vpc is not None:  # a private zone of the client's VPC holding the name comes first
            private = self.service.private_index(*client.vpc)
            for candidate in parents(name):
                found = private.get(candidate)
                if found is not None:
                    return found
        index = self.service.zone_index()
        for candidate in parents(name):
            found = index.get(candidate)
            if found is not None:
                return found
        return None

    def record_sets(self, zone_id: str, name: str) -> list[dict[str, Any]]:
        return self.service.record_sets(zone_id, name)

    def has_name_below(self, zone_id: str, name: str) -> bool:
        return self.service.store.has_name_below(zone_id, name)

    def healthy(self, check_id: str) -> bool:
        found = self.service.store.healthy(check_id)
        return True if found is None else found

    def zone_name(self, zone_id: str) -> str | None:
        zone = self.service.store.zone(zone_id)
        return zone.name if zone else None

    def served(self, name: str) -> bool:
        return (
            name == "localhost."
            or name.endswith(".localhost.")
            or name.endswith(".localhost.localstack.cloud.")
            or name == "localhost.localstack.cloud."
        )

    def target_healthy(self, alias: dict[str, Any]) -> bool:
        target = normalize(alias["DNSName"]).rstrip(".")
        healthy = elbv2.load_balancer_healthy(self.service.platform, target)
        return True if healthy is None else healthy

    def cidr_locations(self, collection_id: str) -> list[tuple[str, str]]:
        return self.service.store.cidr_blocks(collection_id)

    def traffic_policy(self, instance_id: str) -> tuple[int, dict[str, Any]] | None:
        return self.service.store.instance_policy(instance_id)
