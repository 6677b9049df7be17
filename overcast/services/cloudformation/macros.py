"""Macros: the transforms a template declares (the SAM transform through AWS's own aws-sam-translator,
AWS::LanguageExtensions' Fn::ForEach, AWS::Include through Fn::Transform, and the account's own Lambda-backed
macros, AWS::CloudFormation::Macro), run before the template is checked.

As in AWS, macros run from the most deeply nested outward: each Fn::Transform (its siblings processed
first), then the Transform section's macros in the order listed.
"""

from __future__ import annotations

import copy
import functools
import json
import uuid
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.cloudformation import template as templates

if TYPE_CHECKING:
    from overcast.services.cloudformation.provider import CloudFormationProvider

SAM = "AWS::Serverless-2016-10-31"
LANGUAGE_EXTENSIONS = "AWS::LanguageExtensions"
INCLUDE = "AWS::Include"
BUILT_IN = (SAM, LANGUAGE_EXTENSIONS, INCLUDE)


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
    values = parameter_values(template, given)
    result = await _snippets(service, ctx, copy.deepcopy(template), values)
    declared = _declared(template)
    for index, (name, params) in enumerate(declared):
        if name == LANGUAGE_EXTENSIONS:
            result = expand_for_each(result)
        elif name == SAM:
            result = await _sam(service, ctx, result, given, stack_name)
        elif name == INCLUDE:
            continue
        else:
            fragment = {key: value for key, value in result.items() if key != "Transform"}
            result = await _run_macro(service, ctx, name, fragment, params, values)
            if not isinstance(result, dict):
                raise validation_error(
                    f"Template format error: Transform {ctx.account_id}::{name} returned a template that is not an object"
                )
            if index + 1 < len(declared) and "Transform" in template:
                result["Transform"] = template["Transform"]  # the macros still to run find their names
    return result


