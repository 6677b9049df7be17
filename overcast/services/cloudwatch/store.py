"""CloudWatch's tables and every SQL statement of the service.

A metric is (account, region, namespace, name, dimensions) with its dimensions as canonical JSON (sorted by
name); each PutMetricData datum is one row of `cw_datapoints` (count, sum, min, max and, for single values,
the values themselves for percentiles). Alarms keep their whole configuration as JSON beside the columns the
evaluator needs (state, next evaluation), with their history in `cw_alarm_history`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from overcast.services.cloudwatch.statistics import Sample
from overcast.state import Database

MIGRATIONS = [
    """
    CREATE TABLE cw_metrics (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        namespace TEXT NOT NULL,
        name TEXT NOT NULL,
        dimensions TEXT NOT NULL,
        last_seen REAL NOT NULL,
        UNIQUE (account, region, namespace, name, dimensions)
    );
    CREATE TABLE cw_datapoints (
        metric INTEGER NOT NULL,
        ts REAL NOT NULL,
        unit TEXT NOT NULL,
        count REAL NOT NULL,
        total REAL NOT NULL,
        minimum REAL NOT NULL,
        maximum REAL NOT NULL,
        vals TEXT,
        resolution INTEGER NOT NULL
    );
    CREATE INDEX cw_datapoints_metric ON cw_datapoints (metric, ts);
    CREATE TABLE cw_alarms (
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        arn TEXT NOT NULL,
        kind TEXT NOT NULL,
        config TEXT NOT NULL,
        state TEXT NOT NULL,
        reason TEXT NOT NULL,
        reason_data TEXT,
        state_updated REAL NOT NULL,
        state_transitioned REAL NOT NULL,
        config_updated REAL NOT NULL,
        actions_enabled INTEGER NOT NULL,
        next_evaluation REAL NOT NULL,
        PRIMARY KEY (account, region, name)
    ) WITHOUT ROWID;
    CREATE INDEX cw_alarms_due ON cw_alarms (next_evaluation);
    CREATE TABLE cw_alarm_history (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        alarm TEXT NOT NULL,
        kind TEXT NOT NULL,
        ts REAL NOT NULL,
        item_type TEXT NOT NULL,
        summary TEXT NOT NULL,
        data TEXT NOT NULL
    );
    CREATE INDEX cw_alarm_history_alarm ON cw_alarm_history (account, region, alarm, ts);
    CREATE TABLE cw_dashboards (
        account TEXT NOT NULL,
        name TEXT NOT NULL,
        body TEXT NOT NULL,
        modified REAL NOT NULL,
        PRIMARY KEY (account, name)
    ) WITHOUT ROWID;
    """
]

ALARM_COLUMNS = (
    "account, region, name, arn, kind, config, state, reason, reason_data, state_updated, state_transitioned, "
    "config_updated, actions_enabled, next_evaluation"
)


def dimensions_key(dimensions: Iterable[dict[str, str]] | None) -> str:
    """Dimensions as one canonical text: sorted by name, so the same set in any order is the same metric."""
    pairs = sorted((d["Name"], d["Value"]) for d in dimensions or ())
    return json.dumps(pairs, separators=(",", ":"))


def dimensions_of(key: str) -> list[dict[str, str]]:
    return [{"Name": name, "Value": value} for name, value in json.loads(key)]


class CloudWatchStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("cloudwatch", MIGRATIONS)

    # -- metrics -------------------------------------------------------------------------------------------

    def metric_id(self, account: str, region: str, namespace: str, name: str, dims: str, seen: float) -> int:
        """The metric's id, made on first use; its last datapoint time moved to `seen` if later."""
        return self.db.one(
            "INSERT INTO cw_metrics (account, region, namespace, name, dimensions, last_seen) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account, region, namespace, name, dimensions) "
            "DO UPDATE SET last_seen = max(last_seen, excluded.last_seen) RETURNING id",
            (account, region, namespace, name, dims, seen),
        )[0]

    def find_metric(self, account: str, region: str, namespace: str, name: str, dims: str) -> int | None:
        row = self.db.one(
            "SELECT id FROM cw_metrics WHERE account = ? AND region = ? AND namespace = ? AND name = ? "
            "AND dimensions = ?",
            (account, region, namespace, name, dims),
        )
        return row[0] if row else None

    def add_datapoints(self, rows: list[tuple]) -> None:
        """Rows of (metric, ts, unit, count, total, minimum, maximum, vals, resolution)."""
        self.db.executemany("INSERT INTO cw_datapoints VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)

    def samples(self, metric: int, start: float, end: float, unit: str | None = None) -> list[Sample]:
        sql = (
            "SELECT ts, unit, count, total, minimum, maximum, vals FROM cw_datapoints "
            "WHERE metric = ? AND ts >= ? AND ts < ?"
        )
        args: list[Any] = [metric, start, end]
        if unit is not None:
            sql += " AND unit = ?"
            args.append(unit)
        return [
            Sample(ts, u, count, total, low, high, json.loads(vals) if vals else None)
            for ts, u, count, total, low, high, vals in self.db.all(sql, args)
        ]

    def metrics(
        self,
        account: str,
        region: str,
        namespace: str | None,
        name: str | None,
        seen_since: float,
        after: int,
        limit: int,
    ) -> list[tuple[int, str, str, str]]:
        """(id, namespace, name, dimensions) of the metrics matching, in id order after `after`."""
        sql = (
            "SELECT id, namespace, name, dimensions FROM cw_metrics WHERE account = ? AND region = ? "
            "AND last_seen >= ? AND id > ?"
        )
        args: list[Any] = [account, region, seen_since, after]
        if namespace is not None:
            sql += " AND namespace = ?"
            args.append(namespace)
        if name is not None:
            sql += " AND name = ?"
            args.append(name)
        return self.db.all(sql + " ORDER BY id LIMIT ?", (*args, limit))

    def expire_datapoints(self, before: float) -> None:
        self.db.execute("DELETE FROM cw_datapoints WHERE ts < ?", (before,))

    # -- alarms --------------------------------------------------------------------------------------------

    def alarm(self, account: str, region: str, name: str) -> tuple | None:
        return self.db.one(
            f"SELECT {ALARM_COLUMNS} FROM cw_alarms WHERE account = ? AND region = ? AND name = ?",
            (account, region, name),
        )

    def put_alarm(self, row: tuple) -> None:
        marks = ", ".join("?" * 14)
        self.db.execute(f"INSERT OR REPLACE INTO cw_alarms ({ALARM_COLUMNS}) VALUES ({marks})", row)

    def set_alarm_state(
        self,
        account: str,
        region: str,
        name: str,
        state: str,
        reason: str,
        reason_data: str | None,
        now: float,
        transitioned: bool,
    ) -> None:
        self.db.execute(
            "UPDATE cw_alarms SET state = ?, reason = ?, reason_data = ?, state_updated = ?, "
            "state_transitioned = CASE WHEN ? THEN ? ELSE state_transitioned END "
            "WHERE account = ? AND region = ? AND name = ?",
            (state, reason, reason_data, now, transitioned, now, account, region, name),
        )

    def set_actions_enabled(self, account: str, region: str, name: str, enabled: bool) -> None:
        self.db.execute(
            "UPDATE cw_alarms SET actions_enabled = ? WHERE account = ? AND region = ? AND name = ?",
            (int(enabled), account, region, name),
        )

    def set_next_evaluation(self, account: str, region: str, name: str, moment: float) -> None:
        self.db.execute(
            "UPDATE cw_alarms SET next_evaluation = ? WHERE account = ? AND region = ? AND name = ?",
            (moment, account, region, name),
        )

    def delete_alarm(self, account: str, region: str, name: str) -> None:
        self.db.execute(
            "DELETE FROM cw_alarms WHERE account = ? AND region = ? AND name = ?", (account, region, name)
        )

    def alarms(self, account: str, region: str, prefix: str = "") -> list[tuple]:
        return self.db.all(
            f"SELECT {ALARM_COLUMNS} FROM cw_alarms WHERE account = ? AND region = ? AND substr(name, 1, ?) = ? "
            "ORDER BY name",
            (account, region, len(prefix), prefix),
        )

    def due_alarms(self, now: float, limit: int) -> list[tuple]:
        return self.db.all(
            f"SELECT {ALARM_COLUMNS} FROM cw_alarms WHERE next_evaluation <= ? AND kind = 'MetricAlarm' "
            "ORDER BY next_evaluation LIMIT ?",
            (now, limit),
        )

    def next_evaluation(self) -> float | None:
        return self.db.one("SELECT MIN(next_evaluation) FROM cw_alarms WHERE kind = 'MetricAlarm'")[0]

    def composite_alarms(self, account: str, region: str) -> list[tuple]:
        return self.db.all(
            f"SELECT {ALARM_COLUMNS} FROM cw_alarms WHERE account = ? AND region = ? AND kind = 'CompositeAlarm' "
            "ORDER BY name",
            (account, region),
        )

    def add_history(
        self,
        account: str,
        region: str,
        alarm: str,
        kind: str,
        ts: float,
        item_type: str,
        summary: str,
        data: str,
    ) -> None:
        self.db.execute(
            "INSERT INTO cw_alarm_history (account, region, alarm, kind, ts, item_type, summary, data) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (account, region, alarm, kind, ts, item_type, summary, data),
        )

    def history(
        self,
        account: str,
        region: str,
        alarm: str | None,
        item_type: str | None,
        start: float,
        end: float,
        newest_first: bool,
        after: int | None,
        limit: int,
    ) -> list[tuple]:
        sql = (
            "SELECT id, alarm, kind, ts, item_type, summary, data FROM cw_alarm_history "
            "WHERE account = ? AND region = ? AND ts >= ? AND ts <= ?"
        )
        args: list[Any] = [account, region, start, end]
        if alarm:
            sql += " AND alarm = ?"
            args.append(alarm)
        if item_type:
            sql += " AND item_type = ?"
            args.append(item_type)
        if after is not None:
            sql += " AND id < ?" if newest_first else " AND id > ?"
            args.append(after)
        sql += " ORDER BY id DESC" if newest_first else " ORDER BY id"
        return self.db.all(sql + " LIMIT ?", (*args, limit))

    def forget_history(self, account: str, region: str, alarm: str) -> None:
        self.db.execute(
            "DELETE FROM cw_alarm_history WHERE account = ? AND region = ? AND alarm = ?",
            (account, region, alarm),
        )

    # -- dashboards ------------------------------------------------------------------------------------------

    def dashboard(self, account: str, name: str) -> tuple[str, float] | None:
        return self.db.one(
            "SELECT body, modified FROM cw_dashboards WHERE account = ? AND name = ?", (account, name)
        )

    def put_dashboard(self, account: str, name: str, body: str, now: float) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO cw_dashboards VALUES (?, ?, ?, ?)", (account, name, body, now)
        )

    def delete_dashboard(self, account: str, name: str) -> None:
        self.db.execute("DELETE FROM cw_dashboards WHERE account = ? AND name = ?", (account, name))

    def dashboards(self, account: str, prefix: str, after: str, limit: int) -> list[tuple[str, str, float]]:
        return self.db.all(
            "SELECT name, body, modified FROM cw_dashboards WHERE account = ? AND substr(name, 1, ?) = ? "
            "AND name > ? ORDER BY name LIMIT ?",
            (account, len(prefix), prefix, after, limit),
        )
