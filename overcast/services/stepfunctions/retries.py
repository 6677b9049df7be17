"""Retry and Catch: which retrier or catcher handles an error, and how long to wait before the next attempt."""

from __future__ import annotations

import random
from typing import Any

from overcast.services.stepfunctions.failures import TERMINAL

DEFAULT_INTERVAL = 1
DEFAULT_MAX_ATTEMPTS = 3
DEFAULT_BACKOFF = 2.0


def error_matches(names: list[str], error: str) -> bool:
    """Whether an ErrorEquals list names `error`: States.ALL matches every error but the terminal ones,
    States.TaskFailed every one but the time-outs; States.Timeout also names a missed heartbeat (AWS
    defines it as either)."""
    if error in TERMINAL:
        return error in names
    if error in names or "States.ALL" in names:
        return True
    if error == "States.HeartbeatTimeout" and "States.Timeout" in names:
        return True
    return "States.TaskFailed" in names and error not in _TIMEOUTS


_TIMEOUTS = ("States.Timeout", "States.HeartbeatTimeout")


def find(handlers: list[dict[str, Any]] | None, error: str) -> int | None:
    """The index of the first Retry/Catch entry whose ErrorEquals matches `error`."""
    for index, handler in enumerate(handlers or ()):
        if error_matches(handler.get("ErrorEquals") or [], error):
            return index
    return None


def delay(retrier: dict[str, Any], attempt: int, rng: random.Random | None = None) -> float | None:
    """Seconds before retry number `attempt` (0 for the first retry) under `retrier`, or None when its
    MaxAttempts are used up."""
    if attempt >= retrier.get("MaxAttempts", DEFAULT_MAX_ATTEMPTS):
        return None
    seconds = (
        retrier.get("IntervalSeconds", DEFAULT_INTERVAL)
        * retrier.get("BackoffRate", DEFAULT_BACKOFF) ** attempt
    )
    ceiling = retrier.get("MaxDelaySeconds")
    if ceiling is not None:
        seconds = min(seconds, ceiling)
    if retrier.get("JitterStrategy") == "FULL":
        seconds = (rng or random).uniform(0, seconds)
    return float(seconds)
