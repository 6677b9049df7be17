"""IAM instance profiles: the container of (at most) one role an EC2 instance runs with."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.iam.errors import delete_conflict, limit_exceeded

if TYPE_CHECKING:
    from overcast.services.iam.provider import IamProvider


class InstanceProfileOperations(Operations):
    service: IamProvider

    def create_instance_profile(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        iam = self.service
        profile = iam.create_entity(
            ctx, "instance-profile", params["InstanceProfileName"], params.get("Path"), {}
        )
        iam.add_tags(profile, params.get("Tags"))
        return {"InstanceProfile": iam.profile_shape(profile, tags=True)}

    def get_instance_profile(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        profile = self.service.entity(ctx, "instance-profile", params["InstanceProfileName"])
        return {"InstanceProfile": self.service.profile_shape(profile, tags=True)}

    def list_instance_profiles(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        profiles, paging = self.service.listing(ctx, "instance-profile", params)
        return {"InstanceProfiles": [self.service.profile_shape(p) for p in profiles], **paging}

    def list_instance_profiles_for_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        iam, store = self.service, self.service.store
        role = iam.entity(ctx, "role", params["RoleName"])
        profiles = [
            store.get(ctx.account_id, "instance-profile", k)
            for k in store.profiles_of_role(ctx.account_id, role.key)
        ]
        return {"InstanceProfiles": [iam.profile_shape(p) for p in profiles if p], "IsTruncated": False}

    def add_role_to_instance_profile(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        iam = self.service
        profile = iam.entity(ctx, "instance-profile", params["InstanceProfileName"])
        role = iam.entity(ctx, "role", params["RoleName"])
        if iam.store.profile_roles(ctx.account_id, profile.key):
            raise limit_exceeded("Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1")
        iam.store.link_profile(ctx.account_id, profile.key, role.key)
        iam.changed()
        return {}

    def remove_role_from_instance_profile(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        iam = self.service
        profile = iam.entity(ctx, "instance-profile", params["InstanceProfileName"])
        role = iam.entity(ctx, "role", params["RoleName"])
        if role.key not in iam.store.profile_roles(ctx.account_id, profile.key):
            raise ServiceError(
                "NoSuchEntity", f"Role {role.name} in Instance Profile {profile.name} cannot be found.", 404
            )
        iam.store.unlink_profile(ctx.account_id, profile.key, role.key)
        iam.changed()
        return {}

    def delete_instance_profile(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        profile = self.service.entity(ctx, "instance-profile", params["InstanceProfileName"])
        if self.service.store.profile_roles(ctx.account_id, profile.key):
            raise delete_conflict("Cannot delete entity, must remove roles from instance profile first.")
        self.service.remove_entity(profile)
        return {}
