"""Record sets: ChangeResourceRecordSets (a batch, all or nothing), listing in AWS's order, GetChange on the
clock, TestDNSAnswer (the DNS server's own answer), and the CIDR collections IP-based routing reads."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import overcast.services.elbv2.api as elbv2
from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.route53.changes import Batch, normalized_record
from overcast.services.route53.common import bare, invalid_input, max_items
from overcast.services.route53.names import normalize, shown, sort_key, within
from overcast.services.route53.resolver import Client

if TYPE_CHECKING:
    from overcast.services.route53.provider import Route53Provider

MAX_CHANGES = 1000


class RecordOperations(Operations):
    service: Route53Provider

    def change_resource_record_sets(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        store = self.service.store
        zone = self.service.zones.zone(ctx, params["HostedZoneId"])
        batch_params = params["ChangeBatch"]
        changes = batch_params["Changes"]
        if len(changes) > MAX_CHANGES:
            raise invalid_input(f"Number of records limit of {MAX_CHANGES} exceeded.")

        def health_check(check_id: str) -> bool:
            found = store.health_check(check_id)
            return found is not None and found.account == ctx.account_id

        batch = Batch(zone.name, lambda name: store.record_sets(zone.id, name))
        for change in changes:
            key, doc = normalized_record(change, zone.name, health_check)
            if change["Action"] != "DELETE" and "AliasTarget" in doc:
                problem = self._alias_problem(ctx, zone.id, batch, key, doc)
                if problem:
                    batch.errors.append(problem)
                    continue
            batch.apply(change["Action"], key, doc)
        if batch.errors:
            raise ServiceError("InvalidChangeBatch", f"[{', '.join(batch.errors)}]", 400)
        for (name, kind, set_id), doc in batch.touched.items():
            if doc is None:
                store.delete_record_set(zone.id, name, kind, set_id)
            else:
                store.put_record_set(zone.id, name, kind, set_id, sort_key(name), doc)
        self.service.changed()
        return {"ChangeInfo": self.service.new_change(ctx, batch_params.get("Comment"))}

    def _alias_problem(
        self, ctx: RequestContext, zone_id: str, batch: Batch, key: tuple[str, str, str], doc: dict[str, Any]
    ) -> str | None:
        alias = doc["AliasTarget"]
        target = normalize(alias["DNSName"])
        target_zone_id = alias["HostedZoneId"]
        head = (
            f"Tried to create an alias that targets {shown(target)}, type {key[1]} in zone {target_zone_id}"
        )
        target_zone = self.service.store.zone(target_zone_id)
        if target_zone is not None and target_zone.account == ctx.account_id:
            if not within(target, target_zone.name):
                return f"{head}, but the alias target name does not lie within the target zone"
            if target_zone_id == zone_id:
                sets = [d for d in batch.at(target).values() if d["Type"] == key[1]]
            else:
                sets = self.service.store.record_sets_of_type(target_zone_id, target, key[1])
            if not sets:
                return f"{head}, but that target was not found"
            return None
        if target.endswith(".elb.localhost.") and not elbv2.load_balancer_exists(
            self.platform, target.rstrip(".")
        ):
            return f"{head}, but the alias target name does not lie within the target zone"
        return None

    def list_resource_record_sets(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        zone = self.service.zones.zone(ctx, params["HostedZoneId"])
        limit = max_items(params.get("MaxItems"), 300, 300)
        start_name, start_type = params.get("StartRecordName"), params.get("StartRecordType")
        if start_type and not start_name:
            raise invalid_input(
                "The input is not valid: StartRecordType can be specified only with StartRecordName"
            )
        key = sort_key(normalize(start_name)) if start_name else ""
        rows = self.service.store.listing(
            zone.id, key, start_type or "", params.get("StartRecordIdentifier") or "", limit + 1
        )
        result: dict[str, Any] = {
            "ResourceRecordSets": [doc for _, _, _, doc in rows[:limit]],
            "IsTruncated": len(rows) > limit,
            "MaxItems": str(limit),
        }
        if len(rows) > limit:
            _, kind, set_id, doc = rows[limit]
            result["NextRecordName"] = doc["Name"]
            result["NextRecordType"] = kind
            if set_id:
                result["NextRecordIdentifier"] = set_id
        return result

    def get_change(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        change_id = bare(params["Id"])
        found = self.service.store.change(change_id)
        if found is None or found[0] != ctx.account_id:
            raise ServiceError(
                "NoSuchChange", f"A change with the specified change ID does not exist: {change_id}", 404
            )
        _, submitted, comment = found
        return {"ChangeInfo": self.service.change_info(change_id, submitted, comment)}

    def test_dns_answer(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        zone = self.service.zones.zone(ctx, params["HostedZoneId"])
        address = params.get("EDNS0ClientSubnetIP") or params.get("ResolverIP")
        client = Client(
            address=address, region=self.platform.config.default_region, location=self.service.location
        )
        answer = self.service.resolver.resolve(params["RecordName"], params["RecordType"], client, zone.id)
        wanted = params["RecordType"]
        return {
            "Nameserver": zone.name_servers[0],
            "RecordName": params["RecordName"],
            "RecordType": wanted,
            "RecordData": [
                value for _, kind, _, value in answer.records if kind == wanted or wanted == "ANY"
            ],
            "ResponseCode": answer.rcode,
            "Protocol": "UDP",
        }

    # -- CIDR collections (IP-based routing) -------------------------------------------------------------------------

    def _collection(self, ctx: RequestContext, collection_id: str) -> tuple[str, str, int]:
        found = self.service.store.collection(collection_id)
        if found is None or found[0] != ctx.account_id:
            raise ServiceError(
                "NoSuchCidrCollectionException", "The CIDR collection you specified, doesn't exist.", 404
            )
        return found

    def create_cidr_collection(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        store = self.service.store
        if store.collection_named(ctx.account_id, params["Name"]):
            raise ServiceError(
                "CidrCollectionAlreadyExistsException",
                "A CIDR collection with this name and a different caller reference already exists in this account.",
                400,
            )
        collection_id = str(uuid.uuid4())
        store.put_collection(collection_id, ctx.account_id, params["Name"], 1, params["CallerReference"])
        return {
            "Collection": self._described(collection_id, params["Name"], 1),
            "Location": f"https://route53.amazonaws.com/2013-04-01/cidrcollection/{collection_id}",
        }

    @staticmethod
    def _described(collection_id: str, name: str, version: int) -> dict[str, Any]:
        return {
            "Arn": f"arn:aws:route53:::cidrcollection/{collection_id}",
            "Id": collection_id,
            "Name": name,
            "Version": version,
        }

    def list_cidr_collections(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        collections = [
            {k: v for k, v in self._described(cid, name, version).items()}
            for cid, name, version in self.service.store.collections(ctx.account_id)
        ]
        return {"CidrCollections": collections}

    def change_cidr_collection(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        import ipaddress

        store = self.service.store
        _, name, version = self._collection(ctx, params["Id"])
        if params.get("CollectionVersion") is not None and params["CollectionVersion"] != version:
            raise ServiceError(
                "CidrCollectionVersionMismatchException",
                "The CIDR collection version you provided, doesn't match the one in the ListCidrCollections operation.",
                409,
            )
        for change in params["Changes"]:
            for cidr in change["CidrList"]:
                try:
                    ipaddress.ip_network(cidr, strict=True)
                except ValueError:
                    raise invalid_input(f"The CIDR block {cidr} is not valid.") from None
                if change["Action"] == "PUT":
                    store.put_cidr(params["Id"], change["LocationName"], cidr)
                else:
                    store.delete_cidr(params["Id"], change["LocationName"], cidr)
        store.put_collection(params["Id"], ctx.account_id, name, version + 1, "")
        self.service.changed()
        return {"Id": params["Id"]}

    def list_cidr_blocks(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self._collection(ctx, params["CollectionId"])
        blocks = [
            {"CidrBlock": cidr, "LocationName": location}
            for location, cidr in self.service.store.cidr_blocks(params["CollectionId"])
            if not params.get("LocationName") or location == params["LocationName"]
        ]
        return {"CidrBlocks": blocks}

    def list_cidr_locations(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self._collection(ctx, params["CollectionId"])
        locations = sorted(
            {location for location, _ in self.service.store.cidr_blocks(params["CollectionId"])}
        )
        return {"CidrLocations": [{"LocationName": location} for location in locations]}

    def delete_cidr_collection(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self._collection(ctx, params["Id"])
        if self.service.store.collection_in_use(params["Id"]):
            raise ServiceError(
                "CidrCollectionInUseException", "This CIDR collection is in use, and isn't empty.", 400
            )
        self.service.store.delete_collection(params["Id"])
        return {}
