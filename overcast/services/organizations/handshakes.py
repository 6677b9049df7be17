"""Handshakes: an invitation to join the organization, which the invited account accepts or declines (or the
management account cancels) within 15 days."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.services.base import Operations
from overcast.services.organizations.errors import (
    access_denied,
    already_in_organization,
    duplicate_account,
    error,
    handshake_not_found,
)
from overcast.services.organizations.ids import random_id
from overcast.services.organizations.store import Account, Handshake, Organization

if TYPE_CHECKING:
    from overcast.services.organizations.provider import OrganizationsProvider

HANDSHAKE_LIFETIME = 15 * 86400


def handshake_shape(org: Organization, handshake: Handshake) -> dict[str, Any]:
    resources = [{"Value": org.id, "Type": "ORGANIZATION"}]
    if handshake.notes:
        resources.append({"Value": handshake.notes, "Type": "NOTES"})
    return {
        "Id": handshake.id,
        "Arn": f"arn:aws:organizations::{org.management}:handshake/{org.id}/invite/{handshake.id}",
        "Parties": [{"Id": org.id[2:], "Type": "ORGANIZATION"}, {"Id": handshake.target, "Type": "ACCOUNT"}],
        "State": handshake.state,
        "RequestedTimestamp": handshake.requested,
        "ExpirationTimestamp": handshake.expires,
        "Action": "INVITE",
        "Resources": resources,
    }


class HandshakeOperations(Operations):
    service: OrganizationsProvider

    def invite_account_to_organization(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        orgs = self.service
        org = orgs.org(ctx)
        target = params["Target"]["Id"]
        if params["Target"]["Type"] == "ACCOUNT" and orgs.store.organization_of(target):
            raise duplicate_account()
        now = self.clock.now()
        handshake = Handshake(
            f"h-{random_id(32)}", org.id, target, "OPEN", now, now + HANDSHAKE_LIFETIME, params.get("Notes")
        )
        orgs.store.add_handshake(handshake)
        return {"Handshake": handshake_shape(org, self._handshake(handshake.id)[1])}

    def accept_handshake(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._respond(ctx, params["HandshakeId"], "ACCEPTED", by_target=True)

    def decline_handshake(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._respond(ctx, params["HandshakeId"], "DECLINED", by_target=True)

    def cancel_handshake(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._respond(ctx, params["HandshakeId"], "CANCELED", by_target=False)

    def describe_handshake(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        org, handshake = self._handshake(params["HandshakeId"])
        if ctx.account_id not in (org.management, handshake.target):
            raise access_denied()
        return {"Handshake": handshake_shape(org, handshake)}

    def list_handshakes_for_account(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        found = [self._handshake(i) for i in self.service.store.handshakes_for_account(ctx.account_id)]
        return self.service.listing(ctx, params, "Handshakes", [handshake_shape(o, h) for o, h in found])

    def list_handshakes_for_organization(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        org = self.service.org(ctx)
        ids = self.service.store.handshakes_of(org.id)
        shapes = [handshake_shape(org, self._handshake(i)[1]) for i in ids]
        return self.service.listing(ctx, params, "Handshakes", shapes)

    def _handshake(self, handshake_id: str) -> tuple[Organization, Handshake]:
        """A handshake and its organization; an open one past its expiry is EXPIRED from then on."""
        store = self.service.store
        handshake = store.handshake(handshake_id)
        org = store.organization(handshake.org_id) if handshake else None
        if handshake is None or org is None:
            raise handshake_not_found()
        if handshake.state == "OPEN" and self.clock.now() > handshake.expires:
            store.set_handshake_state(handshake.id, "EXPIRED")
            handshake = handshake._replace(state="EXPIRED")
        return org, handshake

    def _respond(
        self, ctx: RequestContext, handshake_id: str, state: str, *, by_target: bool
    ) -> dict[str, Any]:
        orgs = self.service
        org, handshake = self._handshake(handshake_id)
        party = handshake.target if by_target else org.management
        if ctx.account_id != party:
            raise access_denied()
        if handshake.state != "OPEN":
            raise error(
                "InvalidHandshakeTransitionException",
                f"You can't perform the operation on the handshake in its current state ({handshake.state}).",
            )
        if state == "ACCEPTED":
            if orgs.store.organization_of(ctx.account_id):
                raise already_in_organization()
            email = f"member@{ctx.account_id}.overcast.local"
            orgs.store.add_account(
                Account(
                    ctx.account_id, org.id, org.root_id, ctx.account_id, email, "INVITED", self.clock.now()
                )
            )
            orgs.grant_full_access(org, ctx.account_id)
            orgs.changed()
        orgs.store.set_handshake_state(handshake.id, state)
        return {"Handshake": handshake_shape(org, self._handshake(handshake.id)[1])}
