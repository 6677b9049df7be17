"""Sessions of users and roots themselves: GetSessionToken (optionally MFA-authenticated) and
GetFederationToken (a federated user narrowed by session policies)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.policy.enforcement import request_tags
from overcast.services.base import Operations

if TYPE_CHECKING:
    from overcast.services.sts.provider import StsProvider

# A federated user without session policies may do nothing.
DENY_ALL = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}
)


class SessionTokenOperations(Operations):
    service: StsProvider

    def get_session_token(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        caller = ctx.principal
        if caller.kind not in ("user", "root"):
            raise ServiceError("AccessDenied", "Cannot call GetSessionToken with session credentials", 403)
        limit = 3600 if caller.kind == "root" else 129600
        duration = params.get("DurationSeconds") or (3600 if caller.kind == "root" else 43200)
        duration = min(duration, limit)  # AWS silently caps a root session at one hour
        mfa = self.service.mfa_present(ctx, params)
        attributes = dict(caller.attributes, mfa=mfa, issued_at=self.clock.now(), session_token=True)
        session = {
            "account": caller.account_id,
            "arn": caller.arn,
            "user_id": caller.user_id,
            "kind": caller.kind,
            "attributes": attributes,
        }
        return {"Credentials": self.service.issue(session, duration)}

    def get_federation_token(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        caller = ctx.principal
        if caller.kind not in ("user", "root"):
            raise ServiceError("AccessDenied", "Cannot call GetFederationToken with session credentials", 403)
        name = params["Name"]
        duration = min(params.get("DurationSeconds") or 43200, 3600 if caller.kind == "root" else 129600)
        policies = self.service.session_policies(ctx, params)
        arn = f"arn:aws:sts::{caller.account_id}:federated-user/{name}"
        session = {
            "account": caller.account_id,
            "arn": arn,
            "user_id": f"{caller.account_id}:{name}",
            "kind": "federated-user",
            "attributes": {
                "session_policies": policies or [DENY_ALL],
                "issued_at": self.clock.now(),
                "tags": request_tags(params),
                "parent": caller.arn,
            },
        }
        return {
            "Credentials": self.service.issue(session, duration),
            "FederatedUser": {"FederatedUserId": session["user_id"], "Arn": arn},
            "PackedPolicySize": 0,
        }
