"""Assuming a role: AssumeRole (external id, MFA, duration, chaining, session policies and tags, source
identity) and AssumeRoleWithWebIdentity (a JWT from an OIDC provider IAM trusts). The role's trust policy is
evaluated as its resource-based policy with the enforcement engine; the caller's identity policies are
consulted too when IAM is enforced (or soft)."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

import overcast.services.cognitoidentity.api as cognito_identity
import overcast.services.cognitoidp.api as cognito_idp
import overcast.services.iam.api as iam
from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.identity import Principal
from overcast.policy import document as policy_doc
from overcast.policy.document import Policy, Statement
from overcast.policy.enforcement import build_context, request_tags
from overcast.policy.evaluate import Policies, Request, evaluate, outcome
from overcast.services.base import Operations
from overcast.services.kit.arns import parse_arn
from overcast.services.sts import saml

if TYPE_CHECKING:
    from overcast.services.sts.provider import StsProvider

ROLE_CHAINING_LIMIT = 3600
ALLOW_ALL = Policy("2012-10-17", (Statement("Allow", ("*",), None, ("*",), None, None, None, ()),))


def _validation(message: str) -> ServiceError:
    return ServiceError("ValidationError", message, 400)


def check_role_arn(role_arn: str) -> None:
    """A role ARN AWS can parse: arn:<partition>:iam::<account>:role/<path/>name."""
    parsed = parse_arn(role_arn)
    if (
        parsed is None
        or parsed.service != "iam"
        or not parsed.resource.startswith("role/")
        or parsed.resource == "role/"
    ):
        raise _validation(f"{role_arn} is invalid")


def check_session_tags(params: dict[str, Any], incoming_transitive: dict[str, str]) -> None:
    """AWS's three rules for session tags: keys are unique ignoring case, a chained session cannot set a
    transitive tag it inherited, and each transitive key must be one of the request's tags."""
    keys = [tag["Key"] for tag in params.get("Tags") or ()]
    lowered = {key.lower() for key in keys}
    if len(lowered) != len(keys):
        raise _invalid("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
    if lowered & {key.lower() for key in incoming_transitive}:
        raise _invalid(
            "One of the specified transitive tag keys can't be set because it conflicts with a transitive tag "
            "key from the calling session."
        )
    if {key.lower() for key in params.get("TransitiveTagKeys") or ()} - lowered:
        raise _invalid("The specified transitive tag key must be included in the requested tags.")


def _invalid(message: str) -> ServiceError:
    return ServiceError("InvalidParameterValue", message, 400)


def jwt_claims(token: str) -> dict[str, Any]:
    """The claims of a JWT (its signature is not checked: Overcast trusts the OIDC provider's tokens)."""
    try:
        payload = token.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        raise ServiceError(
            "InvalidIdentityToken",
            "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)",
            400,
        ) from None


def duration_of(params: dict[str, Any], role: iam.Role, chained: bool) -> int:
    duration = params.get("DurationSeconds") or 3600
    if chained and duration > ROLE_CHAINING_LIMIT:
        raise _validation(
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
        )
    if duration > role.max_session:
        raise _validation("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
    return duration


class AssumeRoleOperations(Operations):
    service: StsProvider

    def assume_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        sts = self.service
        caller = ctx.principal
        check_role_arn(params["RoleArn"])
        chained = caller.kind == "assumed-role"
        incoming = (caller.attributes.get("transitive_tags") or {}) if chained else {}
        check_session_tags(params, incoming)
        role = sts.role(params["RoleArn"], caller.arn, "sts:AssumeRole")
        duration = duration_of(params, role, chained)
        mfa = sts.mfa_present(ctx, params)
        tags = request_tags(params)
        if chained:  # transitive session tags carry over to the next session in the chain
            tags = {**(caller.attributes.get("transitive_tags") or {}), **tags}
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
        self.trust_allows(evaluated, role, "sts:AssumeRole", context)
        transitive = {k: v for k, v in tags.items() if k in set(params.get("TransitiveTagKeys") or ())}
        if chained:
            transitive = {**(caller.attributes.get("transitive_tags") or {}), **transitive}
        session = sts.session_principal(
            role,
            params["RoleSessionName"],
            tags=tags,
            policies=sts.session_policies(ctx, params),
            mfa=mfa,
            chained=chained,
            extra={"transitive_tags": transitive, "source_identity": params.get("SourceIdentity")},
        )
        credentials = sts.issue(session, duration)
        iam.record_role_use(self.platform, role.arn, ctx.region)
        result: dict[str, Any] = {
            "Credentials": credentials,
            "AssumedRoleUser": {"AssumedRoleId": session["user_id"], "Arn": session["arn"]},
            "PackedPolicySize": min(100, 6 * len(tags) + len(params.get("Policy") or "") // 20),
        }
        if params.get("SourceIdentity"):
            result["SourceIdentity"] = params["SourceIdentity"]
        return result

    def assume_role_with_web_identity(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        sts = self.service
        check_role_arn(params["RoleArn"])
        token = params["WebIdentityToken"]
        claims = jwt_claims(token)
        role_arn = params["RoleArn"]
        parsed = parse_arn(role_arn)
        account = parsed.account if parsed else ""
        provider_arn, issuer, claims = self._identity_provider(account, token, claims)
        audiences = claims.get("aud")
        audiences = audiences if isinstance(audiences, list) else [audiences]
        if claims.get("exp") and float(claims["exp"]) < self.clock.now():
            raise ServiceError(
                "ExpiredTokenException",
                "Token expired: current date/time "
                f"{int(self.clock.now())} must be before the expiration date/time {claims['exp']}",
                400,
            )
        subject = claims.get("sub", "")
        caller = Principal(
            account,
            provider_arn,
            subject,
            "federated-user",
            None,
            {"federated_provider": provider_arn, "subject": subject},
        )
        role = sts.role(role_arn, provider_arn, "sts:AssumeRoleWithWebIdentity")
        duration = duration_of(params, role, False)
        extra = {f"{issuer}:aud": [str(a) for a in audiences], f"{issuer}:sub": str(subject)}
        if claims.get("amr"):
            extra[f"{issuer}:amr"] = claims["amr"] if isinstance(claims["amr"], list) else [claims["amr"]]
        context = build_context(caller, self.clock.now(), region=ctx.region, extra=extra)
        self.trust_allows(caller, role, "sts:AssumeRoleWithWebIdentity", context)
        session = sts.session_principal(
            role,
            params["RoleSessionName"],
            tags={},
            policies=sts.session_policies(ctx, params),
            mfa=False,
            chained=False,
            extra={"web_identity": provider_arn, "context_keys": extra},
        )
        return {
            "Credentials": sts.issue(session, duration),
            "SubjectFromWebIdentityToken": str(subject),
            "AssumedRoleUser": {"AssumedRoleId": session["user_id"], "Arn": session["arn"]},
            "Provider": issuer,
            "Audience": str(audiences[0]),
            "PackedPolicySize": 0,
        }

    def _identity_provider(
        self, account: str, token: str, claims: dict[str, Any]
    ) -> tuple[str, str, dict[str, Any]]:
        """(provider ARN or name, issuer without scheme, claims) of a web identity token. Identity pools'
        OpenID tokens (issuer cognito-identity.amazonaws.com) and Overcast's user pools' tokens have their
        signatures checked by the services that issued them; other issuers must be IAM OIDC providers of the
        account, whose keys Overcast does not hold (their tokens are taken as signed)."""
        issuer = str(claims.get("iss", "")).removeprefix("https://").removeprefix("http://").rstrip("/")
        if issuer == cognito_identity.ISSUER:
            verified = cognito_identity.verified_open_id_token(self.platform, token)
            if verified is None:
                raise ServiceError(
                    "InvalidIdentityToken", "The web identity token provided could not be verified.", 400
                )
            return cognito_identity.ISSUER, issuer, verified
        names = [issuer]
        pool_id = cognito_idp.is_pool_issuer(self.platform, issuer)
        if pool_id is not None:
            if cognito_idp.verified_token(self.platform, token) is None:
                raise ServiceError(
                    "InvalidIdentityToken", "The web identity token provided could not be verified.", 400
                )
            names.append(f"cognito-idp.{pool_id.split('_')[0]}.amazonaws.com/{pool_id}")
        for name in names:
            provider = iam.oidc_provider(self.platform, account, name)
            if provider is not None:
                audiences = claims.get("aud")
                audiences = audiences if isinstance(audiences, list) else [audiences]
                if not set(audiences) & set(provider.clients):
                    raise ServiceError("InvalidIdentityToken", "Incorrect token audience", 400)
                return provider.arn, name, claims
        raise ServiceError(
            "InvalidIdentityToken",
            f"No OpenIDConnect provider found in your account for https://{issuer}",
            400,
        )

    def assume_role_with_saml(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        """A SAML IdP's assertion for a role. The response's signature is not verified (the metadata's key
        would need XML canonicalization); its issuer, expiry, roles and attributes are."""
        sts = self.service
        check_role_arn(params["RoleArn"])
        provider = iam.saml_provider(self.platform, params["PrincipalArn"])
        if provider is None:
            raise saml.invalid("Specified provider doesn't exist")
        assertion = saml.parse_response(params["SAMLAssertion"])
        if not assertion.issuer or assertion.issuer != saml.entity_id(provider.metadata):
            raise saml.invalid("Issuer not present in specified provider")
        now = self.clock.now()
        if assertion.not_on_or_after is not None and now >= assertion.not_on_or_after:
            raise ServiceError(
                "ExpiredTokenException", "Token must be redeemed within 5 minutes of issuance", 400
            )
        denied = ServiceError("AccessDenied", "Not authorized to perform sts:AssumeRoleWithSAML", 403)
        if (params["RoleArn"], provider.arn) not in assertion.roles:
            raise denied
        if not assertion.session_name:
            raise saml.invalid("Invalid SAML response: the RoleSessionName attribute is missing.")
        role = sts.role(params["RoleArn"], provider.arn, "sts:AssumeRoleWithSAML")
        qualifier = saml.name_qualifier(assertion.issuer, provider.account, provider.name)
        caller = Principal(
            provider.account,
            provider.arn,
            assertion.subject,
            "federated-user",
            None,
            {"federated_provider": provider.arn, "subject": assertion.subject},
        )
        extra = {
            "saml:aud": assertion.audience,
            "saml:sub": assertion.subject,
            "saml:sub_type": assertion.subject_type,
            "saml:iss": assertion.issuer,
            "saml:namequalifier": qualifier,
        }
        context = build_context(caller, now, region=ctx.region, tags=assertion.tags, extra=extra)
        try:
            self.trust_allows(caller, role, "sts:AssumeRoleWithSAML", context)
        except ServiceError as error:
            raise denied from error
        requested = params.get("DurationSeconds") or assertion.session_duration or 3600
        duration = duration_of(
            {"DurationSeconds": min(requested, assertion.session_duration or requested)}, role, False
        )
        transitive = {k: v for k, v in assertion.tags.items() if k in set(assertion.transitive_keys)}
        session = sts.session_principal(
            role,
            assertion.session_name,
            tags=assertion.tags,
            policies=sts.session_policies(ctx, params),
            mfa=False,
            chained=False,
            extra={
                "saml_provider": provider.arn,
                "transitive_tags": transitive,
                "source_identity": assertion.source_identity,
            },
        )
        iam.record_role_use(self.platform, role.arn, ctx.region)
        result: dict[str, Any] = {
            "Credentials": sts.issue(session, duration),
            "AssumedRoleUser": {"AssumedRoleId": session["user_id"], "Arn": session["arn"]},
            "PackedPolicySize": min(100, 6 * len(assertion.tags) + len(params.get("Policy") or "") // 20),
            "Subject": assertion.subject,
            "SubjectType": assertion.subject_type,
            "Issuer": assertion.issuer,
            "Audience": assertion.audience,
            "NameQualifier": qualifier,
        }
        if assertion.source_identity:
            result["SourceIdentity"] = assertion.source_identity
        return result

    def trust_allows(
        self, caller: Principal, role: iam.Role, action: str, context: dict[str, list[str]]
    ) -> None:
        """Raise AccessDenied unless the role's trust policy (and, when IAM is enforced, the caller's identity
        policies) allow `caller` to assume it."""
        config = self.platform.config
        trust = policy_doc.parse(role.trust, policy_doc.TRUST)
        enforcing = config.iam != "off" and caller.kind not in ("root", "federated-user")
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
        if not (decision.allowed and trusted) and config.iam != "soft":
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
