"""DynamoDB Streams: the read side of the change records the DynamoDB provider writes.

Each stream has one shard; records keep the order of the writes (one global sequence) and are readable for
24 hours of virtual time. Shard iterators are opaque tokens that expire after 15 minutes, as in AWS.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import ServiceProvider
from overcast.services.dynamodb.store import Store
from overcast.services.dynamodb.stream_store import Stream
from overcast.services.dynamodb.values import restore_binary, validation
from overcast.services.kit.paging import decode_token, encode_token

RETENTION_SECONDS = 24 * 3600
ITERATOR_SECONDS = 15 * 60
MAX_RECORDS = 1000
_ITERATOR_SCOPE = "ShardIterator"


def _not_found(arn: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", f"Requested resource not found: Stream: {arn} not found")


def _invalid_iterator() -> ServiceError:
    return validation("Invalid ShardIterator")


def _sequence(seq: int) -> str:
    return f"{seq:021d}"


def shard_id(stream: Stream) -> str:
    return f"shardId-{int(stream.created * 1000):020d}-{stream.id:08x}"


class DynamoDBStreamsProvider(ServiceProvider):
    service_name = "dynamodbstreams"

    def resource_arn(self, ctx: RequestContext, params: dict[str, Any]) -> str | None:
        """The stream a request reads, or the table whose streams it lists."""
        name = params.get("TableName") or params.get("StreamArn")
        if not name:
            return None
        return name if name.startswith("arn:") else ctx.arn("dynamodb", f"table/{name}")

    def __init__(self, platform: Any) -> None:
        super().__init__(platform)
        self.streams = Store(self.db).streams  # the tables live in the DynamoDB store's migrations

    def _visible_after(self) -> float:
        return self.clock.now() - RETENTION_SECONDS

    def _stream(self, ctx: RequestContext, arn: str) -> Stream:
        stream = self.streams.stream(arn, ctx.account_id, ctx.region)
        if stream is None or (stream.disabled is not None and stream.disabled < self._visible_after()):
            raise _not_found(arn)
        return stream

    def list_streams(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = params.get("Limit", 100)
        found = self.streams.streams(
            ctx.account_id,
            ctx.region,
            self._visible_after(),
            params.get("TableName"),
            params.get("ExclusiveStartStreamArn"),
            limit + 1,
        )
        result: dict[str, Any] = {
            "Streams": [
                {"StreamArn": s.arn, "TableName": s.table_name, "StreamLabel": s.label} for s in found[:limit]
            ]
        }
        if len(found) > limit:
            result["LastEvaluatedStreamArn"] = found[limit - 1].arn
        return result

    def describe_stream(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stream = self._stream(ctx, params["StreamArn"])
        first, last = self.streams.sequence_range(stream.id, self._visible_after())
        sequence_range: dict[str, str] = {"StartingSequenceNumber": _sequence(first or 1)}
        if stream.disabled is not None:
            sequence_range["EndingSequenceNumber"] = _sequence(last or 1)
        shards = [{"ShardId": shard_id(stream), "SequenceNumberRange": sequence_range}]
        if params.get("ExclusiveStartShardId") == shards[0]["ShardId"]:
            shards = []
        return {
            "StreamDescription": {
                "StreamArn": stream.arn,
                "StreamLabel": stream.label,
                "StreamStatus": "DISABLED" if stream.disabled is not None else "ENABLED",
                "StreamViewType": stream.view_type,
                "CreationRequestDateTime": datetime.fromtimestamp(stream.created, UTC),
                "TableName": stream.table_name,
                "KeySchema": stream.key_schema,
                "Shards": shards,
            }
        }

    def get_shard_iterator(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stream = self._stream(ctx, params["StreamArn"])
        if params["ShardId"] != shard_id(stream):
            raise ServiceError(
                "ResourceNotFoundException",
                f"Requested resource not found: Shard does not exist: {params['ShardId']}",
            )
        kind = params["ShardIteratorType"]
        if kind == "TRIM_HORIZON":
            after = 0
        elif kind == "LATEST":
            after = self.streams.last_sequence(stream.id)
        else:
            number = params.get("SequenceNumber")
            if not number or not number.isdigit():
                raise validation(f"The sequence number is required for the {kind} iterator type")
            after = int(number) - (1 if kind == "AT_SEQUENCE_NUMBER" else 0)
        return {"ShardIterator": self._iterator(stream, after)}

    def _iterator(self, stream: Stream, after: int) -> str:
        """Shaped like AWS's (`<stream arn>|1|<opaque>`); the opaque part is our position."""
        opaque = encode_token([stream.arn, stream.id, after, self.clock.now()], _ITERATOR_SCOPE)
        return f"{stream.arn}|1|{opaque}"

    def get_records(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn, stream_id, after, issued = _read_iterator(params["ShardIterator"])
        if self.clock.now() - issued > ITERATOR_SECONDS:
            raise ServiceError("ExpiredIteratorException", "Iterator expired")
        stream = self._stream(ctx, arn)
        limit = min(params.get("Limit") or MAX_RECORDS, MAX_RECORDS)
        rows = self.streams.records(stream_id, after, self._visible_after(), limit)
        records = [_record(stream, seq, created, text) for seq, created, text in rows]
        result: dict[str, Any] = {"Records": records}
        last = rows[-1][0] if rows else after
        if stream.disabled is None or rows:
            result["NextShardIterator"] = self._iterator(stream, last)
        return result


def _read_iterator(token: str) -> tuple[str, int, int, float]:
    position = decode_token(token.rpartition("|")[2], _invalid_iterator, _ITERATOR_SCOPE)
    try:
        arn, stream_id, after, issued = position
        return str(arn), int(stream_id), int(after), float(issued)
    except (ValueError, TypeError):
        raise _invalid_iterator() from None


def _record(stream: Stream, seq: int, created: float, text: str) -> dict[str, Any]:
    stored = json.loads(text)
    body: dict[str, Any] = {
        "ApproximateCreationDateTime": datetime.fromtimestamp(int(created), UTC),
        "Keys": restore_binary(stored["keys"]),
        "SequenceNumber": _sequence(seq),
        "SizeBytes": stored["size"],
        "StreamViewType": stream.view_type,
    }
    for field, name in (("new", "NewImage"), ("old", "OldImage")):
        if field in stored:
            body[name] = restore_binary(stored[field])
    record: dict[str, Any] = {
        "eventID": stored["id"],
        "eventName": stored["event"],
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": stream.region,
        "dynamodb": body,
    }
    if stored.get("service"):
        record["userIdentity"] = {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}
    return record
