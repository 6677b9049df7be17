"""Delivery streams: create (Direct PUT or a Kinesis stream as source, one destination), describe, list,
update the destination, delete, encryption settings."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.protocol.models import get_service_model
from overcast.services.base import Operations
from overcast.services.firehose import prefixes, transform
from overcast.services.firehose.jq import QueryError, compile_query
from overcast.services.firehose.tagging import RULES
from overcast.services.kit.arns import parse_arn
from overcast.services.kit.tags import tag_dict

if TYPE_CHECKING:
    from overcast.services.firehose.provider import FirehoseProvider

# CreateDeliveryStream's destination members -> the destination's kind (DescribeDeliveryStream names its
# description `<kind>DestinationDescription`, UpdateDestination its update `<kind>DestinationUpdate`)
KINDS = {
    "S3DestinationConfiguration": "S3",
    "ExtendedS3DestinationConfiguration": "ExtendedS3",
    "RedshiftDestinationConfiguration": "Redshift",
    "ElasticsearchDestinationConfiguration": "Elasticsearch",
    "AmazonopensearchserviceDestinationConfiguration": "Amazonopensearchservice",
    "SplunkDestinationConfiguration": "Splunk",
    "HttpEndpointDestinationConfiguration": "HttpEndpoint",
    "AmazonOpenSearchServerlessDestinationConfiguration": "AmazonOpenSearchServerless",
    "SnowflakeDestinationConfiguration": "Snowflake",
    "IcebergDestinationConfiguration": "Iceberg",
}
_RENAMED = {"S3Configuration": "S3DestinationDescription", "S3BackupConfiguration": "S3BackupDescription"}
_S3_DEFAULTS = {
    "BufferingHints": {"SizeInMBs": 5, "IntervalInSeconds": 300},
    "CompressionFormat": "UNCOMPRESSED",
    "EncryptionConfiguration": {"NoEncryptionConfig": "NoEncryption"},
    "CloudWatchLoggingOptions": {"Enabled": False},
}
DESTINATION_ID = "destinationId-000000000001"


def invalid(message: str) -> ServiceError:
    return ServiceError("InvalidArgumentException", message)


def shaped(shape: Any, value: Any) -> Any:
    """`value` keeping only what `shape` has (a description never shows secrets such as passwords)."""
    if shape.type_name == "structure" and isinstance(value, dict):
        return {
            k: shaped(shape.members[k], v) for k, v in value.items() if k in shape.members and v is not None
        }
    if shape.type_name == "list" and isinstance(value, list):
        return [shaped(shape.member, v) for v in value]
    return value


def _s3_description(config: dict[str, Any]) -> dict[str, Any]:
    return {**copy.deepcopy(_S3_DEFAULTS), **config}


def describe_destination(destination: dict[str, Any]) -> dict[str, Any]:
    model = get_service_model("firehose")
    kind, config = destination["kind"], destination["config"]
    out: dict[str, Any] = {"DestinationId": destination["id"]}
    if kind in ("S3", "ExtendedS3"):
        described = _s3_description(config)
        if kind == "ExtendedS3":
            described.setdefault("S3BackupMode", "Disabled")
        if "S3BackupConfiguration" in described:
            described["S3BackupDescription"] = _s3_description(described.pop("S3BackupConfiguration"))
        out["S3DestinationDescription"] = shaped(model.shape_for("S3DestinationDescription"), described)
        out["ExtendedS3DestinationDescription"] = shaped(
            model.shape_for("ExtendedS3DestinationDescription"), described
        )
        return out
    described = {_RENAMED.get(k, k): v for k, v in config.items()}
    for member in ("S3DestinationDescription", "S3BackupDescription"):
        if member in described:
            described[member] = _s3_description(described[member])
    if kind == "HttpEndpoint":
        described.setdefault("BufferingHints", {"SizeInMBs": 5, "IntervalInSeconds": 300})
        described.setdefault("RequestConfiguration", {"ContentEncoding": "NONE"})
        described.setdefault("RetryOptions", {"DurationInSeconds": 300})
        described.setdefault("S3BackupMode", "FailedDataOnly")
    name = f"{kind}DestinationDescription"
    out[name] = shaped(model.shape_for(name), described)
    return out


def _deep_merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


class DeliveryStreamOperations(Operations):
    service: FirehoseProvider

    def create_delivery_stream(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["DeliveryStreamName"]
        kind = params.get("DeliveryStreamType") or "DirectPut"
        given = [member for member in KINDS if params.get(member)]
        if len(given) != 1:
            raise invalid("Exactly one destination configuration must be specified.")
        config = params[given[0]]
        destination = {"id": DESTINATION_ID, "kind": KINDS[given[0]], "config": config}
        check_destination(destination)
        source = self._source(kind, params)
        if self.service.store.stream(ctx.account_id, ctx.region, name) is not None:
            raise ServiceError(
                "ResourceInUseException", f"Firehose {name} under accountId {ctx.account_id} already exists"
            )
        tags = tag_dict(params.get("Tags"))
        RULES.check(tags)
        encryption = self._encryption(kind, params.get("DeliveryStreamEncryptionConfigurationInput"))
        now = self.clock.now()
        if "KinesisStreamSourceDescription" in source:
            source["KinesisStreamSourceDescription"]["DeliveryStartTimestamp"] = now
        self.service.store.create(
            ctx.account_id, ctx.region, name, kind, now, source, destination, encryption
        )
        arn = ctx.arn("firehose", f"deliverystream/{name}")
        if tags:
            self.service.tags.add(arn, tags, RULES, account=ctx.account_id, region=ctx.region)
        return {"DeliveryStreamARN": arn}

    def _source(self, kind: str, params: dict[str, Any]) -> dict[str, Any]:
        kinesis = params.get("KinesisStreamSourceConfiguration")
        if kind == "KinesisStreamAsSource":
            if not kinesis:
                raise invalid(
                    "KinesisStreamSourceConfiguration is required for KinesisStreamAsSource delivery streams."
                )
            arn = parse_arn(kinesis["KinesisStreamARN"])
            if arn is None or arn.service != "kinesis" or not arn.resource.startswith("stream/"):
                raise invalid(f"Invalid KinesisStreamARN {kinesis['KinesisStreamARN']}.")
            return {"KinesisStreamSourceDescription": dict(kinesis)}
        if kinesis:
            raise invalid(
                "KinesisStreamSourceConfiguration is only allowed for KinesisStreamAsSource delivery streams."
            )
        if kind != "DirectPut":
            raise invalid(
                f"Overcast does not read {kind} sources (DirectPut and KinesisStreamAsSource only)."
            )
        direct = params.get("DirectPutSourceConfiguration")
        return {"DirectPutSourceDescription": dict(direct)} if direct else {}

    @staticmethod
    def _encryption(kind: str, given: dict[str, Any] | None) -> dict[str, Any] | None:
        if not given:
            return None
        if kind != "DirectPut":
            raise invalid("Server-side encryption is only supported for DirectPut delivery streams.")
        key_type = given.get("KeyType") or "AWS_OWNED_CMK"
        if key_type == "CUSTOMER_MANAGED_CMK" and not given.get("KeyARN"):
            raise invalid("KeyARN is required when KeyType is CUSTOMER_MANAGED_CMK.")
        encryption = {"KeyType": key_type, "Status": "ENABLED"}
        if given.get("KeyARN"):
            encryption["KeyARN"] = given["KeyARN"]
        return encryption

    def describe_delivery_stream(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stream = self.service.stream_for(ctx, params["DeliveryStreamName"])
        description: dict[str, Any] = {
            "DeliveryStreamName": stream.name,
            "DeliveryStreamARN": stream.arn,
            "DeliveryStreamStatus": stream.status,
            "DeliveryStreamEncryptionConfiguration": stream.encryption or {"Status": "DISABLED"},
            "DeliveryStreamType": stream.kind,
            "VersionId": str(stream.version),
            "CreateTimestamp": datetime.fromtimestamp(stream.created, UTC),
            "Destinations": [describe_destination(stream.destination)],
            "HasMoreDestinations": False,
        }
        if stream.version > 1:
            description["LastUpdateTimestamp"] = datetime.fromtimestamp(stream.updated, UTC)
        if stream.source:
            source = copy.deepcopy(stream.source)
            kinesis = source.get("KinesisStreamSourceDescription")
            if kinesis:
                kinesis["DeliveryStartTimestamp"] = datetime.fromtimestamp(
                    kinesis["DeliveryStartTimestamp"], UTC
                )
            description["Source"] = source
        return {"DeliveryStreamDescription": description}

    def list_delivery_streams(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = params.get("Limit") or 10
        after = params.get("ExclusiveStartDeliveryStreamName") or ""
        rows = self.service.store.streams_after(
            ctx.account_id, ctx.region, after, params.get("DeliveryStreamType"), limit + 1
        )
        return {
            "DeliveryStreamNames": [s.name for s in rows[:limit]],
            "HasMoreDeliveryStreams": len(rows) > limit,
        }

    def delete_delivery_stream(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stream = self.service.stream_for(ctx, params["DeliveryStreamName"])
        self.service.store.delete(stream.id)
        self.service.tags.forget(stream.arn)
        return {}

    def update_destination(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stream = self.service.stream_for(ctx, params["DeliveryStreamName"])
        if params["CurrentDeliveryStreamVersionId"] != str(stream.version):
            raise ServiceError(
                "ConcurrentModificationException",
                f"Cannot update firehose: {stream.name} since the current version id: {stream.version} and "
                f"specified version id: {params['CurrentDeliveryStreamVersionId']} do not match",
            )
        if params["DestinationId"] != stream.destination["id"]:
            raise invalid(f"Destination Id {params['DestinationId']} not found.")
        updates = [
            (member, kind)
            for member, kind in KINDS.items()
            if params.get(member.replace("Configuration", "Update"))
        ]
        if len(updates) != 1:
            raise invalid("Exactly one destination update must be specified.")
        member, kind = updates[0]
        update = params[member.replace("Configuration", "Update")]
        if kind == "S3" and stream.destination["kind"] == "ExtendedS3":
            kind = "ExtendedS3"
        config = (
            _deep_merge(stream.destination["config"], update)
            if kind == stream.destination["kind"]
            else update
        )
        destination = {"id": stream.destination["id"], "kind": kind, "config": config}
        check_destination(destination)
        self.service.store.update(
            stream.id, destination=destination, version=stream.version + 1, updated=self.clock.now()
        )
        return {}

    def start_delivery_stream_encryption(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stream = self.service.stream_for(ctx, params["DeliveryStreamName"])
        given = params.get("DeliveryStreamEncryptionConfigurationInput") or {"KeyType": "AWS_OWNED_CMK"}
        self.service.store.update(stream.id, encryption=self._encryption(stream.kind, given))
        return {}

    def stop_delivery_stream_encryption(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stream = self.service.stream_for(ctx, params["DeliveryStreamName"])
        if stream.kind != "DirectPut":
            raise invalid("Server-side encryption is only supported for DirectPut delivery streams.")
        encryption = dict(stream.encryption or {}, Status="DISABLED")
        self.service.store.update(stream.id, encryption=encryption)
        return {}


def check_destination(destination: dict[str, Any]) -> None:
    """Refuse a configuration Firehose refuses (or one Overcast cannot carry out, with a clear message)."""
    kind, config = destination["kind"], destination["config"]
    s3 = config if kind in ("S3", "ExtendedS3") else config.get("S3Configuration") or {}
    _check_prefixes(s3, dynamic=bool((config.get("DynamicPartitioningConfiguration") or {}).get("Enabled")))
    for processor in transform.processors(config):
        parameters = transform.parameters(processor)
        if processor["Type"] == "Lambda" and not parameters.get("LambdaArn"):
            raise invalid("LambdaArn is required for the Lambda processor.")
        if processor["Type"] == "MetadataExtraction":
            try:
                compile_query(parameters.get("MetadataExtractionQuery", ""))
            except QueryError as problem:
                raise invalid(str(problem)) from None
    conversion = config.get("DataFormatConversionConfiguration") or {}
    if conversion.get("Enabled", bool(conversion)):
        raise invalid(
            "Overcast cannot convert records to Parquet or ORC (DataFormatConversionConfiguration): pyarrow is "
            "not available."
        )


def _check_prefixes(s3: dict[str, Any], dynamic: bool) -> None:
    prefix, error_prefix = s3.get("Prefix") or "", s3.get("ErrorOutputPrefix") or ""
    try:
        prefixes.check(prefix)
        prefixes.check(error_prefix, error_prefix=True)
    except prefixes.PrefixError as problem:
        raise invalid(str(problem)) from None
    if prefixes.expressions(prefix) and not error_prefix:
        raise invalid("ErrorOutputPrefix cannot be null or empty when Prefix contains expressions.")
    uses_keys = any(ns.startswith("partitionKey") for ns, _ in prefixes.expressions(prefix))
    if dynamic and not uses_keys:
        raise invalid(
            "Prefix must contain a partitionKeyFromQuery or partitionKeyFromLambda expression when dynamic partitioning is enabled."
        )
    if uses_keys and not dynamic:
        raise invalid(
            "partitionKeyFromQuery and partitionKeyFromLambda expressions require dynamic partitioning to be enabled."
        )
    size = (s3.get("BufferingHints") or {}).get("SizeInMBs", 5)
    if dynamic and size < 64:
        raise invalid("BufferingHints.SizeInMBs must be at least 64 when dynamic partitioning is enabled.")
