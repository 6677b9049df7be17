"""Organizations' tables and every SQL statement it runs.

An organization is keyed by its id and names its management account; every other row carries its org_id.
Member accounts are unique across organizations (an account is in at most one). Policy attachments are
(target, policy) pairs, the target a root, an OU or an account; the AWS managed FullAWSAccess policy has no row
of its own (it is the same in every organization).
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from overcast.state import Database

MIGRATIONS = [
    """
    CREATE TABLE org_organizations (
        id TEXT PRIMARY KEY, management TEXT NOT NULL UNIQUE, root_id TEXT NOT NULL, feature_set TEXT NOT NULL,
        email TEXT NOT NULL, policy_types TEXT NOT NULL DEFAULT '[]', created REAL NOT NULL
    );
    CREATE TABLE org_accounts (
        account TEXT PRIMARY KEY, org_id TEXT NOT NULL, parent_id TEXT NOT NULL, name TEXT NOT NULL,
        email TEXT NOT NULL, joined_method TEXT NOT NULL, joined REAL NOT NULL
    );
    CREATE INDEX org_accounts_parent ON org_accounts (org_id, parent_id);
    CREATE TABLE org_units (
        id TEXT PRIMARY KEY, org_id TEXT NOT NULL, parent_id TEXT NOT NULL, name TEXT NOT NULL
    );
    CREATE INDEX org_units_parent ON org_units (org_id, parent_id);
    CREATE TABLE org_policies (
        id TEXT PRIMARY KEY, org_id TEXT NOT NULL, name TEXT NOT NULL, description TEXT NOT NULL,
        type TEXT NOT NULL, content TEXT NOT NULL
    );
    CREATE INDEX org_policies_org ON org_policies (org_id, type);
    CREATE TABLE org_attachments (
        org_id TEXT NOT NULL, target_id TEXT NOT NULL, policy_id TEXT NOT NULL,
        PRIMARY KEY (org_id, target_id, policy_id)
    );
    CREATE INDEX org_attachments_policy ON org_attachments (org_id, policy_id);
    CREATE TABLE org_handshakes (
        id TEXT PRIMARY KEY, org_id TEXT NOT NULL, target TEXT NOT NULL, state TEXT NOT NULL,
        requested REAL NOT NULL, expires REAL NOT NULL, notes TEXT
    );
    CREATE INDEX org_handshakes_target ON org_handshakes (target);
    CREATE TABLE org_create_status (
        id TEXT PRIMARY KEY, org_id TEXT NOT NULL, account TEXT NOT NULL, name TEXT NOT NULL, requested REAL NOT NULL
    );
    CREATE TABLE org_tags (
        org_id TEXT NOT NULL, target_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
        PRIMARY KEY (org_id, target_id, key)
    );
    """,
    """
    CREATE TABLE org_service_access (
        org_id TEXT NOT NULL, principal TEXT NOT NULL, enabled REAL NOT NULL, PRIMARY KEY (org_id, principal)
    );
    """,
    """
    CREATE TABLE org_delegated_admins (
        org_id TEXT NOT NULL, account TEXT NOT NULL, principal TEXT NOT NULL, enabled REAL NOT NULL,
        PRIMARY KEY (org_id, account, principal)
    );
    """,
    """
    CREATE TABLE org_resource_policies (
        org_id TEXT PRIMARY KEY, id TEXT NOT NULL, content TEXT NOT NULL
    );
    """,
    # CloseAccount: ACTIVE, or SUSPENDED once closed.
    "ALTER TABLE org_accounts ADD COLUMN status TEXT NOT NULL DEFAULT 'ACTIVE';",
]

# The tables whose rows belong to one organization (deleted with it).
_ORG_TABLES = (
    "org_resource_policies",
    "org_service_access",
    "org_delegated_admins",
    "org_accounts",
    "org_units",
    "org_policies",
    "org_attachments",
    "org_handshakes",
    "org_create_status",
    "org_tags",
)


class Organization(NamedTuple):
    id: str
    management: str  # the management account
    root_id: str
    feature_set: str
    email: str
    policy_types: str  # JSON list of the enabled policy types
    created: float

    @property
    def enabled_types(self) -> list[str]:
        return json.loads(self.policy_types)


class Account(NamedTuple):
    account: str
    org_id: str
    parent_id: str
    name: str
    email: str
    joined_method: str  # CREATED | INVITED
    joined: float
    status: str = "ACTIVE"  # SUSPENDED once closed


class Unit(NamedTuple):
    id: str
    org_id: str
    parent_id: str
    name: str


class Policy(NamedTuple):
    id: str
    org_id: str
    name: str
    description: str
    type: str
    content: str


class Handshake(NamedTuple):
    id: str
    org_id: str
    target: str  # the invited account
    state: str
    requested: float
    expires: float
    notes: str | None


class CreateStatus(NamedTuple):
    id: str
    org_id: str
    account: str
    name: str
    requested: float


_ORG = "SELECT id, management, root_id, feature_set, email, policy_types, created FROM org_organizations"
_ACCOUNT = "SELECT account, org_id, parent_id, name, email, joined_method, joined, status FROM org_accounts"
_UNIT = "SELECT id, org_id, parent_id, name FROM org_units"
_POLICY = "SELECT id, org_id, name, description, type, content FROM org_policies"
_HANDSHAKE = "SELECT id, org_id, target, state, requested, expires, notes FROM org_handshakes"
_STATUS = "SELECT id, org_id, account, name, requested FROM org_create_status"


class OrganizationsStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("organizations", MIGRATIONS)

    # -- organizations -------------------------------------------------------------------------------------

    def organization(self, org_id: str) -> Organization | None:
        row = self.db.one(f"{_ORG} WHERE id = ?", (org_id,))
        return Organization(*row) if row else None

    def organization_of(self, account: str) -> Organization | None:
        """The organization `account` is a member (or the management account) of."""
        row = self.db.one("SELECT org_id FROM org_accounts WHERE account = ?", (account,))
        return self.organization(row[0]) if row else None

    def create_organization(self, org: Organization, management_name: str) -> None:
        """The organization, with its management account as its first member."""
        self.db.execute(
            "INSERT INTO org_organizations VALUES (?, ?, ?, ?, ?, ?, ?)",
            (org.id, org.management, org.root_id, org.feature_set, org.email, org.policy_types, org.created),
        )
        self.add_account(
            Account(org.management, org.id, org.root_id, management_name, org.email, "CREATED", org.created)
        )

    def delete_organization(self, org_id: str) -> None:
        for table in _ORG_TABLES:
            self.db.execute(f"DELETE FROM {table} WHERE org_id = ?", (org_id,))
        self.db.execute("DELETE FROM org_organizations WHERE id = ?", (org_id,))

    def set_policy_types(self, org_id: str, types: list[str]) -> None:
        self.db.execute(
            "UPDATE org_organizations SET policy_types = ? WHERE id = ?", (json.dumps(types), org_id)
        )

    # -- trusted access (AWS services allowed to act across the organization) -------------------------------

    def service_access(self, org_id: str) -> list[tuple[str, float]]:
        """(service principal, when enabled) of every service with trusted access, by principal."""
        return [
            (principal, enabled)
            for principal, enabled in self.db.all(
                "SELECT principal, enabled FROM org_service_access WHERE org_id = ? ORDER BY principal",
                (org_id,),
            )
        ]

    def enable_service_access(self, org_id: str, principal: str, now: float) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO org_service_access (org_id, principal, enabled) VALUES (?, ?, ?)",
            (org_id, principal, now),
        )

    def disable_service_access(self, org_id: str, principal: str) -> None:
        self.db.execute(
            "DELETE FROM org_service_access WHERE org_id = ? AND principal = ?", (org_id, principal)
        )

    # -- the organization's resource policy (what it delegates to member accounts) ----------------------------

    def resource_policy(self, org_id: str) -> tuple[str, str] | None:
        """(id, content) of the organization's resource policy, or None."""
        row = self.db.one("SELECT id, content FROM org_resource_policies WHERE org_id = ?", (org_id,))
        return (row[0], row[1]) if row else None

    def put_resource_policy(self, org_id: str, policy_id: str, content: str) -> None:
        self.db.execute(
            "INSERT INTO org_resource_policies VALUES (?, ?, ?) ON CONFLICT (org_id) DO UPDATE SET content = ?",
            (org_id, policy_id, content, content),
        )

    def delete_resource_policy(self, org_id: str) -> bool:
        return self.db.execute("DELETE FROM org_resource_policies WHERE org_id = ?", (org_id,)).rowcount > 0

    # -- delegated administrators -----------------------------------------------------------------------------

    def delegations(
        self, org_id: str, account: str | None = None, principal: str | None = None
    ) -> list[tuple]:
        """(account, service principal, when registered) rows, optionally of one account or one service."""
        sql = "SELECT account, principal, enabled FROM org_delegated_admins WHERE org_id = ?"
        args: list[Any] = [org_id]
        if account is not None:
            sql += " AND account = ?"
            args.append(account)
        if principal is not None:
            sql += " AND principal = ?"
            args.append(principal)
        return self.db.all(sql + " ORDER BY enabled, account, principal", args)

    def delegate(self, org_id: str, account: str, principal: str, now: float) -> None:
        self.db.execute(
            "INSERT INTO org_delegated_admins VALUES (?, ?, ?, ?)", (org_id, account, principal, now)
        )

    def undelegate(self, org_id: str, account: str, principal: str) -> bool:
        cursor = self.db.execute(
            "DELETE FROM org_delegated_admins WHERE org_id = ? AND account = ? AND principal = ?",
            (org_id, account, principal),
        )
        return cursor.rowcount > 0

    # -- accounts ------------------------------------------------------------------------------------------

    def account(self, org_id: str, account: str) -> Account | None:
        row = self.db.one(f"{_ACCOUNT} WHERE account = ? AND org_id = ?", (account, org_id))
        return Account(*row) if row else None

    def account_exists(self, account: str) -> bool:
        """Whether `account` is a member of any organization."""
        return self.db.one("SELECT 1 FROM org_accounts WHERE account = ?", (account,)) is not None

    def email_taken(self, email: str) -> bool:
        return self.db.one("SELECT 1 FROM org_accounts WHERE email = ?", (email,)) is not None

    def member_count(self, org_id: str) -> int:
        row = self.db.one("SELECT count(*) FROM org_accounts WHERE org_id = ?", (org_id,))
        return row[0] if row else 0

    def accounts(self, org_id: str) -> list[Account]:
        """The organization's accounts in the order they joined."""
        return [
            Account(*r)
            for r in self.db.all(f"{_ACCOUNT} WHERE org_id = ? ORDER BY joined, account", (org_id,))
        ]

    def accounts_under(self, org_id: str, parent_id: str) -> list[Account]:
        rows = self.db.all(
            f"{_ACCOUNT} WHERE org_id = ? AND parent_id = ? ORDER BY account", (org_id, parent_id)
        )
        return [Account(*r) for r in rows]

    def add_account(self, account: Account) -> None:
        self.db.execute("INSERT INTO org_accounts VALUES (?, ?, ?, ?, ?, ?, ?, ?)", tuple(account))

    def close_account(self, account: str) -> None:
        self.db.execute("UPDATE org_accounts SET status = 'SUSPENDED' WHERE account = ?", (account,))

    def move_account(self, account: str, parent_id: str) -> None:
        self.db.execute("UPDATE org_accounts SET parent_id = ? WHERE account = ?", (parent_id, account))

    def remove_account(self, org_id: str, account: str) -> None:
        """`account` leaves the organization, with its policy attachments."""
        self.db.execute("DELETE FROM org_accounts WHERE account = ?", (account,))
        self.db.execute(
            "DELETE FROM org_delegated_admins WHERE org_id = ? AND account = ?", (org_id, account)
        )
        self.detach_all(org_id, account)

    def add_create_status(self, status: CreateStatus) -> None:
        self.db.execute("INSERT INTO org_create_status VALUES (?, ?, ?, ?, ?)", tuple(status))

    def create_status(self, org_id: str, status_id: str) -> CreateStatus | None:
        row = self.db.one(f"{_STATUS} WHERE id = ? AND org_id = ?", (status_id, org_id))
        return CreateStatus(*row) if row else None

    def create_statuses(self, org_id: str) -> list[CreateStatus]:
        return [CreateStatus(*r) for r in self.db.all(f"{_STATUS} WHERE org_id = ?", (org_id,))]

    # -- organizational units ------------------------------------------------------------------------------

    def unit(self, org_id: str, unit_id: str) -> Unit | None:
        row = self.db.one(f"{_UNIT} WHERE id = ? AND org_id = ?", (unit_id, org_id))
        return Unit(*row) if row else None

    def unit_named(self, org_id: str, parent_id: str, name: str) -> bool:
        found = self.db.one(
            "SELECT 1 FROM org_units WHERE org_id = ? AND parent_id = ? AND name = ?",
            (org_id, parent_id, name),
        )
        return found is not None

    def units_under(self, org_id: str, parent_id: str, *, by: str = "name") -> list[Unit]:
        """The OUs directly under a parent, by name (or by id)."""
        order = "id" if by == "id" else "name"
        rows = self.db.all(
            f"{_UNIT} WHERE org_id = ? AND parent_id = ? ORDER BY {order}", (org_id, parent_id)
        )
        return [Unit(*r) for r in rows]

    def unit_ids(self, org_id: str) -> list[str]:
        return [r[0] for r in self.db.all("SELECT id FROM org_units WHERE org_id = ?", (org_id,))]

    def account_ids(self, org_id: str) -> list[str]:
        return [r[0] for r in self.db.all("SELECT account FROM org_accounts WHERE org_id = ?", (org_id,))]

    def add_unit(self, unit: Unit) -> None:
        self.db.execute("INSERT INTO org_units VALUES (?, ?, ?, ?)", tuple(unit))

    def rename_unit(self, unit_id: str, name: str) -> None:
        self.db.execute("UPDATE org_units SET name = ? WHERE id = ?", (name, unit_id))

    def has_children(self, parent_id: str) -> bool:
        found = self.db.one(
            "SELECT 1 FROM org_units WHERE parent_id = ? UNION SELECT 1 FROM org_accounts WHERE parent_id = ?",
            (parent_id, parent_id),
        )
        return found is not None

    def delete_unit(self, org_id: str, unit_id: str) -> None:
        self.db.execute("DELETE FROM org_units WHERE id = ?", (unit_id,))
        self.detach_all(org_id, unit_id)

    def parent_of(self, org_id: str, child_id: str) -> str | None:
        """The parent (root or OU id) of an OU or an account of the organization."""
        if child_id.startswith("ou-"):
            row = self.db.one(
                "SELECT parent_id FROM org_units WHERE id = ? AND org_id = ?", (child_id, org_id)
            )
        else:
            row = self.db.one(
                "SELECT parent_id FROM org_accounts WHERE account = ? AND org_id = ?", (child_id, org_id)
            )
        return row[0] if row else None

    # -- policies and their attachments --------------------------------------------------------------------

    def policy(self, org_id: str, policy_id: str) -> Policy | None:
        row = self.db.one(f"{_POLICY} WHERE id = ? AND org_id = ?", (policy_id, org_id))
        return Policy(*row) if row else None

    def policy_named(self, org_id: str, name: str, kind: str) -> bool:
        found = self.db.one(
            "SELECT 1 FROM org_policies WHERE org_id = ? AND name = ? AND type = ?", (org_id, name, kind)
        )
        return found is not None

    def policies(self, org_id: str, kind: str) -> list[Policy]:
        rows = self.db.all(f"{_POLICY} WHERE org_id = ? AND type = ? ORDER BY name", (org_id, kind))
        return [Policy(*r) for r in rows]

    def add_policy(self, policy: Policy) -> None:
        self.db.execute("INSERT INTO org_policies VALUES (?, ?, ?, ?, ?, ?)", tuple(policy))

    def update_policy(self, policy_id: str, name: str, description: str, content: str) -> None:
        self.db.execute(
            "UPDATE org_policies SET name = ?, description = ?, content = ? WHERE id = ?",
            (name, description, content, policy_id),
        )

    def delete_policy(self, policy_id: str) -> None:
        self.db.execute("DELETE FROM org_policies WHERE id = ?", (policy_id,))

    def attach(self, org_id: str, policy_id: str, target: str) -> None:
        self.db.execute("INSERT OR IGNORE INTO org_attachments VALUES (?, ?, ?)", (org_id, target, policy_id))

    def detach(self, org_id: str, policy_id: str, target: str) -> None:
        self.db.execute(
            "DELETE FROM org_attachments WHERE org_id = ? AND target_id = ? AND policy_id = ?",
            (org_id, target, policy_id),
        )

    def detach_all(self, org_id: str, target: str) -> None:
        self.db.execute("DELETE FROM org_attachments WHERE org_id = ? AND target_id = ?", (org_id, target))

    def detach_type(self, org_id: str, kind: str, also: str) -> None:
        """Detach every policy of type `kind` (and the policy `also`, AWS's own of that type) everywhere."""
        self.db.execute(
            "DELETE FROM org_attachments WHERE org_id = ? AND (policy_id = ? OR policy_id IN "
            "(SELECT id FROM org_policies WHERE org_id = ? AND type = ?))",
            (org_id, also, org_id, kind),
        )

    def attached_to(self, org_id: str, target: str) -> list[str]:
        """The ids of the policies attached to `target`, in id order."""
        rows = self.db.all(
            "SELECT policy_id FROM org_attachments WHERE org_id = ? AND target_id = ? ORDER BY policy_id",
            (org_id, target),
        )
        return [r[0] for r in rows]

    def targets_of(self, org_id: str, policy_id: str) -> list[str]:
        rows = self.db.all(
            "SELECT target_id FROM org_attachments WHERE org_id = ? AND policy_id = ? ORDER BY target_id",
            (org_id, policy_id),
        )
        return [r[0] for r in rows]

    def is_attached(self, org_id: str, policy_id: str, target: str | None = None) -> bool:
        """Whether the policy is attached to `target` (to anything, when None)."""
        sql, args = "SELECT 1 FROM org_attachments WHERE org_id = ? AND policy_id = ?", [org_id, policy_id]
        if target is not None:
            sql += " AND target_id = ?"
            args.append(target)
        return self.db.one(sql, args) is not None

    # -- handshakes ----------------------------------------------------------------------------------------

    def handshake(self, handshake_id: str) -> Handshake | None:
        row = self.db.one(f"{_HANDSHAKE} WHERE id = ?", (handshake_id,))
        return Handshake(*row) if row else None

    def add_handshake(self, handshake: Handshake) -> None:
        self.db.execute("INSERT INTO org_handshakes VALUES (?, ?, ?, ?, ?, ?, ?)", tuple(handshake))

    def set_handshake_state(self, handshake_id: str, state: str) -> None:
        self.db.execute("UPDATE org_handshakes SET state = ? WHERE id = ?", (state, handshake_id))

    def handshakes_for_account(self, account: str) -> list[str]:
        rows = self.db.all("SELECT id FROM org_handshakes WHERE target = ? ORDER BY requested", (account,))
        return [r[0] for r in rows]

    def handshakes_of(self, org_id: str) -> list[str]:
        rows = self.db.all("SELECT id FROM org_handshakes WHERE org_id = ? ORDER BY requested", (org_id,))
        return [r[0] for r in rows]

    # -- tags ----------------------------------------------------------------------------------------------

    def tags(self, org_id: str, target: str) -> list[tuple[str, str]]:
        return self.db.all(
            "SELECT key, value FROM org_tags WHERE org_id = ? AND target_id = ? ORDER BY key",
            (org_id, target),
        )

    def put_tags(self, org_id: str, target: str, tags: list[tuple[str, str]]) -> None:
        self.db.executemany(
            "INSERT INTO org_tags VALUES (?, ?, ?, ?) ON CONFLICT (org_id, target_id, key) "
            "DO UPDATE SET value = excluded.value",
            [(org_id, target, key, value) for key, value in tags],
        )

    def remove_tags(self, org_id: str, target: str, keys: list[str]) -> None:
        self.db.executemany(
            "DELETE FROM org_tags WHERE org_id = ? AND target_id = ? AND key = ?",
            [(org_id, target, key) for key in keys],
        )
