"""Tags of rules and event buses."""

from __future__ import annotations

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.kit.arns import parse_arn
from overcast.services.kit.tags import ArnTagOperations


class TagOperations(ArnTagOperations, Operations):
    def tagged_arn(self, ctx: RequestContext, arn: str) -> str:
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
