"""The request log: one concise line per request on the terminal (`sqs.SendMessage 200 0.4 ms 000000000000
us-east-1`), and the same calls kept in a bounded ring for the console (`GET /_overcast/requests`).

Lines are written in batches, at most 20 ms after their request: one write() per batch rather than one per
request (a busy server answers thousands a second). The ring holds a small tuple per call whatever the log
level; the parsed request and response of a call are kept too, for the most recent calls only, and only while
someone reads the ring (the console polls it): nobody pays for encoding them otherwise.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import logging
import sys
import time
from collections import deque
from collections.abc import Mapping
from typing import Any

from overcast.context import RequestContext

_GREEN, _YELLOW, _RED, _DIM, _RESET = "\033[32m", "\033[33m", "\033[31m", "\033[2m", "\033[0m"

RING_SIZE = 2000  # calls remembered (about 200 bytes each)
DETAIL_SIZE = 100  # calls whose parsed request and response are remembered
DETAIL_BUDGET = 32_000  # characters of one call's request or response kept (the rest is cut)
WATCH_SECONDS = 60.0  # details are captured this long after the ring was last read

FIELDS = (
    "seq",
    "time",
    "service",
    "operation",
    "status",
    "millis",
    "account",
    "region",
    "principal",
    "request_id",
    "error",
    "agent",
)


class RequestLog:
    def __init__(self, level: str) -> None:
        self.enabled = logging.getLevelName(level.upper()) in (logging.DEBUG, logging.INFO)
        self.colour = sys.stderr.isatty()
        self.out = sys.stderr
        self.pending: list[str] = []
        self.ring: deque[tuple] = deque(maxlen=RING_SIZE)
        self.details: deque[tuple[int, str]] = deque(maxlen=DETAIL_SIZE)  # (seq, JSON of request/response)
        self.seq = 0
        self.watched_until = 0.0  # time.monotonic() until which details are captured

    def record(
        self,
        route,
        ctx: RequestContext | None,
        status: int,
        seconds: float,
        params: Mapping[str, Any] | None = None,
        outcome: Any = None,
    ) -> None:
        """Log one answered request. `params` is the parsed request and `outcome` the result dict or the
        ServiceError, when there were any (kept only while the ring is watched)."""
        self.seq += 1
        self.ring.append(_entry(self.seq, route, ctx, status, seconds, outcome))
        if self.watched_until and time.monotonic() < self.watched_until and params is not None:
            self.details.append((self.seq, _detail(params, outcome)))
        if not self.enabled:
            return
        name = f"{route.service}.{route.operation}" if route else "unrouted"
        where = f"{ctx.account_id} {ctx.region}" if ctx else "-"
        millis = seconds * 1000
        if self.colour:
            tint = _GREEN if status < 400 else _YELLOW if status < 500 else _RED
            line = f"{name} {tint}{status}{_RESET} {millis:.1f} ms {_DIM}{where}{_RESET}\n"
        else:
            line = f"{name} {status} {millis:.1f} ms {where}\n"
        if not self.pending:
            try:
                asyncio.get_running_loop().call_later(0.02, self.flush)
            except RuntimeError:  # no event loop (a direct call): write at once
                self.out.write(line)
                return
        self.pending.append(line)

    def flush(self) -> None:
        lines, self.pending = self.pending, []
        if lines:
            self.out.write("".join(lines))
            self.out.flush()

    # -- what the console reads ------------------------------------------------------------------------

    def watch(self) -> None:
        """Someone reads the ring: capture the parsed requests and responses for a while."""
        self.watched_until = time.monotonic() + WATCH_SECONDS

    def entries(
        self, after: int = 0, limit: int = 500, filters: Mapping[str, str] | None = None
    ) -> list[dict[str, Any]]:
        """The remembered calls after sequence number `after`, oldest first, at most `limit` (the newest
        ones), matching `filters` (field name → value; a status filter of `4xx`/`5xx`/`error` matches a class;
        text filters match a substring, case-insensitively)."""
        detailed = {seq for seq, _ in self.details}
        tests = [_matcher(name, value) for name, value in (filters or {}).items() if value]
        found = []
        for row in reversed(self.ring):
            if row[0] <= after or len(found) >= limit:
                break
            if all(test(row) for test in tests):
                found.append({**dict(zip(FIELDS, _public(row), strict=True)), "detail": row[0] in detailed})
        found.reverse()
        return found

    def detail(self, seq: int) -> dict[str, Any] | None:
        for kept, text in self.details:
            if kept == seq:
                return json.loads(text)
        return None


def _entry(seq: int, route, ctx: RequestContext | None, status: int, seconds: float, outcome: Any) -> tuple:
    if ctx is None:
        return (seq, time.time(), route.service if route else "", route.operation if route else "", status,
                seconds, "", "", "", "", getattr(outcome, "code", "") or "", "")  # fmt: skip
    headers = ctx.request.headers if ctx.request is not None else None
    agent = (
        (headers.get("x-amz-user-agent") or headers.get("user-agent") or "") if headers is not None else ""
    )
    return (
        seq,
        time.time(),
        ctx.service,
        ctx.operation,
        status,
        seconds,  # the client's name and the milliseconds are worked out when read, not per request
        ctx.account_id,
        ctx.region,
        ctx.principal.arn,
        ctx.request_id,
        getattr(outcome, "code", "") or "",
        agent,
    )


def _public(row: tuple) -> tuple:
    """A ring row as the console reads it: milliseconds rounded, the client's first word."""
    return (*row[:5], round(row[5] * 1000, 2), *row[6:11], row[11].split(" ", 1)[0])


