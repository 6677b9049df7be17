"""EC2's VPC tables and every SQL statement they take.

Every resource (VPC, subnet, route table, gateway, interface, ...) is one row of `ec2_resources`: its id, its
scope (account, region), its kind, the ids it hangs off (VPC, subnet, parent) and its description as AWS gives
it (`body`, JSON, without tags: those are in the kit's table). Describe calls walk one kind of one account and
region in insertion order (`rowid`), which is also their paging position. Security group rules, the private
addresses interfaces hold in their subnet, the public addresses in use and the timed work (NAT gateways and
peering connections changing state on the clock) have tables of their own, indexed for the questions asked of
them (which rules reference a group, the lowest free address of a subnet, what is due now).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from overcast.state import Database

MIGRATIONS = [
    """
    CREATE TABLE ec2_resources (
        id TEXT PRIMARY KEY,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        kind TEXT NOT NULL,
        vpc_id TEXT,
        subnet_id TEXT,
        parent_id TEXT,
        name TEXT,
        shared_account TEXT,
        shared_region TEXT,
        body TEXT NOT NULL
    );
    CREATE INDEX ec2_resources_scope ON ec2_resources (account, region, kind);
    CREATE INDEX ec2_resources_vpc ON ec2_resources (vpc_id, kind) WHERE vpc_id IS NOT NULL;
    CREATE INDEX ec2_resources_subnet ON ec2_resources (subnet_id, kind) WHERE subnet_id IS NOT NULL;
    CREATE INDEX ec2_resources_parent ON ec2_resources (parent_id, kind) WHERE parent_id IS NOT NULL;
    CREATE INDEX ec2_resources_name ON ec2_resources (account, region, kind, name) WHERE name IS NOT NULL;
    CREATE INDEX ec2_resources_shared ON ec2_resources (shared_account, shared_region, kind)
        WHERE shared_account IS NOT NULL;
    CREATE TABLE ec2_sg_rules (
        id TEXT PRIMARY KEY,
        group_id TEXT NOT NULL,
        egress INTEGER NOT NULL,
        referenced_group TEXT,
        body TEXT NOT NULL
    );
    CREATE INDEX ec2_sg_rules_group ON ec2_sg_rules (group_id, egress);
    CREATE INDEX ec2_sg_rules_referenced ON ec2_sg_rules (referenced_group) WHERE referenced_group IS NOT NULL;
    CREATE TABLE ec2_private_ips (
        subnet_id TEXT NOT NULL,
        ip INTEGER NOT NULL,
        holder TEXT NOT NULL,
        PRIMARY KEY (subnet_id, ip)
    ) WITHOUT ROWID;
    CREATE INDEX ec2_private_ips_holder ON ec2_private_ips (holder);
    CREATE TABLE ec2_public_addresses (
        address TEXT PRIMARY KEY,
        holder TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE ec2_timers (
        resource_id TEXT NOT NULL,
        action TEXT NOT NULL,
        due REAL NOT NULL,
        PRIMARY KEY (resource_id, action)
    ) WITHOUT ROWID;
    CREATE INDEX ec2_timers_due ON ec2_timers (due);
    CREATE TABLE ec2_regions (
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        PRIMARY KEY (account, region)
    ) WITHOUT ROWID;
    """,
    "CREATE INDEX ec2_resources_instances ON ec2_resources (kind) WHERE kind = 'instance'",
]

COLUMNS = "rowid, id, account, region, kind, vpc_id, subnet_id, parent_id, name, shared_account, shared_region, body"


@dataclass
class Resource:
    id: str
    account: str
    region: str
    kind: str
    body: dict[str, Any]
    vpc_id: str | None = None
    subnet_id: str | None = None
    parent_id: str | None = None
    name: str | None = None
    shared_account: str | None = None
    shared_region: str | None = None
    position: int = 0  # rowid: insertion order, the paging position

    @classmethod
    def from_row(cls, row: tuple) -> Resource:
        position, rid, account, region, kind, vpc, subnet, parent, name, s_account, s_region, body = row
        return cls(rid, account, region, kind, json.loads(body), vpc, subnet, parent, name, s_account, s_region,
                   position)  # fmt: skip


@dataclass
class Rule:
    id: str
    group_id: str
    egress: bool
    body: dict[str, Any] = field(default_factory=dict)
    referenced_group: str | None = None


class Ec2Store:
    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("ec2", MIGRATIONS)

    # -- resources -------------------------------------------------------------------------------------

    def insert(self, resource: Resource) -> Resource:
        cursor = self.db.execute(
            "INSERT INTO ec2_resources (id, account, region, kind, vpc_id, subnet_id, parent_id, name, "
            "shared_account, shared_region, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                resource.id, resource.account, resource.region, resource.kind, resource.vpc_id,
                resource.subnet_id, resource.parent_id, resource.name, resource.shared_account,
                resource.shared_region, json.dumps(resource.body, separators=(",", ":")),
            ),
        )  # fmt: skip
        resource.position = cursor.lastrowid or 0
        return resource

    def save(self, resource: Resource) -> None:
        """Write back a resource's description and links (after changing them)."""
        self.db.execute(
            "UPDATE ec2_resources SET body = ?, vpc_id = ?, subnet_id = ?, parent_id = ?, name = ?, "
            "shared_account = ?, shared_region = ? WHERE id = ?",
            (
                json.dumps(resource.body, separators=(",", ":")), resource.vpc_id, resource.subnet_id,
                resource.parent_id, resource.name, resource.shared_account, resource.shared_region, resource.id,
            ),
        )  # fmt: skip

    def delete(self, resource_id: str) -> None:
        self.db.execute("DELETE FROM ec2_resources WHERE id = ?", (resource_id,))

    def get(self, resource_id: str) -> Resource | None:
        row = self.db.one(f"SELECT {COLUMNS} FROM ec2_resources WHERE id = ?", (resource_id,))
        return Resource.from_row(row) if row else None

    def page(self, account: str, region: str, kind: str, after: int, limit: int) -> list[Resource]:
        """Up to `limit` resources of a kind in an account and region, in insertion order after `after`, with
        those shared into the account and region (peering connections requested by another account)."""
        rows = self.db.all(
            f"SELECT {COLUMNS} FROM ec2_resources WHERE account = ? AND region = ? AND kind = ? AND rowid > ? "
            f"UNION ALL SELECT {COLUMNS} FROM ec2_resources WHERE shared_account = ? AND shared_region = ? "
            "AND kind = ? AND rowid > ? AND NOT (account = ? AND region = ?) ORDER BY 1 LIMIT ?",
            (account, region, kind, after, account, region, kind, after, account, region, limit),
        )
        return [Resource.from_row(row) for row in rows]

    def vcpus_running(self, account: str, region: str) -> int:
        """vCPUs of the instances of an account and region that count against the quota (not stopped or
        terminated), summed in SQLite: RunInstances asks this every time."""
        row = self.db.one(
            "SELECT SUM(json_extract(body, '$.CpuOptions.CoreCount') * json_extract(body, '$.CpuOptions.ThreadsPerCore')) "
            "FROM ec2_resources WHERE account = ? AND region = ? AND kind = 'instance' "
            "AND json_extract(body, '$.State.Name') IN ('pending', 'running', 'stopping')",
            (account, region),
        )
        return int(row[0] or 0) if row else 0

    def running_instances(self) -> list[Resource]:
        """Every running instance of every account and region (their metrics, each minute)."""
        rows = self.db.all(
            f"SELECT {COLUMNS} FROM ec2_resources WHERE kind = 'instance' "
            "AND json_extract(body, '$.State.Name') = 'running' ORDER BY rowid"
        )
        return [Resource.from_row(row) for row in rows]

    def of_kind(self, kind: str) -> list[Resource]:
        """Every resource of a kind in every account and region (instances to boot again after a restart)."""
        rows = self.db.all(f"SELECT {COLUMNS} FROM ec2_resources WHERE kind = ? ORDER BY rowid", (kind,))
        return [Resource.from_row(row) for row in rows]

    def in_vpc(self, vpc_id: str, kind: str) -> list[Resource]:
        rows = self.db.all(
            f"SELECT {COLUMNS} FROM ec2_resources WHERE vpc_id = ? AND kind = ? ORDER BY rowid",
            (vpc_id, kind),
        )
        return [Resource.from_row(row) for row in rows]

    def in_subnet(self, subnet_id: str, kind: str) -> list[Resource]:
        rows = self.db.all(
            f"SELECT {COLUMNS} FROM ec2_resources WHERE subnet_id = ? AND kind = ? ORDER BY rowid",
            (subnet_id, kind),
        )
        return [Resource.from_row(row) for row in rows]

    def children(self, parent_id: str, kind: str) -> list[Resource]:
        rows = self.db.all(
            f"SELECT {COLUMNS} FROM ec2_resources WHERE parent_id = ? AND kind = ? ORDER BY rowid",
            (parent_id, kind),
        )
        return [Resource.from_row(row) for row in rows]

    def children_of(self, parent_ids: list[str], kind: str) -> dict[str, list[Resource]]:
        """{parent id: its children of a kind} for many parents at once."""
        found: dict[str, list[Resource]] = {p: [] for p in parent_ids}
        for chunk in _chunks(parent_ids):
            rows = self.db.all(
                f"SELECT {COLUMNS} FROM ec2_resources WHERE parent_id IN ({_marks(chunk)}) AND kind = ? ORDER BY rowid",
                (*chunk, kind),
            )
            for row in rows:
                child = Resource.from_row(row)
                found[child.parent_id or ""].append(child)
        return found

    def named(self, account: str, region: str, kind: str, name: str) -> list[Resource]:
        rows = self.db.all(
            f"SELECT {COLUMNS} FROM ec2_resources WHERE account = ? AND region = ? AND kind = ? AND name = ? "
            "ORDER BY rowid",
            (account, region, kind, name),
        )
        return [Resource.from_row(row) for row in rows]

    def count(self, account: str, region: str, kind: str) -> int:
        return self.db.one(
            "SELECT COUNT(*) FROM ec2_resources WHERE account = ? AND region = ? AND kind = ?",
            (account, region, kind),
        )[0]

    # -- security group rules --------------------------------------------------------------------------

    def add_rule(self, rule: Rule) -> None:
        self.db.execute(
            "INSERT INTO ec2_sg_rules (id, group_id, egress, referenced_group, body) VALUES (?, ?, ?, ?, ?)",
            (rule.id, rule.group_id, int(rule.egress), rule.referenced_group, json.dumps(rule.body)),
        )

    def save_rule(self, rule: Rule) -> None:
        self.db.execute(
            "UPDATE ec2_sg_rules SET body = ?, referenced_group = ? WHERE id = ?",
            (json.dumps(rule.body), rule.referenced_group, rule.id),
        )

    def rules(self, group_id: str, egress: bool | None = None) -> list[Rule]:
        if egress is None:
            rows = self.db.all(
                "SELECT id, group_id, egress, referenced_group, body FROM ec2_sg_rules WHERE group_id = ? "
                "ORDER BY rowid",
                (group_id,),
            )
        else:
            rows = self.db.all(
                "SELECT id, group_id, egress, referenced_group, body FROM ec2_sg_rules "
                "WHERE group_id = ? AND egress = ? ORDER BY rowid",
                (group_id, int(egress)),
            )
        return [Rule(r[0], r[1], bool(r[2]), json.loads(r[4]), r[3]) for r in rows]

    def rules_of(self, group_ids: list[str]) -> dict[str, list[Rule]]:
        """{group id: its rules} for many groups at once."""
        found: dict[str, list[Rule]] = {g: [] for g in group_ids}
        for chunk in _chunks(group_ids):
            rows = self.db.all(
                "SELECT id, group_id, egress, referenced_group, body FROM ec2_sg_rules "
                f"WHERE group_id IN ({_marks(chunk)}) ORDER BY rowid",
                chunk,
            )
            for r in rows:
                found[r[1]].append(Rule(r[0], r[1], bool(r[2]), json.loads(r[4]), r[3]))
        return found

    def rule(self, rule_id: str) -> Rule | None:
        row = self.db.one(
            "SELECT id, group_id, egress, referenced_group, body FROM ec2_sg_rules WHERE id = ?", (rule_id,)
        )
        return Rule(row[0], row[1], bool(row[2]), json.loads(row[4]), row[3]) if row else None

    def delete_rule(self, rule_id: str) -> None:
        self.db.execute("DELETE FROM ec2_sg_rules WHERE id = ?", (rule_id,))

    def delete_rules_of(self, group_id: str) -> None:
        self.db.execute("DELETE FROM ec2_sg_rules WHERE group_id = ?", (group_id,))

    def groups_referencing(self, group_id: str) -> list[str]:
        """Other groups with a rule naming `group_id` as its peer."""
        return [
            row[0]
            for row in self.db.all(
                "SELECT DISTINCT group_id FROM ec2_sg_rules WHERE referenced_group = ? AND group_id != ?",
                (group_id, group_id),
            )
        ]

    # -- private addresses in subnets ------------------------------------------------------------------

    def take_ip(self, subnet_id: str, ip: int, holder: str) -> bool:
        """Claim an address of a subnet for `holder`; False when it is taken."""
        cursor = self.db.execute(
            "INSERT OR IGNORE INTO ec2_private_ips (subnet_id, ip, holder) VALUES (?, ?, ?)",
            (subnet_id, ip, holder),
        )
        return cursor.rowcount == 1

    def lowest_free_ip(self, subnet_id: str, low: int, high: int) -> int | None:
        """The lowest address in [low, high] no one holds: `low` itself, or the first gap after a held one."""
        taken = self.db.one("SELECT 1 FROM ec2_private_ips WHERE subnet_id = ? AND ip = ?", (subnet_id, low))
        if not taken:
            return low
        row = self.db.one(
            "SELECT a.ip + 1 FROM ec2_private_ips AS a WHERE a.subnet_id = ? AND a.ip >= ? AND a.ip < ? "
            "AND NOT EXISTS (SELECT 1 FROM ec2_private_ips AS b WHERE b.subnet_id = a.subnet_id AND b.ip = a.ip + 1) "
            "ORDER BY a.ip LIMIT 1",
            (subnet_id, low, high),
        )
        return row[0] if row else None

    def used_ips(self, subnet_id: str) -> int:
        return self.db.one("SELECT COUNT(*) FROM ec2_private_ips WHERE subnet_id = ?", (subnet_id,))[0]

    def used_ips_of(self, subnet_ids: list[str]) -> dict[str, int]:
        """{subnet id: addresses held} for many subnets at once."""
        found = dict.fromkeys(subnet_ids, 0)
        for chunk in _chunks(subnet_ids):
            rows = self.db.all(
                f"SELECT subnet_id, COUNT(*) FROM ec2_private_ips WHERE subnet_id IN ({_marks(chunk)}) GROUP BY subnet_id",
                chunk,
            )
            found.update(dict(rows))
        return found

    def holders_of_ip(self, ip: int) -> list[tuple[str, str]]:
        """(subnet id, holder) of every subnet where an address is held (VPCs may overlap)."""
        return [
            (r[0], r[1])
            for r in self.db.all("SELECT subnet_id, holder FROM ec2_private_ips WHERE ip = ?", (ip,))
        ]

    def release_ip(self, subnet_id: str, ip: int) -> None:
        self.db.execute("DELETE FROM ec2_private_ips WHERE subnet_id = ? AND ip = ?", (subnet_id, ip))

    def release_ips_of(self, holder: str) -> None:
        self.db.execute("DELETE FROM ec2_private_ips WHERE holder = ?", (holder,))

    # -- public addresses ------------------------------------------------------------------------------

    def claim_public(self, address: str, holder: str) -> bool:
        cursor = self.db.execute(
            "INSERT OR IGNORE INTO ec2_public_addresses (address, holder) VALUES (?, ?)", (address, holder)
        )
        return cursor.rowcount == 1

    def release_public(self, address: str) -> None:
        self.db.execute("DELETE FROM ec2_public_addresses WHERE address = ?", (address,))

    # -- timed work ------------------------------------------------------------------------------------

    def schedule(self, resource_id: str, action: str, due: float) -> None:
        self.db.execute(
            "INSERT INTO ec2_timers (resource_id, action, due) VALUES (?, ?, ?) "
            "ON CONFLICT (resource_id, action) DO UPDATE SET due = excluded.due",
            (resource_id, action, due),
        )

    def cancel(self, resource_id: str, action: str | None = None) -> None:
        if action is None:
            self.db.execute("DELETE FROM ec2_timers WHERE resource_id = ?", (resource_id,))
        else:
            self.db.execute(
                "DELETE FROM ec2_timers WHERE resource_id = ? AND action = ?", (resource_id, action)
            )

    def due(self, now: float, limit: int = 100) -> list[tuple[str, str]]:
        return [
            (row[0], row[1])
            for row in self.db.all(
                "SELECT resource_id, action FROM ec2_timers WHERE due <= ? ORDER BY due LIMIT ?", (now, limit)
            )
        ]

    def next_due(self) -> float | None:
        row = self.db.one("SELECT MIN(due) FROM ec2_timers")
        return row[0] if row else None

    # -- regions set up --------------------------------------------------------------------------------

    def region_ready(self, account: str, region: str) -> bool:
        return (
            self.db.one("SELECT 1 FROM ec2_regions WHERE account = ? AND region = ?", (account, region))
            is not None
        )

    def mark_region_ready(self, account: str, region: str) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO ec2_regions (account, region) VALUES (?, ?)", (account, region)
        )


def _chunks(ids: list[str], size: int = 500) -> list[list[str]]:
    return [ids[start : start + size] for start in range(0, len(ids), size)]


def _marks(chunk: list[str]) -> str:
    return ",".join("?" * len(chunk))
