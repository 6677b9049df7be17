"""Activities (workers poll GetActivityTask) and task tokens (SendTaskSuccess, SendTaskFailure,
SendTaskHeartbeat), which answer both activity tasks and `.waitForTaskToken` tasks."""

from __future__ import annotations

import asyncio
import json
import re
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.kit.paging import decode_token, page_of
from overcast.services.kit.tags import tag_dict
from overcast.services.stepfunctions.common import TAG_RULES, check_name, invalid_token, iso_date
from overcast.services.stepfunctions.failures import StatesError

if TYPE_CHECKING:
    from overcast.services.stepfunctions.provider import StepFunctionsProvider

POLL_SECONDS = 60  # GetActivityTask waits this long for a task before answering with none
MAX_OUTPUT = 256 * 1024
_TOKEN = re.compile(r"^[0-9a-f]{128}$")


class ActivityOperations(Operations):
    service: StepFunctionsProvider

    def create_activity(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["name"]
        check_name(name)
        arn = ctx.arn("states", f"activity:{name}")
        store = self.service.store
        found = store.activity(arn)
        tags = tag_dict(params.get("tags"), "key", "value")
        if found is None:
            store.add_activity(arn, ctx.account_id, ctx.region, name, self.clock.now())
            found = store.activity(arn)
        if tags:
            self.service.tags.add(arn, tags, TAG_RULES, account=ctx.account_id, region=ctx.region)
        assert found is not None
        return {"activityArn": arn, "creationDate": iso_date(found[2])}

    def _activity(self, ctx: RequestContext, arn: str) -> tuple[str, str, float]:
        self.service.parse_arn(ctx, arn, ("activity",))
        found = self.service.store.activity(arn)
        if found is None:
            raise ServiceError("ActivityDoesNotExist", f"Activity Does Not Exist: '{arn}'", 400)
        return found

    def describe_activity(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn, name, created = self._activity(ctx, params["activityArn"])
        return {"activityArn": arn, "name": name, "creationDate": iso_date(created)}

    def delete_activity(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["activityArn"]
        self.service.parse_arn(ctx, arn, ("activity",))
        self.service.store.delete_activity(arn)
        self.service.tags.forget(arn)
        return {}

    def list_activities(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = params.get("maxResults") or 100
        after = decode_token(params.get("nextToken"), invalid_token, "activities") or ""
        rows = self.service.store.activities_after(ctx.account_id, ctx.region, after, limit + 1)
        page, token = page_of(rows, limit, lambda row: row[1], "activities")
        result: dict[str, Any] = {
            "activities": [{"activityArn": a, "name": n, "creationDate": iso_date(c)} for a, n, c in page]
        }
        if token:
            result["nextToken"] = token
        return result

    async def get_activity_task(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        """Long poll: a task of the activity, or an empty answer after 60 seconds."""
        arn = params["activityArn"]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + POLL_SECONDS
        while True:
            with self.db.transaction():
                self._activity(ctx, arn)
                taken = self._take(arn, params.get("workerName"))
            if taken is not None:
                return taken
            remaining = deadline - loop.time()
            if remaining <= 0:
                return {}
            event = self.service.activity_event(arn)
            event.clear()
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                pass

    def _take(self, arn: str, worker: str | None) -> dict[str, Any] | None:
        store = self.service.store
        while True:
            found = store.take_activity_task(arn)
            if found is None:
                return None
            token, payload = found
            thread = store.thread_by_token(token)
            if thread is None:
                continue  # its execution ended meanwhile
            self.service.engine.activity_started(thread, worker)
            return {"taskToken": token, "input": payload}

    # -- task tokens -----------------------------------------------------------------------------------------

    def _waiting(self, token: str) -> Any:
        if not _TOKEN.match(token):
            raise invalid_token()
        thread = self.service.store.thread_by_token(token)
        if thread is None:
            raise ServiceError("TaskTimedOut", "Task Timed Out: 'Provided task does not exist anymore'", 400)
        return thread

    def send_task_success(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self._waiting(params["taskToken"])
        text = params["output"]
        if len(text.encode()) > MAX_OUTPUT:
            raise ServiceError("InvalidOutput", "Invalid Output: 'The output exceeds the maximum size'", 400)
        try:
            output = json.loads(text)
        except ValueError as error:
            raise ServiceError("InvalidOutput", f"Invalid Output: '{error}'", 400) from None
        self.service.engine.callback(params["taskToken"], output, None)
        return {}

    def send_task_failure(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self._waiting(params["taskToken"])
        error = StatesError(params.get("error") or "", params.get("cause") or "")
        self.service.engine.callback(params["taskToken"], None, error)
        return {}

    def send_task_heartbeat(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        thread = self._waiting(params["taskToken"])
        self.service.engine.heartbeat(thread)
        return {}
