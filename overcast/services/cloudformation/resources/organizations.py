"""AWS Organizations resource types: organizational units and policies (service control policies and the
other policy types), made from the organization's management account."""

from __future__ import annotations

import json
from typing import Any

from overcast.errors import ServiceError
from overcast.services.cloudformation.resources.base import (
    Created,
    ResourceContext,
    ResourceHandler,
    document,
    ignore_missing,
    not_found,
    tag_list,
)


async def _sync_tags(ctx: ResourceContext, resource_id: str, new: Any, old: Any) -> None:
    new_tags, old_tags = tag_list(new), tag_list(old)
    gone = [tag["Key"] for tag in old_tags if tag["Key"] not in {t["Key"] for t in new_tags}]
    if gone:
        await ctx.call("organizations", "UntagResource", {"ResourceId": resource_id, "TagKeys": gone})
    if new_tags and new_tags != old_tags:
        await ctx.call("organizations", "TagResource", {"ResourceId": resource_id, "Tags": new_tags})


class OrganizationalUnit(ResourceHandler):
    type_name = "AWS::Organizations::OrganizationalUnit"
    service = "organizations"
    required = ("Name", "ParentId")
    create_only = frozenset({"ParentId"})
    attributes = ("Arn", "Id")

    async def create(self, ctx, properties):
        params: dict[str, Any] = {"ParentId": properties["ParentId"], "Name": properties["Name"]}
        if properties.get("Tags"):
            params["Tags"] = tag_list(properties["Tags"])
        unit = (await ctx.call("organizations", "CreateOrganizationalUnit", params))["OrganizationalUnit"]
        return Created(unit["Id"], {"Arn": unit["Arn"], "Id": unit["Id"]})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        if properties["Name"] != previous.get("Name"):
            await ctx.call(
                "organizations",
                "UpdateOrganizationalUnit",
                {"OrganizationalUnitId": physical_id, "Name": properties["Name"]},
            )
        await _sync_tags(ctx, physical_id, properties.get("Tags"), previous.get("Tags"))
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(
            ctx.call("organizations", "DeleteOrganizationalUnit", {"OrganizationalUnitId": physical_id})
        )

    async def read(self, ctx, physical_id, properties):
        try:
            unit = (
                await ctx.call(
                    "organizations", "DescribeOrganizationalUnit", {"OrganizationalUnitId": physical_id}
                )
            )["OrganizationalUnit"]
        except ServiceError as error:
            if not_found(error):
                return None
            raise
        return {**properties, "Name": unit["Name"]}


class Policy(ResourceHandler):
    """An Organizations policy (Content as an object or as JSON text), attached to its TargetIds."""

    type_name = "AWS::Organizations::Policy"
    service = "organizations"
    required = ("Content", "Name", "Type")
    create_only = frozenset({"Type"})
    attributes = ("Arn", "AwsManaged", "Id")

    async def create(self, ctx, properties):
        params: dict[str, Any] = {
            "Content": document(properties["Content"]),
            "Description": properties.get("Description") or "",
            "Name": properties["Name"],
            "Type": properties["Type"],
        }
        if properties.get("Tags"):
            params["Tags"] = tag_list(properties["Tags"])
        summary = (await ctx.call("organizations", "CreatePolicy", params))["Policy"]["PolicySummary"]
        for target in properties.get("TargetIds") or []:
            await ctx.call("organizations", "AttachPolicy", {"PolicyId": summary["Id"], "TargetId": target})
        return Created(
            summary["Id"], {"Arn": summary["Arn"], "AwsManaged": summary["AwsManaged"], "Id": summary["Id"]}
        )

    async def update(self, ctx, physical_id, properties, previous, attributes):
        changed = {
            key: value
            for key, value in (
                ("Name", properties["Name"]),
                ("Description", properties.get("Description") or ""),
                ("Content", document(properties["Content"])),
            )
            if value != (document(previous.get(key)) if key == "Content" else previous.get(key) or "")
        }
        if changed:
            await ctx.call("organizations", "UpdatePolicy", {"PolicyId": physical_id, **changed})
        new, old = properties.get("TargetIds") or [], previous.get("TargetIds") or []
        for target in old:
            if target not in new:
                await ignore_missing(
                    ctx.call("organizations", "DetachPolicy", {"PolicyId": physical_id, "TargetId": target})
                )
        for target in new:
            if target not in old:
                await ctx.call("organizations", "AttachPolicy", {"PolicyId": physical_id, "TargetId": target})
        await _sync_tags(ctx, physical_id, properties.get("Tags"), previous.get("Tags"))
        return attributes

    async def delete(self, ctx, physical_id, properties):
        for target in properties.get("TargetIds") or []:
            await ignore_missing(
                ctx.call("organizations", "DetachPolicy", {"PolicyId": physical_id, "TargetId": target})
            )
        await ignore_missing(ctx.call("organizations", "DeletePolicy", {"PolicyId": physical_id}))

    async def read(self, ctx, physical_id, properties):
        try:
            policy = (await ctx.call("organizations", "DescribePolicy", {"PolicyId": physical_id}))["Policy"]
        except ServiceError as error:
            if not_found(error):
                return None
            raise
        summary = policy["PolicySummary"]
        content = properties.get("Content")
        live = json.loads(policy["Content"]) if not isinstance(content, str) else policy["Content"]
        return {**properties, "Name": summary["Name"], "Content": live}


HANDLERS = (OrganizationalUnit, Policy)
