"""The registry, as far as Overcast has one: the resource types it supports (ListTypes, DescribeType)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.cloudformation.resources import registry
from overcast.services.cloudformation.resources.base import ResourceHandler
from overcast.services.kit.paging import decode_token, page_of

if TYPE_CHECKING:
    from overcast.services.cloudformation.provider import CloudFormationProvider

PAGE = 100
_PUBLISHED = datetime(2024, 1, 1, tzinfo=UTC)


def invalid_token() -> ServiceError:
    return ServiceError("ValidationError", "Invalid NextToken", 400)


def type_not_found(name: str) -> ServiceError:
    return ServiceError("TypeNotFoundException", f"The type '{name}' cannot be found.", 404)


def type_arn(region: str, name: str) -> str:
    return f"arn:aws:cloudformation:{region}::type/resource/{name.replace('::', '-')}"


def schema(handler: ResourceHandler) -> dict[str, Any]:
    """The resource schema of a supported type, as far as its handler declares it."""
    name = handler.type_name
    return {
        "typeName": name,
        "description": f"{name}, as Overcast provides it",
        "properties": {
            **{prop: {} for prop in sorted(set(handler.required) | set(handler.create_only))},
            **{attribute: {} for attribute in handler.attributes if "*" not in attribute},
        },
        "required": list(handler.required),
        "createOnlyProperties": [f"/properties/{prop}" for prop in sorted(handler.create_only)],
        "readOnlyProperties": [f"/properties/{attr}" for attr in handler.attributes if "*" not in attr],
        "primaryIdentifier": [f"/properties/{handler.primary_identifier}"],
        "additionalProperties": False,
    }


class RegistryOperations(Operations):
    service: CloudFormationProvider

    def list_types(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("Type", "RESOURCE") != "RESOURCE" or params.get("Visibility") == "PRIVATE":
            return {"TypeSummaries": []}
        prefix = ((params.get("Filters") or {}).get("TypeNamePrefix")) or ""
        names = sorted(name for name in registry() if name.startswith(prefix))
        after = decode_token(params.get("NextToken"), invalid_token, "ListTypes") or ""
        names = [name for name in names if name > after]
        limit = params.get("MaxResults") or PAGE
        page, token = page_of(names, limit, lambda name: name, "ListTypes")
        result: dict[str, Any] = {
            "TypeSummaries": [
                {
                    "Type": "RESOURCE",
                    "TypeName": name,
                    "DefaultVersionId": "00000001",
                    "TypeArn": type_arn(ctx.region, name),
                    "LastUpdated": _PUBLISHED,
                    "Description": f"{name}, as Overcast provides it",
                    "PublisherId": "aws",
                    "IsActivated": True,
                }
                for name in page
            ]
        }
        if token:
            result["NextToken"] = token
        return result

    def describe_type(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params.get("TypeName")
        if name is None and params.get("Arn"):
            name = params["Arn"].rsplit("/", 1)[-1].replace("-", "::")
        handler = registry().get(name or "")
        if handler is None or params.get("Type", "RESOURCE") != "RESOURCE":
            raise type_not_found(name or params.get("Arn", ""))
        return {
            "Arn": type_arn(ctx.region, handler.type_name),
            "Type": "RESOURCE",
            "TypeName": handler.type_name,
            "DefaultVersionId": "00000001",
            "IsDefaultVersion": True,
            "Description": f"{handler.type_name}, as Overcast provides it",
            "Schema": json.dumps(schema(handler)),
            "ProvisioningType": "FULLY_MUTABLE",
            "DeprecatedStatus": "LIVE",
            "Visibility": "PUBLIC",
            "LastUpdated": _PUBLISHED,
            "TimeCreated": _PUBLISHED,
            "IsActivated": True,
        }
