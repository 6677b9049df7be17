"""Exports to S3 (ExportTableToPointInTime, DescribeExport, ListExports): a table as it was at ExportTime, read
from its point-in-time recovery history, written to a bucket in AWS's layout, through S3 itself as
`dynamodb.amazonaws.com` (so the bucket's policy decides):

    <prefix>/AWSDynamoDB/<ExportId>/manifest-summary.json (+ .md5)
    <prefix>/AWSDynamoDB/<ExportId>/manifest-files.json (+ .md5)   one JSON line per data file
    <prefix>/AWSDynamoDB/<ExportId>/data/<id>.json.gz                one {"Item": {...}} line per item

The export runs off the request path (IN_PROGRESS, then COMPLETED or FAILED) and is resumed after a restart.
Full exports in DYNAMODB_JSON only: ION and incremental exports are refused.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import secrets
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.identity import service_principal
from overcast.services.base import Operations
from overcast.services.dynamodb.values import dump_item, validation
from overcast.services.kit.arns import parse_arn

if TYPE_CHECKING:
    from overcast.services.dynamodb.provider import DynamoDBProvider

log = logging.getLogger("overcast.dynamodb")


class ExportOperations(Operations):
    service: DynamoDBProvider

    def export_table_to_point_in_time(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service, store = self.service, self.service.store
        arn = parse_arn(params["TableArn"])
        if arn is None or arn.service != "dynamodb" or arn.resource_type != "table":
            raise validation("Invalid TableArn: Invalid Table ARN")
        table = store.table(arn.account, arn.region, arn.resource_id)
        if table is None or arn.account != ctx.account_id:
            raise ServiceError("TableNotFoundException", f"Table not found: {arn.resource_id}")
        if (params.get("ExportFormat") or "DYNAMODB_JSON") != "DYNAMODB_JSON":
            raise validation("Overcast exports DYNAMODB_JSON only")
        if (params.get("ExportType") or "FULL_EXPORT") != "FULL_EXPORT":
            raise validation("Overcast makes full exports only")
        pitr = table.meta.get("_pitr")
        if not pitr:
            raise ServiceError(
                "PointInTimeRecoveryUnavailableException",
                f"Point in time recovery is not enabled for table '{table.name}'",
            )
        now = self.clock.now()
        moment = params.get("ExportTime")
        moment = moment.timestamp() if isinstance(moment, datetime) else (moment or now)
        if not max(pitr["since"], now - pitr["days"] * 86400) <= moment <= now:
            raise ServiceError(
                "InvalidExportTimeException", "Export time must be within the point in time recovery window"
            )
        export_id = f"{int(now * 1000):014d}-{secrets.token_hex(4)}"
        description: dict[str, Any] = {
            "ExportArn": f"{table.arn}/export/{export_id}",
            "ExportStatus": "IN_PROGRESS",
            "StartTime": now,
            "TableArn": table.arn,
            "TableId": table.meta["TableId"],
            "ExportTime": moment,
            "S3Bucket": params["S3Bucket"],
            "S3SseAlgorithm": params.get("S3SseAlgorithm") or "AES256",
            "ExportFormat": "DYNAMODB_JSON",
            "ExportType": "FULL_EXPORT",
        }
        for optional in ("ClientToken", "S3BucketOwner", "S3Prefix", "S3SseKmsKeyId"):
            if params.get(optional):
                description[optional] = params[optional]
        store.save_export(ctx.account_id, ctx.region, description)
        arn_text = description["ExportArn"]
        self.db.after_commit(
            lambda: service.platform.spawn(run(service, ctx.account_id, ctx.region, arn_text))
        )
        return {"ExportDescription": description}

    def describe_export(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        found = self.service.store.export(params["ExportArn"])
        if found is None or parse_arn(params["ExportArn"]).account != ctx.account_id:  # type: ignore[union-attr]
            raise ServiceError("ExportNotFoundException", f"Export not found: {params['ExportArn']}")
        return {"ExportDescription": found}

    def list_exports(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        found = self.service.store.exports(ctx.account_id, ctx.region, params.get("TableArn"))
        limit = params.get("MaxResults") or 25
        start = int(params.get("NextToken") or 0) if str(params.get("NextToken") or "0").isdigit() else 0
        page = found[start : start + limit]
        result: dict[str, Any] = {
            "ExportSummaries": [
                {
                    "ExportArn": d["ExportArn"],
                    "ExportStatus": d["ExportStatus"],
                    "ExportType": d["ExportType"],
                }
                for d in page
            ]
        }
        if start + limit < len(found):
            result["NextToken"] = str(start + limit)
        return result


async def run(service: DynamoDBProvider, account: str, region: str, export_arn: str) -> None:
    """Write the table as of ExportTime, then the manifests, and mark the export finished."""
    platform, store = service.platform, service.store
    with platform.db.transaction():
        description = store.export(export_arn)
        if description is None or description["ExportStatus"] != "IN_PROGRESS":
            return
        arn = parse_arn(description["TableArn"])
        table = store.table(account, region, arn.resource_id) if arn else None
        lines = (
            [
                json.dumps({"Item": json.loads(dump_item(item))})
                for item in store.history_at(table, description["ExportTime"])
            ]
            if table is not None and table.meta.get("_pitr")
            else None
        )
    try:
        if lines is None:
            raise ServiceError("UNKNOWN", "The table or its point in time recovery is gone")
        _finish(description, await _write(service, account, region, description, lines), service.clock.now())
    except ServiceError as error:
        log.warning("DynamoDB export %s failed: %s", export_arn, error)
        description.update(ExportStatus="FAILED", FailureCode=error.code, FailureMessage=error.message)
        description["EndTime"] = service.clock.now()
    except Exception:  # never left IN_PROGRESS for ever
        log.exception("DynamoDB export %s failed", export_arn)
        description.update(ExportStatus="FAILED", FailureCode="UNKNOWN", FailureMessage="Internal error")
        description["EndTime"] = service.clock.now()
    with platform.db.transaction():
        store.save_export(account, region, description)


async def _write(
    service: DynamoDBProvider, account: str, region: str, description: dict[str, Any], lines: list[str]
) -> dict[str, Any]:
    bucket = description["S3Bucket"]
    export_id = description["ExportArn"].rsplit("/", 1)[1]
    base = "/".join(p for p in (description.get("S3Prefix", "").strip("/"), "AWSDynamoDB", export_id) if p)
    data = gzip.compress("".join(line + "\n" for line in lines).encode())
    data_key = f"{base}/data/{secrets.token_hex(13)}.json.gz"
    etag = await _put(service, account, region, bucket, data_key, data)
    files = (
        json.dumps(
            {
                "itemCount": len(lines),
                "md5Checksum": hashlib.md5(data, usedforsecurity=False).hexdigest(),
                "etag": etag,
                "dataFileS3Key": data_key,
            }
        )
        + "\n"
    )
    files_key = f"{base}/manifest-files.json"
    await _put(service, account, region, bucket, files_key, files.encode())
    await _put(service, account, region, bucket, f"{base}/manifest-files.md5", _md5(files.encode()))
    size = sum(len(line) for line in lines)
    summary = {
        "version": "2020-06-30",
        "exportArn": description["ExportArn"],
        "startTime": _iso(description["StartTime"]),
        "endTime": _iso(service.clock.now()),
        "tableArn": description["TableArn"],
        "tableId": description["TableId"],
        "exportTime": _iso(description["ExportTime"]),
        "s3Bucket": bucket,
        "s3Prefix": description.get("S3Prefix"),
        "s3SseAlgorithm": description["S3SseAlgorithm"],
        "s3SseKmsKeyId": description.get("S3SseKmsKeyId"),
        "manifestFilesS3Key": files_key,
        "billedSizeBytes": size,
        "itemCount": len(lines),
        "outputFormat": "DYNAMODB_JSON",
        "exportType": "FULL_EXPORT",
    }
    body = json.dumps(summary).encode()
    await _put(service, account, region, bucket, f"{base}/manifest-summary.json", body)
    await _put(service, account, region, bucket, f"{base}/manifest-summary.md5", _md5(body))
    return {"manifest": f"{base}/manifest-summary.json", "items": len(lines), "size": size}


def _finish(description: dict[str, Any], written: dict[str, Any], now: float) -> None:
    description.update(
        ExportStatus="COMPLETED",
        EndTime=now,
        ExportManifest=written["manifest"],
        BilledSizeBytes=written["size"],
        ItemCount=written["items"],
    )


def _md5(body: bytes) -> bytes:
    return hashlib.md5(body, usedforsecurity=False).hexdigest().encode()


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def _put(
    service: DynamoDBProvider, account: str, region: str, bucket: str, key: str, body: bytes
) -> str:
    answer = await service.platform.call(
        "s3",
        "PutObject",
        {"Bucket": bucket, "Key": key, "Body": body},
        principal=service_principal("dynamodb.amazonaws.com", account),
        account_id=account,
        region=region,
        condition_keys={"aws:SourceAccount": account},
    )
    return str(answer.get("ETag", "")).strip('"')


async def resume(service: DynamoDBProvider) -> None:
    """Exports a stopped server left IN_PROGRESS run again."""
    with service.platform.db.transaction():
        unfinished = service.store.unfinished_exports()
    for account, region, description in unfinished:
        await run(service, account, region, description["ExportArn"])
