"""SQS's tables and every SQL statement it runs.

Messages live in one table indexed by (queue, visible_at, id): a receive is an index range scan that stops
after at most ten rows, whatever the depth of the queue. A FIFO queue also keeps one row per message group
pointing at the group's head (its oldest message) and when that head becomes visible, so finding the groups
that may deliver is an index scan too. In-flight and delayed counts are index range counts over the invisible
messages only.

Two things are kept in memory, per queue (bounded, derived from the tables, so they start empty and are right
after any restart):
- the queue's row, read by every request naming the queue: forgotten whenever the store writes it, and again
  if that write rolls back;
- how many messages the queue holds: 0 when the queue is created, or counted (an index range count) the first
  time it is asked for after a start; then kept as messages come and go, and forgotten when a transaction
  that changed it rolls back. Sends and deletes thus write no counter. (The queues' message_count column is
  no longer kept up to date.)
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from overcast.services.kit.store import TagStore
from overcast.state import Database

MIGRATIONS = [
    """
    CREATE TABLE sqs_queues (
        id INTEGER PRIMARY KEY,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        fifo INTEGER NOT NULL,
        attributes TEXT NOT NULL,
        tags TEXT NOT NULL DEFAULT '{}',
        dlq_arn TEXT,
        created_at REAL NOT NULL,
        modified_at REAL NOT NULL,
        message_count INTEGER NOT NULL DEFAULT 0,
        last_purge REAL,
        UNIQUE (account, region, name)
    );
    CREATE INDEX sqs_queues_dlq ON sqs_queues (dlq_arn) WHERE dlq_arn IS NOT NULL;
    CREATE TABLE sqs_deleted_queues (
        account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, deleted_at REAL NOT NULL,
        PRIMARY KEY (account, region, name)
    );
    CREATE TABLE sqs_messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        queue_id INTEGER NOT NULL,
        message_id TEXT NOT NULL,
        body TEXT NOT NULL,
        md5_body TEXT NOT NULL,
        attributes TEXT,
        md5_attributes TEXT,
        system_attributes TEXT,
        sender_id TEXT NOT NULL,
        sent_at REAL NOT NULL,
        enqueued_at REAL NOT NULL,
        first_received_at REAL,
        receive_count INTEGER NOT NULL DEFAULT 0,
        visible_at REAL NOT NULL,
        token TEXT,
        group_id TEXT,
        dedup_id TEXT,
        dlq_source TEXT
    );
    CREATE INDEX sqs_messages_visible ON sqs_messages (queue_id, visible_at, id);
    CREATE INDEX sqs_messages_enqueued ON sqs_messages (queue_id, enqueued_at);
    CREATE INDEX sqs_messages_group ON sqs_messages (queue_id, group_id, id) WHERE group_id IS NOT NULL;
    CREATE TABLE sqs_groups (
        queue_id INTEGER NOT NULL,
        group_id TEXT NOT NULL,
        head_id INTEGER NOT NULL,
        head_visible_at REAL NOT NULL,
        PRIMARY KEY (queue_id, group_id)
    );
    CREATE INDEX sqs_groups_ready ON sqs_groups (queue_id, head_visible_at, head_id);
    CREATE TABLE sqs_dedup (
        queue_id INTEGER NOT NULL,
        scope TEXT NOT NULL,
        dedup_id TEXT NOT NULL,
        expires_at REAL NOT NULL,
        message_id TEXT NOT NULL,
        sequence_number TEXT,
        PRIMARY KEY (queue_id, scope, dedup_id)
    );
    CREATE TABLE sqs_receive_attempts (
        queue_id INTEGER NOT NULL,
        attempt_id TEXT NOT NULL,
        expires_at REAL NOT NULL,
        receipts TEXT NOT NULL,
        PRIMARY KEY (queue_id, attempt_id)
    );
    CREATE TABLE sqs_move_tasks (
        handle TEXT PRIMARY KEY,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        source_arn TEXT NOT NULL,
        destination_arn TEXT,
        max_per_second INTEGER,
        status TEXT NOT NULL,
        moved INTEGER NOT NULL DEFAULT 0,
        to_move INTEGER NOT NULL,
        started_at REAL NOT NULL,
        failure TEXT
    );
    CREATE INDEX sqs_move_tasks_source ON sqs_move_tasks (account, region, source_arn, started_at);
    """,
    # Message row ids without AUTOINCREMENT: a send no longer writes sqlite_sequence (one page less per
    # commit). A new row still gets an id above every stored one; an id freed by a delete may come back,
    # which a stale receipt handle cannot mistake (its token no longer matches).
    """
    CREATE TABLE sqs_messages_new (
        id INTEGER PRIMARY KEY,
        queue_id INTEGER NOT NULL,
        message_id TEXT NOT NULL,
        body TEXT NOT NULL,
        md5_body TEXT NOT NULL,
        attributes TEXT,
        md5_attributes TEXT,
        system_attributes TEXT,
        sender_id TEXT NOT NULL,
        sent_at REAL NOT NULL,
        enqueued_at REAL NOT NULL,
        first_received_at REAL,
        receive_count INTEGER NOT NULL DEFAULT 0,
        visible_at REAL NOT NULL,
        token TEXT,
        group_id TEXT,
        dedup_id TEXT,
        dlq_source TEXT
    );
    INSERT INTO sqs_messages_new SELECT id, queue_id, message_id, body, md5_body, attributes, md5_attributes,
        system_attributes, sender_id, sent_at, enqueued_at, first_received_at, receive_count, visible_at, token,
        group_id, dedup_id, dlq_source FROM sqs_messages;
    DROP TABLE sqs_messages;
    ALTER TABLE sqs_messages_new RENAME TO sqs_messages;
    CREATE INDEX sqs_messages_visible ON sqs_messages (queue_id, visible_at, id);
    CREATE INDEX sqs_messages_enqueued ON sqs_messages (queue_id, enqueued_at);
    CREATE INDEX sqs_messages_group ON sqs_messages (queue_id, group_id, id) WHERE group_id IS NOT NULL;
    """,
    # When the message was last received: ChangeMessageVisibility cannot take it past 12 hours after that.
    """
    ALTER TABLE sqs_messages ADD COLUMN received_at REAL;
    """,
    # Queue tags move to the kit's table of every service's tags (services/kit/store.py), in their order;
    # the column stays (empty) so that the schema of older data dirs is not rebuilt.
    """
    INSERT OR IGNORE INTO resource_tags (arn, tag_key, tag_value, account, region, service, resource_type, position)
    SELECT 'arn:aws:sqs:' || q.region || ':' || q.account || ':' || q.name, t.key, t.value, q.account, q.region,
        'sqs', 'queue', ROW_NUMBER() OVER (PARTITION BY q.id ORDER BY t.id) - 1
    FROM sqs_queues AS q, json_each(q.tags) AS t;
    UPDATE sqs_queues SET tags = '{}' WHERE tags != '{}';
    """,
]

QUEUE_COLUMNS = "id, account, region, name, fifo, attributes, created_at, modified_at, last_purge"
MAX_CACHED_QUEUES = 512  # queue rows kept in memory (the cache starts over when full)
MAX_COUNTED_QUEUES = 4096  # message counts kept in memory (the same)
MESSAGE_COLUMNS = (
    "id, message_id, body, md5_body, attributes, md5_attributes, system_attributes, sender_id, sent_at, "
    "enqueued_at, first_received_at, receive_count, visible_at, token, group_id, dedup_id, dlq_source, received_at"
)


@dataclass(frozen=True)
class Queue:
    """A queue's row as read (shared between requests: never changed in place)."""

    id: int
    account: str
    region: str
    name: str
    fifo: bool
    attributes: dict[str, str]
    created_at: float
    modified_at: float
    last_purge: float | None

    @property
    def arn(self) -> str:
        return f"arn:aws:sqs:{self.region}:{self.account}:{self.name}"

    def int_attribute(self, name: str) -> int:
        return int(self.attributes[name])


