"""STS: who am I, and temporary credentials (AssumeRole, GetSessionToken, AssumeRoleWithWebIdentity).

Sessions are rows keyed by their ASIA... access key id; they expire on the virtual clock (the server answers
ExpiredToken). A role's trust policy is evaluated as the role's resource-based policy with the same engine as
enforcement; the caller's identity policies are consulted too when IAM is enforced (or soft).
"""

from __future__ import annotations

import base64
import json
import secrets
from typing import Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.identity import Credential, Principal
from overcast.policy import document as policy_doc
from overcast.policy.document import Policy, Statement
from overcast.policy.enforcement import build_context, request_tags
from overcast.policy.evaluate import Policies, Request, evaluate, outcome
from overcast.services.base import ServiceProvider
from overcast.services.iam.accounts import new_access_key_id, new_secret

MIGRATIONS = [
    """
    CREATE TABLE sts_sessions (
        key_id TEXT PRIMARY KEY, account TEXT NOT NULL, secret TEXT NOT NULL, token TEXT NOT NULL,
        expires REAL NOT NULL, principal TEXT NOT NULL
    );
    CREATE INDEX sts_sessions_expires ON sts_sessions (expires);
    """
]

ROLE_CHAINING_LIMIT = 3600
ALLOW_ALL = Policy("2012-10-17", (Statement("Allow", ("*",), None, ("*",), None, None, None, ()),))


def _validation(message: str) -> ServiceError:
    return ServiceError("ValidationError", message, 400)


def _jwt_claims(token: str) -> dict[str, Any]:
    try:
        payload = token.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        raise ServiceError(
            "InvalidIdentityToken",
            "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)",
            400,
        ) from None


def account_of_key(access_key_id: str) -> str | None:
    """The account AWS encodes in an access key id (AKIA/ASIA followed by base32)."""
    try:
        decoded = base64.b32decode(access_key_id[4:] + "=" * (-len(access_key_id[4:]) % 8))
    except ValueError:
        return None
    number = int.from_bytes(decoded[:6], "big")
    return f"{(number & 0x7FFFFFFFFF80) >> 7:012d}"


