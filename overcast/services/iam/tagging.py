"""Tags of users, roles, customer managed policies and instance profiles (kept in the kit's tag table by
ARN; at most 50 each; user and role tags are aws:PrincipalTag/* in conditions)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.iam.store import Entity

if TYPE_CHECKING:
    from overcast.services.iam.provider import IamProvider


class TagOperations(Operations):
    service: IamProvider

    def tag_user(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._tag(self.service.entity(ctx, "user", params["UserName"]), params)

    def untag_user(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._untag(self.service.entity(ctx, "user", params["UserName"]), params)

    def list_user_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._list(self.service.entity(ctx, "user", params["UserName"]))

    def tag_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._tag(self.service.entity(ctx, "role", params["RoleName"]), params)

    def untag_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._untag(self.service.entity(ctx, "role", params["RoleName"]), params)

    def list_role_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._list(self.service.entity(ctx, "role", params["RoleName"]))

    def tag_instance_profile(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._tag(self.service.entity(ctx, "instance-profile", params["InstanceProfileName"]), params)

    def untag_instance_profile(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._untag(
            self.service.entity(ctx, "instance-profile", params["InstanceProfileName"]), params
        )

    def list_instance_profile_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._list(self.service.entity(ctx, "instance-profile", params["InstanceProfileName"]))

    def tag_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._tag(self.service.customer_policy(ctx, params["PolicyArn"]), params)

    def untag_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._untag(self.service.customer_policy(ctx, params["PolicyArn"]), params)

    def list_policy_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._list(self.service.customer_policy(ctx, params["PolicyArn"]))

    def tag_open_id_connect_provider(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._tag(self.service.oidc_provider(params["OpenIDConnectProviderArn"]), params)

    def untag_open_id_connect_provider(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._untag(self.service.oidc_provider(params["OpenIDConnectProviderArn"]), params)

    def list_open_id_connect_provider_tags(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        return self._list(self.service.oidc_provider(params["OpenIDConnectProviderArn"]))

    def tag_saml_provider(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._tag(self.service.saml_provider(params["SAMLProviderArn"]), params)

    def untag_saml_provider(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._untag(self.service.saml_provider(params["SAMLProviderArn"]), params)

    def list_saml_provider_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._list(self.service.saml_provider(params["SAMLProviderArn"]))

    def tag_server_certificate(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._tag(self._server_certificate(ctx, params), params)

    def untag_server_certificate(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._untag(self._server_certificate(ctx, params), params)

    def list_server_certificate_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._list(self._server_certificate(ctx, params))

    def _server_certificate(self, ctx: RequestContext, params: dict[str, Any]) -> Entity:
        name = params["ServerCertificateName"]
        found = self.service.store.get(ctx.account_id, "server-certificate", name)
        if found is None:
            raise ServiceError(
                "NoSuchEntity", f"The Server Certificate with name {name} cannot be found.", 404
            )
        return found

    def _tag(self, entity: Entity, params: dict[str, Any]) -> dict[str, Any]:
        self.service.add_tags(entity, params["Tags"])
        return {}

    def _untag(self, entity: Entity, params: dict[str, Any]) -> dict[str, Any]:
        self.service.tags.remove(entity.arn, params["TagKeys"])
        self.service.changed()
        return {}

    def _list(self, entity: Entity) -> dict[str, Any]:
        return {"Tags": self.service.tags_of(entity), "IsTruncated": False}