@dataclass(slots=True)
class Message:
    id: int
    message_id: str
    body: str
    md5_body: str
    attributes: str | None
    md5_attributes: str | None
    system_attributes: str | None
    sender_id: str
    sent_at: float
    enqueued_at: float
    first_received_at: float | None
    receive_count: int
    visible_at: float
    token: str | None
    group_id: str | None
    dedup_id: str | None
    dlq_source: str | None
    received_at: float | None  # the latest receive (the one its current token came from)


def _queue(row: tuple | None) -> Queue | None:
    if row is None:
        return None
    qid, account, region, name, fifo, attributes, created, modified, purge = row
    return Queue(qid, account, region, name, bool(fifo), json.loads(attributes), created, modified, purge)


@lru_cache(maxsize=16)  # one per set of columns the code inserts
def _insert_statement(columns: tuple[str, ...]) -> str:
    return f"INSERT INTO sqs_messages (queue_id, {', '.join(columns)}) VALUES (?{', ?' * len(columns)})"


class SqsStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        TagStore(db)  # the kit's tag table first: a migration copies queue tags into it
        db.migrate("sqs", MIGRATIONS)
        # queue id -> a lower bound of the enqueue times of its messages (inf: none), so that a receive need
        # not run the retention DELETE while nothing can have expired. Read as MIN(enqueued_at) by a
        # transaction that has written nothing yet (a rollback then cannot bring back an older row); every
        # insert lowers it; deletes (and resets) only ever leave it lower than it could be.
        self._oldest: dict[int, float] = {}
        self._queues: dict[tuple[str, str, str], Queue] = {}  # (account, region, name) -> its row as read
        self._counts: dict[int, int] = {}  # queue id -> how many messages it holds

    def forget(self) -> None:
        """After the database was emptied (`overcast reset`)."""
        self._queues.clear()
        self._oldest.clear()
        self._counts.clear()

    # -- queues ------------------------------------------------------------------------------------

    def queue(self, account: str, region: str, name: str) -> Queue | None:
        key = (account, region, name)
        queue = self._queues.get(key)
        if queue is None:
            queue = _queue(
                self.db.one(
                    f"SELECT {QUEUE_COLUMNS} FROM sqs_queues WHERE account = ? AND region = ? AND name = ?",
                    key,
                )
            )
            if queue is not None:
                if len(self._queues) >= MAX_CACHED_QUEUES:
                    self._queues.clear()
                self._queues[key] = queue
        return queue

    def _changing(self, account: str, region: str, name: str) -> None:
        """Before writing a queue's row: forget it now, and again if the write rolls back (a read in between
        would have kept what the rollback undoes)."""
        key = (account, region, name)
        self._queues.pop(key, None)
        self.db.after_rollback(lambda: self._queues.pop(key, None))

    def queue_by_id(self, queue_id: int) -> Queue | None:
        return _queue(self.db.one(f"SELECT {QUEUE_COLUMNS} FROM sqs_queues WHERE id = ?", (queue_id,)))

    def create_queue(
        self,
        account: str,
        region: str,
        name: str,
        fifo: bool,
        attributes: dict[str, str],
        dlq_arn: str | None,
        now: float,
    ) -> None:
        self._changing(account, region, name)
        cursor = self.db.execute(
            "INSERT INTO sqs_queues (account, region, name, fifo, attributes, dlq_arn, created_at, modified_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (account, region, name, int(fifo), json.dumps(attributes), dlq_arn, now, now),
        )
        self._set_count(cursor.lastrowid, 0)

    def update_attributes(
        self, queue: Queue, attributes: dict[str, str], dlq_arn: str | None, now: float
    ) -> None:
        self._changing(queue.account, queue.region, queue.name)
        self.db.execute(
            "UPDATE sqs_queues SET attributes = ?, dlq_arn = ?, modified_at = ? WHERE id = ?",
            (json.dumps(attributes), dlq_arn, now, queue.id),
        )

    def set_last_purge(self, queue: Queue, now: float) -> None:
        self._changing(queue.account, queue.region, queue.name)
        self.db.execute("UPDATE sqs_queues SET last_purge = ? WHERE id = ?", (now, queue.id))

    def delete_queue(self, queue: Queue, now: float) -> None:
        self._changing(queue.account, queue.region, queue.name)
        self.purge_messages(queue)
        self._counts.pop(queue.id, None)
        self.db.execute("DELETE FROM sqs_dedup WHERE queue_id = ?", (queue.id,))
        self.db.execute("DELETE FROM sqs_receive_attempts WHERE queue_id = ?", (queue.id,))
        self.db.execute("DELETE FROM sqs_queues WHERE id = ?", (queue.id,))
        self.db.execute(
            "INSERT INTO sqs_deleted_queues (account, region, name, deleted_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT DO UPDATE SET deleted_at = excluded.deleted_at",
            (queue.account, queue.region, queue.name, now),
        )

    def deleted_at(self, account: str, region: str, name: str) -> float | None:
        row = self.db.one(
            "SELECT deleted_at FROM sqs_deleted_queues WHERE account = ? AND region = ? AND name = ?",
            (account, region, name),
        )
        return row[0] if row else None

    def queue_names(self, account: str, region: str, prefix: str, after: str, limit: int) -> list[str]:
        return [
            name
            for (name,) in self.db.all(
                "SELECT name FROM sqs_queues WHERE account = ? AND region = ? AND name >= ? AND name > ? "
                "AND substr(name, 1, ?) = ? ORDER BY name LIMIT ?",
                (account, region, prefix, after, len(prefix), prefix, limit),
            )
        ]

    def dead_letter_sources(self, dlq_arn: str, after: str, limit: int) -> list[tuple[str, str, str]]:
        """(account, region, name) of the queues whose redrive policy targets `dlq_arn`."""
        return self.db.all(
            "SELECT account, region, name FROM sqs_queues WHERE dlq_arn = ? AND name > ? ORDER BY name LIMIT ?",
            (dlq_arn, after, limit),
        )

    def is_dead_letter_queue(self, dlq_arn: str) -> bool:
        return self.db.one("SELECT 1 FROM sqs_queues WHERE dlq_arn = ? LIMIT 1", (dlq_arn,)) is not None

    # -- counts ------------------------------------------------------------------------------------

    def depth(self, queue: Queue, now: float) -> tuple[int, int, int]:
        """(visible, in flight, delayed) messages: the count kept in the queue's row less the invisible ones,
        counted over the invisible part of the index only."""
        count = self.message_count(queue)
        in_flight, delayed = self.db.one(
            "SELECT COALESCE(SUM(receive_count > 0), 0), COALESCE(SUM(receive_count = 0), 0) FROM sqs_messages "
            "WHERE queue_id = ? AND visible_at > ?",
            (queue.id, now),
        )
        return max(count - in_flight - delayed, 0), in_flight, delayed

    def oldest_sent_at(self, queue: Queue) -> float | None:
        """When the queue's oldest message was first sent (AWS/SQS ApproximateAgeOfOldestMessage)."""
        row = self.db.one("SELECT MIN(enqueued_at) FROM sqs_messages WHERE queue_id = ?", (queue.id,))
        return row[0] if row else None

    def message_count(self, queue: Queue) -> int:
        count = self._counts.get(queue.id)
        if count is None:
            (count,) = self.db.one("SELECT COUNT(*) FROM sqs_messages WHERE queue_id = ?", (queue.id,))
            self._set_count(queue.id, count)
        return count

    def _set_count(self, queue_id: int, count: int) -> None:
        """Keep a queue's count (the transaction's own changes included: forgotten if it rolls back)."""
        counts = self._counts
        if queue_id not in counts and len(counts) >= MAX_COUNTED_QUEUES:
            counts.clear()
        counts[queue_id] = count
        self.db.after_rollback(lambda: counts.pop(queue_id, None))

    def _add_to_count(self, queue_id: int, delta: int) -> None:
        count = self._counts.get(queue_id)
        if count is not None and delta:
            self._set_count(queue_id, count + delta)

    # -- messages ----------------------------------------------------------------------------------

    def insert_message(self, queue: Queue, values: dict[str, Any]) -> int:
        """Store a message (`values` keyed by column name); returns its row id, which orders the queue."""
        cursor = self.db.execute(_insert_statement(tuple(values)), (queue.id, *values.values()))
        self._add_to_count(queue.id, 1)
        oldest = self._oldest.get(queue.id)
        if oldest is not None and values["enqueued_at"] < oldest:
            self._oldest[queue.id] = values["enqueued_at"]
        if values.get("group_id") is not None and queue.fifo:
            self.refresh_group(queue.id, values["group_id"])
        return cursor.lastrowid

    def message(self, queue_id: int, row_id: int) -> Message | None:
        row = self.db.one(
            f"SELECT {MESSAGE_COLUMNS} FROM sqs_messages WHERE id = ? AND queue_id = ?", (row_id, queue_id)
        )
        return Message(*row) if row else None

    def visible_messages(self, queue: Queue, now: float, limit: int) -> list[Message]:
        return [
            Message(*row)
            for row in self.db.all(
                f"SELECT {MESSAGE_COLUMNS} FROM sqs_messages WHERE queue_id = ? AND visible_at <= ? "
                "ORDER BY visible_at, id LIMIT ?",
                (queue.id, now, limit),
            )
        ]

    def peek_messages(self, queue: Queue, after: int, limit: int, retained_since: float) -> list[Message]:
        """The queue's messages in order of arrival (row id) after row `after`, whatever their visibility,
        leaving them as they are (the console's peek); those past the retention period are left out."""
        return [
            Message(*row)
            for row in self.db.all(
                f"SELECT {MESSAGE_COLUMNS} FROM sqs_messages WHERE queue_id = ? AND id > ? AND enqueued_at >= ? "
                "ORDER BY id LIMIT ?",
                (queue.id, after, retained_since, limit),
            )
        ]

    def ready_groups(self, queue: Queue, now: float, limit: int) -> list[str]:
        return [
            group
            for (group,) in self.db.all(
                "SELECT group_id FROM sqs_groups WHERE queue_id = ? AND head_visible_at <= ? "
                "ORDER BY head_visible_at, head_id LIMIT ?",
                (queue.id, now, limit),
            )
        ]

    def group_messages(self, queue: Queue, group_id: str, limit: int) -> list[Message]:
        return [
            Message(*row)
            for row in self.db.all(
                f"SELECT {MESSAGE_COLUMNS} FROM sqs_messages WHERE queue_id = ? AND group_id = ? ORDER BY id LIMIT ?",
                (queue.id, group_id, limit),
            )
        ]

    def next_visible_at(self, queue: Queue, now: float) -> float | None:
        row = self.db.one(
            "SELECT MIN(visible_at) FROM sqs_messages WHERE queue_id = ? AND visible_at > ?", (queue.id, now)
        )
        return row[0] if row else None

    def mark_received(
        self, queue: Queue, message: Message, token: str, now: float, visible_at: float
    ) -> None:
        first = message.first_received_at or now
        self.db.execute(
            "UPDATE sqs_messages SET token = ?, receive_count = receive_count + 1, first_received_at = ?, "
            "visible_at = ?, received_at = ? WHERE id = ?",
            (token, first, visible_at, now, message.id),
        )
        message.token, message.first_received_at, message.visible_at = token, first, visible_at
        message.received_at = now
        message.receive_count += 1

    def set_visible_at(self, queue: Queue, message: Message, visible_at: float) -> None:
        self.db.execute("UPDATE sqs_messages SET visible_at = ? WHERE id = ?", (visible_at, message.id))
        if queue.fifo and message.group_id is not None:
            self.refresh_group(queue.id, message.group_id)

    def delete_message(self, queue: Queue, message: Message) -> None:
        self.db.execute("DELETE FROM sqs_messages WHERE id = ?", (message.id,))
        self._add_to_count(queue.id, -1)
        if queue.fifo and message.group_id is not None:
            self.refresh_group(queue.id, message.group_id)

    def refresh_group(self, queue_id: int, group_id: str) -> None:
        """Point the group's row at its oldest message (or drop it when the group is empty)."""
        head = self.db.one(
            "SELECT id, visible_at FROM sqs_messages WHERE queue_id = ? AND group_id = ? ORDER BY id LIMIT 1",
            (queue_id, group_id),
        )
        if head is None:
            self.db.execute(
                "DELETE FROM sqs_groups WHERE queue_id = ? AND group_id = ?", (queue_id, group_id)
            )
        else:
            self.db.execute(
                "INSERT INTO sqs_groups (queue_id, group_id, head_id, head_visible_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT DO UPDATE SET head_id = excluded.head_id, head_visible_at = excluded.head_visible_at",
                (queue_id, group_id, head[0], head[1]),
            )

    def expire_messages(self, queue: Queue, now: float) -> None:
        """Drop the messages older than the queue's retention period."""
        cutoff = now - queue.int_attribute("MessageRetentionPeriod")
        db = self.db
        oldest = self._oldest.get(queue.id)
        if oldest is None and db.conn.total_changes == db.changes_at_begin:
            (oldest,) = db.one("SELECT MIN(enqueued_at) FROM sqs_messages WHERE queue_id = ?", (queue.id,))
            oldest = self._oldest[queue.id] = math.inf if oldest is None else oldest
        if oldest is not None and oldest >= cutoff:
            return  # no message is old enough to expire
        self._oldest.pop(queue.id, None)
        groups = self.db.all(
            "DELETE FROM sqs_messages WHERE queue_id = ? AND enqueued_at < ? RETURNING group_id",
            (queue.id, cutoff),
        )
        if groups:
            self._add_to_count(queue.id, -len(groups))
            for group in {g for (g,) in groups if g is not None and queue.fifo}:
                self.refresh_group(queue.id, group)

    def purge_messages(self, queue: Queue) -> None:
        """Every message, and (FIFO) the deduplication ids seen: a purged message may be sent again."""
        self.db.execute("DELETE FROM sqs_messages WHERE queue_id = ?", (queue.id,))
        self.db.execute("DELETE FROM sqs_dedup WHERE queue_id = ?", (queue.id,))
        self.db.execute("DELETE FROM sqs_groups WHERE queue_id = ?", (queue.id,))
        self._set_count(queue.id, 0)

    # -- FIFO deduplication and receive attempts ---------------------------------------------------

    def duplicate(self, queue: Queue, scope: str, dedup_id: str, now: float) -> tuple[str, str | None] | None:
        row = self.db.one(
            "SELECT message_id, sequence_number FROM sqs_dedup WHERE queue_id = ? AND scope = ? AND dedup_id = ? "
            "AND expires_at > ?",
            (queue.id, scope, dedup_id, now),
        )
        return (row[0], row[1]) if row else None

    def remember_dedup(
        self,
        queue: Queue,
        scope: str,
        dedup_id: str,
        expires_at: float,
        message_id: str,
        sequence_number: str | None,
    ) -> None:
        self.db.execute(
            "INSERT INTO sqs_dedup (queue_id, scope, dedup_id, expires_at, message_id, sequence_number) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET expires_at = excluded.expires_at, "
            "message_id = excluded.message_id, sequence_number = excluded.sequence_number",
            (queue.id, scope, dedup_id, expires_at, message_id, sequence_number),
        )

    def receive_attempt(self, queue: Queue, attempt_id: str, now: float) -> list[list] | None:
        row = self.db.one(
            "SELECT receipts FROM sqs_receive_attempts WHERE queue_id = ? AND attempt_id = ? AND expires_at > ?",
            (queue.id, attempt_id, now),
        )
        return json.loads(row[0]) if row else None

    def remember_receive_attempt(
        self, queue: Queue, attempt_id: str, expires_at: float, receipts: list
    ) -> None:
        self.db.execute(
            "INSERT INTO sqs_receive_attempts (queue_id, attempt_id, expires_at, receipts) VALUES (?, ?, ?, ?) "
            "ON CONFLICT DO UPDATE SET expires_at = excluded.expires_at, receipts = excluded.receipts",
            (queue.id, attempt_id, expires_at, json.dumps(receipts)),
        )

    # -- message move tasks ------------------------------------------------------------------------

    def create_move_task(
        self,
        handle: str,
        account: str,
        region: str,
        source_arn: str,
        destination_arn: str | None,
        max_per_second: int | None,
        to_move: int,
        now: float,
    ) -> None:
        self.db.execute(
            "INSERT INTO sqs_move_tasks (handle, account, region, source_arn, destination_arn, max_per_second, "
            "status, to_move, started_at) VALUES (?, ?, ?, ?, ?, ?, 'RUNNING', ?, ?)",
            (handle, account, region, source_arn, destination_arn, max_per_second, to_move, now),
        )

    def running_move_tasks(self) -> list[str]:
        """Handles of the move tasks still running (to resume after a restart)."""
        return [
            handle for (handle,) in self.db.all("SELECT handle FROM sqs_move_tasks WHERE status = 'RUNNING'")
        ]

    def move_task(self, handle: str) -> dict[str, Any] | None:
        rows = self._move_tasks("handle = ?", (handle,), 1)
        return rows[0] if rows else None

    def move_tasks(self, account: str, region: str, source_arn: str, limit: int) -> list[dict[str, Any]]:
        return self._move_tasks(
            "account = ? AND region = ? AND source_arn = ? ORDER BY started_at DESC",
            (account, region, source_arn),
            limit,
        )

    def _move_tasks(self, where: str, params: tuple, limit: int) -> list[dict[str, Any]]:
        names = (
            "handle",
            "account",
            "region",
            "source_arn",
            "destination_arn",
            "max_per_second",
            "status",
            "moved",
            "to_move",
            "started_at",
            "failure",
        )
        rows = self.db.all(
            f"SELECT {', '.join(names)} FROM sqs_move_tasks WHERE {where} LIMIT ?", (*params, limit)
        )
        return [dict(zip(names, row, strict=True)) for row in rows]

    def update_move_task(
        self, handle: str, *, status: str | None = None, moved: int = 0, failure: str | None = None
    ) -> None:
        self.db.execute(
            "UPDATE sqs_move_tasks SET status = COALESCE(?, status), moved = moved + ?, "
            "failure = COALESCE(?, failure) WHERE handle = ?",
            (status, moved, failure, handle),
        )
