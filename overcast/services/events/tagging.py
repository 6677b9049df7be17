"""Tags of rules and event buses."""

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
        """`arn` if it names a rule or bus that exists; AWS's ResourceNotFoundException otherwise."""
        parsed = parse_arn(arn)
        store = self.service.store
        if parsed is not None and parsed.service == "events":
            if parsed.resource_type == "event-bus":
                if self.service.bus(parsed.account, parsed.region, parsed.resource_id) is not None:
                    return arn
                raise ServiceError(
                    "ResourceNotFoundException", f"Event bus {parsed.resource_id} does not exist.", 400
                )
            if parsed.resource_type == "rule":
                bus, _, name = parsed.resource_id.rpartition("/")
                bus = bus or "default"
                if store.rule(parsed.account, parsed.region, bus, name) is not None:
                    return arn
                raise ServiceError(
                    "ResourceNotFoundException", f"Rule {name} does not exist on EventBus {bus}.", 400
                )
        raise ServiceError("ResourceNotFoundException", f"Resource {arn} does not exist.", 400)
