"""A state machine's definition: parsing, the checks ValidateStateMachineDefinition and CreateStateMachine make
(AWS's diagnostic codes), and finding a state by its scope.

A *scope* names a `States` container: `()` is the machine's own; `(("P", 1),)` the second branch of the
Parallel state P; `(("M", -1),)` the item processor of the Map state M; nested ones chain.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from overcast.services.stepfunctions import choices, intrinsics, jsonata_bridge, jsonpath

Scope = tuple[tuple[str, int], ...]

STATE_TYPES = ("Task", "Pass", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map")
_COMMON = {"Type", "Comment", "QueryLanguage", "Assign"}
_FLOW = {"Next", "End"}
_JSONPATH_IO = {"InputPath", "OutputPath"}
_FIELDS: dict[str, set[str]] = {
    "Pass": _FLOW | _JSONPATH_IO | {"Parameters", "ResultPath", "Result", "Output"},
    "Task": _FLOW
    | _JSONPATH_IO
    | {
        "Resource",
        "Parameters",
        "ResultPath",
        "ResultSelector",
        "Retry",
        "Catch",
        "TimeoutSeconds",
        "TimeoutSecondsPath",
        "HeartbeatSeconds",
        "HeartbeatSecondsPath",
        "Credentials",
        "Arguments",
        "Output",
    },
    "Choice": _JSONPATH_IO | {"Choices", "Default", "Output"},
    "Wait": _FLOW | _JSONPATH_IO | {"Seconds", "SecondsPath", "Timestamp", "TimestampPath", "Output"},
    "Succeed": _JSONPATH_IO | {"Output"},
    "Fail": {"Error", "ErrorPath", "Cause", "CausePath"},
    "Parallel": _FLOW
    | _JSONPATH_IO
    | {"Branches", "Parameters", "ResultPath", "ResultSelector", "Retry", "Catch", "Arguments", "Output"},
    "Map": _FLOW
    | _JSONPATH_IO
    | {
        "ItemProcessor",
        "Iterator",
        "ItemsPath",
        "Items",
        "ItemSelector",
        "Parameters",
        "ItemReader",
        "ItemBatcher",
        "ResultWriter",
        "MaxConcurrency",
        "MaxConcurrencyPath",
        "ToleratedFailurePercentage",
        "ToleratedFailurePercentagePath",
        "ToleratedFailureCount",
        "ToleratedFailureCountPath",
        "Label",
        "ResultPath",
        "ResultSelector",
        "Retry",
        "Catch",
        "Arguments",
        "Output",
    },
}
_JSONPATH_ONLY = {
    "InputPath",
    "OutputPath",
    "Parameters",
    "ResultPath",
    "ResultSelector",
    "ItemsPath",
    "SecondsPath",
    "TimestampPath",
    "ErrorPath",
    "CausePath",
    "TimeoutSecondsPath",
    "HeartbeatSecondsPath",
    "MaxConcurrencyPath",
    "ToleratedFailurePercentagePath",
    "ToleratedFailureCountPath",
    "Result",
    "Iterator",
}
_JSONATA_ONLY = {"Arguments", "Output", "Items"}
_TOP = {"Comment", "StartAt", "States", "TimeoutSeconds", "Version", "QueryLanguage"}
_PATH_FIELDS = (
    "InputPath",
    "OutputPath",
    "ItemsPath",
    "SecondsPath",
    "TimestampPath",
    "ErrorPath",
    "CausePath",
)


@dataclass
class Diagnostic:
    code: str
    message: str
    location: str
    severity: str = "ERROR"

    def shape(self) -> dict[str, str]:
        return {
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "location": self.location,
        }


@dataclass
class Definition:
    doc: dict[str, Any]
    text: str
    _containers: dict[Scope, dict[str, Any]] = field(default_factory=dict)
    _distributed: dict[Scope, bool] = field(default_factory=dict)

    @property
    def query_language(self) -> str:
        return self.doc.get("QueryLanguage", "JSONPath")

    @property
    def timeout_seconds(self) -> int | None:
        return self.doc.get("TimeoutSeconds")

    def container(self, scope: Scope) -> dict[str, Any]:
        found = self._containers.get(scope)
        if found is None:
            found = self.doc
            for name, branch in scope:
                state = found["States"][name]
                found = (
                    state["Branches"][branch]
                    if branch >= 0
                    else state.get("ItemProcessor") or state.get("Iterator")
                )
            self._containers[scope] = found
        return found

    def state(self, scope: Scope, name: str) -> dict[str, Any]:
        return self.container(scope)["States"][name]

    def language(self, scope: Scope, name: str) -> str:
        """The state's QueryLanguage: its own, else the nearest enclosing state's, else the machine's."""
        state = self.state(scope, name)
        if "QueryLanguage" in state:
            return state["QueryLanguage"]
        for depth in range(len(scope), 0, -1):
            outer = self.state(scope[: depth - 1], scope[depth - 1][0])
            if "QueryLanguage" in outer:
                return outer["QueryLanguage"]
        return self.query_language

    def in_distributed(self, scope: Scope) -> bool:
        """Whether the scope is (inside) the item processor of a distributed Map."""
        found = self._distributed.get(scope)
        if found is None:
            found = any(
                branch == -1 and self.is_distributed(scope[:depth], name)
                for depth, (name, branch) in enumerate(scope)
            )
            self._distributed[scope] = found
        return found

    def is_distributed(self, scope: Scope, name: str) -> bool:
        processor = self.state(scope, name).get("ItemProcessor") or {}
        return (processor.get("ProcessorConfig") or {}).get("Mode") == "DISTRIBUTED"


