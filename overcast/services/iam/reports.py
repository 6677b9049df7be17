"""IAM reports and the policy simulator: credential report, account summary, authorization details,
SimulatePrincipalPolicy / SimulateCustomPolicy (the same engine as enforcement), and the identity view the
authorizer evaluates."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.identity import Principal
from overcast.policy import document as policy_doc
from overcast.policy.enforcement import Identity, build_context
from overcast.policy.evaluate import Policies, Request, evaluate

if TYPE_CHECKING:
    from overcast.services.iam.store import Entity, IamStore

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


class ReportsMixin:
    store: IamStore
    clock: Any

    # -- what the authorizer evaluates ---------------------------------------------------------------------

    def identity_of(self, principal: Principal) -> Identity:
        """The identity-based policies, permissions boundary and tags of a user or a role session."""
        account = principal.account_id
        if principal.kind == "user":
            kind, key = (
                "user",
                principal.attributes.get("user_key") or principal.arn.rsplit("/", 1)[-1].lower(),
            )
        elif principal.kind == "assumed-role":
            kind, key = "role", principal.attributes["role_name"].lower()
        elif principal.kind == "federated-user":  # the parent user's policies, narrowed by the session policy
            parent = self.store.by_arn(principal.attributes.get("parent", ""))
            return self.entity_identity(parent) if parent else Identity([])
        else:
            return Identity([])
        entity = self.store.get(account, kind, key)
        if entity is None:
            return Identity([])
        return self.entity_identity(entity)

    def entity_identity(self, entity: Entity) -> Identity:
        account, kind, key = entity.account, entity.kind, entity.key
        documents = self.policy_documents(account, kind, key)  # type: ignore[attr-defined]
        if kind == "user":
            for group_key in self.store.groups_of(account, key):
                documents += self.policy_documents(account, "group", group_key)  # type: ignore[attr-defined]
        policies = [p for p in (policy_doc.parse(d) for d in documents) if p]
        boundary_arn = entity.data.get("boundary")
        boundary = policy_doc.parse(self.managed_document(account, boundary_arn)) if boundary_arn else None  # type: ignore[attr-defined]
        tags = {t["Key"]: t["Value"] for t in self.store.tags(account, kind, key)}
        return Identity(policies, boundary, tags)

    # -- simulator -----------------------------------------------------------------------------------------

    def simulate_principal_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        source = self.store.by_arn(params["PolicySourceArn"])
        if source is None or source.account != ctx.account_id or source.kind not in ("user", "group", "role"):
            raise ServiceError(
                "NoSuchEntity", f"PolicySourceArn {params['PolicySourceArn']} does not exist.", 404
            )
        identity = self.entity_identity(source)
        if source.kind == "group":
            documents = self.policy_documents(source.account, "group", source.key)  # type: ignore[attr-defined]
            identity = Identity([p for p in (policy_doc.parse(d) for d in documents) if p])
        kind = {"user": "user", "role": "assumed-role", "group": "user"}[source.kind]
        principal = Principal(
            ctx.account_id,
            source.arn,
            source.id,
            kind,
            None,
            {"user_name": source.name}
            if kind == "user"
            else {"role_arn": source.arn, "role_name": source.name},
        )
        return self._simulate(ctx, params, principal, identity)

    def simulate_custom_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        caller = params.get("CallerArn") or f"arn:aws:iam::{ctx.account_id}:user/simulated"
        principal = Principal(
            ctx.account_id, caller, "AIDASIMULATED", "user", None, {"user_name": caller.rsplit("/", 1)[-1]}
        )
        return self._simulate(ctx, params, principal, Identity([]))

    def _simulate(
        self, ctx: RequestContext, params: dict[str, Any], principal: Principal, identity: Identity
    ) -> dict[str, Any]:
        extra = [policy_doc.validate(text) for text in params.get("PolicyInputList") or ()]
        boundaries = [policy_doc.validate(t) for t in params.get("PermissionsBoundaryPolicyInputList") or ()]
        resource_policy = (
            policy_doc.validate(params["ResourcePolicy"], policy_doc.RESOURCE)
            if params.get("ResourcePolicy")
            else None
        )
        context_values = {
            entry["ContextKeyName"]: entry.get("ContextKeyValues") or []
            for entry in params.get("ContextEntries") or ()
        }
        policies = Policies(
            identity=list(identity.policies) + extra,
            resource=resource_policy,
            resource_account=params.get("ResourceOwner", "").split(":")[4]
            if params.get("ResourceOwner")
            else None,
            boundary=boundaries[0] if boundaries else identity.boundary,
        )
        results = []
        for action in params["ActionNames"]:
            for resource in params.get("ResourceArns") or ["*"]:
                context = build_context(principal, self.clock.now(), identity=identity, extra=context_values)
                request = Request(principal, action, resource, context)
                decision = evaluate(request, policies)
                verdict = (
                    "allowed"
                    if decision.allowed
                    else ("explicitDeny" if decision.explicit_deny else "implicitDeny")
                )
                results.append(
                    {
                        "EvalActionName": action,
                        "EvalResourceName": resource,
                        "EvalDecision": verdict,
                        "MatchedStatements": [
                            {"SourcePolicyId": s.sid or "", "SourcePolicyType": "IAM Policy"}
                            for s in decision.matched
                        ],
                        "MissingContextValues": [],
                    }
                )
        return {"EvaluationResults": results, "IsTruncated": False}

    def get_context_keys_for_custom_policy(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        keys: set[str] = set()
        for text in params["PolicyInputList"]:
            for statement in policy_doc.validate(text).statements:
                keys.update(key for _, key, _ in statement.conditions)
        return {"ContextKeyNames": sorted(keys)}

    # -- reports -------------------------------------------------------------------------------------------

    def generate_credential_report(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        existed = self.store.report(ctx.account_id) is not None
        self.store.set_report(ctx.account_id, self._credential_report(ctx), self.clock.now())
        if existed:
            return {"State": "COMPLETE"}
        return {"State": "STARTED", "Description": "No report exists. Starting a new report generation task"}

    def get_credential_report(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        found = self.store.report(ctx.account_id)
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
        for user in self.store.all_of(ctx.account_id, "user"):
            login = self.store.login_profile(ctx.account_id, user.key)
            mfa = bool(self.store.mfa_devices(ctx.account_id, user.key))
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
            keys = self.store.access_keys_of(ctx.account_id, user.key)
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
        devices = self.store.mfa_devices(account)
        versions = self.store.db.one("SELECT count(*) FROM iam_policy_versions WHERE account = ?", (account,))
        summary = {
            "Users": self.store.count(account, "user"),
            "UsersQuota": 5000,
            "Groups": self.store.count(account, "group"),
            "GroupsQuota": 300,
            "Roles": self.store.count(account, "role"),
            "RolesQuota": 1000,
            "Policies": self.store.count(account, "policy"),
            "PoliciesQuota": 1500,
            "InstanceProfiles": self.store.count(account, "instance-profile"),
            "InstanceProfilesQuota": 1000,
            "Providers": self.store.count(account, "oidc-provider"),
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
            "PolicyVersionsInUse": versions[0] if versions else 0,
            "PolicyVersionsInUseQuota": 10000,
            "VersionsPerPolicyQuota": 5,
            "ServerCertificates": 0,
            "ServerCertificatesQuota": 20,
            "UserPolicySizeQuota": 2048,
            "GroupPolicySizeQuota": 5120,
            "RolePolicySizeQuota": 10240,
            "PolicySizeQuota": 6144,
            "AssumeRolePolicySizeQuota": 2048,
            "GlobalEndpointTokenVersion": 1,
        }
        return {"SummaryMap": summary}

    def get_account_authorization_details(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        from overcast.services.iam.provider import quoted

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
                for n, d in self.store.inline(account, kind, key)
            ]

        def attached(kind: str, key: str) -> list[dict[str, str]]:
            arns = self.store.attached(account, kind, key)
            used_arns.update(arns)
            return [{"PolicyName": a.rsplit("/", 1)[-1], "PolicyArn": a} for a in arns]

        if "User" in wanted:
            for user in self.store.all_of(account, "user"):
                detail = self.user_shape(user, tags=True)  # type: ignore[attr-defined]
                detail["UserPolicyList"] = inline("user", user.key)
                detail["GroupList"] = [
                    g.name
                    for g in (
                        self.store.get(account, "group", k) for k in self.store.groups_of(account, user.key)
                    )
                    if g
                ]
                detail["AttachedManagedPolicies"] = attached("user", user.key)
                result["UserDetailList"].append(detail)
        if "Group" in wanted:
            for group in self.store.all_of(account, "group"):
                detail = self.group_shape(group)  # type: ignore[attr-defined]
                detail["GroupPolicyList"] = inline("group", group.key)
                detail["AttachedManagedPolicies"] = attached("group", group.key)
                result["GroupDetailList"].append(detail)
        if "Role" in wanted:
            for role in self.store.all_of(account, "role"):
                detail = self.role_shape(role, tags=True)  # type: ignore[attr-defined]
                detail["RolePolicyList"] = inline("role", role.key)
                detail["AttachedManagedPolicies"] = attached("role", role.key)
                detail["InstanceProfileList"] = [
                    self.profile_shape(p)
                    for p in (
                        self.store.get(account, "instance-profile", k)  # type: ignore[attr-defined]
                        for k in self.store.profiles_of_role(account, role.key)
                    )
                    if p
                ]
                result["RoleDetailList"].append(detail)
        policies: list[dict[str, Any]] = []
        if "LocalManagedPolicy" in wanted:
            for entity in self.store.all_of(account, "policy"):
                shape = self.policy_shape(self.attachable_policy(ctx, entity.arn), account)  # type: ignore[attr-defined]
                default = entity.data["default_version"]
                shape["PolicyVersionList"] = [
                    {
                        "Document": quoted(d),
                        "VersionId": f"v{v}",
                        "IsDefaultVersion": v == default,
                        "CreateDate": c,
                    }
                    for v, d, c in self.store.versions(account, entity.key)
                ]
                policies.append(shape)
        if "AWSManagedPolicy" in wanted:
            from overcast.services.iam.managed import aws_policy

            for arn in sorted(a for a in used_arns if a.startswith("arn:aws:iam::aws:")):
                found = aws_policy(arn)
                if found:
                    shape = self.policy_shape(found, account)  # type: ignore[attr-defined]
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
