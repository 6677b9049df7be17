"""Templates: JSON or YAML text to a dict, YAML's short-form tags (`!Ref`, `!Sub`, `!GetAtt`...) expanded to
their long forms, and the checks CloudFormation makes of a template's shape before it runs anything.

YAML is read with PyYAML (the library the field uses; cfn-lint and the SAM CLI use it too), with timestamps
left as strings, as CloudFormation leaves them.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from overcast.errors import ServiceError

SECTIONS = (
    "AWSTemplateFormatVersion",
    "Description",
    "Metadata",
    "Parameters",
    "Rules",
    "Mappings",
    "Conditions",
    "Transform",
    "Resources",
    "Outputs",
    "Hooks",
)
RESOURCE_KEYS = {
    "Type",
    "Properties",
    "DependsOn",
    "Condition",
    "DeletionPolicy",
    "UpdateReplacePolicy",
    "Metadata",
    "CreationPolicy",
    "UpdatePolicy",
    "Version",
    "Description",
}
MAX_BODY = 51_200  # TemplateBody; a TemplateURL's object may hold up to 1 MB
MAX_URL_BODY = 1_048_576


def validation_error(message: str) -> ServiceError:
    return ServiceError("ValidationError", message, 400)


def format_error(message: str) -> ServiceError:
    return validation_error(f"Template format error: {message}")


class _Loader(yaml.SafeLoader):
    """SafeLoader with CloudFormation's tags, and timestamps kept as the strings they were written as."""


def _tag(name: str):
    def construct(loader: _Loader, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        if name == "Fn::GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
        return {name: value}

    return construct


for _short in (
    "Base64",
    "Cidr",
    "FindInMap",
    "GetAtt",
    "GetAZs",
    "ImportValue",
    "Join",
    "Select",
    "Split",
    "Sub",
    "Transform",
    "And",
    "Equals",
    "If",
    "Not",
    "Or",
    "Length",
    "ToJsonString",
    "ForEach",
    "Contains",
    "EachMemberEquals",
    "EachMemberIn",
    "RefAll",
    "ValueOf",
    "ValueOfAll",
):
    _Loader.add_constructor(f"!{_short}", _tag(f"Fn::{_short}"))
_Loader.add_constructor("!Ref", _tag("Ref"))
_Loader.add_constructor("!Condition", _tag("Condition"))
_Loader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))


def parse(body: str) -> dict[str, Any]:
    """The template `body` (JSON or YAML) as a dict; ValidationError for text that is neither."""
    text = body.lstrip()
    if text.startswith("{"):
        try:
            template = json.loads(body)
        except json.JSONDecodeError as error:
            raise format_error(
                f"JSON not well-formed. (line {error.lineno},  column {error.colno})"
            ) from None
    else:
        try:
            template = yaml.load(body, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark
            where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
            raise format_error(f"YAML not well-formed.{where}") from None
        except yaml.YAMLError:
            raise format_error("YAML not well-formed.") from None
    if not isinstance(template, dict):
        raise format_error("unsupported structure.")
    return template


def check_shape(template: dict[str, Any]) -> None:
    """The checks CloudFormation makes of a template's sections before anything else."""
    unknown = [key for key in template if key not in SECTIONS]
    if unknown:
        raise format_error(f"Invalid template property or properties [{', '.join(unknown)}]")
    version = template.get("AWSTemplateFormatVersion")
    if version is not None and str(version) != "2010-09-09":
        raise format_error(f"Unsupported template version {version}")
    resources = template.get("Resources")
    if not isinstance(resources, dict) or not resources:
        raise format_error("At least one Resources member must be defined.")
    for section in ("Parameters", "Mappings", "Conditions", "Outputs", "Rules"):
        value = template.get(section)
        if value is not None and not isinstance(value, dict):
            raise format_error(f"{section} must be an object")
    for logical_id, resource in resources.items():
        check_logical_id(logical_id, "Resources")
        if not isinstance(resource, dict):
            raise format_error(f"[/Resources/{logical_id}] resource definition is malformed")
        if "Type" not in resource:
            raise format_error(
                f"[/Resources/{logical_id}] Every Resources object must contain a Type member."
            )
        if not isinstance(resource["Type"], str):
            raise format_error(f"[/Resources/{logical_id}/Type] Type must be a string")
        unknown = sorted(key for key in resource if key not in RESOURCE_KEYS)
        if unknown:
            raise format_error(f"Invalid template resource property '{unknown[0]}'")
        properties = resource.get("Properties")
        if properties is not None and not isinstance(properties, dict):
            raise format_error(f"[/Resources/{logical_id}/Properties] properties must be an object")
    for logical_id, output in (template.get("Outputs") or {}).items():
        check_logical_id(logical_id, "Outputs")
        if not isinstance(output, dict) or "Value" not in output:
            raise format_error("Every Outputs member must contain a Value object")
    for name, parameter in (template.get("Parameters") or {}).items():
        check_logical_id(name, "Parameters")
        if not isinstance(parameter, dict) or "Type" not in parameter:
            raise format_error("Every Parameters object must contain a Type member.")
    for name, mapping in (template.get("Mappings") or {}).items():
        if not isinstance(mapping, dict):
            raise format_error(f"Every Mappings member {name} must be a map")
        for _key, second in mapping.items():
            if not isinstance(second, dict):
                raise format_error("Every Mappings attribute must be a String or a List.")


_LOGICAL_ID = re.compile(r"^[A-Za-z0-9]+$")


def check_logical_id(name: Any, section: str) -> None:
    if not isinstance(name, str) or not _LOGICAL_ID.match(name):
        singular = {"Resources": "Resource", "Outputs": "Output", "Parameters": "Parameter"}[section]
        raise format_error(f"{singular} name {name} is non alphanumeric.")


def transforms_of(template: dict[str, Any]) -> list[str]:
    """The macros the template's Transform section declares, in order."""
    declared = template.get("Transform")
    if declared is None:
        return []
    items = declared if isinstance(declared, list) else [declared]
    names = []
    for item in items:
        if isinstance(item, str):
            names.append(item)
        elif isinstance(item, dict) and isinstance(item.get("Name"), str):
            names.append(item["Name"])
    return names


def dump(template: dict[str, Any]) -> str:
    """A processed template as CloudFormation returns it (JSON)."""
    return json.dumps(template, indent=2)


def looks_like_json(body: str) -> bool:
    return body.lstrip().startswith("{")
