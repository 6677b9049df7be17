"""One flush of a delivery stream's buffer: transformation, dynamic partitioning, compression, and delivery
to S3 (through `Platform.call("s3", "PutObject")` as firehose.amazonaws.com) or to an HTTP endpoint.

A flush that cannot deliver (the bucket is missing, the policy refuses Firehose) leaves the records in the
buffer and is tried again with backoff on the virtual clock; S3 delivery is retried for 24 hours, as AWS does.
Records the transformation fails, records dynamic partitioning cannot key, and batches the HTTP endpoint
refuses past its retry duration go to the destination's bucket under the error output prefix.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import logging
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from overcast.errors import ServiceError
from overcast.identity import Principal, service_principal
from overcast.services.firehose import prefixes, transform
from overcast.services.firehose.compression import EXTENSIONS, compress
from overcast.services.firehose.jq import MissingKey, compile_query
from overcast.services.firehose.store import Buffered, DeliveryStream
from overcast.services.kit import roles
from overcast.services.kit.arns import parse_arn
from overcast.services.kit.outbound import tls_context

if TYPE_CHECKING:
    from overcast.services.firehose.provider import FirehoseProvider

log = logging.getLogger("overcast.firehose")

S3_RETRY_SECONDS = 24 * 3600
HTTP_TIMEOUT = 30.0
MB = 1024 * 1024


class DeliveryFailed(Exception):
    """The batch could not be delivered now; the buffer keeps it for the next attempt."""


def buffering(destination: dict[str, Any]) -> tuple[int, float]:
    """(size in bytes, interval in seconds) that trigger a flush."""
    hints = destination["config"].get("BufferingHints") or {}
    return int(hints.get("SizeInMBs", 5)) * MB, float(hints.get("IntervalInSeconds", 300))


def s3_config(destination: dict[str, Any]) -> dict[str, Any]:
    """The S3 configuration a destination writes objects (or failed records) to."""
    config = destination["config"]
    if destination["kind"] in ("ExtendedS3", "S3"):
        return config
    return config.get("S3Configuration") or {}


class Delivery:
    def __init__(self, service: FirehoseProvider) -> None:
        self.service = service
        self.platform = service.platform
        self.clock = service.clock

    async def flush(self, stream: DeliveryStream) -> None:
        """Deliver what the stream's buffer holds; raises DeliveryFailed to be tried again later."""
        size, _ = buffering(stream.destination)
        with self.service.db.transaction():
            records = self.service.store.buffered(stream.id, size)
            if not records:  # nothing left: recount the (empty) buffer so it is no longer due
                self.service.store.release(stream.id, 0)
                return
        outcome = await self._transform(stream, records)
        kind = stream.destination["kind"]
        if kind == "HttpEndpoint":
            await self._to_http_endpoint(stream, records, outcome)
        else:
            await self._to_s3(stream, records, outcome)
        with self.service.db.transaction():
            self.service.store.release(stream.id, records[-1].id)

    # -- transformation ------------------------------------------------------------------------------

    async def _transform(self, stream: DeliveryStream, records: list[Buffered]) -> transform.Outcome:
        config = stream.destination["config"]
        function = transform.lambda_processor(config)
        if function is None:
            outcome = transform.Outcome(ok=[(r, r.data, {}) for r in records])
        else:
            outcome = transform.Outcome()
            retries = int(function.get("NumberOfRetries", transform.DEFAULT_RETRIES))
            batches = transform.invocation_batches(
                records, float(function.get("BufferSizeInMBs", transform.DEFAULT_BUFFER_MB))
            )
            for batch in batches:
                await self._invoke(stream, function["LambdaArn"], batch, retries, outcome)
        self._extract_metadata(config, outcome)
        return outcome

    async def _invoke(
        self,
        stream: DeliveryStream,
        function: str,
        batch: list[Buffered],
        retries: int,
        outcome: transform.Outcome,
    ) -> None:
        source = (stream.source.get("KinesisStreamSourceDescription") or {}).get("KinesisStreamARN")
        payload = transform.event(stream.arn, stream.region, batch, source)
        problem = ("Lambda.FunctionError", "The Lambda function was not invoked.")
        for _ in range(retries + 1):
            try:
                answer = await self.platform.call(
                    "lambda",
                    "Invoke",
                    {"FunctionName": function, "InvocationType": "RequestResponse", "Payload": payload},
                    principal=await acting_as(
                        self.platform, stream, stream.destination["config"].get("RoleARN")
                    ),
                    account_id=_account_of(function, stream.account),
                    region=stream.region,
                    condition_keys={"aws:SourceArn": stream.arn, "aws:SourceAccount": stream.account},
                )
            except ServiceError as error:
                problem = (f"Lambda.{error.code}", error.message)
                continue
            body = answer.get("Payload") or b""
            if answer.get("FunctionError"):
                problem = ("Lambda.FunctionError", body.decode("utf-8", "replace")[:1000])
                continue
            transform.read_answer(body, batch, outcome)
            return
        for record in batch:
            outcome.failed.append((record, *problem))

    def _extract_metadata(self, config: dict[str, Any], outcome: transform.Outcome) -> None:
        """Partition keys from the MetadataExtraction processor's jq query (dynamic partitioning)."""
        query_text = None
        for processor in transform.processors(config):
            if processor["Type"] == "MetadataExtraction":
                query_text = transform.parameters(processor).get("MetadataExtractionQuery")
        if not query_text:
            return
        query = compile_query(query_text)
        kept = []
        for record, data, keys in outcome.ok:
            try:
                found = query(json.loads(data))
            except (ValueError, MissingKey) as problem:
                message = f"Non JSON record or missing partition key: {problem}"
                outcome.failed.append((record, "DynamicPartitioning.MetadataExtractionFailed", message))
                continue
            kept.append((record, data, {**keys, **found}))
        outcome.ok = kept

    # -- S3 ------------------------------------------------------------------------------------------

    async def _to_s3(
        self, stream: DeliveryStream, records: list[Buffered], outcome: transform.Outcome
    ) -> None:
        config = s3_config(stream.destination)
        moment = self._moment(stream, records)
        delimiter = self._delimiter(stream.destination["config"])
        groups: dict[tuple, list[bytes]] = {}
        group_keys: dict[tuple, dict[str, str]] = {}
        for _, data, keys in outcome.ok:
            group = tuple(sorted(keys.items())) if self._partitioned(stream) else ()
            groups.setdefault(group, []).append(data + delimiter)
            group_keys[group] = keys
        fmt = config.get("CompressionFormat") or "UNCOMPRESSED"
        extension = stream.destination["config"].get("FileExtension") or EXTENSIONS.get(fmt, "")
        for group, parts in groups.items():
            prefix = prefixes.object_prefix(config.get("Prefix"), moment, group_keys[group])
            key = prefix + prefixes.object_name(stream.name, stream.version, moment, extension)
            await self._put(stream, config, key, compress(b"".join(parts), fmt))
        await self._errors(stream, config, moment, outcome.failed, "processing-failed")
        backup = stream.destination["config"].get("S3BackupConfiguration")
        if backup and stream.destination["config"].get("S3BackupMode") == "Enabled":
            key = prefixes.object_prefix(backup.get("Prefix"), moment, {}) + prefixes.object_name(
                stream.name, stream.version, moment, EXTENSIONS.get(backup.get("CompressionFormat") or "", "")
            )
            body = compress(
                b"".join(r.data for r in records), backup.get("CompressionFormat") or "UNCOMPRESSED"
            )
            await self._put(stream, backup, key, body)

    async def _errors(
        self,
        stream: DeliveryStream,
        config: dict[str, Any],
        moment: datetime,
        failed: list[tuple[Buffered, str, str]],
        default_type: str,
    ) -> None:
        by_type: dict[str, list[bytes]] = {}
        function = transform.lambda_processor(stream.destination["config"])
        extra = {"lambdaArn": function["LambdaArn"]} if function else {}
        now = self.clock.now()
        for record, code, message in failed:
            kind = "partitioning-failed" if code.startswith("DynamicPartitioning") else default_type
            by_type.setdefault(kind, []).append(transform.error_line(record, code, message, 1, now, extra))
        for kind, lines in by_type.items():
            prefix = prefixes.error_prefix(config.get("ErrorOutputPrefix"), moment, kind)
            key = prefix + prefixes.object_name(stream.name, stream.version, moment, "")
            await self._put(stream, config, key, b"".join(lines))

    async def _put(self, stream: DeliveryStream, config: dict[str, Any], key: str, body: bytes) -> None:
        bucket = parse_arn(config.get("BucketARN", "")) or parse_arn("arn:aws:s3:::missing")
        assert bucket is not None
        try:
            await self.platform.call(
                "s3",
                "PutObject",
                {"Bucket": bucket.resource, "Key": key, "Body": body},
                principal=await acting_as(self.platform, stream, config.get("RoleARN")),
                account_id=stream.account,
                region=stream.region,
                condition_keys={"aws:SourceArn": stream.arn, "aws:SourceAccount": stream.account},
            )
        except ServiceError as error:
            raise DeliveryFailed(
                f"S3 PutObject s3://{bucket.resource}/{key}: {error.code}: {error.message}"
            ) from None

    def _moment(self, stream: DeliveryStream, records: list[Buffered]) -> datetime:
        """The arrival time of the batch's oldest record, in the destination's time zone (UTC by default)."""
        zone_name = stream.destination["config"].get("CustomTimeZone") or "UTC"
        try:
            zone: Any = ZoneInfo(zone_name)
        except (KeyError, ValueError):
            zone = UTC
        return datetime.fromtimestamp(min(r.arrival for r in records), zone)

    @staticmethod
    def _partitioned(stream: DeliveryStream) -> bool:
        return bool(
            (stream.destination["config"].get("DynamicPartitioningConfiguration") or {}).get("Enabled")
        )

    @staticmethod
    def _delimiter(config: dict[str, Any]) -> bytes:
        for processor in transform.processors(config):
            if processor["Type"] == "AppendDelimiterToRecord":
                text = transform.parameters(processor).get("Delimiter", "\\n")
                return text.encode().decode("unicode_escape").encode()
        return b""

    # -- HTTP endpoint -------------------------------------------------------------------------------

    async def _to_http_endpoint(
        self, stream: DeliveryStream, records: list[Buffered], outcome: transform.Outcome
    ) -> None:
        config = stream.destination["config"]
        moment = self._moment(stream, records)
        s3 = s3_config(stream.destination)
        delivered = [data for _, data, _ in outcome.ok]
        problem = await self._post_with_retries(stream, delivered) if delivered else None
        if problem is not None:
            code, message, attempts = problem
            now = self.clock.now()
            lines = [
                transform.error_line(record, code, message, attempts, now, {})
                for record, data, _ in outcome.ok
            ]
            prefix = prefixes.error_prefix(s3.get("ErrorOutputPrefix"), moment, "http-endpoint-failed")
            await self._put(
                stream,
                s3,
                prefix + prefixes.object_name(stream.name, stream.version, moment, ""),
                b"".join(lines),
            )
        await self._errors(stream, s3, moment, outcome.failed, "processing-failed")
        if config.get("S3BackupMode") == "AllData":
            key = prefixes.object_prefix(s3.get("Prefix"), moment, {}) + prefixes.object_name(
                stream.name, stream.version, moment, ""
            )
            await self._put(stream, s3, key, b"".join(r.data for r in records))

    async def _post_with_retries(
        self, stream: DeliveryStream, data: list[bytes]
    ) -> tuple[str, str, int] | None:
        """POST the batch until the endpoint accepts it or the retry duration is over; the last problem."""
        config = stream.destination["config"]
        duration = float((config.get("RetryOptions") or {}).get("DurationInSeconds", 300))
        deadline = self.clock.now() + duration
        delay, attempts = 1.0, 0
        while True:
            attempts += 1
            problem = await self._post(stream, data)
            if problem is None:
                return None
            if self.clock.now() + delay > deadline:
                return (*problem, attempts)
            log.info("firehose %s: HTTP endpoint refused a batch (%s); retrying", stream.name, problem[1])
            await self.clock.sleep_until(self.clock.now() + delay)
            delay = min(delay * 2, 30.0)

    async def _post(self, stream: DeliveryStream, data: list[bytes]) -> tuple[str, str] | None:
        config = stream.destination["config"]
        endpoint = config["EndpointConfiguration"]
        request_id = str(uuid.uuid4())
        body = json.dumps(
            {
                "requestId": request_id,
                "timestamp": int(self.clock.now() * 1000),
                "records": [{"data": base64.b64encode(d).decode()} for d in data],
            }
        ).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Amazon Kinesis Data Firehose Agent/1.0",
            "X-Amz-Firehose-Protocol-Version": "1.0",
            "X-Amz-Firehose-Request-Id": request_id,
            "X-Amz-Firehose-Source-Arn": stream.arn,
        }
        if endpoint.get("AccessKey"):
            headers["X-Amz-Firehose-Access-Key"] = endpoint["AccessKey"]
        request_config = config.get("RequestConfiguration") or {}
        attributes = {
            a["AttributeName"]: a["AttributeValue"] for a in request_config.get("CommonAttributes") or []
        }
        if attributes:
            headers["X-Amz-Firehose-Common-Attributes"] = json.dumps({"commonAttributes": attributes})
        if request_config.get("ContentEncoding") == "GZIP":
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
        return await asyncio.to_thread(_send, endpoint["Url"], body, headers, request_id)