class DefinitionProblem(ValueError):
    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__(error_message(diagnostics))
        self.diagnostics = diagnostics


def error_message(diagnostics: list[Diagnostic]) -> str:
    """InvalidDefinition's message: `Invalid State Machine Definition: 'CODE: message at /path, ...'`."""
    parts = ", ".join(f"{d.code}: {d.message} at {d.location}" for d in diagnostics)
    return f"Invalid State Machine Definition: '{parts}'"


def load(text: str, kind: str = "STANDARD") -> Definition:
    """The definition `text` parsed and checked for a machine of type `kind`; raises DefinitionProblem with
    the diagnostics."""
    doc, diagnostics = parse(text, kind)
    diagnostics = [d for d in diagnostics if d.severity == "ERROR"]
    if diagnostics:
        raise DefinitionProblem(diagnostics)
    assert doc is not None
    return Definition(doc, text)


def parse(text: str, kind: str = "STANDARD") -> tuple[dict[str, Any] | None, list[Diagnostic]]:
    if not text or not text.strip():
        return None, [Diagnostic("MISSING_DESCRIPTION", "Received a null or empty workflow input.", "/")]
    try:
        doc = json.loads(text)
    except ValueError as error:
        return None, [Diagnostic("INVALID_JSON_DESCRIPTION", str(error), "/")]
    if not isinstance(doc, dict):
        return None, [Diagnostic("SCHEMA_VALIDATION_FAILED", "The definition must be a JSON object", "/")]
    checker = _Checker(express=kind == "EXPRESS")
    checker.machine(doc)
    return doc, checker.found


