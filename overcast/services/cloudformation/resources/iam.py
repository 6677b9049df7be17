"""IAM resource types: roles, users, groups, policies (inline and managed, and the one-owner inline types
RolePolicy/UserPolicy/GroupPolicy), instance profiles, access keys, OIDC providers, service-linked roles."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from overcast.errors import ServiceError
from overcast.services.cloudformation.resources.base import (
    Created,
    ResourceContext,
    ResourceHandler,
    document,
    drop_none,
    ignore_missing,
    integer,
    not_found,
    tag_list,
)


def _policies(properties: dict[str, Any]) -> dict[str, str]:
    return {
        item["PolicyName"]: document(item["PolicyDocument"]) or ""
        for item in properties.get("Policies") or []
    }


async def _sync_inline(
    ctx: ResourceContext, kind: str, name: str, new: dict[str, str], old: dict[str, str]
) -> None:
    """Put the inline policies of a role, user or group to `new` (removing those only in `old`)."""
    key = {"Role": "RoleName", "User": "UserName", "Group": "GroupName"}[kind]
    for policy, text in new.items():
        if old.get(policy) != text:
            await ctx.call(
                "iam", f"Put{kind}Policy", {key: name, "PolicyName": policy, "PolicyDocument": text}
            )
    for policy in old:
        if policy not in new:
            await ignore_missing(ctx.call("iam", f"Delete{kind}Policy", {key: name, "PolicyName": policy}))


async def _sync_managed(ctx: ResourceContext, kind: str, name: str, new: list[str], old: list[str]) -> None:
    key = {"Role": "RoleName", "User": "UserName", "Group": "GroupName"}[kind]
    for arn in new:
        if arn not in old:
            await ctx.call("iam", f"Attach{kind}Policy", {key: name, "PolicyArn": arn})
    for arn in old:
        if arn not in new:
            await ignore_missing(ctx.call("iam", f"Detach{kind}Policy", {key: name, "PolicyArn": arn}))


async def _sync_tags(ctx: ResourceContext, kind: str, name: str, new: Any, old: Any) -> None:
    key = {"Role": "RoleName", "User": "UserName"}[kind]
    new_tags, old_tags = tag_list(new), tag_list(old)
    gone = [tag["Key"] for tag in old_tags if tag["Key"] not in {t["Key"] for t in new_tags}]
    if gone:
        await ctx.call("iam", f"Untag{kind}", {key: name, "TagKeys": gone})
    if new_tags and new_tags != old_tags:
        await ctx.call("iam", f"Tag{kind}", {key: name, "Tags": new_tags})


class Role(ResourceHandler):
    type_name = "AWS::IAM::Role"
    service = "iam"
    required = ("AssumeRolePolicyDocument",)
    create_only = frozenset({"RoleName", "Path"})
    attributes = ("Arn", "RoleId", "RoleName")
    primary_identifier = "RoleName"
    needs_iam = True

    async def create(self, ctx, properties):
        name = properties.get("RoleName") or ctx.generated_name(64)
        params = drop_none(
            {
                "RoleName": name,
                "Path": properties.get("Path"),
                "AssumeRolePolicyDocument": document(properties["AssumeRolePolicyDocument"]),
                "Description": properties.get("Description"),
                "MaxSessionDuration": integer(properties.get("MaxSessionDuration")),
                "PermissionsBoundary": properties.get("PermissionsBoundary"),
                "Tags": tag_list(properties.get("Tags")) or None,
            }
        )
        role = (await ctx.call("iam", "CreateRole", params))["Role"]
        try:
            await _sync_inline(ctx, "Role", name, _policies(properties), {})
            await _sync_managed(ctx, "Role", name, properties.get("ManagedPolicyArns") or [], [])
        except ServiceError:
            await self.delete(ctx, name, properties)
            raise
        return Created(name, {"Arn": role["Arn"], "RoleId": role["RoleId"], "RoleName": name})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        if document(properties["AssumeRolePolicyDocument"]) != document(
            previous.get("AssumeRolePolicyDocument")
        ):
            await ctx.call(
                "iam",
                "UpdateAssumeRolePolicy",
                {"RoleName": physical_id, "PolicyDocument": document(properties["AssumeRolePolicyDocument"])},
            )
        if properties.get("Description") != previous.get("Description") or properties.get(
            "MaxSessionDuration"
        ) != previous.get("MaxSessionDuration"):
            await ctx.call(
                "iam",
                "UpdateRole",
                drop_none(
                    {
                        "RoleName": physical_id,
                        "Description": properties.get("Description", ""),
                        "MaxSessionDuration": integer(properties.get("MaxSessionDuration")) or 3600,
                    }
                ),
            )
        if properties.get("PermissionsBoundary") != previous.get("PermissionsBoundary"):
            if properties.get("PermissionsBoundary"):
                await ctx.call(
                    "iam",
                    "PutRolePermissionsBoundary",
                    {"RoleName": physical_id, "PermissionsBoundary": properties["PermissionsBoundary"]},
                )
            else:
                await ctx.call("iam", "DeleteRolePermissionsBoundary", {"RoleName": physical_id})
        await _sync_inline(ctx, "Role", physical_id, _policies(properties), _policies(previous))
        await _sync_managed(
            ctx,
            "Role",
            physical_id,
            properties.get("ManagedPolicyArns") or [],
            previous.get("ManagedPolicyArns") or [],
        )
        await _sync_tags(ctx, "Role", physical_id, properties.get("Tags"), previous.get("Tags"))
        return attributes

    async def delete(self, ctx, physical_id, properties):
        try:
            attached = await ctx.call("iam", "ListAttachedRolePolicies", {"RoleName": physical_id})
        except ServiceError as error:
            if not_found(error):
                return
            raise
        for policy in attached.get("AttachedPolicies", []):
            await ignore_missing(
                ctx.call(
                    "iam", "DetachRolePolicy", {"RoleName": physical_id, "PolicyArn": policy["PolicyArn"]}
                )
            )
        inline = await ctx.call("iam", "ListRolePolicies", {"RoleName": physical_id})
        for name in inline.get("PolicyNames", []):
            await ignore_missing(
                ctx.call("iam", "DeleteRolePolicy", {"RoleName": physical_id, "PolicyName": name})
            )
        profiles = await ctx.call("iam", "ListInstanceProfilesForRole", {"RoleName": physical_id})
        for profile in profiles.get("InstanceProfiles", []):
            await ignore_missing(
                ctx.call(
                    "iam",
                    "RemoveRoleFromInstanceProfile",
                    {"InstanceProfileName": profile["InstanceProfileName"], "RoleName": physical_id},
                )
            )
        await ignore_missing(ctx.call("iam", "DeleteRole", {"RoleName": physical_id}))

    async def read(self, ctx, physical_id, properties):
        try:
            role = (await ctx.call("iam", "GetRole", {"RoleName": physical_id}))["Role"]
        except ServiceError as error:
            if not_found(error):
                return None
            raise

        result: dict[str, Any] = {
            "RoleName": role["RoleName"],
            "Path": role["Path"],
            "AssumeRolePolicyDocument": unquote(role.get("AssumeRolePolicyDocument", "")),
            "MaxSessionDuration": role.get("MaxSessionDuration"),
        }
        if role.get("Description"):
            result["Description"] = role["Description"]
        attached = await ctx.call("iam", "ListAttachedRolePolicies", {"RoleName": physical_id})
        arns = [policy["PolicyArn"] for policy in attached.get("AttachedPolicies", [])]
        if arns:
            result["ManagedPolicyArns"] = arns
        if role.get("Tags"):
            result["Tags"] = role["Tags"]
        return result

    def known_attributes(self, ctx, physical_id):
        return {"Arn": ctx.arn("iam", f"role/{physical_id}", region=""), "RoleName": physical_id}

    async def list(self, ctx):
        return [role["RoleName"] for role in (await ctx.call("iam", "ListRoles", {})).get("Roles", [])]


class Policy(ResourceHandler):
    """An inline policy put on roles, users and groups (AWS::IAM::Policy)."""

    type_name = "AWS::IAM::Policy"
    service = "iam"
    required = ("PolicyName", "PolicyDocument")
    attributes = ("Id",)
    needs_iam = True

    async def create(self, ctx, properties):
        await self._attach(ctx, properties, {})
        physical_id = ctx.generated_name(64)
        return Created(physical_id, {"Id": physical_id})

    async def _attach(
        self, ctx: ResourceContext, properties: dict[str, Any], previous: dict[str, Any]
    ) -> None:
        text = document(properties["PolicyDocument"])
        name = properties["PolicyName"]
        for kind, key in (("Role", "Roles"), ("User", "Users"), ("Group", "Groups")):
            for owner in properties.get(key) or []:
                await _sync_inline(ctx, kind, owner, {name: text or ""}, {})
            old_name = previous.get("PolicyName")
            for owner in previous.get(key) or []:
                if owner not in (properties.get(key) or []) or old_name != name:
                    await _sync_inline(ctx, kind, owner, {}, {old_name: ""})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await self._attach(ctx, properties, previous)
        return attributes

    async def delete(self, ctx, physical_id, properties):
        name = properties.get("PolicyName")
        for kind, key in (("Role", "Roles"), ("User", "Users"), ("Group", "Groups")):
            for owner in properties.get(key) or []:
                await _sync_inline(ctx, kind, owner, {}, {name: ""})


class ManagedPolicy(ResourceHandler):
    type_name = "AWS::IAM::ManagedPolicy"
    service = "iam"
    required = ("PolicyDocument",)
    create_only = frozenset({"ManagedPolicyName", "Path", "Description"})
    attributes = (
        "PolicyArn",
        "PolicyId",
        "DefaultVersionId",
        "AttachmentCount",
        "CreateDate",
        "IsAttachable",
        "UpdateDate",
    )
    primary_identifier = "PolicyArn"
    needs_iam = True

    async def create(self, ctx, properties):
        name = properties.get("ManagedPolicyName") or ctx.generated_name(128)
        policy = (
            await ctx.call(
                "iam",
                "CreatePolicy",
                drop_none(
                    {
                        "PolicyName": name,
                        "Path": properties.get("Path"),
                        "Description": properties.get("Description"),
                        "PolicyDocument": document(properties["PolicyDocument"]),
                    }
                ),
            )
        )["Policy"]
        arn = policy["Arn"]
        await self._attachments(ctx, arn, properties, {})
        return Created(
            arn,
            {
                "PolicyArn": arn,
                "PolicyId": policy["PolicyId"],
                "DefaultVersionId": policy["DefaultVersionId"],
            },
        )

    async def _attachments(
        self, ctx: ResourceContext, arn: str, new: dict[str, Any], old: dict[str, Any]
    ) -> None:
        for kind, key in (("Role", "Roles"), ("User", "Users"), ("Group", "Groups")):
            for owner in new.get(key) or []:
                if owner not in (old.get(key) or []):
                    await _sync_managed(ctx, kind, owner, [arn], [])
            for owner in old.get(key) or []:
                if owner not in (new.get(key) or []):
                    await _sync_managed(ctx, kind, owner, [], [arn])

    async def update(self, ctx, physical_id, properties, previous, attributes):
        if document(properties["PolicyDocument"]) != document(previous.get("PolicyDocument")):
            versions = (await ctx.call("iam", "ListPolicyVersions", {"PolicyArn": physical_id})).get(
                "Versions", []
            )
            if len(versions) >= 5:
                oldest = [v for v in versions if not v["IsDefaultVersion"]][-1]
                await ctx.call(
                    "iam", "DeletePolicyVersion", {"PolicyArn": physical_id, "VersionId": oldest["VersionId"]}
                )
            version = await ctx.call(
                "iam",
                "CreatePolicyVersion",
                {
                    "PolicyArn": physical_id,
                    "PolicyDocument": document(properties["PolicyDocument"]),
                    "SetAsDefault": True,
                },
            )
            attributes = {**attributes, "DefaultVersionId": version["PolicyVersion"]["VersionId"]}
        await self._attachments(ctx, physical_id, properties, previous)
        return attributes

    async def delete(self, ctx, physical_id, properties):
        try:
            entities = await ctx.call("iam", "ListEntitiesForPolicy", {"PolicyArn": physical_id})
        except ServiceError as error:
            if not_found(error):
                return
            raise
        for kind, key, name_key in (
            ("Role", "PolicyRoles", "RoleName"),
            ("User", "PolicyUsers", "UserName"),
            ("Group", "PolicyGroups", "GroupName"),
        ):
            for entity in entities.get(key, []):
                await _sync_managed(ctx, kind, entity[name_key], [], [physical_id])
        versions = (await ctx.call("iam", "ListPolicyVersions", {"PolicyArn": physical_id})).get(
            "Versions", []
        )
        for version in versions:
            if not version["IsDefaultVersion"]:
                await ctx.call(
                    "iam",
                    "DeletePolicyVersion",
                    {"PolicyArn": physical_id, "VersionId": version["VersionId"]},
                )
        await ignore_missing(ctx.call("iam", "DeletePolicy", {"PolicyArn": physical_id}))


class User(ResourceHandler):
    type_name = "AWS::IAM::User"
    service = "iam"
    create_only = frozenset({"UserName"})
    attributes = ("Arn",)
    primary_identifier = "UserName"
    needs_iam = True

    async def create(self, ctx, properties):
        name = properties.get("UserName") or ctx.generated_name(64)
        user = (
            await ctx.call(
                "iam",
                "CreateUser",
                drop_none(
                    {
                        "UserName": name,
                        "Path": properties.get("Path"),
                        "PermissionsBoundary": properties.get("PermissionsBoundary"),
                        "Tags": tag_list(properties.get("Tags")) or None,
                    }
                ),
            )
        )["User"]
        await self._settings(ctx, name, properties, {})
        return Created(name, {"Arn": user["Arn"]})

    async def _settings(
        self, ctx: ResourceContext, name: str, new: dict[str, Any], old: dict[str, Any]
    ) -> None:
        await _sync_inline(ctx, "User", name, _policies(new), _policies(old))
        await _sync_managed(
            ctx, "User", name, new.get("ManagedPolicyArns") or [], old.get("ManagedPolicyArns") or []
        )
        for group in new.get("Groups") or []:
            if group not in (old.get("Groups") or []):
                await ctx.call("iam", "AddUserToGroup", {"GroupName": group, "UserName": name})
        for group in old.get("Groups") or []:
            if group not in (new.get("Groups") or []):
                await ignore_missing(
                    ctx.call("iam", "RemoveUserFromGroup", {"GroupName": group, "UserName": name})
                )
        login, old_login = new.get("LoginProfile"), old.get("LoginProfile")
        if login and login != old_login:
            params = drop_none(
                {
                    "UserName": name,
                    "Password": login["Password"],
                    "PasswordResetRequired": login.get("PasswordResetRequired"),
                }
            )
            if old_login:
                await ctx.call("iam", "UpdateLoginProfile", params)
            else:
                await ctx.call("iam", "CreateLoginProfile", params)
        elif old_login and not login:
            await ignore_missing(ctx.call("iam", "DeleteLoginProfile", {"UserName": name}))

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await self._settings(ctx, physical_id, properties, previous)
        await _sync_tags(ctx, "User", physical_id, properties.get("Tags"), previous.get("Tags"))
        return attributes

    async def delete(self, ctx, physical_id, properties):
        try:
            groups = await ctx.call("iam", "ListGroupsForUser", {"UserName": physical_id})
        except ServiceError as error:
            if not_found(error):
                return
            raise
        for group in groups.get("Groups", []):
            await ignore_missing(
                ctx.call(
                    "iam", "RemoveUserFromGroup", {"GroupName": group["GroupName"], "UserName": physical_id}
                )
            )
        attached = await ctx.call("iam", "ListAttachedUserPolicies", {"UserName": physical_id})
        for policy in attached.get("AttachedPolicies", []):
            await ignore_missing(
                ctx.call(
                    "iam", "DetachUserPolicy", {"UserName": physical_id, "PolicyArn": policy["PolicyArn"]}
                )
            )
        inline = await ctx.call("iam", "ListUserPolicies", {"UserName": physical_id})
        for name in inline.get("PolicyNames", []):
            await ignore_missing(
                ctx.call("iam", "DeleteUserPolicy", {"UserName": physical_id, "PolicyName": name})
            )
        keys = await ctx.call("iam", "ListAccessKeys", {"UserName": physical_id})
        for key in keys.get("AccessKeyMetadata", []):
            await ignore_missing(
                ctx.call(
                    "iam", "DeleteAccessKey", {"UserName": physical_id, "AccessKeyId": key["AccessKeyId"]}
                )
            )
        await ignore_missing(ctx.call("iam", "DeleteLoginProfile", {"UserName": physical_id}))
        await ignore_missing(ctx.call("iam", "DeleteUser", {"UserName": physical_id}))


class Group(ResourceHandler):
    type_name = "AWS::IAM::Group"
    service = "iam"
    create_only = frozenset({"GroupName"})
    attributes = ("Arn",)
    primary_identifier = "GroupName"
    needs_iam = True

    async def create(self, ctx, properties):
        name = properties.get("GroupName") or ctx.generated_name(128)
        group = (
            await ctx.call(
                "iam", "CreateGroup", drop_none({"GroupName": name, "Path": properties.get("Path")})
            )
        )["Group"]
        await _sync_inline(ctx, "Group", name, _policies(properties), {})
        await _sync_managed(ctx, "Group", name, properties.get("ManagedPolicyArns") or [], [])
        return Created(name, {"Arn": group["Arn"]})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await _sync_inline(ctx, "Group", physical_id, _policies(properties), _policies(previous))
        await _sync_managed(
            ctx,
            "Group",
            physical_id,
            properties.get("ManagedPolicyArns") or [],
            previous.get("ManagedPolicyArns") or [],
        )
        return attributes

    async def delete(self, ctx, physical_id, properties):
        try:
            attached = await ctx.call("iam", "ListAttachedGroupPolicies", {"GroupName": physical_id})
        except ServiceError as error:
            if not_found(error):
                return
            raise
        for policy in attached.get("AttachedPolicies", []):
            await ignore_missing(
                ctx.call(
                    "iam", "DetachGroupPolicy", {"GroupName": physical_id, "PolicyArn": policy["PolicyArn"]}
                )
            )
        inline = await ctx.call("iam", "ListGroupPolicies", {"GroupName": physical_id})
        for name in inline.get("PolicyNames", []):
            await ignore_missing(
                ctx.call("iam", "DeleteGroupPolicy", {"GroupName": physical_id, "PolicyName": name})
            )
        members = await ctx.call("iam", "GetGroup", {"GroupName": physical_id})
        for user in members.get("Users", []):
            await ignore_missing(
                ctx.call(
                    "iam", "RemoveUserFromGroup", {"GroupName": physical_id, "UserName": user["UserName"]}
                )
            )
        await ignore_missing(ctx.call("iam", "DeleteGroup", {"GroupName": physical_id}))


class UserToGroupAddition(ResourceHandler):
    type_name = "AWS::IAM::UserToGroupAddition"
    service = "iam"
    required = ("GroupName", "Users")
    needs_iam = True

    async def create(self, ctx, properties):
        for user in properties["Users"]:
            await ctx.call("iam", "AddUserToGroup", {"GroupName": properties["GroupName"], "UserName": user})
        return Created(ctx.generated_name(64))

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await self.delete(ctx, physical_id, previous)
        await self.create(ctx, properties)
        return attributes

    async def delete(self, ctx, physical_id, properties):
        for user in properties.get("Users") or []:
            await ignore_missing(
                ctx.call(
                    "iam", "RemoveUserFromGroup", {"GroupName": properties["GroupName"], "UserName": user}
                )
            )


class InstanceProfile(ResourceHandler):
    type_name = "AWS::IAM::InstanceProfile"
    service = "iam"
    required = ("Roles",)
    create_only = frozenset({"InstanceProfileName", "Path"})
    attributes = ("Arn",)
    primary_identifier = "InstanceProfileName"
    needs_iam = True

    async def create(self, ctx, properties):
        name = properties.get("InstanceProfileName") or ctx.generated_name(128)
        profile = (
            await ctx.call(
                "iam",
                "CreateInstanceProfile",
                drop_none({"InstanceProfileName": name, "Path": properties.get("Path")}),
            )
        )["InstanceProfile"]
        for role in properties["Roles"]:
            await ctx.call("iam", "AddRoleToInstanceProfile", {"InstanceProfileName": name, "RoleName": role})
        return Created(name, {"Arn": profile["Arn"]})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        for role in previous.get("Roles") or []:
            if role not in properties["Roles"]:
                await ignore_missing(
                    ctx.call(
                        "iam",
                        "RemoveRoleFromInstanceProfile",
                        {"InstanceProfileName": physical_id, "RoleName": role},
                    )
                )
        for role in properties["Roles"]:
            if role not in (previous.get("Roles") or []):
                await ctx.call(
                    "iam", "AddRoleToInstanceProfile", {"InstanceProfileName": physical_id, "RoleName": role}
                )
        return attributes

    async def delete(self, ctx, physical_id, properties):
        for role in properties.get("Roles") or []:
            await ignore_missing(
                ctx.call(
                    "iam",
                    "RemoveRoleFromInstanceProfile",
                    {"InstanceProfileName": physical_id, "RoleName": role},
                )
            )
        await ignore_missing(ctx.call("iam", "DeleteInstanceProfile", {"InstanceProfileName": physical_id}))


class AccessKey(ResourceHandler):
    type_name = "AWS::IAM::AccessKey"
    service = "iam"
    required = ("UserName",)
    create_only = frozenset({"UserName", "Serial"})
    attributes = ("SecretAccessKey",)
    needs_iam = True

    async def create(self, ctx, properties):
        key = (await ctx.call("iam", "CreateAccessKey", {"UserName": properties["UserName"]}))["AccessKey"]
        if properties.get("Status") == "Inactive":
            await ctx.call(
                "iam",
                "UpdateAccessKey",
                {"UserName": properties["UserName"], "AccessKeyId": key["AccessKeyId"], "Status": "Inactive"},
            )
        return Created(key["AccessKeyId"], {"SecretAccessKey": key["SecretAccessKey"]})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await ctx.call(
            "iam",
            "UpdateAccessKey",
            {
                "UserName": properties["UserName"],
                "AccessKeyId": physical_id,
                "Status": properties.get("Status", "Active"),
            },
        )
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(
            ctx.call(
                "iam", "DeleteAccessKey", {"UserName": properties["UserName"], "AccessKeyId": physical_id}
            )
        )


class RolePolicy(ResourceHandler):
    """One inline policy of one role (AWS::IAM::RolePolicy; UserPolicy and GroupPolicy below). Its
    identifier is `<PolicyName>|<owner>`, as Cloud Control writes compound identifiers."""

    type_name = "AWS::IAM::RolePolicy"
    service = "iam"
    kind = "Role"
    required = ("PolicyName", "RoleName")
    create_only = frozenset({"PolicyName", "RoleName"})
    primary_identifier = "PolicyName"

    @property
    def owner_key(self) -> str:
        return f"{self.kind}Name"

    async def create(self, ctx, properties):
        await self._put(ctx, properties)
        return Created(f"{properties['PolicyName']}|{properties[self.owner_key]}")

    async def _put(self, ctx: ResourceContext, properties: dict[str, Any]) -> None:
        await ctx.call(
            "iam",
            f"Put{self.kind}Policy",
            {
                self.owner_key: properties[self.owner_key],
                "PolicyName": properties["PolicyName"],
                "PolicyDocument": document(properties.get("PolicyDocument") or {}),
            },
        )

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await self._put(ctx, properties)
        return attributes

    async def delete(self, ctx, physical_id, properties):
        policy, _, owner = physical_id.partition("|")
        await ignore_missing(
            ctx.call("iam", f"Delete{self.kind}Policy", {self.owner_key: owner, "PolicyName": policy})
        )

    async def read(self, ctx, physical_id, properties):
        policy, _, owner = physical_id.partition("|")
        try:
            found = await ctx.call(
                "iam", f"Get{self.kind}Policy", {self.owner_key: owner, "PolicyName": policy}
            )
        except ServiceError as error:
            if not_found(error):
                return None
            raise
        text = unquote(found["PolicyDocument"])
        return {**properties, "PolicyDocument": json.loads(text)}


class UserPolicy(RolePolicy):
    type_name = "AWS::IAM::UserPolicy"
    kind = "User"
    required = ("PolicyName", "UserName")
    create_only = frozenset({"PolicyName", "UserName"})


class GroupPolicy(RolePolicy):
    type_name = "AWS::IAM::GroupPolicy"
    kind = "Group"
    required = ("PolicyName", "GroupName")
    create_only = frozenset({"PolicyName", "GroupName"})


class OIDCProvider(ResourceHandler):
    """An OpenID Connect identity provider (GitHub Actions' deploy roles trust one); Ref is its ARN."""

    type_name = "AWS::IAM::OIDCProvider"
    service = "iam"
    required = ("ThumbprintList",)
    create_only = frozenset({"Url"})
    attributes = ("Arn",)
    primary_identifier = "Arn"

    async def create(self, ctx, properties):
        params = drop_none(
            {
                "Url": properties.get("Url"),
                "ClientIDList": properties.get("ClientIdList") or [],
                "ThumbprintList": properties.get("ThumbprintList") or [],
                "Tags": tag_list(properties.get("Tags")) or None,
            }
        )
        arn = (await ctx.call("iam", "CreateOpenIDConnectProvider", params))["OpenIDConnectProviderArn"]
        return Created(arn, {"Arn": arn})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        key = {"OpenIDConnectProviderArn": physical_id}
        new_clients, old_clients = properties.get("ClientIdList") or [], previous.get("ClientIdList") or []
        for client in new_clients:
            if client not in old_clients:
                await ctx.call("iam", "AddClientIDToOpenIDConnectProvider", {**key, "ClientID": client})
        for client in old_clients:
            if client not in new_clients:
                await ctx.call("iam", "RemoveClientIDFromOpenIDConnectProvider", {**key, "ClientID": client})
        if properties.get("ThumbprintList") != previous.get("ThumbprintList"):
            await ctx.call(
                "iam",
                "UpdateOpenIDConnectProviderThumbprint",
                {**key, "ThumbprintList": properties.get("ThumbprintList") or []},
            )
        new_tags, old_tags = tag_list(properties.get("Tags")), tag_list(previous.get("Tags"))
        gone = [tag["Key"] for tag in old_tags if tag["Key"] not in {t["Key"] for t in new_tags}]
        if gone:
            await ctx.call("iam", "UntagOpenIDConnectProvider", {**key, "TagKeys": gone})
        if new_tags and new_tags != old_tags:
            await ctx.call("iam", "TagOpenIDConnectProvider", {**key, "Tags": new_tags})
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(
            ctx.call("iam", "DeleteOpenIDConnectProvider", {"OpenIDConnectProviderArn": physical_id})
        )

    async def read(self, ctx, physical_id, properties):
        try:
            found = await ctx.call(
                "iam", "GetOpenIDConnectProvider", {"OpenIDConnectProviderArn": physical_id}
            )
        except ServiceError as error:
            if not_found(error):
                return None
            raise
        return {
            **properties,
            "ClientIdList": found.get("ClientIDList", []),
            "ThumbprintList": found.get("ThumbprintList", []),
        }

    def known_attributes(self, ctx, physical_id):
        return {"Arn": physical_id}


class ServiceLinkedRole(ResourceHandler):
    """A role a service assumes on the account's behalf; Ref is its name (AWSServiceRoleFor...)."""

    type_name = "AWS::IAM::ServiceLinkedRole"
    service = "iam"
    create_only = frozenset({"AWSServiceName", "CustomSuffix"})
    primary_identifier = "RoleName"

    async def create(self, ctx, properties):
        params = drop_none(
            {
                "AWSServiceName": properties.get("AWSServiceName"),
                "CustomSuffix": properties.get("CustomSuffix"),
                "Description": properties.get("Description"),
            }
        )
        role = (await ctx.call("iam", "CreateServiceLinkedRole", params))["Role"]
        return Created(role["RoleName"])

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await ctx.call(
            "iam",
            "UpdateRoleDescription",
            {"RoleName": physical_id, "Description": properties.get("Description") or ""},
        )
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(ctx.call("iam", "DeleteServiceLinkedRole", {"RoleName": physical_id}))

    async def read(self, ctx, physical_id, properties):
        try:
            role = (await ctx.call("iam", "GetRole", {"RoleName": physical_id}))["Role"]
        except ServiceError as error:
            if not_found(error):
                return None
            raise
        return drop_none({**properties, "Description": role.get("Description")})


HANDLERS = (
    Role,
    Policy,
    ManagedPolicy,
    User,
    Group,
    UserToGroupAddition,
    InstanceProfile,
    AccessKey,
    RolePolicy,
    UserPolicy,
    GroupPolicy,
    OIDCProvider,
    ServiceLinkedRole,
)