def _declared(template: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The Transform section's macros in order, with the Parameters each is given."""
    declared = template.get("Transform")
    items = declared if isinstance(declared, list) else [] if declared is None else [declared]
    found: list[tuple[str, dict[str, Any]]] = []
    for item in items:
        if isinstance(item, str):
            found.append((item, {}))
        elif isinstance(item, dict) and isinstance(item.get("Name"), str):
            found.append((item["Name"], item.get("Parameters") or {}))
    return found


def parameter_values(template: dict[str, Any], given: list[dict[str, Any]]) -> dict[str, Any]:
    """The template's parameter values (defaults, then the values given), as macros receive them."""
    values: dict[str, Any] = {}
    for name, declaration in (template.get("Parameters") or {}).items():
        if isinstance(declaration, dict) and "Default" in declaration:
            values[name] = declaration["Default"]
    for entry in given:
        if entry.get("ParameterKey") and entry.get("ParameterValue") is not None:
            values[entry["ParameterKey"]] = entry["ParameterValue"]
    return values


async def _snippets(
    service: CloudFormationProvider, ctx: RequestContext, value: Any, values: dict[str, Any]
) -> Any:
    """Each `Fn::Transform` replaced by what its macros make of its siblings: AWS::Include's snippet (read
    from Overcast's S3), or a Lambda-backed macro's fragment."""
    if isinstance(value, list):
        return [await _snippets(service, ctx, item, values) for item in value]
    if not isinstance(value, dict):
        return value
    if isinstance(value.get("Transform"), dict) and value["Transform"].get("Name") == INCLUDE:
        included = await _snippets(service, ctx, {"Fn::Transform": value["Transform"]}, values)
        rest = {key: item for key, item in value.items() if key != "Transform"}
        return {**(included if isinstance(included, dict) else {}), **rest}
    siblings = {
        key: await _snippets(service, ctx, item, values)
        for key, item in value.items()
        if key != "Fn::Transform"
    }
    if "Fn::Transform" not in value:
        return siblings
    specs = value["Fn::Transform"]
    result: Any = siblings
    for spec in specs if isinstance(specs, list) else [specs]:
        if not isinstance(spec, dict) or not isinstance(spec.get("Name"), str):
            raise validation_error("Template format error: Fn::Transform must name a macro (Name)")
        params = spec.get("Parameters") or {}
        if spec["Name"] == INCLUDE:
            location = params.get("Location") if isinstance(params, dict) else None
            if not isinstance(location, str):
                raise validation_error("Template format error: AWS::Include requires a Location parameter")
            text = await service.fetch_s3_text(ctx, location)
            snippet = await _snippets(service, ctx, _snippet(text), values)
            result = (
                {**snippet, **result}
                if isinstance(snippet, dict) and isinstance(result, dict) and result
                else snippet
            )
        else:
            result = await _run_macro(service, ctx, spec["Name"], result, params, values)
    return result


async def _run_macro(
    service: CloudFormationProvider,
    ctx: RequestContext,
    name: str,
    fragment: Any,
    params: Any,
    values: dict[str, Any],
) -> Any:
    """A Lambda-backed macro of the account and region run on `fragment`: its function is invoked with
    AWS's event, and answers with the processed fragment."""
    transform_id = f"{ctx.account_id}::{name}"
    function = service.store.macro_function(ctx.account_id, ctx.region, name)
    if function is None or name in BUILT_IN:
        raise validation_error(f"No transform named {transform_id} found.")
    request_id = str(uuid.uuid4())
    event = {
        "region": ctx.region,
        "accountId": ctx.account_id,
        "fragment": fragment,
        "transformId": transform_id,
        "params": params,
        "requestId": request_id,
        "templateParameterValues": values,
    }
    malformed = validation_error(f"Received malformed response from transform {transform_id}")
    try:
        answered = await service.platform.call(
            "lambda",
            "Invoke",
            {"FunctionName": function, "Payload": json.dumps(event).encode()},
            principal=ctx.principal,
            account_id=ctx.account_id,
            region=ctx.region,
        )
    except ServiceError as error:
        raise validation_error(f"Transform {transform_id} failed with: {error.message}") from None
    if answered.get("FunctionError"):
        raise malformed
    try:
        response = json.loads(bytes(answered.get("Payload") or b"") or b"null")
    except ValueError:
        raise malformed from None
    if not isinstance(response, dict) or response.get("requestId") != request_id:
        raise malformed
    if str(response.get("status", "")).lower() != "success":
        message = response.get("errorMessage")
        if message:
            raise validation_error(f"Transform {transform_id} failed with: {message}")
        raise validation_error(f"Transform {transform_id} failed without an error message.")
    if "fragment" not in response:
        raise malformed
    return response["fragment"]


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
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.arn_generator import ArnGenerator
    from samtranslator.translator.translator import Translator
    from samtranslator.utils.py27hash_fix import (
        to_py27_compatible_template,
        undo_mark_unicode_str_in_template,
    )

    values = parameter_values(template, given)
    values.update(
        {
            "AWS::Region": ctx.region,
            "AWS::AccountId": ctx.account_id,
            "AWS::Partition": "aws",
            "AWS::StackName": stack_name,
            "AWS::URLSuffix": "amazonaws.com",
        }
    )
    policies = await _managed_policies(service, ctx)
    # What samtranslator.translator.transform.transform does, with a boto3 session in the stack's region: the
    # translator asks it for "the region it runs in" (pseudo parameters, ARNs of schedules and policy
    # templates), which the server's environment need not name. Translation never awaits, so the region
    # it also leaves in ArnGenerator is this stack's while it runs, and cleared after.
    translator = Translator(None, Parser(), boto_session=_session(ctx.region))
    try:
        to_py27_compatible_template(template, values)
        translated = translator.translate(
            template, parameter_values=values, get_managed_policy_map=lambda: policies
        )
        result = undo_mark_unicode_str_in_template(translated)
    except InvalidDocumentException as error:
        messages = " ".join(cause.message for cause in error.causes)
        raise validation_error(
            f"Transform {SAM} failed with: Invalid Serverless Application Specification document. "
            f"Number of errors found: {len(error.causes)}. {messages}"
        ) from None
    except Exception as error:  # the translator's own failures are the transform's failure
        raise validation_error(f"Transform {SAM} failed with: {error}") from None
    finally:
        ArnGenerator.BOTO_SESSION_REGION_NAME = None
    return json.loads(json.dumps(result))


@functools.cache
def _session(region: str) -> Any:
    """A boto3 session naming `region` (built once per region: it loads botocore's data)."""
    import boto3

    return boto3.session.Session(region_name=region)


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
