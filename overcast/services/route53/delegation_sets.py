"""Reusable delegation sets: four name servers an account keeps for the hosted zones it creates with them (so
moving a domain's zones keeps its NS records), made anew or taken from an existing zone."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.route53.common import bare, invalid_input, max_items, new_id
from overcast.services.route53.zones import name_servers

if TYPE_CHECKING:
    from overcast.services.route53.provider import Route53Provider

MAX_SETS = 100  # per account (MAX_REUSABLE_DELEGATION_SETS_BY_OWNER)
MAX_ZONES_PER_SET = 100  # MAX_ZONES_BY_REUSABLE_DELEGATION_SET


def no_delegation_set() -> ServiceError:
    return ServiceError(
        "NoSuchDelegationSet", "A reusable delegation set with the specified ID does not exist.", 400
    )


class DelegationSetOperations(Operations):
    service: Route53Provider

    def delegation_set(self, ctx: RequestContext, set_id: str) -> tuple[str, str, list[str]]:
        """(id, caller reference, name servers) of one of the caller's sets."""
        set_id = bare(set_id)
        found = self.service.store.delegation_set(set_id)
        if found is None or found[0] != ctx.account_id:
            raise no_delegation_set()
        return set_id, found[1], found[2]

    @staticmethod
    def described(set_id: str, reference: str, servers: list[str]) -> dict[str, Any]:
        return {"Id": f"/delegationset/{set_id}", "CallerReference": reference, "NameServers": servers}

    def create_reusable_delegation_set(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        store = self.service.store
        reference = params["CallerReference"]
        if store.delegation_set_by_reference(ctx.account_id, reference) is not None:
            raise ServiceError(
                "DelegationSetAlreadyCreated",
                "A delegation set with the same owner and caller reference combination has already been created.",
                400,
            )
        if len(store.delegation_sets(ctx.account_id)) >= MAX_SETS:
            raise ServiceError(
                "LimitsExceeded",
                "This operation can't be completed because the current account has reached the limit on the resource you are trying to create.",
                400,
            )
        set_id = new_id("N")
        zone = None
        if params.get("HostedZoneId"):  # the zone's own name servers become reusable
            zone = store.zone(bare(params["HostedZoneId"]))
            if zone is None or zone.account != ctx.account_id:
                raise ServiceError("HostedZoneNotFound", "The specified HostedZone can't be found.", 400)
            if zone.private:
                raise invalid_input("A private hosted zone doesn't have a delegation set.")
            if zone.delegation_set:
                raise ServiceError(
                    "DelegationSetAlreadyReusable",
                    "The specified delegation set has already been marked as reusable.",
                    400,
                )
            servers = zone.name_servers
            zone.delegation_set = set_id
            store.put_zone(zone)
        else:
            servers = name_servers()
        store.put_delegation_set(set_id, ctx.account_id, reference, servers, self.clock.now())
        return {
            "DelegationSet": self.described(set_id, reference, servers),
            "Location": f"https://route53.amazonaws.com/2013-04-01/delegationset/{set_id}",
        }

    def get_reusable_delegation_set(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"DelegationSet": self.described(*self.delegation_set(ctx, params["Id"]))}

    def list_reusable_delegation_sets(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = max_items(params.get("MaxItems"), 100, 100)
        sets = self.service.store.delegation_sets(ctx.account_id)
        start = 0
        if params.get("Marker"):
            ids = [item[0] for item in sets]
            marker = bare(params["Marker"])
            if marker not in ids:
                raise invalid_input("Invalid marker.")
            start = ids.index(marker)
        page = sets[start : start + limit]
        result: dict[str, Any] = {
            "DelegationSets": [self.described(*item) for item in page],
            "Marker": params.get("Marker") or "",
            "IsTruncated": start + limit < len(sets),
            "MaxItems": str(limit),
        }
        if result["IsTruncated"]:
            result["NextMarker"] = sets[start + limit][0]
        return result

    def delete_reusable_delegation_set(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        set_id, _, _ = self.delegation_set(ctx, params["Id"])
        if self.service.store.zones_using(set_id):
            raise ServiceError(
                "DelegationSetInUse",
                "The specified delegation contains associated hosted zones which must be deleted before the reusable delegation set can be deleted.",
                400,
            )
        self.service.store.delete_delegation_set(set_id)
        return {}

    def get_reusable_delegation_set_limit(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        set_id, _, _ = self.delegation_set(ctx, params["DelegationSetId"])
        return {
            "Limit": {"Type": params["Type"], "Value": MAX_ZONES_PER_SET},
            "Count": self.service.store.zones_using(set_id),
        }
