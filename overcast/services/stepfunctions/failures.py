"""The one error an execution's states raise: a States error name and its cause (AWS's `Error`/`Cause`)."""

from __future__ import annotations

import json
from typing import Any


class StatesError(Exception):
    """A runtime failure of a state: `error` is what Retry/Catch match (`States.Runtime`, `Lambda.Unknown`,
    a Lambda function's errorType), `cause` the text shown as Cause."""

    def __init__(self, error: str, cause: str | None = "") -> None:
        super().__init__(f"{error}: {cause}")
        self.error = error
        self.cause = cause

    def output(self) -> dict[str, Any]:
        """The error object a Catch passes on: {"Error": ..., "Cause": ...}."""
        found: dict[str, Any] = {"Error": self.error}
        if self.cause is not None:
            found["Cause"] = self.cause
        return found


# The errors no Retry or Catch (not even States.ALL) handles: the execution fails.
TERMINAL = frozenset({"States.Runtime", "States.DataLimitExceeded"})


def runtime(cause: str) -> StatesError:
    return StatesError("States.Runtime", cause)


def dumps(value: Any) -> str:
    """JSON as Step Functions writes it (compact)."""
    return _ENCODER.encode(value)


_ENCODER = json.JSONEncoder(
    separators=(",", ":"), ensure_ascii=False
)  # made once: json.dumps makes one per call
