"""Route 53's health checkers on the virtual clock: each health check is probed every RequestInterval seconds
(its due time is a row, so checking goes on after a restart); FailureThreshold consecutive results in the other
direction change its status. Calculated checks follow their children; CloudWatch checks follow their alarm.

Like every check Overcast makes, probes reach only endpoints on this machine (loopback addresses, names that
resolve to them in Overcast's zones or the system's resolver); another address is a failed check saying why.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from typing import TYPE_CHECKING, Any

from overcast.errors import ServiceError
from overcast.identity import root_principal
from overcast.services.route53.resolver import Client
from overcast.services.route53.store import HealthCheck

if TYPE_CHECKING:
    from overcast.services.route53.provider import Route53Provider

CONNECT_SECONDS = 4.0  # an HTTP(S) endpoint must accept the connection within 4 s ...
RESPONSE_SECONDS = 2.0  # ... and answer within 2 s more (Route 53's rule)
TCP_SECONDS = 10.0
SEARCHED_BYTES = 5120
CALCULATED_EVERY = 10.0
_REFUSED = "Failure: Connection refused. The endpoint or the internet connection is down, or firewall blocks the connection."
_TIMED_OUT = "Failure: Connection timed out. The endpoint or the internet connection is down, or requests are being blocked by your firewall."
_UNREACHABLE = (
    "Failure: Overcast's health checkers reach only endpoints on this machine (loopback addresses)."
)


def _unverified() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


class HealthCheckers:
    def __init__(self, service: Route53Provider) -> None:
        self.service = service
        self.store = service.store
        self.clock = service.clock

    async def run_due(self) -> float | None:
        db = self.service.db
        now = self.clock.now()
        with db.transaction():
            due = self.store.due_health_checks(now)
        endpoint = [check for check in due if check.config["Type"] not in ("CALCULATED", "CLOUDWATCH_METRIC")]
        outcomes = await asyncio.gather(*(self.probe(check) for check in endpoint))
        alarms = [check for check in due if check.config["Type"] == "CLOUDWATCH_METRIC"]
        alarm_states = [await self._alarm(check) for check in alarms]
        with db.transaction():
            for check, (passed, text) in zip(endpoint, outcomes, strict=True):
                self._record(check, passed, text, now)
            for check, passed in zip(alarms, alarm_states, strict=True):
                self._record_alarm(check, passed, now)
            for check in due:
                if check.config["Type"] == "CALCULATED":
                    self._calculate(check, now)
            if due:
                self.service.changed()
            return self.store.next_health_check()

    # -- endpoint checks -------------------------------------------------------------------------------------------

    def _record(self, check: HealthCheck, passed: bool, text: str, now: float) -> None:
        config = check.config
        threshold = config.get("FailureThreshold", 3)
        inverted, disabled = config.get("Inverted", False), config.get("Disabled", False)
        raw = check.healthy != inverted if not disabled else True
        if passed:
            check.passes, check.failures = check.passes + 1, 0
            if not raw and check.passes >= threshold:
                raw = True
        else:
            check.failures, check.passes = check.failures + 1, 0
            check.last_failure = text
            if raw and check.failures >= threshold:
                raw = False
        check.healthy = True if disabled else raw != inverted
        check.observation = text
        check.checked = now
        check.next_check = now + config.get("RequestInterval", 30)
        self.store.record_result(check)

    async def probe(self, check: HealthCheck) -> tuple[bool, str]:
        """(passed, what the checker reports) of one probe of an endpoint."""
        config = check.config
        address = config.get("IPAddress") or await self._resolve(config.get("FullyQualifiedDomainName", ""))
        if address is None:
            return False, "Failure: DNS resolution failed: the name does not resolve"
        try:
            if not ipaddress.ip_address(address).is_loopback:
                return False, _UNREACHABLE
        except ValueError:
            return False, _UNREACHABLE
        kind = config["Type"]
        port = config["Port"]
        if kind == "TCP":
            try:
                _, writer = await asyncio.wait_for(asyncio.open_connection(address, port), TCP_SECONDS)
                writer.close()
                return True, "Success: TCP connection established"
            except TimeoutError:
                return False, _TIMED_OUT
            except OSError:
                return False, _REFUSED
        tls = _unverified() if kind.startswith("HTTPS") else None
        host = config.get("FullyQualifiedDomainName") or address
        server_name = config.get("FullyQualifiedDomainName") if tls and config.get("EnableSNI") else None
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(address, port, ssl=tls, server_hostname=server_name if tls else None),
                CONNECT_SECONDS,
            )
        except TimeoutError:
            return False, _TIMED_OUT
        except (OSError, ssl.SSLError):
            return False, _REFUSED
        try:
            writer.write(
                f"GET {config.get('ResourcePath', '/')} HTTP/1.1\r\nHost: {host}\r\n"
                "User-Agent: Amazon-Route53-Health-Check-Service (ref overcast; report http://amzn.to/1vsZADi)\r\n"
                "Connection: close\r\n\r\n".encode()
            )
            status_line, body = await asyncio.wait_for(
                _status_and_body(reader, kind.endswith("_STR_MATCH")), RESPONSE_SECONDS
            )
        except TimeoutError:
            return False, "Failure: The endpoint did not respond within the timeout period."
        except (OSError, ValueError, ssl.SSLError):
            return False, "Failure: The endpoint's response was malformed."
        finally:
            writer.close()
        status, reason = status_line
        if not 200 <= status < 400:
            return False, f"Failure: HTTP Status Code {status}, {reason}"
        if kind.endswith("_STR_MATCH") and config["SearchString"].encode() not in body[:SEARCHED_BYTES]:
            return (
                False,
                "Failure: The search string was not found in the first 5120 bytes of the response body.",
            )
        return True, f"Success: HTTP Status Code {status}, {reason}"

    async def _resolve(self, name: str) -> str | None:
        if not name:
            return None
        answer = self.service.resolver.resolve(
            name, "A", Client(region=self.service.platform.config.default_region)
        )
        found = [value for _, kind, _, value in answer.records if kind == "A"]
        if found:
            return found[0]
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(name, None, family=socket.AF_INET)
        except OSError:
            return None
        return infos[0][4][0] if infos else None

    # -- calculated and CloudWatch alarm checks ------------------------------------------------------------------------

    def _calculate(self, check: HealthCheck, now: float) -> None:
        config = check.config
        children = [self.store.healthy(child) for child in config.get("ChildHealthChecks", [])]
        healthy_children = sum(1 for child in children if child)
        raw = healthy_children >= config.get("HealthThreshold", 0)
        check.healthy = True if config.get("Disabled") else raw != config.get("Inverted", False)
        check.observation = f"{'Success' if check.healthy else 'Failure'}: {healthy_children} of {len(children)} child health checks are healthy"
        check.checked = now
        check.next_check = now + CALCULATED_EVERY
        self.store.record_result(check)

    async def _alarm(self, check: HealthCheck) -> bool | None:
        """True (OK), False (ALARM) or None (insufficient data, or no such alarm)."""
        alarm: dict[str, Any] = check.config["AlarmIdentifier"]
        try:
            answer = await self.service.platform.call(
                "cloudwatch",
                "DescribeAlarms",
                {"AlarmNames": [alarm["Name"]]},
                principal=root_principal(check.account),
                account_id=check.account,
                region=alarm["Region"],
            )
        except ServiceError:
            return None
        alarms = answer.get("MetricAlarms", [])
        if not alarms:
            return None
        state = alarms[0].get("StateValue")
        return True if state == "OK" else False if state == "ALARM" else None

    def _record_alarm(self, check: HealthCheck, passed: bool | None, now: float) -> None:
        config = check.config
        raw = check.healthy != config.get("Inverted", False)
        if passed is None:
            setting = config.get("InsufficientDataHealthStatus", "LastKnownStatus")
            passed = raw if setting == "LastKnownStatus" else setting == "Healthy"
        check.healthy = True if config.get("Disabled") else passed != config.get("Inverted", False)
        check.observation = (
            f"{'Success' if passed else 'Failure'}: CloudWatch alarm {config['AlarmIdentifier']['Name']}"
        )
        check.checked = now
        check.next_check = now + CALCULATED_EVERY
        self.store.record_result(check)


async def _status_and_body(reader: asyncio.StreamReader, read_body: bool) -> tuple[tuple[int, str], bytes]:
    line = await reader.readline()
    parts = line.decode("latin-1").split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/"):
        raise ValueError("not an HTTP response")
    status = int(parts[1])
    reason = parts[2].strip() if len(parts) > 2 else ""
    while True:  # headers
        header = await reader.readline()
        if header in (b"\r\n", b"\n", b""):
            break
    body = b""
    while read_body and len(body) < SEARCHED_BYTES:
        chunk = await reader.read(SEARCHED_BYTES - len(body))
        if not chunk:
            break
        body += chunk
    return (status, reason), body
