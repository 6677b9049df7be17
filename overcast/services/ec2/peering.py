"""VPC peering: requested by one VPC's owner, accepted or rejected by the other's (any account, any region),
failing for overlapping CIDR blocks, expiring after 7 days unanswered; routes through it work only while it is
active, and it is not transitive (the reachability engine keeps traffic to the peer VPC's own blocks)."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.ec2 import cidrs, kinds
from overcast.services.ec2.errors import not_permitted
from overcast.services.ec2.filters import tag_specifications
from overcast.services.ec2.ids import new_id
from overcast.services.ec2.store import Resource
from overcast.services.ec2.workers import DELETED_VISIBLE, PEERING_REQUEST_LIFETIME

if TYPE_CHECKING:
    from overcast.services.ec2.provider import Ec2Provider

FILTERS = {
    "accepter-vpc-info.cidr-block": "AccepterVpcInfo.CidrBlock",
    "accepter-vpc-info.owner-id": "AccepterVpcInfo.OwnerId",
    "accepter-vpc-info.vpc-id": "AccepterVpcInfo.VpcId",
    "expiration-time": "ExpirationTime",
    "requester-vpc-info.cidr-block": "RequesterVpcInfo.CidrBlock",
    "requester-vpc-info.owner-id": "RequesterVpcInfo.OwnerId",
    "requester-vpc-info.vpc-id": "RequesterVpcInfo.VpcId",
    "status-code": "Status.Code",
    "status-message": "Status.Message",
    "vpc-peering-connection-id": "VpcPeeringConnectionId",
}
OPTIONS = {
    "AllowDnsResolutionFromRemoteVpc": False,
    "AllowEgressFromLocalClassicLinkToRemoteVpc": False,
    "AllowEgressFromLocalVpcToRemoteClassicLink": False,
}


def vpc_info(vpc: Resource) -> dict[str, Any]:
    blocks = [
        a["CidrBlock"]
        for a in vpc.body["CidrBlockAssociationSet"]
        if a["CidrBlockState"]["State"] == "associated"
    ]
    info: dict[str, Any] = {
        "CidrBlock": vpc.body["CidrBlock"],
        "CidrBlockSet": [{"CidrBlock": block} for block in blocks],
        "OwnerId": vpc.account,
        "PeeringOptions": dict(OPTIONS),
        "VpcId": vpc.id,
        "Region": vpc.region,
    }
    ipv6 = [a["Ipv6CidrBlock"] for a in vpc.body.get("Ipv6CidrBlockAssociationSet") or ()]
    if ipv6:
        info["Ipv6CidrBlockSet"] = [{"Ipv6CidrBlock": block} for block in ipv6]
    return info


class PeeringOperations(Operations):
    service: Ec2Provider

    def create_vpc_peering_connection(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net, store = self.service.net, self.service.store
        requester = net.require(ctx, kinds.VPC, params["VpcId"])
        peer_id = params.get("PeerVpcId")
        if not peer_id:
            raise ServiceError("MissingParameter", "The request must contain the parameter peerVpcId")
        owner = params.get("PeerOwnerId") or ctx.account_id
        region = params.get("PeerRegion") or ctx.region
        accepter = store.get(peer_id)
        if (
            accepter is None
            or accepter.kind != kinds.VPC.name
            or (accepter.account, accepter.region) != (owner, region)
        ):
            raise kinds.VPC.not_found([peer_id])
        if accepter.id == requester.id:
            raise ServiceError("InvalidVpcPeeringConnection.Duplicate", "A VPC cannot be peered with itself.")
        pcx_id = new_id("pcx")
        now = self.clock.now()
        body: dict[str, Any] = {
            "AccepterVpcInfo": {"OwnerId": owner, "VpcId": accepter.id, "Region": region},
            "ExpirationTime": round(now + PEERING_REQUEST_LIFETIME, 3),
            "RequesterVpcInfo": vpc_info(requester),
            "Status": {"Code": "initiating-request", "Message": f"Initiating Request to {owner}"},
            "VpcPeeringConnectionId": pcx_id,
        }
        ours = [ipaddress.ip_network(b) for b in _blocks(requester)]
        if any(cidrs.overlaps(ipaddress.ip_network(b), ours) for b in _blocks(accepter)):
            body["_overlap"] = True
        shared = (owner, region) != (ctx.account_id, ctx.region)
        pcx = store.insert(
            Resource(pcx_id, ctx.account_id, ctx.region, kinds.PEERING.name, body, vpc_id=requester.id,
                     parent_id=accepter.id, shared_account=owner if shared else None,
                     shared_region=region if shared else None)
        )  # fmt: skip
        net.tag(pcx, tag_specifications(params, "vpc-peering-connection"))
        self.service.schedule(pcx.id, "pcx-requested", 0)
        self.service.schedule(pcx.id, "pcx-expire", PEERING_REQUEST_LIFETIME)
        return {"VpcPeeringConnection": net.render(pcx)}

    def accept_vpc_peering_connection(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net, store = self.service.net, self.service.store
        pcx = self._peering(ctx, params["VpcPeeringConnectionId"])
        accepter = pcx.body["AccepterVpcInfo"]
        if (accepter["OwnerId"], accepter["Region"]) != (ctx.account_id, ctx.region):
            raise not_permitted(f"User {ctx.account_id} cannot accept peering {pcx.id}")
        self._transition(pcx, "pending-acceptance", "active")
        vpc = store.get(accepter["VpcId"])
        if vpc is None:
            raise kinds.VPC.not_found([accepter["VpcId"]])
        pcx.body["AccepterVpcInfo"] = vpc_info(vpc)
        pcx.body["Status"] = {"Code": "provisioning", "Message": "Provisioning"}
        pcx.body.pop("ExpirationTime", None)
        store.save(pcx)
        store.cancel(pcx.id, "pcx-expire")
        self.service.schedule(pcx.id, "pcx-active", 0)
        for vpc_id in (pcx.vpc_id, pcx.parent_id):
            net.revive_routes(vpc_id or "", pcx.id)
        return {"VpcPeeringConnection": net.render(pcx)}

    def reject_vpc_peering_connection(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        store = self.service.store
        pcx = self._peering(ctx, params["VpcPeeringConnectionId"])
        accepter = pcx.body["AccepterVpcInfo"]
        if (accepter["OwnerId"], accepter["Region"]) != (ctx.account_id, ctx.region):
            raise not_permitted(f"User {ctx.account_id} cannot reject peering {pcx.id}")
        self._transition(pcx, "pending-acceptance", "rejected")
        pcx.body["Status"] = {"Code": "rejected", "Message": f"Rejected by {ctx.account_id}"}
        store.save(pcx)
        store.cancel(pcx.id)
        self.service.schedule(pcx.id, "forget", DELETED_VISIBLE)
        return {"Return": True}

    def delete_vpc_peering_connection(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net, store = self.service.net, self.service.store
        pcx = self._peering(ctx, params["VpcPeeringConnectionId"])
        code = pcx.body["Status"]["Code"]
        if code not in ("pending-acceptance", "active", "provisioning", "initiating-request"):
            raise ServiceError(
                "InvalidStateTransition",
                f"Invalid state transition for {pcx.id}, attempted to transition from {code} to deleted",
            )
        pcx.body["Status"] = {"Code": "deleted", "Message": f"Deleted by {ctx.account_id}"}
        store.save(pcx)
        store.cancel(pcx.id)
        for vpc_id in (pcx.vpc_id, pcx.parent_id):
            net.blackhole_routes(vpc_id or "", pcx.id)
        self.service.schedule(pcx.id, "forget", DELETED_VISIBLE)
        return {"Return": True}

    def describe_vpc_peering_connections(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ids = params.get("VpcPeeringConnectionIds")
        return self.service.net.describe(ctx, params, kinds.PEERING, ids, FILTERS, "VpcPeeringConnections")

    def modify_vpc_peering_connection_options(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        pcx = self._peering(ctx, params["VpcPeeringConnectionId"])
        result: dict[str, Any] = {}
        for side, member, out in (("AccepterVpcInfo", "AccepterPeeringConnectionOptions", "AccepterPeeringConnectionOptions"),
                                  ("RequesterVpcInfo", "RequesterPeeringConnectionOptions", "RequesterPeeringConnectionOptions")):  # fmt: skip
            given = params.get(member)
            if given:
                options = pcx.body[side].setdefault("PeeringOptions", dict(OPTIONS))
                options.update({k: bool(v) for k, v in given.items()})
                result[out] = dict(options)
        self.service.store.save(pcx)
        return result

    def _peering(self, ctx: RequestContext, pcx_id: str) -> Resource:
        pcx = self.service.net.find(ctx, kinds.PEERING, pcx_id)
        if pcx is None:
            raise kinds.PEERING.not_found([pcx_id])
        return pcx

    @staticmethod
    def _transition(pcx: Resource, expected: str, target: str) -> None:
        code = pcx.body["Status"]["Code"]
        if code != expected:
            raise ServiceError(
                "InvalidStateTransition",
                f"Invalid state transition for {pcx.id}, attempted to transition from {code} to {target}",
            )


def _blocks(vpc: Resource) -> list[str]:
    return [
        a["CidrBlock"]
        for a in vpc.body["CidrBlockAssociationSet"]
        if a["CidrBlockState"]["State"] == "associated"
    ]
