"""Macros: the transforms a template declares (the SAM transform through AWS's own aws-sam-translator,
AWS::LanguageExtensions' Fn::ForEach, AWS::Include through Fn::Transform), run before the template is checked.
"""

from __future__ import annotations

import copy
import json
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.cloudformation import template as templates

if TYPE_CHECKING:
    from overcast.services.cloudformation.provider import CloudFormationProvider

SAM = "AWS::Serverless-2016-10-31"
LANGUAGE_EXTENSIONS = "AWS::LanguageExtensions"
INCLUDE = "AWS::Include"


def validation_error(message: str) -> ServiceError:
    return ServiceError("ValidationError", message, 400)


async def process(
    service: CloudFormationProvider,
    ctx: RequestContext,
    template: dict[str, Any],
    given: list[dict[str, Any]],
    stack_name: str,
) -> dict[str, Any]:
    """The template after every macro it uses ran (a new dict; `template` is left as it was)."""
    result = copy.deepcopy(template)
    result = await _includes(service, ctx, result)
    for name in templates.transforms_of(template):
        if name == LANGUAGE_EXTENSIONS:
            result = expand_for_each(result)
        elif name == SAM:
            result = await _sam(service, ctx, result, given, stack_name)
        elif name == INCLUDE:
            continue
        else:
            raise validation_error(f"No transform named {ctx.account_id}::{name} found.")
    return result


async def _includes(service: CloudFormationProvider, ctx: RequestContext, value: Any) -> Any:
    """Each `Fn::Transform: {Name: AWS::Include, Parameters: {Location: s3://...}}` replaced by the snippet
    it names (read from Overcast's S3)."""
    if isinstance(value, dict):
        transform = value.get("Fn::Transform")
        if len(value) == 1 and isinstance(transform, dict) and transform.get("Name") == INCLUDE:
            location = (transform.get("Parameters") or {}).get("Location")
            if not isinstance(location, str):
                raise validation_error("Template format error: AWS::Include requires a Location parameter")
            text = await service.fetch_s3_text(ctx, location)
            return await _includes(service, ctx, _snippet(text))
        if (
            "Transform" in value
            and isinstance(value.get("Transform"), dict)
            and value["Transform"].get("Name") == INCLUDE
        ):
            included = await _includes(service, ctx, {"Fn::Transform": value["Transform"]})
            rest = {key: item for key, item in value.items() if key != "Transform"}
            return {**(included if isinstance(included, dict) else {}), **rest}
        return {key: await _includes(service, ctx, item) for key, item in value.items()}
    if isinstance(value, list):
        return [await _includes(service, ctx, item) for item in value]
    return value


def _snippet(text: str) -> Any:
    """An included snippet: JSON or YAML of any shape (a template parse insists on a mapping)."""
    try:
        return templates.parse(text)
    except ServiceError:
        import yaml

        return yaml.load(text, Loader=templates._Loader)  # noqa: S506 - a SafeLoader subclass


# -- AWS::LanguageExtensions: Fn::ForEach ------------------------------------------------------------------


def expand_for_each(template: dict[str, Any]) -> dict[str, Any]:
    """Every `Fn::ForEach::<Name>: [Identifier, Collection, {OutputKey: OutputValue}]` in Resources, Outputs and
    Conditions expanded (the collection must be a literal list, or a Ref to a list parameter's default)."""
    parameters = template.get("Parameters") or {}
    for section in ("Resources", "Outputs", "Conditions"):
        if isinstance(template.get(section), dict):
            template[section] = _expand_section(template[section], parameters)
    return template


