"""Destinations: a Kinesis stream or Firehose delivery stream that log groups of other accounts may subscribe
to (PutDestination, PutDestinationPolicy, DescribeDestinations, DeleteDestination). A subscription filter
naming a destination is allowed by its access policy (logs:PutSubscriptionFilter for the subscribing
account), and its events go to the destination's target as the destination's owner."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.identity import Principal
from overcast.policy import document as policy_doc
from overcast.policy.enforcement import build_context
from overcast.policy.evaluate import Policies, Request, evaluate
from overcast.services.base import Operations
from overcast.services.kit.arns import parse_arn
from overcast.services.kit.paging import page_of
from overcast.services.logs.common import invalid, not_found, token_position
from overcast.services.logs.store import Destination

if TYPE_CHECKING:
    from overcast.services.logs.provider import LogsProvider

MISSING = "The specified destination does not exist."


def describe(destination: Destination) -> dict[str, Any]:
    described: dict[str, Any] = {
        "destinationName": destination.name,
        "targetArn": destination.target_arn,
        "roleArn": destination.role_arn,
    }
    if destination.access_policy:
        described["accessPolicy"] = destination.access_policy
    described["arn"] = destination.arn
    described["creationTime"] = destination.created_at
    return described


class DestinationOperations(Operations):
    service: LogsProvider

    def put_destination(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        target = parse_arn(params["targetArn"])
        if target is None or target.service not in ("kinesis", "firehose"):
            raise invalid(
                "Invalid target ARN: the target must be a Kinesis stream or a Firehose delivery stream."
            )
        store = self.service.store
        name = params["destinationName"]
        store.put_destination(
            ctx.account_id, ctx.region, name, params["targetArn"], params["roleArn"], self.service.now_ms()
        )
        destination = store.destination(ctx.account_id, ctx.region, name)
        assert destination is not None
        return {"destination": describe(destination)}

    def put_destination_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        store = self.service.store
        if store.destination(ctx.account_id, ctx.region, params["destinationName"]) is None:
            raise not_found(MISSING)
        try:
            json.loads(params["accessPolicy"])
        except ValueError:
            raise invalid("Invalid policy document: not valid JSON.") from None
        store.set_destination_policy(
            ctx.account_id, ctx.region, params["destinationName"], params["accessPolicy"]
        )
        return {}

    def describe_destinations(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = params.get("limit") or 50
        position = token_position(params, "DescribeDestinations", str)
        found = self.service.store.destinations(
            ctx.account_id,
            ctx.region,
            params.get("DestinationNamePrefix") or "",
            position[0] if position else "",
            limit + 1,
        )
        shown, token = page_of(found, limit, lambda d: [d.name], "DescribeDestinations")
        result: dict[str, Any] = {"destinations": [describe(d) for d in shown]}
        if token:
            result["nextToken"] = token
        return result

    def delete_destination(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        if not self.service.store.delete_destination(ctx.account_id, ctx.region, params["destinationName"]):
            raise not_found(MISSING)
        return {}


def check_subscription(service: LogsProvider, ctx: RequestContext, arn: str) -> None:
    """A subscription filter may name a destination that exists and, in another account, whose access policy
    lets the subscribing account call logs:PutSubscriptionFilter on it."""
    parsed = parse_arn(arn)
    if parsed is None or parsed.service != "logs" or parsed.resource_type != "destination":
        return
    destination = service.store.destination(parsed.account, parsed.region, parsed.resource_id)
    if destination is None:
        raise not_found(MISSING)
    if destination.account == ctx.account_id:
        return
    policy = (
        policy_doc.parse(destination.access_policy, policy_doc.RESOURCE)
        if destination.access_policy
        else None
    )
    caller = Principal(ctx.account_id, f"arn:aws:iam::{ctx.account_id}:root", ctx.account_id, "root")
    request = Request(
        caller, "logs:PutSubscriptionFilter", destination.arn, build_context(caller, service.clock.now())
    )
    if (
        policy is None
        or not evaluate(request, Policies(resource=policy, resource_account=destination.account)).allowed
    ):
        raise ServiceError(
            "AccessDeniedException",
            f"User with accountId: {ctx.account_id} is not authorized to perform: logs:PutSubscriptionFilter on "
            f"resource: {destination.arn}",
        )
