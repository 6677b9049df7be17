"""Service-specific credentials: a user name and password a user signs in to CodeCommit, Amazon Keyspaces or
Bedrock with (at most two per user and service)."""

from __future__ import annotations

import secrets
import string
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.iam.errors import limit_exceeded
from overcast.services.iam.keys import new_id
from overcast.services.iam.store import Entity

if TYPE_CHECKING:
    from overcast.services.iam.provider import IamProvider

SERVICES = ("codecommit.amazonaws.com", "cassandra.amazonaws.com", "bedrock.amazonaws.com")
PER_USER_AND_SERVICE = 2
_PASSWORD = string.ascii_letters + string.digits + "+/="


class ServiceSpecificCredentialOperations(Operations):
    service: IamProvider

    def create_service_specific_credential(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        iam = self.service
        user = iam.entity(ctx, "user", params["UserName"])
        service_name = params["ServiceName"]
        if service_name not in SERVICES:
            raise ServiceError(
                "NotSupportedService",
                f"No such service {service_name} is supported for Service-Specific Credentials",
            )
        if len(self._owned(ctx, user, service_name)) >= PER_USER_AND_SERVICE:
            raise limit_exceeded(
                f"Cannot exceed quota for ServiceSpecificCredentialsPerUserPerService: {PER_USER_AND_SERVICE}"
            )
        credential_id = new_id("ACCA")
        data = {
            "user": user.key,
            "service": service_name,
            "service_user": f"{user.name}-at-{ctx.account_id}",
            "password": _password(),
            "status": "Active",
        }
        entity = iam.create_entity(ctx, "service-specific-credential", credential_id, None, data)
        return {"ServiceSpecificCredential": _shape(entity, user, password=True)}

    def list_service_specific_credentials(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        user = self.service.caller_user(ctx, params)
        owned = self._owned(ctx, user, params.get("ServiceName"))
        return {"ServiceSpecificCredentials": [_shape(e, user) for e in owned]}

    def reset_service_specific_credential(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        user, entity = self._credential(ctx, params)
        entity.data["password"] = _password()
        self.service.store.update(entity)
        return {"ServiceSpecificCredential": _shape(entity, user, password=True)}

    def update_service_specific_credential(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        _, entity = self._credential(ctx, params)
        entity.data["status"] = params["Status"]
        self.service.store.update(entity)
        return {}

    def delete_service_specific_credential(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        _, entity = self._credential(ctx, params)
        self.service.remove_entity(entity)
        return {}

    def _owned(self, ctx: RequestContext, user: Entity, service_name: str | None) -> list[Entity]:
        return [
            e
            for e in self.service.store.all_of(ctx.account_id, "service-specific-credential")
            if e.data["user"] == user.key and service_name in (None, e.data["service"])
        ]

    def _credential(self, ctx: RequestContext, params: dict[str, Any]) -> tuple[Entity, Entity]:
        user = self.service.caller_user(ctx, params)
        credential_id = params["ServiceSpecificCredentialId"]
        found = self.service.store.get(ctx.account_id, "service-specific-credential", credential_id)
        if found is None or found.data["user"] != user.key:
            raise ServiceError("NoSuchEntity", f"No such credential {credential_id} exists", 404)
        return user, found


def _password() -> str:
    return "".join(secrets.choice(_PASSWORD) for _ in range(44))


def _shape(entity: Entity, user: Entity, *, password: bool = False) -> dict[str, Any]:
    shape = {
        "UserName": user.name,
        "Status": entity.data["status"],
        "ServiceUserName": entity.data["service_user"],
        "CreateDate": entity.created,
        "ServiceSpecificCredentialId": entity.name,
        "ServiceName": entity.data["service"],
    }
    if password:
        shape["ServicePassword"] = entity.data["password"]
    return shape
