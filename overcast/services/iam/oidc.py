"""IAM OpenID Connect identity providers, which STS's AssumeRoleWithWebIdentity trusts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.iam.keys import new_id
from overcast.services.iam.store import Entity

if TYPE_CHECKING:
    from overcast.services.iam.provider import IamProvider


class OpenIdConnectProviderOperations(Operations):
    service: IamProvider

    def create_open_id_connect_provider(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        iam = self.service
        url = params["Url"]
        if not url.startswith("https://"):
            raise ServiceError("InvalidInput", "Invalid URL: the URL must begin with https://")
        host = url[len("https://") :].rstrip("/")
        arn = f"arn:aws:iam::{ctx.account_id}:oidc-provider/{host}"
        if iam.store.get(ctx.account_id, "oidc-provider", host):
            raise ServiceError("EntityAlreadyExists", f"Provider with url {url} already exists.", 409)
        data = {
            "url": url,
            "clients": params.get("ClientIDList") or [],
            "thumbprints": params.get("ThumbprintList") or [],
        }
        entity = Entity(
            ctx.account_id, "oidc-provider", host, new_id("AOPA"), "/", arn, self.clock.now(), data
        )
        iam.store.insert(entity)
        iam.add_tags(entity, params.get("Tags"))
        iam.changed()
        return {"OpenIDConnectProviderArn": arn, "Tags": iam.tags_of(entity)}

    def get_open_id_connect_provider(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entity = self._provider(params["OpenIDConnectProviderArn"])
        return {
            "Url": entity.name,
            "ClientIDList": entity.data["clients"],
            "ThumbprintList": entity.data["thumbprints"],
            "CreateDate": entity.created,
            "Tags": self.service.tags_of(entity),
        }

    def list_open_id_connect_providers(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        providers = self.service.store.all_of(ctx.account_id, "oidc-provider")
        return {"OpenIDConnectProviderList": [{"Arn": e.arn} for e in providers]}

    def delete_open_id_connect_provider(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.service.remove_entity(self._provider(params["OpenIDConnectProviderArn"]))
        return {}

    def add_client_id_to_open_id_connect_provider(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        entity = self._provider(params["OpenIDConnectProviderArn"])
        if params["ClientID"] not in entity.data["clients"]:
            entity.data["clients"].append(params["ClientID"])
        return self._save(entity)

    def remove_client_id_from_open_id_connect_provider(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        entity = self._provider(params["OpenIDConnectProviderArn"])
        entity.data["clients"] = [c for c in entity.data["clients"] if c != params["ClientID"]]
        return self._save(entity)

    def update_open_id_connect_provider_thumbprint(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        entity = self._provider(params["OpenIDConnectProviderArn"])
        entity.data["thumbprints"] = list(params["ThumbprintList"])
        return self._save(entity)

    def _save(self, entity: Entity) -> dict[str, Any]:
        self.service.store.update(entity)
        self.service.changed()
        return {}

    def _provider(self, arn: str) -> Entity:
        return self.service.oidc_provider(arn)
