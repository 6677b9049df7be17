"""Intrinsic functions, condition functions and rule functions: a template value to the value it stands for.

`Scope` is what a value may refer to (parameters, pseudo parameters, mappings, conditions, the resources'
physical ids and attributes, other stacks' exports); `resolve(value, scope)` evaluates every function in
`value`. A value not known yet (a resource a change set would create) is `UNKNOWN`: whatever depends on it is
unknown too, which is how a change set tells a static change from a dynamic one.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from overcast.errors import ServiceError


class _NoValue:
    """`Ref: AWS::NoValue`: the property (or list item) it stands in for is removed."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


class _Unknown:
    """A value known only once a resource exists (change-set planning)."""

    def __repr__(self) -> str:
        return "{{unknown}}"


NO_VALUE = _NoValue()
UNKNOWN = _Unknown()

CONDITION_FUNCTIONS = ("Fn::And", "Fn::Equals", "Fn::Not", "Fn::Or")
RULE_FUNCTIONS = (
    "Fn::Contains",
    "Fn::EachMemberEquals",
    "Fn::EachMemberIn",
    "Fn::RefAll",
    "Fn::ValueOf",
    "Fn::ValueOfAll",
)

# Availability zones per region (what Fn::GetAZs returns): AWS's current default zones.
_ZONE_LETTERS = {"us-east-1": "abcdef", "us-west-1": "ac", "ap-northeast-1": "acd", "ap-northeast-2": "abcd"}


def availability_zones(region: str) -> list[str]:
    return [f"{region}{letter}" for letter in _ZONE_LETTERS.get(region, "abc")]


def template_error(message: str) -> ServiceError:
    return ServiceError("ValidationError", f"Template error: {message}", 400)


@dataclass
class Scope:
    """What a template's values may refer to."""

    parameters: dict[str, Any] = field(default_factory=dict)  # name -> value (a list for list types)
    pseudo: dict[str, Any] = field(default_factory=dict)  # AWS::Region, AWS::StackName, ...
    mappings: dict[str, Any] = field(default_factory=dict)
    conditions: dict[str, bool] = field(default_factory=dict)
    resources: set[str] = field(default_factory=set)  # the logical ids a Ref or GetAtt may name
    ref: Callable[[str], Any] = lambda name: UNKNOWN  # a resource's Ref value
    attribute: Callable[[str, str], Any] = lambda name, attribute: UNKNOWN
    export: Callable[[str], Any] = lambda name: UNKNOWN  # Fn::ImportValue
    region: str = "us-east-1"
    language_extensions: bool = False

    def lookup(self, name: str) -> Any:
        """Ref `name`: a parameter, a pseudo parameter or a resource."""
        if name in self.parameters:
            return self.parameters[name]
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.resources:
            return self.ref(name)
        raise ServiceError(
            "ValidationError",
            f"Template format error: Unresolved resource dependencies [{name}] in the Resources block of the "
            "template",
            400,
        )


def resolve(value: Any, scope: Scope) -> Any:
    """`value` with every intrinsic function evaluated; properties given AWS::NoValue are removed."""
    if isinstance(value, dict):
        if len(value) == 1:
            ((key, argument),) = value.items()
            function = _FUNCTIONS.get(key)
            if function is not None:
                return function(argument, scope)
        resolved = {}
        for key, item in value.items():
            result = resolve(item, scope)
            if result is not NO_VALUE:
                resolved[key] = result
        return resolved
    if isinstance(value, list):
        items = [resolve(item, scope) for item in value]
        return [item for item in items if item is not NO_VALUE]
    return value


def is_unknown(value: Any) -> bool:
    """Whether a resolved value holds anything not known yet."""
    if value is UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(is_unknown(item) for item in value.values())
    if isinstance(value, list):
        return any(is_unknown(item) for item in value)
    return False


