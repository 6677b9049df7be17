"""Spot Instance requests as records with AWS's states: a request is fulfilled at once (there is no market
here: the price asked is always enough) by launching instances whose lifecycle is `spot`; cancelling leaves
them running; a one-time request closes when its instance is terminated."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.services.base import Operations
from overcast.services.ec2 import kinds
from overcast.services.ec2.filters import tag_specifications
from overcast.services.ec2.ids import new_id
from overcast.services.ec2.store import Resource

if TYPE_CHECKING:
    from overcast.services.ec2.provider import Ec2Provider

FILTERS = {
    "spot-instance-request-id": "SpotInstanceRequestId",
    "state": "State",
    "status-code": "Status.Code",
    "instance-id": "InstanceId",
    "type": "Type",
    "launched-availability-zone": "LaunchedAvailabilityZone",
    "launch.instance-type": "LaunchSpecification.InstanceType",
    "launch.image-id": "LaunchSpecification.ImageId",
}
ON_DEMAND_CEILING = "0.0104"  # t3.micro's On-Demand price in us-east-1: the default maximum price shown


class SpotOperations(Operations):
    service: Ec2Provider

    def request_spot_instances(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        spec = dict(params.get("LaunchSpecification") or {})
        count = params.get("InstanceCount") or 1
        run = {k: v for k, v in spec.items() if k not in ("AddressingType", "SecurityGroups")}
        if spec.get("SecurityGroups"):
            run["SecurityGroups"] = spec["SecurityGroups"]
        run.update(MinCount=count, MaxCount=count)
        requests = []
        for _ in range(count):
            request_id = new_id("sir")
            launched = self.service.instances.run_instances(ctx, {**run, "MinCount": 1, "MaxCount": 1,
                                                                  "_spot_request": request_id})["Instances"][0]  # fmt: skip
            now = round(self.service.clock.now(), 3)
            body = {
                "SpotInstanceRequestId": request_id,
                "SpotPrice": params.get("SpotPrice") or ON_DEMAND_CEILING,
                "Type": params.get("Type") or "one-time",
                "State": "active",
                "Status": {
                    "Code": "fulfilled",
                    "Message": "Your spot request is fulfilled.",
                    "UpdateTime": now,
                },
                "LaunchSpecification": {k: v for k, v in spec.items() if k != "UserData"},
                "InstanceId": launched["InstanceId"],
                "CreateTime": now,
                "ProductDescription": "Linux/UNIX",
                "LaunchedAvailabilityZone": launched["Placement"]["AvailabilityZone"],
                "LaunchedAvailabilityZoneId": launched["Placement"]["AvailabilityZoneId"],
                "InstanceInterruptionBehavior": params.get("InstanceInterruptionBehavior") or "terminate",
            }
            request = self.service.store.insert(Resource(request_id, ctx.account_id, ctx.region,
                                                         kinds.SPOT_REQUEST.name, body, parent_id=launched["InstanceId"]))  # fmt: skip
            self.service.net.tag(request, tag_specifications(params, "spot-instances-request"))
            requests.append(request)
        return {"SpotInstanceRequests": self.service.net.render_many(requests)}

    def describe_spot_instance_requests(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self.service.net.describe(ctx, params, kinds.SPOT_REQUEST, params.get("SpotInstanceRequestIds"),
                                         FILTERS, "SpotInstanceRequests")  # fmt: skip

    def cancel_spot_instance_requests(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        cancelled = []
        for request in self.service.net.require_all(
            ctx, kinds.SPOT_REQUEST, params["SpotInstanceRequestIds"]
        ):
            if request.body["State"] in ("open", "active"):
                running = request.body["State"] == "active"
                request.body["State"] = "cancelled"
                request.body["Status"] = {
                    "Code": "request-canceled-and-instance-running" if running else "canceled-before-fulfillment",
                    "Message": "Spot Instance termination notice: the request was canceled but the instance is "
                               "still running." if running else "Your Spot request is canceled before it was "
                                                                "fulfilled.",
                    "UpdateTime": round(self.service.clock.now(), 3),
                }  # fmt: skip
                self.service.store.save(request)
            cancelled.append({"SpotInstanceRequestId": request.id, "State": request.body["State"]})
        return {"CancelledSpotInstanceRequests": cancelled}

    def instance_terminated(self, instance: Resource) -> None:
        """A one-time request whose instance is terminated closes."""
        for request in self.service.store.children(instance.id, kinds.SPOT_REQUEST.name):
            if request.body["State"] == "active":
                request.body["State"] = "closed"
            request.body["Status"] = {
                "Code": "instance-terminated-by-user",
                "Message": "Spot Instance terminated due to user-initiated termination.",
                "UpdateTime": round(self.service.clock.now(), 3),
            }
            self.service.store.save(request)
