"""ECR repository operations: create, describe, delete, settings, policies, lifecycle policies, tags."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.kit.paging import decode_token, page_of
from overcast.services.kit.tags import TagRules, tag_dict, tag_list

if TYPE_CHECKING:
    from overcast.services.ecr.provider import EcrProvider
    from overcast.services.ecr.store import Repository

PAGE = 100
TAG_RULES = TagRules(
    max_tags=50,
    reserved_prefix=None,
    too_many=lambda limit: ServiceError(
        "TooManyTagsException", f"Exceeded the maximum allowed number of tags ({limit})", 400
    ),
    invalid=lambda key: ServiceError("InvalidTagParameterException", f"Invalid tag key: {key}", 400),
)


def invalid(message: str) -> ServiceError:
    return ServiceError("InvalidParameterException", message, 400)


def not_found(name: str, registry: str) -> ServiceError:
    return ServiceError(
        "RepositoryNotFoundException",
        f"The repository with name '{name}' does not exist in the registry with id '{registry}'",
        400,
    )


def _time(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


def _json_text(text: str, what: str) -> None:
    try:
        json.loads(text)
    except ValueError:
        raise invalid(
            f"Invalid parameter at '{what}' failed to satisfy constraint: 'Invalid JSON syntax'"
        ) from None


class RepositoryOperations(Operations):
    service: EcrProvider

    def _registry(self, ctx: RequestContext, params: dict[str, Any]) -> str:
        return params.get("registryId") or ctx.account_id

    def _find(self, ctx: RequestContext, params: dict[str, Any]) -> Repository:
        registry = self._registry(ctx, params)
        found = self.service.store.repository(registry, ctx.region, params["repositoryName"])
        if found is None:
            raise not_found(params["repositoryName"], registry)
        return found

    def view(self, repository: Repository) -> dict[str, Any]:
        settings = repository.settings
        return {
            "repositoryArn": self.service.arn(repository),
            "registryId": repository.account,
            "repositoryName": repository.name,
            "repositoryUri": f"{repository.account}.dkr.ecr.{repository.region}.amazonaws.com/{repository.name}",
            "createdAt": _time(repository.created_at),
            "imageTagMutability": settings.get("imageTagMutability", "MUTABLE"),
            "imageScanningConfiguration": settings.get("imageScanningConfiguration", {"scanOnPush": False}),
            "encryptionConfiguration": settings.get("encryptionConfiguration", {"encryptionType": "AES256"}),
        }

    def create_repository(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        store = self.service.store
        registry = self._registry(ctx, params)
        name = params["repositoryName"]
        if store.repository(registry, ctx.region, name) is not None:
            raise ServiceError(
                "RepositoryAlreadyExistsException",
                f"The repository with name '{name}' already exists in the registry with id '{registry}'",
                400,
            )
        encryption = params.get("encryptionConfiguration") or {"encryptionType": "AES256"}
        if encryption.get("encryptionType") == "AES256" and encryption.get("kmsKey"):
            raise invalid("Invalid parameter: kmsKey can be specified only when encryptionType is KMS")
        if encryption.get("encryptionType", "").startswith("KMS") and not encryption.get("kmsKey"):
            encryption = {**encryption, "kmsKey": f"arn:aws:kms:{ctx.region}:{registry}:alias/aws/ecr"}
        settings = {
            "imageTagMutability": params.get("imageTagMutability") or "MUTABLE",
            "imageScanningConfiguration": params.get("imageScanningConfiguration") or {"scanOnPush": False},
            "encryptionConfiguration": encryption,
        }
        tags = tag_dict(params.get("tags"))
        store.insert(registry, ctx.region, name, self.clock.now(), settings)
        repository = store.repository(registry, ctx.region, name)
        assert repository is not None
        self.service.tags.add(
            self.service.arn(repository), tags, TAG_RULES, account=registry, region=ctx.region
        )
        return {"repository": self.view(repository)}

    def describe_repositories(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        registry = self._registry(ctx, params)
        names = params.get("repositoryNames")
        if names:
            found = []
            for name in names:
                repository = self.service.store.repository(registry, ctx.region, name)
                if repository is None:
                    raise not_found(name, registry)
                found.append(self.view(repository))
            return {"repositories": found}
        limit = params.get("maxResults") or PAGE
        after = (
            decode_token(
                params.get("nextToken"), lambda: invalid("Invalid parameter at 'nextToken'"), "Describe"
            )
            or ""
        )
        rows = self.service.store.repositories(registry, ctx.region, after, limit + 1)
        page, token = page_of(rows, limit, lambda repository: repository.name, "Describe")
        result: dict[str, Any] = {"repositories": [self.view(repository) for repository in page]}
        if token:
            result["nextToken"] = token
        return result

    def delete_repository(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        repository = self._find(ctx, params)
        view = self.view(repository)
        self.service.store.delete(repository)
        self.service.tags.forget(view["repositoryArn"])
        return {"repository": view}

    def put_image_tag_mutability(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        repository = self._find(ctx, params)
        settings = {**repository.settings, "imageTagMutability": params["imageTagMutability"]}
        self.service.store.set_settings(repository, settings)
        return {
            "registryId": repository.account,
            "repositoryName": repository.name,
            "imageTagMutability": params["imageTagMutability"],
        }

    def put_image_scanning_configuration(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        repository = self._find(ctx, params)
        scanning = params["imageScanningConfiguration"]
        self.service.store.set_settings(
            repository, {**repository.settings, "imageScanningConfiguration": scanning}
        )
        return {
            "registryId": repository.account,
            "repositoryName": repository.name,
            "imageScanningConfiguration": scanning,
        }

    # -- repository policies -----------------------------------------------------------------------

    def set_repository_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        repository = self._find(ctx, params)
        _json_text(params["policyText"], "policyText")
        self.service.store.set_policy(repository, params["policyText"])
        return {
            "registryId": repository.account,
            "repositoryName": repository.name,
            "policyText": params["policyText"],
        }

    def get_repository_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        repository = self._find(ctx, params)
        if repository.policy is None:
            raise ServiceError(
                "RepositoryPolicyNotFoundException",
                f"Repository policy does not exist for the repository with name '{repository.name}' in the registry "
                f"with id '{repository.account}'",
                400,
            )
        return {
            "registryId": repository.account,
            "repositoryName": repository.name,
            "policyText": repository.policy,
        }

    def delete_repository_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        result = self.get_repository_policy(ctx, params)
        self.service.store.set_policy(self._find(ctx, params), None)
        return result

    # -- lifecycle policies ------------------------------------------------------------------------

    def put_lifecycle_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        repository = self._find(ctx, params)
        text = params["lifecyclePolicyText"]
        try:
            rules = json.loads(text).get("rules")
        except (ValueError, AttributeError):
            rules = None
        if not isinstance(rules, list):
            raise ServiceError(
                "InvalidParameterException",
                "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: "
                'object has missing required properties (["rules"])\'',
                400,
            )
        self.service.store.set_lifecycle(repository, text, self.clock.now())
        return {
            "registryId": repository.account,
            "repositoryName": repository.name,
            "lifecyclePolicyText": text,
        }

    def get_lifecycle_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        repository = self._find(ctx, params)
        if repository.lifecycle is None:
            raise ServiceError(
                "LifecyclePolicyNotFoundException",
                f"Lifecycle policy does not exist for the repository with name '{repository.name}' in the registry "
                f"with id '{repository.account}'",
                400,
            )
        return {
            "registryId": repository.account,
            "repositoryName": repository.name,
            "lifecyclePolicyText": repository.lifecycle,
            "lastEvaluatedAt": _time(repository.lifecycle_at or repository.created_at),
        }

    def delete_lifecycle_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        result = self.get_lifecycle_policy(ctx, params)
        self.service.store.set_lifecycle(self._find(ctx, params), None, None)
        return result

    # -- images (none are stored: pushes are not served) --------------------------------------------

    def list_images(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self._find(ctx, params)
        return {"imageIds": []}

    def describe_images(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self._find(ctx, params)
        if params.get("imageIds"):
            image = params["imageIds"][0]
            shown = (
                f"imageTag={image['imageTag']}"
                if image.get("imageTag")
                else f"imageDigest={image.get('imageDigest')}"
            )
            raise ServiceError(
                "ImageNotFoundException",
                f"The image with imageId {{{shown}}} does not exist within the repository with name "
                f"'{params['repositoryName']}' in the registry with id '{self._registry(ctx, params)}'",
                400,
            )
        return {"imageDetails": []}

    # -- tags --------------------------------------------------------------------------------------

    def _by_arn(self, ctx: RequestContext, arn: str) -> Repository:
        parts = arn.split(":", 5)
        if len(parts) != 6 or parts[2] != "ecr" or not parts[5].startswith("repository/"):
            raise invalid("Invalid parameter at 'resourceArn' failed to satisfy constraint: 'Invalid ARN'")
        name = parts[5][len("repository/") :]
        found = self.service.store.repository(parts[4], parts[3], name)
        if found is None:
            raise not_found(name, parts[4])
        return found

    def tag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        repository = self._by_arn(ctx, params["resourceArn"])
        self.service.tags.add(
            params["resourceArn"],
            tag_dict(params["tags"]),
            TAG_RULES,
            account=repository.account,
            region=repository.region,
        )
        return {}

    def untag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self._by_arn(ctx, params["resourceArn"])
        self.service.tags.remove(params["resourceArn"], params["tagKeys"])
        return {}

    def list_tags_for_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self._by_arn(ctx, params["resourceArn"])
        return {"tags": tag_list(self.service.tags.get(params["resourceArn"]))}

    def get_authorization_token(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        import base64

        token = base64.b64encode(b"AWS:overcast-has-no-registry").decode()
        return {
            "authorizationData": [
                {
                    "authorizationToken": token,
                    "expiresAt": _time(self.clock.now() + 12 * 3600),
                    "proxyEndpoint": f"https://{ctx.account_id}.dkr.ecr.{ctx.region}.amazonaws.com",
                }
            ]
        }
