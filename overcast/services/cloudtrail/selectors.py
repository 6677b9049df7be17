"""Which events a trail logs: event selectors (read/write type, management events, data resources by type and
ARN prefix) and advanced event selectors (field selectors on eventCategory, eventSource, eventName, readOnly,
resources.type, resources.ARN with Equals/StartsWith/EndsWith and their negations).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DEFAULT_SELECTORS = [
    {
        "ReadWriteType": "All",
        "IncludeManagementEvents": True,
        "DataResources": [],
        "ExcludeManagementEventSources": [],
    }
]
DATA_TYPES = (
    "AWS::S3::Object",
    "AWS::Lambda::Function",
    "AWS::DynamoDB::Table",
    "AWS::DynamoDB::Stream",
    "AWS::SQS::Queue",
    "AWS::SNS::Topic",
    "AWS::Kinesis::Stream",
    "AWS::Events::EventBus",
    "AWS::CloudWatch::Metric",
    "AWS::Logs::LogStream",
)
FIELDS = (
    "eventCategory",
    "eventSource",
    "eventName",
    "readOnly",
    "resources.type",
    "resources.ARN",
    "eventType",
)
OPERATORS = ("Equals", "StartsWith", "EndsWith", "NotEquals", "NotStartsWith", "NotEndsWith")


class SelectorError(ValueError):
    pass


@dataclass(frozen=True)
class Event:
    """What selectors look at in a record."""

    category: str  # Management | Data
    read_only: bool
    source: str
    name: str
    resource_type: str | None
    resource_arn: str | None

    def field(self, name: str) -> str | None:
        return {
            "eventCategory": self.category,
            "eventSource": self.source,
            "eventName": self.name,
            "readOnly": "true" if self.read_only else "false",
            "resources.type": self.resource_type,
            "resources.ARN": self.resource_arn,
            "eventType": "AwsApiCall",
        }.get(name)


def check_basic(selectors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The selectors with AWS's defaults filled in; SelectorError for one AWS refuses."""
    if len(selectors) > 5:
        raise SelectorError("A trail can have at most 5 event selectors.")
    filled = []
    for selector in selectors:
        for resource in selector.get("DataResources") or []:
            if resource.get("Type") not in DATA_TYPES:
                raise SelectorError(f"Value {resource.get('Type')} for DataResources.Type is invalid.")
            for value in resource.get("Values") or []:
                if not value.startswith("arn:"):
                    raise SelectorError(f"Value {value} for DataResources.Values is invalid.")
        filled.append(
            {
                "ReadWriteType": selector.get("ReadWriteType") or "All",
                "IncludeManagementEvents": selector.get("IncludeManagementEvents", True),
                "DataResources": selector.get("DataResources") or [],
                "ExcludeManagementEventSources": selector.get("ExcludeManagementEventSources") or [],
            }
        )
    return filled


def check_advanced(selectors: list[dict[str, Any]]) -> None:
    for selector in selectors:
        fields = selector.get("FieldSelectors") or []
        if not any(f.get("Field") == "eventCategory" for f in fields):
            raise SelectorError("Field eventCategory must be specified in each advanced event selector.")
        for field in fields:
            if field.get("Field") not in FIELDS:
                raise SelectorError(f"Field {field.get('Field')} is not valid.")
            if not any(field.get(op) for op in OPERATORS):
                raise SelectorError(f"Field {field['Field']} must have at least one operator.")


def _basic_selects(selector: dict[str, Any], event: Event) -> bool:
    kind = selector.get("ReadWriteType") or "All"
    if (kind == "ReadOnly" and not event.read_only) or (kind == "WriteOnly" and event.read_only):
        return False
    if event.category == "Management":
        return bool(selector.get("IncludeManagementEvents", True)) and event.source not in (
            selector.get("ExcludeManagementEventSources") or []
        )
    for resource in selector.get("DataResources") or []:
        if resource.get("Type") != event.resource_type:
            continue
        for value in resource.get("Values") or []:
            prefix = value.rstrip("/") if value.count(":") < 5 else value
            if event.resource_arn and event.resource_arn.startswith(prefix):
                return True
    return False


def _field_holds(field: dict[str, Any], value: str | None) -> bool:
    text = value or ""
    checks = (
        ("Equals", lambda wanted: text in wanted),
        ("StartsWith", lambda wanted: any(text.startswith(w) for w in wanted)),
        ("EndsWith", lambda wanted: any(text.endswith(w) for w in wanted)),
        ("NotEquals", lambda wanted: text not in wanted),
        ("NotStartsWith", lambda wanted: not any(text.startswith(w) for w in wanted)),
        ("NotEndsWith", lambda wanted: not any(text.endswith(w) for w in wanted)),
    )
    return all(check(field[op]) for op, check in checks if field.get(op))


def selects(trail: dict[str, Any], event: Event) -> bool:
    """Whether a trail (its EventSelectors or AdvancedEventSelectors) logs `event`."""
    advanced = trail.get("AdvancedEventSelectors")
    if advanced:
        return any(
            all(
                _field_holds(field, event.field(field["Field"]))
                for field in selector.get("FieldSelectors") or []
            )
            for selector in advanced
        )
    return any(
        _basic_selects(selector, event) for selector in trail.get("EventSelectors") or DEFAULT_SELECTORS
    )


def data_types(trail: dict[str, Any]) -> set[str]:
    """The data event resource types a trail may log (to skip recording data events nobody logs)."""
    found: set[str] = set()
    for selector in trail.get("AdvancedEventSelectors") or []:
        fields = selector.get("FieldSelectors") or []
        if any(f.get("Field") == "eventCategory" and "Data" in (f.get("Equals") or []) for f in fields):
            types = [t for f in fields if f.get("Field") == "resources.type" for t in f.get("Equals") or []]
            found.update(types or DATA_TYPES)
    if not trail.get("AdvancedEventSelectors"):
        for selector in trail.get("EventSelectors") or []:
            found.update(r["Type"] for r in selector.get("DataResources") or [] if r.get("Values"))
    return found
