"""Flow logs: their configuration (what is logged, where to, with which role); no traffic records are written."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.ec2 import kinds
from overcast.services.ec2.errors import invalid
from overcast.services.ec2.filters import tag_specifications
from overcast.services.ec2.ids import new_id
from overcast.services.ec2.store import Resource

if TYPE_CHECKING:
    from overcast.services.ec2.provider import Ec2Provider

DEFAULT_FORMAT = (
    "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} "
    "${packets} ${bytes} ${start} ${end} ${action} ${log-status}"
)
RESOURCE_KINDS = {
    "VPC": kinds.VPC,
    "Subnet": kinds.SUBNET,
    "NetworkInterface": kinds.NETWORK_INTERFACE,
    "TransitGateway": kinds.TRANSIT_GATEWAY,
    "TransitGatewayAttachment": kinds.TGW_ATTACHMENT,
}
FILTERS = {
    "deliver-log-status": "DeliverLogsStatus",
    "log-destination-type": "LogDestinationType",
    "flow-log-id": "FlowLogId",
    "log-group-name": "LogGroupName",
    "resource-id": "ResourceId",
    "traffic-type": "TrafficType",
}


class FlowLogOperations(Operations):
    service: Ec2Provider

    def create_flow_logs(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net, store = self.service.net, self.service.store
        kind = RESOURCE_KINDS[params["ResourceType"]]
        destination_type = params.get("LogDestinationType") or "cloud-watch-logs"
        destination = params.get("LogDestination")
        group = params.get("LogGroupName")
        role = params.get("DeliverLogsPermissionArn")
        if destination_type == "cloud-watch-logs":
            if not (group or destination):
                raise invalid("LogDestination or LogGroupName must be specified for cloud-watch-logs.")
            if not role:
                raise invalid("DeliverLogsPermissionArn must be specified for cloud-watch-logs.")
            group = group or destination.rsplit(":log-group:", 1)[-1].removesuffix(":*")
            destination = destination or f"arn:aws:logs:{ctx.region}:{ctx.account_id}:log-group:{group}"
        elif not destination:
            raise ServiceError("MissingParameter", "The request must contain the parameter LogDestination")
        traffic = params.get("TrafficType") or "ALL"
        ids, unsuccessful = [], []
        for resource_id in params["ResourceIds"]:
            resource = net.find(ctx, kind, resource_id)
            if resource is None:
                error = kind.not_found([resource_id])
                unsuccessful.append(
                    {"Error": {"Code": error.code, "Message": error.message}, "ResourceId": resource_id}
                )
                continue
            if any(
                f.body["ResourceId"] == resource_id
                and f.body["TrafficType"] == traffic
                and f.body.get("LogDestination") == destination
                for f in store.children(resource_id, kinds.FLOW_LOG.name)
            ):
                unsuccessful.append({
                    "Error": {"Code": "FlowLogAlreadyExists",
                              "Message": "Error. There is an existing Flow Log with the same configuration and log destination."},
                    "ResourceId": resource_id,
                })  # fmt: skip
                continue
            flow_id = new_id("fl")
            body: dict[str, Any] = {
                "CreationTime": round(self.clock.now(), 3),
                "DeliverLogsStatus": "SUCCESS",
                "FlowLogId": flow_id,
                "FlowLogStatus": "ACTIVE",
                "ResourceId": resource_id,
                "TrafficType": traffic,
                "LogDestinationType": destination_type,
                "LogDestination": destination,
                "LogFormat": params.get("LogFormat") or DEFAULT_FORMAT,
                "MaxAggregationInterval": params.get("MaxAggregationInterval") or 600,
            }
            if group:
                body["LogGroupName"] = group
            if role:
                body["DeliverLogsPermissionArn"] = role
            if params.get("DestinationOptions"):
                body["DestinationOptions"] = params["DestinationOptions"]
            flow = store.insert(
                Resource(flow_id, ctx.account_id, ctx.region, kinds.FLOW_LOG.name, body, vpc_id=resource.vpc_id,
                         parent_id=resource_id)
            )  # fmt: skip
            net.tag(flow, tag_specifications(params, "vpc-flow-log"))
            ids.append(flow_id)
        result: dict[str, Any] = {"FlowLogIds": ids, "Unsuccessful": unsuccessful}
        if params.get("ClientToken"):
            result["ClientToken"] = params["ClientToken"]
        return result

    def describe_flow_logs(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        query = {**params, "Filters": params.get("Filter") or []}
        return self.service.net.describe(
            ctx, query, kinds.FLOW_LOG, params.get("FlowLogIds"), FILTERS, "FlowLogs"
        )

    def delete_flow_logs(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net = self.service.net
        unsuccessful = []
        for flow_id in params["FlowLogIds"]:
            flow = net.find(ctx, kinds.FLOW_LOG, flow_id)
            if flow is None:
                unsuccessful.append({
                    "Error": {"Code": "InvalidFlowLogId.NotFound", "Message": f"Flow log {flow_id} does not exist"},
                    "ResourceId": flow_id,
                })  # fmt: skip
                continue
            net.forget(flow)
        return {"Unsuccessful": unsuccessful}
