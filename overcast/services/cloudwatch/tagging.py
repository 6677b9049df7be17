"""Tags of alarms and dashboards."""

from __future__ import annotations

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.kit.arns import parse_arn
from overcast.services.kit.tags import ArnTagOperations


class TagOperations(ArnTagOperations, Operations):
    def tagged_arn(self, ctx: RequestContext, arn: str) -> str:
        parsed = parse_arn(arn)
        store = self.service.store
        if parsed is not None and parsed.service == "cloudwatch":
            if parsed.resource.startswith("alarm:"):
                if store.alarm(parsed.account, parsed.region, parsed.resource[len("alarm:") :]) is not None:
                    return arn
            elif parsed.resource.startswith("dashboard/"):
                if store.dashboard(parsed.account, parsed.resource[len("dashboard/") :]) is not None:
                    return arn
            else:
                raise ServiceError("InvalidParameterValue", f"Invalid ARN: {arn}", 400)
        elif parsed is None:
            raise ServiceError("InvalidParameterValue", f"Invalid ARN: {arn}", 400)
        raise ServiceError("ResourceNotFoundException", "Resource not found", 404)
