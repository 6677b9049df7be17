"""The distributed Map: items read from S3 (ItemReader: CSV, JSON, JSON Lines, a manifest, or a listing),
batched (ItemBatcher), tolerated failures, results written back to S3 (ResultWriter), and its map run.

Overcast runs a distributed Map's iterations as threads of the parent execution (durable like any other),
not as child executions: DescribeMapRun and ListMapRuns answer, ListExecutions of a map run lists none.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import uuid
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.stepfunctions import jsonata_bridge, states
from overcast.services.stepfunctions.common import iso_date
from overcast.services.stepfunctions.failures import StatesError, dumps

if TYPE_CHECKING:
    from overcast.services.stepfunctions.provider import StepFunctionsProvider
    from overcast.services.stepfunctions.workers import _Step

log = logging.getLogger("overcast.stepfunctions")

MAX_BATCH_BYTES = 256 * 1024


class DistributedMap:
    def __init__(self, provider: StepFunctionsProvider) -> None:
        self.provider = provider
        self.store = provider.store
        self.db = provider.db
        self.clock = provider.clock

    def _spawn(self, coroutine: Any) -> None:
        self.provider.platform.spawn(coroutine)

    # -- the map run -----------------------------------------------------------------------------------------

    def open_run(self, step: _Step) -> None:
        thread, state, execution = step.thread, step.state, step.execution
        scratch = thread.scratch or {}
        label = state.get("Label") or thread.state
        machine_name = execution.machine_arn.split(":")[6]
        arn = f"arn:aws:states:{execution.region}:{execution.account}:mapRun:{machine_name}/{label}:{uuid.uuid4()}"
        scratch["map_run"] = arn
        counts = {"total": scratch["total"], "succeeded": 0, "failed": 0}
        tolerated_pct = float(state.get("ToleratedFailurePercentage") or 0)
        tolerated_count = int(state.get("ToleratedFailureCount") or 0)
        self.store.add_map_run(
            arn,
            execution.arn,
            thread.id,
            step.now,
            scratch.get("concurrency") or 0,
            tolerated_pct,
            tolerated_count,
            counts,
        )
        step.event("MapRunStarted", "mapRunStartedEventDetails", {"mapRunArn": arn})

    def progress(self, scratch: dict[str, Any], outcome: str) -> None:
        arn = scratch.get("map_run")
        if not arn:
            return
        run = self.store.map_run(arn)
        if run is not None:
            run["counts"][outcome] = run["counts"].get(outcome, 0) + 1
            self.store.update_map_run(arn, counts=run["counts"])

    def tolerates(self, step: _Step, scratch: dict[str, Any]) -> bool:
        """Whether a distributed Map goes on after one more failed iteration (its tolerated thresholds)."""
        if not scratch.get("map_run"):
            return False
        scratch["failed"] = scratch.get("failed", 0) + 1
        self.progress(scratch, "failed")
        state = step.state
        failed, total = scratch["failed"], max(scratch["total"], 1)
        count = state.get("ToleratedFailureCount") or 0
        percentage = state.get("ToleratedFailurePercentage") or 0
        if failed <= count or failed * 100 / total <= percentage:
            return True
        self._close(scratch, "FAILED", step.now)
        step.event(
            "MapRunFailed",
            "mapRunFailedEventDetails",
            {
                "error": "States.ExceedToleratedFailureThreshold",
                "cause": "The specified tolerated failure threshold was exceeded",
            },
        )
        scratch["threshold_error"] = True
        return False

    def _close(self, scratch: dict[str, Any], status: str, now: float) -> None:
        if scratch.get("map_run"):
            self.store.update_map_run(scratch["map_run"], status=status, stopped_at=now)

    def describe(self, ctx: RequestContext, arn: str) -> dict[str, Any]:
        run = self.store.map_run(arn)
        if run is None:
            raise ServiceError("ResourceNotFound", f"Resource not found: '{arn}'", 400)
        counts = run["counts"]
        total, succeeded, failed = counts["total"], counts.get("succeeded", 0), counts.get("failed", 0)
        running = 0 if run["status"] != "RUNNING" else max(0, total - succeeded - failed)
        items = {
            "pending": 0,
            "running": running,
            "succeeded": succeeded,
            "failed": failed,
            "timedOut": 0,
            "aborted": 0 if run["status"] != "ABORTED" else running,
            "total": total,
            "resultsWritten": counts.get("resultsWritten", 0),
        }
        result: dict[str, Any] = {
            "mapRunArn": run["arn"],
            "executionArn": run["execution_arn"],
            "status": run["status"],
            "startDate": iso_date(run["started_at"]),
            "maxConcurrency": run["max_concurrency"],
            "toleratedFailurePercentage": run["tolerated_percentage"],
            "toleratedFailureCount": run["tolerated_count"],
            "itemCounts": items,
            "executionCounts": dict(items),
            "redriveCount": 0,
        }
        if run["stopped_at"]:
            result["stopDate"] = iso_date(run["stopped_at"])
        return result

    def update(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["mapRunArn"]
        if self.store.map_run(arn) is None:
            raise ServiceError("ResourceNotFound", f"Resource not found: '{arn}'", 400)
        fields = {}
        if params.get("maxConcurrency") is not None:
            fields["max_concurrency"] = params["maxConcurrency"]
        if params.get("toleratedFailurePercentage") is not None:
            fields["tolerated_percentage"] = params["toleratedFailurePercentage"]
        if params.get("toleratedFailureCount") is not None:
            fields["tolerated_count"] = params["toleratedFailureCount"]
        if fields:
            self.store.update_map_run(arn, **fields)
        return {}

    # -- ItemBatcher -------------------------------------------------------------------------------------------

    def batch(self, env: states.Env, raw: Any, items: list[Any]) -> list[Any]:
        batcher = env.state["ItemBatcher"]
        size = batcher.get("MaxItemsPerBatch")
        max_bytes = batcher.get("MaxInputBytesPerBatch") or MAX_BATCH_BYTES
        if env.jsonata:
            batch_input = env.expression(batcher.get("BatchInput") or {}, "BatchInput", input=raw)
        else:
            batch_input = env.template(batcher.get("BatchInput") or {}, states.effective_input(env, raw))
        batches: list[list[Any]] = [[]]
        used = 0
        for item in items:
            cost = len(dumps(item).encode())
            full = (size and len(batches[-1]) >= size) or (batches[-1] and used + cost > max_bytes)
            if full:
                batches.append([])
                used = 0
            batches[-1].append(item)
            used += cost
        found = []
        for group in batches:
            if group:
                entry: dict[str, Any] = {"Items": group}
                if batch_input:
                    entry["BatchInput"] = batch_input
                found.append(entry)
        return found

    # -- ItemReader --------------------------------------------------------------------------------------------

    def read_items(self, step: _Step) -> None:
        thread_id, run = step.thread.id, step.thread.run
        self.db.after_commit(lambda: self._spawn(self._read(thread_id, run)))

    async def _read(self, thread_id: int, run: int) -> None:
        engine = self.provider.engine
        thread = self.store.thread(thread_id)
        execution = self.store.execution_by_id(thread.execution_id) if thread else None
        if thread is None or execution is None or thread.phase != "loading":
            return
        with self.db.transaction():
            step = _step_of(engine, execution, thread)
            env = step.env()
            reader = step.state["ItemReader"]
            try:
                params = _reader_params(env, thread.input, reader)
                outcome: Any = None
            except StatesError as error:
                outcome = error
        if outcome is None:
            try:
                principal = await engine.principal(execution)
                outcome = await self._fetch(reader, params, principal, execution.account, execution.region)
            except StatesError as error:
                outcome = error
        with self.db.transaction():
            thread = self.store.thread(thread_id)
            execution = self.store.execution_by_id(thread.execution_id) if thread else None
            if (
                thread is None
                or execution is None
                or thread.phase != "loading"
                or execution.status != "RUNNING"
            ):
                return
            step = _step_of(engine, execution, thread)
            if isinstance(outcome, StatesError):
                going = step.on_error(outcome)
            else:
                going = step.guard(lambda: step.iterate(outcome))
            if going:
                step.advance()

    async def _fetch(
        self, reader: dict[str, Any], params: dict[str, Any], principal: Any, account: str, region: str
    ) -> list[Any]:
        resource = reader.get("Resource", "")
        config = reader.get("ReaderConfig") or {}
        platform = self.provider.platform
        try:
            if resource.endswith(":s3:listObjectsV2"):
                items: list[Any] = []
                request = dict(params)
                while True:
                    page = await platform.call(
                        "s3", "ListObjectsV2", request, principal=principal, account_id=account, region=region
                    )
                    for entry in page.get("Contents") or ():
                        items.append(
                            {
                                "Etag": entry.get("ETag"),
                                "Key": entry["Key"],
                                "LastModified": entry["LastModified"].isoformat()
                                if hasattr(entry["LastModified"], "isoformat")
                                else entry["LastModified"],
                                "Size": entry.get("Size"),
                                "StorageClass": entry.get("StorageClass", "STANDARD"),
                            }
                        )
                    if not page.get("IsTruncated"):
                        break
                    request["ContinuationToken"] = page["NextContinuationToken"]
                return _limit(items, config)
            response = await platform.call(
                "s3",
                "GetObject",
                {"Bucket": params["Bucket"], "Key": params["Key"]},
                principal=principal,
                account_id=account,
                region=region,
            )
        except ServiceError as error:
            raise StatesError(f"S3.{error.code}", error.message) from None
        body = response.get("Body") or b""
        if hasattr(body, "__aiter__"):
            body = b"".join([chunk async for chunk in body])
        text = bytes(body).decode("utf-8-sig")
        return _limit(parse_items(text, config), config)

    # -- ResultWriter ------------------------------------------------------------------------------------------

    def results(self, step: _Step, results: list[Any]) -> list[Any] | None:
        """The Map's result; None when ResultWriter writes it to S3 first (the state goes on after that)."""
        scratch = step.thread.scratch or {}
        if "ResultWriter" not in step.state or not scratch.get("map_run"):
            if scratch.get("map_run"):
                self._close(scratch, "SUCCEEDED", step.now)
                step.event("MapRunSucceeded")
            return results
        scratch["results"] = results
        step.thread.scratch = scratch
        step.thread.phase, step.thread.due_at = "writing", None
        step.save()
        self.write_later(step.thread.id)
        return None

    def write_later(self, thread_id: int) -> None:
        self.db.after_commit(lambda: self._spawn(self._write(thread_id)))

    async def _write(self, thread_id: int) -> None:
        engine = self.provider.engine
        thread = self.store.thread(thread_id)
        execution = self.store.execution_by_id(thread.execution_id) if thread else None
        if thread is None or execution is None or thread.phase != "writing":
            return
        with self.db.transaction():
            step = _step_of(engine, execution, thread)
            writer = step.state["ResultWriter"]
            params = _reader_params(step.env(), thread.input, writer)
        scratch = thread.scratch or {}
        arn = scratch["map_run"]
        run_id = arn.rsplit(":", 1)[1]
        prefix = (params.get("Prefix") or "").rstrip("/")
        base = f"{prefix}/{run_id}" if prefix else run_id
        results = scratch.get("results") or []
        succeeded = [self._entry(execution, arn, i, r) for i, r in enumerate(results)]
        files = {"SUCCEEDED_0.json": dumps(succeeded)}
        manifest = {
            "DestinationBucket": params["Bucket"],
            "MapRunArn": arn,
            "ResultFiles": {
                "FAILED": [],
                "PENDING": [],
                "SUCCEEDED": [
                    {"Key": f"{base}/SUCCEEDED_0.json", "Size": len(files["SUCCEEDED_0.json"].encode())}
                ],
            },
        }
        files["manifest.json"] = dumps(manifest)
        outcome: StatesError | None = None
        try:
            principal = await engine.principal(execution)
            for name, text in files.items():
                await self.provider.platform.call(
                    "s3",
                    "PutObject",
                    {"Bucket": params["Bucket"], "Key": f"{base}/{name}", "Body": text.encode()},
                    principal=principal,
                    account_id=execution.account,
                    region=execution.region,
                )
        except ServiceError as error:
            outcome = StatesError(f"S3.{error.code}", error.message)
        except StatesError as error:
            outcome = error
        with self.db.transaction():
            thread = self.store.thread(thread_id)
            execution = self.store.execution_by_id(thread.execution_id) if thread else None
            if (
                thread is None
                or execution is None
                or thread.phase != "writing"
                or execution.status != "RUNNING"
            ):
                return
            step = _step_of(engine, execution, thread)
            if outcome is not None:
                self._close(scratch, "FAILED", step.now)
                step.event("MapStateFailed")
                if step.on_error(outcome):
                    step.advance()
                return
            run = self.store.map_run(arn)
            if run is not None:
                run["counts"]["resultsWritten"] = len(results)
                self.store.update_map_run(arn, counts=run["counts"], status="SUCCEEDED", stopped_at=step.now)
            step.event("MapRunSucceeded")
            step.event("MapStateSucceeded")
            step.thread.phase = "children"
            step.after_children(
                {
                    "MapRunArn": arn,
                    "ResultWriterDetails": {"Bucket": params["Bucket"], "Key": f"{base}/manifest.json"},
                }
            )

    def _entry(self, execution: Any, arn: str, index: int, result: Any) -> dict[str, Any]:
        failed = isinstance(result, dict) and set(result) <= {"Error", "Cause"} and "Error" in result
        entry: dict[str, Any] = {
            "ExecutionArn": f"{execution.arn.replace(':execution:', ':execution:', 1)}/{index}",
            "MapRunArn": arn,
            "Name": str(index),
            "Status": "FAILED" if failed else "SUCCEEDED",
            "StateMachineArn": execution.machine_arn,
        }
        if failed:
            entry.update(result)
        else:
            entry["Output"] = dumps(result)
            entry["OutputDetails"] = {"Included": True}
        return entry


