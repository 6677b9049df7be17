"""Route 53's tables and every SQL statement of the service.

Record sets are rows keyed by (zone, name, type, set identifier), with the API document (JSON) and the sort key
AWS lists them by (the name's labels reversed). Health checks keep their last results beside their settings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from overcast.state import Database

MIGRATIONS = [
    """
    CREATE TABLE r53_zones (
        id TEXT PRIMARY KEY, account TEXT NOT NULL, name TEXT NOT NULL, sort_key TEXT NOT NULL,
        caller_reference TEXT NOT NULL, comment TEXT, private INTEGER NOT NULL, name_servers TEXT NOT NULL,
        created REAL NOT NULL, delegation_set TEXT
    );
    CREATE UNIQUE INDEX r53_zones_reference ON r53_zones (account, caller_reference);
    CREATE INDEX r53_zones_name ON r53_zones (name);
    CREATE INDEX r53_zones_sorted ON r53_zones (account, sort_key, id);

    CREATE TABLE r53_zone_vpcs (
        zone_id TEXT NOT NULL, vpc_id TEXT NOT NULL, vpc_region TEXT NOT NULL,
        PRIMARY KEY (zone_id, vpc_id, vpc_region)
    ) WITHOUT ROWID;

    CREATE TABLE r53_records (
        zone_id TEXT NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL, set_id TEXT NOT NULL,
        sort_key TEXT NOT NULL, doc TEXT NOT NULL,
        PRIMARY KEY (zone_id, name, type, set_id)
    ) WITHOUT ROWID;
    CREATE INDEX r53_records_sorted ON r53_records (zone_id, sort_key, type, set_id);

    CREATE TABLE r53_changes (
        id TEXT PRIMARY KEY, account TEXT NOT NULL, submitted REAL NOT NULL, comment TEXT
    );

    CREATE TABLE r53_health_checks (
        id TEXT PRIMARY KEY, account TEXT NOT NULL, caller_reference TEXT NOT NULL, config TEXT NOT NULL,
        version INTEGER NOT NULL, created REAL NOT NULL, healthy INTEGER NOT NULL DEFAULT 1,
        passes INTEGER NOT NULL DEFAULT 0, failures INTEGER NOT NULL DEFAULT 0, observation TEXT,
        last_failure TEXT, checked REAL, next_check REAL
    );
    CREATE UNIQUE INDEX r53_health_checks_reference ON r53_health_checks (account, caller_reference);
    CREATE INDEX r53_health_checks_due ON r53_health_checks (next_check) WHERE next_check IS NOT NULL;

    CREATE TABLE r53_query_logging (
        id TEXT PRIMARY KEY, account TEXT NOT NULL, zone_id TEXT NOT NULL UNIQUE, log_group_arn TEXT NOT NULL
    );

    CREATE TABLE r53_cidr_collections (
        id TEXT PRIMARY KEY, account TEXT NOT NULL, name TEXT NOT NULL, version INTEGER NOT NULL,
        caller_reference TEXT NOT NULL
    );
    CREATE TABLE r53_cidr_blocks (
        collection_id TEXT NOT NULL, location TEXT NOT NULL, cidr TEXT NOT NULL,
        PRIMARY KEY (collection_id, location, cidr)
    ) WITHOUT ROWID;

    CREATE TABLE r53_key_signing_keys (
        zone_id TEXT NOT NULL, name TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (zone_id, name)
    ) WITHOUT ROWID;
    CREATE TABLE r53_dnssec (zone_id TEXT PRIMARY KEY, status TEXT NOT NULL);
    """,
    # ACM looks for its validation CNAMEs by name and type in every zone
    "CREATE INDEX r53_records_name ON r53_records (name, type);",
    # reusable delegation sets; VPCs of other accounts authorized to be associated with a private zone
    """
    CREATE TABLE r53_delegation_sets (
        id TEXT PRIMARY KEY, account TEXT NOT NULL, caller_reference TEXT NOT NULL, name_servers TEXT NOT NULL,
        created REAL NOT NULL
    );
    CREATE UNIQUE INDEX r53_delegation_sets_reference ON r53_delegation_sets (account, caller_reference);
    CREATE INDEX r53_zones_delegation_set ON r53_zones (delegation_set) WHERE delegation_set IS NOT NULL;
    CREATE TABLE r53_vpc_authorizations (
        zone_id TEXT NOT NULL, vpc_id TEXT NOT NULL, vpc_region TEXT NOT NULL,
        PRIMARY KEY (zone_id, vpc_id, vpc_region)
    );
    """,  # traffic policies (versions of a document) and their instances (a record set answered by the document)
    """
    CREATE TABLE r53_traffic_policies (
        id TEXT NOT NULL, version INTEGER NOT NULL, account TEXT NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL,
        document TEXT NOT NULL, comment TEXT, PRIMARY KEY (id, version)
    );
    CREATE INDEX r53_traffic_policies_account ON r53_traffic_policies (account, id);
    CREATE TABLE r53_traffic_policy_instances (
        id TEXT PRIMARY KEY, account TEXT NOT NULL, zone_id TEXT NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL,
        ttl INTEGER NOT NULL, policy_id TEXT NOT NULL, policy_version INTEGER NOT NULL, changed REAL NOT NULL
    );
    CREATE INDEX r53_traffic_policy_instances_zone ON r53_traffic_policy_instances (zone_id, name, type);
    CREATE INDEX r53_traffic_policy_instances_policy ON r53_traffic_policy_instances (policy_id, policy_version);
    """,
    # ListHostedZones' order, so that a page reads only its own rows
    "CREATE INDEX r53_zones_created ON r53_zones (account, created, id);",
]


@dataclass
class Zone:
    id: str
    account: str
    name: str
    sort_key: str
    caller_reference: str
    comment: str | None
    private: bool
    name_servers: list[str]
    created: float
    delegation_set: str | None


@dataclass
class HealthCheck:
    id: str
    account: str
    caller_reference: str
    config: dict[str, Any]
    version: int
    created: float
    healthy: bool
    passes: int
    failures: int
    observation: str | None
    last_failure: str | None
    checked: float | None
    next_check: float | None


_ZONE = (
    "id, account, name, sort_key, caller_reference, comment, private, name_servers, created, delegation_set"
)
_CHECK = (
    "id, account, caller_reference, config, version, created, healthy, passes, failures, observation, last_failure, "
    "checked, next_check"
)


def _zone(row: tuple | None) -> Zone | None:
    if row is None:
        return None
    return Zone(
        row[0], row[1], row[2], row[3], row[4], row[5], bool(row[6]), json.loads(row[7]), row[8], row[9]
    )


_INSTANCE = "id, zone_id, name, type, ttl, policy_id, policy_version"


def _policy(row: tuple) -> dict[str, Any]:
    policy = {"Id": row[0], "Version": row[1], "Name": row[2], "Type": row[3], "Document": row[4]}
    if row[5] is not None:
        policy["Comment"] = row[5]
    return policy


def _instance(row: tuple) -> dict[str, Any]:
    return {"Id": row[0], "HostedZoneId": row[1], "Name": row[2], "TrafficPolicyType": row[3], "TTL": row[4],
            "TrafficPolicyId": row[5], "TrafficPolicyVersion": row[6]}  # fmt: skip


def _check(row: tuple | None) -> HealthCheck | None:
    if row is None:
        return None
    return HealthCheck(row[0], row[1], row[2], json.loads(row[3]), row[4], row[5], bool(row[6]), *row[7:])


class Route53Store:
    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("route53", MIGRATIONS)

    # -- zones ------------------------------------------------------------------------------------------------

    def put_zone(self, zone: Zone) -> None:
        z = zone
        self.db.execute(
            f"INSERT OR REPLACE INTO r53_zones ({_ZONE}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (z.id, z.account, z.name, z.sort_key, z.caller_reference, z.comment, int(z.private),
             json.dumps(z.name_servers), z.created, z.delegation_set),
        )  # fmt: skip

    def zone(self, zone_id: str) -> Zone | None:
        return _zone(self.db.one(f"SELECT {_ZONE} FROM r53_zones WHERE id = ?", (zone_id,)))

    def zone_by_reference(self, account: str, reference: str) -> Zone | None:
        return _zone(
            self.db.one(
                f"SELECT {_ZONE} FROM r53_zones WHERE account = ? AND caller_reference = ?",
                (account, reference),
            )
        )

    def zone_position(self, account: str, zone_id: str, private_only: bool) -> tuple[float, str] | None:
        """Where a zone stands in ListHostedZones' order (None: not one of the account's, of that type)."""
        row = self.db.one(
            "SELECT created, id FROM r53_zones WHERE account = ? AND id = ? AND (private = 1 OR ?)",
            (account, zone_id, not private_only),
        )
        return (row[0], row[1]) if row else None

    def zones_page(
        self, account: str, private_only: bool, position: tuple[float, str] | None, limit: int
    ) -> list[tuple[Zone, int]]:
        """Up to `limit` of the account's zones from `position` on, oldest first, each with its record count
        (one statement for the page)."""
        created, zone_id = position or (float("-inf"), "")
        rows = self.db.all(
            f"SELECT {_ZONE}, (SELECT COUNT(*) FROM r53_records WHERE zone_id = r53_zones.id) FROM r53_zones "
            "WHERE account = ? AND (private = 1 OR ?) AND (created, id) >= (?, ?) ORDER BY created, id LIMIT ?",
            (account, not private_only, created, zone_id, limit),
        )
        return [(_zone(row[:-1]), row[-1]) for row in rows]  # type: ignore[misc]

    def zones_by_name(self, account: str) -> list[Zone]:
        rows = self.db.all(
            f"SELECT {_ZONE} FROM r53_zones WHERE account = ? ORDER BY sort_key, id", (account,)
        )
        return [_zone(row) for row in rows]  # type: ignore[misc]

    def zones_named(self, name: str) -> list[Zone]:
        """Every account's zones of exactly this name, oldest first."""
        rows = self.db.all(f"SELECT {_ZONE} FROM r53_zones WHERE name = ? ORDER BY created, id", (name,))
        return [_zone(row) for row in rows]  # type: ignore[misc]

    def public_zones(self) -> list[tuple[str, str]]:
        """(id, name) of every account's public zones, newest first (the oldest of a name is met last)."""
        return [
            (row[0], row[1])
            for row in self.db.all(
                "SELECT id, name FROM r53_zones WHERE private = 0 ORDER BY created DESC, id DESC"
            )
        ]

    def count_zones(self, account: str) -> int:
        return self.db.one("SELECT COUNT(*) FROM r53_zones WHERE account = ?", (account,))[0]

    def delete_zone(self, zone_id: str) -> None:
        for table, column in (("r53_records", "zone_id"), ("r53_zone_vpcs", "zone_id"), ("r53_query_logging", "zone_id"),
                              ("r53_vpc_authorizations", "zone_id"),
                              ("r53_key_signing_keys", "zone_id"), ("r53_dnssec", "zone_id"), ("r53_zones", "id")):  # fmt: skip
            self.db.execute(f"DELETE FROM {table} WHERE {column} = ?", (zone_id,))

    def vpcs(self, zone_id: str) -> list[tuple[str, str]]:
        return [
            (row[0], row[1])
            for row in self.db.all(
                "SELECT vpc_id, vpc_region FROM r53_zone_vpcs WHERE zone_id = ? ORDER BY vpc_region, vpc_id",
                (zone_id,),
            )
        ]

    def add_vpc(self, zone_id: str, vpc_id: str, region: str) -> None:
        self.db.execute("INSERT OR IGNORE INTO r53_zone_vpcs VALUES (?, ?, ?)", (zone_id, vpc_id, region))

    def remove_vpc(self, zone_id: str, vpc_id: str, region: str) -> None:
        self.db.execute(
            "DELETE FROM r53_zone_vpcs WHERE zone_id = ? AND vpc_id = ? AND vpc_region = ?",
            (zone_id, vpc_id, region),
        )

    def zones_of_vpc(self, vpc_id: str, region: str) -> list[Zone]:
        rows = self.db.all(
            f"SELECT {', '.join('z.' + c.strip() for c in _ZONE.split(','))} FROM r53_zones z "
            "JOIN r53_zone_vpcs v ON v.zone_id = z.id WHERE v.vpc_id = ? AND v.vpc_region = ? ORDER BY z.name",
            (vpc_id, region),
        )
        return [_zone(row) for row in rows]  # type: ignore[misc]

    def authorizations(self, zone_id: str) -> list[tuple[str, str]]:
        """(VPC id, region) of the VPCs authorized to be associated with the zone, in the order they came."""
        return [
            (row[0], row[1])
            for row in self.db.all(
                "SELECT vpc_id, vpc_region FROM r53_vpc_authorizations WHERE zone_id = ? ORDER BY rowid",
                (zone_id,),
            )
        ]

    def authorize_vpc(self, zone_id: str, vpc_id: str, region: str) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO r53_vpc_authorizations VALUES (?, ?, ?)", (zone_id, vpc_id, region)
        )

    def deauthorize_vpc(self, zone_id: str, vpc_id: str, region: str) -> bool:
        return (
            self.db.execute(
                "DELETE FROM r53_vpc_authorizations WHERE zone_id = ? AND vpc_id = ? AND vpc_region = ?",
                (zone_id, vpc_id, region),
            ).rowcount
            > 0
        )

    # -- reusable delegation sets -----------------------------------------------------------------------------------

    def put_delegation_set(
        self, set_id: str, account: str, reference: str, name_servers: list[str], created: float
    ) -> None:
        self.db.execute(
            "INSERT INTO r53_delegation_sets (id, account, caller_reference, name_servers, created) "
            "VALUES (?, ?, ?, ?, ?)",
            (set_id, account, reference, json.dumps(name_servers), created),
        )

    def delegation_set(self, set_id: str) -> tuple[str, str, list[str]] | None:
        """(account, caller reference, name servers)."""
        row = self.db.one(
            "SELECT account, caller_reference, name_servers FROM r53_delegation_sets WHERE id = ?", (set_id,)
        )
        return (row[0], row[1], json.loads(row[2])) if row else None

    def delegation_set_by_reference(self, account: str, reference: str) -> str | None:
        row = self.db.one(
            "SELECT id FROM r53_delegation_sets WHERE account = ? AND caller_reference = ?",
            (account, reference),
        )
        return row[0] if row else None

    def delegation_sets(self, account: str) -> list[tuple[str, str, list[str]]]:
        """(id, caller reference, name servers) of the account's sets, oldest first."""
        rows = self.db.all(
            "SELECT id, caller_reference, name_servers FROM r53_delegation_sets WHERE account = ? "
            "ORDER BY created, id",
            (account,),
        )
        return [(row[0], row[1], json.loads(row[2])) for row in rows]

    def zones_using(self, set_id: str) -> int:
        return self.db.one("SELECT COUNT(*) FROM r53_zones WHERE delegation_set = ?", (set_id,))[0]

    def delete_delegation_set(self, set_id: str) -> None:
        self.db.execute("DELETE FROM r53_delegation_sets WHERE id = ?", (set_id,))

    # -- record sets ----------------------------------------------------------------------------------------------

    def record_sets(self, zone_id: str, name: str) -> list[dict[str, Any]]:
        """The record sets of one name in a zone (every type and set identifier)."""
        rows = self.db.all("SELECT doc FROM r53_records WHERE zone_id = ? AND name = ?", (zone_id, name))
        return [json.loads(row[0]) for row in rows]

    def record_sets_of_type(self, zone_id: str, name: str, kind: str) -> list[dict[str, Any]]:
        rows = self.db.all(
            "SELECT doc FROM r53_records WHERE zone_id = ? AND name = ? AND type = ? ORDER BY set_id",
            (zone_id, name, kind),
        )
        return [json.loads(row[0]) for row in rows]

    def has_name_below(self, zone_id: str, name: str) -> bool:
        """Whether any record lives at `name` or below it (an empty non-terminal exists)."""
        from overcast.services.route53.names import sort_key

        key = sort_key(name)
        return (
            self.db.one(
                "SELECT 1 FROM r53_records WHERE zone_id = ? AND (sort_key = ? OR (sort_key > ? AND sort_key < ?)) LIMIT 1",
                (zone_id, key, key + ".", key + "/"),
            )
            is not None
        )

    def put_record_set(
        self, zone_id: str, name: str, kind: str, set_id: str, sort_key: str, doc: dict[str, Any]
    ) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO r53_records VALUES (?, ?, ?, ?, ?, ?)",
            (zone_id, name, kind, set_id, sort_key, json.dumps(doc)),
        )

    def delete_record_set(self, zone_id: str, name: str, kind: str, set_id: str) -> None:
        self.db.execute(
            "DELETE FROM r53_records WHERE zone_id = ? AND name = ? AND type = ? AND set_id = ?",
            (zone_id, name, kind, set_id),
        )

    def count_records(self, zone_id: str) -> int:
        return self.db.one("SELECT COUNT(*) FROM r53_records WHERE zone_id = ?", (zone_id,))[0]

    def listing(
        self, zone_id: str, sort_key: str, kind: str, set_id: str, limit: int
    ) -> list[tuple[str, str, str, dict]]:
        """(sort key, type, set id, document) of the record sets from a position on, in AWS's order."""
        rows = self.db.all(
            "SELECT sort_key, type, set_id, doc FROM r53_records WHERE zone_id = ? AND "
            "(sort_key > ? OR (sort_key = ? AND (type > ? OR (type = ? AND set_id >= ?)))) "
            "ORDER BY sort_key, type, set_id LIMIT ?",
            (zone_id, sort_key, sort_key, kind, kind, set_id, limit),
        )
        return [(row[0], row[1], row[2], json.loads(row[3])) for row in rows]

    def records_using_health_check(self, check_id: str) -> int:
        return self.db.one(
            "SELECT COUNT(*) FROM r53_records WHERE json_extract(doc, '$.HealthCheckId') = ?", (check_id,)
        )[0]

    def find_records(self, name: str, kind: str) -> list[dict[str, Any]]:
        """Every zone's record sets of a name and type (ACM's validation records)."""
        rows = self.db.all("SELECT doc FROM r53_records WHERE name = ? AND type = ?", (name, kind))
        return [json.loads(row[0]) for row in rows]

    # -- changes ----------------------------------------------------------------------------------------------------

    def put_change(self, change_id: str, account: str, submitted: float, comment: str | None) -> None:
        self.db.execute(
            "INSERT INTO r53_changes VALUES (?, ?, ?, ?)", (change_id, account, submitted, comment)
        )

    def change(self, change_id: str) -> tuple[str, float, str | None] | None:
        row = self.db.one("SELECT account, submitted, comment FROM r53_changes WHERE id = ?", (change_id,))
        return (row[0], row[1], row[2]) if row else None

    # -- health checks ------------------------------------------------------------------------------------------------

    def put_health_check(self, check: HealthCheck) -> None:
        c = check
        self.db.execute(
            f"INSERT OR REPLACE INTO r53_health_checks ({_CHECK}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (c.id, c.account, c.caller_reference, json.dumps(c.config), c.version, c.created, int(c.healthy), c.passes,
             c.failures, c.observation, c.last_failure, c.checked, c.next_check),
        )  # fmt: skip

    def health_check(self, check_id: str) -> HealthCheck | None:
        return _check(self.db.one(f"SELECT {_CHECK} FROM r53_health_checks WHERE id = ?", (check_id,)))

    def health_check_by_reference(self, account: str, reference: str) -> HealthCheck | None:
        return _check(
            self.db.one(
                f"SELECT {_CHECK} FROM r53_health_checks WHERE account = ? AND caller_reference = ?",
                (account, reference),
            )
        )

    def health_checks(self, account: str) -> list[HealthCheck]:
        rows = self.db.all(
            f"SELECT {_CHECK} FROM r53_health_checks WHERE account = ? ORDER BY created, id", (account,)
        )
        return [_check(row) for row in rows]  # type: ignore[misc]

    def healthy(self, check_id: str) -> bool | None:
        row = self.db.one("SELECT healthy FROM r53_health_checks WHERE id = ?", (check_id,))
        return None if row is None else bool(row[0])

    def delete_health_check(self, check_id: str) -> None:
        self.db.execute("DELETE FROM r53_health_checks WHERE id = ?", (check_id,))

    def due_health_checks(self, now: float, limit: int = 200) -> list[HealthCheck]:
        rows = self.db.all(
            f"SELECT {_CHECK} FROM r53_health_checks WHERE next_check IS NOT NULL AND next_check <= ? "
            "ORDER BY next_check LIMIT ?",
            (now, limit),
        )
        return [_check(row) for row in rows]  # type: ignore[misc]

    def next_health_check(self) -> float | None:
        return self.db.one("SELECT MIN(next_check) FROM r53_health_checks")[0]

    def record_result(self, check: HealthCheck) -> None:
        """A probe's outcome, unless the health check was deleted or changed meanwhile."""
        c = check
        self.db.execute(
            "UPDATE r53_health_checks SET healthy = ?, passes = ?, failures = ?, observation = ?, last_failure = ?, "
            "checked = ?, next_check = ? WHERE id = ? AND version = ?",
            (
                int(c.healthy),
                c.passes,
                c.failures,
                c.observation,
                c.last_failure,
                c.checked,
                c.next_check,
                c.id,
                c.version,
            ),
        )

    # -- query logging, CIDR collections, DNSSEC ----------------------------------------------------------------------

    def put_query_logging(self, config_id: str, account: str, zone_id: str, log_group_arn: str) -> None:
        self.db.execute(
            "INSERT INTO r53_query_logging VALUES (?, ?, ?, ?)", (config_id, account, zone_id, log_group_arn)
        )

    def query_logging(self, config_id: str) -> tuple[str, str, str] | None:
        row = self.db.one(
            "SELECT account, zone_id, log_group_arn FROM r53_query_logging WHERE id = ?", (config_id,)
        )
        return (row[0], row[1], row[2]) if row else None

    def query_logging_of_zone(self, zone_id: str) -> str | None:
        row = self.db.one("SELECT id FROM r53_query_logging WHERE zone_id = ?", (zone_id,))
        return row[0] if row else None

    def query_loggings(self, account: str) -> list[tuple[str, str, str]]:
        return [
            (row[0], row[1], row[2])
            for row in self.db.all(
                "SELECT id, zone_id, log_group_arn FROM r53_query_logging WHERE account = ? ORDER BY id",
                (account,),
            )
        ]

    def all_query_loggings(self) -> dict[str, str]:
        """{zone id: log group ARN} of every configuration."""
        return {row[0]: row[1] for row in self.db.all("SELECT zone_id, log_group_arn FROM r53_query_logging")}

    def delete_query_logging(self, config_id: str) -> None:
        self.db.execute("DELETE FROM r53_query_logging WHERE id = ?", (config_id,))

    def put_collection(
        self, collection_id: str, account: str, name: str, version: int, reference: str
    ) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO r53_cidr_collections VALUES (?, ?, ?, ?, ?)",
            (collection_id, account, name, version, reference),
        )

    def collection(self, collection_id: str) -> tuple[str, str, int] | None:
        row = self.db.one(
            "SELECT account, name, version FROM r53_cidr_collections WHERE id = ?", (collection_id,)
        )
        return (row[0], row[1], row[2]) if row else None

    def collections(self, account: str) -> list[tuple[str, str, int]]:
        return [
            (row[0], row[1], row[2])
            for row in self.db.all(
                "SELECT id, name, version FROM r53_cidr_collections WHERE account = ? ORDER BY name",
                (account,),
            )
        ]

    def collection_named(self, account: str, name: str) -> str | None:
        row = self.db.one(
            "SELECT id FROM r53_cidr_collections WHERE account = ? AND name = ?", (account, name)
        )
        return row[0] if row else None

    def delete_collection(self, collection_id: str) -> None:
        self.db.execute("DELETE FROM r53_cidr_blocks WHERE collection_id = ?", (collection_id,))
        self.db.execute("DELETE FROM r53_cidr_collections WHERE id = ?", (collection_id,))

    def cidr_blocks(self, collection_id: str) -> list[tuple[str, str]]:
        return [
            (row[0], row[1])
            for row in self.db.all(
                "SELECT location, cidr FROM r53_cidr_blocks WHERE collection_id = ? ORDER BY location, cidr",
                (collection_id,),
            )
        ]

    def put_cidr(self, collection_id: str, location: str, cidr: str) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO r53_cidr_blocks VALUES (?, ?, ?)", (collection_id, location, cidr)
        )

    def delete_cidr(self, collection_id: str, location: str, cidr: str) -> None:
        self.db.execute(
            "DELETE FROM r53_cidr_blocks WHERE collection_id = ? AND location = ? AND cidr = ?",
            (collection_id, location, cidr),
        )

    def collection_in_use(self, collection_id: str) -> bool:
        return (
            self.db.one(
                "SELECT 1 FROM r53_records WHERE json_extract(doc, '$.CidrRoutingConfig.CollectionId') = ? LIMIT 1",
                (collection_id,),
            )
            is not None
        )

    def dnssec_status(self, zone_id: str) -> str:
        row = self.db.one("SELECT status FROM r53_dnssec WHERE zone_id = ?", (zone_id,))
        return row[0] if row else "NOT_SIGNING"

    def set_dnssec_status(self, zone_id: str, status: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO r53_dnssec VALUES (?, ?)", (zone_id, status))

    def key_signing_keys(self, zone_id: str) -> list[dict[str, Any]]:
        rows = self.db.all("SELECT doc FROM r53_key_signing_keys WHERE zone_id = ? ORDER BY name", (zone_id,))
        return [json.loads(row[0]) for row in rows]

    def put_key_signing_key(self, zone_id: str, name: str, doc: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO r53_key_signing_keys VALUES (?, ?, ?)", (zone_id, name, json.dumps(doc))
        )

    def delete_key_signing_key(self, zone_id: str, name: str) -> None:
        self.db.execute("DELETE FROM r53_key_signing_keys WHERE zone_id = ? AND name = ?", (zone_id, name))

    # -- traffic policies ---------------------------------------------------------------------------------------------

    def put_traffic_policy(self, policy: dict[str, Any], account: str) -> None:
        p = policy
        self.db.execute(
            "INSERT OR REPLACE INTO r53_traffic_policies (id, version, account, name, type, document, comment) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (p["Id"], p["Version"], account, p["Name"], p["Type"], p["Document"], p.get("Comment")),
        )

    def traffic_policy(self, policy_id: str, version: int) -> tuple[str, dict[str, Any]] | None:
        """(account, the TrafficPolicy shape) of one version."""
        row = self.db.one(
            "SELECT account, id, version, name, type, document, comment FROM r53_traffic_policies "
            "WHERE id = ? AND version = ?",
            (policy_id, version),
        )
        return (row[0], _policy(row[1:])) if row else None

    def traffic_policy_versions(self, policy_id: str) -> list[tuple[str, dict[str, Any]]]:
        rows = self.db.all(
            "SELECT account, id, version, name, type, document, comment FROM r53_traffic_policies "
            "WHERE id = ? ORDER BY version",
            (policy_id,),
        )
        return [(row[0], _policy(row[1:])) for row in rows]

    def traffic_policy_summaries(self, account: str) -> list[dict[str, Any]]:
        """Each policy of the account (by id) with its latest version and number of versions."""
        rows = self.db.all(
            "SELECT id, name, type, MAX(version), COUNT(*) FROM r53_traffic_policies WHERE account = ? "
            "GROUP BY id ORDER BY id",
            (account,),
        )
        return [{"Id": r[0], "Name": r[1], "Type": r[2], "LatestVersion": r[3], "TrafficPolicyCount": r[4]}
                for r in rows]  # fmt: skip

    def traffic_policy_named(self, account: str, name: str) -> str | None:
        row = self.db.one(
            "SELECT id FROM r53_traffic_policies WHERE account = ? AND name = ?", (account, name)
        )
        return row[0] if row else None

    def delete_traffic_policy(self, policy_id: str, version: int) -> None:
        self.db.execute("DELETE FROM r53_traffic_policies WHERE id = ? AND version = ?", (policy_id, version))

    def put_instance(self, instance: dict[str, Any], account: str, changed: float) -> None:
        i = instance
        self.db.execute(
            "INSERT OR REPLACE INTO r53_traffic_policy_instances "
            "(id, account, zone_id, name, type, ttl, policy_id, policy_version, changed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (i["Id"], account, i["HostedZoneId"], i["Name"], i["TrafficPolicyType"], i["TTL"], i["TrafficPolicyId"],
             i["TrafficPolicyVersion"], changed),
        )  # fmt: skip

    def instance(self, instance_id: str) -> tuple[str, float, dict[str, Any]] | None:
        """(account, when it last changed, the instance's fields without its state)."""
        row = self.db.one(f"SELECT account, changed, {_INSTANCE} FROM r53_traffic_policy_instances WHERE id = ?",
                          (instance_id,))  # fmt: skip
        return (row[0], row[1], _instance(row[2:])) if row else None

    def instances(
        self, account: str, zone_id: str | None = None, policy: tuple[str, int] | None = None
    ) -> list[tuple[float, dict[str, Any]]]:
        """(when it last changed, fields) of the account's instances, by zone, name and type."""
        sql = f"SELECT changed, {_INSTANCE} FROM r53_traffic_policy_instances WHERE account = ?"
        params: list[Any] = [account]
        if zone_id is not None:
            sql += " AND zone_id = ?"
            params.append(zone_id)
        if policy is not None:
            sql += " AND policy_id = ? AND policy_version = ?"
            params.extend(policy)
        rows = self.db.all(sql + " ORDER BY zone_id, name, type", params)
        return [(row[0], _instance(row[1:])) for row in rows]

    def count_policy_instances(self, policy_id: str, version: int | None = None) -> int:
        if version is None:
            sql, params = (
                "SELECT COUNT(*) FROM r53_traffic_policy_instances WHERE policy_id = ?",
                (policy_id,),
            )
        else:
            sql = (
                "SELECT COUNT(*) FROM r53_traffic_policy_instances WHERE policy_id = ? AND policy_version = ?"
            )
            params = (policy_id, version)  # type: ignore[assignment]
        return self.db.one(sql, params)[0]

    def delete_instance(self, instance_id: str) -> None:
        self.db.execute("DELETE FROM r53_traffic_policy_instances WHERE id = ?", (instance_id,))

    def instance_policy(self, instance_id: str) -> tuple[int, dict[str, Any]] | None:
        """(TTL, the policy document) the DNS server answers an instance's record set with."""
        row = self.db.one(
            "SELECT i.ttl, p.document FROM r53_traffic_policy_instances i JOIN r53_traffic_policies p "
            "ON p.id = i.policy_id AND p.version = i.policy_version WHERE i.id = ?",
            (instance_id,),
        )
        return (row[0], json.loads(row[1])) if row else None
