"""Amazon Data Firehose: the provider composes the operation families and holds what they share."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import ServiceProvider
from overcast.services.firehose.delivery import Delivery
from overcast.services.firehose.records import RecordOperations
from overcast.services.firehose.store import DeliveryStream, FirehoseStore
from overcast.services.firehose.streams import DeliveryStreamOperations
from overcast.services.firehose.tagging import TagOperations
from overcast.services.firehose.workers import FirehoseWorkers

if TYPE_CHECKING:
    from overcast.platform import Platform


def not_found(name: str, account: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", f"Firehose {name} under account {account} not found.")


class FirehoseProvider(ServiceProvider):
    service_name = "firehose"
    families = (DeliveryStreamOperations, RecordOperations, TagOperations)

    def tagging_request(self, arn: str, add=None, remove=None) -> tuple[str, dict[str, Any]] | None:
        """TagDeliveryStream / UntagDeliveryStream (the Resource Groups Tagging API's road)."""
        name = arn.rsplit("/", 1)[-1]
        if add is not None:
            tags = [{"Key": k, "Value": v} for k, v in add.items()]
            return "TagDeliveryStream", {"DeliveryStreamName": name, "Tags": tags}
        return "UntagDeliveryStream", {"DeliveryStreamName": name, "TagKeys": list(remove or ())}

    def __init__(self, platform: Platform) -> None:
        super().__init__(platform)
        self.store = FirehoseStore(self.db)
        self.delivery = Delivery(self)
        self.workers = FirehoseWorkers(self)

    async def start(self) -> None:
        self.workers.start()

    def resource_arn(self, ctx: RequestContext, params: dict[str, Any]) -> str | None:
        name = params.get("DeliveryStreamName")
        return ctx.arn("firehose", f"deliverystream/{name}") if name else None

    def stream_for(self, ctx: RequestContext, name: str) -> DeliveryStream:
        stream = self.store.stream(ctx.account_id, ctx.region, name)
        if stream is None:
            raise not_found(name, ctx.account_id)
        return stream
