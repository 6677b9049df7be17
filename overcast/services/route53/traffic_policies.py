"""Traffic policies (versioned documents of rules and endpoints) and their instances: a record set of a hosted
zone that the DNS server answers by walking the document (`resolver.Resolver._traffic`)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.route53.common import PROPAGATION_SECONDS, bare, invalid_input, max_items, no_zone
from overcast.services.route53.names import normalize, shown, sort_key, valid, within
from overcast.services.route53.traffic_documents import parse

if TYPE_CHECKING:
    from overcast.services.route53.provider import Route53Provider

MAX_POLICIES = 50  # per account (MAX_TRAFFIC_POLICIES_BY_OWNER)
MAX_VERSIONS = 1000
MAX_INSTANCES = 5  # per account (MAX_TRAFFIC_POLICY_INSTANCES_BY_OWNER)
BASE = "https://route53.amazonaws.com/2013-04-01"


def no_policy() -> ServiceError:
    return ServiceError("NoSuchTrafficPolicy", "No traffic policy exists with the specified ID.", 404)


def no_instance() -> ServiceError:
    return ServiceError(
        "NoSuchTrafficPolicyInstance", "No traffic policy instance exists with the specified ID.", 404
    )


class TrafficPolicyOperations(Operations):
    service: Route53Provider

    def policy(self, ctx: RequestContext, policy_id: str, version: int) -> dict[str, Any]:
        found = self.service.store.traffic_policy(policy_id, version)
        if found is None or found[0] != ctx.account_id:
            raise no_policy()
        return found[1]

    def versions(self, ctx: RequestContext, policy_id: str) -> list[dict[str, Any]]:
        found = [policy for account, policy in self.service.store.traffic_policy_versions(policy_id)
                 if account == ctx.account_id]  # fmt: skip
        if not found:
            raise no_policy()
        return found

    # -- policies --------------------------------------------------------------------------------------------------

    def create_traffic_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        store = self.service.store
        document = parse(params["Document"])
        if store.traffic_policy_named(ctx.account_id, params["Name"]) is not None:
            raise ServiceError(
                "TrafficPolicyAlreadyExists",
                "A traffic policy that has the same value for Name already exists.",
                409,
            )
        if len(store.traffic_policy_summaries(ctx.account_id)) >= MAX_POLICIES:
            raise ServiceError(
                "TooManyTrafficPolicies",
                "This traffic policy can't be created because the current account has reached the limit on the number of traffic policies.",
                400,
            )
        policy = {"Id": str(uuid.uuid4()), "Version": 1, "Name": params["Name"], "Type": document["RecordType"],
                  "Document": params["Document"]}  # fmt: skip
        if params.get("Comment"):
            policy["Comment"] = params["Comment"]
        store.put_traffic_policy(policy, ctx.account_id)
        return {"TrafficPolicy": policy, "Location": f"{BASE}/trafficpolicy/{policy['Id']}/1"}

    def create_traffic_policy_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        versions = self.versions(ctx, params["Id"])
        document = parse(params["Document"])
        latest = versions[-1]
        if latest["Version"] >= MAX_VERSIONS:
            raise ServiceError(
                "TooManyTrafficPolicyVersionsForCurrentPolicy",
                "This traffic policy version can't be created because you've reached the limit of 1000 on the number of versions that you can create for the current traffic policy.",
                400,
            )
        policy = {"Id": latest["Id"], "Version": latest["Version"] + 1, "Name": latest["Name"],
                  "Type": document["RecordType"], "Document": params["Document"]}  # fmt: skip
        if params.get("Comment"):
            policy["Comment"] = params["Comment"]
        self.service.store.put_traffic_policy(policy, ctx.account_id)
        return {
            "TrafficPolicy": policy,
            "Location": f"{BASE}/trafficpolicy/{policy['Id']}/{policy['Version']}",
        }

    def get_traffic_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"TrafficPolicy": self.policy(ctx, params["Id"], params["Version"])}

    def update_traffic_policy_comment(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        policy = self.policy(ctx, params["Id"], params["Version"])
        policy["Comment"] = params["Comment"]
        self.service.store.put_traffic_policy(policy, ctx.account_id)
        return {"TrafficPolicy": policy}

    def delete_traffic_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        policy = self.policy(ctx, params["Id"], params["Version"])
        if self.service.store.count_policy_instances(policy["Id"], policy["Version"]):
            raise ServiceError(
                "TrafficPolicyInUse",
                "One or more traffic policy instances were created by using the specified traffic policy.",
                400,
            )
        self.service.store.delete_traffic_policy(policy["Id"], policy["Version"])
        return {}

    def list_traffic_policies(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = max_items(params.get("MaxItems"), 100, 100)
        summaries = self.service.store.traffic_policy_summaries(ctx.account_id)
        marker = params.get("TrafficPolicyIdMarker")
        start = (
            next((i for i, item in enumerate(summaries) if item["Id"] >= marker), len(summaries))
            if marker
            else 0
        )
        page = summaries[start : start + limit]
        truncated = start + limit < len(summaries)
        return {"TrafficPolicySummaries": page, "IsTruncated": truncated, "MaxItems": str(limit),
                "TrafficPolicyIdMarker": summaries[start + limit]["Id"] if truncated else (marker or "")}  # fmt: skip

    def list_traffic_policy_versions(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = max_items(params.get("MaxItems"), 100, 100)
        versions = self.versions(ctx, params["Id"])
        marker = params.get("TrafficPolicyVersionMarker")
        start = next((i for i, p in enumerate(versions) if str(p["Version"]) == marker), 0) if marker else 0
        page = versions[start : start + limit]
        truncated = start + limit < len(versions)
        return {"TrafficPolicies": page, "IsTruncated": truncated, "MaxItems": str(limit),
                "TrafficPolicyVersionMarker": str(versions[start + limit]["Version"]) if truncated else (marker or "")}  # fmt: skip

    # -- instances -------------------------------------------------------------------------------------------------

    def described_instance(self, changed: float, fields: dict[str, Any]) -> dict[str, Any]:
        """An instance as described: `Creating` (or `Updating`) while its change propagates, then `Applied`."""
        applied = self.clock.now() - changed >= PROPAGATION_SECONDS
        return {
            **fields,
            "Name": shown(fields["Name"]),
            "State": "Applied" if applied else "Creating",
            "Message": "",
        }

    def instance(self, ctx: RequestContext, instance_id: str) -> tuple[float, dict[str, Any]]:
        found = self.service.store.instance(instance_id)
        if found is None or found[0] != ctx.account_id:
            raise no_instance()
        return found[1], found[2]

    def create_traffic_policy_instance(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        store = self.service.store
        zone_id = bare(params["HostedZoneId"])
        zone = store.zone(zone_id)
        if zone is None or zone.account != ctx.account_id:
            raise no_zone(zone_id)
        policy = self.policy(ctx, params["TrafficPolicyId"], params["TrafficPolicyVersion"])
        name = normalize(params["Name"])
        if not valid(name) or not within(name, zone.name):
            raise invalid_input(f"The name {params['Name']} is not in the hosted zone {shown(zone.name)}")
        if store.record_sets_of_type(zone.id, name, policy["Type"]) or (
            policy["Type"] == "CNAME" and store.record_sets(zone.id, name)
        ):
            raise invalid_input(
                f"Tried to create resource record set [name='{shown(name)}', type='{policy['Type']}'] but it already exists"
            )
        if len(store.instances(ctx.account_id)) >= MAX_INSTANCES:
            raise ServiceError(
                "TooManyTrafficPolicyInstances",
                "This traffic policy instance can't be created because the current account has reached the limit on the number of traffic policy instances.",
                400,
            )
        fields = {"Id": str(uuid.uuid4()), "HostedZoneId": zone.id, "Name": name, "TTL": params["TTL"],
                  "TrafficPolicyId": policy["Id"], "TrafficPolicyVersion": policy["Version"],
                  "TrafficPolicyType": policy["Type"]}  # fmt: skip
        now = self.clock.now()
        store.put_instance(fields, ctx.account_id, now)
        store.put_record_set(zone.id, name, policy["Type"], "", sort_key(name),
                             {"Name": shown(name), "Type": policy["Type"], "TrafficPolicyInstanceId": fields["Id"]})  # fmt: skip
        self.service.changed()
        return {"TrafficPolicyInstance": self.described_instance(now, fields),
                "Location": f"{BASE}/trafficpolicyinstance/{fields['Id']}"}  # fmt: skip

    def get_traffic_policy_instance(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"TrafficPolicyInstance": self.described_instance(*self.instance(ctx, params["Id"]))}

    def update_traffic_policy_instance(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        _, fields = self.instance(ctx, params["Id"])
        policy = self.policy(ctx, params["TrafficPolicyId"], params["TrafficPolicyVersion"])
        if policy["Type"] != fields["TrafficPolicyType"]:
            raise ServiceError(
                "ConflictingTypes",
                "You tried to update a traffic policy instance by using a traffic policy version that has a different DNS type than the current type for the instance.",
                400,
            )
        fields.update(TTL=params["TTL"], TrafficPolicyId=policy["Id"], TrafficPolicyVersion=policy["Version"])
        now = self.clock.now()
        self.service.store.put_instance(fields, ctx.account_id, now)
        self.service.changed()
        return {"TrafficPolicyInstance": self.described_instance(now, fields)}

    def delete_traffic_policy_instance(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        _, fields = self.instance(ctx, params["Id"])
        store = self.service.store
        store.delete_record_set(fields["HostedZoneId"], fields["Name"], fields["TrafficPolicyType"], "")
        store.delete_instance(fields["Id"])
        self.service.changed()
        return {}

    def get_traffic_policy_instance_count(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        return {"TrafficPolicyInstanceCount": len(self.service.store.instances(ctx.account_id))}

    def _listing(
        self, found: list[tuple[float, dict[str, Any]]], params: dict[str, Any], zone_marker: bool
    ) -> dict[str, Any]:
        """A page of instances after the markers (zone, name, type), with the markers of the next page."""
        limit = max_items(params.get("MaxItems"), 100, 100)
        after = (params.get("HostedZoneIdMarker") or "", normalize(params["TrafficPolicyInstanceNameMarker"])
                 if params.get("TrafficPolicyInstanceNameMarker") else "", params.get("TrafficPolicyInstanceTypeMarker") or "")  # fmt: skip

        def key(item: dict[str, Any]) -> tuple[str, str, str]:
            return (item["HostedZoneId"] if zone_marker else "", item["Name"], item["TrafficPolicyType"])

        remaining = [entry for entry in found if key(entry[1]) >= after] if any(after) else found
        page, rest = remaining[:limit], remaining[limit:]
        result: dict[str, Any] = {"TrafficPolicyInstances": [self.described_instance(*entry) for entry in page],
                                  "IsTruncated": bool(rest), "MaxItems": str(limit)}  # fmt: skip
        if rest:
            following = rest[0][1]
            if zone_marker:
                result["HostedZoneIdMarker"] = following["HostedZoneId"]
            result["TrafficPolicyInstanceNameMarker"] = shown(following["Name"])
            result["TrafficPolicyInstanceTypeMarker"] = following["TrafficPolicyType"]
        return result

    def list_traffic_policy_instances(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._listing(self.service.store.instances(ctx.account_id), params, True)

    def list_traffic_policy_instances_by_hosted_zone(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        zone_id = bare(params["HostedZoneId"])
        zone = self.service.store.zone(zone_id)
        if zone is None or zone.account != ctx.account_id:
            raise no_zone(zone_id)
        return self._listing(self.service.store.instances(ctx.account_id, zone_id=zone.id), params, False)

    def list_traffic_policy_instances_by_policy(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        policy = self.policy(ctx, params["TrafficPolicyId"], params["TrafficPolicyVersion"])
        found = self.service.store.instances(ctx.account_id, policy=(policy["Id"], policy["Version"]))
        return self._listing(found, params, True)
