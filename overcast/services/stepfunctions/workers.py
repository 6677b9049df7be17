"""The engine: it advances executions, durably, on the virtual clock.

An execution is a tree of *threads* (store.py): the root, one per Parallel branch, one per Map iteration. A
thread whose `due_at` has come is *stepped* inside one transaction: it enters its state, runs every state that
needs nothing outside (Pass, Choice, Succeed, Fail, a Wait already over, Parallel/Map starting their branches)
and stops where it must wait — a Wait (due at its end), a retry (due at the next attempt), a task (its call is
running, or a token or activity worker must answer, due at its timeout) or its children. A task's call runs
outside any transaction; its outcome is applied in a new one, if the thread still waits for that very run.
History events are written in the same transactions, so what the history says is what happened.

Nothing of a waiting execution is held in memory; after a restart the worker finds the due rows again, and
request-response calls that were in flight are made again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import uuid
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from overcast.errors import ServiceError
from overcast.identity import Principal, root_principal
from overcast.services.events import api as events
from overcast.services.stepfunctions import definition as definitions
from overcast.services.stepfunctions import integrations, retries, states
from overcast.services.stepfunctions.failures import TERMINAL, StatesError, dumps
from overcast.services.stepfunctions.store import Execution, Thread

if TYPE_CHECKING:
    from overcast.services.stepfunctions.provider import StepFunctionsProvider

log = logging.getLogger("overcast.stepfunctions")

MAX_TRANSITIONS_PER_STEP = 200  # a loop of pure states yields to other work after this many
MAX_HISTORY_EVENTS = 25000  # AWS's history quota: an execution that exceeds it fails
MAX_IN_FLIGHT = 64  # task calls running at once (the rest wait for a slot)
MAX_PAYLOAD = 256 * 1024  # a task result larger than this is States.DataLimitExceeded


class Engine:
    def __init__(self, provider: StepFunctionsProvider) -> None:
        self.provider = provider
        self.platform = provider.platform
        self.store = provider.store
        self.db = provider.db
        self.clock = provider.clock
        self._wake = asyncio.Event()
        self._definitions: OrderedDict[int, definitions.Definition] = OrderedDict()
        self._finished: dict[int, asyncio.Future] = {}
        self._slots: asyncio.Semaphore | None = None

    # -- the worker ------------------------------------------------------------------------------------------

    async def run(self) -> None:
        with self.db.transaction():
            for thread_id in self.store.interrupted_tasks():
                thread = self.store.thread(thread_id)
                if thread is None:
                    continue
                if thread.phase == "writing":  # the results are in the thread: write them again
                    self.provider.distributed.write_later(thread.id)
                    continue
                thread.phase, thread.due_at = "retry", self.clock.now()
                self.store.save_thread(thread)
        while True:
            try:
                busy = self.run_due()
            except Exception:  # a bug in one step must not stop every execution
                log.exception("step functions worker")
                busy = False
            if busy:
                await asyncio.sleep(0)
                continue
            await self._sleep()

    def run_due(self, limit: int = 100) -> bool:
        """Step the threads (and time out the executions) whose moment has come; True if there may be more."""
        now = self.clock.now()
        timed_out = self.store.timed_out_executions(now, limit)
        due = self.store.due_threads(now, limit)
        if not timed_out and not due:
            return False
        # One commit for the whole batch (a commit costs more than a step of pure states); each step is a
        # savepoint of it, so a step that fails is undone alone.
        with self.db.transaction():
            for execution_id in timed_out:
                self.time_out(execution_id)
            for thread_id in due:
                self._guarded(thread_id, lambda: self.step(thread_id))  # noqa: B023 (called at once)
        return len(due) == limit or len(timed_out) == limit

    def _guarded(self, thread_id: int, advance: Callable[[], None]) -> None:
        """Step a thread in a savepoint of its own; a bug must not leave it due forever (nor fail the request
        that started it): its execution fails instead."""
        try:
            with self.db.transaction():
                advance()
        except Exception as error:
            log.exception("step functions: stepping thread %s", thread_id)
            with self.db.transaction():
                self.abandon(thread_id, error)

    def abandon(self, thread_id: int, error: Exception) -> None:
        """Fail the execution of a thread that could not be stepped (an internal error)."""
        thread = self.store.thread(thread_id)
        execution = self.store.execution_by_id(thread.execution_id) if thread else None
        if execution is None or execution.status != "RUNNING":
            if thread is not None:
                self.store.delete_thread(thread_id)
            return
        failure = StatesError("States.Runtime", f"Overcast could not run this execution: {error!r}")
        self.stop(execution, "FAILED", "ExecutionFailed", "executionFailedEventDetails", failure)

    async def _sleep(self) -> None:
        moments = [m for m in (self.store.next_due(), self.store.next_execution_timeout()) if m is not None]
        self._wake.clear()
        waits = [asyncio.ensure_future(self._wake.wait())]
        if moments:
            waits.append(asyncio.ensure_future(self.clock.sleep_until(min(moments))))
        else:
            waits.append(asyncio.ensure_future(self.clock.wait_for_change(3600)))
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()

    def wake(self) -> None:
        self._wake.set()

    def reset(self) -> None:
        """The store was emptied: forget caches; requests waiting for an execution's end stop waiting."""
        self._definitions.clear()
        for future in self._finished.values():
            if not future.done():
                future.set_result("ABORTED")
        self._finished.clear()

    # -- entry points ----------------------------------------------------------------------------------------

    def begin(self, execution: Execution, data: Any, run_now: bool = False) -> int:
        """Start an execution (inside the request's transaction): ExecutionStarted and its root thread.
        `run_now`: step it at once, in the same commit, as the worker would a moment later (a machine of pure
        states ends right here); only where no step of another execution is in progress."""
        details: dict[str, Any] = {
            "input": execution.input,
            "inputDetails": {"truncated": False},
            "roleArn": execution.role_arn,
        }
        if execution.alias_arn:
            details["stateMachineAliasArn"] = execution.alias_arn
        if execution.version_arn:
            details["stateMachineVersionArn"] = execution.version_arn
        first = self.event(execution, "ExecutionStarted", 0, "executionStartedEventDetails", details)
        self.status_changed(execution, "RUNNING", None, None)
        definition = self.definition(execution.definition_id)
        thread = self.store.add_root_thread(
            execution.id, definition.doc["StartAt"], data, self.clock.now(), first
        )
        if run_now:
            self._guarded(thread.id, _Step(self, execution, thread).advance)
            if execution.status != "RUNNING":
                return thread.id  # it ended: nothing for the worker
        self.db.after_commit(self.wake)
        return thread.id

    def definition(self, definition_id: int) -> definitions.Definition:
        found = self._definitions.get(definition_id)
        if found is None:
            text = self.store.definition_text(definition_id)
            found = definitions.Definition(json.loads(text), text)
            self._definitions[definition_id] = found
            if len(self._definitions) > 256:
                self._definitions.popitem(last=False)
        else:
            self._definitions.move_to_end(definition_id)
        return found

    def finished(self, execution_id: int) -> asyncio.Future:
        """A future resolved when the execution stops (StartSyncExecution waits on it)."""
        future = self._finished.get(execution_id)
        if future is None:
            future = self._finished[execution_id] = asyncio.get_running_loop().create_future()
        return future

    def step(self, thread_id: int) -> None:
        """Advance one thread as far as it can go now (call inside a transaction)."""
        thread = self.store.thread(thread_id)
        if thread is None:
            return
        execution = self.store.execution_by_id(thread.execution_id)
        if execution is None or execution.status != "RUNNING":
            self.store.delete_threads(thread.execution_id)
            return
        _Step(self, execution, thread).advance()

    def time_out(self, execution_id: int) -> None:
        execution = self.store.execution_by_id(execution_id)
        if execution is None or execution.status != "RUNNING":
            return
        cause = "The execution has exceeded its TimeoutSeconds."
        self.stop(
            execution,
            "TIMED_OUT",
            "ExecutionTimedOut",
            "executionTimedOutEventDetails",
            StatesError("States.Timeout", cause),
        )

    def stop(
        self, execution: Execution, status: str, event: str, key: str, error: StatesError | None
    ) -> None:
        """End an execution that did not succeed (failed, aborted, timed out): its threads go."""
        details: dict[str, Any] = {}
        if error is not None:
            details["error"] = error.error
            if error.cause is not None:
                details["cause"] = error.cause
        self.event(execution, event, execution.last_event, key, details)
        root = self.store.root_thread(execution.id)
        if root is not None and execution.type == "STANDARD":  # where RedriveExecution starts again
            execution.details["redrive"] = {
                "state": root.state,
                "input": root.input,
                "variables": root.variables,
            }
            self.store.set_execution_details(execution.id, execution.details)
        tokens = self.store.execution_tokens(execution.id)
        for token in tokens:
            self.store.drop_activity_task(token)
        self.store.delete_threads(execution.id)
        if status == "ABORTED":  # nested executions a `.sync` task waits for are stopped with it
            for child in self.store.running_children(tokens):
                self.stop(child, "ABORTED", "ExecutionAborted", "executionAbortedEventDetails", None)
        self.store.finish_execution(
            execution.id,
            status,
            self.clock.now(),
            error=error.error if error else None,
            cause=error.cause if error else None,
        )
        self._ended(execution, status, None, error)

    def succeed(self, execution: Execution, output: Any, previous: int) -> None:
        text = dumps(output)
        self.event(
            execution,
            "ExecutionSucceeded",
            previous,
            "executionSucceededEventDetails",
            {"output": text, "outputDetails": {"truncated": False}},
        )
        self.store.delete_threads(execution.id)
        self.store.finish_execution(execution.id, "SUCCEEDED", self.clock.now(), output=text)
        self._ended(execution, "SUCCEEDED", text, None)

    def _ended(
        self, execution: Execution, status: str, output: str | None, error: StatesError | None
    ) -> None:
        """What follows an execution's end: a waiting StartSyncExecution, the task of a parent execution
        (`.sync`), the status change event; Express executions leave nothing behind."""
        execution.status = status
        self.status_changed(execution, status, output, error)
        if execution.parent_token:
            self.complete_parent(execution, status, output, error)
        if execution.type == "EXPRESS":
            details = execution.details
            if not details.get("sync"):
                self.store.delete_execution(execution.id)
        future = self._finished.pop(execution.id, None)
        if future is not None and not future.done():
            self.db.after_commit(lambda: future.done() or future.set_result(status))

    def status_changed(
        self, execution: Execution, status: str, output: str | None, error: StatesError | None
    ) -> None:
        """ "Step Functions Execution Status Change" on the account's default bus, as Standard workflows send
        it when they start and end (Express workflows send none)."""
        if execution.type != "STANDARD":
            return
        stopped = None if status == "RUNNING" else self.clock.now()
        detail: dict[str, Any] = {
            "executionArn": execution.arn,
            "stateMachineArn": execution.machine_arn,
            "name": execution.name,
            "status": status,
            "startDate": int(execution.started_at * 1000),
            "stopDate": int(stopped * 1000) if stopped is not None else None,
            "input": execution.input,
            "output": output,
            "inputDetails": {"included": True},
            "outputDetails": {"included": True} if output is not None else None,
        }
        if error is not None:
            detail["error"] = error.error
            detail["cause"] = error.cause
        events.put_event(
            self.provider.platform,
            execution.account,
            execution.region,
            source="aws.states",
            detail_type="Step Functions Execution Status Change",
            detail=detail,
            resources=[execution.arn],
        )

    def complete_parent(
        self, child: Execution, status: str, output: str | None, error: StatesError | None
    ) -> None:
        """A nested execution started with `.sync`/`.sync:2` ended: its parent's task ends with it."""
        thread = self.store.thread_by_token(child.parent_token or "")
        if thread is None:
            return
        parent = self.store.execution_by_id(thread.execution_id)
        if parent is None or parent.status != "RUNNING":
            return
        step = _Step(self, parent, thread)
        fresh = self.store.execution_by_id(child.id) or child
        described = self.provider.describe_execution_shape(fresh)
        described["status"] = status
        if output is not None:
            described["output"] = output
            described["outputDetails"] = {"included": True}
        for key in ("redriveCount", "redriveStatus", "redriveStatusReason"):
            described.pop(key, None)
        if status == "SUCCEEDED" and thread.task and thread.task.get("pattern") == "sync2":
            described["output"] = json.loads(output or "null")
        result = _pascal_all(_jsonable(described))
        if status == "SUCCEEDED":
            step.task_succeeded(result)
        else:
            step.task_failed(StatesError("States.TaskFailed", dumps(result)))

    # -- events ----------------------------------------------------------------------------------------------

    def event(self, execution: Execution, kind: str, previous: int, key: str | None, details: Any) -> int:
        """Record a history event (Express executions keep none: theirs only go to the logs); its id."""
        logging = execution.details.get("logging")
        if execution.type == "EXPRESS" and not logging:
            return 0
        body = {key: details} if key else None
        now = self.clock.now()
        if execution.type == "EXPRESS":  # numbered for the logs, kept nowhere else
            event_id = execution.last_event = self.store.next_event_id(execution.id)
        else:
            event_id = self.store.add_event(execution.id, kind, now, previous, body)
            execution.last_event = event_id
        if logging:
            self.provider.logs.queue(execution, event_id, kind, previous, now, body)
        return event_id

    # -- task calls --------------------------------------------------------------------------------------------

    def launch(self, thread_id: int, run: int) -> None:
        """Make a thread's task call in the background (after the transaction that scheduled it commits)."""
        self.platform.spawn(self._call(thread_id, run))

    async def _call(self, thread_id: int, run: int) -> None:
        if self._slots is None:
            self._slots = asyncio.Semaphore(MAX_IN_FLIGHT)
        async with self._slots:
            thread = self.store.thread(thread_id)
            if thread is None or thread.run != run or thread.phase != "task" or thread.task is None:
                return
            execution = self.store.execution_by_id(thread.execution_id)
            if execution is None or execution.status != "RUNNING":
                return
            task = thread.task
            plan = integrations.plan(task["resource"])
            try:
                principal = await self.principal(execution)
                if task.get("role"):  # Credentials: the call is made as another role, assumed from ours
                    principal = await self.task_principal(principal, execution, task["role"])
                result = await integrations.call(
                    self.platform,
                    plan,
                    task["params"],
                    principal,
                    principal.account_id or execution.account,
                    execution.region,
                )
                outcome: Any = ("ok", result)
            except StatesError as error:
                outcome = ("error", error)
            except Exception as error:  # an unexpected failure of the callee: a task failure, not a crash
                log.exception("task %s", task["resource"])
                outcome = ("error", StatesError("States.TaskFailed", str(error)))
        try:
            with self.db.transaction():
                self._apply(thread_id, run, plan, outcome)
        except Exception as error:  # a bug must not leave the task waiting forever: its execution fails
            log.exception("step functions: applying the outcome of %s", plan.resource)
            with self.db.transaction():
                self.abandon(thread_id, error)

    def _apply(self, thread_id: int, run: int, plan: integrations.Plan, outcome: tuple[str, Any]) -> None:
        """A task call's outcome, applied if the thread still waits for that very call."""
        thread = self.store.thread(thread_id)
        if thread is None or thread.run != run or thread.phase != "task":
            return  # timed out, stopped or caught meanwhile: the late answer is dropped
        execution = self.store.execution_by_id(thread.execution_id)
        if execution is None or execution.status != "RUNNING":
            return
        step = _Step(self, execution, thread)
        if outcome[0] == "error":
            step.task_failed(outcome[1])
        elif plan.pattern == "request":
            step.task_succeeded(outcome[1])
        else:
            step.submitted(outcome[1])

    async def principal(self, execution: Execution) -> Principal:
        """The state machine's role session (STS AssumeRole as states.amazonaws.com, reused while it lasts);
        outside `--iam enforce` a role that cannot be assumed leaves the account's root."""
        try:
            return await self.provider.assume_role(execution.account, execution.region, execution.role_arn)
        except ServiceError as error:
            if self.platform.config.iam == "enforce":
                raise StatesError("States.Permissions", error.message) from None
            return root_principal(execution.account)

    async def task_principal(self, caller: Principal, execution: Execution, role_arn: str) -> Principal:
        """The session of a Task's `Credentials` role, assumed by the state machine's role."""
        try:
            response = await self.platform.call(
                "sts",
                "AssumeRole",
                {"RoleArn": role_arn, "RoleSessionName": "overcast-stepfunctions-task"},
                principal=caller,
                account_id=execution.account,
                region=execution.region,
            )
        except ServiceError as error:
            raise StatesError("States.TaskFailed", error.message) from None
        credential = self.platform.credentials.lookup(response["Credentials"]["AccessKeyId"])
        if credential is None:
            raise StatesError("States.TaskFailed", f"The role {role_arn} could not be assumed")
        return credential.principal

    # -- callbacks -------------------------------------------------------------------------------------------

    def callback(self, token: str, outcome: Any, error: StatesError | None) -> None:
        """SendTaskSuccess / SendTaskFailure for a thread waiting on `token` (inside a transaction)."""
        thread = self.store.thread_by_token(token)
        assert thread is not None
        execution = self.store.execution_by_id(thread.execution_id)
        assert execution is not None
        step = _Step(self, execution, thread)
        if error is not None:
            step.task_failed(error)
        else:
            step.task_succeeded(outcome)

    def heartbeat(self, thread: Thread) -> None:
        task = thread.task or {}
        if task.get("heartbeat"):
            deadline = self.clock.now() + task["heartbeat"]
            thread.due_at = min(deadline, task["timeout_at"]) if task.get("timeout_at") else deadline
            self.store.save_thread(thread)
            self.db.after_commit(self.wake)

    def activity_started(self, thread: Thread, worker: str | None) -> None:
        execution = self.store.execution_by_id(thread.execution_id)
        if execution is None:
            return
        details = {"workerName": worker} if worker else {}
        thread.last_event = self.event(
            execution, "ActivityStarted", thread.last_event, "activityStartedEventDetails", details
        )
        self.store.save_thread(thread)


