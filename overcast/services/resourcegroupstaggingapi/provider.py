"""GetResources, GetTagKeys, GetTagValues, TagResources, UntagResources (docs/services/resourcegroupstaggingapi.md)."""

from __future__ import annotations

from typing import Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services import PROVIDERS
from overcast.services.base import ServiceProvider
from overcast.services.kit.arns import parse_arn
from overcast.services.kit.paging import decode_token, encode_token

PAGE = 100  # resources per page unless ResourcesPerPage says fewer (AWS's default and maximum)


def invalid(message: str) -> ServiceError:
    return ServiceError("InvalidParameterException", message, 400)


def _bad_token() -> ServiceError:
    return invalid("Invalid PaginationToken")


class ResourceGroupsTaggingProvider(ServiceProvider):
    service_name = "resourcegroupstaggingapi"

    # -- reading ----------------------------------------------------------------------------------------

    def get_resources(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        listed = params.get("ResourceARNList")
        filters = params.get("TagFilters") or []
        types = params.get("ResourceTypeFilters") or []
        if listed and (filters or types):
            raise invalid(
                "ResourceARNList can't be specified together with TagFilters or ResourceTypeFilters."
            )
        if listed and any(
            params.get(name) for name in ("PaginationToken", "ResourcesPerPage", "TagsPerPage")
        ):
            raise invalid("ResourceARNList can't be specified together with pagination parameters.")
        if listed:
            store = self.platform.tag_store
            mappings = [self._mapping(arn, tags) for arn in listed if (tags := store.tags(arn))]
            return {"PaginationToken": "", "ResourceTagMappingList": mappings}
        limit = params.get("ResourcesPerPage") or PAGE
        if not 1 <= limit <= PAGE:
            raise invalid("ResourcesPerPage must be between 1 and 100.")
        wanted = [self._type_filter(text) for text in types]
        after = decode_token(params.get("PaginationToken") or None, _bad_token, "GetResources") or ""
        found: list[dict[str, Any]] = []
        while len(found) < limit:
            batch = self.platform.tag_store.tagged(ctx.account_id, ctx.region, wanted, after, 200)
            for arn, tags in batch:
                after = arn
                if _matches(tags, filters):
                    found.append(self._mapping(arn, tags))
                    if len(found) == limit:
                        break
            if len(batch) < 200:
                break
        more = len(found) == limit and self.platform.tag_store.tagged(
            ctx.account_id, ctx.region, wanted, after, 1
        )
        token = encode_token(after, "GetResources") if more else ""
        return {"PaginationToken": token, "ResourceTagMappingList": found}

    def get_tag_keys(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        decode_token(params.get("PaginationToken") or None, _bad_token, "GetTagKeys")
        return {"PaginationToken": "", "TagKeys": self.platform.tag_store.keys(ctx.account_id, ctx.region)}

    def get_tag_values(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        decode_token(params.get("PaginationToken") or None, _bad_token, "GetTagValues")
        values = self.platform.tag_store.values(ctx.account_id, ctx.region, params["Key"])
        return {"PaginationToken": "", "TagValues": values}

    @staticmethod
    def _mapping(arn: str, tags: dict[str, str]) -> dict[str, Any]:
        return {"ResourceARN": arn, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}

    @staticmethod
    def _type_filter(text: str) -> tuple[str, str | None]:
        service, _, kind = text.partition(":")
        if not service:
            raise invalid(f"Invalid resource type filter: {text}")
        return service, kind or None

    # -- changing, through each service's own tagging operation ------------------------------------------------

    async def tag_resources(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return await self._each(ctx, params["ResourceARNList"], add=params["Tags"])

    async def untag_resources(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return await self._each(ctx, params["ResourceARNList"], remove=params["TagKeys"])

    async def _each(
        self,
        ctx: RequestContext,
        arns: list[str],
        add: dict[str, str] | None = None,
        remove: list[str] | None = None,
    ) -> dict[str, Any]:
        failed: dict[str, Any] = {}
        for arn in arns:
            try:
                await self._change(ctx, arn, add, remove)
            except ServiceError as error:
                status = error.status or 400
                failed[arn] = {
                    "StatusCode": status,
                    "ErrorCode": "InternalServiceException" if status >= 500 else "InvalidParameterException",
                    "ErrorMessage": f"{error.code}: {error.message}",
                }
        return {"FailedResourcesMap": failed}

    async def _change(
        self, ctx: RequestContext, arn: str, add: dict[str, str] | None, remove: list[str] | None
    ) -> None:
        parsed = parse_arn(arn)
        if parsed is None:
            raise invalid(f"Invalid ARN: {arn}")
        service = _botocore_name(parsed.service)
        if parsed.region not in ("", ctx.region) or parsed.account not in ("", ctx.account_id):
            raise invalid("You can only tag resources of the account and Region of the request.")
        provider = self.platform.provider(service) if service else None
        request = provider.tagging_request(arn, add, remove) if provider is not None else None
        if request is None:
            raise invalid(f"The resource type of {arn} does not support tagging through this API.")
        operation, call = request
        await self.platform.call(
            service, operation, call, principal=ctx.principal, account_id=ctx.account_id, region=ctx.region
        )


def _botocore_name(arn_service: str) -> str | None:
    """The botocore service a service namespace of an ARN belongs to (most are the same)."""
    names = {"states": "stepfunctions", "elasticloadbalancing": "elbv2"}
    name = names.get(arn_service, arn_service)
    return name if name in PROVIDERS else None


def _matches(tags: dict[str, str], filters: list[dict[str, Any]]) -> bool:
    """Every filter's key is there with one of its values (any value when it lists none)."""
    for tag_filter in filters:
        key = tag_filter.get("Key")
        if key not in tags:
            return False
        values = tag_filter.get("Values") or []
        if values and tags[key] not in values:
            return False
    return True
