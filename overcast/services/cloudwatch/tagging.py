"""Tags of alarms and dashboards."""

from __future__ import annotations

from typing import Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.kit.arns import parse_arn
from overcast.services.kit.tags import tag_dict, tag_list


class TagOperations(Operations):
    def tag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = self._existing(params["ResourceARN"])
        self.service.tags.add(arn, tag_dict(params["Tags"]), account=ctx.account_id, region=ctx.region)
        return {}

    def untag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.service.tags.remove(self._existing(params["ResourceARN"]), params["TagKeys"])
        return {}

    def list_tags_for_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"Tags": tag_list(self.service.tags.get(self._existing(params["ResourceARN"])))}

    def _existing(self, arn: str) -> str:
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
