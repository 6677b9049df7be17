"""SAML 2.0 identity providers (the federation STS's AssumeRoleWithSAML trusts): their metadata document,
validity and tags."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from datetime import datetime
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations

if TYPE_CHECKING:
    from overcast.services.iam.provider import IamProvider

_HUNDRED_YEARS = 100 * 365.25 * 86400  # how long IAM trusts metadata that names no validUntil


def _valid_until(document: str, created: float) -> float:
    """When the metadata stops being valid: its validUntil, else a hundred years on. Not XML: AWS's error."""
    try:
        root = ElementTree.fromstring(document)
    except ElementTree.ParseError:
        raise ServiceError("InvalidInput", "Could not parse metadata") from None
    stated = root.get("validUntil")
    if stated:
        try:
            return datetime.fromisoformat(stated.replace("Z", "+00:00")).timestamp()
        except ValueError:
            raise ServiceError("InvalidInput", "Could not parse metadata") from None
    return created + _HUNDRED_YEARS


class SamlProviderOperations(Operations):
    service: IamProvider

    def create_saml_provider(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        iam = self.service
        name = params["Name"]
        if iam.store.get(ctx.account_id, "saml-provider", name):
            raise ServiceError("EntityAlreadyExists", f"SAMLProvider {name} already exists", 409)
        now = self.clock.now()
        data = {
            "metadata": params["SAMLMetadataDocument"],
            "valid_until": _valid_until(params["SAMLMetadataDocument"], now),
        }
        entity = iam.create_entity(ctx, "saml-provider", name, None, data)
        iam.add_tags(entity, params.get("Tags"))
        result: dict[str, Any] = {"SAMLProviderArn": entity.arn}
        tags = iam.tags_of(entity)
        if tags:
            result["Tags"] = tags
        return result

    def get_saml_provider(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entity = self.service.saml_provider(params["SAMLProviderArn"])
        shape = {
            "SAMLMetadataDocument": entity.data["metadata"],
            "CreateDate": entity.created,
            "ValidUntil": entity.data["valid_until"],
        }
        return self.service.with_tags(shape, entity)

    def list_saml_providers(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        providers = self.service.store.all_of(ctx.account_id, "saml-provider")
        listed = [
            {"Arn": e.arn, "ValidUntil": e.data["valid_until"], "CreateDate": e.created} for e in providers
        ]
        return {"SAMLProviderList": listed}

    def update_saml_provider(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entity = self.service.saml_provider(params["SAMLProviderArn"])
        document = params.get("SAMLMetadataDocument")
        if document:
            entity.data.update(metadata=document, valid_until=_valid_until(document, entity.created))
            self.service.store.update(entity)
            self.service.changed()
        return {"SAMLProviderArn": entity.arn}

    def delete_saml_provider(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.service.remove_entity(self.service.saml_provider(params["SAMLProviderArn"]))
        return {}
