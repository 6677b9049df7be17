"""What every layer knows about the call in hand: `RequestContext`.

It lives at the ground level (beside `http.py`, `identity.py` and `errors.py`) so that the policy layer, the
platform and the services share it without importing one another.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from overcast.http import HttpRequest
from overcast.identity import Principal


@dataclass
class RequestContext:
    service: str  # botocore service name
    operation: str  # operation name as in the model (SendMessage)
    account_id: str
    region: str
    principal: Principal
    request_id: str
    request: HttpRequest | None = None  # None for internal calls between services
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def partition(self) -> str:
        return "aws"

    def arn(
        self, service: str, resource: str, *, region: str | None = None, account: str | None = None
    ) -> str:
        region = self.region if region is None else region
        account = self.account_id if account is None else account
        return f"arn:aws:{service}:{region}:{account}:{resource}"