class _Step:
    """One thread of one execution, being advanced inside a transaction."""

    def __init__(self, engine: Engine, execution: Execution, thread: Thread) -> None:
        self.engine = engine
        self.store = engine.store
        self.execution = execution
        self.thread = thread
        self.definition = engine.definition(execution.definition_id)
        self.now = engine.clock.now()

    # -- helpers ---------------------------------------------------------------------------------------------

    @property
    def state(self) -> dict[str, Any]:
        return self.definition.state(self.thread.scope, self.thread.state)

    def env(self) -> states.Env:
        thread = self.thread
        language = self.definition.language(thread.scope, thread.state)
        return states.Env(
            thread.state, self.state, language, self.context, thread.variables, self.now, thread.entered_event
        )

    def context(self) -> dict[str, Any]:
        """The context object of the state being run (`$$` in JSONPath, `$states.context` in JSONata)."""
        thread, execution = self.thread, self.execution
        context: dict[str, Any] = {
            "Execution": {
                "Id": execution.arn,
                "Input": json.loads(execution.input),
                "Name": execution.name,
                "RoleArn": execution.role_arn,
                "StartTime": states.iso(execution.started_at),
                "RedriveCount": execution.redrive_count,
            },
            "StateMachine": {"Id": execution.machine_arn, "Name": execution.machine_arn.split(":")[6]},
            "State": {
                "Name": thread.state,
                "EnteredTime": states.iso(thread.entered_at or self.now),
                "RetryCount": sum(thread.attempts.values()),
            },
        }
        if thread.token:
            context["Task"] = {"Token": thread.token}
        return context

    @property
    def recording(self) -> bool:
        """Whether this thread's events are recorded: in the history (not for Express executions, whose events
        only go to the logs when the machine logs), and never inside a distributed Map's iterations."""
        execution = self.execution
        kept = execution.type != "EXPRESS" or bool(execution.details.get("logging"))
        return kept and not self.definition.in_distributed(self.thread.scope)

    def event(self, kind: str, key: str | None = None, details: Any = None) -> int:
        if not self.recording:
            return 0
        event_id = self.engine.event(self.execution, kind, self.thread.last_event, key, details)
        if event_id:
            self.thread.last_event = event_id
        return event_id

    def save(self) -> None:
        self.store.save_thread(self.thread)
        if self.thread.due_at is not None:  # the worker may be asleep past this moment
            self.engine.db.after_commit(self.engine.wake)

    # -- the loop --------------------------------------------------------------------------------------------

    def advance(self) -> None:
        thread = self.thread
        for _ in range(MAX_TRANSITIONS_PER_STEP):
            if self.execution.last_event >= MAX_HISTORY_EVENTS:
                self.engine.stop(
                    self.execution,
                    "FAILED",
                    "ExecutionFailed",
                    "executionFailedEventDetails",
                    StatesError(
                        "States.Runtime",
                        f"The execution reached the maximum number of history events ({MAX_HISTORY_EVENTS}).",
                    ),
                )
                return
            phase = thread.phase
            if phase == "enter":
                going = self.guard(self.enter)
            elif phase == "wait":
                going = self.guard(
                    lambda: self.exit(states.plain_state(self.env(), thread.input, states_next(self.state)))
                )
            elif phase == "retry":
                going = self.guard(self.begin_work)
            elif phase == "task":
                going = self.timed_out()
            else:
                return
            if not going:
                return
        thread.due_at = self.now  # more to do: let other threads run first
        self.save()
        self.engine.db.after_commit(self.engine.wake)

    def guard(self, action) -> bool:
        try:
            return action()
        except StatesError as error:
            return self.on_error(error)

    def enter(self) -> bool:
        thread, state = self.thread, self.state
        kind = state["Type"]
        thread.entered_at = self.now
        thread.attempts = {}
        if self.recording:
            thread.entered_event = self.event(
                f"{kind}StateEntered",
                "stateEnteredEventDetails",
                {"name": thread.state, "input": dumps(thread.input), "inputDetails": {"truncated": False}},
            )
        env = self.env()
        if kind == "Pass":
            return self.exit(states.pass_state(env, thread.input))
        if kind == "Choice":
            return self.exit(states.choice_state(env, thread.input))
        if kind == "Succeed":
            return self.exit(states.plain_state(env, thread.input, None))
        if kind == "Fail":
            return self.fail(states.fail_state(env, thread.input))
        if kind == "Wait":
            until = states.wait_until(env, thread.input)
            if until <= self.now:
                return self.exit(states.plain_state(env, thread.input, states_next(state)))
            thread.phase, thread.due_at = "wait", until
            self.save()
            return False
        return self.begin_work()

    def begin_work(self) -> bool:
        """A Task's call, a Parallel's branches or a Map's iterations (again, after a retry)."""
        kind = self.state["Type"]
        if kind == "Task":
            return self.schedule_task()
        if kind == "Parallel":
            return self.start_parallel()
        return self.start_map()

    def exit(self, transition: states.Transition) -> bool:
        thread, kind = self.thread, self.state["Type"]
        if self.recording:
            details: dict[str, Any] = {
                "name": thread.state,
                "output": dumps(transition.output),
                "outputDetails": {"truncated": False},
            }
            if transition.assigned:
                details["assignedVariables"] = {k: dumps(v) for k, v in transition.assigned.items()}
                details["assignedVariablesDetails"] = {"truncated": False}
            self.event(f"{kind}StateExited", "stateExitedEventDetails", details)
        if transition.assigned:
            thread.variables = {**thread.variables, **transition.assigned}
        return self.move(transition.output, transition.next)

    def move(self, output: Any, target: str | None) -> bool:
        thread = self.thread
        thread.task = thread.token = thread.scratch = None
        if target is None:
            return self.finish(output)
        thread.state, thread.input, thread.phase, thread.due_at = target, output, "enter", None
        thread.attempts = {}
        return True

    def finish(self, output: Any) -> bool:
        thread = self.thread
        if thread.parent_id is None:
            self.engine.succeed(self.execution, output, thread.last_event)
            return False
        thread.phase, thread.result, thread.due_at = "done", output, None
        self.save()
        parent = self.store.thread(thread.parent_id)
        if parent is not None:
            parent.last_event = max(parent.last_event, thread.last_event)
            _Step(self.engine, self.execution, parent).child_done(thread)
        return False

    def fail(self, error: StatesError) -> bool:
        """An error no retrier or catcher of this state handles: the branch (or the execution) fails."""
        thread = self.thread
        if thread.parent_id is None:
            self.engine.stop(
                self.execution, "FAILED", "ExecutionFailed", "executionFailedEventDetails", error
            )
            return False
        thread.phase, thread.result, thread.due_at = "failed", error.output(), None
        self.save()
        parent = self.store.thread(thread.parent_id)
        if parent is not None:
            parent.last_event = max(parent.last_event, thread.last_event)
            _Step(self.engine, self.execution, parent).child_failed(thread, error)
        return False

    def on_error(self, error: StatesError) -> bool:
        """Retry, Catch, or fail (a state's runtime error, a task's failure, a branch's)."""
        thread, state = self.thread, self.state
        thread.task = thread.token = None
        if error.error not in TERMINAL and state["Type"] in ("Task", "Parallel", "Map"):
            index = retries.find(state.get("Retry"), error.error)
            if index is not None:
                attempt = thread.attempts.get(str(index), 0)
                wait = retries.delay(state["Retry"][index], attempt)
                if wait is not None:
                    thread.attempts[str(index)] = attempt + 1
                    thread.phase, thread.due_at = "retry", self.now + wait
                    self.save()
                    return False
            index = retries.find(state.get("Catch"), error.error)
            if index is not None:
                try:
                    transition = states.catch(self.env(), thread.input, error, state["Catch"][index])
                except StatesError as failure:
                    return self.fail(failure)
                thread.variables = {**thread.variables, **transition.assigned}
                return self.move(transition.output, transition.next)
        return self.fail(error)

    # -- tasks -----------------------------------------------------------------------------------------------

    def schedule_task(self) -> bool:
        thread, state = self.thread, self.state
        plan = integrations.plan(state["Resource"])
        thread.token = _token() if plan.pattern != "request" else None
        env = self.env()
        params = states.task_input(env, thread.input)
        timeout, heartbeat = states.timeouts(env, thread.input)
        role = states.task_role(env, thread.input)
        if plan.kind == "activity":
            timeout = timeout or 99999999
        thread.run += 1
        thread.phase = "task"
        timeout_at = self.now + timeout if timeout else None
        thread.task = {
            "resource": plan.resource,
            "params": params,
            "pattern": plan.pattern,
            "timeout": timeout,
            "heartbeat": heartbeat,
            "timeout_at": timeout_at,
            "role": role,
        }
        thread.due_at = timeout_at
        if plan.pattern != "request" and heartbeat:
            thread.due_at = min(self.now + heartbeat, timeout_at) if timeout_at else self.now + heartbeat
        if plan.kind == "lambda":
            details: dict[str, Any] = {
                "resource": plan.resource,
                "input": dumps(params),
                "inputDetails": {"truncated": False},
            }
            if timeout:
                details["timeoutInSeconds"] = timeout
            self.event("LambdaFunctionScheduled", "lambdaFunctionScheduledEventDetails", details)
            self.event("LambdaFunctionStarted")
        elif plan.kind == "activity":
            details = {
                "resource": plan.resource,
                "input": dumps(params),
                "inputDetails": {"truncated": False},
                "timeoutInSeconds": timeout,
            }
            if heartbeat:
                details["heartbeatInSeconds"] = heartbeat
            self.event("ActivityScheduled", "activityScheduledEventDetails", details)
            self.store.queue_activity_task(plan.resource, thread.token, dumps(params), self.now)
            self.save()
            self.engine.provider.activity_waiting(plan.resource)
            return False
        else:
            details = {
                "resourceType": plan.resource_type,
                "resource": plan.resource_name,
                "region": self.execution.region,
                "parameters": dumps(params),
            }
            if timeout:
                details["timeoutInSeconds"] = timeout
            if heartbeat:
                details["heartbeatInSeconds"] = heartbeat
            if role:
                details["taskCredentials"] = {"roleArn": role}
            self.event("TaskScheduled", "taskScheduledEventDetails", details)
            self.event(
                "TaskStarted",
                "taskStartedEventDetails",
                {"resourceType": plan.resource_type, "resource": plan.resource_name},
            )
        self.save()
        thread_id, run = thread.id, thread.run
        self.engine.db.after_commit(lambda: self.engine.launch(thread_id, run))
        return False

    def _plan(self) -> integrations.Plan:
        return integrations.plan((self.thread.task or {}).get("resource") or self.state["Resource"])

    def task_succeeded(self, result: Any) -> None:
        plan = self._plan()
        text = dumps(result)
        if len(text.encode()) > MAX_PAYLOAD:
            error = StatesError(
                "States.DataLimitExceeded",
                f"The state/task '{plan.resource}' returned a result with a size exceeding the maximum number of "
                "bytes service limit.",
            )
            if self.on_error(error):
                self.advance()
            return
        if plan.kind == "lambda":
            self.event(
                "LambdaFunctionSucceeded",
                "lambdaFunctionSucceededEventDetails",
                {"output": text, "outputDetails": {"truncated": False}},
            )
        elif plan.kind == "activity":
            self.event(
                "ActivitySucceeded",
                "activitySucceededEventDetails",
                {"output": text, "outputDetails": {"truncated": False}},
            )
        else:
            self.event(
                "TaskSucceeded",
                "taskSucceededEventDetails",
                {
                    "resourceType": plan.resource_type,
                    "resource": plan.resource_name,
                    "output": text,
                    "outputDetails": {"truncated": False},
                },
            )
        self.thread.task = self.thread.token = None
        going = self.guard(lambda: self.exit(states.complete(self.env(), self.thread.input, result)))
        if going:
            self.advance()

    def task_failed(self, error: StatesError, timed_out: bool = False) -> None:
        plan = self._plan()
        details = {"error": error.error, "cause": error.cause or ""}
        if plan.kind == "lambda":
            kind = "LambdaFunctionTimedOut" if timed_out else "LambdaFunctionFailed"
            self.event(kind, f"{kind[0].lower()}{kind[1:]}EventDetails", details)
        elif plan.kind == "activity":
            kind = "ActivityTimedOut" if timed_out else "ActivityFailed"
            self.event(kind, f"{kind[0].lower()}{kind[1:]}EventDetails", details)
            if self.thread.token:
                self.store.drop_activity_task(self.thread.token)
        else:
            kind = "TaskTimedOut" if timed_out else "TaskFailed"
            self.event(
                kind,
                f"{kind[0].lower()}{kind[1:]}EventDetails",
                {"resourceType": plan.resource_type, "resource": plan.resource_name, **details},
            )
        if self.on_error(error):
            self.advance()

    def submitted(self, response: Any) -> None:
        """A `.waitForTaskToken` or `.sync` call was made: the task now waits for its token."""
        plan = self._plan()
        self.event(
            "TaskSubmitted",
            "taskSubmittedEventDetails",
            {
                "resourceType": plan.resource_type,
                "resource": plan.resource_name,
                "output": dumps(response),
                "outputDetails": {"truncated": False},
            },
        )
        self.save()
        if plan.pattern in ("sync", "sync2") and isinstance(response, dict) and response.get("ExecutionArn"):
            self.engine.provider.watch_child(response["ExecutionArn"], self.thread.token or "")

    def timed_out(self) -> bool:
        """A task's due moment came: its timeout or its heartbeat deadline passed."""
        task = self.thread.task or {}
        timeout_at = task.get("timeout_at")
        if timeout_at is not None and self.now >= timeout_at:
            error = StatesError("States.Timeout", "")
        else:
            error = StatesError("States.HeartbeatTimeout", "")
        self.thread.run += 1
        self.task_failed(error, timed_out=True)
        return False

    # -- Parallel ----------------------------------------------------------------------------------------------

    def start_parallel(self) -> bool:
        thread, state = self.thread, self.state
        branch_input = states.task_input(self.env(), thread.input)
        self.event("ParallelStateStarted")
        for index, branch in enumerate(state["Branches"]):
            self.store.add_thread(
                self.execution.id,
                thread.id,
                index,
                (*thread.scope, (thread.state, index)),
                branch["StartAt"],
                branch_input,
                thread.variables,
                self.now,
                thread.last_event,
            )
        thread.phase, thread.due_at = "children", None
        thread.scratch = {"total": len(state["Branches"]), "done": 0}
        self.save()
        self.engine.db.after_commit(self.engine.wake)
        return False

    def child_done(self, child: Thread, failed: bool = False) -> None:
        thread = self.thread
        scratch = thread.scratch or {}
        scratch["done"] = scratch.get("done", 0) + 1
        thread.scratch = scratch
        if self.state["Type"] == "Map":
            if not self.definition.is_distributed(thread.scope, thread.state):
                self.event(
                    "MapIterationSucceeded",
                    "mapIterationSucceededEventDetails",
                    {"name": thread.state, "index": child.branch},
                )
            if not failed:
                self.engine.provider.distributed.progress(scratch, "succeeded")
            self.start_iterations()
        if scratch["done"] < scratch["total"]:
            self.save()
            return
        results = [c.result for c in self.store.children(thread.id)]
        self.store.delete_children(thread.id)
        if self.state["Type"] == "Map":
            results = self.engine.provider.distributed.results(self, results)
            if results is None:
                return  # written to S3 in the background; the state goes on from there
            self.event("MapStateSucceeded")
        else:
            self.event("ParallelStateSucceeded")
        self.after_children(results)

    def after_children(self, results: Any) -> None:
        going = self.guard(lambda: self.exit(states.complete(self.env(), self.thread.input, results)))
        if going:
            self.advance()
        elif self.store.thread(self.thread.id) is not None and self.thread.phase not in ("done",):
            self.save()

    def child_failed(self, child: Thread, error: StatesError) -> None:
        thread = self.thread
        if self.state["Type"] == "Map":
            if not self.definition.is_distributed(thread.scope, thread.state):
                self.event(
                    "MapIterationFailed",
                    "mapIterationFailedEventDetails",
                    {"name": thread.state, "index": child.branch},
                )
            scratch = thread.scratch or {}
            if self.engine.provider.distributed.tolerates(self, scratch):
                child.phase = "done"  # the failed iteration's place in the results holds its error output
                self.store.save_thread(child)
                self.child_done(child, failed=True)
                return
            if scratch.get("threshold_error"):
                step_error = "States.ExceedToleratedFailureThreshold"
                error = StatesError(step_error, "The specified tolerated failure threshold was exceeded")
            self.event("MapStateFailed")
        else:
            self.event("ParallelStateFailed")
        for token in self.store.tokens_below(thread.id):
            self.store.drop_activity_task(token)
        self.store.delete_children(thread.id)
        thread.scratch = None
        if self.on_error(error):
            self.advance()
        elif self.store.thread(thread.id) is not None:
            self.save()

    # -- Map -------------------------------------------------------------------------------------------------

    def start_map(self) -> bool:
        state = self.state
        if self.definition.is_distributed(self.thread.scope, self.thread.state) and "ItemReader" in state:
            self.thread.phase, self.thread.due_at = "loading", None
            self.save()
            self.engine.provider.distributed.read_items(self)
            return False
        return self.iterate(states.map_items(self.env(), self.thread.input))

    def iterate(self, items: list[Any]) -> bool:
        """Start a Map over `items`: one pending thread per item, up to MaxConcurrency of them running."""
        thread, state = self.thread, self.state
        env = self.env()
        if "ItemBatcher" in state:
            items = self.engine.provider.distributed.batch(env, thread.input, items)
        prepared = [states.item_input(env, thread.input, i, item) for i, item in enumerate(items)]
        self.event("MapStateStarted", "mapStateStartedEventDetails", {"length": len(prepared)})
        thread.scratch = {
            "total": len(prepared),
            "started": 0,
            "done": 0,
            "failed": 0,
            "concurrency": states.max_concurrency(env, thread.input),
        }
        if self.definition.is_distributed(thread.scope, thread.state):
            self.engine.provider.distributed.open_run(self)
        if not prepared:
            results = self.engine.provider.distributed.results(self, [])
            if results is None:
                return False  # ResultWriter writes the empty result first
            self.event("MapStateSucceeded")
            return self.exit(states.complete(env, thread.input, results))
        processor = state.get("ItemProcessor") or state["Iterator"]
        self.store.add_pending_children(
            self.execution.id,
            thread.id,
            (*thread.scope, (thread.state, -1)),
            processor["StartAt"],
            prepared,
            thread.variables,
            thread.last_event,
        )
        thread.phase, thread.due_at = "children", None
        self.start_iterations()
        self.save()
        self.engine.db.after_commit(self.engine.wake)
        return False

    def start_iterations(self) -> None:
        """Let pending iterations run while fewer than MaxConcurrency (0: no limit) are running."""
        scratch = self.thread.scratch or {}
        limit = scratch.get("concurrency") or scratch["total"]
        free = limit - (scratch["started"] - scratch["done"])
        if free <= 0 or scratch["started"] >= scratch["total"]:
            return
        branches = self.store.activate_children(self.thread.id, free, self.now)
        scratch["started"] += len(branches)
        if not self.definition.is_distributed(self.thread.scope, self.thread.state):
            for index in branches:
                self.event(
                    "MapIterationStarted",
                    "mapIterationStartedEventDetails",
                    {"name": self.thread.state, "index": index},
                )


def states_next(state: dict[str, Any]) -> str | None:
    return None if state.get("End") else state.get("Next")


def _token() -> str:
    """A task token: opaque, long and unguessable like AWS's."""
    return (uuid.uuid4().hex + uuid.uuid4().hex + f"{random.getrandbits(256):064x}")[:128]


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return integrations.epoch_millis(value)


def _pascal_all(value: Any) -> Any:
    """DescribeExecution's answer as a `.sync` task's result: every member in PascalCase (the Output
    of `.sync:2`, user data, is kept as it is)."""
    if not isinstance(value, dict):
        return value
    return {
        key[:1].upper() + key[1:]: item if key == "output" else _pascal_all(item)
        for key, item in value.items()
    }
