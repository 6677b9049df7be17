"""Network Access Analyzer: access scopes (paths that should, or should not, exist) and their analyses. An
analysis tries every source and destination the scope's match paths name (by id, by resource type, by the VPC
or subnet they are in; every interface and internet gateway when a side names nothing), on each protocol and
destination port range of the packet-header statement, with the Reachability Analyzer's engine over one
snapshot of the region; each reachable path that no exclude path covers is a finding, with its components.
Address and prefix-list conditions of packet headers are not evaluated."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.services.base import Operations
from overcast.services.ec2 import kinds, topology
from overcast.services.ec2 import reachability as r
from overcast.services.ec2.errors import bad_token, invalid
from overcast.services.ec2.filters import tag_specifications
from overcast.services.ec2.ids import new_id
from overcast.services.ec2.store import Resource
from overcast.services.ec2.workers import ANALYSIS_TIME
from overcast.services.kit.arns import parse_arn
from overcast.services.kit.paging import decode_token, encode_token

if TYPE_CHECKING:
    from overcast.services.ec2.provider import Ec2Provider

TYPES = {
    "AWS::EC2::NetworkInterface": "eni",
    "AWS::EC2::Instance": "i",
    "AWS::EC2::InternetGateway": "igw",
    "AWS::EC2::NatGateway": "nat",
    "AWS::EC2::VPCEndpoint": "vpce",
    "AWS::EC2::VPNGateway": "vgw",
    "AWS::EC2::VPCPeeringConnection": "pcx",
    "AWS::EC2::TransitGateway": "tgw",
    "AWS::EC2::Subnet": "subnet",
    "AWS::EC2::VPC": "vpc",
    "AWS::EC2::SecurityGroup": "sg",
    "AWS::EC2::NetworkAcl": "acl",
    "AWS::EC2::RouteTable": "rtb",
}
MAX_PAIRS = 5000  # source x destination x protocol x ports tried in one analysis
SCOPE_FILTERS: dict[str, str] = {}
ANALYSIS_FILTERS = {"status": "Status"}


def _ports(text: str) -> tuple[int, int]:
    low, _, high = text.partition("-")
    try:
        return int(low), int(high or low)
    except ValueError:
        raise invalid(f"Invalid port range: {text}") from None


class AccessScopeOperations(Operations):
    service: Ec2Provider

    def create_network_insights_access_scope(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        net, store = self.service.net, self.service.store
        match, exclude = params.get("MatchPaths") or [], params.get("ExcludePaths") or []
        for path in match + exclude:
            for side in ("Source", "Destination"):
                for port in ((path.get(side) or {}).get("PacketHeaderStatement") or {}).get(
                    "DestinationPorts"
                ) or ():
                    _ports(port)
                for kind in ((path.get(side) or {}).get("ResourceStatement") or {}).get(
                    "ResourceTypes"
                ) or ():
                    if kind not in TYPES:
                        raise invalid(f"Invalid resource type: {kind}")
        scope_id = new_id("nis")
        now = round(self.clock.now(), 3)
        body = {
            "NetworkInsightsAccessScopeId": scope_id,
            "NetworkInsightsAccessScopeArn": kinds.ACCESS_SCOPE.arn(ctx.region, ctx.account_id, scope_id),
            "CreatedDate": now,
            "UpdatedDate": now,
            "_content": {"MatchPaths": match, "ExcludePaths": exclude},
        }
        scope = store.insert(Resource(scope_id, ctx.account_id, ctx.region, kinds.ACCESS_SCOPE.name, body))
        net.tag(scope, tag_specifications(params, "network-insights-access-scope"))
        return {
            "NetworkInsightsAccessScope": net.render(scope),
            "NetworkInsightsAccessScopeContent": _content(scope),
        }

    def get_network_insights_access_scope_content(self, ctx: RequestContext, params: dict[str, Any]) -> dict:
        scope = self.service.net.require(ctx, kinds.ACCESS_SCOPE, params["NetworkInsightsAccessScopeId"])
        return {"NetworkInsightsAccessScopeContent": _content(scope)}

    def describe_network_insights_access_scopes(self, ctx: RequestContext, params: dict[str, Any]) -> dict:
        ids = params.get("NetworkInsightsAccessScopeIds")
        key = "NetworkInsightsAccessScopes"
        return self.service.net.describe(ctx, params, kinds.ACCESS_SCOPE, ids, SCOPE_FILTERS, key)

    def delete_network_insights_access_scope(self, ctx: RequestContext, params: dict[str, Any]) -> dict:
        net = self.service.net
        scope = net.require(ctx, kinds.ACCESS_SCOPE, params["NetworkInsightsAccessScopeId"])
        for analysis in self.service.store.children(scope.id, kinds.ACCESS_SCOPE_ANALYSIS.name):
            net.forget(analysis)
        net.forget(scope)
        return {"NetworkInsightsAccessScopeId": scope.id}

    # -- analyses --------------------------------------------------------------------------------------

    def start_network_insights_access_scope_analysis(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict:
        net, store = self.service.net, self.service.store
        scope = net.require(ctx, kinds.ACCESS_SCOPE, params["NetworkInsightsAccessScopeId"])
        analysis_id = new_id("nisa")
        findings, analyzed = self._findings(ctx, scope)
        body = {
            "NetworkInsightsAccessScopeAnalysisId": analysis_id,
            "NetworkInsightsAccessScopeAnalysisArn": kinds.ACCESS_SCOPE_ANALYSIS.arn(
                ctx.region, ctx.account_id, analysis_id
            ),
            "NetworkInsightsAccessScopeId": scope.id,
            "Status": "running",
            "StartDate": round(self.clock.now(), 3),
            "_findings": [
                {
                    "NetworkInsightsAccessScopeAnalysisId": analysis_id,
                    "NetworkInsightsAccessScopeId": scope.id,
                    "FindingId": str(uuid.uuid4()),
                    "FindingComponents": components,
                }
                for components in findings
            ],  # fmt: skip
            "_analyzed": analyzed,
        }
        analysis = store.insert(
            Resource(
                analysis_id,
                ctx.account_id,
                ctx.region,
                kinds.ACCESS_SCOPE_ANALYSIS.name,
                body,
                parent_id=scope.id,
            )
        )
        net.tag(analysis, tag_specifications(params, "network-insights-access-scope-analysis"))
        self.service.schedule(analysis.id, "analysis-done", ANALYSIS_TIME)
        return {"NetworkInsightsAccessScopeAnalysis": self._render(analysis)}

    def _render(self, analysis: Resource) -> dict[str, Any]:
        described = self.service.net.render(analysis)
        if analysis.body["Status"] == "succeeded":
            described["EndDate"] = analysis.body["StartDate"] + ANALYSIS_TIME
            described["FindingsFound"] = "true" if analysis.body["_findings"] else "false"
            described["AnalyzedEniCount"] = analysis.body["_analyzed"]
        return described

    def describe_network_insights_access_scope_analyses(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict:
        ids = params.get("NetworkInsightsAccessScopeAnalysisIds")
        listing = None
        scope_id = params.get("NetworkInsightsAccessScopeId")
        if scope_id:
            self.service.net.require(ctx, kinds.ACCESS_SCOPE, scope_id)
            children = self.service.store.children(scope_id, kinds.ACCESS_SCOPE_ANALYSIS.name)
            listing = lambda after: [a for a in children if a.position > after]  # noqa: E731
        return self.service.net.describe(
            ctx, params, kinds.ACCESS_SCOPE_ANALYSIS, ids, ANALYSIS_FILTERS, "NetworkInsightsAccessScopeAnalyses",
            render=self._render, candidates=listing,
        )  # fmt: skip

    def get_network_insights_access_scope_analysis_findings(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict:
        analysis_id = params["NetworkInsightsAccessScopeAnalysisId"]
        analysis = self.service.net.require(ctx, kinds.ACCESS_SCOPE_ANALYSIS, analysis_id)
        result: dict[str, Any] = {
            "NetworkInsightsAccessScopeAnalysisId": analysis.id,
            "AnalysisStatus": analysis.body["Status"],
        }
        if analysis.body["Status"] != "succeeded":
            return result
        findings = analysis.body["_findings"]
        start = decode_token(params.get("NextToken") or None, bad_token, analysis.id) or 0
        if not isinstance(start, int):
            raise bad_token()
        limit = params.get("MaxResults") or len(findings) or 1
        result["AnalysisFindings"] = findings[start : start + limit]
        if start + limit < len(findings):
            result["NextToken"] = encode_token(start + limit, analysis.id)
        return result

    def delete_network_insights_access_scope_analysis(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict:
        net = self.service.net
        analysis = net.require(
            ctx, kinds.ACCESS_SCOPE_ANALYSIS, params["NetworkInsightsAccessScopeAnalysisId"]
        )
        net.forget(analysis)
        return {"NetworkInsightsAccessScopeAnalysisId": analysis.id}

    # -- the analysis itself ---------------------------------------------------------------------------

    def _findings(self, ctx: RequestContext, scope: Resource) -> tuple[list[list[dict[str, Any]]], int]:
        """Forward paths of every match path that no exclude path covers; and how many interfaces took part."""
        content = scope.body["_content"]
        ends = self._ends(ctx)
        vpcs = sorted({end.vpc_id for end in ends.values() if end.vpc_id})
        snapshot = topology.build(self.service.net, vpcs)
        findings: list[list[dict[str, Any]]] = []
        seen: set[tuple[str, str]] = set()
        tried = 0
        for path in content["MatchPaths"]:
            for source, destination, protocol, ports in self._pairs(path, ends):
                tried += 1
                if tried > MAX_PAIRS or (source.id, destination.id) in seen:
                    continue
                try:
                    query = r.Query(_engine_end(self.service, source), _engine_end(self.service, destination), protocol,
                                    port_range=ports)  # fmt: skip
                except KeyError:
                    continue
                try:
                    verdict = r.analyze(snapshot, query)
                except KeyError:  # an instance without an interface, an end outside the snapshot
                    continue
                if not verdict.reachable or not _through(path, verdict.forward, ends):
                    continue
                if any(
                    _covers(exclude, source, destination, verdict.forward, ends)
                    for exclude in content["ExcludePaths"]
                ):
                    continue
                seen.add((source.id, destination.id))
                findings.append(verdict.forward)
        analyzed = sum(1 for end in ends.values() if end.kind == kinds.NETWORK_INTERFACE.name)
        return findings, analyzed

    def _ends(self, ctx: RequestContext) -> dict[str, Resource]:
        """What a path may start or end at in the region: interfaces (not requester-managed), instances (their
        primary interface), internet gateways attached to a VPC, NAT gateways, endpoints."""
        store = self.service.store
        found: dict[str, Resource] = {}
        for kind in (
            kinds.NETWORK_INTERFACE,
            kinds.INSTANCE,
            kinds.INTERNET_GATEWAY,
            kinds.NAT_GATEWAY,
            kinds.VPC_ENDPOINT,
        ):
            for resource in store.page(ctx.account_id, ctx.region, kind.name, 0, 100_000):
                if kind is kinds.NETWORK_INTERFACE and resource.body["RequesterManaged"]:
                    continue
                if kind is kinds.NAT_GATEWAY and resource.body["State"] != "available":
                    continue
                if resource.vpc_id or kind is kinds.INSTANCE:
                    found[resource.id] = resource
        return found

    def _pairs(
        self, path: dict[str, Any], ends: dict[str, Resource]
    ) -> Iterator[tuple[Resource, Resource, str, tuple[int, int]]]:
        sources = [
            e for e in ends.values() if _matches(path.get("Source"), e, ends, default={"eni", "i", "igw"})
        ]
        destinations = [
            e
            for e in ends.values()
            if _matches(path.get("Destination"), e, ends, default={"eni", "i", "igw"})
        ]
        header = {**((path.get("Source") or {}).get("PacketHeaderStatement") or {}),
                  **((path.get("Destination") or {}).get("PacketHeaderStatement") or {})}  # fmt: skip
        protocols = header.get("Protocols") or ["tcp", "udp"]
        port_ranges = [_ports(p) for p in header.get("DestinationPorts") or ()] or [(0, 65535)]
        for source in sources:
            for destination in destinations:
                if source.id == destination.id or (
                    source.id.startswith("igw-") and destination.id.startswith("igw-")
                ):
                    continue
                for protocol in protocols:
                    for ports in port_ranges:
                        yield source, destination, protocol, ports


def _content(scope: Resource) -> dict[str, Any]:
    return {"NetworkInsightsAccessScopeId": scope.id, **scope.body["_content"]}


def _prefix(resource_id: str) -> str:
    return resource_id.rsplit("-", 1)[0]


def _statement_ids(statement: dict[str, Any]) -> list[str]:
    ids = []
    for given in statement.get("Resources") or ():
        parsed = parse_arn(given)
        ids.append(parsed.resource_id if parsed else given)
    return ids


def _matches(
    side: dict[str, Any] | None, end: Resource, ends: dict[str, Resource], default: set[str]
) -> bool:
    """Whether a path's end is what a side's resource statement names: the resource, its type, or the VPC or
    subnet it is in; with no resource statement, one of the `default` kinds."""
    statement = (side or {}).get("ResourceStatement") or {}
    ids, kinds_named = _statement_ids(statement), [TYPES[t] for t in statement.get("ResourceTypes") or ()]
    if not ids and not kinds_named:
        return _prefix(end.id) in default
    places = {end.id, end.vpc_id, end.subnet_id}
    return bool(places & set(ids)) or _prefix(end.id) in kinds_named


def _through(path: dict[str, Any], components: list[dict[str, Any]], ends: dict[str, Resource]) -> bool:
    """Whether a path goes through every resource its ThroughResources statements name."""
    passed = [c["Component"]["Id"] for c in components]
    for through in path.get("ThroughResources") or ():
        statement = through.get("ResourceStatement") or {}
        ids, kinds_named = _statement_ids(statement), [TYPES[t] for t in statement.get("ResourceTypes") or ()]
        if not any(p in ids or _prefix(p) in kinds_named for p in passed):
            return False
    return True


def _covers(
    exclude: dict[str, Any], source: Resource, destination: Resource, components: list, ends: dict
) -> bool:
    everything = {"eni", "i", "igw", "nat", "vpce"}
    return (
        _matches(exclude.get("Source"), source, ends, everything)
        and _matches(exclude.get("Destination"), destination, ends, everything)
        and _through(exclude, components, ends)
    )


def _engine_end(service: Ec2Provider, end: Resource) -> str:
    """The id the engine takes for an end: an instance's primary interface, else the end itself."""
    return topology.primary_interface(service.net, end.id) if end.id.startswith("i-") else end.id
