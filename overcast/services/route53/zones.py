"""Hosted zones: public and private (VPC associations), their default NS and SOA records, comments, counts,
limits, tags, query logging configurations and DNSSEC settings."""

from __future__ import annotations

import base64
import hashlib
import os
import struct
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import dns.name
from cryptography.hazmat.primitives import serialization

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.kit.tags import TagRules, tag_dict, tag_list
from overcast.services.route53.common import (
    TAG_REGION,
    bare,
    invalid_input,
    max_items,
    new_id,
    no_health_check,
    no_zone,
)
from overcast.services.route53.names import normalize, shown, sort_key, valid
from overcast.services.route53.store import Zone

if TYPE_CHECKING:
    from overcast.services.route53.provider import Route53Provider

MAX_ZONES = 500
MAX_AUTHORIZATIONS = 100  # VPCs of other accounts authorized per zone
RULES = TagRules(
    max_tags=50,
    too_many=lambda limit: invalid_input(
        "Number of tags specified exceeds the limit of 50 tags per resource"
    ),
    invalid=lambda key: invalid_input(f"Invalid tag key or value: {key}"),
)


def name_servers() -> list[str]:
    """Four name servers of AWS's four top-level domains, as a delegation set has."""
    picks = [int.from_bytes(os.urandom(2), "big") for _ in range(4)]
    return [
        f"ns-{picks[0] % 512}.awsdns-{picks[0] % 64:02d}.com",
        f"ns-{512 + picks[1] % 512}.awsdns-{picks[1] % 64:02d}.net",
        f"ns-{1024 + picks[2] % 512}.awsdns-{picks[2] % 64:02d}.org",
        f"ns-{1536 + picks[3] % 512}.awsdns-{picks[3] % 64:02d}.co.uk",
    ]


def dnssec_records(zone_name: str, public_key_der: bytes) -> dict[str, Any]:
    """A key-signing key's DNSKEY and DS records (ECDSAP256SHA256, SHA-256) from its KMS key's public key."""
    numbers = serialization.load_der_public_key(public_key_der).public_numbers()  # type: ignore[union-attr]
    raw = numbers.x.to_bytes(32, "big") + numbers.y.to_bytes(32, "big")
    key = base64.b64encode(raw).decode()
    rdata = struct.pack("!HBB", 257, 3, 13) + raw  # flags (a KSK), protocol, algorithm 13
    total = sum(byte if i & 1 else byte << 8 for i, byte in enumerate(rdata))  # RFC 4034, appendix B
    tag = (total + (total >> 16)) & 0xFFFF
    owner = dns.name.from_text(zone_name).canonicalize().to_wire()
    digest = hashlib.sha256(owner + rdata).hexdigest().upper()  # RFC 4509: the DS digest
    return {"KeyTag": tag, "DigestValue": digest, "PublicKey": key,
            "DSRecord": f"{tag} 13 2 {digest}", "DNSKEYRecord": f"257 3 13 {key}"}  # fmt: skip


def zone_arn(zone_id: str) -> str:
    return f"arn:aws:route53:::hostedzone/{zone_id}"


def health_check_arn(check_id: str) -> str:
    return f"arn:aws:route53:::healthcheck/{check_id}"