class _Checker:
    def __init__(self, express: bool = False) -> None:
        self.express = express  # Express machines cannot wait for jobs, tokens or activity workers
        self.found: list[Diagnostic] = []
        self.names: set[str] = set()

    def add(self, code: str, message: str, location: str, severity: str = "ERROR") -> None:
        self.found.append(Diagnostic(code, message, location, severity))

    def machine(self, doc: dict[str, Any]) -> None:
        language = doc.get("QueryLanguage", "JSONPath")
        if language not in ("JSONPath", "JSONata"):
            self.add(
                "SCHEMA_VALIDATION_FAILED",
                'The value for the field "QueryLanguage" must be one of [JSONPath, JSONata]',
                "/QueryLanguage",
            )
            language = "JSONPath"
        for key in doc:
            if key not in _TOP:
                self.add(
                    "SCHEMA_VALIDATION_FAILED", f'The field "{key}" is not supported by Step Functions', "/"
                )
        timeout = doc.get("TimeoutSeconds")
        if timeout is not None and not (
            isinstance(timeout, int) and not isinstance(timeout, bool) and timeout > 0
        ):
            self.add(
                "SCHEMA_VALIDATION_FAILED",
                'The value for the field "TimeoutSeconds" must be a positive integer',
                "/TimeoutSeconds",
            )
        self.container(doc, "", language)
        if not self.found and not self._has_end(doc):  # (reported alone: other errors usually explain it)
            self.add("MISSING_END_STATE", "Workflow has no terminal state", "/States")

    def container(self, doc: dict[str, Any], where: str, language: str) -> None:
        missing = [k for k in ("StartAt", "States") if k not in doc]
        if missing:
            self.add(
                "SCHEMA_VALIDATION_FAILED", f"These fields are required: [{', '.join(missing)}]", where or "/"
            )
            return
        states = doc["States"]
        if not isinstance(states, dict) or not states:
            self.add(
                "SCHEMA_VALIDATION_FAILED", 'The field "States" must be a non-empty object', f"{where}/States"
            )
            return
        if not isinstance(doc["StartAt"], str) or doc["StartAt"] not in states:
            self.add(
                "MISSING_TRANSITION_TARGET", f"Missing 'StartAt' target: {doc['StartAt']}", f"{where}/StartAt"
            )
        for name, state in states.items():
            location = f"{where}/States/{name}"
            if name in self.names:
                self.add("DUPLICATE_STATE_NAME", f"Duplicate State name: {name}", location)
            self.names.add(name)
            if not 1 <= len(name) <= 80:
                self.add(
                    "INVALID_STATE_NAME", f"State name '{name}' must be 1 to 80 characters long", location
                )
            if not isinstance(state, dict):
                self.add("SCHEMA_VALIDATION_FAILED", "A state must be a JSON object", location)
                continue
            self.state(name, state, states, location, state.get("QueryLanguage", language))
        self.reachable(doc, where)

    def state(self, name: str, state: dict[str, Any], states: dict, where: str, language: str) -> None:
        kind = state.get("Type")
        if kind is None:
            self.add("SCHEMA_VALIDATION_FAILED", "These fields are required: [Type]", where)
            return
        if kind not in STATE_TYPES:
            self.add(
                "SCHEMA_VALIDATION_FAILED",
                f'The value for the field "Type" must be one of [{", ".join(STATE_TYPES)}]',
                f"{where}/Type",
            )
            return
        if language not in ("JSONPath", "JSONata"):
            self.add(
                "SCHEMA_VALIDATION_FAILED",
                'The value for the field "QueryLanguage" must be one of [JSONPath, JSONata]',
                f"{where}/QueryLanguage",
            )
            return
        allowed = _COMMON | _FIELDS[kind]
        for key in state:
            if key not in allowed:
                self.add(
                    "SCHEMA_VALIDATION_FAILED", f'The field "{key}" is not supported by Step Functions', where
                )
            elif language == "JSONata" and key in _JSONPATH_ONLY:
                self.add(
                    "SCHEMA_VALIDATION_FAILED",
                    f'The field "{key}" is not supported for the JSONata query language',
                    f"{where}/{key}",
                )
            elif language == "JSONPath" and key in _JSONATA_ONLY:
                self.add(
                    "SCHEMA_VALIDATION_FAILED",
                    f'The field "{key}" is only supported for the JSONata query language',
                    f"{where}/{key}",
                )
        if kind in ("Choice", "Succeed", "Fail"):
            if "Next" in state or "End" in state:
                self.add(
                    "SCHEMA_VALIDATION_FAILED",
                    f'The field "{"Next" if "Next" in state else "End"}" is not supported for {kind} states',
                    where,
                )
        elif ("Next" in state) == (state.get("End") is True):
            self.add(
                "SCHEMA_VALIDATION_FAILED", 'Exactly one of the fields "Next" or "End" must be set', where
            )
        if "Next" in state and state["Next"] not in states:
            self.add("MISSING_TRANSITION_TARGET", f"Missing 'Next' target: {state['Next']}", f"{where}/Next")
        self.paths(state, where, language)
        getattr(self, f"_{kind.lower()}")(state, states, where, language)
        for index, catcher in enumerate(state.get("Catch") or ()):
            if catcher.get("Next") not in states:
                self.add(
                    "MISSING_TRANSITION_TARGET",
                    f"Missing 'Next' target: {catcher.get('Next')}",
                    f"{where}/Catch[{index}]/Next",
                )
        self.handlers(state, where)

    def paths(self, state: dict[str, Any], where: str, language: str) -> None:
        if language == "JSONata":
            for key, value in state.items():
                problem = (
                    jsonata_bridge.check_syntax(value) if key not in ("Branches", "ItemProcessor") else None
                )
                if problem:
                    self.add(
                        "SCHEMA_VALIDATION_FAILED",
                        f'The JSONata expression in the field "{key}" is not valid: {problem}',
                        f"{where}/{key}",
                    )
            return
        for key in _PATH_FIELDS:
            value = state.get(key)
            intrinsic_allowed = (
                key in ("ErrorPath", "CausePath") and intrinsics.is_intrinsic(value) and _parses(value)
            )
            if value is not None and not jsonpath.is_path(value) and not intrinsic_allowed:
                self.add(
                    "SCHEMA_VALIDATION_FAILED",
                    f'The value for the field "{key}" must be a valid JSONPath',
                    f"{where}/{key}",
                )
        result_path = state.get("ResultPath")
        if result_path is not None and not jsonpath.is_reference_path(result_path):
            self.add(
                "SCHEMA_VALIDATION_FAILED",
                'The value for the field "ResultPath" must be a valid ReferencePath',
                f"{where}/ResultPath",
            )
        for key in ("Parameters", "ResultSelector", "ItemSelector"):
            if key in state:
                self.payload(state[key], f"{where}/{key}")

    def payload(self, template: Any, where: str) -> None:
        """A Payload Template: fields ending in `.$` hold a path or an intrinsic function call."""
        if isinstance(template, list):
            for i, item in enumerate(template):
                self.payload(item, f"{where}[{i}]")
            return
        if not isinstance(template, dict):
            return
        for key, value in template.items():
            if key.endswith(".$"):
                ok = isinstance(value, str) and (
                    jsonpath.is_path(value) or (intrinsics.is_intrinsic(value) and _parses(value))
                )
                if not ok:
                    self.add(
                        "SCHEMA_VALIDATION_FAILED",
                        f'The value for the field "{key}" must be a valid '
                        "JSONPath or a valid intrinsic function call",
                        f"{where}/{key}",
                    )
            else:
                self.payload(value, f"{where}/{key}")

    def handlers(self, state: dict[str, Any], where: str) -> None:
        for kind in ("Retry", "Catch"):
            entries = state.get(kind)
            if entries is None:
                continue
            if not isinstance(entries, list):
                self.add(
                    "SCHEMA_VALIDATION_FAILED", f'The field "{kind}" must be an array', f"{where}/{kind}"
                )
                continue
            for index, entry in enumerate(entries):
                location = f"{where}/{kind}[{index}]"
                names = entry.get("ErrorEquals") if isinstance(entry, dict) else None
                if not names:
                    self.add("SCHEMA_VALIDATION_FAILED", "These fields are required: [ErrorEquals]", location)
                    continue
                if "States.ALL" in names and (len(names) > 1 or index != len(entries) - 1):
                    self.add(
                        "SCHEMA_VALIDATION_FAILED",
                        'The value "States.ALL" must appear alone in the last '
                        f"{'retrier' if kind == 'Retry' else 'catcher'}",
                        f"{location}/ErrorEquals",
                    )
                if kind == "Retry":
                    self.retrier(entry, location)
                elif "Next" not in entry:
                    self.add("SCHEMA_VALIDATION_FAILED", "These fields are required: [Next]", location)

    def retrier(self, entry: dict[str, Any], where: str) -> None:
        rules = {
            "IntervalSeconds": lambda v: _integer(v) and 1 <= v <= 99999999,
            "MaxAttempts": lambda v: _integer(v) and 0 <= v <= 99999999,
            "BackoffRate": lambda v: _number(v) and v >= 1.0,
            "MaxDelaySeconds": lambda v: _integer(v) and 1 <= v <= 31622400,
            "JitterStrategy": lambda v: v in ("FULL", "NONE"),
        }
        for key, value in entry.items():
            check = rules.get(key)
            if key == "ErrorEquals" or key == "Comment":
                continue
            if check is None:
                self.add(
                    "SCHEMA_VALIDATION_FAILED", f'The field "{key}" is not supported by Step Functions', where
                )
            elif not check(value):
                self.add(
                    "SCHEMA_VALIDATION_FAILED",
                    f'The value for the field "{key}" is not valid',
                    f"{where}/{key}",
                )

    # -- per type ------------------------------------------------------------------------------------------

    def _pass(self, state: dict, states: dict, where: str, language: str) -> None:
        pass

    def _succeed(self, state: dict, states: dict, where: str, language: str) -> None:
        pass

    def _fail(self, state: dict, states: dict, where: str, language: str) -> None:
        for a, b in (("Error", "ErrorPath"), ("Cause", "CausePath")):
            if a in state and b in state:
                self.add("SCHEMA_VALIDATION_FAILED", f'The fields "{a}" and "{b}" cannot both be set', where)

    def _task(self, state: dict, states: dict, where: str, language: str) -> None:
        resource = state.get("Resource")
        if resource is None:
            self.add("SCHEMA_VALIDATION_FAILED", "These fields are required: [Resource]", where)
        elif not isinstance(resource, str) or not resource.startswith("arn:"):
            self.add("INVALID_RESOURCE", f"Resource is not a valid ARN: {resource}", f"{where}/Resource")
        elif self.express:
            pattern = next((p for p in (".sync", ".waitForTaskToken") if p in resource), None)
            if pattern:
                self.add(
                    "SCHEMA_VALIDATION_FAILED",
                    f"Express state machine does not support '{pattern}' service integration",
                    f"{where}/Resource",
                )
            elif ":activity:" in resource:
                self.add(
                    "SCHEMA_VALIDATION_FAILED",
                    "Express state machine does not support Activity ARN",
                    f"{where}/Resource",
                )
        for a in ("TimeoutSeconds", "HeartbeatSeconds"):
            value = state.get(a)
            if (
                value is not None
                and not jsonata_bridge.is_expression(value)
                and not (_integer(value) and value > 0)
            ):
                self.add(
                    "SCHEMA_VALIDATION_FAILED",
                    f'The value for the field "{a}" must be a positive integer',
                    f"{where}/{a}",
                )
            if a in state and f"{a}Path" in state:
                self.add(
                    "SCHEMA_VALIDATION_FAILED", f'The fields "{a}" and "{a}Path" cannot both be set', where
                )
        timeout, heartbeat = state.get("TimeoutSeconds"), state.get("HeartbeatSeconds")
        if _integer(timeout) and _integer(heartbeat) and heartbeat >= timeout:
            self.add(
                "SCHEMA_VALIDATION_FAILED",
                "The value of HeartbeatSeconds must be less than TimeoutSeconds",
                f"{where}/HeartbeatSeconds",
            )

    def _choice(self, state: dict, states: dict, where: str, language: str) -> None:
        rules = state.get("Choices")
        if not isinstance(rules, list) or not rules:
            self.add("SCHEMA_VALIDATION_FAILED", "These fields are required: [Choices]", where)
            return
        for index, rule in enumerate(rules):
            location = f"{where}/Choices[{index}]"
            if not isinstance(rule, dict):
                self.add("SCHEMA_VALIDATION_FAILED", "A choice rule must be a JSON object", location)
                continue
            if rule.get("Next") not in states:
                self.add(
                    "MISSING_TRANSITION_TARGET",
                    f"Missing 'Next' target: {rule.get('Next')}",
                    f"{location}/Next",
                )
            if language == "JSONata":
                if "Condition" not in rule:
                    self.add("SCHEMA_VALIDATION_FAILED", "These fields are required: [Condition]", location)
            else:
                self.rule(rule, location, top=True)
        if "Default" in state and state["Default"] not in states:
            self.add(
                "MISSING_TRANSITION_TARGET",
                f"Missing 'Default' target: {state['Default']}",
                f"{where}/Default",
            )

    def rule(self, rule: dict[str, Any], where: str, top: bool = False) -> None:
        combinators = [k for k in ("And", "Or", "Not") if k in rule]
        if combinators:
            nested = rule[combinators[0]]
            for i, inner in enumerate(nested if isinstance(nested, list) else [nested]):
                if isinstance(inner, dict):
                    self.rule(inner, f"{where}/{combinators[0]}[{i}]")
            return
        operators = [k for k in rule if k in choices.COMPARISON_OPERATORS or k in choices.TYPE_TESTS]
        if "Variable" not in rule or len(operators) != 1:
            self.add(
                "SCHEMA_VALIDATION_FAILED",
                'A choice rule needs a "Variable" and exactly one comparison operator',
                where,
            )
            return
        if not jsonpath.is_path(rule["Variable"]):
            self.add(
                "SCHEMA_VALIDATION_FAILED",
                'The value for the field "Variable" must be a valid JSONPath',
                f"{where}/Variable",
            )
        allowed = {"Variable", "Next", "Comment", "Assign", operators[0]}
        for key in rule:
            if key not in allowed:
                self.add(
                    "SCHEMA_VALIDATION_FAILED", f'The field "{key}" is not supported by Step Functions', where
                )

    def _wait(self, state: dict, states: dict, where: str, language: str) -> None:
        given = [k for k in ("Seconds", "SecondsPath", "Timestamp", "TimestampPath") if k in state]
        if len(given) != 1:
            self.add(
                "SCHEMA_VALIDATION_FAILED",
                'Exactly one of the fields "Seconds", "SecondsPath", '
                '"Timestamp" or "TimestampPath" must be set',
                where,
            )
        seconds = state.get("Seconds")
        if (
            seconds is not None
            and not jsonata_bridge.is_expression(seconds)
            and not (_integer(seconds) and seconds >= 0)
        ):
            self.add(
                "SCHEMA_VALIDATION_FAILED",
                'The value for the field "Seconds" must be a non-negative integer',
                f"{where}/Seconds",
            )
        stamp = state.get("Timestamp")
        if (
            stamp is not None
            and not jsonata_bridge.is_expression(stamp)
            and choices.parse_timestamp(stamp) is None
        ):
            self.add(
                "SCHEMA_VALIDATION_FAILED",
                'The value for the field "Timestamp" must be a valid timestamp',
                f"{where}/Timestamp",
            )

    def _parallel(self, state: dict, states: dict, where: str, language: str) -> None:
        branches = state.get("Branches")
        if not isinstance(branches, list) or not branches:
            self.add("SCHEMA_VALIDATION_FAILED", "These fields are required: [Branches]", where)
            return
        for index, branch in enumerate(branches):
            if isinstance(branch, dict):
                self.container(branch, f"{where}/Branches[{index}]", branch.get("QueryLanguage", language))
                if not self._has_end(branch):
                    self.add(
                        "MISSING_END_STATE", "Workflow has no terminal state", f"{where}/Branches[{index}]"
                    )

    def _map(self, state: dict, states: dict, where: str, language: str) -> None:
        processor = state.get("ItemProcessor") or state.get("Iterator")
        key = "ItemProcessor" if "ItemProcessor" in state else "Iterator"
        if not isinstance(processor, dict):
            self.add("SCHEMA_VALIDATION_FAILED", "These fields are required: [ItemProcessor]", where)
            return
        self.container(processor, f"{where}/{key}", processor.get("QueryLanguage", language))
        config = processor.get("ProcessorConfig") or {}
        if config.get("Mode") not in (None, "INLINE", "DISTRIBUTED"):
            self.add(
                "SCHEMA_VALIDATION_FAILED",
                'The value for the field "Mode" must be one of [INLINE, DISTRIBUTED]',
                f"{where}/{key}/ProcessorConfig/Mode",
            )
        distributed = config.get("Mode") == "DISTRIBUTED"
        for only in (
            "ItemReader",
            "ItemBatcher",
            "ResultWriter",
            "ToleratedFailurePercentage",
            "ToleratedFailureCount",
            "Label",
        ):
            if only in state and not distributed:
                self.add(
                    "SCHEMA_VALIDATION_FAILED",
                    f'The field "{only}" is only supported for the DISTRIBUTED processing mode',
                    f"{where}/{only}",
                )
        concurrency = state.get("MaxConcurrency")
        if (
            concurrency is not None
            and not jsonata_bridge.is_expression(concurrency)
            and not (_integer(concurrency) and concurrency >= 0)
        ):
            self.add(
                "SCHEMA_VALIDATION_FAILED",
                'The value for the field "MaxConcurrency" must be a non-negative integer',
                f"{where}/MaxConcurrency",
            )

    # -- reachability ----------------------------------------------------------------------------------------

    def reachable(self, doc: dict[str, Any], where: str) -> None:
        states = doc["States"]
        seen: set[str] = set()
        pending = [doc.get("StartAt")]
        while pending:
            name = pending.pop()
            if name in seen or name not in states or not isinstance(states[name], dict):
                continue
            seen.add(name)
            state = states[name]
            pending.extend(_targets(state))
        for name in states:
            if name not in seen:
                self.add(
                    "MISSING_TRANSITION_TARGET", f'State "{name}" is not reachable.', f"{where}/States/{name}"
                )

    def _has_end(self, doc: dict[str, Any]) -> bool:
        states = doc.get("States")
        if not isinstance(states, dict):
            return True
        return any(
            isinstance(s, dict) and (s.get("End") is True or s.get("Type") in ("Succeed", "Fail"))
            for s in states.values()
        )


def _targets(state: dict[str, Any]) -> list[str]:
    found = [state["Next"]] if "Next" in state else []
    found.extend(c.get("Next") for c in state.get("Catch") or () if isinstance(c, dict))
    found.extend(r.get("Next") for r in state.get("Choices") or () if isinstance(r, dict))
    if "Default" in state:
        found.append(state["Default"])
    return found


def _parses(text: str) -> bool:
    try:
        intrinsics.parse(text)
    except intrinsics.SyntaxProblem:
        return False
    return True


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
