"""ECR: repositories and their policies (the registry's image API is not served)."""

from __future__ import annotations

from typing import Any

from overcast.context import RequestContext
from overcast.services.base import ServiceProvider
from overcast.services.ecr.repositories import RepositoryOperations
from overcast.services.ecr.store import EcrStore, Repository


class EcrProvider(ServiceProvider):
    service_name = "ecr"
    families = (RepositoryOperations,)

    def __init__(self, platform) -> None:
        super().__init__(platform)
        self.store = EcrStore(self.db)

    @staticmethod
    def arn(repository: Repository) -> str:
        return f"arn:aws:ecr:{repository.region}:{repository.account}:repository/{repository.name}"

    def resource_arn(self, ctx: RequestContext, params: dict[str, Any]) -> str | None:
        name = params.get("repositoryName")
        if name:
            return ctx.arn("ecr", f"repository/{name}", account=params.get("registryId") or None)
        return params.get("resourceArn")
