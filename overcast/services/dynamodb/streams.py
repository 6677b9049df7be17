"""DynamoDB Streams: the read side of the change records the DynamoDB provider writes.

Each stream has one shard; records keep the order of the writes (one global sequence) and are readable for
24 hours of virtual time. Shard iterators are opaque tokens that expire after 15 minutes, as in AWS.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import ServiceProvider
from overcast.services.dynamodb.store import Store
from overcast.services.dynamodb.values import restore_binary, validation

RETENTION_SECONDS = 24 * 3600
ITERATOR_SECONDS = 15 * 60
MAX_RECORDS = 1000

_STREAM_COLUMNS = "id, account, region, table_name, arn, label, view_type, key_schema, created, disabled"


def _not_found(arn: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", f"Requested resource not found: Stream: {arn} not found")


def _sequence(seq: int) -> str:
    return f"{seq:021d}"


def shard_id(stream: tuple) -> str:
    return f"shardId-{int(stream[8] * 1000):020d}-{stream[0]:08x}"


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
        Store(self.db)  # the tables live in the DynamoDB store's migrations

    def _visible_after(self) -> float:
        return self.clock.now() - RETENTION_SECONDS

    def _stream(self, ctx: RequestContext, arn: str) -> tuple:
        row = self.db.one(
            f"SELECT {_STREAM_COLUMNS} FROM ddb_streams WHERE arn = ? AND account = ? AND region = ?",
            (arn, ctx.account_id, ctx.region),
        )
        if row is None or (row[9] is not None and row[9] < self._visible_after()):
            raise _not_found(arn)
        return row

    def list_streams(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = params.get("Limit", 100)
        sql = f"SELECT {_STREAM_COLUMNS} FROM ddb_streams WHERE account = ? AND region = ? AND (disabled IS NULL OR disabled >= ?)"
        args: list[Any] = [ctx.account_id, ctx.region, self._visible_after()]
        if params.get("TableName"):
            sql += " AND table_name = ?"
            args.append(params["TableName"])
        if params.get("ExclusiveStartStreamArn"):
            sql += " AND arn > ?"
            args.append(params["ExclusiveStartStreamArn"])
        rows = self.db.all(sql + " ORDER BY arn LIMIT ?", (*args, limit + 1))
        result: dict[str, Any] = {
            "Streams": [{"StreamArn": r[4], "TableName": r[3], "StreamLabel": r[5]} for r in rows[:limit]]
        }
        if len(rows) > limit:
            result["LastEvaluatedStreamArn"] = rows[limit - 1][4]
        return result

    def describe_stream(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stream = self._stream(ctx, params["StreamArn"])
        bounds = self.db.one(
            "SELECT MIN(seq), MAX(seq) FROM ddb_stream_records WHERE stream_id = ? AND created >= ?",
            (stream[0], self._visible_after()),
        )
        sequence_range: dict[str, str] = {"StartingSequenceNumber": _sequence(bounds[0] or 1)}  # type: ignore[index]
        if stream[9] is not None:
            sequence_range["EndingSequenceNumber"] = _sequence(bounds[1] or 1)  # type: ignore[index]
        shards = [{"ShardId": shard_id(stream), "SequenceNumberRange": sequence_range}]
        if params.get("ExclusiveStartShardId") == shards[0]["ShardId"]:
            shards = []
        return {
            "StreamDescription": {
                "StreamArn": stream[4],
                "StreamLabel": stream[5],
                "StreamStatus": "DISABLED" if stream[9] is not None else "ENABLED",
                "StreamViewType": stream[6],
                "CreationRequestDateTime": datetime.fromtimestamp(stream[8], UTC),
                "TableName": stream[3],
                "KeySchema": json.loads(stream[7]),
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
            row = self.db.one("SELECT MAX(seq) FROM ddb_stream_records WHERE stream_id = ?", (stream[0],))
            after = row[0] or 0  # type: ignore[index]
        else:
            number = params.get("SequenceNumber")
            if not number or not number.isdigit():
                raise validation(f"The sequence number is required for the {kind} iterator type")
            after = int(number) - (1 if kind == "AT_SEQUENCE_NUMBER" else 0)
        return {"ShardIterator": self._iterator(stream, after)}

    def _iterator(self, stream: tuple, after: int) -> str:
        token = json.dumps([stream[4], stream[0], after, self.clock.now()])
        return base64.urlsafe_b64encode(token.encode()).decode()

    def get_records(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn, stream_id, after, issued = self._read_iterator(params["ShardIterator"])
        if self.clock.now() - issued > ITERATOR_SECONDS:
            raise ServiceError("ExpiredIteratorException", "Iterator expired")
        stream = self._stream(ctx, arn)
        limit = min(params.get("Limit") or MAX_RECORDS, MAX_RECORDS)
        rows = self.db.all(
            "SELECT seq, created, record FROM ddb_stream_records WHERE stream_id = ? AND seq > ? AND created >= ? "
            "ORDER BY seq LIMIT ?",
            (stream_id, after, self._visible_after(), limit),
        )
        records = [self._record(ctx, stream, seq, created, text) for seq, created, text in rows]
        result: dict[str, Any] = {"Records": records}
        last = rows[-1][0] if rows else after
        if stream[9] is None or rows:
            result["NextShardIterator"] = self._iterator(stream, last)
        return result

    def _read_iterator(self, token: str) -> tuple[str, int, int, float]:
        try:
            arn, stream_id, after, issued = json.loads(base64.urlsafe_b64decode(token.encode()))
            return str(arn), int(stream_id), int(after), float(issued)
        except (ValueError, TypeError):
            raise validation("Invalid ShardIterator") from None

    def _record(
        self, ctx: RequestContext, stream: tuple, seq: int, created: float, text: str
    ) -> dict[str, Any]:
        stored = json.loads(text)
        body: dict[str, Any] = {
            "ApproximateCreationDateTime": datetime.fromtimestamp(int(created), UTC),
            "Keys": restore_binary(stored["keys"]),
            "SequenceNumber": _sequence(seq),
            "SizeBytes": stored["size"],
            "StreamViewType": stream[6],
        }
        for field, name in (("new", "NewImage"), ("old", "OldImage")):
            if field in stored:
                body[name] = restore_binary(stored[field])
        record: dict[str, Any] = {
            "eventID": stored["id"],
            "eventName": stored["event"],
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": stream[2],
            "dynamodb": body,
        }
        if stored.get("service"):
            record["userIdentity"] = {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}
        return record
