"""Auto Scaling's tables: groups and launch configurations (one row each, the description as JSON) and the
scaling activities of each group (in order)."""

from __future__ import annotations

import json
from typing import Any

from overcast.state import Database

MIGRATIONS = [
    """
    CREATE TABLE autoscaling_items (
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (account, region, kind, name)
    ) WITHOUT ROWID;
    CREATE INDEX autoscaling_items_kind ON autoscaling_items (kind);
    CREATE TABLE autoscaling_activities (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        group_name TEXT NOT NULL,
        body TEXT NOT NULL
    );
    CREATE INDEX autoscaling_activities_group ON autoscaling_activities (account, region, group_name, seq);
    """
]
GROUP = "group"
LAUNCH_CONFIGURATION = "launch-configuration"


class AutoScalingStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("autoscaling", MIGRATIONS)

    def get(self, account: str, region: str, kind: str, name: str) -> dict[str, Any] | None:
        row = self.db.one(
            "SELECT body FROM autoscaling_items WHERE account = ? AND region = ? AND kind = ? AND name = ?",
            (account, region, kind, name),
        )
        return json.loads(row[0]) if row else None

    def put(self, account: str, region: str, kind: str, name: str, body: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT INTO autoscaling_items (account, region, kind, name, body) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (account, region, kind, name) DO UPDATE SET body = excluded.body",
            (account, region, kind, name, json.dumps(body)),
        )

    def delete(self, account: str, region: str, kind: str, name: str) -> None:
        self.db.execute(
            "DELETE FROM autoscaling_items WHERE account = ? AND region = ? AND kind = ? AND name = ?",
            (account, region, kind, name),
        )

    def listing(self, account: str, region: str, kind: str) -> list[dict[str, Any]]:
        rows = self.db.all(
            "SELECT body FROM autoscaling_items WHERE account = ? AND region = ? AND kind = ? ORDER BY name",
            (account, region, kind),
        )
        return [json.loads(r[0]) for r in rows]

    def every_group(self) -> list[tuple[str, str, dict[str, Any]]]:
        rows = self.db.all("SELECT account, region, body FROM autoscaling_items WHERE kind = ?", (GROUP,))
        return [(r[0], r[1], json.loads(r[2])) for r in rows]

    def add_activity(self, account: str, region: str, group: str, body: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT INTO autoscaling_activities (account, region, group_name, body) VALUES (?, ?, ?, ?)",
            (account, region, group, json.dumps(body)),
        )

    def activities(self, account: str, region: str, group: str | None, limit: int) -> list[dict[str, Any]]:
        if group is None:
            rows = self.db.all(
                "SELECT body FROM autoscaling_activities WHERE account = ? AND region = ? ORDER BY seq DESC "
                "LIMIT ?",
                (account, region, limit),
            )
        else:
            rows = self.db.all(
                "SELECT body FROM autoscaling_activities WHERE account = ? AND region = ? AND group_name = ? "
                "ORDER BY seq DESC LIMIT ?",
                (account, region, group, limit),
            )
        return [json.loads(r[0]) for r in rows]

    def forget_activities(self, account: str, region: str, group: str) -> None:
        self.db.execute(
            "DELETE FROM autoscaling_activities WHERE account = ? AND region = ? AND group_name = ?",
            (account, region, group),
        )
