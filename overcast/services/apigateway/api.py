"""What API Gateway's REST API package shares with its siblings (HTTP and WebSocket APIs, apigatewayv2):
the pure logic both API generations run on, so it exists once.

    import overcast.services.apigateway.api as rest

    rest.proxy.event_v2(...), rest.proxy.response_v2(payload)      # the Lambda proxy contract
    rest.jwt.parse(token), rest.jwt.verify_signature(...)          # JWT authorizers
    await rest.fetch_jwks(cache, url, now)                         # an issuer's keys, cached
    rest.vtl.render(template, ...)                                 # mapping templates (WebSocket APIs)
    rest.body_problem(schema, body)                                # a body against a model's JSON schema
    await rest.aws_action(platform, uri, method, body, ...)         # an AWS integration's action
    rest.TtlCache(), rest.read_verdict(payload), rest.allows(...)  # authorizer results
    await rest.write_log(platform, group_or_arn, stream, lines, account=..., region=...)  # CloudWatch Logs
    refused = rest.use_api_key(platform, account, region, api_id, stage, key)  # usage plans (WebSocket APIs)
    rest.metrics.count_request(counters, ...), rest.metrics.published(...)  # AWS/ApiGateway metrics
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from overcast.services.apigateway import jwt, metrics, proxy, vtl
from overcast.services.apigateway.authorization import AuthorizerError, TtlCache, allows, read_verdict
from overcast.services.apigateway.cloudwatch import write_log
from overcast.services.apigateway.gateway import extended_id, fetch_jwks
from overcast.services.apigateway.integrations import aws_action, lambda_arn, with_stage_variables
from overcast.services.apigateway.models import body_problem

if TYPE_CHECKING:
    from overcast.platform import Platform


def use_api_key(
    platform: Platform, account: str, region: str, api_id: str, stage: str, key: str
) -> str | None:
    """An API key's use of a stage under its usage plan (throttle and quota on the clock): None when
    allowed, else the refusal's message (`Forbidden`, `Too Many Requests`, `Limit Exceeded`)."""
    gateway = platform.provider("apigateway").gateway  # type: ignore[attr-defined]
    with platform.db.transaction():
        verdict = gateway.use_key(account, region, api_id, stage, key, platform.clock.now())
    return verdict[1] if isinstance(verdict, tuple) else None


__all__ = [
    "AuthorizerError",
    "TtlCache",
    "allows",
    "use_api_key",
    "aws_action",
    "body_problem",
    "extended_id",
    "fetch_jwks",
    "jwt",
    "lambda_arn",
    "metrics",
    "proxy",
    "read_verdict",
    "vtl",
    "with_stage_variables",
    "write_log",
]
