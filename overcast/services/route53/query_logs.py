"""DNS query logging of public hosted zones to CloudWatch Logs, in Route 53's format.

Each query the DNS server answers for a zone with a query logging configuration is one line:
`1.0 <time> <zone id> <query name> <type> <response code> <UDP|TCP> <edge location> <resolver IP> <EDNS client
subnet or ->`, written to the configuration's log group in the stream `<zone id>/<edge location>`. Lines are
kept in memory and put every second (PutLogEvents through Platform.call as route53.amazonaws.com, so the log
group's resource policy decides under --iam enforce); lines not yet put when the server stops are lost.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from overcast.errors import ServiceError
from overcast.identity import service_principal
from overcast.services.kit.arns import parse_arn

if TYPE_CHECKING:
    from overcast.services.route53.provider import Route53Provider

log = logging.getLogger("overcast")
EDGE = "IAD89-C1"  # the edge location Overcast's answers come from
FLUSH_SECONDS = 1.0
MAX_PENDING = 100_000


class QueryLogs:
    def __init__(self, service: Route53Provider) -> None:
        self.service = service
        self.pending: list[tuple[str, str, float, str]] = []  # (log group ARN, zone id, epoch ms, line)
        self._targets: tuple[int, dict[str, str]] | None = None  # (version, {zone id: log group ARN})

    def targets(self) -> dict[str, str]:
        version = self.service.version
        if self._targets is None or self._targets[0] != version:
            self._targets = (version, self.service.store.all_query_loggings())
        return self._targets[1]

    def record(
        self,
        zone_id: str | None,
        name: str,
        kind: str,
        rcode: str,
        protocol: str,
        sender: str,
        subnet: str | None,
    ) -> None:
        if zone_id is None:
            return
        group = self.targets().get(zone_id)
        if group is None or len(self.pending) >= MAX_PENDING:
            return
        now = self.service.clock.now()
        stamp = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        line = f"1.0 {stamp} {zone_id} {name.rstrip('.')} {kind} {rcode} {protocol} {EDGE} {sender} {subnet or '-'}"
        self.pending.append((group, zone_id, now * 1000, line))

    async def flush(self) -> float:
        """Put the pending lines (one PutLogEvents per stream); when to flush next."""
        pending, self.pending = self.pending, []
        streams: dict[tuple[str, str], list[dict]] = {}
        for group, zone_id, moment, line in pending:
            streams.setdefault((group, zone_id), []).append({"timestamp": int(moment), "message": line})
        for (group, zone_id), events in streams.items():
            await self._put(group, f"{zone_id}/{EDGE}", events)
        return self.service.clock.now() + FLUSH_SECONDS

    async def _put(self, group_arn: str, stream: str, events: list[dict]) -> None:
        arn = parse_arn(group_arn)
        if arn is None:
            return
        group = arn.resource_id.removesuffix(":*")
        call = {
            "principal": service_principal("route53.amazonaws.com", arn.account),
            "account_id": arn.account,
            "region": arn.region,
        }
        try:
            try:
                await self.service.platform.call(
                    "logs", "CreateLogStream", {"logGroupName": group, "logStreamName": stream}, **call
                )
            except ServiceError as error:
                if error.code != "ResourceAlreadyExistsException":
                    raise
            await self.service.platform.call(
                "logs",
                "PutLogEvents",
                {"logGroupName": group, "logStreamName": stream, "logEvents": events},
                **call,
            )
        except ServiceError as error:
            log.warning("route53: query logs for %s could not be written: %s", group_arn, error)
