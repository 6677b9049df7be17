"""Kinesis Data Streams for DynamoDB: a table's item changes sent to a Kinesis data stream (Enable, Disable,
Update and DescribeKinesisStreamingDestination), each as the JSON record AWS writes.

Destinations live in the table's meta under `_kinesis`, newest first: {"StreamArn", "DestinationStatus",
"DestinationStatusDescription"?, "ApproximateCreationDateTimePrecision"?}. At most one is live (ENABLING,
ACTIVE, UPDATING, DISABLING); DISABLED and ENABLE_FAILED ones stay listed. AWS settles a change within seconds;
here the answer says ENABLING/UPDATING/DISABLING and Describe already reads the settled state. Enabling checks
the stream through Kinesis itself (a stream that is not there fails the destination, as in AWS, where Enable
never refuses it). Records are handed to Kinesis once the write commits, in order, off the request path
(`Forwarder`); they are kept in memory until then, so a crash may lose the last ones.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import uuid
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.identity import service_principal
from overcast.services.base import Operations
from overcast.services.dynamodb.store import Table, key_attributes
from overcast.services.dynamodb.values import Item, item_size, validation
from overcast.services.kit.delivery import Sender, deliver

if TYPE_CHECKING:
    from overcast.platform import Platform
    from overcast.services.dynamodb.provider import DynamoDBProvider

log = logging.getLogger("overcast.dynamodb")

LIVE = ("ENABLING", "ACTIVE", "UPDATING", "DISABLING")
_STATE = "Table is not in a valid state to enable Kinesis Streaming Destination: "
NO_PERMISSION = "User does not have a permission to use kinesis stream"


class KinesisDestinationOperations(Operations):
    service: DynamoDBProvider

    async def enable_kinesis_streaming_destination(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        arn = params["StreamArn"]
        with self.db.transaction():
            table = self.service.table(ctx, params["TableName"])
            if any(d["DestinationStatus"] in LIVE for d in table.meta.get("_kinesis", ())):
                raise validation(
                    _STATE + "EnableKinesisStreamingDestination must be DISABLED or ENABLE_FAILED to perform "
                    "ENABLE operation."
                )
        reachable = await _stream_exists(self.platform, arn, ctx.account_id, ctx.region)
        precision = (params.get("EnableKinesisStreamingConfiguration") or {}).get(
            "ApproximateCreationDateTimePrecision"
        )
        entry: dict[str, Any] = {
            "StreamArn": arn,
            "DestinationStatus": "ACTIVE" if reachable else "ENABLE_FAILED",
        }
        if not reachable:
            entry["DestinationStatusDescription"] = NO_PERMISSION
        if precision:
            entry["ApproximateCreationDateTimePrecision"] = precision
        with self.db.transaction():
            table = self.service.table(ctx, params["TableName"])
            others = [d for d in table.meta.get("_kinesis", ()) if d["StreamArn"] != arn]
            self._save(table, [entry, *others])
        return {
            "TableName": table.name,
            "StreamArn": arn,
            "DestinationStatus": "ENABLING",
            "EnableKinesisStreamingConfiguration": params.get("EnableKinesisStreamingConfiguration") or {},
        }

    def disable_kinesis_streaming_destination(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        table = self.service.table(ctx, params["TableName"])
        entry = self._entry(table, params["StreamArn"])
        if entry is None or entry["DestinationStatus"] != "ACTIVE":
            raise validation(
                _STATE + "KinesisStreamingDestination must be ACTIVE to perform DISABLE operation."
            )
        self._replace(table, {**entry, "DestinationStatus": "DISABLED"})
        result = {"TableName": table.name, "StreamArn": entry["StreamArn"], "DestinationStatus": "DISABLING"}
        if params.get("EnableKinesisStreamingConfiguration") is not None:
            result["EnableKinesisStreamingConfiguration"] = params["EnableKinesisStreamingConfiguration"]
        return result

    def update_kinesis_streaming_destination(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        table = self.service.table(ctx, params["TableName"])
        arn = params["StreamArn"]
        wanted = (params.get("UpdateKinesisStreamingConfiguration") or {}).get(
            "ApproximateCreationDateTimePrecision"
        )
        if not wanted:
            raise validation(
                "Streaming destination cannot be updated with given parameters: UpdateKinesisStreamingConfiguration "
                "cannot be null or contain only null values"
            )
        entry = self._entry(table, arn)
        if entry is None:
            raise validation(
                _STATE
                + f"No streaming destination with streamArn: {arn} found for table with tableName: {table.name}"
            )
        if entry["DestinationStatus"] != "ACTIVE":
            raise validation(
                _STATE
                + "Kinesis streaming is not in ACTIVE state. Updates are only allowed in ACTIVE state. "
                f"TableName: {table.name}"
            )
        current = entry.get("ApproximateCreationDateTimePrecision", "MILLISECOND")
        if current == wanted:
            raise validation(
                f"Invalid Request: Precision is already set to the desired value of {current} for tableId: "
                f"{table.meta['TableId']}, kdsArn: {arn}"
            )
        self._replace(table, {**entry, "ApproximateCreationDateTimePrecision": wanted})
        return {
            "TableName": table.name,
            "StreamArn": arn,
            "DestinationStatus": "UPDATING",
            "UpdateKinesisStreamingConfiguration": {"ApproximateCreationDateTimePrecision": wanted},
        }

    def describe_kinesis_streaming_destination(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        table = self.service.table(ctx, params["TableName"])
        return {
            "TableName": table.name,
            "KinesisDataStreamDestinations": list(table.meta.get("_kinesis", ())),
        }

    # -- helpers ---------------------------------------------------------------------------------------------

    @staticmethod
    def _entry(table: Table, arn: str) -> dict[str, Any] | None:
        return next((d for d in table.meta.get("_kinesis", ()) if d["StreamArn"] == arn), None)

    def _replace(self, table: Table, entry: dict[str, Any]) -> None:
        kept = [entry if d["StreamArn"] == entry["StreamArn"] else d for d in table.meta.get("_kinesis", ())]
        self._save(table, kept)

    def _save(self, table: Table, destinations: list[dict[str, Any]]) -> None:
        meta = json.loads(json.dumps(table.meta))
        meta["_kinesis"] = destinations
        self.service.store.save_meta(table.account, table.region, table.name, table.id, meta)


async def _stream_exists(platform: Platform, arn: str, account: str, region: str) -> bool:
    """Whether Kinesis knows the stream, asked as DynamoDB would (in the stream's account and region)."""
    from overcast.services.kit.arns import parse_arn

    parsed = parse_arn(arn)
    if parsed is None or parsed.service != "kinesis" or not parsed.resource.startswith("stream/"):
        return False
    try:
        await platform.call(
            "kinesis",
            "DescribeStreamSummary",
            {"StreamARN": arn},
            principal=service_principal("dynamodb.amazonaws.com", account),
            account_id=parsed.account or account,
            region=parsed.region or region,
        )
    except ServiceError:
        return False
    return True


# -- the records ---------------------------------------------------------------------------------------------


def active_destination(table: Table) -> dict[str, Any] | None:
    return next((d for d in table.meta.get("_kinesis", ()) if d["DestinationStatus"] == "ACTIVE"), None)


def record(
    table: Table, destination: dict[str, Any], old: Item | None, new: Item | None, now: float, service: bool
) -> tuple[str, bytes]:
    """(partition key, data) of the Kinesis record of one item change: AWS's JSON, with both images."""
    image = new if new is not None else old
    keys = key_attributes(table.key, image)  # type: ignore[arg-type]
    precision = destination.get("ApproximateCreationDateTimePrecision", "MILLISECOND")
    change: dict[str, Any] = {
        "ApproximateCreationDateTime": int(now * (1_000_000 if precision == "MICROSECOND" else 1000)),
        "Keys": keys,
    }
    if new is not None:
        change["NewImage"] = new
    if old is not None:
        change["OldImage"] = old
    change["SizeBytes"] = item_size(keys) + item_size(new or {}) + item_size(old or {})
    change["ApproximateCreationDateTimePrecision"] = precision
    body = {
        "awsRegion": table.region,
        "eventID": str(uuid.uuid4()),
        "eventName": "INSERT" if old is None else "REMOVE" if new is None else "MODIFY",
        "userIdentity": {"type": "Service", "principalId": "dynamodb.amazonaws.com"} if service else None,
        "recordFormat": "application/json",
        "tableName": table.name,
        "dynamodb": change,
        "eventSource": "aws:dynamodb",
    }
    partition = (
        hashlib.md5(json.dumps(keys, sort_keys=True).encode(), usedforsecurity=False).hexdigest().upper()
    )
    return partition, json.dumps(body, separators=(",", ":")).encode()


class Forwarder:
    """Sends committed records to their streams one after another (so each item's changes stay in order)."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.queue: asyncio.Queue[tuple[str, str, str, str, bytes]] = asyncio.Queue()

    def send_after_commit(self, table: Table, stream_arn: str, partition: str, data: bytes) -> None:
        item = (table.account, table.arn, stream_arn, partition, data)
        self.platform.db.after_commit(lambda: self.queue.put_nowait(item))

    async def run(self) -> None:
        while True:
            account, table_arn, stream_arn, partition, data = await self.queue.get()
            sender = Sender("dynamodb.amazonaws.com", account, source_arn=table_arn)
            try:
                await deliver(self.platform, stream_arn, data, sender, partition_key=partition)
            except ServiceError as error:  # a stream deleted meanwhile: AWS drops the record
                log.warning("Kinesis streaming to %s failed: %s", stream_arn, error)
            except Exception:  # the forwarder must outlive any one record
                log.exception("Kinesis streaming to %s failed", stream_arn)
