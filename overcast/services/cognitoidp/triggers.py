"""Lambda triggers: the events Cognito sends (AWS's shapes, by trigger source) and what their answers mean.

A trigger runs through `Platform.call("lambda", "Invoke", RequestResponse)` as the cognito-idp.amazonaws.com
service principal with aws:SourceArn = the pool's ARN, so the function's resource policy decides under
`--iam enforce`, as in AWS. A function that raises gives UserLambdaValidationException ("<Trigger> failed with
error <message>."); one that cannot be invoked gives UnexpectedLambdaException.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from overcast.errors import ServiceError
from overcast.identity import service_principal
from overcast.services.cognitoidp.store import Pool, User
from overcast.services.kit.arns import parse_arn

if TYPE_CHECKING:
    from overcast.services.cognitoidp.provider import CognitoIdpProvider


def user_attributes(user: User) -> dict[str, str]:
    """userAttributes as triggers see them: sub, cognito:user_status (and email_verified...) included."""
    attributes = {"sub": user.sub, **user.attributes}
    attributes["cognito:user_status"] = user.status
    return attributes


def trigger_arn(pool: Pool, name: str) -> str | None:
    config = pool.config.get("LambdaConfig") or {}
    if name == "PreTokenGeneration":
        return (config.get("PreTokenGenerationConfig") or {}).get("LambdaArn") or config.get(
            "PreTokenGeneration"
        )
    return config.get(name)


def pre_token_version(pool: Pool) -> str:
    """The pre token generation event version: "1" unless PreTokenGenerationConfig says V2_0 or V3_0."""
    config = (pool.config.get("LambdaConfig") or {}).get("PreTokenGenerationConfig") or {}
    return {"V2_0": "2", "V3_0": "3"}.get(config.get("LambdaVersion", "V1_0"), "1")


class Triggers:
    def __init__(self, provider: CognitoIdpProvider) -> None:
        self.provider = provider
        self.platform = provider.platform

    def configured(self, pool: Pool, name: str) -> bool:
        return trigger_arn(pool, name) is not None

    async def run(
        self,
        pool: Pool,
        name: str,
        source: str,
        username: str,
        client_id: str | None,
        request: dict[str, Any],
        response: dict[str, Any] | None = None,
        *,
        version: str = "1",
    ) -> dict[str, Any] | None:
        """The trigger's `response` object, or None when the pool has no such trigger."""
        arn = trigger_arn(pool, name)
        if arn is None:
            return None
        event = {
            "version": version,
            "region": pool.region,
            "userPoolId": pool.id,
            "userName": username,
            "callerContext": {
                "awsSdkVersion": "aws-sdk-unknown-unknown",
                "clientId": client_id or "CLIENT_ID_NOT_APPLICABLE",
            },
            "triggerSource": source,
            "request": request,
            "response": response if response is not None else {},
        }
        parsed = parse_arn(arn)
        try:
            answer = await self.platform.call(
                "lambda",
                "Invoke",
                {
                    "FunctionName": arn,
                    "InvocationType": "RequestResponse",
                    "Payload": json.dumps(event).encode(),
                },
                principal=service_principal("cognito-idp.amazonaws.com", pool.account),
                account_id=parsed.account if parsed else pool.account,
                region=parsed.region if parsed else pool.region,
                condition_keys={"aws:SourceArn": pool.arn, "aws:SourceAccount": pool.account},
            )
        except ServiceError as error:
            raise ServiceError(
                "UnexpectedLambdaException", f"{name} invocation failed due to error {error.code}.", 400
            ) from None
        payload = answer.get("Payload") or b""
        body = (
            payload
            if isinstance(payload, bytes | bytearray)
            else b"".join([chunk async for chunk in payload])
        )
        try:
            result = json.loads(body or b"null")
        except ValueError:
            result = None
        if answer.get("FunctionError"):
            message = result.get("errorMessage", "") if isinstance(result, dict) else str(result)
            raise ServiceError("UserLambdaValidationException", f"{name} failed with error {message}.", 400)
        if not isinstance(result, dict) or not isinstance(result.get("response", {}), dict):
            raise ServiceError("InvalidLambdaResponseException", f"Invalid {name} Lambda response", 400)
        return result.get("response") or {}

    async def custom_message(
        self, pool: Pool, user: User, source: str, client_id: str | None, metadata: dict[str, str] | None
    ) -> dict[str, Any] | None:
        """A CustomMessage trigger's {smsMessage, emailMessage, emailSubject}, or None."""
        request: dict[str, Any] = {
            "userAttributes": user_attributes(user),
            "codeParameter": "{####}",
            "linkParameter": "{##Click Here##}",
            "usernameParameter": "{username}" if source == "CustomMessage_AdminCreateUser" else None,
            "clientMetadata": metadata or {},
        }
        return await self.run(
            pool,
            "CustomMessage",
            source,
            user.username,
            client_id,
            request,
            {"smsMessage": None, "emailMessage": None, "emailSubject": None},
        )
