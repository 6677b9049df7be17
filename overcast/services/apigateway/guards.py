"""The authorization step of a REST API request: the API's resource policy, then the method's AWS_IAM,
Lambda (TOKEN/REQUEST) or Cognito user pool authorizer. Each answers None (go on) or the gateway response
that refuses the request; what it learned of the caller goes into the call's context."""

from __future__ import annotations

import json
import re
import time
from typing import TYPE_CHECKING, Any

from overcast.errors import ServiceError
from overcast.http import HttpResponse
from overcast.identity import ANONYMOUS, Principal
from overcast.services.apigateway import jwt as jwts
from overcast.services.apigateway.authorization import AuthorizerError, allows, read_verdict
from overcast.services.apigateway.integrations import Failure, lambda_arn, with_stage_variables

if TYPE_CHECKING:
    from overcast.services.apigateway.gateway import Call, Gateway


class Guards:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.platform = gateway.platform
        self.clock = gateway.clock

    async def authorize(self, call: Call) -> HttpResponse | None:
        kind = call.method.get("authorizationType", "NONE")
        policy = call.deployed.snapshot.get("policy")
        if kind == "AWS_IAM":
            return self._iam(call, policy)
        if policy:
            refused = self._resource_policy(call, policy)
            if refused is not None:
                return refused
        if kind == "CUSTOM":
            return await self.lambda_authorizer(call)
        if kind == "COGNITO_USER_POOLS":
            return await self.cognito(call)
        return None

    def _signed_principal(self, call: Call) -> tuple[Principal | None, HttpResponse | None]:
        try:
            return self.platform.authenticate(call.request), None
        except ServiceError as error:
            return None, self.gateway.error(call, "INVALID_SIGNATURE", error.message)

    def _iam(self, call: Call, policy: str | None) -> HttpResponse | None:
        principal, refused = self._signed_principal(call)
        if refused is not None:
            return refused
        if principal is None:
            return self.gateway.error(call, "MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token")
        call.caller = principal
        identity = call.context["identity"]
        from overcast.auth.sigv4 import parse_sigv4

        sig = parse_sigv4(call.request)
        identity.update(
            accessKey=sig.access_key_id if sig else None,
            accountId=principal.account_id,
            caller=principal.user_id,
            user=principal.user_id,
            userArn=principal.arn,
        )
        from overcast.policy.enforcement import ResourcePolicy

        if policy:
            prefix = f'"arn:aws:execute-api:{call.region}:{call.account}:{call.api_id}/'
            policy = policy.replace('"execute-api:/', prefix)
        resource = ResourcePolicy(call.account, policy) if policy else None
        decided = self.platform.authorizer.decide_action(  # type: ignore[union-attr]
            principal,
            "execute-api:Invoke",
            call.method_arn(),
            region=call.region,
            resource=resource,
            source_ip=call.request.client_ip,
        )
        if decided is not None and not decided[1].allowed:
            suffix = " with an explicit deny" if decided[1].explicit_deny else ""
            return self.gateway.error(
                call,
                "ACCESS_DENIED",
                f"User: {principal.arn} is not authorized to perform: execute-api:Invoke on resource: "
                f"{call.method_arn()}{suffix}",
            )
        return None

    def _resource_policy(self, call: Call, policy: str) -> HttpResponse | None:
        """The API's resource policy for a caller that no IAM authorization identifies (anonymous, or signed)."""
        from overcast.policy import document as policy_doc
        from overcast.policy.enforcement import build_context
        from overcast.policy.evaluate import Request, outcome

        # `execute-api:/stage/VERB/path` is API Gateway's shorthand for this API's ARNs
        policy = policy.replace(
            '"execute-api:/', f'"arn:aws:execute-api:{call.region}:{call.account}:{call.api_id}/'
        )
        parsed = policy_doc.parse(policy, policy_doc.RESOURCE)
        if parsed is None:
            return None
        principal = ANONYMOUS
        if call.request.headers.get("authorization", "").startswith("AWS4-"):
            signed, _ = self._signed_principal(call)
            principal = signed or ANONYMOUS
        context = build_context(
            principal, self.clock.now(), region=call.region, source_ip=call.request.client_ip
        )
        found = outcome([parsed], Request(principal, "execute-api:Invoke", call.method_arn(), context))
        if found.denied or not found.allowed:
            who = "anonymous" if principal is ANONYMOUS else principal.arn
            suffix = " with an explicit deny" if found.denied else ""
            return self.gateway.error(
                call,
                "ACCESS_DENIED",
                f"User: {who} is not authorized to perform: execute-api:Invoke on resource: {call.method_arn()}{suffix}",
            )
        return None

    def _identity_values(self, call: Call, source: str | None) -> list[str] | None:
        """The identity source's values (None when one is missing: the caller is Unauthorized)."""
        values = []
        for part in [p.strip() for p in (source or "").split(",") if p.strip()]:
            if part.startswith("method.request.header."):
                value = call.header(part[len("method.request.header.") :])
            else:
                value = self.gateway.integrations.source_value(call, part)
            if not value:
                return None
            values.append(value)
        return values

    async def lambda_authorizer(self, call: Call) -> HttpResponse | None:
        authorizer = (call.deployed.snapshot.get("authorizers") or {}).get(
            call.method.get("authorizerId") or ""
        )
        if authorizer is None:
            return self.gateway.error(call, "AUTHORIZER_CONFIGURATION_ERROR", None, 500)
        values = self._identity_values(call, authorizer.get("identitySource"))
        kind = authorizer["type"]
        if values is None or (kind == "TOKEN" and not values):
            return self.gateway.error(call, "UNAUTHORIZED", "Unauthorized")
        expression = authorizer.get("identityValidationExpression")
        if kind == "TOKEN" and expression:
            if not re.fullmatch(expression, values[0]):
                return self.gateway.error(call, "UNAUTHORIZED", "Unauthorized")
        ttl = authorizer.get("authorizerResultTtlInSeconds", 300) if values else 0
        key = (call.api_id, call.stage_name, authorizer["id"], *values)
        verdict = self.gateway.authorizer_cache.get(key, self.clock.now()) if ttl else None
        started = time.perf_counter()
        call.note(f"Starting authorizer: {authorizer['id']} for request: {call.context['requestId']}")
        if verdict is None:
            event = self._authorizer_event(call, authorizer, values)
            function_arn = lambda_arn(
                with_stage_variables(authorizer.get("authorizerUri", ""), call.stage_variables)
            )
            if function_arn is None:
                return self.gateway.error(call, "AUTHORIZER_CONFIGURATION_ERROR", None, 500)
            try:
                payload, failed = await self.gateway.integrations.invoke_function(
                    call, function_arn, json.dumps(event).encode(), authorizer.get("authorizerCredentials")
                )
            except Failure:
                return self.gateway.error(call, "AUTHORIZER_CONFIGURATION_ERROR", None, 500)
            if failed:
                try:
                    message = json.loads(payload).get("errorMessage")
                except (ValueError, AttributeError):
                    message = None
                if message == "Unauthorized":
                    return self.gateway.error(call, "UNAUTHORIZED", "Unauthorized")
                return self.gateway.error(call, "AUTHORIZER_FAILURE", None, 500)
            call.note(
                f"Authorizer result body before parsing: {payload.decode('utf-8', 'replace')}", data=True
            )
            try:
                verdict = read_verdict(payload)
            except AuthorizerError:
                return self.gateway.error(call, "AUTHORIZER_CONFIGURATION_ERROR", None, 500)
            if ttl:
                self.gateway.authorizer_cache.put(key, verdict, self.clock.now() + ttl)
        allowed, explicit = allows(verdict.policy, call.method_arn())
        if not allowed:  # AWS words this one default response with a capital "Message"
            message = "User is not authorized to access this resource"
            return self.gateway.error(
                call,
                "ACCESS_DENIED",
                message + (" with an explicit deny" if explicit else ""),
                field="Message",
            )
        call.note("Successfully completed authorizer execution")
        context = {k: _context_value(v) for k, v in verdict.context.items()}
        call.context["authorizer"] = {"principalId": verdict.principal_id, **context}
        call.authorizer = {
            **verdict.context,
            "principalId": verdict.principal_id,
            "integrationLatency": int((time.perf_counter() - started) * 1000),
        }
        call.usage_key = verdict.usage_key
        return None

    def _authorizer_event(self, call: Call, authorizer: dict[str, Any], values: list[str]) -> dict[str, Any]:
        if authorizer["type"] == "TOKEN":
            return {"type": "TOKEN", "methodArn": call.method_arn(), "authorizationToken": values[0]}
        event = call.proxy_event()
        return {
            "type": "REQUEST",
            "methodArn": call.method_arn(),
            "resource": event["resource"],
            "path": event["path"],
            "httpMethod": event["httpMethod"],
            "headers": event["headers"],
            "multiValueHeaders": event["multiValueHeaders"],
            "queryStringParameters": event["queryStringParameters"],
            "multiValueQueryStringParameters": event["multiValueQueryStringParameters"],
            "pathParameters": event["pathParameters"],
            "stageVariables": event["stageVariables"],
            "requestContext": event["requestContext"],
        }

    async def cognito(self, call: Call) -> HttpResponse | None:
        authorizer = (call.deployed.snapshot.get("authorizers") or {}).get(
            call.method.get("authorizerId") or ""
        )
        if authorizer is None:
            return self.gateway.error(call, "AUTHORIZER_CONFIGURATION_ERROR", None, 500)
        values = self._identity_values(call, authorizer.get("identitySource"))
        if not values:
            return self.gateway.error(call, "UNAUTHORIZED", "Unauthorized")
        pools = [arn.rsplit("/", 1)[-1] for arn in authorizer.get("providerARNs") or []]
        scopes = call.method.get("authorizationScopes") or []
        try:
            token = jwts.parse(values[0])
            issuer = str(token.claims.get("iss", ""))
            if not any(issuer.rstrip("/").endswith("/" + pool) for pool in pools):
                raise jwts.InvalidToken("the token's issuer is none of the authorizer's user pools")
            jwts.verify_signature(token, await self.jwks_of(issuer))
            jwts.check_claims(token, self.clock.now())
            use = token.claims.get("token_use")
            if scopes:
                granted = str(token.claims.get("scope", "")).split()
                if use != "access" or not set(granted) & set(scopes):
                    raise jwts.InvalidToken("the token grants none of the method's scopes")
            elif use not in (None, "id"):
                raise jwts.InvalidToken("an ID token is required")
        except jwts.InvalidToken:
            return self.gateway.error(call, "UNAUTHORIZED", "Unauthorized")
        claims = {k: _context_value(v) for k, v in token.claims.items()}
        call.context["authorizer"] = {"claims": claims}
        call.authorizer = {"claims": claims}
        return None

    async def jwks_of(self, issuer: str) -> dict[str, Any]:
        """The issuer's JWKS (`<issuer>/.well-known/jwks.json`), cached for an hour."""
        from overcast.services.apigateway.gateway import fetch_jwks

        return await fetch_jwks(
            self.gateway.jwks, issuer.rstrip("/") + "/.well-known/jwks.json", self.clock.now()
        )


def _context_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
