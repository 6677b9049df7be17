"""Imports from S3 (ImportTable, DescribeImport, ListImports): a new table filled with the items of every object
under an S3 prefix, read through S3 itself as `dynamodb.amazonaws.com`.

Formats: DYNAMODB_JSON (one `{"Item": {...}}` per line, as exports write them) and CSV (a header line or
`HeaderList`; key attributes typed as the key schema says, every other value a string, as AWS does);
compression NONE or GZIP. The table is created at once; the items are loaded off the request path
(IN_PROGRESS, then COMPLETED or FAILED, resumed after a restart). A line that is not an item with the table's
key counts in `ErrorCount` (AWS logs it to CloudWatch Logs; here the server log says which). ION and ZSTD are
refused.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import logging
import secrets
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.identity import service_principal
from overcast.services.base import Operations
from overcast.services.dynamodb.store import Table, check_index_keys, key_from_item
from overcast.services.dynamodb.tables import TableOperations
from overcast.services.dynamodb.values import (
    Item,
    canonical_item,
    check_item_size,
    load_item,
    validation,
)

if TYPE_CHECKING:
    from overcast.services.dynamodb.provider import DynamoDBProvider

log = logging.getLogger("overcast.dynamodb")
CHUNK = 500  # items written per transaction


class ImportOperations(Operations):
    service: DynamoDBProvider

    def import_table(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        if params["InputFormat"] not in ("DYNAMODB_JSON", "CSV"):
            raise validation("Overcast imports DYNAMODB_JSON and CSV only")
        if (params.get("InputCompressionType") or "NONE") not in ("NONE", "GZIP"):
            raise validation("Overcast imports uncompressed or GZIP objects only")
        creation = params["TableCreationParameters"]
        created = self.service.family(TableOperations).create_table(ctx, dict(creation))["TableDescription"]
        now = self.clock.now()
        import_id = f"{int(now * 1000):014d}-{secrets.token_hex(4)}"
        description: dict[str, Any] = {
            "ImportArn": f"{created['TableArn']}/import/{import_id}",
            "ImportStatus": "IN_PROGRESS",
            "TableArn": created["TableArn"],
            "TableId": created["TableId"],
            "S3BucketSource": params["S3BucketSource"],
            "ErrorCount": 0,
            "CloudWatchLogGroupArn": ctx.arn("logs", "log-group:/aws-dynamodb/imports:*"),
            "InputFormat": params["InputFormat"],
            "InputCompressionType": params.get("InputCompressionType") or "NONE",
            "TableCreationParameters": creation,
            "StartTime": now,
            "ProcessedSizeBytes": 0,
            "ProcessedItemCount": 0,
            "ImportedItemCount": 0,
        }
        for optional in ("ClientToken", "InputFormatOptions"):
            if params.get(optional):
                description[optional] = params[optional]
        self.service.store.save_import(ctx.account_id, ctx.region, description)
        service, arn = self.service, description["ImportArn"]
        self.db.after_commit(lambda: service.platform.spawn(run(service, ctx.account_id, ctx.region, arn)))
        return {"ImportTableDescription": description}

    def describe_import(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        found = self.service.store.import_(params["ImportArn"])
        if found is None or f":{ctx.account_id}:" not in params["ImportArn"]:
            raise ServiceError("ImportNotFoundException", f"Import not found: {params['ImportArn']}")
        return {"ImportTableDescription": found}

    def list_imports(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        found = self.service.store.imports(ctx.account_id, ctx.region, params.get("TableArn"))
        limit = params.get("PageSize") or 25
        token = str(params.get("NextToken") or "0")
        start = int(token) if token.isdigit() else 0
        summaries = [
            {
                k: d[k]
                for k in (
                    "ImportArn",
                    "ImportStatus",
                    "TableArn",
                    "S3BucketSource",
                    "CloudWatchLogGroupArn",
                    "InputFormat",
                    "StartTime",
                    "EndTime",
                )
                if k in d
            }
            for d in found[start : start + limit]
        ]
        result: dict[str, Any] = {"ImportSummaryList": summaries}
        if start + limit < len(found):
            result["NextToken"] = str(start + limit)
        return result


# -- the load --------------------------------------------------------------------------------------------


async def run(service: DynamoDBProvider, account: str, region: str, import_arn: str) -> None:
    platform, store = service.platform, service.store
    with platform.db.transaction():
        description = store.import_(import_arn)
        if description is None or description["ImportStatus"] != "IN_PROGRESS":
            return
    source = description["S3BucketSource"]
    try:
        for key in await _keys(service, account, region, source["S3Bucket"], source.get("S3KeyPrefix") or ""):
            body = await _object(service, account, region, source["S3Bucket"], key)
            if description["InputCompressionType"] == "GZIP":
                body = gzip.decompress(body)
            description["ProcessedSizeBytes"] += len(body)
            _load(service, account, region, description, _records(description, body.decode("utf-8-sig")))
        description["ImportStatus"] = "COMPLETED"
    except (ServiceError, OSError, EOFError) as error:  # an unreadable bucket, object or archive
        log.warning("DynamoDB import %s failed: %s", import_arn, error)
        code, message = (
            (error.code, error.message)
            if isinstance(error, ServiceError)
            else ("ItemValidationError", str(error))
        )
        description.update(ImportStatus="FAILED", FailureCode=code, FailureMessage=message)
    except Exception:  # never left IN_PROGRESS for ever
        log.exception("DynamoDB import %s failed", import_arn)
        description.update(ImportStatus="FAILED", FailureCode="UNKNOWN", FailureMessage="Internal error")
    description["EndTime"] = service.clock.now()
    with platform.db.transaction():
        store.save_import(account, region, description)


def _records(description: dict[str, Any], text: str) -> list[Item | None]:
    """The items of one object (None for a line that is not one)."""
    if description["InputFormat"] == "DYNAMODB_JSON":
        found: list[Item | None] = []
        for line in text.splitlines():
            if not line.strip():
                continue
            try:
                found.append(load_item(json.dumps(json.loads(line)["Item"]), True))
            except (ValueError, KeyError, TypeError):
                found.append(None)
        return found
    options = (description.get("InputFormatOptions") or {}).get("Csv") or {}
    rows = list(csv.reader(io.StringIO(text), delimiter=options.get("Delimiter") or ","))
    header = options.get("HeaderList") or (rows.pop(0) if rows else [])
    types = {
        d["AttributeName"]: d["AttributeType"]
        for d in description["TableCreationParameters"]["AttributeDefinitions"]
    }
    return [
        {name: {types.get(name, "S"): value} for name, value in zip(header, row, strict=False) if value != ""}
        for row in rows
    ]


def _load(
    service: DynamoDBProvider,
    account: str,
    region: str,
    description: dict[str, Any],
    items: list[Item | None],
) -> None:
    table_name = description["TableArn"].rsplit("/", 1)[1]
    for start in range(0, len(items), CHUNK):
        with service.platform.db.transaction():
            table = service.store.table(account, region, table_name)
            if table is None:
                raise ServiceError(
                    "ResourceNotFoundException", f"Table {table_name} was deleted during the import"
                )
            for item in items[start : start + CHUNK]:
                description["ProcessedItemCount"] += 1
                if _put(service, table, item):
                    description["ImportedItemCount"] += 1
                else:
                    description["ErrorCount"] += 1


def _put(service: DynamoDBProvider, table: Table, item: Item | None) -> bool:
    """Write one imported item; False when it is not a valid item of the table."""
    if item is None:
        return False
    try:
        item = canonical_item(item)
        key = key_from_item(table.key, item)
        check_index_keys(table, item)
        size = check_item_size(item)
    except ServiceError as error:
        log.info("DynamoDB import into %s: item skipped: %s", table.name, error.message)
        return False
    found = service.store.get(table, key)
    service.write(table, key, found[0] if found else None, item, size, old_size=found[1] if found else 0)
    return True


async def _keys(service: DynamoDBProvider, account: str, region: str, bucket: str, prefix: str) -> list[str]:
    keys: list[str] = []
    request: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
    while True:
        page = await _s3(service, account, region, "ListObjectsV2", request)
        keys += [o["Key"] for o in page.get("Contents", ()) if not o["Key"].endswith("/")]
        if not page.get("IsTruncated"):
            return keys
        request["ContinuationToken"] = page["NextContinuationToken"]


async def _object(service: DynamoDBProvider, account: str, region: str, bucket: str, key: str) -> bytes:
    body = (await _s3(service, account, region, "GetObject", {"Bucket": bucket, "Key": key})).get(
        "Body"
    ) or b""
    if isinstance(body, bytes | bytearray):
        return bytes(body)
    return b"".join([chunk async for chunk in body])


async def _s3(
    service: DynamoDBProvider, account: str, region: str, operation: str, params: dict[str, Any]
) -> dict:
    return await service.platform.call(
        "s3",
        operation,
        params,
        principal=service_principal("dynamodb.amazonaws.com", account),
        account_id=account,
        region=region,
        condition_keys={"aws:SourceAccount": account},
    )


async def resume(service: DynamoDBProvider) -> None:
    """Imports a stopped server left IN_PROGRESS load again (writing an item twice leaves the same item)."""
    with service.platform.db.transaction():
        unfinished = service.store.unfinished_imports()
    for account, region, description in unfinished:
        await run(service, account, region, description["ImportArn"])
