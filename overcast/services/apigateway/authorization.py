"""What an authorizer decides, and the caches that keep its decisions.

A Lambda authorizer answers `{principalId, policyDocument, context, usageIdentifierKey}`; the policy is
evaluated for `execute-api:Invoke` on the method's ARN with the policy engine's statement matching (an
explicit Deny wins, no Allow denies). Its result is cached by the identity source's values for
`authorizerResultTtlInSeconds` on the virtual clock, and a cached policy is evaluated again for each method
it is asked about, as AWS does. JWKS documents are cached by URL.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from overcast.identity import ANONYMOUS
from overcast.policy import document as policy_doc
from overcast.policy.evaluate import Request, outcome


class AuthorizerError(Exception):
    """The authorizer itself failed or answered something unusable (AWS: 500 AuthorizerConfigurationException)."""


@dataclass
class Verdict:
    """A Lambda authorizer's answer, as cached."""

    principal_id: str
    policy: policy_doc.Policy
    context: dict[str, Any] = field(default_factory=dict)
    usage_key: str | None = None


def read_verdict(payload: bytes) -> Verdict:
    """The authorizer's output; AuthorizerError when it is not the documented shape."""
    try:
        answer = json.loads(payload)
    except ValueError:
        raise AuthorizerError("the authorizer's output is not JSON") from None
    if not isinstance(answer, dict) or not isinstance(answer.get("policyDocument"), dict):
        raise AuthorizerError("the authorizer's output has no policyDocument")
    if "principalId" not in answer:
        raise AuthorizerError("the authorizer's output has no principalId")
    policy = policy_doc.parse(json.dumps(answer["policyDocument"]), policy_doc.IDENTITY)
    if policy is None:
        raise AuthorizerError("the authorizer's policyDocument is not a valid policy")
    context = answer.get("context") or {}
    if not isinstance(context, dict) or any(isinstance(v, (dict, list)) for v in context.values()):
        raise AuthorizerError("the authorizer's context must map keys to strings, numbers or booleans")
    return Verdict(str(answer["principalId"]), policy, context, answer.get("usageIdentifierKey"))


def allows(policy: policy_doc.Policy, method_arn: str) -> tuple[bool, bool]:
    """(allowed, explicitly denied) for execute-api:Invoke on `method_arn`."""
    found = outcome([policy], Request(ANONYMOUS, "execute-api:Invoke", method_arn, {}))
    if found.denied:
        return False, True
    return bool(found.allowed), False


class TtlCache:
    """Bounded entries that expire at a moment of the virtual clock (authorizer results, JWKS, responses)."""

    def __init__(self, limit: int = 2048) -> None:
        self.limit = limit
        self.entries: OrderedDict[tuple, tuple[float, Any]] = OrderedDict()

    def get(self, key: tuple, now: float) -> Any:
        found = self.entries.get(key)
        if found is None:
            return None
        expires, value = found
        if now >= expires:
            del self.entries[key]
            return None
        self.entries.move_to_end(key)
        return value

    def put(self, key: tuple, value: Any, expires: float) -> None:
        self.entries[key] = (expires, value)
        self.entries.move_to_end(key)
        while len(self.entries) > self.limit:
            self.entries.popitem(last=False)

    def flush(self, *prefix: str) -> None:
        """Drop the entries whose key starts with `prefix` (an API and stage)."""
        for key in [k for k in self.entries if k[: len(prefix)] == prefix]:
            del self.entries[key]

    def clear(self) -> None:
        self.entries.clear()