def _string(value: Any, function: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return value
    raise template_error(
        f"every value of the context object of every {function} object must be a string or a function that returns a string"
    )


def _ref(argument: Any, scope: Scope) -> Any:
    if not isinstance(argument, str):
        argument = resolve(argument, scope) if scope.language_extensions else argument
        if not isinstance(argument, str):
            raise template_error("Ref must be a string")
    return scope.lookup(argument)


def _get_att(argument: Any, scope: Scope) -> Any:
    if isinstance(argument, str):
        argument = argument.split(".", 1)
    if not isinstance(argument, list) or len(argument) != 2 or not isinstance(argument[0], str):
        raise template_error("Invalid Fn::GetAtt format")
    name, attribute = argument[0], resolve(argument[1], scope)
    if attribute is UNKNOWN:
        return UNKNOWN
    if not isinstance(attribute, str):
        raise template_error("Fn::GetAtt attribute name must be a string")
    if name not in scope.resources:
        raise template_error(f"instance of Fn::GetAtt references undefined resource {name}")
    return scope.attribute(name, attribute)


_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def _sub(argument: Any, scope: Scope) -> Any:
    if isinstance(argument, str):
        text, variables = argument, {}
    elif isinstance(argument, list) and len(argument) == 2 and isinstance(argument[1], dict):
        text, variables = argument[0], {key: resolve(item, scope) for key, item in argument[1].items()}
    else:
        raise template_error(
            "One or more Fn::Sub intrinsic functions don't specify expected arguments. Specify a string as first argument, and an optional second argument to specify a mapping of values to replace in the string"
        )
    if not isinstance(text, str):
        text = resolve(text, scope)
        if text is UNKNOWN:
            return UNKNOWN
        if not isinstance(text, str):
            raise template_error("Fn::Sub expects a string as its first argument")
    unknown = False

    def substitute(match: re.Match) -> str:
        nonlocal unknown
        name = match.group(1).strip() if not match.group(1).startswith("!") else None
        if name is None:
            return "${" + match.group(1)[1:] + "}"
        if name in variables:
            value = variables[name]
        elif "." in name and name.split(".", 1)[0] in scope.resources:
            value = _get_att(name.split(".", 1), scope)
        else:
            value = scope.lookup(name)
        if value is UNKNOWN:
            unknown = True
            return ""
        if isinstance(value, list):
            value = ",".join(_string(item, "Fn::Sub") for item in value)
        return _string(value, "Fn::Sub")

    result = _SUB_VARIABLE.sub(substitute, text)
    return UNKNOWN if unknown else result


def _join(argument: Any, scope: Scope) -> Any:
    if not isinstance(argument, list) or len(argument) != 2:
        raise template_error(
            "every Fn::Join object requires two parameters, (1) a string delimiter and (2) a list of strings to be joined or a function that returns a list of strings (such as Fn::GetAZs) to be joined."
        )
    delimiter, items = resolve(argument[0], scope), resolve(argument[1], scope)
    if delimiter is UNKNOWN or is_unknown(items):
        return UNKNOWN
    if not isinstance(items, list):
        raise template_error(
            "every Fn::Join object requires two parameters, (1) a string delimiter and (2) a list of strings to be joined or a function that returns a list of strings (such as Fn::GetAZs) to be joined."
        )
    return _string(delimiter, "Fn::Join").join(_string(item, "Fn::Join") for item in items)


def _select(argument: Any, scope: Scope) -> Any:
    if not isinstance(argument, list) or len(argument) != 2:
        raise template_error(
            "Fn::Select requires a list argument with two elements: an integer index and a list"
        )
    index, items = resolve(argument[0], scope), resolve(argument[1], scope)
    if index is UNKNOWN or items is UNKNOWN:
        return UNKNOWN
    try:
        position = int(index)
    except (TypeError, ValueError):
        raise template_error(
            "Fn::Select requires a list argument with two elements: an integer index and a list"
        ) from None
    if not isinstance(items, list):
        raise template_error(
            "Fn::Select requires a list argument with two elements: an integer index and a list"
        )
    if not 0 <= position < len(items):
        raise template_error("Fn::Select cannot select nonexistent value at index " + str(position))
    return items[position]


def _split(argument: Any, scope: Scope) -> Any:
    if not isinstance(argument, list) or len(argument) != 2:
        raise template_error(
            "Fn::Split requires a list argument with two elements: a delimiter and a source string"
        )
    delimiter, source = resolve(argument[0], scope), resolve(argument[1], scope)
    if delimiter is UNKNOWN or source is UNKNOWN:
        return UNKNOWN
    if not isinstance(delimiter, str) or not isinstance(source, str):
        raise template_error(
            "Fn::Split requires a list argument with two elements: a delimiter and a source string"
        )
    return source.split(delimiter)


def _find_in_map(argument: Any, scope: Scope) -> Any:
    if not isinstance(argument, list) or len(argument) not in (3, 4):
        raise template_error("Fn::FindInMap requires a list argument with three elements")
    default = None
    if len(argument) == 4:
        extra = argument[3]
        if not scope.language_extensions or not isinstance(extra, dict) or "DefaultValue" not in extra:
            raise template_error("Fn::FindInMap requires a list argument with three elements")
        default = extra["DefaultValue"]
    keys = [resolve(item, scope) for item in argument[:3]]
    if any(key is UNKNOWN for key in keys):
        return UNKNOWN
    name, first, second = (_string(key, "Fn::FindInMap") for key in keys)
    mapping = scope.mappings.get(name)
    if mapping is None:
        if default is not None:
            return resolve(default, scope)
        raise template_error(f"Mapping named '{name}' is not present in the 'Mappings' section of template.")
    found = (mapping.get(first) or {}).get(second) if isinstance(mapping.get(first), dict) else None
    if found is None:
        if default is not None:
            return resolve(default, scope)
        raise template_error(f"Unable to get mapping for {name}::{first}::{second}")
    return found


def condition_value(name: Any, scope: Scope) -> bool:
    if not isinstance(name, str) or name not in scope.conditions:
        raise ServiceError(
            "ValidationError",
            f"Template format error: Unresolved dependencies [{name}]. "
            "Cannot reference resources in the Conditions block of the template",
            400,
        )
    return scope.conditions[name]


def _if(argument: Any, scope: Scope) -> Any:
    if not isinstance(argument, list) or len(argument) != 3:
        raise template_error("Fn::If requires a list argument with three elements")
    chosen = argument[1] if condition_value(argument[0], scope) else argument[2]
    return resolve(chosen, scope)


def _truth(value: Any, scope: Scope) -> Any:
    if isinstance(value, dict) and len(value) == 1 and "Condition" in value:
        return condition_value(value["Condition"], scope)
    result = resolve(value, scope)
    if result is UNKNOWN:
        return UNKNOWN
    if isinstance(result, bool):
        return result
    if isinstance(result, str) and result.lower() in ("true", "false"):
        return result.lower() == "true"
    raise template_error("Fn::And, Fn::Or and Fn::Not require conditions or condition functions as arguments")


def _and(argument: Any, scope: Scope) -> Any:
    if not isinstance(argument, list) or not 2 <= len(argument) <= 10:
        raise template_error("Fn::And requires a list of 2 to 10 conditions")
    values = [_truth(item, scope) for item in argument]
    return UNKNOWN if UNKNOWN in values else all(values)


def _or(argument: Any, scope: Scope) -> Any:
    if not isinstance(argument, list) or not 2 <= len(argument) <= 10:
        raise template_error("Fn::Or requires a list of 2 to 10 conditions")
    values = [_truth(item, scope) for item in argument]
    return UNKNOWN if UNKNOWN in values else any(values)


def _not(argument: Any, scope: Scope) -> Any:
    if not isinstance(argument, list) or len(argument) != 1:
        raise template_error("Fn::Not requires a list argument with one element")
    value = _truth(argument[0], scope)
    return UNKNOWN if value is UNKNOWN else not value


def _comparable(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        return [_comparable(item) for item in value]
    return value


def _equals(argument: Any, scope: Scope) -> Any:
    if not isinstance(argument, list) or len(argument) != 2:
        raise template_error("Fn::Equals requires a list argument with two elements")
    left, right = resolve(argument[0], scope), resolve(argument[1], scope)
    if left is UNKNOWN or right is UNKNOWN:
        return UNKNOWN
    return _comparable(left) == _comparable(right)


def _base64(argument: Any, scope: Scope) -> Any:
    value = resolve(argument, scope)
    if value is UNKNOWN:
        return UNKNOWN
    return base64.b64encode(_string(value, "Fn::Base64").encode()).decode()


def _cidr(argument: Any, scope: Scope) -> Any:
    if not isinstance(argument, list) or len(argument) != 3:
        raise template_error("Fn::Cidr requires a list argument with three elements")
    block, count, bits = (resolve(item, scope) for item in argument)
    if UNKNOWN in (block, count, bits):
        return UNKNOWN
    try:
        network = ipaddress.ip_network(str(block), strict=False)
        count, bits = int(count), int(bits)
        prefix = network.max_prefixlen - bits
        subnets = []
        for subnet in network.subnets(new_prefix=prefix):
            subnets.append(str(subnet))
            if len(subnets) == count:
                break
    except ValueError as error:
        raise template_error(f"Fn::Cidr: {error}") from None
    if len(subnets) < count:
        raise template_error(f"Fn::Cidr cannot make {count} subnets of /{prefix} in {block}")
    return subnets


def _get_azs(argument: Any, scope: Scope) -> Any:
    region = resolve(argument, scope)
    if region is UNKNOWN:
        return UNKNOWN
    return availability_zones(region or scope.region)


def _import_value(argument: Any, scope: Scope) -> Any:
    name = resolve(argument, scope)
    if name is UNKNOWN:
        return UNKNOWN
    if not isinstance(name, str):
        raise template_error("Fn::ImportValue requires a string")
    return scope.export(name)


def _length(argument: Any, scope: Scope) -> Any:
    value = resolve(argument, scope)
    if value is UNKNOWN:
        return UNKNOWN
    if not isinstance(value, list):
        raise template_error("Fn::Length requires a list")
    return len(value)


def _to_json_string(argument: Any, scope: Scope) -> Any:
    value = resolve(argument, scope)
    if is_unknown(value):
        return UNKNOWN
    return json.dumps(value, separators=(",", ":"))


def _contains(argument: Any, scope: Scope) -> Any:
    items, value = (resolve(item, scope) for item in argument)
    return _comparable(value) in [_comparable(item) for item in items]


def _each_member_equals(argument: Any, scope: Scope) -> Any:
    items, value = (resolve(item, scope) for item in argument)
    return all(_comparable(item) == _comparable(value) for item in items)


def _each_member_in(argument: Any, scope: Scope) -> Any:
    items, allowed = (resolve(item, scope) for item in argument)
    allowed = [_comparable(item) for item in allowed]
    return all(_comparable(item) in allowed for item in items)


def _ref_all(argument: Any, scope: Scope) -> Any:
    return []  # the values of every parameter of an AWS-specific type: Overcast lists none


def _value_of(argument: Any, scope: Scope) -> Any:
    return ""


_FUNCTIONS: dict[str, Callable[[Any, Scope], Any]] = {
    "Ref": _ref,
    "Fn::GetAtt": _get_att,
    "Fn::Sub": _sub,
    "Fn::Join": _join,
    "Fn::Select": _select,
    "Fn::Split": _split,
    "Fn::FindInMap": _find_in_map,
    "Fn::If": _if,
    "Fn::And": _and,
    "Fn::Or": _or,
    "Fn::Not": _not,
    "Fn::Equals": _equals,
    "Fn::Base64": _base64,
    "Fn::Cidr": _cidr,
    "Fn::GetAZs": _get_azs,
    "Fn::ImportValue": _import_value,
    "Fn::Length": _length,
    "Fn::ToJsonString": _to_json_string,
    "Fn::Contains": _contains,
    "Fn::EachMemberEquals": _each_member_equals,
    "Fn::EachMemberIn": _each_member_in,
    "Fn::RefAll": _ref_all,
    "Fn::ValueOf": _value_of,
    "Fn::ValueOfAll": _ref_all,
}


def evaluate_conditions(definitions: dict[str, Any], scope: Scope) -> dict[str, bool]:
    """Every condition of the Conditions section, each evaluated once (a condition may name another)."""
    results: dict[str, bool] = {}
    visiting: set[str] = set()

    class _Lazy(dict):
        def __contains__(self, name: object) -> bool:
            return name in definitions

        def __getitem__(self, name: str) -> bool:
            return evaluate(name)

    def evaluate(name: str) -> bool:
        if name in results:
            return results[name]
        if name in visiting:
            raise ServiceError(
                "ValidationError",
                f"Template format error: Circular dependency between conditions: [{', '.join(sorted(visiting))}]",
                400,
            )
        visiting.add(name)
        value = _truth(definitions[name], conditions_scope)
        visiting.discard(name)
        if value is UNKNOWN:
            raise template_error(f"condition {name} cannot be evaluated")
        results[name] = bool(value)
        return results[name]

    conditions_scope = Scope(
        parameters=scope.parameters,
        pseudo=scope.pseudo,
        mappings=scope.mappings,
        conditions=_Lazy(),
        resources=set(),
        region=scope.region,
        language_extensions=scope.language_extensions,
    )
    for name in definitions:
        evaluate(name)
    return results


def references(value: Any) -> set[str]:
    """The names a value refers to with Ref, Fn::GetAtt and Fn::Sub (resources, parameters, pseudo
    parameters alike; the caller keeps the resources)."""
    found: set[str] = set()
    _collect(value, found)
    return found


def _collect(value: Any, found: set[str]) -> None:
    if isinstance(value, dict):
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref" and isinstance(argument, str):
                found.add(argument)
                return
            if key == "Fn::GetAtt":
                if isinstance(argument, str):
                    found.add(argument.split(".", 1)[0])
                    return
                if isinstance(argument, list) and argument and isinstance(argument[0], str):
                    found.add(argument[0])
                    _collect(argument[1:], found)
                    return
            if key == "Fn::Sub":
                text = (
                    argument
                    if isinstance(argument, str)
                    else (argument[0] if isinstance(argument, list) and argument else None)
                )
                names = (
                    set(argument[1])
                    if isinstance(argument, list) and len(argument) > 1 and isinstance(argument[1], dict)
                    else set()
                )
                if isinstance(text, str):
                    for match in _SUB_VARIABLE.finditer(text):
                        token = match.group(1)
                        if not token.startswith("!") and token.strip() not in names:
                            found.add(token.strip().split(".", 1)[0])
                if isinstance(argument, list):
                    _collect(argument[1:], found)
                return
        for item in value.values():
            _collect(item, found)
    elif isinstance(value, list):
        for item in value:
            _collect(item, found)


def prune(value: Any, conditions: dict[str, bool]) -> Any:
    """`value` with each Fn::If replaced by the branch its condition chooses (for dependencies: a
    resource named only in the branch not taken is no dependency)."""
    if isinstance(value, dict):
        if len(value) == 1 and "Fn::If" in value:
            argument = value["Fn::If"]
            if isinstance(argument, list) and len(argument) == 3 and argument[0] in conditions:
                return prune(argument[1] if conditions[argument[0]] else argument[2], conditions)
        return {key: prune(item, conditions) for key, item in value.items()}
    if isinstance(value, list):
        return [prune(item, conditions) for item in value]
    return value