def _send(url: str, body: bytes, headers: dict[str, str], request_id: str) -> tuple[str, str] | None:
    """One POST; None when the endpoint answered 200 with the request's id, else (errorCode, errorMessage)."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT, context=tls_context(url)) as response:
            status, answer = response.status, response.read()
    except urllib.error.HTTPError as error:
        return ("HttpEndpoint.ResponseErrorCode", f"The endpoint answered HTTP {error.code}.")
    except (urllib.error.URLError, OSError) as error:
        return (
            "HttpEndpoint.RequestTimeout"
            if isinstance(error, TimeoutError)
            else "HttpEndpoint.ConnectionFailed",
            str(error),
        )
    if status != 200:
        return ("HttpEndpoint.ResponseErrorCode", f"The endpoint answered HTTP {status}.")
    try:
        if json.loads(answer).get("requestId") != request_id:
            return ("HttpEndpoint.InvalidResponseFromDestination", "The response's requestId does not match.")
    except (ValueError, AttributeError):
        return ("HttpEndpoint.InvalidResponseFromDestination", "The response is not JSON with the requestId.")
    return None


def _account_of(arn: str, default: str) -> str:
    parsed = parse_arn(arn)
    return parsed.account if parsed and parsed.account else default


async def acting_as(platform: Any, stream: DeliveryStream, role_arn: str | None) -> Principal:
    """Firehose acts as the role the stream's configuration names (its trust policy must allow
    firehose.amazonaws.com), or as the service itself when none is named."""
    if not role_arn:
        return service_principal("firehose.amazonaws.com", stream.account)
    return await roles.session(platform, role_arn, "firehose.amazonaws.com", stream.account, stream.region)
