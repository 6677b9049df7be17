"""Organizations: the organization, its root and OUs, member accounts (created or invited through handshakes),
and service control policies, which the policy engine applies to every request of a member account."""

from __future__ import annotations

import json
import secrets
import string
from typing import Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.identity import root_principal
from overcast.policy import document as policy_doc
from overcast.services.base import ServiceProvider

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
    """
]

SCP = "SERVICE_CONTROL_POLICY"
FULL_ACCESS_ID = "p-FullAWSAccess"
FULL_ACCESS = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)
ACCESS_ROLE = "OrganizationAccountAccessRole"
HANDSHAKE_LIFETIME = 15 * 86400
_LOWER = string.ascii_lowercase + string.digits


def _rand(length: int, alphabet: str = _LOWER) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def _error(code: str, message: str, status: int = 400) -> ServiceError:
    return ServiceError(code, message, status)


def _not_in_use() -> ServiceError:
    return _error("AWSOrganizationsNotInUseException", "Your account is not a member of an organization.")


class OrganizationsProvider(ServiceProvider):
    service_name = "organizations"

    def __init__(self, platform) -> None:
        super().__init__(platform)
        self.generation = 0
        self._scp_cache: dict[str, tuple[int, Any]] = {}
        self.db.migrate("organizations", MIGRATIONS)
        platform.provider("iam")  # build IAM now, outside any request's transaction

    def reset(self) -> None:
        self.changed()

    def changed(self) -> None:
        self.generation += 1
        self._scp_cache.clear()

    # -- lookups -------------------------------------------------------------------------------------------

    def _org_of(self, account: str) -> tuple | None:
        row = self.db.one("SELECT org_id FROM org_accounts WHERE account = ?", (account,))
        if row is None:
            return None
        return self.db.one(
            "SELECT id, management, root_id, feature_set, email, policy_types, created FROM org_organizations "
            "WHERE id = ?",
            (row[0],),
        )

    def _org(self, ctx: RequestContext, *, management: bool = True) -> tuple:
        org = self._org_of(ctx.account_id)
        if org is None:
            raise _not_in_use()
        if management and org[1] != ctx.account_id:
            raise _error("AccessDeniedException", "You don't have permissions to access this resource.", 400)
        return org

    def _org_shape(self, org: tuple) -> dict[str, Any]:
        org_id, management, _, feature_set, email, types, _ = org
        return {
            "Id": org_id,
            "Arn": f"arn:aws:organizations::{management}:organization/{org_id}",
            "FeatureSet": feature_set,
            "MasterAccountArn": f"arn:aws:organizations::{management}:account/{org_id}/{management}",
            "MasterAccountId": management,
            "MasterAccountEmail": email,
            "AvailablePolicyTypes": [{"Type": SCP, "Status": "ENABLED"}] if SCP in json.loads(types) else [],
        }

    def _account_shape(self, org: tuple, row: tuple) -> dict[str, Any]:
        account, _, _, name, email, method, joined = row
        return {
            "Id": account,
            "Arn": f"arn:aws:organizations::{org[1]}:account/{org[0]}/{account}",
            "Email": email,
            "Name": name,
            "Status": "ACTIVE",
            "State": "ACTIVE",
            "JoinedMethod": method,
            "JoinedTimestamp": joined,
        }

    def _account(self, org: tuple, account: str) -> tuple:
        row = self.db.one(
            "SELECT account, org_id, parent_id, name, email, joined_method, joined FROM org_accounts "
            "WHERE account = ? AND org_id = ?",
            (account, org[0]),
        )
        if row is None:
            raise _error("AccountNotFoundException", "You specified an account that doesn't exist.")
        return row

    def _unit(self, org: tuple, unit_id: str) -> tuple:
        row = self.db.one(
            "SELECT id, org_id, parent_id, name FROM org_units WHERE id = ? AND org_id = ?", (unit_id, org[0])
        )
        if row is None:
            raise _error(
                "OrganizationalUnitNotFoundException",
                "You specified an organizational unit that doesn't exist.",
            )
        return row

    def _unit_shape(self, org: tuple, row: tuple) -> dict[str, Any]:
        return {"Id": row[0], "Arn": f"arn:aws:organizations::{org[1]}:ou/{org[0]}/{row[0]}", "Name": row[3]}

    def _is_parent(self, org: tuple, parent_id: str) -> bool:
        return parent_id == org[2] or (
            parent_id.startswith("ou-")
            and self.db.one("SELECT 1 FROM org_units WHERE id = ? AND org_id = ?", (parent_id, org[0]))
            is not None
        )

    def _parent_of(self, org: tuple, child_id: str) -> str | None:
        if child_id.startswith("ou-"):
            row = self.db.one(
                "SELECT parent_id FROM org_units WHERE id = ? AND org_id = ?", (child_id, org[0])
            )
        else:
            row = self.db.one(
                "SELECT parent_id FROM org_accounts WHERE account = ? AND org_id = ?", (child_id, org[0])
            )
        return row[0] if row else None

    # -- organization --------------------------------------------------------------------------------------

    def create_organization(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        if self._org_of(ctx.account_id):
            raise _error(
                "AlreadyInOrganizationException",
                "The AWS account is already a member of an organization.",
                409,
            )
        org_id, root_id = f"o-{_rand(10)}", f"r-{_rand(4)}"
        now = self.clock.now()
        email = f"management@{ctx.account_id}.overcast.local"
        feature_set = params.get("FeatureSet") or "ALL"
        self.db.execute(
            "INSERT INTO org_organizations VALUES (?, ?, ?, ?, ?, '[]', ?)",
            (org_id, ctx.account_id, root_id, feature_set, email, now),
        )
        self.db.execute(
            "INSERT INTO org_accounts VALUES (?, ?, ?, ?, ?, 'CREATED', ?)",
            (ctx.account_id, org_id, root_id, "management", email, now),
        )
        self.changed()
        return {"Organization": self._org_shape(self._org(ctx))}

    def describe_organization(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"Organization": self._org_shape(self._org(ctx, management=False))}

    def delete_organization(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        org = self._org(ctx)
        members = self.db.one("SELECT count(*) FROM org_accounts WHERE org_id = ?", (org[0],))
        if members and members[0] > 1:
            raise _error(
                "OrganizationNotEmptyException",
                "To delete an organization you must first remove all member "
                "accounts (except the management account).",
            )
        for table in (
            "org_accounts",
            "org_units",
            "org_policies",
            "org_attachments",
            "org_handshakes",
            "org_create_status",
            "org_tags",
        ):
            self.db.execute(f"DELETE FROM {table} WHERE org_id = ?", (org[0],))
        self.db.execute("DELETE FROM org_organizations WHERE id = ?", (org[0],))
        self.changed()
        return {}

    def list_roots(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"Roots": [self._root_shape(self._org(ctx))]}

    def _root_shape(self, org: tuple) -> dict[str, Any]:
        types = json.loads(org[5])
        return {
            "Id": org[2],
            "Arn": f"arn:aws:organizations::{org[1]}:root/{org[0]}/{org[2]}",
            "Name": "Root",
            "PolicyTypes": [{"Type": t, "Status": "ENABLED"} for t in types],
        }

    def enable_policy_type(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        org = self._org(ctx)
        if params["RootId"] != org[2]:
            raise _error("RootNotFoundException", "You specified a root that doesn't exist.")
        types = json.loads(org[5])
        if params["PolicyType"] in types:
            raise _error("PolicyTypeAlreadyEnabledException", "The specified policy type is already enabled.")
        types.append(params["PolicyType"])
        self.db.execute(
            "UPDATE org_organizations SET policy_types = ? WHERE id = ?", (json.dumps(types), org[0])
        )
        if params["PolicyType"] == SCP:  # FullAWSAccess goes on every root, OU and account
            targets = [org[2]] + [
                r[0] for r in self.db.all("SELECT id FROM org_units WHERE org_id = ?", (org[0],))
            ]
            targets += [
                r[0] for r in self.db.all("SELECT account FROM org_accounts WHERE org_id = ?", (org[0],))
            ]
            for target in targets:
                self._attach(org, FULL_ACCESS_ID, target)
        self.changed()
        return {"Root": self._root_shape(self._org(ctx))}

    def disable_policy_type(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        org = self._org(ctx)
        types = json.loads(org[5])
        if params["PolicyType"] not in types:
            raise _error(
                "PolicyTypeNotEnabledException",
                "This operation can be performed only for enabled policy types.",
            )
        types.remove(params["PolicyType"])
        self.db.execute(
            "UPDATE org_organizations SET policy_types = ? WHERE id = ?", (json.dumps(types), org[0])
        )
        if params["PolicyType"] == SCP:
            self.db.execute(
                "DELETE FROM org_attachments WHERE org_id = ? AND (policy_id = ? OR policy_id IN "
                "(SELECT id FROM org_policies WHERE org_id = ? AND type = ?))",
                (org[0], FULL_ACCESS_ID, org[0], SCP),
            )
        self.changed()
        return {"Root": self._root_shape(self._org(ctx))}

    # -- organizational units ------------------------------------------------------------------------------

    def create_organizational_unit(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        org = self._org(ctx)
        parent = params["ParentId"]
        if not self._is_parent(org, parent):
            raise _error("ParentNotFoundException", "You specified parent that doesn't exist.")
        if self.db.one(
            "SELECT 1 FROM org_units WHERE org_id = ? AND parent_id = ? AND name = ?",
            (org[0], parent, params["Name"]),
        ):
            raise _error(
                "DuplicateOrganizationalUnitException", "An OU with the same name already exists.", 409
            )
        unit_id = f"ou-{org[2][2:]}-{_rand(8)}"
        self.db.execute(
            "INSERT INTO org_units VALUES (?, ?, ?, ?)", (unit_id, org[0], parent, params["Name"])
        )
        if SCP in json.loads(org[5]):
            self._attach(org, FULL_ACCESS_ID, unit_id)
        self._put_tags(org, unit_id, params.get("Tags"))
        self.changed()
        return {"OrganizationalUnit": self._unit_shape(org, self._unit(org, unit_id))}

    def describe_organizational_unit(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        org = self._org(ctx)
        return {"OrganizationalUnit": self._unit_shape(org, self._unit(org, params["OrganizationalUnitId"]))}

    def update_organizational_unit(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        org = self._org(ctx)
        unit = self._unit(org, params["OrganizationalUnitId"])
        if params.get("Name"):
            self.db.execute("UPDATE org_units SET name = ? WHERE id = ?", (params["Name"], unit[0]))
        return {"OrganizationalUnit": self._unit_shape(org, self._unit(org, unit[0]))}

    def delete_organizational_unit(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        org = self._org(ctx)
        unit = self._unit(org, params["OrganizationalUnitId"])
        if self.db.one(
            "SELECT 1 FROM org_units WHERE parent_id = ? UNION SELECT 1 FROM org_accounts WHERE parent_id = ?",
            (unit[0], unit[0]),
        ):
            raise _error(
                "OrganizationalUnitNotEmptyException",
                "The specified OU is not empty. Move all accounts to "
                "another root or to other OUs, remove all child OUs, and try the operation again.",
            )
        self.db.execute("DELETE FROM org_units WHERE id = ?", (unit[0],))
        self.db.execute("DELETE FROM org_attachments WHERE org_id = ? AND target_id = ?", (org[0], unit[0]))
        self.changed()
        return {}

    def list_organizational_units_for_parent(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        org = self._org(ctx)
        if not self._is_parent(org, params["ParentId"]):
            raise _error("ParentNotFoundException", "You specified parent that doesn't exist.")
        rows = self.db.all(
            "SELECT id, org_id, parent_id, name FROM org_units WHERE org_id = ? AND parent_id = ? "
            "ORDER BY name",
            (org[0], params["ParentId"]),
        )
        return {"OrganizationalUnits": [self._unit_shape(org, r) for r in rows]}

    def list_children(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        org = self._org(ctx)
        parent = params["ParentId"]
        if not self._is_parent(org, parent):
            raise _error("ParentNotFoundException", "You specified parent that doesn't exist.")
        if params["ChildType"] == "ACCOUNT":
            rows = self.db.all(
                "SELECT account FROM org_accounts WHERE org_id = ? AND parent_id = ? ORDER BY account",
                (org[0], parent),
            )
        else:
            rows = self.db.all(
                "SELECT id FROM org_units WHERE org_id = ? AND parent_id = ? ORDER BY id", (org[0], parent)
            )
        return {"Children": [{"Id": r[0], "Type": params["ChildType"]} for r in rows]}

    def list_parents(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        org = self._org(ctx)
        parent = self._parent_of(org, params["ChildId"])
        if parent is None:
            raise _error(
                "ChildNotFoundException",
                "We can't find an organizational unit (OU) or AWS account with the "
                "ChildId that you specified.",
            )
        return {"Parents": [{"Id": parent, "Type": "ROOT" if parent == org[2] else "ORGANIZATIONAL_UNIT"}]}

    # -- accounts ------------------------------------------------------------------------------------------

    def _new_account_id(self) -> str:
        while True:
            candidate = str(secrets.randbelow(9 * 10**11) + 10**11)
            if not self.db.one("SELECT 1 FROM org_accounts WHERE account = ?", (candidate,)):
                return candidate

    def create_account(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        org = self._org(ctx)
        if self.db.one("SELECT 1 FROM org_accounts WHERE email = ?", (params["Email"],)):
            raise _error(
                "DuplicateAccountException",
                "That account is already present in the specified organization.",
                409,
            )
        account = self._new_account_id()
        now = self.clock.now()
        self.db.execute(
            "INSERT INTO org_accounts VALUES (?, ?, ?, ?, ?, 'CREATED', ?)",
            (account, org[0], org[2], params["AccountName"], params["Email"], now),
        )
        if SCP in json.loads(org[5]):
            self._attach(org, FULL_ACCESS_ID, account)
        self._put_tags(org, account, params.get("Tags"))
        self._create_access_role(ctx, account, org[1], params.get("RoleName") or ACCESS_ROLE)
        status_id = f"car-{_rand(32)}"
        self.db.execute(
            "INSERT INTO org_create_status VALUES (?, ?, ?, ?, ?)",
            (status_id, org[0], account, params["AccountName"], now),
        )
        self.changed()
        return {
            "CreateAccountStatus": self._status_shape(
                (status_id, org[0], account, params["AccountName"], now)
            )
        }

    def _create_access_role(self, ctx: RequestContext, account: str, management: str, role_name: str) -> None:
        """The role in the new account that the management account may assume, with AdministratorAccess."""
        iam = self.platform.provider("iam")
        if iam is None:
            return
        member = RequestContext(
            "iam", "CreateRole", account, ctx.region, root_principal(account), ctx.request_id
        )
        trust = json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{management}:root"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        )
        iam.create_role(member, {"RoleName": role_name, "AssumeRolePolicyDocument": trust})
        iam.attach_role_policy(
            member, {"RoleName": role_name, "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}
        )

    def _status_shape(self, row: tuple) -> dict[str, Any]:
        status_id, _, account, name, requested = row
        return {
            "Id": status_id,
            "AccountName": name,
            "State": "SUCCEEDED",
            "RequestedTimestamp": requested,
            "CompletedTimestamp": requested,
            "AccountId": account,
        }

    def describe_create_account_status(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        org = self._org(ctx)
        row = self.db.one(
            "SELECT id, org_id, account, name, requested FROM org_create_status WHERE id = ? AND org_id = ?",
            (params["CreateAccountRequestId"], org[0]),
        )
        if row is None:
            raise _error(
                "CreateAccountStatusNotFoundException",
                "We can't find a create account request with the CreateAccountRequestId that you specified.",
            )
        return {"CreateAccountStatus": self._status_shape(row)}

    def list_create_account_status(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        org = self._org(ctx)
        rows = self.db.all(
            "SELECT id, org_id, account, name, requested FROM org_create_status WHERE org_id = ?", (org[0],)
        )
        states = params.get("States")
        statuses = [self._status_shape(r) for r in rows]
        return {"CreateAccountStatuses": [s for s in statuses if not states or s["State"] in states]}

    def describe_account(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        org = self._org(ctx)
        return {"Account": self._account_shape(org, self._account(org, params["AccountId"]))}

    def list_accounts(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        org = self._org(ctx)
        rows = self.db.all(
            "SELECT account, org_id, parent_id, name, email, joined_method, joined FROM org_accounts "
            "WHERE org_id = ? ORDER BY joined, account",
            (org[0],),
        )
        return {"Accounts": [self._account_shape(org, r) for r in rows]}

    def list_accounts_for_parent(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        org = self._org(ctx)
        if not self._is_parent(org, params["ParentId"]):
            raise _error("ParentNotFoundException", "You specified parent that doesn't exist.")
        rows = self.db.all(
            "SELECT account, org_id, parent_id, name, email, joined_method, joined FROM org_accounts "
            "WHERE org_id = ? AND parent_id = ? ORDER BY account",
            (org[0], params["ParentId"]),
        )
        return {"Accounts": [self._account_shape(org, r) for r in rows]}

    def move_account(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        org = self._org(ctx)
        account = self._account(org, params["AccountId"])
        if not self._is_parent(org, params["SourceParentId"]):
            raise _error("SourceParentNotFoundException", "You specified a source parent that doesn't exist.")
        if not self._is_parent(org, params["DestinationParentId"]):
            raise _error(
                "DestinationParentNotFoundException", "You specified a destination parent that doesn't exist."
            )
        if account[2] != params["SourceParentId"]:
            raise _error("AccountNotFoundException", "You specified an account that doesn't exist.")
        if account[2] == params["DestinationParentId"]:
            raise _error(
                "DuplicateAccountException",
                "That account is already present in the specified destination.",
                409,
            )
        self.db.execute(
            "UPDATE org_accounts SET parent_id = ? WHERE account = ?",
            (params["DestinationParentId"], account[0]),
        )
        self.changed()
        return {}

    def remove_account_from_organization(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        org = self._org(ctx)
        account = self._account(org, params["AccountId"])
        if account[0] == org[1]:
            raise _error(
                "ConstraintViolationException",
                "You cannot remove the management account from the organization.",
                400,
            )
        self._leave(org, account[0])
        return {}

    def leave_organization(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        org = self._org(ctx, management=False)
        if org[1] == ctx.account_id:
            raise _error(
                "ConstraintViolationException", "The management account can't leave the organization.", 400
            )
        self._leave(org, ctx.account_id)
        return {}

    def _leave(self, org: tuple, account: str) -> None:
        self.db.execute("DELETE FROM org_accounts WHERE account = ?", (account,))
        self.db.execute("DELETE FROM org_attachments WHERE org_id = ? AND target_id = ?", (org[0], account))
        self.changed()

    # -- handshakes ----------------------------------------------------------------------------------------

    def _handshake_shape(self, org: tuple, row: tuple) -> dict[str, Any]:
        handshake_id, _, target, state, requested, expires, notes = row
        resources = [{"Value": org[0], "Type": "ORGANIZATION"}]
        if notes:
            resources.append({"Value": notes, "Type": "NOTES"})
        return {
            "Id": handshake_id,
            "Arn": f"arn:aws:organizations::{org[1]}:handshake/{org[0]}/invite/{handshake_id}",
            "Parties": [{"Id": org[0][2:], "Type": "ORGANIZATION"}, {"Id": target, "Type": "ACCOUNT"}],
            "State": state,
            "RequestedTimestamp": requested,
            "ExpirationTimestamp": expires,
            "Action": "INVITE",
            "Resources": resources,
        }

    def _handshake(self, handshake_id: str) -> tuple[tuple, tuple]:
        row = self.db.one(
            "SELECT id, org_id, target, state, requested, expires, notes FROM org_handshakes WHERE id = ?",
            (handshake_id,),
        )
        if row is None:
            raise _error(
                "HandshakeNotFoundException",
                "We can't find a handshake with the HandshakeId that you specified.",
            )
        org = self.db.one(
            "SELECT id, management, root_id, feature_set, email, policy_types, created FROM "
            "org_organizations WHERE id = ?",
            (row[1],),
        )
        if org is None:
            raise _error(
                "HandshakeNotFoundException",
                "We can't find a handshake with the HandshakeId that you specified.",
            )
        if row[3] == "OPEN" and self.clock.now() > row[5]:
            self.db.execute("UPDATE org_handshakes SET state = 'EXPIRED' WHERE id = ?", (row[0],))
            row = row[:3] + ("EXPIRED",) + row[4:]
        return org, row

    def invite_account_to_organization(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        org = self._org(ctx)
        target = params["Target"]["Id"]
        if params["Target"]["Type"] == "ACCOUNT" and self._org_of(target):
            raise _error(
                "DuplicateAccountException",
                "That account is already present in the specified organization.",
                409,
            )
        now = self.clock.now()
        handshake_id = f"h-{_rand(32)}"
        self.db.execute(
            "INSERT INTO org_handshakes VALUES (?, ?, ?, 'OPEN', ?, ?, ?)",
            (handshake_id, org[0], target, now, now + HANDSHAKE_LIFETIME, params.get("Notes")),
        )
        return {"Handshake": self._handshake_shape(org, self._handshake(handshake_id)[1])}

    def _respond(
        self, ctx: RequestContext, handshake_id: str, state: str, *, by_target: bool
    ) -> dict[str, Any]:
        org, row = self._handshake(handshake_id)
        party = row[2] if by_target else org[1]
        if ctx.account_id != party:
            raise _error("AccessDeniedException", "You don't have permissions to access this resource.", 400)
        if row[3] != "OPEN":
            raise _error(
                "InvalidHandshakeTransitionException",
                f"You can't perform the operation on the handshake in its current state ({row[3]}).",
            )
        if state == "ACCEPTED":
            if self._org_of(ctx.account_id):
                raise _error(
                    "AlreadyInOrganizationException",
                    "The AWS account is already a member of an organization.",
                    409,
                )
            email = f"member@{ctx.account_id}.overcast.local"
            self.db.execute(
                "INSERT INTO org_accounts VALUES (?, ?, ?, ?, ?, 'INVITED', ?)",
                (ctx.account_id, org[0], org[2], ctx.account_id, email, self.clock.now()),
            )
            if SCP in json.loads(org[5]):
                self._attach(org, FULL_ACCESS_ID, ctx.account_id)
            self.changed()
        self.db.execute("UPDATE org_handshakes SET state = ? WHERE id = ?", (state, row[0]))
        return {"Handshake": self._handshake_shape(org, self._handshake(row[0])[1])}

    def accept_handshake(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._respond(ctx, params["HandshakeId"], "ACCEPTED", by_target=True)

    def decline_handshake(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._respond(ctx, params["HandshakeId"], "DECLINED", by_target=True)

    def cancel_handshake(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._respond(ctx, params["HandshakeId"], "CANCELED", by_target=False)

    def describe_handshake(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        org, row = self._handshake(params["HandshakeId"])
        if ctx.account_id not in (org[1], row[2]):
            raise _error("AccessDeniedException", "You don't have permissions to access this resource.", 400)
        return {"Handshake": self._handshake_shape(org, row)}

    def list_handshakes_for_account(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        rows = self.db.all(
            "SELECT id FROM org_handshakes WHERE target = ? ORDER BY requested", (ctx.account_id,)
        )
        shapes = []
        for (handshake_id,) in rows:
            org, row = self._handshake(handshake_id)
            shapes.append(self._handshake_shape(org, row))
        return {"Handshakes": shapes}

    def list_handshakes_for_organization(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        org = self._org(ctx)
        rows = self.db.all("SELECT id FROM org_handshakes WHERE org_id = ? ORDER BY requested", (org[0],))
        return {"Handshakes": [self._handshake_shape(org, self._handshake(r[0])[1]) for r in rows]}

    # -- policies ------------------------------------------------------------------------------------------

    def _policy_row(self, org: tuple, policy_id: str) -> tuple:
        if policy_id == FULL_ACCESS_ID:
            return (
                FULL_ACCESS_ID,
                org[0],
                "FullAWSAccess",
                "Allows access to every operation",
                SCP,
                FULL_ACCESS,
            )
        row = self.db.one(
            "SELECT id, org_id, name, description, type, content FROM org_policies WHERE id = ? AND "
            "org_id = ?",
            (policy_id, org[0]),
        )
        if row is None:
            raise _error(
                "PolicyNotFoundException", "We can't find a policy with the PolicyId that you specified."
            )
        return row

    def _policy_summary(self, org: tuple, row: tuple) -> dict[str, Any]:
        policy_id, _, name, description, kind, _ = row
        aws = policy_id == FULL_ACCESS_ID
        arn = (
            f"arn:aws:organizations::aws:policy/service_control_policy/{policy_id}"
            if aws
            else f"arn:aws:organizations::{org[1]}:policy/{org[0]}/{kind.lower()}/{policy_id}"
        )
        return {
            "Id": policy_id,
            "Arn": arn,
            "Name": name,
            "Description": description,
            "Type": kind,
            "AwsManaged": aws,
        }

    def create_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        org = self._org(ctx)
        if params["Type"] == SCP:
            try:
                policy_doc.validate(params["Content"], policy_doc.SCP)
            except ServiceError as error:
                raise _error("MalformedPolicyDocumentException", error.message) from None
        if self.db.one(
            "SELECT 1 FROM org_policies WHERE org_id = ? AND name = ? AND type = ?",
            (org[0], params["Name"], params["Type"]),
        ):
            raise _error("DuplicatePolicyException", "A policy with the same name already exists.", 409)
        policy_id = f"p-{_rand(8)}"
        self.db.execute(
            "INSERT INTO org_policies VALUES (?, ?, ?, ?, ?, ?)",
            (policy_id, org[0], params["Name"], params["Description"], params["Type"], params["Content"]),
        )
        self._put_tags(org, policy_id, params.get("Tags"))
        row = self._policy_row(org, policy_id)
        return {"Policy": {"PolicySummary": self._policy_summary(org, row), "Content": row[5]}}

    def describe_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        org = self._org(ctx)
        row = self._policy_row(org, params["PolicyId"])
        return {"Policy": {"PolicySummary": self._policy_summary(org, row), "Content": row[5]}}

    def update_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        org = self._org(ctx)
        row = self._policy_row(org, params["PolicyId"])
        if row[0] == FULL_ACCESS_ID:
            raise _error("AccessDeniedException", "You can't modify an AWS managed policy.")
        if params.get("Content"):
            policy_doc.validate(params["Content"], policy_doc.SCP)
        self.db.execute(
            "UPDATE org_policies SET name = ?, description = ?, content = ? WHERE id = ?",
            (
                params.get("Name") or row[2],
                params.get("Description", row[3]),
                params.get("Content") or row[5],
                row[0],
            ),
        )
        self.changed()
        return self.describe_policy(ctx, params)

    def delete_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        org = self._org(ctx)
        row = self._policy_row(org, params["PolicyId"])
        if self.db.one("SELECT 1 FROM org_attachments WHERE org_id = ? AND policy_id = ?", (org[0], row[0])):
            raise _error(
                "PolicyInUseException",
                "The policy is attached to one or more entities. You must detach it "
                "from all roots, OUs, and accounts before performing this operation.",
            )
        self.db.execute("DELETE FROM org_policies WHERE id = ?", (row[0],))
        return {}

    def list_policies(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        org = self._org(ctx)
        rows = self.db.all(
            "SELECT id, org_id, name, description, type, content FROM org_policies WHERE org_id = ? "
            "AND type = ? ORDER BY name",
            (org[0], params["Filter"]),
        )
        if params["Filter"] == SCP:
            rows = [self._policy_row(org, FULL_ACCESS_ID)] + rows
        return {"Policies": [self._policy_summary(org, r) for r in rows]}

    def _target_exists(self, org: tuple, target: str) -> bool:
        if target == org[2]:
            return True
        if target.startswith("ou-"):
            return self._parent_of(org, target) is not None
        return (
            self.db.one("SELECT 1 FROM org_accounts WHERE account = ? AND org_id = ?", (target, org[0]))
            is not None
        )

    def _attach(self, org: tuple, policy_id: str, target: str) -> None:
        self.db.execute("INSERT OR IGNORE INTO org_attachments VALUES (?, ?, ?)", (org[0], target, policy_id))

    def attach_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        org = self._org(ctx)
        row = self._policy_row(org, params["PolicyId"])
        target = params["TargetId"]
        if not self._target_exists(org, target):
            raise _error(
                "TargetNotFoundException",
                "We can't find a root, OU, account, or email that matches the ID that you specified.",
            )
        if row[4] not in json.loads(org[5]):
            raise _error(
                "PolicyTypeNotEnabledException",
                "This operation can be performed only for enabled policy types.",
            )
        if self.db.one(
            "SELECT 1 FROM org_attachments WHERE org_id = ? AND target_id = ? AND policy_id = ?",
            (org[0], target, row[0]),
        ):
            raise _error(
                "DuplicatePolicyAttachmentException",
                "The selected policy is already attached to the specified target.",
                409,
            )
        self._attach(org, row[0], target)
        self.changed()
        return {}

    def detach_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        org = self._org(ctx)
        row = self._policy_row(org, params["PolicyId"])
        target = params["TargetId"]
        if not self._target_exists(org, target):
            raise _error(
                "TargetNotFoundException",
                "We can't find a root, OU, account, or email that matches the ID that you specified.",
            )
        attached = [
            r[0]
            for r in self.db.all(
                "SELECT policy_id FROM org_attachments WHERE org_id = ? AND target_id = ?", (org[0], target)
            )
        ]
        if row[0] not in attached:
            raise _error(
                "PolicyNotAttachedException",
                "The policy isn't attached to the specified target in the specified root.",
            )
        if len(attached) == 1 and row[4] == SCP:
            raise _error(
                "ConstraintViolationException",
                "You cannot remove the last service control policy (SCP) that is attached to the target.",
                400,
            )
        self.db.execute(
            "DELETE FROM org_attachments WHERE org_id = ? AND target_id = ? AND policy_id = ?",
            (org[0], target, row[0]),
        )
        self.changed()
        return {}

    def list_policies_for_target(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        org = self._org(ctx)
        if not self._target_exists(org, params["TargetId"]):
            raise _error(
                "TargetNotFoundException",
                "We can't find a root, OU, account, or email that matches the ID that you specified.",
            )
        ids = [
            r[0]
            for r in self.db.all(
                "SELECT policy_id FROM org_attachments WHERE org_id = ? AND target_id = ? ORDER BY policy_id",
                (org[0], params["TargetId"]),
            )
        ]
        rows = [self._policy_row(org, i) for i in ids]
        return {"Policies": [self._policy_summary(org, r) for r in rows if r[4] == params["Filter"]]}

    def list_targets_for_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        org = self._org(ctx)
        row = self._policy_row(org, params["PolicyId"])
        targets = []
        for (target,) in self.db.all(
            "SELECT target_id FROM org_attachments WHERE org_id = ? AND policy_id = ? ORDER BY target_id",
            (org[0], row[0]),
        ):
            if target == org[2]:
                kind, name, arn = "ROOT", "Root", self._root_shape(org)["Arn"]
            elif target.startswith("ou-"):
                unit = self._unit(org, target)
                kind, name, arn = "ORGANIZATIONAL_UNIT", unit[3], self._unit_shape(org, unit)["Arn"]
            else:
                account = self._account(org, target)
                kind, name, arn = "ACCOUNT", account[3], self._account_shape(org, account)["Arn"]
            targets.append({"TargetId": target, "Arn": arn, "Name": name, "Type": kind})
        return {"Targets": targets}

    # -- tags ----------------------------------------------------------------------------------------------

    def _put_tags(self, org: tuple, target: str, tags: list[dict[str, str]] | None) -> None:
        for tag in tags or ():
            self.db.execute(
                "INSERT INTO org_tags VALUES (?, ?, ?, ?) ON CONFLICT (org_id, target_id, key) "
                "DO UPDATE SET value = excluded.value",
                (org[0], target, tag["Key"], tag["Value"]),
            )

    def tag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        org = self._org(ctx)
        self._put_tags(org, params["ResourceId"], params["Tags"])
        return {}

    def untag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        org = self._org(ctx)
        for key in params["TagKeys"]:
            self.db.execute(
                "DELETE FROM org_tags WHERE org_id = ? AND target_id = ? AND key = ?",
                (org[0], params["ResourceId"], key),
            )
        return {}

    def list_tags_for_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        org = self._org(ctx)
        rows = self.db.all(
            "SELECT key, value FROM org_tags WHERE org_id = ? AND target_id = ? ORDER BY key",
            (org[0], params["ResourceId"]),
        )
        return {"Tags": [{"Key": k, "Value": v} for k, v in rows]}

    # -- what the policy engine asks -----------------------------------------------------------------------

    def scp_levels(self, account: str) -> list[list[policy_doc.Policy]] | None:
        """SCPs bearing on `account`, one list per level (root, OUs top-down, the account); None when none apply
        (not in an organization, SCPs not enabled, or the management account, which SCPs never restrict)."""
        cached = self._scp_cache.get(account)
        if cached is not None and cached[0] == self.generation:
            return cached[1]
        levels = self._compute_levels(account)
        self._scp_cache[account] = (self.generation, levels)
        return levels

    def _compute_levels(self, account: str) -> list[list[policy_doc.Policy]] | None:
        org = self._org_of(account)
        if org is None or org[1] == account or SCP not in json.loads(org[5]):
            return None
        chain = [account]
        parent = self._parent_of(org, account)
        while parent is not None:
            chain.append(parent)
            parent = None if parent == org[2] else self._parent_of(org, parent)
        levels = []
        for target in reversed(chain):
            ids = [
                r[0]
                for r in self.db.all(
                    "SELECT policy_id FROM org_attachments WHERE org_id = ? AND target_id = ?",
                    (org[0], target),
                )
            ]
            texts = [self._policy_row(org, i)[5] for i in ids]
            levels.append([p for p in (policy_doc.parse(t, policy_doc.SCP) for t in texts) if p])
        return levels

    def org_id_of(self, account: str) -> str | None:
        key = f"org:{account}"
        cached = self._scp_cache.get(key)
        if cached is not None and cached[0] == self.generation:
            return cached[1]
        org = self._org_of(account)
        found = org[0] if org else None
        self._scp_cache[key] = (self.generation, found)
        return found
