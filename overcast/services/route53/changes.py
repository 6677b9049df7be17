"""ChangeResourceRecordSets (pure): the batch's validation and its effect, with AWS's messages.

A batch is applied in order to the zone as the earlier changes left it; either every change applies or none does.
Problems of a single record set (its shape, its values) are InvalidInput at once; problems against the zone's
contents (creating what exists, deleting what does not, CNAME conflicts, routing policies that do not mix) are
collected and reported together as InvalidChangeBatch, as Route 53 does.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

import dns.exception
import dns.rdata
import dns.rdataclass
import dns.rdatatype

from overcast.errors import ServiceError
from overcast.services.route53.names import normalize, shown, valid, within

POLICY_FIELDS = ("Weight", "Region", "Failover", "GeoLocation", "MultiValueAnswer", "CidrRoutingConfig",
                 "GeoProximityLocation")  # fmt: skip
Key = tuple[str, str, str]  # (name, type, set identifier)


def invalid_input(message: str) -> ServiceError:
    return ServiceError("InvalidInput", message, 400)


def policy_of(record: dict[str, Any]) -> str:
    for field, policy in (("Weight", "weighted"), ("Region", "latency"), ("Failover", "failover"),
                          ("GeoLocation", "geolocation"), ("MultiValueAnswer", "multivalue"),
                          ("CidrRoutingConfig", "ip-based"), ("GeoProximityLocation", "geoproximity")):  # fmt: skip
        if field in record:
            return policy
    return "simple"


def _describe(change: dict[str, Any], name: str) -> str:
    record = change["ResourceRecordSet"]
    set_id = record.get("SetIdentifier")
    return (
        f"[Action={change['Action']}, Name={shown(name)}, Type={record['Type']}, "
        f"SetIdentifier={set_id if set_id is not None else 'null'}]"
    )


def _label(key: Key) -> str:
    name, kind, set_id = key
    extra = f", set-identifier='{set_id}'" if set_id else ""
    return f"[name='{shown(name)}', type='{kind}'{extra}]"


def normalized_record(
    change: dict[str, Any], zone_name: str, health_check: Callable[[str], bool]
) -> tuple[Key, dict[str, Any]]:
    """The record set of a change as it is kept, after the checks of its own shape (InvalidInput)."""
    record = change["ResourceRecordSet"]
    name = normalize(record["Name"])
    kind = record["Type"]
    where = _describe(change, name)
    if not valid(name):
        raise invalid_input(f"Invalid request: DNS name {record['Name']} is not valid in Change with {where}")
    alias, values = record.get("AliasTarget"), record.get("ResourceRecords")
    ttl = record.get("TTL")
    if record.get("TrafficPolicyInstanceId"):
        raise invalid_input(
            "Invalid request: traffic policy instances cannot be set through ChangeResourceRecordSets"
        )
    if alias is not None and (values is not None or ttl is not None):
        raise invalid_input(
            "Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or "
            f"TrafficPolicyInstanceId], but found more than one in Change with {where}"
        )
    if alias is None and (values is None or ttl is None):
        missing = "none" if values is None and ttl is None else "more than one"
        if values is None and ttl is not None and change["Action"] != "DELETE":
            missing = "none"
        raise invalid_input(
            "Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or "
            f"TrafficPolicyInstanceId], but found {missing} in Change with {where}"
        )
    policies = [field for field in POLICY_FIELDS if field in record]
    set_id = record.get("SetIdentifier")
    if len(policies) > 1:
        raise invalid_input(
            f"Invalid request: a record set can have one routing policy only, in Change with {where}"
        )
    if policies and set_id is None:
        raise invalid_input(f"Invalid request: Missing field 'SetIdentifier' in Change with {where}")
    if set_id is not None and not policies:
        raise invalid_input(
            f"Invalid request: Missing field 'Weight', 'Region', 'Failover', 'GeoLocation', 'MultiValueAnswer', "
            f"'GeoProximityLocation' or 'CidrRoutingConfig' in Change with {where}"
        )
    if record.get("HealthCheckId") and not health_check(record["HealthCheckId"]):
        raise ServiceError(
            "NoSuchHealthCheck", f"No health check found with id {record['HealthCheckId']}", 404
        )
    if "Weight" in record and not 0 <= record["Weight"] <= 255:
        raise invalid_input(f"Invalid request: the weight must be between 0 and 255 in Change with {where}")
    geo = record.get("GeoLocation")
    if geo is not None and not geo:
        raise invalid_input(
            f"Invalid request: GeoLocation needs a continent, country or subdivision in Change with {where}"
        )
    if geo and geo.get("SubdivisionCode") and geo.get("CountryCode") != "US":
        raise invalid_input("Invalid request: subdivisions are supported only for the United States")
    doc: dict[str, Any] = {"Name": shown(name), "Type": kind}
    for field in ("SetIdentifier", *POLICY_FIELDS):
        if field in record:
            doc[field] = record[field]
    if alias is not None:
        doc["AliasTarget"] = {
            "HostedZoneId": alias["HostedZoneId"].rsplit("/", 1)[-1],
            "DNSName": shown(normalize(alias["DNSName"])),
            "EvaluateTargetHealth": alias["EvaluateTargetHealth"],
        }
    else:
        doc["TTL"] = ttl
        doc["ResourceRecords"] = [{"Value": item["Value"]} for item in values or ()]
    if record.get("HealthCheckId"):
        doc["HealthCheckId"] = record["HealthCheckId"]
    return (name, kind, set_id or ""), doc


def _value_problem(kind: str, value: str) -> str | None:
    """Route 53's wording of a bad value, or None."""
    if kind == "A":
        try:
            ipaddress.IPv4Address(value)
        except ValueError:
            return f"FATAL problem: ARRDATAIllegalIPv4Address (Value is not a valid IPv4 address) encountered with '{value}'"
        return None
    if kind == "AAAA":
        try:
            ipaddress.IPv6Address(value)
        except ValueError:
            return f"FATAL problem: AAAARRDATAIllegalIPv6Address (Value is not a valid IPv6 address) encountered with '{value}'"
        return None
    if kind in ("SPF", "TXT") and not value.startswith('"'):
        return f"FATAL problem: InvalidCharacterString (Value should be enclosed in quotation marks) encountered with '{value}'"
    try:
        dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.from_text(kind), value)
    except (dns.exception.DNSException, ValueError):
        return (
            f"FATAL problem: InvalidRDATA (Value is not valid for a {kind} record) encountered with '{value}'"
        )
    return None


