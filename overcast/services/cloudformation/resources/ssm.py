"""Systems Manager resource types: AWS::SSM::Parameter."""

from __future__ import annotations

from typing import Any

from overcast.errors import ServiceError
from overcast.services.cloudformation.resources.base import (
    Created,
    HandlerError,
    ResourceHandler,
    drop_none,
    not_found,
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


HANDLERS = (Parameter,)
