"""The Reachability Analyzer: paths (source, destination, protocol, port) and analyses of them. An analysis is
computed over the network as it is when it starts (`topology.verdict`), shows `running`, and turns `succeeded`
on the clock a moment later with its verdict: the path's components, or the explanation of what blocks it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.ec2 import kinds, topology
from overcast.services.ec2 import reachability as r
from overcast.services.ec2.errors import invalid
from overcast.services.ec2.filters import tag_specifications
from overcast.services.ec2.ids import new_id
from overcast.services.ec2.store import Resource
from overcast.services.ec2.workers import ANALYSIS_TIME
from overcast.services.kit.arns import parse_arn

if TYPE_CHECKING:
    from overcast.services.ec2.provider import Ec2Provider

# What a path may start or end at here (by id prefix): interfaces, instances, internet gateways, NAT gateways,
# endpoints. (AWS also takes peering connections, transit gateways and load balancers; they are not modelled.)
ENDS = ("eni", "i", "igw", "nat", "vpce")
PATH_FILTERS = {
    "destination": "Destination",
    "destination-port": "DestinationPort",
    "protocol": "Protocol",
    "source": "Source",
    "filter-at-source.source-address": "FilterAtSource.SourceAddress",
    "filter-at-source.destination-address": "FilterAtSource.DestinationAddress",
    "filter-at-destination.source-address": "FilterAtDestination.SourceAddress",
    "filter-at-destination.destination-address": "FilterAtDestination.DestinationAddress",
}
ANALYSIS_FILTERS = {"path-found": "NetworkPathFound", "status": "Status"}


class NetworkInsightsOperations(Operations):
    service: Ec2Provider

    # -- paths -----------------------------------------------------------------------------------------

    def create_network_insights_path(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net, store = self.service.net, self.service.store
        protocol = params["Protocol"]
        source, source_arn = self._end(ctx, params["Source"], "source")
        destination = destination_arn = None
        if params.get("Destination"):
            destination, destination_arn = self._end(ctx, params["Destination"], "destination")
        elif not params.get("DestinationIp"):
            raise ServiceError(
                "MissingParameter", "The request must contain the parameter destination or destinationIp"
            )
        port = params.get("DestinationPort")
        if port is not None and not 0 <= port <= 65535:
            raise invalid(f"Value ({port}) for parameter destinationPort is invalid.")
        path_id = new_id("nip")
        body: dict[str, Any] = {
            "NetworkInsightsPathId": path_id,
            "NetworkInsightsPathArn": kinds.INSIGHTS_PATH.arn(ctx.region, ctx.account_id, path_id),
            "CreatedDate": round(self.clock.now(), 3),
            "Source": source,
            "SourceArn": source_arn,
        }
        if destination:
            body.update(Destination=destination, DestinationArn=destination_arn)
        for key in ("SourceIp", "DestinationIp"):
            if params.get(key):
                body[key] = params[key]
        body["Protocol"] = protocol
        if port is not None:
            body["DestinationPort"] = port
        for key in ("FilterAtSource", "FilterAtDestination"):
            if params.get(key):
                body[key] = params[key]
        path = store.insert(Resource(path_id, ctx.account_id, ctx.region, kinds.INSIGHTS_PATH.name, body))
        net.tag(path, tag_specifications(params, "network-insights-path"))
        return {"NetworkInsightsPath": net.render(path)}

    def _end(self, ctx: RequestContext, given: str, role: str) -> tuple[str, str]:
        """The id and ARN of a path's source or destination, given by either."""
        parsed = parse_arn(given)
        resource_id = parsed.resource_id if parsed else given
        prefix = resource_id.rsplit("-", 1)[0]
        if prefix not in ENDS:
            raise invalid(f"The {role} {given} is not a supported resource type.")
        found = self.service.store.get(resource_id)
        if found is None or not self.service.net.visible(ctx, found):
            kind = kinds.kind_of(resource_id)
            if kind is not None:
                raise kind.not_found([resource_id])
            raise ServiceError(
                "InvalidInstanceID.NotFound", f"The instance ID '{resource_id}' does not exist"
            )
        arn = (
            topology.resource_arn(found)
            if prefix != "i"
            else kinds.INSTANCE.arn(ctx.region, ctx.account_id, resource_id)
        )
        return resource_id, arn

    def describe_network_insights_paths(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ids = params.get("NetworkInsightsPathIds")
        key = "NetworkInsightsPaths"
        return self.service.net.describe(ctx, params, kinds.INSIGHTS_PATH, ids, PATH_FILTERS, key)

    def delete_network_insights_path(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net = self.service.net
        path = net.require(ctx, kinds.INSIGHTS_PATH, params["NetworkInsightsPathId"])
        if self.service.store.children(path.id, kinds.INSIGHTS_ANALYSIS.name):
            raise ServiceError(
                "DependencyViolation",
                f"Network Insights Path {path.id} has dependent Network Insights Analyses.",
            )
        net.forget(path)
        return {"NetworkInsightsPathId": path.id}

    # -- analyses --------------------------------------------------------------------------------------

    def start_network_insights_analysis(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net, store = self.service.net, self.service.store
        path = net.require(ctx, kinds.INSIGHTS_PATH, params["NetworkInsightsPathId"])
        analysis_id = new_id("nia")
        body: dict[str, Any] = {
            "NetworkInsightsAnalysisId": analysis_id,
            "NetworkInsightsAnalysisArn": kinds.INSIGHTS_ANALYSIS.arn(
                ctx.region, ctx.account_id, analysis_id
            ),
            "NetworkInsightsPathId": path.id,
            "StartDate": round(self.clock.now(), 3),
            "Status": "running",
            "_result": self._analyze(path.body),
        }
        for key in ("FilterInArns", "AdditionalAccounts"):
            if params.get(key):
                body[key] = params[key]
        analysis = store.insert(
            Resource(
                analysis_id, ctx.account_id, ctx.region, kinds.INSIGHTS_ANALYSIS.name, body, parent_id=path.id
            )
        )
        net.tag(analysis, tag_specifications(params, "network-insights-analysis"))
        self.service.schedule(analysis.id, "analysis-done", ANALYSIS_TIME)
        return {"NetworkInsightsAnalysis": self._render(analysis)}

    def _analyze(self, path: dict[str, Any]) -> dict[str, Any]:
        """The verdict on a path as the network is now, in the members an analysis shows when it succeeds."""
        ports = path.get("FilterAtSource", {}).get("DestinationPortRange") or {}
        query = r.Query(
            source=path["Source"],
            destination=path.get("Destination"),
            protocol=path["Protocol"],
            port=path.get("DestinationPort", ports.get("FromPort")),
            source_ip=path.get("SourceIp") or path.get("FilterAtSource", {}).get("SourceAddress"),
            destination_ip=path.get("DestinationIp")
            or path.get("FilterAtSource", {}).get("DestinationAddress"),
        )
        try:
            verdict = topology.verdict(self.service.net, query)
        except KeyError as missing:
            return {"_failed": f"The resource {missing.args[0]} could not be found."}
        result: dict[str, Any] = {"NetworkPathFound": verdict.reachable}
        if verdict.reachable:
            result["ForwardPathComponents"] = verdict.forward
            result["ReturnPathComponents"] = verdict.back
        else:
            result["Explanations"] = verdict.explanations
        return result

    def _render(self, analysis: Resource) -> dict[str, Any]:
        described = self.service.net.render(analysis)
        result = analysis.body["_result"]
        if analysis.body["Status"] == "succeeded":
            if "_failed" in result:
                described.update(Status="failed", StatusMessage=result["_failed"])
            else:
                described.update(result)
        return described

    def describe_network_insights_analyses(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        ids = params.get("NetworkInsightsAnalysisIds")
        path_id = params.get("NetworkInsightsPathId")
        listing = None
        if path_id:
            self.service.net.require(ctx, kinds.INSIGHTS_PATH, path_id)
            children = self.service.store.children(path_id, kinds.INSIGHTS_ANALYSIS.name)
            listing = lambda after: [a for a in children if a.position > after]  # noqa: E731
        start, end = params.get("AnalysisStartTime"), params.get("AnalysisEndTime")
        result = self.service.net.describe(
            ctx, params, kinds.INSIGHTS_ANALYSIS, ids, ANALYSIS_FILTERS, "NetworkInsightsAnalyses",
            render=self._render, candidates=listing,
        )  # fmt: skip
        if start is not None or end is not None:
            low = start.timestamp() if start is not None else 0
            high = end.timestamp() if end is not None else float("inf")
            result["NetworkInsightsAnalyses"] = [
                a for a in result["NetworkInsightsAnalyses"] if low <= a["StartDate"] <= high
            ]
        return result

    def delete_network_insights_analysis(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net = self.service.net
        analysis = net.require(ctx, kinds.INSIGHTS_ANALYSIS, params["NetworkInsightsAnalysisId"])
        net.forget(analysis)
        return {"NetworkInsightsAnalysisId": analysis.id}