class Batch:
    """A zone's record sets as a batch changes them: the store's, overlaid with the batch's changes so far."""

    def __init__(self, zone_name: str, record_sets: Callable[[str], list[dict[str, Any]]]) -> None:
        self.zone = zone_name
        self._stored = record_sets  # the stored record sets of a name
        self.overlay: dict[str, dict[Key, dict[str, Any]]] = {}  # name -> the batch's view of its record sets
        self.errors: list[str] = []
        self.touched: dict[
            Key, dict[str, Any] | None
        ] = {}  # what to write: key -> record set or None (delete)

    def at(self, name: str) -> dict[Key, dict[str, Any]]:
        if name not in self.overlay:
            self.overlay[name] = {
                (name, doc["Type"], doc.get("SetIdentifier", "")): doc for doc in self._stored(name)
            }
        return self.overlay[name]

    def apply(self, action: str, key: Key, doc: dict[str, Any]) -> None:
        name, kind, set_id = key
        if not within(name, self.zone):
            self.errors.append(f"RRSet with DNS name {shown(name)} is not permitted in zone {self.zone}")
            return
        apex = name == self.zone
        if kind == "CNAME" and apex:
            self.errors.append(
                f"RRSet of type CNAME with DNS name {shown(name)} is not permitted at apex in zone {self.zone}"
            )
            return
        if kind == "SOA" and not apex:
            self.errors.append(
                f"RRSet of type SOA with DNS name {shown(name)} is not permitted because SOA records are only allowed at the apex of zone {self.zone}"
            )
            return
        existing = self.at(name)
        if action == "DELETE":
            current = existing.get(key)
            if current is None:
                self.errors.append(f"Tried to delete resource record set {_label(key)} but it was not found")
                return
            if _content(current) != _content(doc):
                self.errors.append(
                    f"Tried to delete resource record set {_label(key)} but the values provided do not match the current values"
                )
                return
            if apex and kind in ("NS", "SOA"):
                self.errors.append(
                    "A HostedZone must contain at least one NS record for the zone itself."
                    if kind == "NS"
                    else "A HostedZone must contain exactly one SOA record."
                )
                return
            del existing[key]
            self.touched[key] = None
            return
        if action == "CREATE" and key in existing:
            self.errors.append(f"Tried to create resource record set {_label(key)} but it already exists")
            return
        if "ResourceRecords" in doc:
            values = [item["Value"] for item in doc["ResourceRecords"]]
            if not values:
                self.errors.append(
                    "Invalid Resource Record: 'FATAL problem: EmptyRecordSet (RRSet needs at least one value) encountered with ''"
                )
                return
            if kind in ("CNAME", "SOA") and len(values) > 1:
                self.errors.append(
                    f"RRSet of type {kind} with DNS name {shown(name)} contains more than one value"
                )
                return
            for value in values:
                problem = _value_problem(kind, value)
                if problem:
                    self.errors.append(f"Invalid Resource Record: '{problem}'")
                    return
        if not self._fits(key, doc, existing):
            return
        existing[key] = doc
        self.touched[key] = doc

    def _fits(self, key: Key, doc: dict[str, Any], existing: dict[Key, dict[str, Any]]) -> bool:
        """CNAME exclusivity and routing policies of a name and type (the record set replacing `key`)."""
        name, kind, set_id = key
        others = [(other, value) for other, value in existing.items() if other != key]
        for (_, other_kind, _), _ in others:
            if kind == "CNAME" and other_kind != "CNAME":
                self.errors.append(
                    f"RRSet of type CNAME with DNS name {shown(name)} is not permitted because a conflicting RRSet of type  "
                    f"{other_kind} with the same DNS name already exists in zone {self.zone}"
                )
                return False
            if other_kind == "CNAME" and kind != "CNAME":
                self.errors.append(
                    f"RRSet of type {kind} with DNS name {shown(name)} is not permitted because a conflicting RRSet of type  "
                    f"CNAME with the same DNS name already exists in zone {self.zone}"
                )
                return False
        same_type = [value for (_, other_kind, _), value in others if other_kind == kind]
        policy = policy_of(doc)
        for other in same_type:
            if policy_of(other) != policy or policy == "simple":
                self.errors.append(
                    f"RRSet with DNS name {shown(name)}, type {kind}"
                    + (f", SetIdentifier {set_id}" if set_id else "")
                    + f" cannot be created because a {policy_of(other)} RRSet with the same name and type exists"
                )
                return False
            if policy == "failover" and other.get("Failover") == doc.get("Failover"):
                self.errors.append(
                    f"RRSet with DNS name {shown(name)}, type {kind}, SetIdentifier {set_id} cannot be created because "
                    f"another RRSet with the same name and type has failover {doc['Failover']}"
                )
                return False
            if policy == "latency" and other.get("Region") == doc.get("Region"):
                self.errors.append(
                    f"RRSet with DNS name {shown(name)}, type {kind}, SetIdentifier {set_id} cannot be created because "
                    f"another RRSet with the same name and type has region {doc['Region']}"
                )
                return False
            if policy == "geolocation" and other.get("GeoLocation") == doc.get("GeoLocation"):
                self.errors.append(
                    f"RRSet with DNS name {shown(name)}, type {kind}, SetIdentifier {set_id} cannot be created because "
                    "another RRSet with the same name and type has the same location"
                )
                return False
        if policy == "multivalue" and len(same_type) >= 8:
            self.errors.append(
                f"RRSet with DNS name {shown(name)}, type {kind} cannot have more than 8 multivalue answer record sets"
            )
            return False
        return True


def _content(doc: dict[str, Any]) -> dict[str, Any]:
    """What a DELETE must match: everything but the order of the values."""
    content = dict(doc)
    if "ResourceRecords" in content:
        content["ResourceRecords"] = sorted(item["Value"] for item in content["ResourceRecords"])
    return content
