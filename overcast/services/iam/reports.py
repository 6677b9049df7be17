"""IAM reports: the credential report (CSV), the account summary and the account authorization details."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.iam.managed import aws_policy
from overcast.services.iam.policies import quoted

if TYPE_CHECKING:
    from overcast.services.iam.provider import IamProvider

_REPORT_COLUMNS = [
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "password_last_used",
    "password_last_changed",
    "password_next_rotation",
    "mfa_active",
    "access_key_1_active",
    "access_key_1_last_rotated",
    "access_key_1_last_used_date",
    "access_key_1_last_used_region",
    "access_key_1_last_used_service",
    "access_key_2_active",
    "access_key_2_last_rotated",
    "access_key_2_last_used_date",
    "access_key_2_last_used_region",
    "access_key_2_last_used_service",
    "cert_1_active",
    "cert_1_last_rotated",
    "cert_2_active",
    "cert_2_last_rotated",
]


def _iso(moment: float | None) -> str:
    if not moment:
        return "N/A"
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


class ReportOperations(Operations):
    service: IamProvider

    # -- reports -------------------------------------------------------------------------------------------

    def generate_credential_report(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        existed = self.service.store.report(ctx.account_id) is not None
        self.service.store.set_report(ctx.account_id, self._credential_report(ctx), self.clock.now())
        if existed:
            return {"State": "COMPLETE"}
        return {"State": "STARTED", "Description": "No report exists. Starting a new report generation task"}

    def get_credential_report(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        found = self.service.store.report(ctx.account_id)
        if found is None:
            raise ServiceError("ReportNotPresent", "Credential report not present.", 410)
        if self.clock.now() - found[1] > 4 * 3600:
            raise ServiceError("ReportExpired", "Credential report is expired.", 410)
        return {"Content": found[0].encode(), "ReportFormat": "text/csv", "GeneratedTime": found[1]}

    def _credential_report(self, ctx: RequestContext) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(_REPORT_COLUMNS)
        root = [
            "<root_account>",
            f"arn:aws:iam::{ctx.account_id}:root",
            "N/A",
            "not_supported",
            "N/A",
            "not_supported",
            "not_supported",
            "false",
            "false",
            "N/A",
            "N/A",
            "N/A",
            "N/A",
            "false",
            "N/A",
            "N/A",
            "N/A",
            "N/A",
            "false",
            "N/A",
            "false",
            "N/A",
        ]
        writer.writerow(root)
        for user in self.service.store.all_of(ctx.account_id, "user"):
            login = self.service.store.login_profile(ctx.account_id, user.key)
            mfa = bool(self.service.store.mfa_devices(ctx.account_id, user.key))
            row = [
                user.name,
                user.arn,
                _iso(user.created),
                "true" if login else "false",
                _iso(user.data.get("password_last_used")) if login else "N/A",
                _iso(login[2]) if login else "N/A",
                "N/A",
                "true" if mfa else "false",
            ]
            keys = self.service.store.access_keys_of(ctx.account_id, user.key)
            for index in range(2):
                if index < len(keys):
                    key = keys[index]
                    row += [
                        "true" if key[4] == "Active" else "false",
                        _iso(key[5]),
                        _iso(key[6]),
                        key[8] or "N/A",
                        key[7] or "N/A",
                    ]
                else:
                    row += ["false", "N/A", "N/A", "N/A", "N/A"]
            row += ["false", "N/A", "false", "N/A"]
            writer.writerow(row)
        return out.getvalue()

    def get_account_summary(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        account = ctx.account_id
        devices = self.service.store.mfa_devices(account)
        versions = self.service.store.version_count(account)
        summary = {
            "Users": self.service.store.count(account, "user"),
            "UsersQuota": 5000,
            "Groups": self.service.store.count(account, "group"),
            "GroupsQuota": 300,
            "Roles": self.service.store.count(account, "role"),
            "RolesQuota": 1000,
            "Policies": self.service.store.count(account, "policy"),
            "PoliciesQuota": 1500,
            "InstanceProfiles": self.service.store.count(account, "instance-profile"),
            "InstanceProfilesQuota": 1000,
            "Providers": self.service.store.count(account, "oidc-provider"),
            "MFADevices": len(devices),
            "MFADevicesInUse": sum(1 for d in devices if d[5]),
            "AccountMFAEnabled": 0,
            "AccountAccessKeysPresent": 0,
            "AccountSigningCertificatesPresent": 0,
            "AccessKeysPerUserQuota": 2,
            "GroupsPerUserQuota": 10,
            "SigningCertificatesPerUserQuota": 2,
            "AttachedPoliciesPerUserQuota": 10,
            "AttachedPoliciesPerGroupQuota": 10,
            "AttachedPoliciesPerRoleQuota": 10,
            "PolicyVersionsInUse": versions,
            "PolicyVersionsInUseQuota": 10000,
            "VersionsPerPolicyQuota": 5,
            "ServerCertificates": 0,
            "ServerCertificatesQuota": 20,
            "UserPolicySizeQuota": 2048,
            "GroupPolicySizeQuota": 5120,
            "RolePolicySizeQuota": 10240,
            "PolicySizeQuota": 6144,
            "AssumeRolePolicySizeQuota": 2048,
            "GlobalEndpointTokenVersion": self.service.store.token_version(account),
        }
        return {"SummaryMap": summary}

    def get_account_authorization_details(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        wanted = set(
            params.get("Filter") or ["User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy"]
        )
        account = ctx.account_id
        result: dict[str, Any] = {
            "UserDetailList": [],
            "GroupDetailList": [],
            "RoleDetailList": [],
            "Policies": [],
            "IsTruncated": False,
        }
        used_arns: set[str] = set()

        def inline(kind: str, key: str) -> list[dict[str, str]]:
            return [
                {"PolicyName": n, "PolicyDocument": quoted(d)}
                for n, d in self.service.store.inline(account, kind, key)
            ]

        def attached(kind: str, key: str) -> list[dict[str, str]]:
            arns = self.service.store.attached(account, kind, key)
            used_arns.update(arns)
            return [{"PolicyName": a.rsplit("/", 1)[-1], "PolicyArn": a} for a in arns]

        if "User" in wanted:
            for user in self.service.store.all_of(account, "user"):
                detail = self.service.user_shape(user, tags=True)
                detail["UserPolicyList"] = inline("user", user.key)
                detail["GroupList"] = [
                    g.name
                    for g in (
                        self.service.store.get(account, "group", k)
                        for k in self.service.store.groups_of(account, user.key)
                    )
                    if g
                ]
                detail["AttachedManagedPolicies"] = attached("user", user.key)
                result["UserDetailList"].append(detail)
        if "Group" in wanted:
            for group in self.service.store.all_of(account, "group"):
                detail = self.service.group_shape(group)
                detail["GroupPolicyList"] = inline("group", group.key)
                detail["AttachedManagedPolicies"] = attached("group", group.key)
                result["GroupDetailList"].append(detail)
        if "Role" in wanted:
            for role in self.service.store.all_of(account, "role"):
                detail = self.service.role_shape(role, "get")
                detail["RolePolicyList"] = inline("role", role.key)
                detail["AttachedManagedPolicies"] = attached("role", role.key)
                detail["InstanceProfileList"] = [
                    self.service.profile_shape(p)
                    for p in (
                        self.service.store.get(account, "instance-profile", k)
                        for k in self.service.store.profiles_of_role(account, role.key)
                    )
                    if p
                ]
                result["RoleDetailList"].append(detail)
        policies: list[dict[str, Any]] = []
        if "LocalManagedPolicy" in wanted:
            for entity in self.service.store.all_of(account, "policy"):
                shape = self.service.policy_shape(self.service.attachable_policy(ctx, entity.arn), account)
                default = entity.data["default_version"]
                shape["PolicyVersionList"] = [
                    {
                        "Document": quoted(d),
                        "VersionId": f"v{v}",
                        "IsDefaultVersion": v == default,
                        "CreateDate": c,
                    }
                    for v, d, c in self.service.store.versions(account, entity.key)
                ]
                policies.append(shape)
        if "AWSManagedPolicy" in wanted:
            for arn in sorted(a for a in used_arns if a.startswith("arn:aws:iam::aws:")):
                found = aws_policy(arn)
                if found:
                    shape = self.service.policy_shape(found, account)
                    shape["PolicyVersionList"] = [
                        {
                            "Document": quoted(found["document"]),
                            "VersionId": "v1",
                            "IsDefaultVersion": True,
                            "CreateDate": found["created"],
                        }
                    ]
                    policies.append(shape)
        result["Policies"] = policies
        return result