class StsProvider(ServiceProvider):
    service_name = "sts"

    def resource_arn(self, ctx: RequestContext, params: dict[str, Any]) -> str | None:
        """The resource a request acts on, for authorization."""
        return params.get("RoleArn")

    def __init__(self, platform) -> None:
        super().__init__(platform)
        self.db.migrate("sts", MIGRATIONS)
        platform.provider("iam")  # build IAM now, outside any request's transaction

    @property
    def iam(self) -> Any:
        return self.platform.provider("iam")

    # -- identity ------------------------------------------------------------------------------------------

    def get_caller_identity(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        principal = ctx.principal
        return {"UserId": principal.user_id, "Account": principal.account_id, "Arn": principal.arn}

    def get_access_key_info(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        key = params["AccessKeyId"]
        found = self.platform.credentials.lookup(key)
        if found is not None:
            return {"Account": found.principal.account_id}
        account = account_of_key(key) if key.startswith(("AKIA", "ASIA")) else None
        return {"Account": account or self.platform.config.default_account}

    def decode_authorization_message(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        try:
            decoded = base64.b64decode(params["EncodedMessage"], validate=True).decode()
            json.loads(decoded)
        except ValueError:
            raise ServiceError(
                "InvalidAuthorizationMessageException", "The specified authorization message is invalid.", 400
            ) from None
        return {"DecodedMessage": decoded}

    # -- sessions ------------------------------------------------------------------------------------------

    def credential(self, access_key_id: str) -> Credential | None:
        if not access_key_id.startswith("ASIA"):
            return None
        row = self.db.one(
            "SELECT secret, token, expires, principal FROM sts_sessions WHERE key_id = ?", (access_key_id,)
        )
        if row is None:
            return None
        secret, token, expires, raw = row
        data = json.loads(raw)
        principal = Principal(
            data["account"], data["arn"], data["user_id"], data["kind"], access_key_id, data["attributes"]
        )
        return Credential(access_key_id, secret, principal, token, expires)

    def _issue(self, principal: dict[str, Any], duration: int, prefix: str = "ASIA") -> dict[str, Any]:
        now = self.clock.now()
        self.db.execute("DELETE FROM sts_sessions WHERE expires < ?", (now - 86400,))
        key_id, secret = new_access_key_id(prefix), new_secret()
        token = "IQoJb3JpZ2luX2VjE" + base64.b64encode(secrets.token_bytes(240)).decode()
        expires = now + duration
        self.db.execute(
            "INSERT INTO sts_sessions VALUES (?, ?, ?, ?, ?, ?)",
            (key_id, principal["account"], secret, token, expires, json.dumps(principal)),
        )
        return {
            "AccessKeyId": key_id,
            "SecretAccessKey": secret,
            "SessionToken": token,
            "Expiration": expires,
        }

    def _session_policies(self, ctx: RequestContext, params: dict[str, Any]) -> list[str]:
        texts = []
        if params.get("Policy"):
            policy_doc.validate(params["Policy"])
            texts.append(params["Policy"])
        for entry in params.get("PolicyArns") or ():
            texts.append(self.iam.attachable_policy(ctx, entry["arn"])["document"])
        inherited = ctx.principal.attributes.get("session_policies") or []
        return texts + list(inherited) if ctx.principal.kind == "assumed-role" and not texts else texts

    def _mfa_present(self, ctx: RequestContext, params: dict[str, Any]) -> bool:
        serial, code = params.get("SerialNumber"), params.get("TokenCode")
        if serial or code:
            if not (serial and code) or not self.iam.verify_mfa(ctx.principal.account_id, serial, code):
                raise ServiceError(
                    "AccessDenied",
                    "MultiFactorAuthentication failed with invalid MFA one time pass code. ",
                    403,
                )
            return True
        return bool(ctx.principal.attributes.get("mfa"))

    def _trust_allows(
        self, ctx: RequestContext, caller: Principal, role: Any, action: str, context: dict[str, list[str]]
    ) -> None:
        trust = policy_doc.parse(role.data["trust"], policy_doc.TRUST)
        enforcing = self.platform.config.iam != "off" and caller.kind not in ("root", "federated-user")
        authorizer = self.platform.authorizer
        identity = (
            authorizer.identity(caller).policies
            if enforcing and hasattr(authorizer, "identity")
            else [ALLOW_ALL]
        )
        request = Request(caller, action, role.arn, context)
        decision = evaluate(
            request, Policies(identity=identity, resource=trust, resource_account=role.account)
        )
        # Unlike other resource policies, a trust policy must allow even within its own account.
        trusted = trust is not None and outcome([trust], request).strength is not None
        if not (decision.allowed and trusted) and self.platform.config.iam != "soft":
            who = (
                caller.arn
                if caller.kind != "federated-user"
                else caller.attributes.get("subject", caller.arn)
            )
            raise ServiceError(
                "AccessDenied",
                f"User: {who} is not authorized to perform: {action} on resource: {role.arn}",
                403,
            )

    def _role(self, role_arn: str, caller_arn: str, action: str) -> Any:
        role = self.iam.store.by_arn(role_arn)
        if role is None or role.kind != "role":
            raise ServiceError(
                "AccessDenied",
                f"User: {caller_arn} is not authorized to perform: {action} on resource: {role_arn}",
                403,
            )
        return role

    def _duration(self, params: dict[str, Any], role: Any, chained: bool) -> int:
        duration = params.get("DurationSeconds") or 3600
        if chained and duration > ROLE_CHAINING_LIMIT:
            raise _validation(
                "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by "
                "role chaining."
            )
        if duration > role.data.get("max_session", 3600):
            raise _validation(
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
            )
        return duration

    def _session_principal(
        self,
        role: Any,
        session_name: str,
        *,
        tags: dict[str, str],
        policies: list[str],
        mfa: bool,
        chained: bool,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        role_tags = {t["Key"]: t["Value"] for t in self.iam.store.tags(role.account, "role", role.key)}
        attributes = {
            "role_arn": role.arn,
            "role_name": role.name,
            "session_name": session_name,
            "tags": {**role_tags, **tags},
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

    def _touch_role(self, role: Any, region: str) -> None:
        role.data["last_used"] = self.clock.now()
        role.data["last_region"] = region
        self.iam.store.update(role)

    def assume_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        caller = ctx.principal
        role = self._role(params["RoleArn"], caller.arn, "sts:AssumeRole")
        chained = caller.kind == "assumed-role"
        duration = self._duration(params, role, chained)
        mfa = self._mfa_present(ctx, params)
        tags = request_tags(params)
        if chained:  # transitive session tags carry over to the next session in the chain
            inherited = caller.attributes.get("transitive_tags") or {}
            tags = {**inherited, **tags}
        extra: dict[str, Any] = {"sts:rolesessionname": params["RoleSessionName"]}
        if params.get("ExternalId") is not None:
            extra["sts:externalid"] = params["ExternalId"]
        if params.get("SourceIdentity"):
            extra["sts:sourceidentity"] = params["SourceIdentity"]
        attrs = dict(caller.attributes, mfa=True) if mfa else caller.attributes
        evaluated = Principal(
            caller.account_id, caller.arn, caller.user_id, caller.kind, caller.access_key_id, attrs
        )
        http = ctx.request
        context = build_context(
            evaluated,
            self.clock.now(),
            region=ctx.region,
            tags=tags,
            extra=extra,
            source_ip=http.client_ip if http else None,
        )
        self._trust_allows(ctx, evaluated, role, "sts:AssumeRole", context)
        transitive = {k: v for k, v in tags.items() if k in set(params.get("TransitiveTagKeys") or ())}
        if chained:
            transitive = {**(caller.attributes.get("transitive_tags") or {}), **transitive}
        session = self._session_principal(
            role,
            params["RoleSessionName"],
            tags=tags,
            policies=self._session_policies(ctx, params),
            mfa=mfa,
            chained=chained,
            extra={"transitive_tags": transitive, "source_identity": params.get("SourceIdentity")},
        )
        credentials = self._issue(session, duration)
        self._touch_role(role, ctx.region)
        result: dict[str, Any] = {
            "Credentials": credentials,
            "AssumedRoleUser": {"AssumedRoleId": session["user_id"], "Arn": session["arn"]},
            "PackedPolicySize": min(100, 6 * len(tags) + len(params.get("Policy") or "") // 20),
        }
        if params.get("SourceIdentity"):
            result["SourceIdentity"] = params["SourceIdentity"]
        return result

    def assume_role_with_web_identity(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        claims = _jwt_claims(params["WebIdentityToken"])
        issuer = str(claims.get("iss", "")).removeprefix("https://").rstrip("/")
        role_arn = params["RoleArn"]
        account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else ""
        provider = self.iam.store.get(account, "oidc-provider", issuer)
        if provider is None:
            raise ServiceError(
                "InvalidIdentityToken",
                f"No OpenIDConnect provider found in your account for https://{issuer}",
                400,
            )
        audiences = claims.get("aud")
        audiences = audiences if isinstance(audiences, list) else [audiences]
        if not set(audiences) & set(provider.data["clients"]):
            raise ServiceError("InvalidIdentityToken", "Incorrect token audience", 400)
        if claims.get("exp") and float(claims["exp"]) < self.clock.now():
            raise ServiceError(
                "ExpiredTokenException",
                "Token expired: current date/time "
                f"{int(self.clock.now())} must be before the expiration date/time {claims['exp']}",
                400,
            )
        caller = Principal(
            account,
            provider.arn,
            claims.get("sub", ""),
            "federated-user",
            None,
            {"federated_provider": provider.arn, "subject": claims.get("sub", "")},
        )
        role = self._role(role_arn, provider.arn, "sts:AssumeRoleWithWebIdentity")
        duration = self._duration(params, role, False)
        extra = {f"{issuer}:aud": [str(a) for a in audiences], f"{issuer}:sub": str(claims.get("sub", ""))}
        if claims.get("amr"):
            extra[f"{issuer}:amr"] = claims["amr"] if isinstance(claims["amr"], list) else [claims["amr"]]
        context = build_context(caller, self.clock.now(), region=ctx.region, extra=extra)
        self._trust_allows(ctx, caller, role, "sts:AssumeRoleWithWebIdentity", context)
        session = self._session_principal(
            role,
            params["RoleSessionName"],
            tags={},
            policies=self._session_policies(ctx, params),
            mfa=False,
            chained=False,
            extra={"web_identity": provider.arn},
        )
        credentials = self._issue(session, duration)
        return {
            "Credentials": credentials,
            "SubjectFromWebIdentityToken": str(claims.get("sub", "")),
            "AssumedRoleUser": {"AssumedRoleId": session["user_id"], "Arn": session["arn"]},
            "Provider": issuer,
            "Audience": str(audiences[0]),
            "PackedPolicySize": 0,
        }

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
        """Temporary credentials of `role_arn` for an AWS service acting with it (Lambda's execution role, ...):
        the role's trust policy must allow `Principal.Service` = `service` (with aws:SourceArn /
        aws:SourceAccount conditions). Returns STS's Credentials shape; raises AccessDenied otherwise.
        Call it from a request's transaction or open one (`with self.db.transaction():`)."""
        role = self._role(role_arn, service, "sts:AssumeRole")
        caller = Principal(role.account, service, service, "service")
        extra: dict[str, Any] = {"sts:rolesessionname": session_name}
        if source_arn:
            extra["aws:sourcearn"] = source_arn
        if source_account:
            extra["aws:sourceaccount"] = source_account
        context = build_context(caller, self.clock.now(), extra=extra)
        trust = policy_doc.parse(role.data["trust"], policy_doc.TRUST)
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
        session = self._session_principal(
            role, session_name, tags={}, policies=[], mfa=False, chained=False, extra={"service": service}
        )
        return self._issue(session, min(duration, role.data.get("max_session", 3600)))

    def get_session_token(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        caller = ctx.principal
        if caller.kind not in ("user", "root"):
            raise ServiceError("AccessDenied", "Cannot call GetSessionToken with session credentials", 403)
        limit = 3600 if caller.kind == "root" else 129600
        duration = params.get("DurationSeconds") or (3600 if caller.kind == "root" else 43200)
        if duration > limit:
            duration = limit  # AWS silently caps a root session at one hour
        mfa = self._mfa_present(ctx, params)
        attributes = dict(caller.attributes, mfa=mfa, issued_at=self.clock.now(), session_token=True)
        session = {
            "account": caller.account_id,
            "arn": caller.arn,
            "user_id": caller.user_id,
            "kind": caller.kind,
            "attributes": attributes,
        }
        return {"Credentials": self._issue(session, duration)}

    def get_federation_token(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        caller = ctx.principal
        if caller.kind not in ("user", "root"):
            raise ServiceError("AccessDenied", "Cannot call GetFederationToken with session credentials", 403)
        name = params["Name"]
        duration = min(params.get("DurationSeconds") or 43200, 3600 if caller.kind == "root" else 129600)
        policies = self._session_policies(ctx, params)
        arn = f"arn:aws:sts::{caller.account_id}:federated-user/{name}"
        session = {
            "account": caller.account_id,
            "arn": arn,
            "user_id": f"{caller.account_id}:{name}",
            "kind": "federated-user",
            "attributes": {
                "session_policies": policies
                or [
                    json.dumps(
                        {
                            "Version": "2012-10-17",
                            "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}],
                        }
                    )
                ],
                "issued_at": self.clock.now(),
                "tags": request_tags(params),
                "parent": caller.arn,
            },
        }
        return {
            "Credentials": self._issue(session, duration),
            "FederatedUser": {"FederatedUserId": session["user_id"], "Arn": arn},
            "PackedPolicySize": 0,
        }
