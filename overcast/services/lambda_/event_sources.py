"""Event source mappings: Lambda polls SQS queues and DynamoDB streams and invokes functions with batches.

Mappings are rows of `lambda_event_sources` (configuration as JSON). One poller task per enabled mapping
(started by `EventSourcePoller.run`) reads its source through the same in-process calls a client would
make (sqs ReceiveMessage/DeleteMessageBatch, dynamodbstreams GetShardIterator/GetRecords) as the
lambda.amazonaws.com service principal, and runs the function synchronously on a free concurrency slot.

SQS: a batch is up to BatchSize messages gathered for at most MaximumBatchingWindowInSeconds (virtual
clock); success deletes the batch, a function error leaves it in flight so it returns after the queue's
visibility timeout and, with the queue's redrive policy, reaches the dead-letter queue after
maxReceiveCount receives. With ReportBatchItemFailures only the reported messages stay. One batch at a
time per mapping, so FIFO order is kept.

DynamoDB Streams: records from StartingPosition in order; a failed batch is retried (halved first with
BisectBatchOnFunctionError) until MaximumRetryAttempts or MaximumRecordAgeInSeconds, then its description
goes to the OnFailure destination and the mapping moves past it.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import operator
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.identity import Principal
from overcast.services.base import Operations
from overcast.services.kit.arns import Arn, parse_arn
from overcast.services.kit.delivery import queue_url
from overcast.services.kit.paging import page_of
from overcast.services.lambda_.async_invoke import deliver_record
from overcast.services.lambda_.common import FUNCTION_REF, TAG_RULES, Scope, function_arn, marker_position
from overcast.services.lambda_.stream_records import (
    DYNAMODB,
    KINESIS,
    StreamShape,
    epoch,
    filterable,
    kinesis_event,
    ready_shards,
)

if TYPE_CHECKING:
    from overcast.services.lambda_.executor import Result
    from overcast.services.lambda_.provider import LambdaProvider

log = logging.getLogger("overcast.lambda")

_IDLE_WAIT = 0.2  # real seconds between empty polls of a stream
_SQS_WAIT = 1  # long poll (real seconds) of an SQS poller
_STREAM_RETRY_DELAY = 0.05


def _invalid(message: str) -> ServiceError:
    return ServiceError("InvalidParameterValueException", message)


def _kind(arn: str) -> str | None:
    parsed = parse_arn(arn)
    if parsed is None:
        return None
    if parsed.service == "dynamodb" and "/stream/" in arn:
        return "dynamodb"
    return parsed.service


def _source(arn: str) -> Arn:
    """A mapping's source ARN (checked when the mapping was created)."""
    parsed = parse_arn(arn)
    assert parsed is not None, arn
    return parsed


def _function_ref(function: str) -> tuple[str, str | None]:
    """(name, qualifier) of a mapping's FunctionArn."""
    match = FUNCTION_REF.match(function)
    assert match is not None, function
    return match["name"], match["qualifier"]