def _step_of(engine: Any, execution: Any, thread: Any) -> _Step:
    from overcast.services.stepfunctions.workers import _Step

    return _Step(engine, execution, thread)


def _reader_params(env: states.Env, raw: Any, config: dict[str, Any]) -> dict[str, Any]:
    """The Parameters (JSONPath) or Arguments (JSONata) of an ItemReader or ResultWriter."""
    if env.jsonata:
        found = config.get("Arguments") or {}
        return jsonata_bridge.evaluate_template(
            found, {"input": raw, "context": env.context}, env.variables, env.now, "Arguments", env.name
        )
    return env.template(config.get("Parameters") or {}, states.effective_input(env, raw))


def parse_items(text: str, config: dict[str, Any]) -> list[Any]:
    """The items of an S3 object as ItemReader's ReaderConfig reads it (CSV, JSON, JSONL, MANIFEST)."""
    kind = config.get("InputType", "JSON")
    if kind == "CSV":
        rows = list(csv.reader(io.StringIO(text), delimiter=_delimiter(config)))
        if config.get("CSVHeaderLocation", "FIRST_ROW") == "GIVEN":
            headers = config.get("CSVHeaders") or []
        else:
            headers, rows = (rows[0] if rows else []), rows[1:]
        return [dict(zip(headers, row, strict=False)) for row in rows if row]
    if kind in ("JSONL",):
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    if kind == "MANIFEST":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    try:
        items = json.loads(text)
    except ValueError:
        raise StatesError("States.ItemReaderFailed", "The object is not valid JSON") from None
    if not isinstance(items, list):
        raise StatesError("States.ItemReaderFailed", "Attempting to map over non-iterable node.")
    return items


def _delimiter(config: dict[str, Any]) -> str:
    return {"COMMA": ",", "PIPE": "|", "SEMICOLON": ";", "SPACE": " ", "TAB": "\t"}.get(
        config.get("CSVDelimiter", "COMMA"), ","
    )


def _limit(items: list[Any], config: dict[str, Any]) -> list[Any]:
    limit = config.get("MaxItems")
    return items[:limit] if isinstance(limit, int) and limit > 0 else items