_COLUMNS = {name: index for index, name in enumerate(FIELDS)}


def _matcher(name: str, value: str):
    index = _COLUMNS.get(name)
    if index is None:
        return lambda row: True
    if name == "status":
        wanted = value.lower()
        if wanted in ("error", "4xx", "5xx", "2xx", "3xx"):
            low = 400 if wanted == "error" else int(wanted[0]) * 100
            high = 600 if wanted == "error" else low + 100
            return lambda row: low <= row[index] < high
        return lambda row: str(row[index]) == wanted
    needle = value.lower()
    return lambda row: needle in str(row[index]).lower()


def _detail(params: Mapping[str, Any], outcome: Any) -> str:
    if isinstance(outcome, Exception):
        response: Any = {
            "Error": {"Code": getattr(outcome, "code", type(outcome).__name__), "Message": str(outcome)}
        }
        message = getattr(outcome, "message", None)
        if message is not None:
            response["Error"]["Message"] = message
    else:
        response = outcome
    return json.dumps({"request": _bounded(params), "response": _bounded(response)}, separators=(",", ":"))


def _bounded(value: Any) -> Any:
    """`value` made JSON-safe (bytes as text or a size, streams named, dates in ISO 8601) and cut to about
    DETAIL_BUDGET characters."""
    budget = [DETAIL_BUDGET]
    plain = _plain(value, budget, 0)
    if budget[0] < 0:
        return {"truncated": True, "value": plain}
    return plain


def _plain(value: Any, budget: list[int], depth: int) -> Any:
    if budget[0] < 0 or depth > 24:
        return "…"
    if value is None or isinstance(value, (bool, int, float)):
        budget[0] -= 8
        return value
    if isinstance(value, str):
        budget[0] -= len(value)
        return value if len(value) <= 4096 else value[:4096] + f"… ({len(value)} characters)"
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        try:
            text = data.decode() if len(data) <= 4096 else None
        except UnicodeDecodeError:
            text = None
        budget[0] -= len(text) if text is not None else 20
        return text if text is not None else f"<{len(data)} bytes>"
    if isinstance(value, (datetime.datetime, datetime.date)):
        budget[0] -= 25
        return value.isoformat()
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if budget[0] < 0:
                out["…"] = "cut"
                break
            budget[0] -= len(str(key)) + 4
            out[str(key)] = _plain(item, budget, depth + 1)
        return out
    if isinstance(value, (list, tuple, set, frozenset)):
        items = []
        for item in value:
            if budget[0] < 0:
                items.append("…")
                break
            items.append(_plain(item, budget, depth + 1))
        return items
    budget[0] -= 20
    return f"<{type(value).__name__}>"
