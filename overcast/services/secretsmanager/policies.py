"""Resource policies on secrets: Put/Get/Delete/ValidateResourcePolicy, with Block Public Policy."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.policy import document as policy_doc
from overcast.services.base import Operations

if TYPE_CHECKING:
    from overcast.services.secretsmanager.provider import SecretsManagerProvider

MAX_POLICY_BYTES = 20480
DEFAULT = "default"


def _problems(text: str) -> list[dict[str, str]]:
    """ValidateResourcePolicy's ValidationErrors for a policy (none when it is valid)."""
    if len(text.encode()) > MAX_POLICY_BYTES:
        return [{"CheckName": "POLICY_SIZE", "ErrorMessage": "The policy exceeds the maximum size."}]
    try:
        policy_doc.validate(text, policy_doc.RESOURCE)
    except ServiceError as error:
        return [{"CheckName": "SYNTAX", "ErrorMessage": error.message}]
    return []


def grants_public_access(text: str) -> bool:
    """A statement allowing everyone (Principal "*" or {"AWS": "*"}) with no condition to narrow it."""
    statements = json.loads(text).get("Statement")
    for statement in statements if isinstance(statements, list) else [statements]:
        principal = statement.get("Principal")
        everyone = principal == "*" or (isinstance(principal, dict) and "*" in _as_list(principal.get("AWS")))
        if statement.get("Effect") == "Allow" and everyone and not statement.get("Condition"):
            return True
    return False


def _policy_name(params: dict[str, Any]) -> str:
    """Only the policy named `default` can be attached (the parameter names it explicitly or not at all)."""
    name = params.get("PolicyName") or DEFAULT
    if name != DEFAULT:
        raise ServiceError(
            "InvalidParameterException", "You can only attach the default policy; PolicyName must be default."
        )
    return name


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


class PolicyOperations(Operations):
    service: SecretsManagerProvider

    def put_resource_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = _policy_name(params)
        secret = self.service.secret_of(ctx, params["SecretId"], change=True)
        text = params["ResourcePolicy"]
        problems = _problems(text)
        if problems:
            raise ServiceError("MalformedPolicyDocumentException", problems[0]["ErrorMessage"])
        if params.get("BlockPublicPolicy", True) and grants_public_access(text):
            raise ServiceError(
                "PublicPolicyException",
                "This resource policy contains a statement that grants public access.",
            )
        secret.policy = text
        self.service.store.put_secret(secret)
        self.service.changed(ctx, secret)
        return {"ARN": secret.arn, "Name": secret.name, "PolicyName": name}

    def get_resource_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = _policy_name(params)
        secret = self.service.secret_of(ctx, params["SecretId"])
        result: dict[str, Any] = {"ARN": secret.arn, "Name": secret.name}
        if secret.policy:
            result["ResourcePolicy"] = secret.policy
            result["PolicyName"] = name
        return result

    def list_resource_policies(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        secret = self.service.secret_of(ctx, params["SecretId"])
        return {"ResourcePolicies": [{"PolicyName": DEFAULT}] if secret.policy else []}

    def delete_resource_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = _policy_name(params)
        secret = self.service.secret_of(ctx, params["SecretId"], change=True)
        secret.policy = None
        self.service.store.put_secret(secret)
        self.service.changed(ctx, secret)
        return {"ARN": secret.arn, "Name": secret.name, "PolicyName": name}

    def validate_resource_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("SecretId"):
            self.service.secret_of(ctx, params["SecretId"])
        problems = _problems(params["ResourcePolicy"])
        return {"PolicyValidationPassed": not problems, "ValidationErrors": problems}
