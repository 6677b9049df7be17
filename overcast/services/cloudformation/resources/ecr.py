"""ECR resource types: AWS::ECR::Repository."""

from __future__ import annotations

from typing import Any

from overcast.errors import ServiceError
from overcast.services.cloudformation.resources.base import (
    Created,
    ResourceContext,
    ResourceHandler,
    boolean,
    document,
    drop_none,
    not_found,
    tag_list,
)


class Repository(ResourceHandler):
    type_name = "AWS::ECR::Repository"
    service = "ecr"
    create_only = frozenset({"RepositoryName", "EncryptionConfiguration"})
    attributes = ("Arn", "RepositoryUri")
    primary_identifier = "RepositoryName"

    async def create(self, ctx, properties):
        name = properties.get("RepositoryName") or ctx.generated_name(256, lowercase=True)
        params = drop_none(
            {
                "repositoryName": name,
                "imageTagMutability": properties.get("ImageTagMutability"),
                "imageScanningConfiguration": _scanning(properties.get("ImageScanningConfiguration")),
                "encryptionConfiguration": _encryption(properties.get("EncryptionConfiguration")),
                "tags": tag_list(properties.get("Tags")) or None,
            }
        )
        repository = (await ctx.call("ecr", "CreateRepository", params))["repository"]
        await self._policies(ctx, name, properties, {})
        return Created(
            name, {"Arn": repository["repositoryArn"], "RepositoryUri": repository["repositoryUri"]}
        )

    def known_attributes(self, ctx: ResourceContext, physical_id: str) -> dict[str, Any]:
        return {
            "Arn": ctx.arn("ecr", f"repository/{physical_id}"),
            "RepositoryUri": f"{ctx.account}.dkr.ecr.{ctx.region}.amazonaws.com/{physical_id}",
        }

    async def _policies(
        self, ctx: ResourceContext, name: str, new: dict[str, Any], old: dict[str, Any]
    ) -> None:
        if new.get("RepositoryPolicyText") != old.get("RepositoryPolicyText"):
            if new.get("RepositoryPolicyText"):
                await ctx.call(
                    "ecr",
                    "SetRepositoryPolicy",
                    {"repositoryName": name, "policyText": document(new["RepositoryPolicyText"])},
                )
            else:
                await ctx.call("ecr", "DeleteRepositoryPolicy", {"repositoryName": name})
        lifecycle, before = new.get("LifecyclePolicy") or {}, old.get("LifecyclePolicy") or {}
        if lifecycle != before:
            if lifecycle.get("LifecyclePolicyText"):
                await ctx.call(
                    "ecr",
                    "PutLifecyclePolicy",
                    {"repositoryName": name, "lifecyclePolicyText": lifecycle["LifecyclePolicyText"]},
                )
            elif before.get("LifecyclePolicyText"):
                await ctx.call("ecr", "DeleteLifecyclePolicy", {"repositoryName": name})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        if properties.get("ImageTagMutability") != previous.get("ImageTagMutability"):
            await ctx.call(
                "ecr",
                "PutImageTagMutability",
                {
                    "repositoryName": physical_id,
                    "imageTagMutability": properties.get("ImageTagMutability") or "MUTABLE",
                },
            )
        if properties.get("ImageScanningConfiguration") != previous.get("ImageScanningConfiguration"):
            await ctx.call(
                "ecr",
                "PutImageScanningConfiguration",
                {
                    "repositoryName": physical_id,
                    "imageScanningConfiguration": _scanning(properties.get("ImageScanningConfiguration"))
                    or {"scanOnPush": False},
                },
            )
        await self._policies(ctx, physical_id, properties, previous)
        old, new = tag_list(previous.get("Tags")), tag_list(properties.get("Tags"))
        gone = [t["Key"] for t in old if t["Key"] not in {n["Key"] for n in new}]
        if gone:
            await ctx.call("ecr", "UntagResource", {"resourceArn": attributes["Arn"], "tagKeys": gone})
        if new and new != old:
            await ctx.call("ecr", "TagResource", {"resourceArn": attributes["Arn"], "tags": new})
        return attributes

    async def delete(self, ctx, physical_id, properties):
        try:
            await ctx.call(
                "ecr",
                "DeleteRepository",
                {"repositoryName": physical_id, "force": bool(boolean(properties.get("EmptyOnDelete")))},
            )
        except ServiceError as error:
            if not not_found(error):
                raise

    async def read(self, ctx, physical_id, properties):
        try:
            found = await ctx.call("ecr", "DescribeRepositories", {"repositoryNames": [physical_id]})
        except ServiceError as error:
            if not_found(error):
                return None
            raise
        repository = found["repositories"][0]
        result: dict[str, Any] = dict(properties)
        result["RepositoryName"] = physical_id
        if "ImageTagMutability" in properties:
            result["ImageTagMutability"] = repository.get("imageTagMutability")
        return result


def _scanning(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {"scanOnPush": bool(boolean(value.get("ScanOnPush")))}


def _encryption(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return drop_none({"encryptionType": value.get("EncryptionType"), "kmsKey": value.get("KmsKey")})


HANDLERS = (Repository,)
