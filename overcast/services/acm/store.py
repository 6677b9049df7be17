"""ACM's tables and every SQL statement of the service."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from overcast.state import Database

MIGRATIONS = [
    """
    CREATE TABLE acm_certificates (
        arn TEXT PRIMARY KEY, account TEXT NOT NULL, region TEXT NOT NULL, doc TEXT NOT NULL,
        key_pem TEXT, cert_pem TEXT, chain_pem TEXT, idempotency TEXT, created REAL NOT NULL,
        due REAL
    );
    CREATE INDEX acm_certificates_scope ON acm_certificates (account, region, created);
    CREATE INDEX acm_certificates_due ON acm_certificates (due) WHERE due IS NOT NULL;

    CREATE TABLE acm_usage (
        arn TEXT NOT NULL, user_key TEXT NOT NULL, resource_arn TEXT NOT NULL,
        PRIMARY KEY (arn, user_key)
    ) WITHOUT ROWID;

    CREATE TABLE acm_authority (id TEXT PRIMARY KEY, key_pem TEXT NOT NULL, cert_pem TEXT NOT NULL);

    CREATE TABLE acm_account_config (account TEXT PRIMARY KEY, days_before_expiry INTEGER NOT NULL);
    """,
    # when each issued certificate's next "ACM Certificate Approaching Expiration" event is due
    """
    CREATE TABLE acm_notices (arn TEXT PRIMARY KEY, due REAL NOT NULL);
    CREATE INDEX acm_notices_due ON acm_notices (due);
    """,
]


@dataclass
class Certificate:
    arn: str
    account: str
    region: str
    doc: dict[str, Any]  # DescribeCertificate's fields (timestamps as epoch seconds), without InUseBy
    key_pem: str | None
    cert_pem: str | None
    chain_pem: str | None
    idempotency: str | None
    created: float
    due: float | None  # when the worker looks at it next (validation, timeout, renewal, expiry)

    @property
    def status(self) -> str:
        return self.doc["Status"]


_COLUMNS = "arn, account, region, doc, key_pem, cert_pem, chain_pem, idempotency, created, due"
_LISTED = "arn, account, region, doc, NULL, NULL, NULL, idempotency, created, due"


def _certificate(row: tuple | None) -> Certificate | None:
    if row is None:
        return None
    return Certificate(row[0], row[1], row[2], json.loads(row[3]), *row[4:])


class AcmStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("acm", MIGRATIONS)

    def put(self, certificate: Certificate) -> None:
        c = certificate
        self.db.execute(
            f"INSERT OR REPLACE INTO acm_certificates ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (c.arn, c.account, c.region, json.dumps(c.doc), c.key_pem, c.cert_pem, c.chain_pem, c.idempotency,
             c.created, c.due),
        )  # fmt: skip

    def get(self, arn: str) -> Certificate | None:
        return _certificate(self.db.one(f"SELECT {_COLUMNS} FROM acm_certificates WHERE arn = ?", (arn,)))

    def by_idempotency(self, account: str, region: str, token: str) -> Certificate | None:
        return _certificate(
            self.db.one(
                f"SELECT {_COLUMNS} FROM acm_certificates WHERE account = ? AND region = ? AND idempotency = ?",
                (account, region, token),
            )
        )

    def listing(self, account: str, region: str) -> list[Certificate]:
        """The region's certificates, oldest first, without their PEMs (a listing shows none: not read)."""
        rows = self.db.all(
            f"SELECT {_LISTED} FROM acm_certificates WHERE account = ? AND region = ? ORDER BY created, arn",
            (account, region),
        )
        return [_certificate(row) for row in rows]  # type: ignore[misc]

    def delete(self, arn: str) -> None:
        self.db.execute("DELETE FROM acm_notices WHERE arn = ?", (arn,))
        self.db.execute("DELETE FROM acm_usage WHERE arn = ?", (arn,))
        self.db.execute("DELETE FROM acm_certificates WHERE arn = ?", (arn,))

    def due(self, now: float, limit: int = 100) -> list[Certificate]:
        rows = self.db.all(
            f"SELECT {_COLUMNS} FROM acm_certificates WHERE due IS NOT NULL AND due <= ? ORDER BY due LIMIT ?",
            (now, limit),
        )
        return [_certificate(row) for row in rows]  # type: ignore[misc]

    def next_due(self) -> float | None:
        return self.db.one(
            "SELECT MIN(due) FROM (SELECT MIN(due) AS due FROM acm_certificates UNION ALL SELECT MIN(due) FROM acm_notices)"
        )[0]

    # -- expiry notices ---------------------------------------------------------------------------------------------

    def set_notice(self, arn: str, due: float | None) -> None:
        if due is None:
            self.db.execute("DELETE FROM acm_notices WHERE arn = ?", (arn,))
        else:
            self.db.execute("INSERT OR REPLACE INTO acm_notices VALUES (?, ?)", (arn, due))

    def due_notices(self, now: float, limit: int = 100) -> list[str]:
        rows = self.db.all("SELECT arn FROM acm_notices WHERE due <= ? ORDER BY due LIMIT ?", (now, limit))
        return [row[0] for row in rows]

    def noticed_arns(self, account: str) -> list[str]:
        rows = self.db.all(
            "SELECT n.arn FROM acm_notices n JOIN acm_certificates c ON c.arn = n.arn WHERE c.account = ?",
            (account,),
        )
        return [row[0] for row in rows]

    # -- in use ---------------------------------------------------------------------------------------------

    def claim(self, arn: str, user_key: str, resource_arn: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO acm_usage VALUES (?, ?, ?)", (arn, user_key, resource_arn))

    def release(self, arn: str, user_key: str) -> None:
        self.db.execute("DELETE FROM acm_usage WHERE arn = ? AND user_key = ?", (arn, user_key))

    def users(self, arn: str) -> list[str]:
        rows = self.db.all(
            "SELECT DISTINCT resource_arn FROM acm_usage WHERE arn = ? ORDER BY resource_arn", (arn,)
        )
        return [row[0] for row in rows]

    # -- the local certificate authority --------------------------------------------------------------------------

    def authority(self) -> tuple[str, str] | None:
        row = self.db.one("SELECT key_pem, cert_pem FROM acm_authority WHERE id = 'root'")
        return (row[0], row[1]) if row else None

    def put_authority(self, key_pem: str, cert_pem: str) -> None:
        self.db.execute("INSERT OR IGNORE INTO acm_authority VALUES ('root', ?, ?)", (key_pem, cert_pem))

    # -- account configuration ------------------------------------------------------------------------------------

    def days_before_expiry(self, account: str) -> int:
        row = self.db.one("SELECT days_before_expiry FROM acm_account_config WHERE account = ?", (account,))
        return row[0] if row else 45

    def set_days_before_expiry(self, account: str, days: int) -> None:
        self.db.execute("INSERT OR REPLACE INTO acm_account_config VALUES (?, ?)", (account, days))
