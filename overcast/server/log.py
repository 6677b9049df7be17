"""One concise line per request: `sqs.SendMessage 200 0.4 ms 000000000000 us-east-1`.

Lines are written in batches, at most 20 ms after their request: one write() per batch rather than one per
request (a busy server answers thousands a second)."""

from __future__ import annotations

import asyncio
import logging
import sys

from overcast.context import RequestContext

_GREEN, _YELLOW, _RED, _DIM, _RESET = "\033[32m", "\033[33m", "\033[31m", "\033[2m", "\033[0m"


class RequestLog:
    def __init__(self, level: str) -> None:
        self.enabled = logging.getLevelName(level.upper()) in (logging.DEBUG, logging.INFO)
        self.colour = sys.stderr.isatty()
        self.out = sys.stderr
        self.pending: list[str] = []

    def record(self, route, ctx: RequestContext | None, status: int, seconds: float) -> None:
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
