"""What each state does with its input, for both query languages: the input and output processing of the
Amazon States Language (InputPath → Parameters → task → ResultSelector → ResultPath → OutputPath for JSONPath;
Arguments → task → Output and Assign for JSONata), Choice, Wait, Fail and Catch. Pure: the engine (workers.py)
runs the tasks, the waits and the branches, and stores what these functions return.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from overcast.services.stepfunctions import choices, intrinsics, jsonata_bridge, jsonpath
from overcast.services.stepfunctions.failures import StatesError, dumps

_VARIABLE = re.compile(r"^\$([A-Za-z_][A-Za-z0-9_]*)(.*)$")


@dataclass
class Env:
    """One state being run: its definition, language, the context object and the visible variables."""

    name: str
    state: dict[str, Any]
    language: str
    context_source: dict[str, Any] | Callable[[], dict[str, Any]]  # the object, or what builds it when needed
    variables: dict[str, Any] = field(default_factory=dict)
    now: float = 0.0
    entered_event: int = 0

    @property
    def context(self) -> dict[str, Any]:
        """The context object (`$$`, `$states.context`), built on first use: most states never read it."""
        if callable(self.context_source):
            self.context_source = self.context_source()
        return self.context_source

    @property
    def jsonata(self) -> bool:
        return self.language == "JSONata"

    def fail(self, message: str) -> StatesError:
        return StatesError(
            "States.Runtime",
            f"An error occurred while executing the state '{self.name}' (entered at the event id "
            f"#{self.entered_event}). {message}",
        )

    # -- JSONPath ------------------------------------------------------------------------------------------

    def path(self, text: str | None, data: Any, field_name: str) -> Any:
        """The value of a JSONPath field (`$` when absent; None means `{}` for InputPath/OutputPath)."""
        if text is None:
            return {}
        match = _VARIABLE.match(text)
        if match and not text.startswith("$$"):
            return self._variable(match, text)
        try:
            return jsonpath.query(text, data, self.context if text.startswith("$$") else None)
        except jsonpath.NotFound:
            raise self.fail(
                f"Invalid path '{text}' : No results for path: {_bracketed(text)}"
                if field_name != "ItemsPath"
                else f"Invalid path '{text}' : The value for the field '{field_name}' must be a valid JSONPath"
            ) from None

    def _variable(self, match: re.Match, text: str) -> Any:
        name, rest = match.group(1), match.group(2)
        if name not in self.variables:
            raise self.fail(f"Invalid path '{text}': The variable '${name}' is not defined")
        value = self.variables[name]
        if not rest:
            return value
        try:
            return jsonpath.query("$" + rest, value, self.context)
        except jsonpath.NotFound:
            raise self.fail(f"Invalid path '{text}' : No results for path: {_bracketed(text)}") from None

    def template(self, template: Any, data: Any) -> Any:
        """A Payload Template (Parameters, ResultSelector, ItemSelector, Assign): `key.$` fields take the
        value of their path or intrinsic call; others are copied (objects and arrays walked)."""
        if isinstance(template, dict):
            out: dict[str, Any] = {}
            for key, value in template.items():
                if key.endswith(".$") and isinstance(value, str):
                    out[key[:-2]] = (
                        intrinsics.evaluate(value, data, self.context if "$$" in value else None)
                        if intrinsics.is_intrinsic(value)
                        else self.path(value, data, key)
                    )
                else:
                    out[key] = self.template(value, data)
            return out
        if isinstance(template, list):
            return [self.template(item, data) for item in template]
        return template

    # -- JSONata -------------------------------------------------------------------------------------------

    def expression(self, value: Any, field_name: str, **states: Any) -> Any:
        bindings = dict(states)
        if "$states.context" in (value if isinstance(value, str) else dumps(value)):
            bindings["context"] = self.context
        return jsonata_bridge.evaluate_template(
            value, bindings, self.variables, self.now, field_name, self.name
        )


@dataclass
class Transition:
    """Where a state leads: its output, the variables it assigned, the next state (None: the end)."""

    output: Any
    next: str | None
    assigned: dict[str, Any] = field(default_factory=dict)


def _bracketed(text: str) -> str:
    try:
        segments = jsonpath.parse(text).segments
    except jsonpath.PathError:
        return text
    return "$" + "".join(f"['{s.value}']" if s.kind == "name" else f"[{s.value}]" for s in segments)


# -- input -----------------------------------------------------------------------------------------------


def effective_input(env: Env, raw: Any) -> Any:
    if env.jsonata:
        return raw
    return env.path(env.state.get("InputPath", "$"), raw, "InputPath")


def task_input(env: Env, raw: Any) -> Any:
    """What a Task (or a Parallel's branches) receives: InputPath then Parameters, or Arguments."""
    if env.jsonata:
        if "Arguments" in env.state:
            return env.expression(env.state["Arguments"], "Arguments", input=raw)
        return raw
    data = effective_input(env, raw)
    if "Parameters" in env.state:
        return env.template(env.state["Parameters"], data)
    return data


def timeouts(env: Env, raw: Any) -> tuple[int | None, int | None]:
    """A Task's TimeoutSeconds and HeartbeatSeconds (literal, from a path, or from an expression)."""
    found = []
    for name in ("TimeoutSeconds", "HeartbeatSeconds"):
        value = env.state.get(name)
        if env.jsonata and jsonata_bridge.is_expression(value):
            value = env.expression(value, name, input=raw)
        elif f"{name}Path" in env.state:
            value = env.path(env.state[f"{name}Path"], effective_input(env, raw), f"{name}Path")
        if value is not None and not (
            isinstance(value, int | float) and not isinstance(value, bool) and value > 0
        ):
            raise env.fail(f"The value for the field '{name}' must be a positive integer: {dumps(value)}")
        found.append(int(value) if value is not None else None)
    return found[0], found[1]


def task_role(env: Env, raw: Any) -> str | None:
    """The role a Task's `Credentials` name (a cross-account call), or None."""
    credentials = env.state.get("Credentials")
    if not credentials:
        return None
    if env.jsonata:
        role = env.expression(credentials, "Credentials", input=raw).get("RoleArn")
    else:
        role = env.template(credentials, effective_input(env, raw)).get("RoleArn")
    if not isinstance(role, str) or not role.startswith("arn:"):
        raise env.fail(f"The value of the field 'Credentials.RoleArn' is not a valid role ARN: {dumps(role)}")
    return role


# -- output ----------------------------------------------------------------------------------------------


def complete(env: Env, raw: Any, result: Any) -> Transition:
    """A Task, Parallel or Map state's outcome once its work returned `result`."""
    state = env.state
    if env.jsonata:
        output = (
            env.expression(state["Output"], "Output", input=raw, result=result)
            if "Output" in state
            else result
        )
        assigned = env.expression(state.get("Assign") or {}, "Assign", input=raw, result=result)
        return Transition(output, _next(state), assigned)
    if "ResultSelector" in state:
        result = env.template(state["ResultSelector"], result)
    assigned = env.template(state.get("Assign") or {}, result)
    return Transition(_output(env, raw, result), _next(state), assigned)


def _output(env: Env, raw: Any, result: Any) -> Any:
    """ResultPath (where the result goes in the raw input; null: the input unchanged) then OutputPath."""
    state = env.state
    result_path = state.get("ResultPath", "$")
    if result_path is None:
        combined = raw
    else:
        try:
            combined = jsonpath.put(raw, result_path, result)
        except jsonpath.ResultPathMismatch:
            raise StatesError(
                "States.ResultPathMatchFailure",
                f"Unable to apply ReferencePath {result_path} to input {dumps(raw)}",
            ) from None
    return env.path(state.get("OutputPath", "$"), combined, "OutputPath")


def _next(state: dict[str, Any]) -> str | None:
    return None if state.get("End") else state.get("Next")


def pass_state(env: Env, raw: Any) -> Transition:
    state = env.state
    if env.jsonata:
        output = env.expression(state["Output"], "Output", input=raw) if "Output" in state else raw
        assigned = env.expression(state.get("Assign") or {}, "Assign", input=raw)
        return Transition(output, _next(state), assigned)
    data = effective_input(env, raw)
    result = (
        state["Result"]
        if "Result" in state
        else env.template(state["Parameters"], data)
        if "Parameters" in state
        else data
    )
    assigned = env.template(state.get("Assign") or {}, data)
    return Transition(_output(env, raw, result), _next(state), assigned)


def plain_state(env: Env, raw: Any, next_state: str | None) -> Transition:
    """Wait and Succeed: InputPath then OutputPath (or Output), with Assign."""
    state = env.state
    if env.jsonata:
        output = env.expression(state["Output"], "Output", input=raw) if "Output" in state else raw
        assigned = env.expression(state.get("Assign") or {}, "Assign", input=raw)
        return Transition(output, next_state, assigned)
    data = effective_input(env, raw)
    assigned = env.template(state.get("Assign") or {}, data)
    return Transition(env.path(state.get("OutputPath", "$"), data, "OutputPath"), next_state, assigned)


def choice_state(env: Env, raw: Any) -> Transition:
    state = env.state
    data = effective_input(env, raw)
    for rule in state["Choices"]:
        if env.jsonata:
            condition = env.expression(rule["Condition"], "Condition", input=raw)
            if not isinstance(condition, bool):
                raise StatesError(
                    jsonata_bridge.QUERY_ERROR,
                    f"An error occurred while executing the state '{env.name}'. The Condition field's JSONata "
                    f"expression must evaluate to a boolean: {dumps(condition)}",
                )
            holds = condition
        else:
            holds = choices.matches(rule, data, env.context)
        if holds:
            return _chosen(env, raw, data, rule, rule["Next"])
    if "Default" in state:
        return _chosen(env, raw, data, state, state["Default"])
    raise StatesError(
        "States.NoChoiceMatched", f"No Matches! The state '{env.name}' did not match any choice rule."
    )


def _chosen(env: Env, raw: Any, data: Any, rule: dict[str, Any], target: str) -> Transition:
    state = env.state
    if env.jsonata:
        source = rule if "Output" in rule else state
        output = env.expression(source["Output"], "Output", input=raw) if "Output" in source else raw
        assigned = env.expression(rule.get("Assign") or state.get("Assign") or {}, "Assign", input=raw)
        return Transition(output, target, assigned)
    assigned = env.template(rule.get("Assign") or state.get("Assign") or {}, data)
    return Transition(env.path(state.get("OutputPath", "$"), data, "OutputPath"), target, assigned)


def wait_until(env: Env, raw: Any) -> float:
    """The virtual moment a Wait state ends."""
    state = env.state
    data = effective_input(env, raw)
    if "Seconds" in state or "SecondsPath" in state:
        if env.jsonata or "Seconds" in state:
            seconds = state["Seconds"]
            if jsonata_bridge.is_expression(seconds):
                seconds = env.expression(seconds, "Seconds", input=raw)
        else:
            seconds = env.path(state["SecondsPath"], data, "SecondsPath")
        if not (isinstance(seconds, int | float) and not isinstance(seconds, bool) and seconds >= 0):
            raise env.fail(
                f"The SecondsPath parameter does not reference a valid integer value: {dumps(seconds)}"
            )
        return env.now + float(seconds)
    if "Timestamp" in state and jsonata_bridge.is_expression(state["Timestamp"]):
        stamp = env.expression(state["Timestamp"], "Timestamp", input=raw)
    elif "Timestamp" in state:
        stamp = state["Timestamp"]
    else:
        stamp = env.path(state["TimestampPath"], data, "TimestampPath")
    moment = choices.parse_timestamp(stamp)
    if moment is None:
        raise env.fail(
            f"The TimestampPath parameter does not reference a valid ISO-8601 extended offset "
            f"date-time format string: {dumps(stamp)}"
        )
    return moment.timestamp()


def fail_state(env: Env, raw: Any) -> StatesError:
    """The error a Fail state raises (Error/ErrorPath, Cause/CausePath, or JSONata expressions)."""
    state = env.state
    found: list[str | None] = []
    for name in ("Error", "Cause"):
        value = state.get(name)
        if env.jsonata and jsonata_bridge.is_expression(value):
            value = env.expression(value, name, input=raw)
        elif f"{name}Path" in state:
            path = state[f"{name}Path"]
            value = (
                intrinsics.evaluate(path, raw, env.context)
                if intrinsics.is_intrinsic(path)
                else env.path(path, raw, f"{name}Path")
            )
        if value is not None and not isinstance(value, str):
            raise env.fail(f"The value of the field '{name}' must be a string: {dumps(value)}")
        found.append(value)
    return StatesError(found[0] if found[0] is not None else "", found[1])


def catch(env: Env, raw: Any, error: StatesError, catcher: dict[str, Any]) -> Transition:
    """Where a Catch leads: the error output placed by ResultPath (JSONPath) or Output (JSONata)."""
    error_output = error.output()
    if env.jsonata:
        output = (
            env.expression(catcher["Output"], "Output", input=raw, errorOutput=error_output)
            if "Output" in catcher
            else error_output
        )
        assigned = env.expression(catcher.get("Assign") or {}, "Assign", input=raw, errorOutput=error_output)
        return Transition(output, catcher["Next"], assigned)
    result_path = catcher.get("ResultPath", "$")
    try:
        output = raw if result_path is None else jsonpath.put(raw, result_path, error_output)
    except jsonpath.ResultPathMismatch:
        raise StatesError(
            "States.ResultPathMatchFailure",
            f"Unable to apply ReferencePath {result_path} to input {dumps(raw)}",
        ) from None
    assigned = env.template(catcher.get("Assign") or {}, error_output)
    return Transition(output, catcher["Next"], assigned)


# -- Map -------------------------------------------------------------------------------------------------


def map_items(env: Env, raw: Any) -> list[Any]:
    """The array a Map state iterates (ItemsPath or Items); ItemReader is the engine's."""
    state = env.state
    if env.jsonata:
        items = env.expression(state["Items"], "Items", input=raw) if "Items" in state else raw
    else:
        items = env.path(state.get("ItemsPath", "$"), effective_input(env, raw), "ItemsPath")
    if not isinstance(items, list):
        raise env.fail(
            f"Invalid path '{state.get('ItemsPath', '$')}' : The value for the field 'ItemsPath' must be a "
            f"JSONArray, but is {dumps(items)}"
        )
    return items


def item_input(env: Env, raw: Any, index: int, item: Any) -> Any:
    """An iteration's input: the item, or ItemSelector (Parameters in older definitions) over it."""
    state = env.state
    selector = state.get("ItemSelector", state.get("Parameters"))
    context = {**env.context, "Map": {"Item": {"Index": index, "Value": item}}}
    scoped = Env(env.name, state, env.language, context, env.variables, env.now, env.entered_event)
    if selector is None:
        return item
    if env.jsonata:
        return scoped.expression(selector, "ItemSelector", input=raw)
    return scoped.template(selector, effective_input(env, raw))


def max_concurrency(env: Env, raw: Any) -> int:
    state = env.state
    value = state.get("MaxConcurrency", 0)
    if env.jsonata and jsonata_bridge.is_expression(value):
        value = env.expression(value, "MaxConcurrency", input=raw)
    elif "MaxConcurrencyPath" in state:
        value = env.path(state["MaxConcurrencyPath"], effective_input(env, raw), "MaxConcurrencyPath")
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise env.fail(f"The MaxConcurrency value must be a non-negative integer: {dumps(value)}")
    return value


def iso(moment: float) -> str:
    """A timestamp as the context object writes it (`2024-01-01T00:00:00.000Z`)."""
    stamp = datetime.utcfromtimestamp(moment)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(moment * 1000) % 1000:03d}Z"
