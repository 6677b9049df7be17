"""Work due at virtual moments (deletions after a waiting period, rotations, expirations), for any service.

The due times are rows in the service's tables; a worker runs `work()` (which does everything due by now and
returns when the next thing is due, or None), then sleeps until that moment or until an operation sets `wake`
(a new due time may be sooner), and never longer than LONGEST_SLEEP real seconds:

    self.wake = asyncio.Event()
    self.platform.spawn(run_due_work(self.clock, self.wake, self._expire_due, "ssm parameter expiry"))
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from overcast.state import Clock

log = logging.getLogger("overcast")
LONGEST_SLEEP = 60.0


async def run_due_work(
    clock: Clock, wake: asyncio.Event, work: Callable[[], Awaitable[float | None]], name: str
) -> None:
    while True:
        wake.clear()
        try:
            upcoming = await work()
        except asyncio.CancelledError:
            raise
        except Exception:  # a broken row must not stop the worker
            log.exception("%s failed", name)
            upcoming = None
        wait = LONGEST_SLEEP if upcoming is None else min(LONGEST_SLEEP, upcoming - clock.now())
        if wait > 0:
            await first_of(clock.wait_for_change(wait), wake.wait())
        else:
            await asyncio.sleep(0)


async def sleep_until(clock: Clock, wake: asyncio.Event, due: float | None, offset: float) -> None:
    """Sleep until `due` (virtual), a move of the clock, or `wake`; at most LONGEST_SLEEP real seconds.
    `offset` is the clock's offset when the pass that computed `due` began: a move made while the pass ran (when
    nobody was waiting for it) ends the sleep at once."""
    wait = LONGEST_SLEEP if due is None else min(LONGEST_SLEEP, due - clock.now())
    if wait <= 0 or clock.offset != offset:
        await asyncio.sleep(0)
        return
    tasks = [asyncio.ensure_future(clock.wait_for_change(wait)), asyncio.ensure_future(wake.wait())]
    try:
        await asyncio.sleep(0)  # the waiters start: from here on they see every move
        if clock.offset == offset:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


async def first_of(*waits: Awaitable) -> None:
    tasks = [asyncio.ensure_future(wait) for wait in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
