"""ELBv2's tables and every SQL statement of the service.

Resources are kept as their API documents (JSON, as DescribeX returns them) beside the columns they are
looked up by; targets are rows of their own, since health checks update them one by one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from overcast.services.kit.cache import StoredRows
from overcast.state import Database

MIGRATIONS = [
    """
    CREATE TABLE elb_load_balancers (
        arn TEXT PRIMARY KEY, account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,
        doc TEXT NOT NULL, attributes TEXT NOT NULL, front_port INTEGER NOT NULL, created REAL NOT NULL
    );
    CREATE UNIQUE INDEX elb_lb_name ON elb_load_balancers (account, region, name);

    CREATE TABLE elb_listeners (
        arn TEXT PRIMARY KEY, lb_arn TEXT NOT NULL, account TEXT NOT NULL, region TEXT NOT NULL,
        port INTEGER NOT NULL, doc TEXT NOT NULL, attributes TEXT NOT NULL, certificates TEXT NOT NULL,
        local_port INTEGER NOT NULL, created REAL NOT NULL
    );
    CREATE UNIQUE INDEX elb_listener_port ON elb_listeners (lb_arn, port);

    CREATE TABLE elb_rules (
        arn TEXT PRIMARY KEY, listener_arn TEXT NOT NULL, priority INTEGER, doc TEXT NOT NULL
    );
    CREATE INDEX elb_rules_listener ON elb_rules (listener_arn, priority);

    CREATE TABLE elb_target_groups (
        arn TEXT PRIMARY KEY, account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,
        doc TEXT NOT NULL, attributes TEXT NOT NULL, created REAL NOT NULL
    );
    CREATE UNIQUE INDEX elb_tg_name ON elb_target_groups (account, region, name);

    -- which load balancer's listeners and rules forward to which target group (kept with the actions)
    CREATE TABLE elb_tg_links (
        tg_arn TEXT NOT NULL, owner_arn TEXT NOT NULL, lb_arn TEXT NOT NULL,
        PRIMARY KEY (tg_arn, owner_arn)
    ) WITHOUT ROWID;
    CREATE INDEX elb_tg_links_owner ON elb_tg_links (owner_arn);
    CREATE INDEX elb_tg_links_lb ON elb_tg_links (lb_arn);

    CREATE TABLE elb_targets (
        tg_arn TEXT NOT NULL, target_id TEXT NOT NULL, port INTEGER NOT NULL, zone TEXT,
        state TEXT NOT NULL, reason TEXT, description TEXT, registered REAL NOT NULL,
        drain_until REAL, passes INTEGER NOT NULL DEFAULT 0, failures INTEGER NOT NULL DEFAULT 0,
        next_check REAL,
        PRIMARY KEY (tg_arn, target_id, port)
    ) WITHOUT ROWID;
    CREATE INDEX elb_targets_drain ON elb_targets (drain_until) WHERE drain_until IS NOT NULL;
    CREATE INDEX elb_targets_check ON elb_targets (next_check) WHERE next_check IS NOT NULL;
    """,
    # trust stores (mutual TLS): their CA bundle (PEM) and revocation lists (revoked serial numbers)
    """
    CREATE TABLE elb_trust_stores (
        arn TEXT PRIMARY KEY, account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,
        bundle TEXT NOT NULL, certificates INTEGER NOT NULL, created REAL NOT NULL
    );
    CREATE UNIQUE INDEX elb_trust_stores_name ON elb_trust_stores (account, region, name);
    CREATE TABLE elb_trust_store_revocations (
        trust_store TEXT NOT NULL, id INTEGER NOT NULL, kind TEXT NOT NULL, serials TEXT NOT NULL,
        content BLOB NOT NULL, PRIMARY KEY (trust_store, id)
    ) WITHOUT ROWID;
    """,  # minimum capacity reservations of load balancers, and their decreases per day
    """
    CREATE TABLE elb_capacity (
        lb_arn TEXT PRIMARY KEY, units INTEGER, modified REAL NOT NULL, decrease_day INTEGER NOT NULL,
        decreases INTEGER NOT NULL
    );
    """,
    # the client secrets of authenticate-oidc actions (never described): the token requests need them
    """
    CREATE TABLE elb_oidc_secrets (
        lb_arn TEXT NOT NULL, client_id TEXT NOT NULL, secret TEXT NOT NULL, PRIMARY KEY (lb_arn, client_id)
    ) WITHOUT ROWID;
    """,
]


@dataclass
class LoadBalancer:
    arn: str
    account: str
    region: str
    name: str
    doc: dict[str, Any]
    attributes: dict[str, str]
    front_port: int
    created: float

    @property
    def type(self) -> str:
        return self.doc["Type"]


@dataclass
class Listener:
    arn: str
    lb_arn: str
    account: str
    region: str
    port: int
    doc: dict[str, Any]
    attributes: dict[str, str]
    certificates: list[str]  # the default certificate first, then those AddListenerCertificates added
    local_port: int
    created: float

    @property
    def protocol(self) -> str:
        return self.doc["Protocol"]


@dataclass
class Rule:
    arn: str
    listener_arn: str
    priority: int | None  # None: the listener's default rule
    doc: dict[str, Any]


@dataclass
class TargetGroup:
    arn: str
    account: str
    region: str
    name: str
    doc: dict[str, Any]
    attributes: dict[str, str]
    created: float

    @property
    def target_type(self) -> str:
        return self.doc["TargetType"]


@dataclass
class Target:
    tg_arn: str
    target_id: str
    port: int
    zone: str | None
    state: str
    reason: str | None
    description: str | None
    registered: float
    drain_until: float | None
    passes: int
    failures: int
    next_check: float | None


_LB = "arn, account, region, name, doc, attributes, front_port, created"
_LISTENER = "arn, lb_arn, account, region, port, doc, attributes, certificates, local_port, created"
_TG = "arn, account, region, name, doc, attributes, created"
_TARGET = (
    "tg_arn, target_id, port, zone, state, reason, description, registered, drain_until, passes, failures, "
    "next_check"
)


def _lb(row: tuple | None) -> LoadBalancer | None:
    if row is None:
        return None
    return LoadBalancer(
        row[0], row[1], row[2], row[3], json.loads(row[4]), json.loads(row[5]), row[6], row[7]
    )


def _listener(row: tuple | None) -> Listener | None:
    if row is None:
        return None
    return Listener(
        row[0], row[1], row[2], row[3], row[4], json.loads(row[5]), json.loads(row[6]), json.loads(row[7]),
        row[8], row[9],
    )  # fmt: skip


def _rule(row: tuple | None) -> Rule | None:
    return None if row is None else Rule(row[0], row[1], row[2], json.loads(row[3]))


def _tg(row: tuple | None) -> TargetGroup | None:
    if row is None:
        return None
    return TargetGroup(row[0], row[1], row[2], row[3], json.loads(row[4]), json.loads(row[5]), row[6])


@dataclass
class TrustStore:
    arn: str
    account: str
    region: str
    name: str
    bundle: str  # the CA certificates (PEM)
    certificates: int
    created: float


_TRUST = "arn, account, region, name, bundle, certificates, created"


class ElbStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("elbv2", MIGRATIONS)
        # (account, region) -> its load balancers' rows (as stored: each read parses its own documents, which
        # callers may change), for DescribeLoadBalancers; a region holds at most MAX_LOAD_BALANCERS
        self._region_rows = StoredRows(db, size=64)
        self._region_groups = StoredRows(db, size=64)  # the same for target groups (DescribeTargetGroups)
        self._users = StoredRows(db)  # target group arn -> the load balancers forwarding to it, oldest first

    def forget(self) -> None:
        """Drop the cached rows (after `overcast reset`)."""
        self._region_rows.forget()
        self._region_groups.forget()
        self._users.forget()

    # -- load balancers ----------------------------------------------------------------------------------

    def put_load_balancer(self, lb: LoadBalancer) -> None:
        self._region_rows.forget()
        self._users.forget()
        self.db.execute(
            f"INSERT OR REPLACE INTO elb_load_balancers ({_LB}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                lb.arn, lb.account, lb.region, lb.name, json.dumps(lb.doc), json.dumps(lb.attributes),
                lb.front_port, lb.created,
            ),
        )  # fmt: skip

    def load_balancer(self, arn: str) -> LoadBalancer | None:
        return _lb(self.db.one(f"SELECT {_LB} FROM elb_load_balancers WHERE arn = ?", (arn,)))

    def load_balancer_named(self, account: str, region: str, name: str) -> LoadBalancer | None:
        return _lb(
            self.db.one(
                f"SELECT {_LB} FROM elb_load_balancers WHERE account = ? AND region = ? AND name = ?",
                (account, region, name),
            )
        )

    def load_balancers(self, account: str, region: str) -> list[LoadBalancer]:
        rows = self._region_rows.read(
            (account, region),
            lambda: self.db.all(
                f"SELECT {_LB} FROM elb_load_balancers WHERE account = ? AND region = ? ORDER BY created, arn",
                (account, region),
            ),
        )
        return [_lb(row) for row in rows]  # type: ignore[misc]

    def all_load_balancers(self) -> list[LoadBalancer]:
        return [_lb(row) for row in self.db.all(f"SELECT {_LB} FROM elb_load_balancers")]  # type: ignore[misc]

    def load_balancer_by_host(self, host: str) -> LoadBalancer | None:
        """The load balancer whose DNS name (without its port) is `host`."""
        row = self.db.one(
            f"SELECT {_LB} FROM elb_load_balancers WHERE json_extract(doc, '$.DNSName') = ? "
            "OR json_extract(doc, '$.DNSName') LIKE ? LIMIT 1",
            (host, host + ":%"),
        )
        return _lb(row)

    def count_load_balancers(self, account: str, region: str) -> int:
        return self.db.one(
            "SELECT COUNT(*) FROM elb_load_balancers WHERE account = ? AND region = ?", (account, region)
        )[0]

    def put_client_secret(self, lb_arn: str, client_id: str, secret: str) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO elb_oidc_secrets VALUES (?, ?, ?)", (lb_arn, client_id, secret)
        )

    def client_secret(self, lb_arn: str, client_id: str) -> str | None:
        row = self.db.one(
            "SELECT secret FROM elb_oidc_secrets WHERE lb_arn = ? AND client_id = ?", (lb_arn, client_id)
        )
        return row[0] if row else None

    def capacity(self, lb_arn: str) -> tuple[int | None, float, int, int] | None:
        """(reserved capacity units or None, last modified, day of the decreases counted, their number)."""
        row = self.db.one(
            "SELECT units, modified, decrease_day, decreases FROM elb_capacity WHERE lb_arn = ?", (lb_arn,)
        )
        return (row[0], row[1], row[2], row[3]) if row else None

    def put_capacity(self, lb_arn: str, units: int | None, modified: float, day: int, decreases: int) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO elb_capacity VALUES (?, ?, ?, ?, ?)",
            (lb_arn, units, modified, day, decreases),
        )

    def delete_load_balancer(self, arn: str) -> None:
        for listener in self.listeners_of(arn):
            self.delete_listener(listener.arn)
        self.db.execute("DELETE FROM elb_capacity WHERE lb_arn = ?", (arn,))
        self.db.execute("DELETE FROM elb_oidc_secrets WHERE lb_arn = ?", (arn,))
        self._region_rows.forget()
        self._users.forget()
        self.db.execute("DELETE FROM elb_load_balancers WHERE arn = ?", (arn,))

    def front_ports(self) -> set[int]:
        ports = {row[0] for row in self.db.all("SELECT front_port FROM elb_load_balancers")}
        return ports | {row[0] for row in self.db.all("SELECT local_port FROM elb_listeners")}

    # -- listeners ---------------------------------------------------------------------------------------

    def put_listener(self, listener: Listener) -> None:
        self.db.execute(
            f"INSERT OR REPLACE INTO elb_listeners ({_LISTENER}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                listener.arn, listener.lb_arn, listener.account, listener.region, listener.port,
                json.dumps(listener.doc), json.dumps(listener.attributes), json.dumps(listener.certificates),
                listener.local_port, listener.created,
            ),
        )  # fmt: skip

    def listener(self, arn: str) -> Listener | None:
        return _listener(self.db.one(f"SELECT {_LISTENER} FROM elb_listeners WHERE arn = ?", (arn,)))

    def listeners_of(self, lb_arn: str) -> list[Listener]:
        rows = self.db.all(
            f"SELECT {_LISTENER} FROM elb_listeners WHERE lb_arn = ? ORDER BY created, arn", (lb_arn,)
        )
        return [_listener(row) for row in rows]  # type: ignore[misc]

    def all_listeners(self) -> list[Listener]:
        return [_listener(row) for row in self.db.all(f"SELECT {_LISTENER} FROM elb_listeners")]  # type: ignore[misc]

    def listeners_using_certificate(self, certificate_arn: str) -> list[Listener]:
        rows = self.db.all(
            f"SELECT {_LISTENER} FROM elb_listeners WHERE EXISTS "
            "(SELECT 1 FROM json_each(certificates) WHERE value = ?)",
            (certificate_arn,),
        )
        return [_listener(row) for row in rows]  # type: ignore[misc]

    def delete_listener(self, arn: str) -> None:
        for rule in self.rules_of(arn):
            self.delete_rule(rule.arn)
        self.unlink(arn)
        self.db.execute("DELETE FROM elb_listeners WHERE arn = ?", (arn,))

    # -- rules -------------------------------------------------------------------------------------------

    def put_rule(self, rule: Rule) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO elb_rules (arn, listener_arn, priority, doc) VALUES (?, ?, ?, ?)",
            (rule.arn, rule.listener_arn, rule.priority, json.dumps(rule.doc)),
        )

    def rule(self, arn: str) -> Rule | None:
        return _rule(
            self.db.one("SELECT arn, listener_arn, priority, doc FROM elb_rules WHERE arn = ?", (arn,))
        )

    def rules_of(self, listener_arn: str) -> list[Rule]:
        """The listener's rules in evaluation order: by priority, the default rule last."""
        rows = self.db.all(
            "SELECT arn, listener_arn, priority, doc FROM elb_rules WHERE listener_arn = ? "
            "ORDER BY priority IS NULL, priority",
            (listener_arn,),
        )
        return [_rule(row) for row in rows]  # type: ignore[misc]

    def rule_with_priority(self, listener_arn: str, priority: int) -> Rule | None:
        return _rule(
            self.db.one(
                "SELECT arn, listener_arn, priority, doc FROM elb_rules WHERE listener_arn = ? AND priority = ?",
                (listener_arn, priority),
            )
        )

    def count_rules(self, listener_arn: str) -> int:
        return self.db.one(
            "SELECT COUNT(*) FROM elb_rules WHERE listener_arn = ? AND priority IS NOT NULL", (listener_arn,)
        )[0]

    def delete_rule(self, arn: str) -> None:
        self.unlink(arn)
        self.db.execute("DELETE FROM elb_rules WHERE arn = ?", (arn,))

    # -- which target groups the actions forward to -------------------------------------------------------

    def link(self, owner_arn: str, lb_arn: str, tg_arns: set[str]) -> None:
        """`owner_arn` (a listener or rule of `lb_arn`) forwards to exactly `tg_arns` now."""
        self.unlink(owner_arn)
        self._users.forget()
        self.db.executemany(
            "INSERT OR IGNORE INTO elb_tg_links (tg_arn, owner_arn, lb_arn) VALUES (?, ?, ?)",
            [(tg, owner_arn, lb_arn) for tg in sorted(tg_arns)],
        )

    def unlink(self, owner_arn: str) -> None:
        self._users.forget()
        self.db.execute("DELETE FROM elb_tg_links WHERE owner_arn = ?", (owner_arn,))

    def load_balancers_of_target_group(self, tg_arn: str) -> list[str]:
        return list(  # a copy: the caller's to change
            self._users.read(
                tg_arn,
                lambda: [
                    row[0]
                    for row in self.db.all(
                        "SELECT DISTINCT l.lb_arn FROM elb_tg_links l JOIN elb_load_balancers b "
                        "ON b.arn = l.lb_arn WHERE l.tg_arn = ? ORDER BY b.created",
                        (tg_arn,),
                    )
                ],
            )
        )

    def target_groups_of_load_balancer(self, lb_arn: str) -> list[str]:
        return [
            row[0]
            for row in self.db.all("SELECT DISTINCT tg_arn FROM elb_tg_links WHERE lb_arn = ?", (lb_arn,))
        ]

    # -- target groups -----------------------------------------------------------------------------------

    def put_target_group(self, tg: TargetGroup) -> None:
        self._region_groups.forget()
        self.db.execute(
            f"INSERT OR REPLACE INTO elb_target_groups ({_TG}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                tg.arn,
                tg.account,
                tg.region,
                tg.name,
                json.dumps(tg.doc),
                json.dumps(tg.attributes),
                tg.created,
            ),
        )

    def target_group(self, arn: str) -> TargetGroup | None:
        return _tg(self.db.one(f"SELECT {_TG} FROM elb_target_groups WHERE arn = ?", (arn,)))

    def target_group_named(self, account: str, region: str, name: str) -> TargetGroup | None:
        return _tg(
            self.db.one(
                f"SELECT {_TG} FROM elb_target_groups WHERE account = ? AND region = ? AND name = ?",
                (account, region, name),
            )
        )

    def target_groups(self, account: str, region: str) -> list[TargetGroup]:
        rows = self._region_groups.read(
            (account, region),
            lambda: self.db.all(
                f"SELECT {_TG} FROM elb_target_groups WHERE account = ? AND region = ? ORDER BY name",
                (account, region),
            ),
        )
        return [_tg(row) for row in rows]  # type: ignore[misc]

    def count_target_groups(self, account: str, region: str) -> int:
        return self.db.one(
            "SELECT COUNT(*) FROM elb_target_groups WHERE account = ? AND region = ?", (account, region)
        )[0]

    def delete_target_group(self, arn: str) -> None:
        self.db.execute("DELETE FROM elb_targets WHERE tg_arn = ?", (arn,))
        self._region_groups.forget()
        self.db.execute("DELETE FROM elb_target_groups WHERE arn = ?", (arn,))

    # -- targets -----------------------------------------------------------------------------------------

    def put_target(self, target: Target) -> None:
        self.db.execute(
            f"INSERT OR REPLACE INTO elb_targets ({_TARGET}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                target.tg_arn, target.target_id, target.port, target.zone, target.state, target.reason,
                target.description, target.registered, target.drain_until, target.passes, target.failures,
                target.next_check,
            ),
        )  # fmt: skip

    def target(self, tg_arn: str, target_id: str, port: int) -> Target | None:
        row = self.db.one(
            f"SELECT {_TARGET} FROM elb_targets WHERE tg_arn = ? AND target_id = ? AND port = ?",
            (tg_arn, target_id, port),
        )
        return Target(*row) if row else None

    def targets(self, tg_arn: str) -> list[Target]:
        rows = self.db.all(
            f"SELECT {_TARGET} FROM elb_targets WHERE tg_arn = ? ORDER BY registered, target_id, port",
            (tg_arn,),
        )
        return [Target(*row) for row in rows]

    def count_targets(self, tg_arn: str) -> int:
        return self.db.one("SELECT COUNT(*) FROM elb_targets WHERE tg_arn = ?", (tg_arn,))[0]

    def delete_target(self, tg_arn: str, target_id: str, port: int) -> None:
        self.db.execute(
            "DELETE FROM elb_targets WHERE tg_arn = ? AND target_id = ? AND port = ?",
            (tg_arn, target_id, port),
        )

    def drained(self, now: float) -> int:
        """Remove the targets whose deregistration delay has passed; how many."""
        return self.db.execute(
            "DELETE FROM elb_targets WHERE drain_until IS NOT NULL AND drain_until <= ?", (now,)
        ).rowcount

    def next_drain(self) -> float | None:
        return self.db.one("SELECT MIN(drain_until) FROM elb_targets")[0]

    def due_checks(self, now: float, limit: int = 200) -> list[Target]:
        rows = self.db.all(
            f"SELECT {_TARGET} FROM elb_targets WHERE next_check IS NOT NULL AND next_check <= ? "
            "ORDER BY next_check LIMIT ?",
            (now, limit),
        )
        return [Target(*row) for row in rows]

    def next_check(self) -> float | None:
        return self.db.one("SELECT MIN(next_check) FROM elb_targets")[0]

    def set_checks(self, tg_arn: str, next_check: float | None) -> None:
        """Schedule (or stop, with None) the health checks of every target of a group not draining."""
        self.db.execute(
            "UPDATE elb_targets SET next_check = ? WHERE tg_arn = ? AND drain_until IS NULL",
            (next_check, tg_arn),
        )

    def record_check(self, target: Target) -> None:
        """Store a health check's outcome, unless the target was deregistered meanwhile."""
        self.db.execute(
            "UPDATE elb_targets SET state = ?, reason = ?, description = ?, passes = ?, failures = ?, "
            "next_check = ? WHERE tg_arn = ? AND target_id = ? AND port = ? AND drain_until IS NULL",
            (
                target.state, target.reason, target.description, target.passes, target.failures,
                target.next_check, target.tg_arn, target.target_id, target.port,
            ),
        )  # fmt: skip

    # -- trust stores ------------------------------------------------------------------------------------------

    def put_trust_store(self, store: TrustStore) -> None:
        t = store
        self.db.execute(
            f"INSERT OR REPLACE INTO elb_trust_stores ({_TRUST}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (t.arn, t.account, t.region, t.name, t.bundle, t.certificates, t.created),
        )

    def trust_store(self, arn: str) -> TrustStore | None:
        row = self.db.one(f"SELECT {_TRUST} FROM elb_trust_stores WHERE arn = ?", (arn,))
        return TrustStore(*row) if row else None

    def trust_store_named(self, account: str, region: str, name: str) -> TrustStore | None:
        row = self.db.one(
            f"SELECT {_TRUST} FROM elb_trust_stores WHERE account = ? AND region = ? AND name = ?",
            (account, region, name),
        )
        return TrustStore(*row) if row else None

    def trust_stores(self, account: str, region: str) -> list[TrustStore]:
        rows = self.db.all(
            f"SELECT {_TRUST} FROM elb_trust_stores WHERE account = ? AND region = ? ORDER BY created, arn",
            (account, region),
        )
        return [TrustStore(*row) for row in rows]

    def delete_trust_store(self, arn: str) -> None:
        self.db.execute("DELETE FROM elb_trust_store_revocations WHERE trust_store = ?", (arn,))
        self.db.execute("DELETE FROM elb_trust_stores WHERE arn = ?", (arn,))

    def add_revocation(self, trust_store: str, kind: str, serials: list[int], content: bytes) -> int:
        row = self.db.one(
            "SELECT COALESCE(MAX(id), 0) FROM elb_trust_store_revocations WHERE trust_store = ?",
            (trust_store,),
        )
        revocation_id = row[0] + 1
        self.db.execute(
            "INSERT INTO elb_trust_store_revocations (trust_store, id, kind, serials, content) VALUES (?, ?, ?, ?, ?)",
            (
                trust_store,
                revocation_id,
                kind,
                json.dumps([format(serial, "x") for serial in serials]),
                content,
            ),
        )
        return revocation_id

    def revocations(self, trust_store: str) -> list[tuple[int, str, int]]:
        """(id, type, number of revoked serials) of the trust store's revocation lists."""
        rows = self.db.all(
            "SELECT id, kind, serials FROM elb_trust_store_revocations WHERE trust_store = ? ORDER BY id",
            (trust_store,),
        )
        return [(row[0], row[1], len(json.loads(row[2]))) for row in rows]

    def revocation_content(self, trust_store: str, revocation_id: int) -> bytes | None:
        row = self.db.one(
            "SELECT content FROM elb_trust_store_revocations WHERE trust_store = ? AND id = ?",
            (trust_store, revocation_id),
        )
        return bytes(row[0]) if row else None

    def revoked_serials(self, trust_store: str) -> set[int]:
        rows = self.db.all(
            "SELECT serials FROM elb_trust_store_revocations WHERE trust_store = ?", (trust_store,)
        )
        return {int(serial, 16) for row in rows for serial in json.loads(row[0])}

    def delete_revocation(self, trust_store: str, revocation_id: int) -> None:
        self.db.execute(
            "DELETE FROM elb_trust_store_revocations WHERE trust_store = ? AND id = ?",
            (trust_store, revocation_id),
        )

    def listeners_using_trust_store(self, arn: str) -> list[Listener]:
        rows = self.db.all(
            f"SELECT {_LISTENER} FROM elb_listeners "
            "WHERE json_extract(doc, '$.MutualAuthentication.TrustStoreArn') = ?",
            (arn,),
        )
        return [_listener(row) for row in rows]  # type: ignore[misc]
