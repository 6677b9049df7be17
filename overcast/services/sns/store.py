"""SNS's tables and the SQL it runs: topics, subscriptions, FIFO deduplication, the captured outbox, mobile push,
SMS settings and the message-signing key."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from overcast.services.kit.store import TagStore
from overcast.state import Database

MIGRATIONS = [
    """
    CREATE TABLE sns_topics (
        arn TEXT PRIMARY KEY,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        fifo INTEGER NOT NULL,
        attributes TEXT NOT NULL,
        tags TEXT NOT NULL DEFAULT '{}',
        data_protection_policy TEXT,
        created_at REAL NOT NULL
    );
    CREATE INDEX sns_topics_listing ON sns_topics (account, region, arn);
    CREATE TABLE sns_subscriptions (
        arn TEXT PRIMARY KEY,
        topic_arn TEXT NOT NULL,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        owner TEXT NOT NULL,
        protocol TEXT NOT NULL,
        endpoint TEXT NOT NULL,
        attributes TEXT NOT NULL,
        confirmed INTEGER NOT NULL,
        token TEXT,
        created_at REAL NOT NULL
    );
    CREATE INDEX sns_subscriptions_topic ON sns_subscriptions (topic_arn, arn);
    CREATE INDEX sns_subscriptions_listing ON sns_subscriptions (account, region, arn);
    CREATE INDEX sns_subscriptions_token ON sns_subscriptions (token) WHERE token IS NOT NULL;
    CREATE TABLE sns_dedup (
        topic_arn TEXT NOT NULL,
        dedup_id TEXT NOT NULL,
        expires_at REAL NOT NULL,
        message_id TEXT NOT NULL,
        sequence_number TEXT NOT NULL,
        PRIMARY KEY (topic_arn, dedup_id)
    );
    CREATE TABLE sns_sequence (topic_arn TEXT PRIMARY KEY, last INTEGER NOT NULL);
    CREATE TABLE sns_outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        protocol TEXT NOT NULL,
        endpoint TEXT NOT NULL,
        topic_arn TEXT,
        subscription_arn TEXT,
        message_id TEXT,
        kind TEXT NOT NULL,
        payload TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    CREATE INDEX sns_outbox_account ON sns_outbox (account, region, id);
    """,
    """
    CREATE TABLE sns_platform_applications (
        arn TEXT PRIMARY KEY,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        platform TEXT NOT NULL,
        attributes TEXT NOT NULL
    );
    CREATE INDEX sns_platform_applications_listing ON sns_platform_applications (account, region, arn);
    CREATE TABLE sns_platform_endpoints (
        arn TEXT PRIMARY KEY,
        application_arn TEXT NOT NULL,
        token TEXT NOT NULL,
        attributes TEXT NOT NULL
    );
    CREATE INDEX sns_platform_endpoints_listing ON sns_platform_endpoints (application_arn, arn);
    CREATE INDEX sns_platform_endpoints_token ON sns_platform_endpoints (application_arn, token);
    -- SMS settings per account and region: kind 'attribute' (SetSMSAttributes), 'opted_out' (phone numbers),
    -- 'sandbox' (sandbox destination numbers; value is {"Status", "Code"})
    CREATE TABLE sns_sms (
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (account, region, kind, key)
    );
    """,
    """
    -- The key that signs messages (PEM, PKCS#1) and its self-signed certificate (PEM): made once, kept so
    -- that messages delivered before a restart still verify against their SigningCertURL.
    CREATE TABLE sns_signing_keys (
        name TEXT PRIMARY KEY,
        private_key TEXT NOT NULL,
        certificate TEXT NOT NULL
    );
    """,
    # Topic tags move to the kit's table of every service's tags (services/kit/store.py), in their order;
    # the column stays (empty) so that the schema of older data dirs is not rebuilt.
    """
    INSERT OR IGNORE INTO resource_tags (arn, tag_key, tag_value, account, region, service, resource_type, position)
    SELECT topic.arn, t.key, t.value, topic.account, topic.region, 'sns', 'topic',
        ROW_NUMBER() OVER (PARTITION BY topic.arn ORDER BY t.id) - 1
    FROM sns_topics AS topic, json_each(topic.tags) AS t;
    UPDATE sns_topics SET tags = '{}' WHERE tags != '{}';
    """,
    # Who subscribed (GetSubscriptionAttributes' SubscriptionPrincipal); NULL for older subscriptions.
    "ALTER TABLE sns_subscriptions ADD COLUMN principal TEXT;",
]

TOPIC_COLUMNS = "arn, account, region, name, fifo, attributes, data_protection_policy, created_at"
SUBSCRIPTION_COLUMNS = (
    "arn, topic_arn, account, region, owner, protocol, endpoint, attributes, confirmed, token, principal"
)
PAGE = 100


@dataclass
class Topic:
    arn: str
    account: str
    region: str
    name: str
    fifo: bool
    attributes: dict[str, str]
    data_protection_policy: str | None
    created_at: float


@dataclass
class Subscription:
    arn: str
    topic_arn: str
    account: str
    region: str
    owner: str
    protocol: str
    endpoint: str
    attributes: dict[str, str]
    confirmed: bool
    token: str | None
    principal: str | None = None  # the ARN of who subscribed


def _topic(row: tuple | None) -> Topic | None:
    if row is None:
        return None
    arn, account, region, name, fifo, attributes, dpp, created = row
    return Topic(arn, account, region, name, bool(fifo), json.loads(attributes), dpp, created)


def _subscription(row: tuple | None) -> Subscription | None:
    if row is None:
        return None
    arn, topic, account, region, owner, protocol, endpoint, attributes, confirmed, token, principal = row
    return Subscription(
        arn,
        topic,
        account,
        region,
        owner,
        protocol,
        endpoint,
        json.loads(attributes),
        bool(confirmed),
        token,
        principal,
    )


class SnsStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        TagStore(db)  # the kit's tag table first: a migration copies topic tags into it
        db.migrate("sns", MIGRATIONS)

    # -- topics ------------------------------------------------------------------------------------

    def topic(self, arn: str) -> Topic | None:
        return _topic(self.db.one(f"SELECT {TOPIC_COLUMNS} FROM sns_topics WHERE arn = ?", (arn,)))

    def create_topic(self, topic: Topic) -> None:
        self.db.execute(
            f"INSERT INTO sns_topics ({TOPIC_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                topic.arn,
                topic.account,
                topic.region,
                topic.name,
                int(topic.fifo),
                json.dumps(topic.attributes),
                topic.data_protection_policy,
                topic.created_at,
            ),
        )

    def save_topic(self, topic: Topic) -> None:
        self.db.execute(
            "UPDATE sns_topics SET attributes = ?, data_protection_policy = ? WHERE arn = ?",
            (json.dumps(topic.attributes), topic.data_protection_policy, topic.arn),
        )

    def delete_topic(self, arn: str) -> None:
        self.db.execute("DELETE FROM sns_subscriptions WHERE topic_arn = ?", (arn,))
        self.db.execute("DELETE FROM sns_dedup WHERE topic_arn = ?", (arn,))
        self.db.execute("DELETE FROM sns_sequence WHERE topic_arn = ?", (arn,))
        self.db.execute("DELETE FROM sns_topics WHERE arn = ?", (arn,))

    def topic_arns(self, account: str, region: str, after: str) -> list[str]:
        return [
            arn
            for (arn,) in self.db.all(
                "SELECT arn FROM sns_topics WHERE account = ? AND region = ? AND arn > ? ORDER BY arn LIMIT ?",
                (account, region, after, PAGE + 1),
            )
        ]

    def subscription_counts(self, topic_arn: str) -> tuple[int, int]:
        row = self.db.one(
            "SELECT COALESCE(SUM(confirmed), 0), COALESCE(SUM(1 - confirmed), 0) FROM sns_subscriptions "
            "WHERE topic_arn = ?",
            (topic_arn,),
        )
        return row[0], row[1]

    def next_sequence_number(self, topic_arn: str) -> int:
        row = self.db.one(
            "INSERT INTO sns_sequence (topic_arn, last) VALUES (?, 1) ON CONFLICT DO UPDATE SET last = last + 1 "
            "RETURNING last",
            (topic_arn,),
        )
        return row[0]

    def duplicate(self, topic_arn: str, dedup_id: str, now: float) -> tuple[str, str] | None:
        row = self.db.one(
            "SELECT message_id, sequence_number FROM sns_dedup WHERE topic_arn = ? AND dedup_id = ? AND expires_at > ?",
            (topic_arn, dedup_id, now),
        )
        return (row[0], row[1]) if row else None

    def remember_dedup(
        self, topic_arn: str, dedup_id: str, expires_at: float, message_id: str, sequence_number: str
    ) -> None:
        self.db.execute(
            "INSERT INTO sns_dedup (topic_arn, dedup_id, expires_at, message_id, sequence_number) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET expires_at = excluded.expires_at, "
            "message_id = excluded.message_id, sequence_number = excluded.sequence_number",
            (topic_arn, dedup_id, expires_at, message_id, sequence_number),
        )

    # -- subscriptions -----------------------------------------------------------------------------

    def subscription(self, arn: str) -> Subscription | None:
        return _subscription(
            self.db.one(f"SELECT {SUBSCRIPTION_COLUMNS} FROM sns_subscriptions WHERE arn = ?", (arn,))
        )

    def subscription_by_token(self, token: str) -> Subscription | None:
        return _subscription(
            self.db.one(f"SELECT {SUBSCRIPTION_COLUMNS} FROM sns_subscriptions WHERE token = ?", (token,))
        )

    def find_subscription(self, topic_arn: str, protocol: str, endpoint: str) -> Subscription | None:
        return _subscription(
            self.db.one(
                f"SELECT {SUBSCRIPTION_COLUMNS} FROM sns_subscriptions WHERE topic_arn = ? AND protocol = ? "
                "AND endpoint = ?",
                (topic_arn, protocol, endpoint),
            )
        )

    def save_subscription(self, sub: Subscription, now: float) -> None:
        self.db.execute(
            f"INSERT INTO sns_subscriptions ({SUBSCRIPTION_COLUMNS}, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "?, ?, ?) ON CONFLICT DO UPDATE SET attributes = excluded.attributes, confirmed = excluded.confirmed, "
            "token = excluded.token",
            (
                sub.arn,
                sub.topic_arn,
                sub.account,
                sub.region,
                sub.owner,
                sub.protocol,
                sub.endpoint,
                json.dumps(sub.attributes),
                int(sub.confirmed),
                sub.token,
                sub.principal,
                now,
            ),
        )

    def delete_subscription(self, arn: str) -> None:
        self.db.execute("DELETE FROM sns_subscriptions WHERE arn = ?", (arn,))

    def topic_subscriptions(self, topic_arn: str, after: str = "", limit: int = -1) -> list[Subscription]:
        return [
            _subscription(row)
            for row in self.db.all(
                f"SELECT {SUBSCRIPTION_COLUMNS} FROM sns_subscriptions WHERE topic_arn = ? AND arn > ? ORDER BY arn "
                "LIMIT ?",
                (topic_arn, after, limit),
            )
        ]

    def account_subscriptions(self, account: str, region: str, after: str) -> list[Subscription]:
        return [
            _subscription(row)
            for row in self.db.all(
                f"SELECT {SUBSCRIPTION_COLUMNS} FROM sns_subscriptions WHERE account = ? AND region = ? AND arn > ? "
                "ORDER BY arn LIMIT ?",
                (account, region, after, PAGE + 1),
            )
        ]

    # -- outbox ------------------------------------------------------------------------------------

    def add_to_outbox(self, values: dict[str, Any]) -> None:
        columns = ", ".join(values)
        self.db.execute(
            f"INSERT INTO sns_outbox ({columns}) VALUES ({', '.join('?' * len(values))})",
            tuple(values.values()),
        )

    def outbox(
        self, account: str | None, region: str | None, after: int, limit: int, protocol: str | None = None
    ) -> list[dict[str, Any]]:
        names = (
            "id",
            "account",
            "region",
            "protocol",
            "endpoint",
            "topic_arn",
            "subscription_arn",
            "message_id",
            "kind",
            "payload",
            "created_at",
        )
        where, params = "id > ?", [after]
        if account:
            where, params = where + " AND account = ?", [*params, account]
        if region:
            where, params = where + " AND region = ?", [*params, region]
        if protocol:
            where, params = where + " AND protocol = ?", [*params, protocol]
        rows = self.db.all(
            f"SELECT {', '.join(names)} FROM sns_outbox WHERE {where} ORDER BY id LIMIT ?", (*params, limit)
        )
        return [dict(zip(names, row, strict=True)) for row in rows]

    def clear_outbox(self) -> None:
        self.db.execute("DELETE FROM sns_outbox")

    # -- the signing key ---------------------------------------------------------------------------

    def signing_key(self, name: str) -> tuple[str, str] | None:
        """(private key PEM, certificate PEM) of a signing key."""
        row = self.db.one("SELECT private_key, certificate FROM sns_signing_keys WHERE name = ?", (name,))
        return (row[0], row[1]) if row else None

    def add_signing_key(self, name: str, private_key: str, certificate: str) -> None:
        """Store a key unless one of that name exists (the first one made wins)."""
        self.db.execute(
            "INSERT INTO sns_signing_keys (name, private_key, certificate) VALUES (?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            (name, private_key, certificate),
        )

    # -- mobile push: platform applications and endpoints -------------------------------------------

    def platform_application(self, arn: str) -> tuple[str, dict[str, str]] | None:
        """(platform, attributes) of an application."""
        row = self.db.one("SELECT platform, attributes FROM sns_platform_applications WHERE arn = ?", (arn,))
        return (row[0], json.loads(row[1])) if row else None

    def save_platform_application(
        self, arn: str, account: str, region: str, platform: str, attributes: dict[str, str]
    ) -> None:
        self.db.execute(
            "INSERT INTO sns_platform_applications (arn, account, region, platform, attributes) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET attributes = excluded.attributes",
            (arn, account, region, platform, json.dumps(attributes)),
        )

    def delete_platform_application(self, arn: str) -> None:
        self.db.execute("DELETE FROM sns_platform_endpoints WHERE application_arn = ?", (arn,))
        self.db.execute("DELETE FROM sns_platform_applications WHERE arn = ?", (arn,))

    def platform_applications(
        self, account: str, region: str, after: str
    ) -> list[tuple[str, dict[str, str]]]:
        rows = self.db.all(
            "SELECT arn, attributes FROM sns_platform_applications WHERE account = ? AND region = ? AND arn > ? "
            "ORDER BY arn LIMIT ?",
            (account, region, after, PAGE + 1),
        )
        return [(arn, json.loads(attributes)) for arn, attributes in rows]

    def platform_endpoint(self, arn: str) -> tuple[str, dict[str, str]] | None:
        """(application ARN, attributes) of an endpoint; the attributes include Token."""
        row = self.db.one(
            "SELECT application_arn, attributes FROM sns_platform_endpoints WHERE arn = ?", (arn,)
        )
        return (row[0], json.loads(row[1])) if row else None

    def endpoint_by_token(self, application_arn: str, token: str) -> tuple[str, dict[str, str]] | None:
        row = self.db.one(
            "SELECT arn, attributes FROM sns_platform_endpoints WHERE application_arn = ? AND token = ?",
            (application_arn, token),
        )
        return (row[0], json.loads(row[1])) if row else None

    def save_platform_endpoint(self, arn: str, application_arn: str, attributes: dict[str, str]) -> None:
        self.db.execute(
            "INSERT INTO sns_platform_endpoints (arn, application_arn, token, attributes) VALUES (?, ?, ?, ?) "
            "ON CONFLICT DO UPDATE SET token = excluded.token, attributes = excluded.attributes",
            (arn, application_arn, attributes["Token"], json.dumps(attributes)),
        )

    def delete_platform_endpoint(self, arn: str) -> None:
        self.db.execute("DELETE FROM sns_platform_endpoints WHERE arn = ?", (arn,))

    def platform_endpoints(self, application_arn: str, after: str) -> list[tuple[str, dict[str, str]]]:
        rows = self.db.all(
            "SELECT arn, attributes FROM sns_platform_endpoints WHERE application_arn = ? AND arn > ? "
            "ORDER BY arn LIMIT ?",
            (application_arn, after, PAGE + 1),
        )
        return [(arn, json.loads(attributes)) for arn, attributes in rows]

    # -- SMS settings ------------------------------------------------------------------------------

    def sms_values(
        self, account: str, region: str, kind: str, after: str = "", limit: int = -1
    ) -> dict[str, Any]:
        rows = self.db.all(
            "SELECT key, value FROM sns_sms WHERE account = ? AND region = ? AND kind = ? AND key > ? "
            "ORDER BY key LIMIT ?",
            (account, region, kind, after, limit),
        )
        return {key: json.loads(value) for key, value in rows}

    def sms_value(self, account: str, region: str, kind: str, key: str) -> Any:
        row = self.db.one(
            "SELECT value FROM sns_sms WHERE account = ? AND region = ? AND kind = ? AND key = ?",
            (account, region, kind, key),
        )
        return json.loads(row[0]) if row else None

    def set_sms_value(self, account: str, region: str, kind: str, key: str, value: Any) -> None:
        self.db.execute(
            "INSERT INTO sns_sms (account, region, kind, key, value) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT DO UPDATE SET value = excluded.value",
            (account, region, kind, key, json.dumps(value)),
        )

    def delete_sms_value(self, account: str, region: str, kind: str, key: str) -> None:
        self.db.execute(
            "DELETE FROM sns_sms WHERE account = ? AND region = ? AND kind = ? AND key = ?",
            (account, region, kind, key),
        )
