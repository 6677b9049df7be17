"""What other services may ask of Kinesis besides its AWS operations (through `Platform.call`).

Lambda's event source poller reads a stream with ListShards, GetShardIterator and GetRecords like any
consumer; `wait_for_records` lets it sleep until records arrive instead of polling an idle stream.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from overcast.services.kit.arns import parse_arn

if TYPE_CHECKING:
    from overcast.platform import Platform


async def wait_for_records(platform: Platform, stream_arn: str, timeout: float) -> None:
    """Return when records arrive in the stream `stream_arn` names, when the virtual clock is moved, or after
    `timeout` real seconds (at once when there is no such stream)."""
    import asyncio

    from overcast.services.kinesis.provider import KinesisProvider

    provider = platform.provider("kinesis")
    arn = parse_arn(stream_arn)
    if not isinstance(provider, KinesisProvider) or arn is None:
        return
    with platform.db.transaction():
        stream = provider.store.stream(arn.account, arn.region, arn.resource_id)
    if stream is None:
        await asyncio.sleep(0)
        return
    await provider.wait_for_records(stream.id, timeout)
