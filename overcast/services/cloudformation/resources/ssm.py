"""Systems Manager resource types: AWS::SSM::Parameter, AWS::SSM::Document."""

from __future__ import annotations

import json
from typing import Any

from overcast.errors import ServiceError
from overcast.services.cloudformation.resources.base import (
    Created,
    HandlerError,
    ResourceHandler,
    drop_none,
    not_found,
    tag_list,
    tag_map,
    text,
)


class Parameter(ResourceHandler):
    type_name = "AWS::SSM::Parameter"
    service = "ssm"
    required = ("Type", "Value")
    create_only = frozenset({"Name"})
    attributes = ("Type", "Value")
    primary_identifier = "Name"

    def _params(self, name: str, properties: dict[str, Any], overwrite: bool) -> dict[str, Any]:
        if properties["Type"] == "SecureString":
            raise HandlerError("SSM Parameters of type SecureString cannot be created using CloudFormation")
        return drop_none(
            {
                "Name": name,
                "Value": text(properties["Value"]),
                "Type": properties["Type"],
                "Description": properties.get("Description"),
                "AllowedPattern": properties.get("AllowedPattern"),
                "Tier": properties.get("Tier"),
                "Policies": properties.get("Policies"),
                "DataType": properties.get("DataType"),
                "Overwrite": True if overwrite else None,
            }
        )

    async def create(self, ctx, properties):
        name = properties.get("Name") or f"CFN-{ctx.logical_id}-{ctx.generated_name(12)[-12:]}"
        params = self._params(name, properties, False)
        tags = tag_map(properties.get("Tags"))
        if tags:
            params["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
        await ctx.call("ssm", "PutParameter", params)
        return Created(name, {"Type": properties["Type"], "Value": text(properties["Value"])})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await ctx.call("ssm", "PutParameter", self._params(physical_id, properties, True))
        old, new = tag_map(previous.get("Tags")), tag_map(properties.get("Tags"))
        gone = [key for key in old if key not in new]
        if gone:
            await ctx.call(
                "ssm",
                "RemoveTagsFromResource",
                {"ResourceType": "Parameter", "ResourceId": physical_id, "TagKeys": gone},
            )
        if new and new != old:
            await ctx.call(
                "ssm",
                "AddTagsToResource",
                {
                    "ResourceType": "Parameter",
                    "ResourceId": physical_id,
                    "Tags": [{"Key": k, "Value": v} for k, v in new.items()],
                },
            )
        return {"Type": properties["Type"], "Value": text(properties["Value"])}

    async def delete(self, ctx, physical_id, properties):
        try:
            await ctx.call("ssm", "DeleteParameter", {"Name": physical_id})
        except ServiceError as error:
            if not not_found(error):
                raise

    async def read(self, ctx, physical_id, properties):
        try:
            found = (await ctx.call("ssm", "GetParameter", {"Name": physical_id}))["Parameter"]
        except ServiceError as error:
            if not_found(error):
                return None
            raise
        result = {"Name": physical_id, "Type": found["Type"], "Value": found["Value"]}
        for key in properties:
            result.setdefault(key, properties[key])
        return result


def _content(value: Any, document_format: str | None) -> str:
    """The document's Content (an object in the template) as the text of its format."""
    if isinstance(value, str):
        return value
    if (document_format or "JSON") == "YAML":
        import yaml

        return yaml.safe_dump(value, sort_keys=False)
    return json.dumps(value)


class Document(ResourceHandler):
    """UpdateMethod Replace (the default) replaces the document on a change of its content; NewVersion
    writes the change as the document's next version and makes it the default."""

    type_name = "AWS::SSM::Document"
    service = "ssm"
    required = ("Content",)
    create_only = frozenset({"Name", "DocumentType"})
    primary_identifier = "Name"

    def needs_replacement(self, properties, previous):
        if super().needs_replacement(properties, previous):
            return True
        if (properties.get("UpdateMethod") or "Replace") == "NewVersion":
            return False
        return any(
            properties.get(key) != previous.get(key)
            for key in ("Content", "DocumentFormat", "Requires", "Attachments", "TargetType", "VersionName")
        )

    async def create(self, ctx, properties):
        name = properties.get("Name") or ctx.generated_name(128)
        await ctx.call(
            "ssm",
            "CreateDocument",
            drop_none(
                {
                    "Name": name,
                    "Content": _content(properties["Content"], properties.get("DocumentFormat")),
                    "DocumentType": properties.get("DocumentType"),
                    "DocumentFormat": properties.get("DocumentFormat"),
                    "TargetType": properties.get("TargetType"),
                    "VersionName": properties.get("VersionName"),
                    "Requires": properties.get("Requires"),
                    "Attachments": properties.get("Attachments"),
                    "Tags": tag_list(properties.get("Tags")) or None,
                }
            ),
        )
        return Created(name)

    async def update(self, ctx, physical_id, properties, previous, attributes):
        if properties.get("Content") != previous.get("Content"):
            found = await ctx.call(
                "ssm",
                "UpdateDocument",
                drop_none(
                    {
                        "Name": physical_id,
                        "Content": _content(properties["Content"], properties.get("DocumentFormat")),
                        "DocumentFormat": properties.get("DocumentFormat"),
                        "TargetType": properties.get("TargetType"),
                        "VersionName": properties.get("VersionName"),
                        "DocumentVersion": "$LATEST",
                    }
                ),
            )
            await ctx.call(
                "ssm",
                "UpdateDocumentDefaultVersion",
                {"Name": physical_id, "DocumentVersion": found["DocumentDescription"]["DocumentVersion"]},
            )
        before, after = tag_list(previous.get("Tags")), tag_list(properties.get("Tags"))
        gone = [t["Key"] for t in before if t["Key"] not in {n["Key"] for n in after}]
        if gone:
            await ctx.call(
                "ssm",
                "RemoveTagsFromResource",
                {"ResourceType": "Document", "ResourceId": physical_id, "TagKeys": gone},
            )
        if after and after != before:
            await ctx.call(
                "ssm",
                "AddTagsToResource",
                {"ResourceType": "Document", "ResourceId": physical_id, "Tags": after},
            )
        return attributes

    async def delete(self, ctx, physical_id, properties):
        try:
            await ctx.call("ssm", "DeleteDocument", {"Name": physical_id})
        except ServiceError as error:
            if not (not_found(error) or error.code == "InvalidDocument"):
                raise

    async def read(self, ctx, physical_id, properties):
        try:
            await ctx.call("ssm", "DescribeDocument", {"Name": physical_id})
        except ServiceError as error:
            if not_found(error) or error.code == "InvalidDocument":
                return None
            raise
        return dict(properties)


HANDLERS = (Parameter, Document)
