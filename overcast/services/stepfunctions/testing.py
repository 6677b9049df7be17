"""TestState: one state run once, outside any execution, with what it did at each step of its input and output
processing (inspectionLevel DEBUG) — Task states really call their resource, as the given role."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.stepfunctions import definition as definitions
from overcast.services.stepfunctions import integrations, jsonpath, retries, states
from overcast.services.stepfunctions.failures import StatesError, dumps

if TYPE_CHECKING:
    from overcast.services.stepfunctions.provider import StepFunctionsProvider

_TESTABLE = ("Task", "Pass", "Wait", "Choice", "Succeed", "Fail")
# A lone state leads to states that are not there: those checks do not apply to it.
_LONE_STATE_CODES = ("MISSING_TRANSITION_TARGET", "MISSING_END_STATE")


def _invalid(message: str) -> ServiceError:
    return ServiceError("InvalidDefinition", f"Invalid State Machine Definition: '{message}'", 400)


async def test_state(
    provider: StepFunctionsProvider, ctx: RequestContext, params: dict[str, Any]
) -> dict[str, Any]:
    name, state = _state_of(params)
    try:
        data = json.loads(params.get("input") or "{}")
    except ValueError as error:
        raise ServiceError(
            "InvalidExecutionInput", f"Invalid State Machine Execution Input: '{error}'", 400
        ) from None
    try:
        variables = json.loads(params.get("variables") or "{}")
    except ValueError as error:
        raise ServiceError("ValidationException", f"Invalid variables: {error}", 400) from None
    language = state.get("QueryLanguage", "JSONPath")
    context = {
        "Execution": {
            "Id": ctx.arn("states", "execution:TestStateMachine:TestExecution"),
            "Input": data,
            "Name": "TestExecution",
            "RoleArn": params.get("roleArn"),
            "StartTime": states.iso(provider.clock.now()),
            "RedriveCount": 0,
        },
        "StateMachine": {
            "Id": ctx.arn("states", "stateMachine:TestStateMachine"),
            "Name": "TestStateMachine",
        },
        "State": {"Name": name, "EnteredTime": states.iso(provider.clock.now()), "RetryCount": 0},
    }
    env = states.Env(name, state, language, context, variables, provider.clock.now(), 0)
    debug = params.get("inspectionLevel") in ("DEBUG", "TRACE")
    inspection: dict[str, Any] = {"input": dumps(data)}
    try:
        transition = await _run(provider, ctx, params, env, data, inspection)
    except StatesError as error:
        return _failed(env, data, error, inspection if debug else None)
    result: dict[str, Any] = {"output": dumps(transition.output), "status": "SUCCEEDED"}
    if transition.next:
        result["nextState"] = transition.next
    if debug:
        inspection["variables"] = dumps({**variables, **transition.assigned})
        result["inspectionData"] = inspection
    return result


def _state_of(params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    try:
        doc = json.loads(params["definition"])
    except ValueError as error:
        raise _invalid(f"INVALID_JSON_DESCRIPTION: {error}") from None
    if not isinstance(doc, dict):
        raise _invalid("SCHEMA_VALIDATION_FAILED: The definition must be a JSON object at /")
    if "States" in doc:
        name = params.get("stateName") or doc.get("StartAt")
        if name not in (doc.get("States") or {}):
            raise ServiceError("ValidationException", f"State '{name}' does not exist in the definition", 400)
        state = dict(doc["States"][name])
        state.setdefault("QueryLanguage", doc.get("QueryLanguage", "JSONPath"))
    else:
        name, state = params.get("stateName") or "TestState", doc
    if state.get("Type") not in _TESTABLE:
        raise ServiceError(
            "ValidationException",
            f"TestState does not support the state type {state.get('Type')}; use one of {', '.join(_TESTABLE)}",
            400,
        )
    machine = {"StartAt": name, "States": {name: state}}
    if state.get("QueryLanguage"):
        machine["QueryLanguage"] = state["QueryLanguage"]
    _, diagnostics = definitions.parse(json.dumps(machine))
    errors = [d for d in diagnostics if d.severity == "ERROR" and d.code not in _LONE_STATE_CODES]
    if errors:
        raise ServiceError("InvalidDefinition", definitions.error_message(errors), 400)
    return name, state


async def _run(
    provider: StepFunctionsProvider,
    ctx: RequestContext,
    params: dict[str, Any],
    env: states.Env,
    data: Any,
    inspection: dict[str, Any],
) -> states.Transition:
    kind = env.state["Type"]
    if kind == "Pass":
        _inspect_input(env, data, inspection)
        return states.pass_state(env, data)
    if kind == "Choice":
        return states.choice_state(env, data)
    if kind == "Wait":
        states.wait_until(env, data)  # checked, not waited for
        return states.plain_state(env, data, None if env.state.get("End") else env.state.get("Next"))
    if kind == "Succeed":
        return states.plain_state(env, data, None)
    if kind == "Fail":
        raise states.fail_state(env, data)
    plan = integrations.plan(env.state["Resource"])
    if plan.kind == "activity" or plan.pattern != "request":
        raise ServiceError(
            "ValidationException",
            "TestState does not support activities, .sync or .waitForTaskToken integrations",
            400,
        )
    _inspect_input(env, data, inspection)
    payload = states.task_input(env, data)
    if env.jsonata:
        inspection["afterArguments"] = dumps(payload)
    else:
        inspection["afterParameters"] = dumps(payload)
    if not params.get("roleArn"):
        raise ServiceError("ValidationException", "A roleArn is required to test a Task state", 400)
    principal = await provider.engine.principal(_RoleHolder(ctx, params["roleArn"]))
    result = await integrations.call(provider.platform, plan, payload, principal, ctx.account_id, ctx.region)
    inspection["result"] = dumps(result)
    transition = states.complete(env, data, result)
    if not env.jsonata:
        selected = (
            env.template(env.state["ResultSelector"], result) if "ResultSelector" in env.state else result
        )
        inspection["afterResultSelector"] = dumps(selected)
        result_path = env.state.get("ResultPath", "$")
        inspection["afterResultPath"] = dumps(
            data if result_path is None else jsonpath.put(data, result_path, selected)
        )
    return transition


def _inspect_input(env: states.Env, data: Any, inspection: dict[str, Any]) -> None:
    if not env.jsonata:
        effective = states.effective_input(env, data)
        inspection["afterInputPath"] = dumps(effective)
        if "Parameters" in env.state:
            inspection["afterParameters"] = dumps(env.template(env.state["Parameters"], effective))


def _failed(
    env: states.Env, data: Any, error: StatesError, inspection: dict[str, Any] | None
) -> dict[str, Any]:
    state = env.state
    result: dict[str, Any] = {"error": error.error, "cause": error.cause or "", "status": "FAILED"}
    index = retries.find(state.get("Retry"), error.error) if state["Type"] == "Task" else None
    if index is not None and retries.delay(state["Retry"][index], 0) is not None:
        result["status"] = "RETRIABLE"
        if inspection is not None:
            inspection["errorDetails"] = {
                "retryIndex": index,
                "retryBackoffIntervalSeconds": int(
                    retries.delay(dict(state["Retry"][index], JitterStrategy="NONE"), 0) or 0
                ),
            }
    else:
        index = retries.find(state.get("Catch"), error.error) if state["Type"] == "Task" else None
        if index is not None:
            transition = states.catch(env, data, error, state["Catch"][index])
            result.update(status="CAUGHT_ERROR", nextState=transition.next, output=dumps(transition.output))
            if inspection is not None:
                inspection["errorDetails"] = {"catchIndex": index}
    if inspection is not None:
        result["inspectionData"] = inspection
    return result


class _RoleHolder:
    """What Engine.principal needs of an execution: its account, region and role."""

    def __init__(self, ctx: RequestContext, role_arn: str) -> None:
        self.account, self.region, self.role_arn = ctx.account_id, ctx.region, role_arn
