"""Remembered answers: a read operation whose result depends only on its request and the stored rows (a
provider lists it in `remembered`) is answered again from memory while nothing was written and the clock has
not moved on, and its serialized response is reused with the new request id.

Why it is safe: this process is the database's only writer, so while `total_changes` is unchanged so are the
rows; a state change that time brings (a certificate issued, a load balancer turning active) is either a write
or read off the clock, and an answer is reused for at most a tenth of a second of the clock. An answer read from a
transaction that rolls back later (a group commit that failed) is forgotten with it.

Why it pays: pollers (SDK waiters, Terraform refreshes, dashboards) repeat the same Describe and List calls.
The operation's own work and the serialization are skipped; parsing, SigV4, authorization and the observers
(CloudTrail) still run for every request.

Calls the operation made to other services (`Platform.call_now`: Secrets Manager decrypting through KMS) are
remembered with the answer and made again in part each time it is reused: each is authorized anew, as the
caller of the request in hand, and observed (its CloudTrail record); only its handler, whose result cannot have
changed, is skipped. If one is refused now, the answer is not reused: the operation runs again and fails as it
would have."""

from __future__ import annotations

import secrets
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from overcast.http import HttpResponse

if TYPE_CHECKING:
    from overcast.identity import Principal
    from overcast.state.clock import Clock
    from overcast.state.database import Database

TICKS = 10  # an answer is reused within one tenth of a second of the clock at most (whole seconds, and so
# days, begin a tick: a daily write such as LastAccessedDate is never skipped)
ANSWERS_KEPT = 256
ITEMS_KEPT = 100  # an answer listing more items than this is not kept: memory stays flat as resources grow
# Stands for the request id in a remembered response: random per process, so no stored data can contain it.
_PLACEHOLDER = f"request-id-{secrets.token_hex(16)}"


@dataclass(frozen=True)
class NestedCall:
    """A call the operation made to another service while its answer was worked out (`Platform.call_now`)."""

    service: str
    operation: str
    params: dict[str, Any]
    principal: Principal
    account_id: str
    region: str
    condition_keys: dict[str, Any] | None
    result: dict[str, Any] | None  # None: it failed (the answer is then not kept)


class _Answer:
    __slots__ = ("stamp", "result", "template", "calls")

    def __init__(self, stamp: tuple, result: dict[str, Any], calls: tuple[NestedCall, ...]) -> None:
        self.stamp = stamp
        self.result = result
        self.template: _Template | None = None
        self.calls = calls


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
        self.calls: list[NestedCall] | None = None  # the nested calls of the answer being worked out

    def answer(
        self,
        key: tuple,
        generation: int,
        run: Callable[[], dict[str, Any]],
        caller: Principal,
        replay: Callable[[Principal, tuple[NestedCall, ...]], bool],
    ) -> dict[str, Any]:
        """The result of `run()` (the operation, in its own transaction) for the request `key`, made by
        `caller`: the remembered one when nothing was written and the clock is within the same tick, and
        `replay(caller, calls)` has made its nested calls again (False: one was refused, run it). The result is
        shared: callers must not change it."""
        db = self.db
        stamp = (db.conn.total_changes, int(self.clock.now() * TICKS), generation)
        found = self._answers.get(key)
        if found is not None and found.stamp == stamp and (not found.calls or replay(caller, found.calls)):
            self._answers.move_to_end(key)
            return found.result
        outer, self.calls = self.calls, []
        try:
            with db.transaction():
                result = run()
                db.after_rollback(self.forget)  # read inside a group commit that may yet fail
            calls = tuple(self.calls)
        finally:
            self.calls = outer
        if type(result) is not dict or db.conn.total_changes != stamp[0]:
            return result  # it wrote: not a pure read after all
        if sum(len(value) for value in result.values() if type(value) is list) > ITEMS_KEPT:
            return result  # too big to keep
        if any(call.result is None or call.principal is not caller for call in calls):
            return result  # a call failed, or was made as someone else: not one to make again as the caller
        if found is not None:
            self._drop(key)
        self._answers[key] = self._by_result[id(result)] = _Answer(stamp, result, calls)
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
