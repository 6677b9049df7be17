"""SQS's background work: message move tasks, a batch at a time (stored, so they resume after a restart)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from overcast.services.sqs.store import Message, Queue

if TYPE_CHECKING:
    from overcast.services.sqs.provider import SqsProvider

MOVE_BATCH = 500


async def run_move_task(service: SqsProvider, handle: str) -> None:
    """Move the dead-letter queue's messages back, a batch at a time (at most the rate asked for)."""
    while True:
        with service.db.transaction():
            task = service.store.move_task(handle)
            if task is None or task["status"] != "RUNNING":
                return
            moved, done = _move_batch(service, task)
        if done:
            return
        await asyncio.sleep(1 if task["max_per_second"] else 0)


def _move_batch(service: SqsProvider, task: dict[str, Any]) -> tuple[int, bool]:
    store = service.store
    source = service.queue_by_arn(task["source_arn"])
    if source is None:
        store.update_move_task(
            task["handle"], status="FAILED", failure="AWS.SimpleQueueService.NonExistentQueue"
        )
        return 0, True
    remaining = task["to_move"] - task["moved"]
    now = service.clock.now()
    moved = 0
    if remaining > 0:
        batch = min(remaining, task["max_per_second"] or MOVE_BATCH)
        for message in _available_messages(service, source, now, batch):
            destination = service.queue_by_arn(task["destination_arn"] or message.dlq_source or "")
            if destination is None:
                store.update_move_task(
                    task["handle"],
                    status="FAILED",
                    moved=moved,
                    failure="AWS.SimpleQueueService.NonExistentQueue",
                )
                return moved, True
            service.redrive(source, message, destination, now)
            moved += 1
    # Done when the count taken at the start has moved, or nothing else is available (messages still in
    # flight, or received meanwhile, stay in the dead-letter queue).
    done = moved == 0 or moved >= remaining
    store.update_move_task(task["handle"], moved=moved, status="COMPLETED" if done else None)
    return moved, done


def _available_messages(service: SqsProvider, queue: Queue, now: float, limit: int) -> list[Message]:
    """Up to `limit` messages a receive could take now, in the order it would take them (no message in
    flight or delayed; in a FIFO queue, nothing from a group whose oldest message is in flight)."""
    store = service.store
    if not queue.fifo:
        return store.visible_messages(queue, now, limit)
    chosen: list[Message] = []
    for group in store.ready_groups(queue, now, limit):
        for message in store.group_messages(queue, group, limit - len(chosen)):
            if message.visible_at > now:
                break
            chosen.append(message)
        if len(chosen) >= limit:
            break
    return chosen
