"""Member accounts: created (with a role the management account may assume) or invited, placed in the tree,
removed or leaving."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.identity import root_principal
from overcast.services.base import Operations
from overcast.services.organizations.errors import (
    account_not_found,
    duplicate_account,
    error,
    parent_not_found,
)
from overcast.services.organizations.ids import ACCESS_ROLE, new_account_id, random_id
from overcast.services.organizations.store import Account, CreateStatus, Organization

if TYPE_CHECKING:
    from overcast.services.organizations.provider import OrganizationsProvider

ADMINISTRATOR_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"


def status_shape(status: CreateStatus) -> dict[str, Any]:
    return {
        "Id": status.id,
        "AccountName": status.name,
        "State": "SUCCEEDED",
        "RequestedTimestamp": status.requested,
        "CompletedTimestamp": status.requested,
        "AccountId": status.account,
    }


def access_role_trust(management: str) -> str:
    """The trust policy of a created account's access role: the management account may assume it."""
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{management}:root"},
        "Action": "sts:AssumeRole",
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


class AccountOperations(Operations):
    service: OrganizationsProvider

    async def create_account(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        """The account is created with its access role before it joins the organization (so no SCP of the
        organization stands in the way, as none restricts AWS's own provisioning), then joins at the root."""
        with self.db.transaction():
            management = self._check_new_account(ctx, params["Email"]).management
            account = self._new_account_id()
        await self._create_access_role(ctx, account, management, params.get("RoleName") or ACCESS_ROLE)
        with self.db.transaction():
            org = self._check_new_account(ctx, params["Email"])
            status = self._join(ctx, org, account, params)
        return {"CreateAccountStatus": status_shape(status)}

    def _check_new_account(self, ctx: RequestContext, email: str) -> Organization:
        org = self.service.org(ctx)
        if self.service.store.email_taken(email):
            raise duplicate_account()
        return org

    def _new_account_id(self) -> str:
        while True:
            candidate = new_account_id()
            if not self.service.store.account_exists(candidate):
                return candidate

    def _join(
        self, ctx: RequestContext, org: Organization, account: str, params: dict[str, Any]
    ) -> CreateStatus:
        orgs = self.service
        now = self.clock.now()
        orgs.store.add_account(
            Account(account, org.id, org.root_id, params["AccountName"], params["Email"], "CREATED", now)
        )
        orgs.grant_full_access(org, account)
        orgs.put_tags(org, account, params.get("Tags"))
        status = CreateStatus(f"car-{random_id(32)}", org.id, account, params["AccountName"], now)
        orgs.store.add_create_status(status)
        orgs.changed()
        return status

    async def _create_access_role(
        self, ctx: RequestContext, account: str, management: str, role: str
    ) -> None:
        """The role in the new account that the management account may assume, with AdministratorAccess:
        created through IAM's API in the new account, as its root (AWS provisions it so)."""
        iam_call = {"principal": root_principal(account), "account_id": account, "region": ctx.region}
        trust = access_role_trust(management)
        await self.platform.call(
            "iam", "CreateRole", {"RoleName": role, "AssumeRolePolicyDocument": trust}, **iam_call
        )
        await self.platform.call(
            "iam", "AttachRolePolicy", {"RoleName": role, "PolicyArn": ADMINISTRATOR_ACCESS}, **iam_call
        )

    def describe_create_account_status(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        org = self.service.org(ctx)
        status = self.service.store.create_status(org.id, params["CreateAccountRequestId"])
        if status is None:
            raise error(
                "CreateAccountStatusNotFoundException",
                "We can't find a create account request with the CreateAccountRequestId that you specified.",
            )
        return {"CreateAccountStatus": status_shape(status)}

    def list_create_account_status(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        org = self.service.org(ctx)
        states = params.get("States")
        statuses = [status_shape(s) for s in self.service.store.create_statuses(org.id)]
        wanted = [s for s in statuses if not states or s["State"] in states]
        return self.service.listing(ctx, params, "CreateAccountStatuses", wanted)

    def describe_account(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        org = self.service.org(ctx)
        return {"Account": self.service.account_shape(org, self.service.account(org, params["AccountId"]))}

    def list_accounts(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        org = self.service.org(ctx)
        accounts = [self.service.account_shape(org, a) for a in self.service.store.accounts(org.id)]
        return self.service.listing(ctx, params, "Accounts", accounts)

    def list_accounts_for_parent(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        orgs = self.service
        org = orgs.org(ctx)
        if not orgs.is_parent(org, params["ParentId"]):
            raise parent_not_found()
        accounts = orgs.store.accounts_under(org.id, params["ParentId"])
        return orgs.listing(ctx, params, "Accounts", [orgs.account_shape(org, a) for a in accounts])

    def move_account(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        orgs = self.service
        org = orgs.org(ctx)
        account = orgs.account(org, params["AccountId"])
        if not orgs.is_parent(org, params["SourceParentId"]):
            raise error("SourceParentNotFoundException", "You specified a source parent that doesn't exist.")
        if not orgs.is_parent(org, params["DestinationParentId"]):
            raise error(
                "DestinationParentNotFoundException", "You specified a destination parent that doesn't exist."
            )
        if account.parent_id != params["SourceParentId"]:
            raise account_not_found()
        if account.parent_id == params["DestinationParentId"]:
            raise error(
                "DuplicateAccountException",
                "That account is already present in the specified destination.",
                409,
            )
        orgs.store.move_account(account.account, params["DestinationParentId"])
        orgs.changed()
        return {}

    def remove_account_from_organization(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        org = self.service.org(ctx)
        account = self.service.account(org, params["AccountId"])
        if account.account == org.management:
            raise _constraint("You cannot remove the management account from the organization.")
        self._leave(org, account.account)
        return {}

    def close_account(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        """A member account is closed (SUSPENDED, State CLOSED) and stays in the organization, as in AWS for
        the 90 days before its resources go; the closing is done at once here."""
        org = self.service.org(ctx)
        account = self.service.account(org, params["AccountId"])
        if account.account == org.management:
            raise _constraint("You can't close the management account with this API.")
        if account.status != "ACTIVE":
            raise error(
                "AccountAlreadyClosedException", "You attempted to close an account that is already closed."
            )
        self.service.store.close_account(account.account)
        self.service.changed()
        return {}

    def leave_organization(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        org = self.service.org(ctx, management=False)
        if org.management == ctx.account_id:
            raise _constraint("The management account can't leave the organization.")
        self._leave(org, ctx.account_id)
        return {}

    def _leave(self, org: Organization, account: str) -> None:
        self.service.store.remove_account(org.id, account)
        self.service.changed()


def _constraint(message: str) -> ServiceError:
    return error("ConstraintViolationException", message, 400)
