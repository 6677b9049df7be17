"""Waiting for background work in tests: by its outcome, with a deadline, never for a fixed time."""

import time


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.05):
    """Poll `predicate` until it returns something truthy, and return that.

    Background work (async invokes, pollers, retries, deliveries, sweeps) finishes when it finishes: a loaded
    machine can take seconds where a quiet one takes milliseconds, so tests wait for the outcome itself,
    with a deadline generous enough for a busy CI runner."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"condition not reached within {timeout:g}s (last value: {value!r})")
        time.sleep(interval)
