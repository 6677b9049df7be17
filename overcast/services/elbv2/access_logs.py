"""Access logs of Application Load Balancers, in AWS's format, delivered to S3 every five minutes.

Each request is one line (the fields of "Access log entries" in the ALB User Guide); lines are kept in memory
until the next delivery, gzipped, and put at AWS's key:
`<prefix>/AWSLogs/<account>/elasticloadbalancing/<region>/<yyyy>/<mm>/<dd>/<account>_elasticloadbalancing_
<region>_app.<name>.<id>_<yyyymmddThhmmZ>_<ip>_<random>.log.gz`, as the log delivery service principal, so the
bucket's policy decides as in AWS. Lines not yet delivered when the server stops are lost, as AWS's are
best-effort too.
"""

from __future__ import annotations

import gzip
import logging
import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from overcast.errors import ServiceError
from overcast.identity import service_principal

if TYPE_CHECKING:
    from overcast.services.elbv2.http1 import Message
    from overcast.services.elbv2.provider import ElbV2Provider
    from overcast.services.elbv2.proxy import Outcome, View

log = logging.getLogger("overcast")
INTERVAL = 300.0
MAX_BUFFERED = 100_000  # lines per load balancer between deliveries


def _time(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _quoted(text: str | None) -> str:
    return '"' + (text or "-").replace('"', "\\x22") + '"'


class AccessLogs:
    def __init__(self, service: ElbV2Provider) -> None:
        self.service = service
        self.lines: dict[str, list[str]] = {}  # load balancer ARN -> lines not delivered yet

    def record(self, view: View, request: Message, outcome: Outcome, client: str, port: int, scheme: str,
               elapsed: float) -> None:  # fmt: skip
        attributes = view.lb.attributes
        if attributes.get("access_logs.s3.enabled") != "true":
            return
        now = self.service.clock.now()
        lb_id = view.lb.arn.split(":loadbalancer/", 1)[1]
        host = request.header("host") or f"{client}:{port}"
        url = f"{scheme}://{host}{request.target}"
        forwarded = outcome.target != "-"
        group = "-"
        kind = "https" if scheme == "https" else "http"
        if outcome.status == 101:  # a WebSocket connection
            kind = "wss" if scheme == "https" else "ws"
        fields = [
            kind,
            _time(now),
            lb_id,
            f"{client}:{port}",
            outcome.target,
            "0.000",
            f"{elapsed:.3f}" if forwarded else "-1",
            "0.000",
            str(outcome.status),
            str(outcome.status) if forwarded else "-",
            str(len(request.body)),
            str(len(outcome.body)),
            _quoted(f"{request.method} {url} HTTP/{request.version}"),
            _quoted(request.header("user-agent")),
            "-" if scheme == "http" else "ECDHE-RSA-AES128-GCM-SHA256",
            "-" if scheme == "http" else "TLSv1.2",
            group,
            _quoted(request.header("x-amzn-trace-id")),
            _quoted("-"),
            _quoted("-"),
            "0",
            _time(now - elapsed),
            _quoted("forward" if forwarded else "fixed-response"),
            _quoted("-"),
            _quoted("-"),
            _quoted(outcome.target),
            _quoted(str(outcome.status) if forwarded else "-"),
            _quoted("-"),
            _quoted("-"),
        ]
        lines = self.lines.setdefault(view.lb.arn, [])
        if len(lines) < MAX_BUFFERED:
            lines.append(" ".join(fields))

    async def deliver(self) -> float:
        """Put each load balancer's lines since the last delivery; the next delivery's moment."""
        pending, self.lines = self.lines, {}
        for lb_arn, lines in pending.items():
            if lines:
                await self._put(lb_arn, lines)
        return self.service.clock.now() + INTERVAL

    async def _put(self, lb_arn: str, lines: list[str]) -> None:
        lb = self.service.store.load_balancer(lb_arn)
        if lb is None:
            return
        bucket = lb.attributes.get("access_logs.s3.bucket", "")
        prefix = lb.attributes.get("access_logs.s3.prefix", "")
        now = datetime.fromtimestamp(self.service.clock.now(), UTC)
        kind, name, ident = lb_arn.split(":loadbalancer/", 1)[1].split("/")
        key = (
            f"{prefix + '/' if prefix else ''}AWSLogs/{lb.account}/elasticloadbalancing/{lb.region}/"
            f"{now:%Y/%m/%d}/{lb.account}_elasticloadbalancing_{lb.region}_{kind}.{name}.{ident}_"
            f"{now:%Y%m%dT%H%MZ}_127.0.0.1_{os.urandom(4).hex()}.log.gz"
        )
        body: Any = gzip.compress(("\n".join(lines) + "\n").encode())
        try:
            await self.service.platform.call(
                "s3",
                "PutObject",
                {"Bucket": bucket, "Key": key, "Body": body},
                principal=service_principal("logdelivery.elasticloadbalancing.amazonaws.com", lb.account),
                account_id=lb.account,
                region=lb.region,
                condition_keys={"aws:SourceArn": lb.arn, "aws:SourceAccount": lb.account},
            )
        except ServiceError as error:
            log.warning("elbv2: access logs of %s could not be delivered to %s: %s", lb.arn, bucket, error)
