"""State changes on the virtual clock: NAT gateways, endpoints and transit gateways becoming available,
peering requests expiring after 7 days, analyses completing, deleted resources leaving the listings.

Each change is a row of `ec2_timers` (resource, action, due time), so it survives a restart. Every request
first applies what is due (`settle`, inside its own transaction), and a background task applies it when no
request comes, sleeping until the earliest due time (woken early when the clock moves or work is added).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from overcast.services.ec2.store import Resource

if TYPE_CHECKING:
    from overcast.services.ec2.network import Network
    from overcast.state import Clock, Database

log = logging.getLogger("overcast.ec2")

# How long things take, in virtual seconds (AWS takes minutes; tools poll, so these are kept short).
PROVISIONING = 2.0
PEERING_REQUEST_LIFETIME = 7 * 86400.0
DELETED_VISIBLE = 3600.0  # a deleted NAT gateway or endpoint stays listed (State deleted) this long
ANALYSIS_TIME = 1.0


def _nat_available(net: Network, nat: Resource) -> None:
    if nat.body["State"] == "pending" and nat.body.get("_failure"):
        nat.body["FailureCode"], nat.body["FailureMessage"] = nat.body.pop("_failure")
        nat.body["State"] = "failed"
        net.release_nat(nat)
        nat.body["NatGatewayAddresses"] = [{**a, "Status": "failed"} for a in nat.body["NatGatewayAddresses"]]
        net.store.save(nat)
        net.store.schedule(nat.id, "forget", net.clock.now() + DELETED_VISIBLE)
        return
    if nat.body["State"] == "pending":
        nat.body["State"] = "available"
        for address in nat.body["NatGatewayAddresses"]:
            address["Status"] = "succeeded"
        net.store.save(nat)


def _nat_deleted(net: Network, nat: Resource) -> None:
    nat.body["State"] = "deleted"
    net.store.save(nat)


def _forget(net: Network, resource: Resource) -> None:
    net.forget(resource)


def _peering_requested(net: Network, pcx: Resource) -> None:
    if pcx.body["Status"]["Code"] != "initiating-request":
        return
    if pcx.body.get("_overlap"):
        pcx.body["Status"] = {"Code": "failed", "Message": "Overlapping CIDR range"}
    else:
        owner = pcx.body["AccepterVpcInfo"]["OwnerId"]
        pcx.body["Status"] = {"Code": "pending-acceptance", "Message": f"Pending Acceptance by {owner}"}
    net.store.save(pcx)


def _peering_expired(net: Network, pcx: Resource) -> None:
    if pcx.body["Status"]["Code"] == "pending-acceptance":
        pcx.body["Status"] = {"Code": "expired", "Message": "Expired"}
        net.store.save(pcx)


def _peering_active(net: Network, pcx: Resource) -> None:
    if pcx.body["Status"]["Code"] == "provisioning":
        pcx.body["Status"] = {"Code": "active", "Message": "Active"}
        net.store.save(pcx)


def _endpoint_available(net: Network, endpoint: Resource) -> None:
    if endpoint.body["State"].lower() == "pending":
        endpoint.body["State"] = "available"
        net.store.save(endpoint)


def _gateway_available(net: Network, resource: Resource) -> None:
    if resource.body.get("State") == "pending":
        resource.body["State"] = "available"
        net.store.save(resource)


def _analysis_done(net: Network, analysis: Resource) -> None:
    if analysis.body["Status"] == "running":
        analysis.body["Status"] = "succeeded"
        net.store.save(analysis)


def _instance_running(net: Network, instance: Resource) -> None:
    if instance.body["State"]["Name"] == "pending":
        net.instance_state(instance, "running", "")


def _instance_stopped(net: Network, instance: Resource) -> None:
    if instance.body["State"]["Name"] == "stopping":
        net.instance_state(instance, "stopped", "User initiated")


def _instance_terminated(net: Network, instance: Resource) -> None:
    if instance.body["State"]["Name"] == "shutting-down":
        net.instance_state(instance, "terminated", "User initiated")


def _image_available(net: Network, image: Resource) -> None:
    if image.body["State"] == "pending":
        image.body["State"] = "available"
        net.store.save(image)


def _volume_available(net: Network, volume: Resource) -> None:
    if volume.body["State"] == "creating":
        volume.body["State"] = "available"
        net.store.save(volume)


def _volume_optimized(net: Network, volume: Resource) -> None:
    modification = volume.body.get("_modification")
    if modification and modification["ModificationState"] == "modifying":
        modification.update(ModificationState="completed", Progress=100, EndTime=round(net.clock.now(), 3))
        net.store.save(volume)


def _snapshot_completed(net: Network, snapshot: Resource) -> None:
    if snapshot.body["State"] == "pending":
        snapshot.body.update(State="completed", Progress="100%")
        net.store.save(snapshot)


TRANSITIONS: dict[str, Callable[[Network, Resource], None]] = {
    "nat-available": _nat_available,
    "nat-deleted": _nat_deleted,
    "forget": _forget,
    "pcx-requested": _peering_requested,
    "pcx-expire": _peering_expired,
    "pcx-active": _peering_active,
    "vpce-available": _endpoint_available,
    "available": _gateway_available,
    "analysis-done": _analysis_done,
    "instance-running": _instance_running,
    "instance-stopped": _instance_stopped,
    "instance-terminated": _instance_terminated,
    "image-available": _image_available,
    "volume-available": _volume_available,
    "volume-optimized": _volume_optimized,
    "snapshot-completed": _snapshot_completed,
}


class Timers:
    def __init__(self, net: Network, db: Database, clock: Clock) -> None:
        self.net = net
        self.db = db
        self.clock = clock
        self._wake = asyncio.Event()
        self._next: float | None = None  # the earliest due time once committed; None: ask the table

    def reset(self) -> None:
        self._next = None

    def scheduled(self, due: float) -> None:
        """A change was scheduled in the current transaction: once it commits, `settle` looks again."""

        def earlier() -> None:
            if self._next is not None and due < self._next:
                self._next = due
            self._wake.set()

        self.db.after_commit(earlier)

    def settle(self) -> int:
        """Apply every change due by now (inside the caller's transaction); how many were applied."""
        if self._next is not None and self._next > self.clock.now():
            return 0
        applied = 0
        store = self.net.store
        while True:
            due = store.due(self.clock.now())
            if not due:
                self._remember_next(store.next_due())
                return applied
            for resource_id, action in due:
                store.cancel(resource_id, action)
                resource = store.get(resource_id)
                if resource is not None:
                    TRANSITIONS[action](self.net, resource)
                applied += 1

    def _remember_next(self, upcoming: float | None) -> None:
        def remember() -> None:
            self._next = float("inf") if upcoming is None else upcoming

        self.db.after_commit(remember)

    async def run(self) -> None:
        while True:
            try:
                with self.db.transaction():
                    self.settle()
                    upcoming = self.net.store.next_due()
            except Exception:  # a failed pass must not end the worker
                log.exception("EC2 timers failed")
                upcoming = None
            self._wake.clear()
            wait = 60.0 if upcoming is None else max(0.0, upcoming - self.clock.now())
            sleeper = asyncio.ensure_future(self._wake.wait())
            moved = asyncio.ensure_future(self.clock.wait_for_change(min(wait, 60.0)))
            await asyncio.wait({sleeper, moved}, return_when=asyncio.FIRST_COMPLETED)
            for task in (sleeper, moved):
                task.cancel()
