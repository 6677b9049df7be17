"""Template parameters: their declared types and constraints, and the values a stack operation gives them.

`bind(declarations, given, previous)` checks the values against the declarations (the messages are AWS's)
and returns `Bound` parameters: the value as given (what DescribeStacks shows, `****` for NoEcho) and the
value the template sees (a list for list types; an SSM parameter type's value is fetched later, `ssm_names`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from overcast.errors import ServiceError

_AWS_TYPES = {
    "AWS::EC2::AvailabilityZone::Name",
    "AWS::EC2::Image::Id",
    "AWS::EC2::Instance::Id",
    "AWS::EC2::KeyPair::KeyName",
    "AWS::EC2::SecurityGroup::GroupName",
    "AWS::EC2::SecurityGroup::Id",
    "AWS::EC2::Subnet::Id",
    "AWS::EC2::Volume::Id",
    "AWS::EC2::VPC::Id",
    "AWS::Route53::HostedZone::Id",
    "AWS::SSM::Parameter::Name",
}
_SSM_VALUE = re.compile(r"^AWS::SSM::Parameter::Value<(.+)>$")
MASK = "****"


def validation_error(message: str) -> ServiceError:
    return ServiceError("ValidationError", message, 400)


def is_list_type(kind: str) -> bool:
    return kind == "CommaDelimitedList" or kind.startswith("List<")


def check_type(kind: Any) -> None:
    """ValidationError for a parameter type CloudFormation does not know."""
    if not isinstance(kind, str) or not _known(kind):
        raise validation_error(f"Template format error: Unrecognized parameter type: {kind}")


def _known(kind: str) -> bool:
    if kind in ("String", "Number", "CommaDelimitedList", "List<Number>") or kind in _AWS_TYPES:
        return True
    if kind.startswith("List<") and kind.endswith(">"):
        return kind[5:-1] in _AWS_TYPES or kind[5:-1] in ("String", "Number")
    ssm = _SSM_VALUE.match(kind)
    if ssm:
        inner = ssm.group(1)
        return inner == "String" or _known(inner)
    return False


def ssm_type(kind: str) -> str | None:
    """The value type of an `AWS::SSM::Parameter::Value<...>` parameter, else None."""
    found = _SSM_VALUE.match(kind)
    return found.group(1) if found else None


@dataclass
class Bound:
    key: str
    value: str  # as given (the SSM parameter's name for SSM types)
    kind: str
    no_echo: bool
    resolved: Any = None  # the SSM parameter's value, once fetched

    def template_value(self) -> Any:
        """What Ref gives in the template."""
        value = self.resolved if self.resolved is not None else self.value
        inner = ssm_type(self.kind)
        kind = inner if inner else self.kind
        if is_list_type(kind):
            return (
                [item.strip() if kind != "CommaDelimitedList" else item for item in value.split(",")]
                if value
                else []
            )
        return value

    def described(self) -> dict[str, Any]:
        """The stack's Parameters entry as DescribeStacks gives it."""
        entry = {"ParameterKey": self.key, "ParameterValue": MASK if self.no_echo else self.value}
        if self.resolved is not None and ssm_type(self.kind):
            entry["ResolvedValue"] = self.resolved
        return entry

    def stored(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "value": self.value,
            "kind": self.kind,
            "no_echo": self.no_echo,
            "resolved": self.resolved,
        }

    @classmethod
    def load(cls, data: dict[str, Any]) -> Bound:
        return cls(data["key"], data["value"], data["kind"], data["no_echo"], data.get("resolved"))


