"""The policy engine's own table: under `--iam soft`, the calls each principal made and whether its policies
allowed them (the least-privilege report is made from it). Created on first use: other modes never write it."""

from __future__ import annotations

from overcast.state import Database

SOFT_MIGRATIONS = [
    """
    CREATE TABLE policy_observations (
        principal TEXT NOT NULL, action TEXT NOT NULL, resource TEXT NOT NULL, allowed INTEGER NOT NULL,
        calls INTEGER NOT NULL,
        PRIMARY KEY (principal, action, resource)
    );
    """
]


class ObservationStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._ready = False

    def _migrate(self) -> None:
        if not self._ready:
            self.db.migrate("policy", SOFT_MIGRATIONS)
            self._ready = True

    def observe(self, principal: str, action: str, resource: str, allowed: bool) -> None:
        """One more call of `principal`; `allowed` is what its policies decided for the latest one."""
        self._migrate()
        self.db.execute(
            "INSERT INTO policy_observations VALUES (?, ?, ?, ?, 1) ON CONFLICT (principal, action, resource) "
            "DO UPDATE SET calls = calls + 1, allowed = excluded.allowed",
            (principal, action, resource, int(allowed)),
        )

    def observations(self) -> list[tuple[str, str, str, int, int]]:
        """(principal, action, resource, allowed, calls) of every call observed, in that order."""
        self._migrate()
        return self.db.all(
            "SELECT principal, action, resource, allowed, calls FROM policy_observations ORDER BY 1, 2, 3"
        )