class EventSourceOperations(Operations):
    service: LambdaProvider

    async def create_event_source_mapping(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        service = self.service
        source = params.get("EventSourceArn")
        if not source:
            raise _invalid("Unrecognized event source, must be kinesis, dynamodb stream or sqs.")
        kind = _kind(source)
        if kind not in ("sqs", "dynamodb", "kinesis"):
            raise _invalid(
                f"Unsupported event source {source}: Overcast polls SQS queues, Kinesis and DynamoDB streams"
            )
        name, qualifier = service.parse_ref(ctx, params)
        with self.db.transaction():
            config = service.resolve(ctx, name, qualifier)
        target = function_arn(ctx, name, qualifier)
        settings = _settings(kind, params, None)
        fifo = kind == "sqs" and source.endswith(".fifo")
        _check_batch(kind, settings, fifo)
        principal = await service.role_principal(ctx.account_id, ctx.region, config)
        await self._check_source(kind, source, principal)
        now = self.clock.now()
        mapping_id = str(uuid.uuid4())
        mapping: dict[str, Any] = {
            "UUID": mapping_id,
            "EventSourceArn": source,
            "FunctionArn": target,
            "LastModified": now,
            "LastProcessingResult": "No records processed",
            "State": "Enabled" if params.get("Enabled", True) else "Disabled",
            "StateTransitionReason": "USER_INITIATED",
            "EventSourceMappingArn": ctx.arn("lambda", f"event-source-mapping:{mapping_id}"),
            **settings,
        }
        if kind == "dynamodb" and params.get("StartingPosition") == "AT_TIMESTAMP":
            raise _invalid("Unsupported starting position AT_TIMESTAMP for a DynamoDB stream")
        if params.get("StartingPositionTimestamp") is not None:
            mapping["StartingPositionTimestamp"] = epoch(params["StartingPositionTimestamp"])
        with self.db.transaction():
            existing = service.store.mapping_between(ctx.account_id, ctx.region, name, source, target)
            if existing:
                label = {"sqs": "SQS", "kinesis": "Kinesis"}.get(kind, "DynamoDB Stream")
                raise ServiceError(
                    "ResourceConflictException",
                    f'An event source mapping with {label} arn (" {source} ") and function (" {name} ") '
                    f"already exists. Please update or delete the existing mapping with UUID {existing}",
                )
            service.store.add_mapping(ctx.account_id, ctx.region, name, mapping)
            if kind == "kinesis":  # where each shard starts, kept so a restart resumes rather than skips
                since = mapping.get("StartingPositionTimestamp")
                if mapping["StartingPosition"] == "LATEST":
                    since = now
                service.store.set_mapping_position(mapping_id, json.dumps({"since": since, "shards": {}}))
            if params.get("Tags"):
                service.tags.add(
                    mapping["EventSourceMappingArn"],
                    params["Tags"],
                    TAG_RULES,
                    account=ctx.account_id,
                    region=ctx.region,
                )
        if kind == "dynamodb":
            await service.event_sources.fix_start(ctx.account_id, ctx.region, mapping)
        service.event_sources.wake()
        return _view(mapping, "Creating")

    async def _check_source(self, kind: str, source: str, principal: Principal) -> None:
        """The source exists and the execution role may read it (AWS checks both at creation)."""
        arn = _source(source)
        try:
            if kind == "sqs":
                await self.platform.call(
                    "sqs",
                    "GetQueueAttributes",
                    {"QueueUrl": queue_url(arn), "AttributeNames": ["QueueArn"]},
                    principal=principal,
                    account_id=arn.account,
                    region=arn.region,
                )
            elif kind == "kinesis":
                await self.platform.call(
                    "kinesis",
                    "DescribeStreamSummary",
                    {"StreamARN": source},
                    principal=principal,
                    account_id=arn.account,
                    region=arn.region,
                )
            else:
                await self.platform.call(
                    "dynamodbstreams",
                    "DescribeStream",
                    {"StreamArn": source},
                    principal=principal,
                    account_id=arn.account,
                    region=arn.region,
                )
        except ServiceError as error:
            operation = {"sqs": "GetQueueAttributes", "kinesis": "DescribeStreamSummary"}.get(
                kind, "DescribeStream"
            )
            service = {"sqs": "SQS", "kinesis": "Kinesis"}.get(kind, "DynamoDB Streams")
            if error.code == "AccessDenied":
                raise _invalid(
                    f"The provided execution role does not have permissions to call {operation} on {service}"
                ) from error
            raise _invalid(
                f"Error occurred while {operation}. {service} Error Code: {error.code}. "
                f"{service} Error Message: {error.message}"
            ) from error

    def _mapping(self, ctx: RequestContext, mapping_id: str) -> dict[str, Any]:
        mapping = self.service.store.mapping(ctx.account_id, ctx.region, mapping_id)
        if mapping is None:
            raise ServiceError("ResourceNotFoundException", "The resource you requested does not exist.", 404)
        return mapping

    def get_event_source_mapping(self, ctx: RequestContext, params: dict[str, Any]) -> dict:
        return _view(self._mapping(ctx, params["UUID"]))

    def update_event_source_mapping(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service = self.service
        mapping = self._mapping(ctx, params["UUID"])
        kind = _kind(mapping["EventSourceArn"])
        if params.get("FunctionName"):
            name, qualifier = service.parse_ref(ctx, params)
            service.resolve(ctx, name, qualifier)
            mapping["FunctionArn"] = function_arn(ctx, name, qualifier)
        else:
            name, _ = _function_ref(mapping["FunctionArn"])
        mapping.update(_settings(kind, params, mapping))
        _check_batch(kind, mapping, mapping["EventSourceArn"].endswith(".fifo"))
        transition = "Updating"
        if "Enabled" in params:
            wanted = "Enabled" if params["Enabled"] else "Disabled"
            if wanted != mapping["State"]:
                transition = "Enabling" if params["Enabled"] else "Disabling"
            mapping["State"] = wanted
        mapping["LastModified"] = self.clock.now()
        service.store.put_mapping(name, mapping)
        self.db.after_commit(service.event_sources.wake)
        return _view(mapping, transition)

    def delete_event_source_mapping(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        mapping = self._mapping(ctx, params["UUID"])
        self.service.store.delete_mapping(mapping["UUID"])
        self.service.tags.forget(mapping["EventSourceMappingArn"])
        self.db.after_commit(self.service.event_sources.wake)
        return _view(mapping, "Deleting")

    def list_event_source_mappings(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, qualifier = self.service.parse_ref(ctx, params) if params.get("FunctionName") else (None, None)
        after = marker_position(params, "EventSourceMappings", str) or ""
        mappings = self.service.store.mappings(
            ctx.account_id, ctx.region, params.get("EventSourceArn"), name, after
        )
        if qualifier:
            mappings = [m for m in mappings if m["FunctionArn"].endswith(f":{qualifier}")]
        limit = params.get("MaxItems") or 100
        shown, token = page_of(mappings, limit, lambda mapping: mapping["UUID"], "EventSourceMappings")
        result: dict[str, Any] = {"EventSourceMappings": [_view(m) for m in shown]}
        if token:
            result["NextMarker"] = token
        return result


def _settings(kind: str, params: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
    """The mapping's tunable settings: what `params` sets over `current` (or AWS's defaults)."""
    if current is None:
        if kind == "sqs":
            if params.get("StartingPosition"):
                raise _invalid("StartingPosition is not valid for SQS event sources.")
            base: dict[str, Any] = {"BatchSize": 10, "MaximumBatchingWindowInSeconds": 0}
        else:
            if not params.get("StartingPosition"):
                source = "Kinesis streams" if kind == "kinesis" else "DynamoDB streams"
                raise _invalid(f"1 validation error detected: StartingPosition is required for {source}")
            base = {
                "BatchSize": 100,
                "MaximumBatchingWindowInSeconds": 0,
                "StartingPosition": params["StartingPosition"],
                "ParallelizationFactor": 1,
                "MaximumRecordAgeInSeconds": -1,
                "BisectBatchOnFunctionError": False,
                "MaximumRetryAttempts": -1,
                "TumblingWindowInSeconds": 0,
                "DestinationConfig": {"OnFailure": {}},
            }
        base["FunctionResponseTypes"] = []
    else:
        base = {}
    keys = ["BatchSize", "MaximumBatchingWindowInSeconds", "FunctionResponseTypes", "FilterCriteria"]
    keys += ["ScalingConfig"] if kind == "sqs" else []
    stream_keys = [
        "MaximumRecordAgeInSeconds",
        "BisectBatchOnFunctionError",
        "MaximumRetryAttempts",
        "ParallelizationFactor",
        "TumblingWindowInSeconds",
        "DestinationConfig",
    ]
    for key in keys + stream_keys:
        if key in params:
            if key in stream_keys and kind == "sqs":
                raise _invalid(f"Unsupported parameter for SQS event sources: {key}")
            base[key] = params[key]
    age = base.get("MaximumRecordAgeInSeconds")
    if age is not None and age != -1 and not 60 <= age <= 604800:
        raise _invalid("MaximumRecordAgeInSeconds must be -1 or between 60 and 604800")
    destination = (base.get("DestinationConfig") or {}).get("OnFailure", {}).get("Destination")
    if destination and _kind(destination) not in ("sqs", "sns"):
        raise _invalid(f"The destination ARN {destination} is invalid: use an SQS queue or SNS topic")
    if "FilterCriteria" in base and base["FilterCriteria"].get("Filters"):
        for entry in base["FilterCriteria"]["Filters"]:
            try:
                json.loads(entry.get("Pattern", ""))
            except ValueError:
                raise _invalid(f"Invalid filter pattern definition: {entry.get('Pattern')}") from None
    return base


def _check_batch(kind: str, settings: dict[str, Any], fifo: bool) -> None:
    size = settings.get("BatchSize")
    if size is None:
        return
    limit = 10 if fifo else 10000
    if not 1 <= size <= limit:
        raise _invalid(
            f"BatchSize must be between 1 and {limit} for {'FIFO queues' if fifo else 'this event source'}."
        )
    if kind == "sqs" and size > 10 and not settings.get("MaximumBatchingWindowInSeconds"):
        raise _invalid(
            "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10"
        )
    window = settings.get("MaximumBatchingWindowInSeconds") or 0
    if not 0 <= window <= 300:
        raise _invalid("MaximumBatchingWindowInSeconds must be between 0 and 300")


def _view(mapping: dict[str, Any], state: str | None = None) -> dict[str, Any]:
    view = dict(mapping, LastModified=datetime.fromtimestamp(mapping["LastModified"], UTC))
    if state:
        view["State"] = state
    return view


class EventSourcePoller:
    """One task per enabled mapping; `run` starts and retires them as mappings come and go."""

    def __init__(self, provider: LambdaProvider) -> None:
        self.provider = provider
        self.store = provider.store
        self.db = provider.db
        self.clock = provider.clock
        self._tasks: dict[str, asyncio.Task] = {}
        self._iterators: dict[str, str] = {}  # mapping -> next shard iterator
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    def forget(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        self._tasks.clear()
        self._iterators.clear()

    async def run(self) -> None:
        while True:
            self._wake.clear()
            try:
                for mapping_id in self.store.enabled_mappings():
                    task = self._tasks.get(mapping_id)
                    if task is None or task.done():
                        self._tasks[mapping_id] = asyncio.ensure_future(self._poll(mapping_id))
            except Exception:
                log.exception("event source mapping dispatch failed")
            try:
                await asyncio.wait_for(self._wake.wait(), 2.0)
            except TimeoutError:
                pass

    def _load(self, mapping_id: str) -> tuple[str, str, dict[str, Any]] | None:
        """(account, region, configuration) of an enabled mapping; None once disabled or deleted."""
        found = self.store.mapping_by_id(mapping_id)
        if found is None or found[2]["State"] != "Enabled":
            return None
        return found

    def _save(self, mapping_id: str, result: str | None = None, position: str | None = None) -> None:
        with self.db.transaction():
            if result is not None:
                self.store.set_mapping_result(mapping_id, result)
            if position is not None:
                self.store.set_mapping_position(mapping_id, position)

    async def _poll(self, mapping_id: str) -> None:
        try:
            while True:
                loaded = self._load(mapping_id)
                if loaded is None:
                    return
                account, region, mapping = loaded
                try:
                    kind = _kind(mapping["EventSourceArn"])
                    if kind == "sqs":
                        busy = await self._sqs_round(mapping_id, account, region, mapping)
                    elif kind == "kinesis":
                        busy = await self._kinesis_round(mapping_id, account, region, mapping)
                    else:
                        busy = await self._stream_round(mapping_id, account, region, mapping)
                except ServiceError as error:
                    log.info("event source %s: %s", mapping["EventSourceArn"], error)
                    busy = False
                if not busy:
                    await self.clock.wait_for_change(_IDLE_WAIT)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("event source mapping %s stopped", mapping_id)

    async def _call(
        self, owner: str, region: str, mapping: dict, service: str, operation: str, params: dict
    ) -> dict:
        """A call to the event source, as the function's execution role (as Lambda polls in AWS)."""
        source = _source(mapping["EventSourceArn"])
        function, _ = _function_ref(mapping["FunctionArn"])
        config = self.store.version(owner, region, function, "$LATEST")
        if config is None:
            raise ServiceError("ResourceNotFoundException", f"Function not found: {mapping['FunctionArn']}")
        principal = await self.provider.role_principal(owner, region, config)
        return await self.provider.platform.call(
            service, operation, params, principal=principal, account_id=source.account, region=source.region
        )

    async def _invoke(
        self, account: str, region: str, mapping: dict[str, Any], event: dict[str, Any]
    ) -> Result | None:
        """Run the function once with `event`; None when no concurrency slot freed up (throttled)."""
        name, qualifier = _function_ref(mapping["FunctionArn"])
        provider = self.provider
        for _ in range(20):
            acquired, reserved = provider.try_acquire(account, region, name)
            if acquired:
                break
            await asyncio.sleep(0.05)
        else:
            self._save(mapping["UUID"], "PROBLEM: Function call failed")  # throttled
            return None
        try:
            config, _ = provider.version_for_invoke(Scope(account, region), name, qualifier)
            payload = json.dumps(event).encode()
            return await provider.execute(account, region, config, qualifier, payload, str(uuid.uuid4()))
        finally:
            provider.executor.release(account, region, name, reserved)

    # -- SQS ---------------------------------------------------------------------------------------

    async def _sqs_round(self, mapping_id: str, account: str, region: str, mapping: dict[str, Any]) -> bool:
        arn = mapping["EventSourceArn"]
        source = _source(arn)
        queue_region = source.region
        url = queue_url(source)
        size = mapping.get("BatchSize", 10)
        window = mapping.get("MaximumBatchingWindowInSeconds") or 0
        deadline = self.clock.now() + window
        messages: list[dict[str, Any]] = []
        while len(messages) < size:
            found = await self._call(
                account,
                region,
                mapping,
                "sqs",
                "ReceiveMessage",
                {
                    "QueueUrl": url,
                    "MaxNumberOfMessages": min(10, size - len(messages)),
                    "WaitTimeSeconds": 0 if messages and window == 0 else _SQS_WAIT,
                    "MessageSystemAttributeNames": ["All"],
                    "MessageAttributeNames": ["All"],
                },
            )
            got = found.get("Messages") or []
            messages.extend(got)
            if self._load(mapping_id) is None:
                return False  # disabled or deleted while polling: the messages return on their own
            if self.clock.now() >= deadline and (messages or window == 0):
                break
            if not got and not messages:
                return False
            if not got:
                await self.clock.wait_for_change(min(_IDLE_WAIT, max(deadline - self.clock.now(), 0.01)))
        if not messages:
            return False
        patterns = _patterns(mapping)
        if patterns:  # messages no filter matches are deleted without invoking, as AWS does
            dropped = [
                m for m in messages if not _matches_any(patterns, _sqs_record(m, arn, queue_region), "body")
            ]
            await self._delete_messages(account, region, mapping, url, dropped)
            messages = [m for m in messages if m not in dropped]
            if not messages:
                return True
        event = {"Records": [_sqs_record(m, arn, queue_region) for m in messages]}
        result = await self._invoke(account, region, mapping, event)
        if result is None:
            return True
        if not result.function_error:
            failed = _batch_failures(mapping, result, {m["MessageId"] for m in messages})
        else:
            failed = None
        if failed is None:  # the whole batch failed: it returns after the visibility timeout
            self._save(mapping_id, "PROBLEM: Function call failed")
            return True
        done = [m for m in messages if m["MessageId"] not in failed]
        await self._delete_messages(account, region, mapping, url, done)
        self._save(mapping_id, "OK")
        return True

    async def _delete_messages(
        self, account: str, region: str, mapping: dict[str, Any], url: str, messages: list[dict[str, Any]]
    ) -> None:
        """DeleteMessageBatch, 10 entries a call, as the execution role (authorized as sqs:DeleteMessage, the
        permission AWS's AWSLambdaSQSQueueExecutionRole grants). An entry that fails (its receipt handle
        expired) is left alone: the message comes back after its visibility timeout, as in AWS."""
        for start in range(0, len(messages), 10):
            chunk = messages[start : start + 10]
            answer = await self._call(
                account,
                region,
                mapping,
                "sqs",
                "DeleteMessageBatch",
                {
                    "QueueUrl": url,
                    "Entries": [
                        {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                        for index, message in enumerate(chunk)
                    ],
                },
            )
            for failed in answer.get("Failed") or []:
                log.info("mapping %s: message not deleted: %s", mapping["UUID"], failed.get("Message"))

    # -- Kinesis ---------------------------------------------------------------------------------------

    async def _kinesis_round(
        self, mapping_id: str, account: str, region: str, mapping: dict[str, Any]
    ) -> bool:
        """One pass over the shards ready to read (a child only once its parents are read to their end),
        a batch each, checkpointing per shard."""
        arn = mapping["EventSourceArn"]
        state = json.loads(self.store.mapping_position(mapping_id) or "{}")
        positions: dict[str, str] = state.setdefault("shards", {})
        finished = set(state.get("finished", []))
        shards, token = [], None
        while True:
            page = await self._call(
                account,
                region,
                mapping,
                "kinesis",
                "ListShards",
                {"NextToken": token} if token else {"StreamARN": arn},
            )
            shards += page.get("Shards") or []
            token = page.get("NextToken")
            if not token:
                break
        function, _ = _function_ref(mapping["FunctionArn"])
        config = self.store.version(account, region, function, "$LATEST") or {}
        busy = False
        for shard in ready_shards(shards, finished):
            key = f"{mapping_id}/{shard}"
            iterator = self._iterators.get(key)
            if iterator is None:
                iterator = await self._kinesis_iterator(account, region, mapping, shard, positions, state)
            try:
                found = await self._call(
                    account,
                    region,
                    mapping,
                    "kinesis",
                    "GetRecords",
                    {
                        "ShardIterator": iterator,
                        "Limit": min(mapping.get("BatchSize", 100), 10000),
                        "StreamARN": arn,
                    },
                )
            except ServiceError as error:
                self._iterators.pop(key, None)
                if error.code in ("ExpiredIteratorException", "ProvisionedThroughputExceededException"):
                    continue  # a new iterator from the checkpoint next time; a read limit passes
                raise
            records = found.get("Records") or []
            if records:
                events = [kinesis_event(r, shard, arn, region, config.get("Role", "")) for r in records]
                patterns = _patterns(mapping)
                if patterns:
                    events = [e for e in events if _matches_any(patterns, filterable(e), "data")]
                if events and not await self._process_stream_batch(
                    mapping_id, account, region, mapping, events, KINESIS
                ):
                    self._iterators.pop(key, None)  # disabled mid-batch: resume from the checkpoint
                    return False
                positions[shard] = records[-1]["SequenceNumber"]
                busy = True
            following = found.get("NextShardIterator")
            if following is None:  # a closed shard read to its end: its children may start
                finished.add(shard)
                self._iterators.pop(key, None)
                busy = True
            else:
                self._iterators[key] = following
            state["finished"] = sorted(finished)
            self._save(mapping_id, position=json.dumps(state))
        return busy

    async def _kinesis_iterator(
        self,
        account: str,
        region: str,
        mapping: dict[str, Any],
        shard: str,
        positions: dict[str, str],
        state: dict[str, Any],
    ) -> str:
        request: dict[str, Any] = {"StreamARN": mapping["EventSourceArn"], "ShardId": shard}
        if shard in positions:
            request.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=positions[shard])
        elif state.get("since") is not None:
            request.update(
                ShardIteratorType="AT_TIMESTAMP", Timestamp=datetime.fromtimestamp(state["since"], UTC)
            )
        else:
            request["ShardIteratorType"] = "TRIM_HORIZON"
        answer = await self._call(account, region, mapping, "kinesis", "GetShardIterator", request)
        return answer["ShardIterator"]

    # -- DynamoDB Streams --------------------------------------------------------------------------

    async def fix_start(self, account: str, region: str, mapping: dict[str, Any]) -> None:
        """A LATEST mapping starts after the records that exist when it is created."""
        if mapping.get("StartingPosition") != "LATEST":
            return
        iterator = await self._iterator(account, region, mapping, "LATEST", None)
        self._iterators[mapping["UUID"]] = iterator

    async def _iterator(
        self, account: str, region: str, mapping: dict[str, Any], kind: str, after: str | None
    ) -> str:
        arn = mapping["EventSourceArn"]
        described = await self._call(
            account, region, mapping, "dynamodbstreams", "DescribeStream", {"StreamArn": arn}
        )
        shard = described["StreamDescription"]["Shards"][0]["ShardId"]
        request = {"StreamArn": arn, "ShardId": shard, "ShardIteratorType": kind}
        if after:
            request["SequenceNumber"] = after
        return (await self._call(account, region, mapping, "dynamodbstreams", "GetShardIterator", request))[
            "ShardIterator"
        ]

    async def _stream_round(
        self, mapping_id: str, account: str, region: str, mapping: dict[str, Any]
    ) -> bool:
        arn = mapping["EventSourceArn"]
        iterator = self._iterators.get(mapping_id)
        if iterator is None:
            position = self.store.mapping_position(mapping_id)
            if position:
                iterator = await self._iterator(account, region, mapping, "AFTER_SEQUENCE_NUMBER", position)
            else:
                start = "LATEST" if mapping.get("StartingPosition") == "LATEST" else "TRIM_HORIZON"
                iterator = await self._iterator(account, region, mapping, start, None)
        try:
            found = await self._call(
                account,
                region,
                mapping,
                "dynamodbstreams",
                "GetRecords",
                {"ShardIterator": iterator, "Limit": min(mapping.get("BatchSize", 100), 1000)},
            )
        except ServiceError as error:
            if error.code == "ExpiredIteratorException":
                self._iterators.pop(mapping_id, None)
                return True
            raise
        records = found.get("Records") or []
        if not records:
            if found.get("NextShardIterator"):
                self._iterators[mapping_id] = found["NextShardIterator"]
            return False
        events = [_stream_record(r, arn) for r in records]
        patterns = _patterns(mapping)
        if patterns:  # records no filter matches are skipped
            kept = [e for e in events if _matches_any(patterns, e, None)]
            if not kept:
                self._save(mapping_id, position=events[-1]["dynamodb"]["SequenceNumber"])
                self._iterators[mapping_id] = found["NextShardIterator"]
                return True
            last = events[-1]["dynamodb"]["SequenceNumber"]
            events = kept
        else:
            last = events[-1]["dynamodb"]["SequenceNumber"]
        if not await self._process_stream_batch(mapping_id, account, region, mapping, events):
            self._iterators.pop(mapping_id, None)  # disabled mid-batch: resume from the saved position
            return False
        self._save(mapping_id, position=last)
        self._iterators[mapping_id] = found["NextShardIterator"]
        return True

    async def _process_stream_batch(
        self,
        mapping_id: str,
        account: str,
        region: str,
        mapping: dict[str, Any],
        events: list[dict],
        shape: StreamShape | None = None,
    ) -> bool:
        """Run a batch until it succeeds or is given up (then its description goes to OnFailure); False when
        the mapping was disabled or deleted first. `shape` reads the records of the stream kind (DynamoDB's by
        default)."""
        shape = shape or DYNAMODB
        pending = [events]
        while pending:
            batch = pending.pop(0)
            attempts = 0
            while True:
                if self._load(mapping_id) is None:
                    return False
                attempts += 1
                result = await self._invoke(account, region, mapping, {"Records": batch})
                if result is not None and not result.function_error:
                    failed = _batch_failures(mapping, result, {shape.sequence(e) for e in batch})
                    if failed == set():
                        self._save(mapping_id, "OK")
                        break
                    if failed:  # retry from the first reported record on
                        first = min(failed, key=int)
                        batch = [e for e in batch if int(shape.sequence(e)) >= int(first)]
                self._save(mapping_id, "PROBLEM: Function call failed")
                if mapping.get("BisectBatchOnFunctionError") and len(batch) > 1:
                    half = len(batch) // 2
                    pending[:0] = [batch[:half], batch[half:]]
                    break
                retries = mapping.get("MaximumRetryAttempts", -1)
                max_age = mapping.get("MaximumRecordAgeInSeconds", -1)
                oldest = shape.arrived(batch[0]) or self.clock.now()
                too_old = max_age != -1 and self.clock.now() - oldest > max_age
                if too_old or (retries != -1 and attempts > retries):
                    condition = "RecordAgeExceeded" if too_old else "RetryAttemptsExhausted"
                    await self._on_failure(
                        account, region, mapping, batch, result, attempts, condition, shape
                    )
                    break
                await self.clock.wait_for_change(_STREAM_RETRY_DELAY)
        return True

    async def _on_failure(
        self,
        account: str,
        region: str,
        mapping: dict[str, Any],
        batch: list[dict],
        result: Result | None,
        attempts: int,
        condition: str,
        shape: StreamShape | None = None,
    ) -> None:
        shape = shape or DYNAMODB
        target = (mapping.get("DestinationConfig") or {}).get("OnFailure", {}).get("Destination")
        if not target:
            return
        first, last = batch[0], batch[-1]
        response: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
        if result is not None and result.function_error:
            response["functionError"] = result.function_error
        record = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": mapping["FunctionArn"],
                "condition": condition,
                "approximateInvokeCount": attempts,
            },
            "responseContext": response,
            "version": "1.0",
            "timestamp": arrival(self.clock.now()),
            shape.batch_info: {
                "shardId": shape.shard(first),
                "startSequenceNumber": shape.sequence(first),
                "endSequenceNumber": shape.sequence(last),
                "approximateArrivalOfFirstRecord": arrival(shape.arrived(first) or 0),
                "approximateArrivalOfLastRecord": arrival(shape.arrived(last) or 0),
                "batchSize": len(batch),
                "streamArn": mapping["EventSourceArn"],
            },
        }
        source = function_arn(Scope(account, region), _function_ref(mapping["FunctionArn"])[0])
        await deliver_record(self.provider, account, source, target, json.dumps(record))


def arrival(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _batch_failures(mapping: dict[str, Any], result: Result, ids: set[str]) -> set[str] | None:
    """Reported failures (ReportBatchItemFailures): a set of ids, empty on success, None for 'all failed'."""
    if "ReportBatchItemFailures" not in (mapping.get("FunctionResponseTypes") or []):
        return set()
    if not result.payload.strip():
        return set()
    try:
        response = json.loads(result.payload)
    except ValueError:
        return None
    if not isinstance(response, dict) or not response.get("batchItemFailures"):
        return set()
    failed = set()
    for item in response["batchItemFailures"]:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not identifier or identifier not in ids:
            return None
        failed.add(identifier)
    return failed


def _patterns(mapping: dict[str, Any]) -> list[dict[str, Any]]:
    filters = (mapping.get("FilterCriteria") or {}).get("Filters") or []
    return [json.loads(f["Pattern"]) for f in filters if f.get("Pattern")]


def _matches_any(patterns: list[dict[str, Any]], record: dict[str, Any], json_field: str | None) -> bool:
    """Event filtering: a record passes when any pattern matches it (an SQS body is matched as JSON when
    it is a JSON object, as a plain string otherwise)."""
    if json_field and isinstance(record.get(json_field), str):
        try:
            parsed = json.loads(record[json_field])
            if isinstance(parsed, dict):
                record = dict(record, **{json_field: parsed})
        except ValueError:
            pass
    return any(_match(pattern, record) for pattern in patterns)


def _match(pattern: dict[str, Any], data: Any) -> bool:
    if not isinstance(data, dict):
        return False
    for key, rule in pattern.items():
        present = key in data
        value = data.get(key)
        if isinstance(rule, dict):
            if not present or not _match(rule, value):
                return False
            continue
        rules = rule if isinstance(rule, list) else [rule]
        values = value if isinstance(value, list) else [value]
        if not any(_rule(r, v, present) for r in rules for v in values or [None]):
            return False
    return True


def _rule(rule: Any, value: Any, present: bool) -> bool:
    """One EventBridge-style comparison (the event filtering syntax Lambda uses)."""
    if not isinstance(rule, dict):
        return present and value == rule
    if "exists" in rule:
        return present == bool(rule["exists"])
    if not present:
        return False
    if "prefix" in rule:
        return isinstance(value, str) and value.startswith(rule["prefix"])
    if "suffix" in rule:
        return isinstance(value, str) and value.endswith(rule["suffix"])
    if "equals-ignore-case" in rule:
        return isinstance(value, str) and value.lower() == str(rule["equals-ignore-case"]).lower()
    if "anything-but" in rule:
        excluded = rule["anything-but"]
        if isinstance(excluded, dict):
            return not _rule(excluded, value, present)
        return value not in (excluded if isinstance(excluded, list) else [excluded])
    if "numeric" in rule:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        terms = rule["numeric"]
        checks = {"=": operator.eq, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
        pairs = [(terms[i], terms[i + 1]) for i in range(0, len(terms) - 1, 2)]
        return all(op in checks and checks[op](value, bound) for op, bound in pairs)
    return False


def _sqs_record(message: dict[str, Any], arn: str, region: str) -> dict[str, Any]:
    attributes = {k: str(v) for k, v in (message.get("Attributes") or {}).items()}
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": attributes,
        "messageAttributes": {
            name: _sqs_attribute(value) for name, value in (message.get("MessageAttributes") or {}).items()
        },
        "md5OfBody": message.get("MD5OfBody"),
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
        "awsRegion": region,
    }
    if message.get("MD5OfMessageAttributes"):
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def _sqs_attribute(value: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"stringListValues": [], "binaryListValues": [], "dataType": value["DataType"]}
    if "StringValue" in value:
        out["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        out["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
    return out


def _stream_record(record: dict[str, Any], arn: str) -> dict[str, Any]:
    event = _jsonable(record)
    event["eventSourceARN"] = arn
    return event


def _jsonable(value: Any) -> Any:
    """A boto3-shaped record as Lambda's JSON event has it: datetimes as epoch seconds, binary as base64."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | set | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    return value
