"""User attributes: the standard schema every pool has, custom attributes, and checking a user's attributes
against a pool's schema (required, mutable, lengths, formats)."""

from __future__ import annotations

import re
from typing import Any

from overcast.errors import ServiceError

_STRING = {"MinLength": "0", "MaxLength": "2048"}
_STANDARD_STRINGS = (
    "name",
    "given_name",
    "family_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "profile",
    "picture",
    "website",
    "email",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "phone_number",
    "address",
)
ALIASES = ("phone_number", "email", "preferred_username")  # AliasAttributes' choices
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
PHONE = re.compile(r"^\+[0-9]{4,15}$")


def _string(name: str, *, required: bool = False, mutable: bool = True, constraints=None) -> dict[str, Any]:
    return {
        "Name": name,
        "AttributeDataType": "String",
        "DeveloperOnlyAttribute": False,
        "Mutable": mutable,
        "Required": required,
        "StringAttributeConstraints": dict(constraints if constraints is not None else _STRING),
    }


def standard_schema() -> list[dict[str, Any]]:
    """The standard attributes as DescribeUserPool lists them for a new pool."""
    attributes = [
        _string("sub", required=True, mutable=False, constraints={"MinLength": "1", "MaxLength": "2048"})
    ]
    for name in _STANDARD_STRINGS:
        constraints = {"MinLength": "10", "MaxLength": "10"} if name == "birthdate" else None
        attributes.append(_string(name, constraints=constraints))
        if name in ("email", "phone_number"):
            attributes.append(
                {
                    "Name": f"{name}_verified",
                    "AttributeDataType": "Boolean",
                    "DeveloperOnlyAttribute": False,
                    "Mutable": True,
                    "Required": False,
                }
            )
    attributes.append(
        {
            "Name": "updated_at",
            "AttributeDataType": "Number",
            "DeveloperOnlyAttribute": False,
            "Mutable": True,
            "Required": False,
            "NumberAttributeConstraints": {"MinValue": "0"},
        }
    )
    attributes.append(_string("identities", constraints={}))
    return attributes


STANDARD_NAMES = frozenset(entry["Name"] for entry in standard_schema())


def invalid(message: str) -> ServiceError:
    return ServiceError("InvalidParameterException", message, 400)


def build_schema(requested: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """A new pool's schema: the standard attributes, changed where `requested` names one (required, mutable,
    constraints), plus the custom attributes it declares (named custom:<name>, or dev:custom:<name>)."""
    schema = standard_schema()
    by_name = {entry["Name"]: entry for entry in schema}
    for entry in requested or ():
        name = entry.get("Name", "")
        if name in by_name:
            standard = by_name[name]
            if "AttributeDataType" in entry and entry["AttributeDataType"] != standard["AttributeDataType"]:
                raise invalid(
                    f"You can not change AttributeDataType or set developerOnlyAttribute for standard schema attribute {name}"
                )
            for key in ("Required", "Mutable"):
                if key in entry:
                    standard[key] = entry[key]
            if "StringAttributeConstraints" in entry and "StringAttributeConstraints" in standard:
                standard["StringAttributeConstraints"].update(entry["StringAttributeConstraints"])
            continue
        schema.append(custom_attribute(entry))
    return schema


def custom_attribute(entry: dict[str, Any]) -> dict[str, Any]:
    """A custom attribute's schema entry as AWS stores it."""
    name = entry.get("Name", "")
    if entry.get("Required"):
        raise invalid("Required custom attributes are not supported currently.")
    kind = entry.get("AttributeDataType", "String")
    developer_only = bool(entry.get("DeveloperOnlyAttribute", False))
    stored: dict[str, Any] = {
        "Name": f"{'dev:' if developer_only else ''}custom:{name}",
        "AttributeDataType": kind,
        "DeveloperOnlyAttribute": developer_only,
        "Mutable": entry.get("Mutable", True),
        "Required": False,
    }
    if kind == "String":
        stored["StringAttributeConstraints"] = dict(entry.get("StringAttributeConstraints") or {})
    if kind == "Number":
        stored["NumberAttributeConstraints"] = dict(entry.get("NumberAttributeConstraints") or {})
    return stored


def attribute_map(attributes: list[dict[str, str]] | None) -> dict[str, str]:
    return {entry["Name"]: entry.get("Value", "") for entry in attributes or ()}


def check_values(
    schema: list[dict[str, Any]],
    values: dict[str, str],
    *,
    creating: bool,
    admin: bool = True,
    current: dict[str, str] | None = None,
) -> None:
    """Raise AWS's InvalidParameterException for attributes that are not in the schema, not writable, missing
    although required (when `creating`), or out of their constraints."""
    by_name = {entry["Name"]: entry for entry in schema}
    problems = []
    for name, value in values.items():
        entry = by_name.get(name) or by_name.get(f"dev:{name}")
        if entry is None:
            raise invalid("Attribute does not exist in the schema.\n")
        if name == "sub":
            raise invalid(
                "Cannot modify an non-mutable attribute.\n"
                if not creating
                else "Attribute does not exist in the schema.\n"
            )
        if not creating and not entry.get("Mutable", True) and current is not None and name in current:
            raise invalid("Cannot modify an non-mutable attribute.\n")
        problem = _value_problem(entry, value)
        if problem:
            problems.append(f"{name}: {problem}")
    if creating:
        for entry in schema:
            if entry.get("Required") and entry["Name"] != "sub" and not values.get(entry["Name"]):
                problems.append(f"{entry['Name']}: The attribute {entry['Name']} is required")
    if problems:
        raise invalid("Attributes did not conform to the schema: " + "\n".join(problems))


def _value_problem(entry: dict[str, Any], value: str) -> str | None:
    kind = entry.get("AttributeDataType", "String")
    constraints = entry.get("StringAttributeConstraints") or {}
    if kind == "String":
        if "MaxLength" in constraints and len(value) > int(constraints["MaxLength"]):
            return f"String must be no longer than {constraints['MaxLength']} characters"
        if constraints.get("MinLength") and len(value) < int(constraints["MinLength"]) and value:
            return f"String must be no shorter than {constraints['MinLength']} characters"
    if kind == "Number":
        try:
            number = float(value)
        except ValueError:
            return "Number is invalid"
        limits = entry.get("NumberAttributeConstraints") or {}
        if "MinValue" in limits and number < float(limits["MinValue"]):
            return f"Number must be no less than {limits['MinValue']}"
        if "MaxValue" in limits and number > float(limits["MaxValue"]):
            return f"Number must be no greater than {limits['MaxValue']}"
    if kind == "Boolean" and value.lower() not in ("true", "false"):
        return "Boolean is invalid"
    return None


def check_formats(values: dict[str, str]) -> None:
    """Email and phone number formats, which Cognito checks before the schema."""
    if values.get("email") and not EMAIL.match(values["email"]):
        raise invalid("Invalid email address format.")
    if values.get("phone_number") and not PHONE.match(values["phone_number"]):
        raise invalid("Invalid phone number format.")
