"""The one virtual clock. Everything time-based reads it, never `time.time()` directly.

Virtual time is real time plus an offset that only moves forward by `advance` (or anywhere by `set`); the
offset is kept in the database, so a restart does not undo an advance. Code that waits for a virtual moment
(long polls, delays, TTL sweeps) uses `sleep` / `wait_for_change`, which wake early when the clock moves.
"""

from __future__ import annotations

import asyncio
import re
import time
from datetime import UTC, datetime

from overcast.state.database import Database

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")


def parse_duration(text: str) -> float:
    """'90s', '15m', '3d', '1d12h' or plain seconds '3600' -> seconds."""
    text = text.strip().lower()
    try:
        return float(text)
    except ValueError:
        pass
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not a duration: {text!r} (use e.g. 90s, 15m, 3d, 1d12h)")
    return sum(float(n) * _UNITS[u] for n, u in parts)


class Clock:
    def __init__(self, db: Database | None = None) -> None:
        self._db = db
        stored = db.get_meta("clock_offset") if db else None
        self.offset = float(stored) if stored else 0.0
        self._changed: asyncio.Event | None = None

    def now(self) -> float:
        """Virtual epoch seconds."""
        return time.time() + self.offset

    def now_datetime(self) -> datetime:
        return datetime.fromtimestamp(self.now(), UTC)

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("the clock only moves forward with advance; use set to go back")
        return self._set_offset(self.offset + seconds)

    def set(self, moment: float) -> float:
        return self._set_offset(moment - time.time())

    def reset(self) -> float:
        """Back to real time."""
        return self._set_offset(0.0)

    def _set_offset(self, offset: float) -> float:
        self.offset = offset
        if self._db:
            with self._db.transaction():
                self._db.set_meta("clock_offset", repr(offset))
        if self._changed:
            self._changed.set()
            self._changed = None
        return self.now()

    async def wait_for_change(self, timeout: float) -> bool:
        """Wait up to `timeout` real seconds for the clock to be moved. True if it moved."""
        if self._changed is None:
            self._changed = asyncio.Event()
        try:
            await asyncio.wait_for(self._changed.wait(), timeout)
            return True
        except TimeoutError:
            return False

    async def sleep_until(self, moment: float) -> None:
        """Sleep until virtual time reaches `moment`, waking early if the clock is advanced past it."""
        while (remaining := moment - self.now()) > 0:
            await self.wait_for_change(remaining)
