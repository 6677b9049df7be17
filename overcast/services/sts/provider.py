"""STS: who am I. (AssumeRole and the other credential operations come with the IAM work.)"""

from __future__ import annotations

from typing import Any

from overcast.services.base import RequestContext, ServiceProvider


class StsProvider(ServiceProvider):
    service_name = "sts"

    def get_caller_identity(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        principal = ctx.principal
        return {"UserId": principal.user_id, "Account": principal.account_id, "Arn": principal.arn}