def bind(
    declarations: dict[str, Any],
    given: list[dict[str, Any]] | None,
    previous: dict[str, Bound] | None = None,
) -> list[Bound]:
    """The template's parameters with their values for this operation."""
    values: dict[str, str] = {}
    for entry in given or []:
        key = entry.get("ParameterKey")
        if key is None:
            continue
        if entry.get("UsePreviousValue"):
            if previous is None or key not in previous:
                raise validation_error(
                    f"Invalid input for parameter key {key}. Cannot specify usePreviousValue as true for a parameter key not in the previous template"
                )
            values[key] = previous[key].value
        else:
            values[key] = "" if entry.get("ParameterValue") is None else str(entry["ParameterValue"])
    unknown = [key for key in values if key not in declarations]
    if unknown:
        raise validation_error(f"Parameters: [{', '.join(unknown)}] do not exist in the template")
    missing = [
        name
        for name, declaration in declarations.items()
        if name not in values and "Default" not in declaration
    ]
    if missing:
        raise validation_error(f"Parameters: [{', '.join(missing)}] must have values")
    bound = []
    for name, declaration in declarations.items():
        kind = declaration.get("Type")
        check_type(kind)
        value = values[name] if name in values else _default(declaration["Default"])
        no_echo = str(declaration.get("NoEcho", "false")).lower() == "true"
        check_value(name, value, declaration)
        bound.append(Bound(name, value, kind, no_echo))
    return bound


def _default(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def check_value(name: str, value: str, declaration: dict[str, Any]) -> None:
    """ValidationError when `value` breaks the parameter's constraints."""
    kind = declaration.get("Type", "String")
    if ssm_type(kind):
        return  # the constraints apply to the parameter's name, which any string may be
    items = value.split(",") if is_list_type(kind) else [value]
    description = declaration.get("ConstraintDescription")

    def fail(reason: str) -> ServiceError:
        if description:
            return validation_error(f"Parameter {name} failed to satisfy constraint: {description}")
        return validation_error(reason)

    numeric = kind in ("Number", "List<Number>")
    for item in items:
        if numeric:
            try:
                number = float(item)
            except ValueError:
                raise validation_error(f"Parameter '{name}' must be a number") from None
            if "MinValue" in declaration and number < float(declaration["MinValue"]):
                raise fail(f"Parameter '{name}' must be a number not less than {declaration['MinValue']}")
            if "MaxValue" in declaration and number > float(declaration["MaxValue"]):
                raise fail(f"Parameter '{name}' must be a number not greater than {declaration['MaxValue']}")
        else:
            if "MinLength" in declaration and len(item) < int(declaration["MinLength"]):
                raise fail(f"Parameter '{name}' must contain at least {declaration['MinLength']} characters")
            if "MaxLength" in declaration and len(item) > int(declaration["MaxLength"]):
                raise fail(f"Parameter '{name}' must contain at most {declaration['MaxLength']} characters")
            pattern = declaration.get("AllowedPattern")
            if pattern is not None and not re.fullmatch(str(pattern), item):
                raise fail(f"Parameter '{name}' must match pattern {pattern}")
        allowed = declaration.get("AllowedValues")
        if allowed is not None and item not in [_default(option) for option in allowed]:
            raise fail(f"Parameter '{name}' must be one of AllowedValues")


def declared(declarations: dict[str, Any]) -> list[dict[str, Any]]:
    """GetTemplateSummary's ParameterDeclarations."""
    result = []
    for name, declaration in declarations.items():
        entry: dict[str, Any] = {
            "ParameterKey": name,
            "ParameterType": declaration.get("Type"),
            "NoEcho": str(declaration.get("NoEcho", "false")).lower() == "true",
            "ParameterConstraints": {},
        }
        if "Default" in declaration:
            entry["DefaultValue"] = _default(declaration["Default"])
        if "Description" in declaration:
            entry["Description"] = declaration["Description"]
        if "AllowedValues" in declaration:
            entry["ParameterConstraints"]["AllowedValues"] = [
                _default(v) for v in declaration["AllowedValues"]
            ]
        result.append(entry)
    return result


def template_parameters(declarations: dict[str, Any]) -> list[dict[str, Any]]:
    """ValidateTemplate's Parameters."""
    result = []
    for name, declaration in declarations.items():
        entry: dict[str, Any] = {
            "ParameterKey": name,
            "NoEcho": str(declaration.get("NoEcho", "false")).lower() == "true",
        }
        if "Default" in declaration:
            entry["DefaultValue"] = _default(declaration["Default"])
        if "Description" in declaration:
            entry["Description"] = declaration["Description"]
        result.append(entry)
    return result
