"""ECR's tables and every SQL statement it runs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from overcast.state import Database

MIGRATIONS = [
    """
    CREATE TABLE ecr_repositories (
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        created_at REAL NOT NULL,
        settings TEXT NOT NULL,
        policy TEXT,
        lifecycle TEXT,
        lifecycle_at REAL,
        PRIMARY KEY (account, region, name)
    );
    """,
]


@dataclass
class Repository:
    account: str
    region: str
    name: str
    created_at: float
    settings: dict[str, Any]
    policy: str | None
    lifecycle: str | None
    lifecycle_at: float | None


class EcrStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("ecr", MIGRATIONS)

    def repository(self, account: str, region: str, name: str) -> Repository | None:
        row = self.db.one(
            "SELECT account, region, name, created_at, settings, policy, lifecycle, lifecycle_at "
            "FROM ecr_repositories WHERE account = ? AND region = ? AND name = ?",
            (account, region, name),
        )
        return Repository(*row[:4], json.loads(row[4]), *row[5:]) if row else None

    def repositories(self, account: str, region: str, after: str, limit: int) -> list[Repository]:
        rows = self.db.all(
            "SELECT account, region, name, created_at, settings, policy, lifecycle, lifecycle_at "
            "FROM ecr_repositories WHERE account = ? AND region = ? AND name > ? ORDER BY name LIMIT ?",
            (account, region, after, limit),
        )
        return [Repository(*row[:4], json.loads(row[4]), *row[5:]) for row in rows]

    def insert(self, account: str, region: str, name: str, now: float, settings: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT INTO ecr_repositories (account, region, name, created_at, settings) VALUES (?, ?, ?, ?, ?)",
            (account, region, name, now, json.dumps(settings)),
        )

    def set_settings(self, repository: Repository, settings: dict[str, Any]) -> None:
        self.db.execute(
            "UPDATE ecr_repositories SET settings = ? WHERE account = ? AND region = ? AND name = ?",
            (json.dumps(settings), repository.account, repository.region, repository.name),
        )

    def set_policy(self, repository: Repository, policy: str | None) -> None:
        self.db.execute(
            "UPDATE ecr_repositories SET policy = ? WHERE account = ? AND region = ? AND name = ?",
            (policy, repository.account, repository.region, repository.name),
        )

    def set_lifecycle(self, repository: Repository, text: str | None, now: float | None) -> None:
        self.db.execute(
            "UPDATE ecr_repositories SET lifecycle = ?, lifecycle_at = ? WHERE account = ? AND region = ? AND name = ?",
            (text, now, repository.account, repository.region, repository.name),
        )

    def delete(self, repository: Repository) -> None:
        self.db.execute(
            "DELETE FROM ecr_repositories WHERE account = ? AND region = ? AND name = ?",
            (repository.account, repository.region, repository.name),
        )
