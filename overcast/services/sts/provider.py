"""STS's provider: the operation families it composes, the credentials it issued (the `credential` hook), and
what the families share: issuing a session, the role being assumed, session policies and MFA."""

from __future__ import annotations

import base64
import secrets
from typing import Any

import overcast.services.iam.api as iam
from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.identity import Credential, Principal
from overcast.policy import document as policy_doc
from overcast.policy.enforcement import ResourcePolicy, build_context
from overcast.policy.evaluate import Policies, Request, evaluate
from overcast.services.base import ServiceProvider
from overcast.services.sts.identity import IdentityOperations
from overcast.services.sts.roles import AssumeRoleOperations, check_role_arn
from overcast.services.sts.root import AssumeRootOperations, target_arn
from overcast.services.sts.store import StsStore
from overcast.services.sts.tokens import SessionTokenOperations

EXPIRED_KEPT = 86400  # seconds an expired session is kept (the server answers ExpiredToken meanwhile)


class StsProvider(ServiceProvider):
    service_name = "sts"
    families = (IdentityOperations, AssumeRoleOperations, AssumeRootOperations, SessionTokenOperations)

    def __init__(self, platform) -> None:
        super().__init__(platform)
        self.store = StsStore(self.db)
        # IAM is built on first use (AssumeRole, a session's policies): GetCallerIdentity, the first call of
        # most tools, needs none of it (8 MB and 78 modules)

    # -- hooks ---------------------------------------------------------------------------------------------

    def resource_arn(self, ctx: RequestContext, params: dict[str, Any]) -> str | None:
        """The resource a request acts on, for authorization: the role being assumed. AWS validates it before
        it authorizes the call, so a malformed one is a ValidationError even for a caller with no rights."""
        if ctx.operation == "AssumeRoot":
            return target_arn(params["TargetPrincipal"])
        role_arn = params.get("RoleArn")
        if role_arn is not None:
            check_role_arn(role_arn)
        return role_arn

    def authorization_resource(self, ctx: RequestContext, arn: str) -> ResourcePolicy | None:
        """AssumeRoot is the caller's identity policies' to allow (on the member's root ARN): the organization,
        not a policy of the member account, is what lets the management account in."""
        if ctx.operation == "AssumeRoot":
            return ResourcePolicy(ctx.account_id, None, {})
        return None

    def credential(self, access_key_id: str) -> Credential | None:
        """The session behind an ASIA... access key STS issued."""
        if not access_key_id.startswith("ASIA"):
            return None
        found = self.store.session(access_key_id)
        if found is None:
            return None
        secret, token, expires, data = found
        principal = Principal(
            data["account"], data["arn"], data["user_id"], data["kind"], access_key_id, data["attributes"]
        )
        return Credential(access_key_id, secret, principal, token, expires)

    # -- sessions ------------------------------------------------------------------------------------------

    def issue(self, principal: dict[str, Any], duration: int, prefix: str = "ASIA") -> dict[str, Any]:
        """New temporary credentials for `principal` (a session's principal as `credential` rebuilds it),
        valid `duration` seconds: STS's Credentials shape."""
        now = self.clock.now()
        self.store.forget_expired(now - EXPIRED_KEPT)
        key_id, secret = iam.new_access_key_id(prefix), iam.new_secret()
        token = "IQoJb3JpZ2luX2VjE" + base64.b64encode(secrets.token_bytes(240)).decode()
        expires = now + duration
        self.store.add_session(key_id, principal["account"], secret, token, expires, principal)
        return {
            "AccessKeyId": key_id,
            "SecretAccessKey": secret,
            "SessionToken": token,
            "Expiration": expires,
        }

    def session_policies(self, ctx: RequestContext, params: dict[str, Any]) -> list[str]:
        """The session policies a request passes (Policy, PolicyArns), or those of the session it chains from."""
        texts = []
        if params.get("Policy"):
            policy_doc.validate(params["Policy"])
            texts.append(params["Policy"])
        for entry in params.get("PolicyArns") or ():
            texts.append(iam.managed_policy_document(self.platform, ctx.account_id, entry["arn"]))
        inherited = ctx.principal.attributes.get("session_policies") or []
        return texts + list(inherited) if ctx.principal.kind == "assumed-role" and not texts else texts

    def mfa_present(self, ctx: RequestContext, params: dict[str, Any]) -> bool:
        """Whether the session is MFA-authenticated: a valid SerialNumber/TokenCode, or an MFA session."""
        serial, code = params.get("SerialNumber"), params.get("TokenCode")
        if serial or code:
            if not (serial and code) or not iam.verify_mfa(
                self.platform, ctx.principal.account_id, serial, code
            ):
                raise ServiceError(
                    "AccessDenied",
                    "MultiFactorAuthentication failed with invalid MFA one time pass code. ",
                    403,
                )
            return True
        return bool(ctx.principal.attributes.get("mfa"))

    def role(self, role_arn: str, caller_arn: str, action: str) -> iam.Role:
        """The role to assume; AWS answers AccessDenied (not NoSuchEntity) for one that does not exist."""
        found = iam.role(self.platform, role_arn)
        if found is None:
            raise ServiceError(
                "AccessDenied",
                f"User: {caller_arn} is not authorized to perform: {action} on resource: {role_arn}",
                403,
            )
        return found

    def session_principal(
        self,
        role: iam.Role,
        session_name: str,
        *,
        tags: dict[str, str],
        policies: list[str],
        mfa: bool,
        chained: bool,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The principal of a role session (what `credential` rebuilds from the stored session)."""
        attributes = {
            "role_arn": role.arn,
            "role_name": role.name,
            "session_name": session_name,
            "tags": {**role.tags, **tags},
            "session_policies": policies,
            "mfa": mfa,
            "chained": chained,
            "issued_at": self.clock.now(),
            **(extra or {}),
        }
        return {
            "account": role.account,
            "arn": f"arn:aws:sts::{role.account}:assumed-role/{role.name}/{session_name}",
            "user_id": f"{role.id}:{session_name}",
            "kind": "assumed-role",
            "attributes": attributes,
        }

    # -- for other services (through sts/api.py) -------------------------------------------------------------

    def credentials_for_service(
        self,
        role_arn: str,
        service: str,
        session_name: str,
        *,
        duration: int = 3600,
        source_arn: str | None = None,
        source_account: str | None = None,
    ) -> dict[str, Any]:
        """Temporary credentials of `role_arn` for the AWS service `service` acting with it; see
        `sts.api.credentials_for_role`, the road other services take to it."""
        role = self.role(role_arn, service, "sts:AssumeRole")
        caller = Principal(role.account, service, service, "service")
        extra: dict[str, Any] = {"sts:rolesessionname": session_name}
        if source_arn:
            extra["aws:sourcearn"] = source_arn
        if source_account:
            extra["aws:sourceaccount"] = source_account
        context = build_context(caller, self.clock.now(), extra=extra)
        trust = policy_doc.parse(role.trust, policy_doc.TRUST)
        request = Request(caller, "sts:AssumeRole", role.arn, context)
        if (
            trust is None
            or not evaluate(request, Policies(resource=trust, resource_account=role.account)).allowed
        ):
            raise ServiceError(
                "AccessDenied",
                f"{service} is not authorized to perform: sts:AssumeRole on resource: {role.arn}",
                403,
            )
        session = self.session_principal(
            role, session_name, tags={}, policies=[], mfa=False, chained=False, extra={"service": service}
        )
        return self.issue(session, min(duration, role.max_session))

    def credentials_for_web_identity(
        self,
        role_arn: str,
        provider: str,
        subject: str,
        session_name: str,
        *,
        context_keys: dict[str, Any],
        duration: int = 3600,
        region: str | None = None,
    ) -> dict[str, Any]:
        """See `sts.api.credentials_for_web_identity`."""
        role = self.role(role_arn, provider, "sts:AssumeRoleWithWebIdentity")
        caller = Principal(
            role.account,
            provider,
            subject,
            "federated-user",
            None,
            {"federated_provider": provider, "subject": subject},
        )
        context = build_context(caller, self.clock.now(), region=region, extra=context_keys)
        self.family(AssumeRoleOperations).trust_allows(caller, role, "sts:AssumeRoleWithWebIdentity", context)
        session = self.session_principal(
            role,
            session_name,
            tags={},
            policies=[],
            mfa=False,
            chained=False,
            extra={"web_identity": provider, "context_keys": context_keys},
        )
        return {
            "Credentials": self.issue(session, min(duration, role.max_session)),
            "AssumedRoleUser": {"AssumedRoleId": session["user_id"], "Arn": session["arn"]},
        }
