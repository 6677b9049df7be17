"""Remembered answers: a read operation whose result depends only on its request and the stored rows (a
provider lists it in `remembered`) is answered again from memory while nothing was written and the clock has
not moved on, and its serialized response is reused with the new request id.

Why it is safe: this process is the database's only writer, so while `total_changes` is unchanged so are the
rows; a state change that time brings (a certificate issued, a load balancer turning active) is either a write
or read off the clock, and an answer is reused for at most `TICK` seconds of the clock. An answer read from a
transaction that rolls back later (a group commit that failed) is forgotten with it.

Why it pays: pollers (SDK waiters, Terraform refreshes, dashboards) repeat the same Describe and List calls.
The operation's own work and the serialization are skipped; parsing, SigV4, authorization and the observers
(CloudTrail) still run for every request."""

from __future__ import annotations

import secrets
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from overcast.http import HttpResponse

if TYPE_CHECKING:
    from overcast.state.clock import Clock
    from overcast.state.database import Database

TICK = 0.1  # seconds of the clock an answer is reused for, at most
ANSWERS_KEPT = 256
ITEMS_KEPT = 100  # an answer listing more items than this is not kept: memory stays flat as resources grow
# Stands for the request id in a remembered response: random per process, so no stored data can contain it.
_PLACEHOLDER = f"request-id-{secrets.token_hex(16)}"


class _Answer:
    __slots__ = ("stamp", "result", "template")

    def __init__(self, stamp: tuple, result: dict[str, Any]) -> None:
        self.stamp = stamp
        self.result = result
        self.template: _Template | None = None


class _Template:
    """A serialized response with the request id cut out of its headers and body."""

    __slots__ = ("status", "headers", "body_parts")

    def __init__(self, response: HttpResponse) -> None:
        self.status = response.status
        self.headers = list(response.headers)
        self.body_parts = bytes(response.body).split(_PLACEHOLDER.encode())

    def fill(self, request_id: str) -> HttpResponse:
        headers = [(name, request_id if value == _PLACEHOLDER else value) for name, value in self.headers]
        parts = self.body_parts
        body = parts[0] if len(parts) == 1 else request_id.encode().join(parts)
        return HttpResponse(self.status, headers, body)


class RememberedAnswers:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self._answers: OrderedDict[tuple, _Answer] = OrderedDict()
        self._by_result: dict[int, _Answer] = {}  # id(result) -> its answer, to find its response template

    def answer(self, key: tuple, generation: int, run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """The result of `run()` (the operation, in its own transaction) for the request `key`: the remembered
        one when nothing was written and the clock is within the same tick. The result is shared: callers
        must not change it."""
        db = self.db
        stamp = (db.conn.total_changes, int(self.clock.now() / TICK), generation)
        found = self._answers.get(key)
        if found is not None and found.stamp == stamp:
            self._answers.move_to_end(key)
            return found.result
        with db.transaction():
            result = run()
            db.after_rollback(self.forget)  # read inside a group commit that may yet fail
        if type(result) is not dict or db.conn.total_changes != stamp[0]:
            return result  # it wrote: not a pure read after all
        if sum(len(value) for value in result.values() if type(value) is list) > ITEMS_KEPT:
            return result  # too big to keep
        if found is not None:
            self._drop(key)
        self._answers[key] = self._by_result[id(result)] = _Answer(stamp, result)
        while len(self._answers) > ANSWERS_KEPT:
            self._drop(next(iter(self._answers)))
        return result

    def response(
        self, result: Any, request_id: str, serialize: Callable[[str], HttpResponse]
    ) -> HttpResponse:
        """`serialize(request_id)`, from the remembered answer's template when `result` is one."""
        found = self._by_result.get(id(result))
        if found is None or found.result is not result:
            return serialize(request_id)
        if found.template is None:
            response = serialize(_PLACEHOLDER)
            if not isinstance(response.body, (bytes, bytearray)):
                return serialize(request_id)
            found.template = _Template(response)
        return found.template.fill(request_id)

    def forget(self) -> None:
        self._answers.clear()
        self._by_result.clear()

    def _drop(self, key: tuple) -> None:
        answer = self._answers.pop(key)
        if self._by_result.get(id(answer.result)) is answer:
            del self._by_result[id(answer.result)]
