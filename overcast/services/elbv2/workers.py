"""Background work of ELBv2 on the virtual clock: health checks of targets (each due `interval` seconds after
the last) and the end of deregistration delays. Due times are rows, so both go on after a restart."""

from __future__ import annotations

import asyncio
import json
import ssl
from typing import TYPE_CHECKING

from overcast.errors import ServiceError
from overcast.identity import service_principal
from overcast.services.elbv2.instances import Reach, is_instance_address
from overcast.services.elbv2.proxy import PROXY_V2_LOCAL, _client_tls, allowed_address
from overcast.services.elbv2.store import LoadBalancer, Target, TargetGroup
from overcast.services.elbv2.target_groups import parse_matcher

if TYPE_CHECKING:
    from overcast.services.elbv2.provider import ElbV2Provider

PARALLEL_CHECKS = 64
FAILED = ("Target.FailedHealthChecks", "Health checks failed")
TIMED_OUT = ("Target.Timeout", "Request timed out")
INVALID_STATE = "Target.InvalidState"


class HealthChecker:
    def __init__(self, service: ElbV2Provider) -> None:
        self.service = service
        self.store = service.store
        self.clock = service.clock
        self._limit = asyncio.Semaphore(PARALLEL_CHECKS)

    async def run_due(self) -> float | None:
        """Drain what is due, probe what is due; the next due moment."""
        db = self.service.db
        now = self.clock.now()
        with db.transaction():
            if self.store.drained(now):
                self.service.changed()
            due = self.store.due_checks(now)
            groups: dict[str, TargetGroup | None] = {}
            in_use: dict[str, bool] = {}
            for target in due:
                if target.tg_arn not in groups:
                    groups[target.tg_arn] = self.store.target_group(target.tg_arn)
                    in_use[target.tg_arn] = bool(self.store.load_balancers_of_target_group(target.tg_arn))
        probes = []
        for target in due:
            tg = groups.get(target.tg_arn)
            if tg is None:
                continue
            if in_use[target.tg_arn]:
                probes.append(self._check(tg, target))
            else:  # nobody sends it traffic: nothing to check until a listener or rule forwards to it
                target.next_check = now + tg.doc.get("HealthCheckIntervalSeconds", 30)
                probes.append(_done(target))
        results = await asyncio.gather(*probes)
        if results:
            with db.transaction():
                for target in results:
                    self.store.record_check(target)
                self.service.changed()
        with db.transaction():
            upcoming = [
                moment for moment in (self.store.next_drain(), self.store.next_check()) if moment is not None
            ]
        return min(upcoming) if upcoming else None

    async def _check(self, tg: TargetGroup, target: Target) -> Target:
        async with self._limit:
            failure = await self.probe(tg, target)
        doc = tg.doc
        if failure is not None and failure[0] == INVALID_STATE:  # a stopped instance: unused until it runs
            target.state, (target.reason, target.description) = "unused", failure
            target.passes = target.failures = 0
        elif failure is None:
            if target.reason == INVALID_STATE:  # running again: checked from the start
                target.state, target.reason, target.description = "initial", None, None
            target.passes, target.failures = target.passes + 1, 0
            if target.state != "healthy" and target.passes >= doc.get("HealthyThresholdCount", 5):
                target.state, target.reason, target.description = "healthy", None, None
            elif target.state == "initial":
                target.reason, target.description = (
                    "Elb.InitialHealthChecking",
                    "Initial health checks in progress",
                )
        else:
            target.failures, target.passes = target.failures + 1, 0
            if target.state != "unhealthy" and target.failures >= doc.get("UnhealthyThresholdCount", 2):
                target.state = "unhealthy"
            if target.state == "unhealthy":
                target.reason, target.description = failure
            elif target.state == "initial":
                target.reason, target.description = (
                    "Elb.InitialHealthChecking",
                    "Initial health checks in progress",
                )
        target.next_check = self.clock.now() + doc.get("HealthCheckIntervalSeconds", 30)
        return target

    async def probe(self, tg: TargetGroup, target: Target) -> tuple[str, str] | None:
        """None when the target passes one health check, else (reason, description)."""
        doc = tg.doc
        timeout = float(doc.get("HealthCheckTimeoutSeconds", 5))
        if tg.target_type == "lambda":
            return await self._probe_lambda(tg, target)
        configured = doc.get("HealthCheckPort", "traffic-port")
        port = target.port if configured == "traffic-port" else int(configured)
        protocol = doc.get("HealthCheckProtocol", "TCP")
        instance = None
        if is_instance_address(tg.target_type, target.target_id):
            found = self._instance(tg, target, port)
            if isinstance(found, tuple):  # TCP checks have no timeout reason
                return FAILED if found is TIMED_OUT and protocol == "TCP" else found
            address, instance = (found.address, port), found.instance_id
        else:
            address = await self._address(tg, target)
            if address is None or not allowed_address(address[0]):
                return FAILED
        # with proxy protocol, health check connections open with a header too, a LOCAL one (no client)
        proxy = PROXY_V2_LOCAL if tg.attributes.get("proxy_protocol_v2.enabled") == "true" else b""
        try:
            if protocol == "TCP":
                _, writer = await self._connect(address[0], port, instance, timeout)
                if proxy:
                    writer.write(proxy)
                    await writer.drain()
                writer.close()
                return None
            reader, writer = await self._connect(address[0], port, instance, timeout)
            status = await asyncio.wait_for(
                _http_status(reader, writer, address[0], port, doc.get("HealthCheckPath", "/"),
                             protocol == "HTTPS", proxy),
                timeout,
            )  # fmt: skip
        except TimeoutError:
            return TIMED_OUT if protocol != "TCP" else FAILED
        except (OSError, ValueError, ssl.SSLError):
            return FAILED
        if _matches(doc.get("Matcher", {}).get("HttpCode", "200"), status):
            return None
        return "Target.ResponseCodeMismatch", f"Health checks failed with these codes: [{status}]"

    def _instance(self, tg: TargetGroup, target: Target, port: int) -> Reach | tuple[str, str]:
        """The instance a target is, when a health check can be sent to its port; else why the check fails."""
        lb = self._load_balancer(tg)
        instances = self.service.data_plane.instances
        found = instances.reach(lb, tg.target_type, target.target_id, fresh=True) if lb else None
        if lb is None or found is None:
            return FAILED
        if found.state in ("stopped", "terminated"):
            return INVALID_STATE, f"Target is in the {found.state} state"
        if found.state != "running":
            return FAILED  # pending, stopping: nothing answers
        if not instances.allowed(lb, found.instance_id, port):
            return TIMED_OUT  # the security groups (network ACLs, routes) drop the checks: they time out
        return found

    def _load_balancer(self, tg: TargetGroup) -> LoadBalancer | None:
        """The first load balancer that sends the group traffic: its interfaces are where checks come from."""
        with self.service.db.transaction():
            arns = self.store.load_balancers_of_target_group(tg.arn)
            return self.store.load_balancer(arns[0]) if arns else None

    async def _connect(
        self, host: str, port: int, instance: str | None, timeout: float
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if instance:
            return await self.service.data_plane.instances.connect(instance, port, None, timeout)
        return await asyncio.wait_for(asyncio.open_connection(host, port), timeout)

    async def _address(self, tg: TargetGroup, target: Target) -> tuple[str, int] | None:
        if tg.target_type == "ip":
            return target.target_id, target.port
        if tg.target_type == "alb":
            listeners = self.store.listeners_of(target.target_id)
            local = next((item.local_port for item in listeners if item.port == target.port), None)
            return ("127.0.0.1", local) if local else None
        return None

    async def _probe_lambda(self, tg: TargetGroup, target: Target) -> tuple[str, str] | None:
        event = {
            "requestContext": {"elb": {"targetGroupArn": tg.arn}},
            "httpMethod": "GET",
            "path": tg.doc.get("HealthCheckPath", "/"),
            "queryStringParameters": {},
            "headers": {"user-agent": "ELB-HealthChecker/2.0"},
            "body": "",
            "isBase64Encoded": False,
        }
        try:
            answer = await self.service.platform.call(
                "lambda",
                "Invoke",
                {"FunctionName": target.target_id, "Payload": json.dumps(event).encode()},
                principal=service_principal("elasticloadbalancing.amazonaws.com", tg.account),
                account_id=tg.account,
                region=tg.region,
                condition_keys={"aws:SourceArn": tg.arn, "aws:SourceAccount": tg.account},
            )
            if answer.get("FunctionError"):
                return "Target.FailedHealthChecks", "The Lambda function returned an error"
            status = int(json.loads(answer.get("Payload") or b"{}").get("statusCode", 0))
        except (ServiceError, ValueError, TypeError, AttributeError):
            return FAILED
        if _matches(tg.doc.get("Matcher", {}).get("HttpCode", "200"), status):
            return None
        return "Target.ResponseCodeMismatch", f"Health checks failed with these codes: [{status}]"


async def _done(target: Target) -> Target:
    return target


async def _http_status(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    host: str,
    port: int,
    path: str,
    tls: bool,
    proxy: bytes = b"",
) -> int:
    try:
        if proxy:
            writer.write(proxy)
        if tls:
            await writer.start_tls(_client_tls())
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: ELB-HealthChecker/2.0\r\n"
            "Accept-Encoding: gzip, compressed\r\nConnection: close\r\n\r\n".encode()
        )
        await writer.drain()
        line = await reader.readline()
        parts = line.split()
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
            raise ValueError("not an HTTP response")
        return int(parts[1])
    finally:
        writer.close()


def _matches(code: str, status: int) -> bool:
    return any(low <= status <= high for low, high in parse_matcher(code))
