"""The kit's own table: resource tags of every service (SQL lives here, as in every service's store.py)."""

from __future__ import annotations

from collections.abc import Iterable

from overcast.state import Database

MIGRATIONS = [
    """
    CREATE TABLE resource_tags (
        arn TEXT NOT NULL,
        tag_key TEXT NOT NULL,
        tag_value TEXT NOT NULL,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        service TEXT NOT NULL,
        resource_type TEXT NOT NULL,
        position INTEGER NOT NULL,
        PRIMARY KEY (arn, tag_key)
    ) WITHOUT ROWID;
    CREATE INDEX resource_tags_scope ON resource_tags (account, region, service, resource_type, arn);
    """
]


class TagStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("kit_tags", MIGRATIONS)

    def tags(self, arn: str) -> dict[str, str]:
        rows = self.db.all(
            "SELECT tag_key, tag_value FROM resource_tags WHERE arn = ? ORDER BY position, tag_key", (arn,)
        )
        return dict(rows)

    def tags_of(self, arns: list[str]) -> dict[str, dict[str, str]]:
        """The tags of many resources in one query per 500 ARNs: {arn: tags} (untagged ARNs are left out)."""
        found: dict[str, dict[str, str]] = {}
        for start in range(0, len(arns), 500):
            chunk = arns[start : start + 500]
            rows = self.db.all(
                f"SELECT arn, tag_key, tag_value FROM resource_tags WHERE arn IN ({','.join('?' * len(chunk))}) "
                "ORDER BY arn, position, tag_key",
                chunk,
            )
            for arn, key, value in rows:
                found.setdefault(arn, {})[key] = value
        return found

    def put(
        self,
        arn: str,
        tags: dict[str, str],
        *,
        account: str,
        region: str,
        service: str,
        resource_type: str,
    ) -> None:
        """Set `tags` on `arn` (others it has stay), keeping each key's first position."""
        start = self.db.one(
            "SELECT COALESCE(MAX(position), -1) + 1 FROM resource_tags WHERE arn = ?", (arn,)
        )[0]
        self.db.executemany(
            "INSERT INTO resource_tags VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (arn, tag_key) DO UPDATE SET tag_value = excluded.tag_value",
            [
                (arn, key, value, account, region, service, resource_type, start + i)
                for i, (key, value) in enumerate(tags.items())
            ],
        )

    def remove(self, arn: str, keys: Iterable[str]) -> None:
        self.db.executemany(
            "DELETE FROM resource_tags WHERE arn = ? AND tag_key = ?", [(arn, key) for key in keys]
        )

    def forget(self, arn: str) -> None:
        self.db.execute("DELETE FROM resource_tags WHERE arn = ?", (arn,))

    def tagged(
        self,
        account: str,
        region: str,
        types: list[tuple[str, str | None]],
        after: str,
        limit: int,
    ) -> list[tuple[str, dict[str, str]]]:
        """Up to `limit` tagged resources of an account and region, in ARN order after `after`, with their tags;
        `types`: (service, resource type or None for any) pairs, any of which a resource matches (all if empty)."""
        where = "account = ? AND region = ? AND arn > ?"
        args: list[object] = [account, region, after]
        if types:
            alternatives = []
            for service, resource_type in types:
                alternatives.append("(service = ?" + (" AND resource_type = ?)" if resource_type else ")"))
                args.extend([service, resource_type] if resource_type else [service])
            where += f" AND ({' OR '.join(alternatives)})"
        arns = [
            arn
            for (arn,) in self.db.all(
                f"SELECT DISTINCT arn FROM resource_tags WHERE {where} ORDER BY arn LIMIT ?", (*args, limit)
            )
        ]
        return [(arn, self.tags(arn)) for arn in arns]

    def keys(self, account: str, region: str) -> list[str]:
        return [
            key
            for (key,) in self.db.all(
                "SELECT DISTINCT tag_key FROM resource_tags WHERE account = ? AND region = ? ORDER BY tag_key",
                (account, region),
            )
        ]

    def values(self, account: str, region: str, key: str) -> list[str]:
        return [
            value
            for (value,) in self.db.all(
                "SELECT DISTINCT tag_value FROM resource_tags WHERE account = ? AND region = ? AND tag_key = ? "
                "ORDER BY tag_value",
                (account, region, key),
            )
        ]