def _expand_section(section: dict[str, Any], parameters: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in section.items():
        if not key.startswith("Fn::ForEach::"):
            result[key] = value
            continue
        if not isinstance(value, list) or len(value) != 3 or not isinstance(value[2], dict):
            raise validation_error(f"Template format error: {key} must be a list of three elements")
        identifier, collection, body = value
        items = _collection(collection, parameters)
        for item in items:
            expanded = _substitute(body, identifier, str(item))
            result.update(_expand_section(expanded, parameters))
    return result


def _collection(collection: Any, parameters: dict[str, Any]) -> list[Any]:
    if isinstance(collection, list):
        return collection
    if isinstance(collection, dict) and "Ref" in collection:
        declaration = parameters.get(collection["Ref"]) or {}
        default = declaration.get("Default")
        if isinstance(default, list):
            return default
        if isinstance(default, str):
            return [item.strip() for item in default.split(",") if item.strip()]
    raise validation_error("Template format error: Fn::ForEach collection must be a list")


def _substitute(value: Any, identifier: str, item: str) -> Any:
    """`${Identifier}` and `&{Identifier}` in keys and strings, and `Ref: Identifier`, replaced by `item`."""
    if isinstance(value, dict):
        if value == {"Ref": identifier}:
            return item
        return {
            _replace(key, identifier, item): _substitute(child, identifier, item)
            for key, child in value.items()
        }
    if isinstance(value, list):
        return [_substitute(child, identifier, item) for child in value]
    if isinstance(value, str):
        return _replace(value, identifier, item)
    return value


def _replace(text: str, identifier: str, item: str) -> str:
    alphanumeric = "".join(char for char in item if char.isalnum())
    return text.replace("${" + identifier + "}", item).replace("&{" + identifier + "}", alphanumeric)


# -- AWS::Serverless-2016-10-31 --------------------------------------------------------------------------------


async def _sam(
    service: CloudFormationProvider,
    ctx: RequestContext,
    template: dict[str, Any],
    given: list[dict[str, Any]],
    stack_name: str,
) -> dict[str, Any]:
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.translator.transform import transform

    values: dict[str, Any] = {}
    for name, declaration in (template.get("Parameters") or {}).items():
        if isinstance(declaration, dict) and "Default" in declaration:
            values[name] = declaration["Default"]
    for entry in given:
        if entry.get("ParameterKey") and entry.get("ParameterValue") is not None:
            values[entry["ParameterKey"]] = entry["ParameterValue"]
    values.update(
        {
            "AWS::Region": ctx.region,
            "AWS::AccountId": ctx.account_id,
            "AWS::Partition": "aws",
            "AWS::StackName": stack_name,
            "AWS::URLSuffix": "amazonaws.com",
        }
    )
    loader = _PolicyLoader(await _managed_policies(service, ctx))
    try:
        result = transform(template, values, loader)
    except InvalidDocumentException as error:
        messages = " ".join(cause.message for cause in error.causes)
        raise validation_error(
            f"Transform {SAM} failed with: Invalid Serverless Application Specification document. "
            f"Number of errors found: {len(error.causes)}. {messages}"
        ) from None
    except Exception as error:  # the translator's own failures are the transform's failure
        raise validation_error(f"Transform {SAM} failed with: {error}") from None
    return json.loads(json.dumps(result))


class _PolicyLoader:
    """What the translator asks for AWS managed policies by name (their ARNs, from Overcast's IAM)."""

    def __init__(self, policies: dict[str, str]) -> None:
        self.policies = policies

    def load(self) -> dict[str, str]:
        return self.policies


async def _managed_policies(service: CloudFormationProvider, ctx: RequestContext) -> dict[str, str]:
    cached = getattr(service, "_aws_managed_policies", None)
    if cached is not None:
        return cached
    policies: dict[str, str] = {}
    marker = None
    try:
        for _ in range(100):
            params: dict[str, Any] = {"Scope": "AWS", "MaxItems": 1000}
            if marker:
                params["Marker"] = marker
            page = await service.platform.call(
                "iam",
                "ListPolicies",
                params,
                principal=ctx.principal,
                account_id=ctx.account_id,
                region=ctx.region,
            )
            for policy in page.get("Policies", []):
                policies[policy["PolicyName"]] = policy["Arn"]
            marker = page.get("Marker")
            if not page.get("IsTruncated") or not marker:
                break
    except ServiceError:
        return policies
    service._aws_managed_policies = policies  # type: ignore[attr-defined]
    return policies
