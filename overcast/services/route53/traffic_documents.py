"""Traffic policy documents (format 2015-10-01): their checks, and turning a rule's choices into the record sets
the resolver's routing policies pick among (pure).

A document has a `RecordType`, `Endpoints` (`value` endpoints answer their value; load balancer, CloudFront and
S3 website endpoints answer this machine's address, as alias records to them do) and `Rules` (failover, geo,
latency, geoproximity, multivalue, weighted) whose choices reference an endpoint or another rule, and starts at
`StartEndpoint` or `StartRule`.
"""

from __future__ import annotations

import json
from typing import Any

from overcast.errors import ServiceError

FORMAT = "2015-10-01"
ENDPOINT_TYPES = ("value", "cloudfront", "elastic-load-balancer", "application-load-balancer",
                  "network-load-balancer", "s3-website")  # fmt: skip
RECORD_TYPES = ("A", "AAAA", "CAA", "CNAME", "MX", "NAPTR", "PTR", "SPF", "SRV", "TXT")
# Where each rule type keeps its choices
CHOICES = {"failover": ("Primary", "Secondary"), "geo": ("Locations",), "latency": ("Regions",),
           "geoproximity": ("GeoproximityLocations",), "multivalue": ("Items",), "weighted": ("Items",)}  # fmt: skip


def invalid(message: str) -> ServiceError:
    return ServiceError("InvalidTrafficPolicyDocument", message, 400)


def choices(rule: dict[str, Any]) -> list[dict[str, Any]]:
    """The choices of a rule, in order (a failover rule's primary first)."""
    found: list[dict[str, Any]] = []
    for key in CHOICES.get(rule.get("RuleType", ""), ()):
        value = rule.get(key)
        if isinstance(value, dict):
            found.append(value)
        elif isinstance(value, list):
            found.extend(item for item in value if isinstance(item, dict))
    return found


def parse(text: str) -> dict[str, Any]:
    """The document, checked: its references resolve and every rule is reachable without cycles."""
    try:
        document = json.loads(text)
    except ValueError:
        raise invalid("The traffic policy document is not valid JSON.") from None
    if not isinstance(document, dict):
        raise invalid("The traffic policy document must be a JSON object.")
    if document.get("AWSPolicyFormatVersion") != FORMAT:
        raise invalid(f"AWSPolicyFormatVersion must be {FORMAT}.")
    if document.get("RecordType") not in RECORD_TYPES:
        raise invalid(f"RecordType must be one of {', '.join(RECORD_TYPES)}.")
    endpoints, rules = document.get("Endpoints") or {}, document.get("Rules") or {}
    if not isinstance(endpoints, dict) or not isinstance(rules, dict):
        raise invalid("Endpoints and Rules must be JSON objects.")
    for name, endpoint in endpoints.items():
        if not isinstance(endpoint, dict) or endpoint.get("Type") not in ENDPOINT_TYPES:
            raise invalid(f"Endpoint {name} must have a Type among {', '.join(ENDPOINT_TYPES)}.")
        if not endpoint.get("Value"):
            raise invalid(f"Endpoint {name} has no Value.")
    for name, rule in rules.items():
        if not isinstance(rule, dict) or rule.get("RuleType") not in CHOICES:
            raise invalid(f"Rule {name} must have a RuleType among {', '.join(CHOICES)}.")
        _check_choices(name, rule, endpoints, rules)
    start = [key for key in ("StartEndpoint", "StartRule") if document.get(key)]
    if len(start) != 1:
        raise invalid("The document must have exactly one of StartEndpoint and StartRule.")
    if document.get("StartEndpoint") and document["StartEndpoint"] not in endpoints:
        raise invalid(f"StartEndpoint {document['StartEndpoint']} is not an endpoint of the document.")
    if document.get("StartRule") and document["StartRule"] not in rules:
        raise invalid(f"StartRule {document['StartRule']} is not a rule of the document.")
    _check_cycles(document.get("StartRule"), rules, [])
    return document


def _check_choices(name: str, rule: dict[str, Any], endpoints: dict, rules: dict) -> None:
    kind = rule["RuleType"]
    found = choices(rule)
    if kind == "failover" and len(found) != 2:
        raise invalid(f"Failover rule {name} needs a Primary and a Secondary.")
    if not found:
        raise invalid(f"Rule {name} has no choices.")
    for choice in found:
        endpoint, inner = choice.get("EndpointReference"), choice.get("RuleReference")
        if bool(endpoint) == bool(inner):
            raise invalid(
                f"Each choice of rule {name} needs exactly one of EndpointReference and RuleReference."
            )
        if endpoint and endpoint not in endpoints:
            raise invalid(f"Rule {name} references endpoint {endpoint}, which the document does not define.")
        if inner and inner not in rules:
            raise invalid(f"Rule {name} references rule {inner}, which the document does not define.")
        if kind == "weighted" and not (
            isinstance(choice.get("Weight"), int) and 0 <= choice["Weight"] <= 255
        ):
            raise invalid(f"Each item of weighted rule {name} needs a Weight between 0 and 255.")
        if kind == "latency" and not choice.get("Region"):
            raise invalid(f"Each region of latency rule {name} needs a Region.")
        if kind == "geo" and not (
            choice.get("IsDefault") or choice.get("Continent") or choice.get("Country")
        ):
            raise invalid(f"Each location of geo rule {name} needs a Continent, a Country or IsDefault.")
        if kind == "multivalue" and inner:
            raise invalid(f"Multivalue rule {name} can reference endpoints only.")


def _check_cycles(rule: str | None, rules: dict[str, Any], path: list[str]) -> None:
    if rule is None:
        return
    if rule in path:
        raise invalid(f"Rule {rule} references itself through {' -> '.join([*path, rule])}.")
    for choice in choices(rules[rule]):
        _check_cycles(choice.get("RuleReference"), rules, [*path, rule])


def as_record_set(rule: dict[str, Any], choice: dict[str, Any], position: int) -> dict[str, Any]:
    """A choice of a rule as a record set of the matching routing policy (the resolver picks among them)."""
    kind = rule["RuleType"]
    record: dict[str, Any] = {"SetIdentifier": str(position), "_choice": choice}
    if choice.get("HealthCheck"):
        record["HealthCheckId"] = choice["HealthCheck"]
    if kind == "failover":
        record["Failover"] = "PRIMARY" if position == 0 else "SECONDARY"
    elif kind == "weighted":
        record["Weight"] = choice["Weight"]
    elif kind == "latency":
        record["Region"] = choice["Region"]
    elif kind == "multivalue":
        record["MultiValueAnswer"] = True
    elif kind == "geo":
        if choice.get("IsDefault"):
            record["GeoLocation"] = {"CountryCode": "*"}
        else:
            geo = {"ContinentCode": choice.get("Continent"), "CountryCode": choice.get("Country"),
                   "SubdivisionCode": choice.get("Subdivision")}  # fmt: skip
            record["GeoLocation"] = {key: value for key, value in geo.items() if value}
    elif kind == "geoproximity":
        where: dict[str, Any] = {"Bias": int(choice.get("Bias", 0))}
        if choice.get("Region"):
            where["AWSRegion"] = choice["Region"]
        else:
            where["Coordinates"] = {
                "Latitude": choice.get("Latitude", "0"),
                "Longitude": choice.get("Longitude", "0"),
            }
        record["GeoProximityLocation"] = where
    return record
