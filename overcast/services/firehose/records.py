"""PutRecord and PutRecordBatch: records go to the delivery stream's durable buffer."""

from __future__ import annotations

import base64
import os
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.firehose.delivery import buffering
from overcast.services.firehose.store import DeliveryStream

if TYPE_CHECKING:
    from overcast.services.firehose.provider import FirehoseProvider

MAX_BATCH_BYTES = 4 * 1024 * 1024


def _record_id() -> str:
    """An opaque id shaped like Firehose's (a long base64 string)."""
    return base64.b64encode(os.urandom(162)).decode()


class RecordOperations(Operations):
    service: FirehoseProvider

    def put_record(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stream = self._writable(ctx, params["DeliveryStreamName"])
        self._buffer(stream, [params["Record"]["Data"]])
        return {"RecordId": _record_id(), "Encrypted": self._encrypted(stream)}

    def put_record_batch(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stream = self._writable(ctx, params["DeliveryStreamName"])
        data = [record["Data"] for record in params["Records"]]
        if sum(len(d) for d in data) > MAX_BATCH_BYTES:
            raise ServiceError("InvalidArgumentException", "Records size exceeds 4 MiB limit")
        self._buffer(stream, data)
        return {
            "FailedPutCount": 0,
            "Encrypted": self._encrypted(stream),
            "RequestResponses": [{"RecordId": _record_id()} for _ in data],
        }

    def _writable(self, ctx: RequestContext, name: str) -> DeliveryStream:
        stream = self.service.stream_for(ctx, name)
        if stream.kind != "DirectPut":
            raise ServiceError(
                "InvalidArgumentException",
                f"This operation is not permitted on {stream.kind} delivery stream type.",
            )
        if stream.status != "ACTIVE":
            raise ServiceError(
                "ResourceInUseException",
                f"Firehose {stream.name} under account {stream.account} is not ACTIVE, instead in state {stream.status}.",
            )
        return stream

    def _buffer(self, stream: DeliveryStream, data: list[bytes]) -> None:
        now = self.clock.now()
        self.service.store.buffer(stream.id, [(now, d, None) for d in data])
        size, _ = buffering(stream.destination)
        if stream.buffered_bytes + sum(len(d) for d in data) >= size or stream.buffered_since is None:
            self.service.workers.wake()

    @staticmethod
    def _encrypted(stream: DeliveryStream) -> bool:
        return bool(stream.encryption and stream.encryption.get("Status") == "ENABLED")