class ZoneOperations(Operations):
    service: Route53Provider

    def zone(self, ctx: RequestContext, zone_id: str) -> Zone:
        zone_id = bare(zone_id)
        zone = self.service.store.zone(zone_id)
        if zone is None or zone.account != ctx.account_id:
            raise no_zone(zone_id)
        return zone

    def described(self, zone: Zone, record_count: int | None = None) -> dict[str, Any]:
        config: dict[str, Any] = {"PrivateZone": zone.private}
        if zone.comment is not None:
            config["Comment"] = zone.comment
        if record_count is None:
            record_count = self.service.store.count_records(zone.id)
        return {
            "Id": f"/hostedzone/{zone.id}",
            "Name": shown(zone.name),
            "CallerReference": zone.caller_reference,
            "Config": config,
            "ResourceRecordSetCount": record_count,
        }

    # -- create / get / delete ----------------------------------------------------------------------------------

    async def create_hosted_zone(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        vpc = params.get("VPC")
        if vpc:
            await self.service.check_vpc(ctx, vpc)
        with self.db.transaction():
            return self._create(ctx, params)

    def _create(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        store = self.service.store
        name = normalize(params["Name"])
        if not valid(name) or name == "." or "*" in name:
            raise ServiceError("InvalidDomainName", f"{params['Name']} is not a valid domain name.", 400)
        config = params.get("HostedZoneConfig") or {}
        vpc = params.get("VPC")
        private = bool(config.get("PrivateZone")) or bool(vpc)
        if config.get("PrivateZone") and not vpc:
            raise invalid_input(
                "When you're creating a private hosted zone (when you specify true for PrivateZone), you must also "
                "specify values for VPCId and VPCRegion."
            )
        if vpc and config.get("PrivateZone") is False:
            raise invalid_input("A public hosted zone cannot be associated with a VPC.")
        if store.zone_by_reference(ctx.account_id, params["CallerReference"]) is not None:
            raise ServiceError(
                "HostedZoneAlreadyExists",
                "A hosted zone has already been created with the specified caller reference.",
                409,
            )
        if store.count_zones(ctx.account_id) >= MAX_ZONES:
            raise ServiceError(
                "TooManyHostedZones", "The limit on the number of hosted zones has been exceeded.", 400
            )
        servers = name_servers()
        delegation_set = params.get("DelegationSetId")
        if delegation_set:  # a reusable set's name servers
            delegation_set = bare(delegation_set)
            found = store.delegation_set(delegation_set)
            if found is None or found[0] != ctx.account_id:
                raise ServiceError(
                    "NoSuchDelegationSet",
                    "A reusable delegation set with the specified ID does not exist.",
                    400,
                )
            servers = found[2]
        zone = Zone(new_id("Z"), ctx.account_id, name, sort_key(name), params["CallerReference"], config.get("Comment"),
                    private, servers, self.clock.now(), delegation_set)  # fmt: skip
        store.put_zone(zone)
        if vpc:
            store.add_vpc(zone.id, vpc["VPCId"], vpc.get("VPCRegion") or ctx.region)
        store.put_record_set(zone.id, name, "NS", "", sort_key(name), {
            "Name": shown(name), "Type": "NS", "TTL": 172800,
            "ResourceRecords": [{"Value": f"{server}."} for server in servers],
        })  # fmt: skip
        soa = f"{servers[0]}. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400"
        store.put_record_set(zone.id, name, "SOA", "", sort_key(name), {
            "Name": shown(name), "Type": "SOA", "TTL": 900, "ResourceRecords": [{"Value": soa}],
        })  # fmt: skip
        change = self.service.new_change(ctx, config.get("Comment"))
        self.service.changed()
        result: dict[str, Any] = {
            "HostedZone": self.described(zone),
            "ChangeInfo": change,
            "Location": f"https://route53.amazonaws.com/2013-04-01/hostedzone/{zone.id}",
        }
        if private:
            result["VPC"] = {"VPCRegion": vpc.get("VPCRegion") or ctx.region, "VPCId": vpc["VPCId"]}
        else:
            result["DelegationSet"] = self.delegation(zone)
        return result

    def get_hosted_zone(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        zone = self.zone(ctx, params["Id"])
        result: dict[str, Any] = {"HostedZone": self.described(zone)}
        if zone.private:
            result["VPCs"] = [
                {"VPCRegion": region, "VPCId": vpc} for vpc, region in self.service.store.vpcs(zone.id)
            ]
        else:
            result["DelegationSet"] = self.delegation(zone)
        return result

    @staticmethod
    def delegation(zone: Zone) -> dict[str, Any]:
        """A public zone's name servers, and the reusable delegation set they come from."""
        if zone.delegation_set:
            return {"Id": f"/delegationset/{zone.delegation_set}", "NameServers": zone.name_servers}
        return {"NameServers": zone.name_servers}

    def delete_hosted_zone(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        zone = self.zone(ctx, params["Id"])
        store = self.service.store
        apex_defaults = sum(
            1 for doc in store.record_sets(zone.id, zone.name) if doc["Type"] in ("NS", "SOA")
        )
        if store.count_records(zone.id) > apex_defaults:
            raise ServiceError(
                "HostedZoneNotEmpty",
                "The specified hosted zone contains non-required resource record sets and so cannot be deleted.",
                400,
            )
        store.delete_zone(zone.id)
        self.service.tags.forget(zone_arn(zone.id))
        self.service.changed()
        return {"ChangeInfo": self.service.new_change(ctx, None)}

    def update_hosted_zone_comment(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        zone = self.zone(ctx, params["Id"])
        zone.comment = params.get("Comment")
        self.service.store.put_zone(zone)
        return {"HostedZone": self.described(zone)}

    # -- listings -------------------------------------------------------------------------------------------------

    def list_hosted_zones(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = max_items(params.get("MaxItems"), 100, 100)
        store = self.service.store
        private_only = params.get("HostedZoneType") == "PrivateHostedZone"
        position = None
        if params.get("Marker"):
            position = store.zone_position(ctx.account_id, bare(params["Marker"]), private_only)
            if position is None:
                raise invalid_input("Invalid marker.")
        # one more than the page: whether there are more
        zones = store.zones_page(ctx.account_id, private_only, position, limit + 1)
        result: dict[str, Any] = {
            "HostedZones": [self.described(zone, count) for zone, count in zones[:limit]],
            "IsTruncated": len(zones) > limit,
            "MaxItems": str(limit),
        }
        result["Marker"] = params.get("Marker") or ""
        if result["IsTruncated"]:
            result["NextMarker"] = zones[limit][0].id
        return result

    def list_hosted_zones_by_name(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = max_items(params.get("MaxItems"), 100, 100)
        zones = self.service.store.zones_by_name(ctx.account_id)
        if params.get("HostedZoneId") and not params.get("DNSName"):
            raise invalid_input("The DNS name is required when a hosted zone ID is specified.")
        start = 0
        if params.get("DNSName"):
            key = sort_key(normalize(params["DNSName"]))
            start = next((i for i, zone in enumerate(zones) if zone.sort_key >= key), len(zones))
            if params.get("HostedZoneId"):
                wanted = bare(params["HostedZoneId"])
                start = next(
                    (i for i in range(start, len(zones)) if zones[i].id >= wanted or zones[i].sort_key > key),
                    len(zones),
                )
        page = zones[start : start + limit]
        result: dict[str, Any] = {
            "HostedZones": [self.described(zone) for zone in page],
            "IsTruncated": start + limit < len(zones),
            "MaxItems": str(limit),
        }
        if params.get("DNSName"):
            result["DNSName"] = params["DNSName"]
        if params.get("HostedZoneId"):
            result["HostedZoneId"] = params["HostedZoneId"]
        if result["IsTruncated"]:
            following = zones[start + limit]
            result["NextDNSName"] = shown(following.name)
            result["NextHostedZoneId"] = following.id
        return result

    def list_hosted_zones_by_vpc(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = max_items(params.get("MaxItems"), 100, 100)
        zones = self.service.store.zones_of_vpc(params["VPCId"], params["VPCRegion"])
        summaries = [
            {"HostedZoneId": zone.id, "Name": shown(zone.name), "Owner": {"OwningAccount": zone.account}}
            for zone in zones
        ]
        return {"HostedZoneSummaries": summaries[:limit], "MaxItems": str(limit)}

    def get_hosted_zone_count(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"HostedZoneCount": self.service.store.count_zones(ctx.account_id)}

    def get_hosted_zone_limit(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        zone = self.zone(ctx, params["HostedZoneId"])
        if params["Type"] == "MAX_RRSETS_BY_ZONE":
            count = self.service.store.count_records(zone.id)
            return {"Limit": {"Type": "MAX_RRSETS_BY_ZONE", "Value": 10000}, "Count": count}
        return {
            "Limit": {"Type": params["Type"], "Value": 300},
            "Count": len(self.service.store.vpcs(zone.id)),
        }

    def get_account_limit(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        store = self.service.store
        counts = {
            "MAX_HEALTH_CHECKS_BY_OWNER": (200, len(store.health_checks(ctx.account_id))),
            "MAX_HOSTED_ZONES_BY_OWNER": (MAX_ZONES, store.count_zones(ctx.account_id)),
            "MAX_TRAFFIC_POLICY_INSTANCES_BY_OWNER": (5, len(store.instances(ctx.account_id))),
            "MAX_REUSABLE_DELEGATION_SETS_BY_OWNER": (100, len(store.delegation_sets(ctx.account_id))),
            "MAX_TRAFFIC_POLICIES_BY_OWNER": (50, len(store.traffic_policy_summaries(ctx.account_id))),
        }
        value, count = counts[params["Type"]]
        return {"Limit": {"Type": params["Type"], "Value": value}, "Count": count}

    # -- VPC associations -----------------------------------------------------------------------------------------

    async def associate_vpc_with_hosted_zone(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        await self.service.check_vpc(ctx, params["VPC"])
        with self.db.transaction():
            zone = self._zone_for_vpc(ctx, params["HostedZoneId"], params["VPC"])
            if not zone.private:
                raise ServiceError(
                    "PublicZoneVPCAssociation",
                    "You're trying to associate a VPC with a public hosted zone. Amazon Route 53 doesn't support associating a VPC with a public hosted zone.",
                    400,
                )
            vpc = params["VPC"]
            region = vpc.get("VPCRegion") or ctx.region
            if (vpc["VPCId"], region) in self.service.store.vpcs(zone.id):
                raise ServiceError(
                    "ConflictingDomainExists",
                    f"The VPC {vpc['VPCId']} is already associated with the hosted zone {zone.id} with the same domain name.",
                    400,
                )
            self.service.store.add_vpc(zone.id, vpc["VPCId"], region)
            self.service.changed()
            return {"ChangeInfo": self.service.new_change(ctx, params.get("Comment"))}

    def _zone_for_vpc(self, ctx: RequestContext, zone_id: str, vpc: dict[str, Any]) -> Zone:
        """The zone a VPC is associated with: the caller's, or another account's that authorized the VPC
        (CreateVPCAssociationAuthorization), the caller then being the VPC's owner."""
        zone_id = bare(zone_id)
        zone = self.service.store.zone(zone_id)
        if zone is None:
            raise no_zone(zone_id)
        if zone.account != ctx.account_id:
            key = (vpc["VPCId"], vpc.get("VPCRegion") or ctx.region)
            if key not in self.service.store.authorizations(zone.id):
                raise ServiceError(
                    "NotAuthorizedException",
                    "Associating the specified VPC with the specified hosted zone has not been authorized.",
                    401,
                )
        return zone

    async def disassociate_vpc_from_hosted_zone(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        await self.service.check_vpc(ctx, params["VPC"])
        with self.db.transaction():
            return self._disassociate(ctx, params)

    def _disassociate(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        vpc = params["VPC"]
        zone_id = bare(params["HostedZoneId"])
        zone = self.service.store.zone(zone_id)
        region = vpc.get("VPCRegion") or ctx.region
        # the zone's owner, or the owner of an associated VPC (checked against EC2 above), may disassociate it
        if zone is None or (
            zone.account != ctx.account_id and (vpc["VPCId"], region) not in self.service.store.vpcs(zone.id)
        ):
            raise no_zone(zone_id)
        vpcs = self.service.store.vpcs(zone.id)
        if (vpc["VPCId"], region) not in vpcs:
            raise ServiceError(
                "VPCAssociationNotFound",
                f"The specified VPC {vpc['VPCId']} is not associated with the hosted zone {zone.id}",
                404,
            )
        if len(vpcs) == 1:
            raise ServiceError(
                "LastVPCAssociation",
                "The VPC that you're trying to disassociate from the private hosted zone is the last VPC that is "
                "associated with the hosted zone. Amazon Route 53 doesn't support disassociating the last VPC from a hosted zone.",
                400,
            )
        self.service.store.remove_vpc(zone.id, vpc["VPCId"], region)
        self.service.changed()
        return {"ChangeInfo": self.service.new_change(ctx, params.get("Comment"))}

    # -- VPCs of other accounts ----------------------------------------------------------------------------------------

    def create_vpc_association_authorization(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        zone = self.zone(ctx, params["HostedZoneId"])
        vpc = params["VPC"]
        if not vpc.get("VPCId"):
            raise invalid_input("VPCId is required.")
        region = vpc.get("VPCRegion") or ctx.region
        store = self.service.store
        if (vpc["VPCId"], region) not in store.authorizations(zone.id) and len(
            store.authorizations(zone.id)
        ) >= MAX_AUTHORIZATIONS:
            raise ServiceError(
                "TooManyVPCAssociationAuthorizations",
                "You've created the maximum number of authorizations that can be created for the specified hosted zone.",
                400,
            )
        store.authorize_vpc(zone.id, vpc["VPCId"], region)
        return {"HostedZoneId": zone.id, "VPC": {"VPCRegion": region, "VPCId": vpc["VPCId"]}}

    def delete_vpc_association_authorization(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        zone = self.zone(ctx, params["HostedZoneId"])
        vpc = params["VPC"]
        if not self.service.store.deauthorize_vpc(
            zone.id, vpc.get("VPCId", ""), vpc.get("VPCRegion") or ctx.region
        ):
            raise ServiceError(
                "VPCAssociationAuthorizationNotFound",
                "The VPC that you specified is not authorized to be associated with the hosted zone.",
                404,
            )
        return {}

    def list_vpc_association_authorizations(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        zone = self.zone(ctx, params["HostedZoneId"])
        limit = max_items(params.get("MaxResults"), 50, 50)
        vpcs = self.service.store.authorizations(zone.id)
        start = 0
        if params.get("NextToken"):
            token = params["NextToken"]
            if not token.isdigit() or int(token) >= len(vpcs):
                raise ServiceError(
                    "InvalidPaginationToken",
                    "The value that you specified to get the second or subsequent page of results is invalid.",
                    400,
                )
            start = int(token)
        result: dict[str, Any] = {
            "HostedZoneId": zone.id,
            "VPCs": [{"VPCRegion": region, "VPCId": vpc} for vpc, region in vpcs[start : start + limit]],
        }
        if start + limit < len(vpcs):
            result["NextToken"] = str(start + limit)
        return result

    # -- tags ------------------------------------------------------------------------------------------------------

    def _tagged(self, ctx: RequestContext, kind: str, resource_id: str) -> str:
        if kind == "hostedzone":
            return zone_arn(self.zone(ctx, resource_id).id)
        if kind == "healthcheck":
            check = self.service.store.health_check(resource_id)
            if check is None or check.account != ctx.account_id:
                raise no_health_check(resource_id)
            return health_check_arn(resource_id)
        raise invalid_input(f"Invalid resource type: {kind}")

    def change_tags_for_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = self._tagged(ctx, params["ResourceType"], bare(params["ResourceId"]))
        if params.get("AddTags"):
            self.service.tags.add(
                arn, tag_dict(params["AddTags"]), RULES, account=ctx.account_id, region=TAG_REGION
            )
        if params.get("RemoveTagKeys"):
            self.service.tags.remove(arn, params["RemoveTagKeys"])
        return {}

    def list_tags_for_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        resource_id = bare(params["ResourceId"])
        arn = self._tagged(ctx, params["ResourceType"], resource_id)
        return {"ResourceTagSet": {"ResourceType": params["ResourceType"], "ResourceId": resource_id,
                                   "Tags": tag_list(self.service.tags.get(arn))}}  # fmt: skip

    def list_tags_for_resources(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        sets = []
        for resource_id in params["ResourceIds"]:
            resource_id = bare(resource_id)
            arn = self._tagged(ctx, params["ResourceType"], resource_id)
            sets.append({"ResourceType": params["ResourceType"], "ResourceId": resource_id,
                         "Tags": tag_list(self.service.tags.get(arn))})  # fmt: skip
        return {"ResourceTagSets": sets}

    # -- query logging ----------------------------------------------------------------------------------------------

    async def create_query_logging_config(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        await self.service.check_log_group(ctx, params["CloudWatchLogsLogGroupArn"])
        with self.db.transaction():
            return self._create_query_logging(ctx, params)

    def _create_query_logging(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        zone = self.zone(ctx, params["HostedZoneId"])
        store = self.service.store
        if store.query_logging_of_zone(zone.id):
            raise ServiceError(
                "QueryLoggingConfigAlreadyExists",
                "A query logging configuration already exists for this hosted zone.",
                409,
            )
        arn = params["CloudWatchLogsLogGroupArn"]
        config_id = str(uuid.uuid4())
        store.put_query_logging(config_id, ctx.account_id, zone.id, arn)
        self.service.changed()
        config = {"Id": config_id, "HostedZoneId": zone.id, "CloudWatchLogsLogGroupArn": arn}
        return {
            "QueryLoggingConfig": config,
            "Location": f"https://route53.amazonaws.com/2013-04-01/queryloggingconfig/{config_id}",
        }

    def _query_logging(self, ctx: RequestContext, config_id: str) -> tuple[str, str, str]:
        found = self.service.store.query_logging(config_id)
        if found is None or found[0] != ctx.account_id:
            raise ServiceError(
                "NoSuchQueryLoggingConfig",
                "There is no DNS query logging configuration with the specified ID.",
                404,
            )
        return found

    def get_query_logging_config(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        _, zone_id, arn = self._query_logging(ctx, params["Id"])
        return {
            "QueryLoggingConfig": {
                "Id": params["Id"],
                "HostedZoneId": zone_id,
                "CloudWatchLogsLogGroupArn": arn,
            }
        }

    def list_query_logging_configs(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        configs = [
            {"Id": config_id, "HostedZoneId": zone_id, "CloudWatchLogsLogGroupArn": arn}
            for config_id, zone_id, arn in self.service.store.query_loggings(ctx.account_id)
            if not params.get("HostedZoneId") or zone_id == bare(params["HostedZoneId"])
        ]
        if params.get("HostedZoneId"):
            self.zone(ctx, params["HostedZoneId"])
        return {"QueryLoggingConfigs": configs}

    def delete_query_logging_config(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self._query_logging(ctx, params["Id"])
        self.service.store.delete_query_logging(params["Id"])
        self.service.changed()
        return {}

    # -- DNSSEC (kept, not signed) -------------------------------------------------------------------------------------

    def get_dnssec(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        zone = self.zone(ctx, params["HostedZoneId"])
        keys = self.service.store.key_signing_keys(zone.id)
        for key in keys:
            for stamp in ("CreatedDate", "LastModifiedDate"):
                key[stamp] = datetime.fromtimestamp(key[stamp], UTC)
        return {
            "Status": {"ServeSignature": self.service.store.dnssec_status(zone.id)},
            "KeySigningKeys": keys,
        }

    def enable_hosted_zone_dnssec(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        zone = self.zone(ctx, params["HostedZoneId"])
        if not any(key["Status"] == "ACTIVE" for key in self.service.store.key_signing_keys(zone.id)):
            raise ServiceError(
                "KeySigningKeyWithActiveStatusNotFound",
                "A key-signing key (KSK) with ACTIVE status wasn't found.",
                400,
            )
        self.service.store.set_dnssec_status(zone.id, "SIGNING")
        return {"ChangeInfo": self.service.new_change(ctx, None)}

    def disable_hosted_zone_dnssec(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        zone = self.zone(ctx, params["HostedZoneId"])
        self.service.store.set_dnssec_status(zone.id, "NOT_SIGNING")
        return {"ChangeInfo": self.service.new_change(ctx, None)}

    async def create_key_signing_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        public_key = await self.service.signing_public_key(ctx, params["KeyManagementServiceArn"])
        with self.db.transaction():
            return self._create_key_signing_key(ctx, params, public_key)

    def _create_key_signing_key(
        self, ctx: RequestContext, params: dict[str, Any], public_key: bytes
    ) -> dict[str, Any]:
        zone = self.zone(ctx, params["HostedZoneId"])
        store = self.service.store
        if any(key["Name"] == params["Name"] for key in store.key_signing_keys(zone.id)):
            raise ServiceError(
                "KeySigningKeyAlreadyExists",
                "You've already created a key-signing key (KSK) with this name or with the same customer managed key ARN.",
                409,
            )
        now = self.clock.now()
        key = {
            "Name": params["Name"],
            "KmsArn": params["KeyManagementServiceArn"],
            "Flag": 257,
            "SigningAlgorithmMnemonic": "ECDSAP256SHA256",
            "SigningAlgorithmType": 13,
            "DigestAlgorithmMnemonic": "SHA-256",
            "DigestAlgorithmType": 2,
            **dnssec_records(zone.name, public_key),
            "Status": params["Status"],
            "CreatedDate": now,
            "LastModifiedDate": now,
        }
        store.put_key_signing_key(zone.id, params["Name"], key)
        described = {
            **key,
            "CreatedDate": datetime.fromtimestamp(now, UTC),
            "LastModifiedDate": datetime.fromtimestamp(now, UTC),
        }
        return {"ChangeInfo": self.service.new_change(ctx, None), "KeySigningKey": described,
                "Location": f"https://route53.amazonaws.com/2013-04-01/keysigningkey/{zone.id}/{params['Name']}"}  # fmt: skip

    def _set_key_status(self, ctx: RequestContext, params: dict[str, Any], status: str) -> dict[str, Any]:
        zone = self.zone(ctx, params["HostedZoneId"])
        keys = {key["Name"]: key for key in self.service.store.key_signing_keys(zone.id)}
        key = keys.get(params["Name"])
        if key is None:
            raise ServiceError(
                "NoSuchKeySigningKey", "The specified key-signing key (KSK) doesn't exist.", 404
            )
        if status == "INACTIVE" and self.service.store.dnssec_status(zone.id) == "SIGNING":
            if sum(1 for k in keys.values() if k["Status"] == "ACTIVE") <= 1:
                raise ServiceError(
                    "KeySigningKeyInUse",
                    "The key-signing key (KSK) that you specified can't be deactivated because it's the only KSK for a currently-enabled DNSSEC. Disable DNSSEC signing, or add or enable another KSK.",
                    400,
                )
        key["Status"] = status
        key["LastModifiedDate"] = self.clock.now()
        self.service.store.put_key_signing_key(zone.id, key["Name"], key)
        return {"ChangeInfo": self.service.new_change(ctx, None)}

    def activate_key_signing_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._set_key_status(ctx, params, "ACTIVE")

    def deactivate_key_signing_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._set_key_status(ctx, params, "INACTIVE")

    def delete_key_signing_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        zone = self.zone(ctx, params["HostedZoneId"])
        if not any(key["Name"] == params["Name"] for key in self.service.store.key_signing_keys(zone.id)):
            raise ServiceError(
                "NoSuchKeySigningKey", "The specified key-signing key (KSK) doesn't exist.", 404
            )
        self.service.store.delete_key_signing_key(zone.id, params["Name"])
        return {"ChangeInfo": self.service.new_change(ctx, None)}
