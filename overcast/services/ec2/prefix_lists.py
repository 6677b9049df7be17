"""Managed prefix lists: the customer's (entries, versions, a maximum) and AWS's own for gateway-endpoint
services (com.amazonaws.<region>.s3 and .dynamodb), which DescribePrefixLists reports."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.ec2 import cidrs, kinds
from overcast.services.ec2.errors import bad_cidr, invalid
from overcast.services.ec2.filters import check, matches, tag_specifications
from overcast.services.ec2.ids import new_id
from overcast.services.ec2.store import Resource

if TYPE_CHECKING:
    from overcast.services.ec2.provider import Ec2Provider

FILTERS = {"owner-id": "OwnerId", "prefix-list-id": "PrefixListId", "prefix-list-name": "PrefixListName"}
AWS_FILTERS = {"prefix-list-id": "PrefixListId", "prefix-list-name": "PrefixListName"}


def prefix_list_cidrs(prefix_list: Resource) -> list[str]:
    return [entry["Cidr"] for entry in prefix_list.body["_entries"]]


class PrefixListOperations(Operations):
    service: Ec2Provider

    def create_managed_prefix_list(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net = self.service.net
        family = params["AddressFamily"]
        if family not in ("IPv4", "IPv6"):
            raise invalid(f"Invalid value '{family}' for AddressFamily. It must be IPv4 or IPv6.")
        maximum = params["MaxEntries"]
        entries = self._entries(params.get("Entries") or [], family)
        if len(entries) > maximum:
            raise invalid(f"The number of entries ({len(entries)}) exceeds the maximum ({maximum}).")
        list_id = new_id("pl")
        body: dict[str, Any] = {
            "PrefixListId": list_id,
            "AddressFamily": family,
            "State": "create-complete",
            "PrefixListArn": kinds.PREFIX_LIST.arn(ctx.region, ctx.account_id, list_id),
            "PrefixListName": params["PrefixListName"],
            "MaxEntries": maximum,
            "Version": 1,
            "OwnerId": ctx.account_id,
            "_entries": entries,
            "_versions": {"1": entries},
        }
        prefix_list = self.service.store.insert(
            Resource(
                list_id,
                ctx.account_id,
                ctx.region,
                kinds.PREFIX_LIST.name,
                body,
                name=params["PrefixListName"],
            )
        )
        net.tag(prefix_list, tag_specifications(params, "prefix-list"))
        return {"PrefixList": {**net.render(prefix_list), "State": "create-in-progress"}}

    def _entries(self, given: list[dict[str, Any]], family: str) -> list[dict[str, Any]]:
        entries = []
        for item in given:
            network = cidrs.parse_network(item.get("Cidr") or "")
            if network is None or (network.version == 4) != (family == "IPv4"):
                raise bad_cidr(item.get("Cidr"), "Cidr")
            entry = {"Cidr": str(network)}
            if item.get("Description"):
                entry["Description"] = item["Description"]
            entries.append(entry)
        return entries

    def _own(self, ctx: RequestContext, list_id: str) -> Resource:
        prefix_list = self.service.net.require(ctx, kinds.PREFIX_LIST, list_id)
        if prefix_list.body["OwnerId"] == "AWS":
            raise ServiceError(
                "InvalidPrefixListModification", "AWS-managed prefix lists cannot be modified."
            )
        return prefix_list

    def describe_managed_prefix_lists(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ids = params.get("PrefixListIds")
        return self.service.net.describe(ctx, params, kinds.PREFIX_LIST, ids, FILTERS, "PrefixLists")

    def describe_prefix_lists(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        filters = params.get("Filters") or []
        check(filters, AWS_FILTERS)
        store = self.service.store
        found = [
            p
            for p in store.page(ctx.account_id, ctx.region, kinds.PREFIX_LIST.name, 0, 100_000)
            if p.body["OwnerId"] == "AWS"
        ]
        wanted = params.get("PrefixListIds")
        if wanted:
            missing = [i for i in wanted if i not in {p.id for p in found}]
            if missing:
                raise kinds.PREFIX_LIST.not_found(missing)
            found = [p for p in found if p.id in wanted]
        described = [
            {"Cidrs": prefix_list_cidrs(p), "PrefixListId": p.id, "PrefixListName": p.body["PrefixListName"]}
            for p in found
        ]
        return {"PrefixLists": [d for d in described if matches(d, filters, AWS_FILTERS)]}

    def get_managed_prefix_list_entries(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        prefix_list = self.service.net.require(ctx, kinds.PREFIX_LIST, params["PrefixListId"])
        entries = prefix_list.body["_entries"]
        version = params.get("TargetVersion")
        if version is not None:
            versions = prefix_list.body.get("_versions") or {}
            if str(version) not in versions:
                raise ServiceError(
                    "InvalidPrefixListVersion", f"The prefix list version {version} does not exist."
                )
            entries = versions[str(version)]
        return {"Entries": entries}

    def modify_managed_prefix_list(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net, store = self.service.net, self.service.store
        prefix_list = self._own(ctx, params["PrefixListId"])
        body = prefix_list.body
        current = params.get("CurrentVersion")
        if current is not None and current != body["Version"]:
            raise ServiceError(
                "PrefixListVersionMismatch", "The prefix list has the incorrect version number."
            )
        if params.get("PrefixListName"):
            body["PrefixListName"] = prefix_list.name = params["PrefixListName"]
        if params.get("MaxEntries"):
            body["MaxEntries"] = params["MaxEntries"]
        added = self._entries(params.get("AddEntries") or [], body["AddressFamily"])
        removed = {item["Cidr"] for item in params.get("RemoveEntries") or ()}
        if added or removed:
            entries = [e for e in body["_entries"] if e["Cidr"] not in removed]
            entries += [e for e in added if e["Cidr"] not in {x["Cidr"] for x in entries}]
            if len(entries) > body["MaxEntries"]:
                raise invalid(
                    f"The number of entries ({len(entries)}) exceeds the maximum ({body['MaxEntries']})."
                )
            body["_entries"] = entries
            body["Version"] += 1
            body.setdefault("_versions", {})[str(body["Version"])] = entries
        store.save(prefix_list)
        return {"PrefixList": {**net.render(prefix_list), "State": "modify-in-progress"}}

    def delete_managed_prefix_list(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net = self.service.net
        prefix_list = self._own(ctx, params["PrefixListId"])
        described = net.render(prefix_list)
        net.forget(prefix_list)
        return {"PrefixList": {**described, "State": "delete-in-progress"}}
