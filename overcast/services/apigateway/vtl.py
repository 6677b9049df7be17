"""Velocity mapping templates as API Gateway runs them: `$input`, `$util`, `$context`, `$stageVariables`.

The engine is airspeed (Velocity for Python); this module adds what API Gateway puts in a template's scope
and the Java methods templates call on strings, maps and lists (`isEmpty()`, `containsKey()`, `substring()`)
that Velocity's Java objects have and airspeed lacks. JSON values keep their JSON spelling when rendered
(`true`, not Python's `True`). JSONPath (`$.a.b[0]`, `$['x']`, `$.items[*].id`) is the subset templates use.
"""

from __future__ import annotations

import base64
import json
import re
from functools import lru_cache
from typing import Any
from urllib.parse import quote, unquote

import airspeed

from overcast.errors import ServiceError

# Java's methods on the objects templates handle (airspeed looks methods up here by the value's class).
_JAVA = airspeed.__additional_methods__
_JAVA[str].update(
    {
        "isEmpty": lambda self: not self,
        "toUpperCase": lambda self: self.upper(),
        "toLowerCase": lambda self: self.lower(),
        "trim": lambda self: self.strip(),
        "substring": lambda self, start, end=None: self[start:end],
        "indexOf": lambda self, value: self.find(value),
        "lastIndexOf": lambda self, value: self.rfind(value),
        "endsWith": lambda self, value: self.endswith(value),
        "equals": lambda self, value: self == value,
        "equalsIgnoreCase": lambda self, value: isinstance(value, str) and self.lower() == value.lower(),
        "split": lambda self, pattern: re.split(pattern, self),
        "replace": lambda self, old, new: self.replace(old, new),
        "charAt": lambda self, index: self[index],
        "toString": lambda self: self,
    }
)
_JAVA[list].update({"isEmpty": lambda self: not self, "toString": lambda self: json.dumps(self)})
_JAVA[dict].update(
    {
        "containsKey": lambda self, key: key in self,
        "get": lambda self, key: self.get(key),
        "size": lambda self: len(self),
        "values": lambda self: list(self.values()),
        "entrySet": lambda self: [{"key": k, "value": v} for k, v in self.items()],
        "remove": lambda self, key: self.pop(key, None),
    }
)


def _java_text(value: Any) -> str:
    """A value as Velocity's Java objects print it (`true`, not Python's `True`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _evaluate_reference(self, stream, namespace, loader) -> None:
    """airspeed's `$reference` output, with Java's spelling of booleans, and nothing for a reference to
    nothing: API Gateway renders `$context.authorizer.principalId` without an authorizer as an empty string,
    where plain Velocity would print the reference's own text."""
    value = None
    if self.expression is not None:
        value = self.expression.calculate(namespace, loader)
    if value is None and self.alternate is not None:
        value = self.alternate.calculate(namespace, loader)
    stream.write("" if value is None else _java_text(value))


airspeed.FormalReference.evaluate_raw = _evaluate_reference


class JsonBool:
    """A JSON boolean in a template: truthy as itself, rendered `true`/`false` as Java does."""

    __slots__ = ("value",)

    def __init__(self, value: bool) -> None:
        self.value = value

    def __bool__(self) -> bool:
        return self.value

    def __eq__(self, other: object) -> bool:
        return self.value == (other.value if isinstance(other, JsonBool) else other)

    def __hash__(self) -> int:
        return hash(self.value)

    def __str__(self) -> str:
        return "true" if self.value else "false"

    __repr__ = __str__


def to_template(value: Any) -> Any:
    """A JSON value as templates see it (booleans spelled as JSON, floats without a needless `.0`)."""
    if isinstance(value, bool):
        return JsonBool(value)
    if isinstance(value, dict):
        return {k: to_template(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_template(v) for v in value]
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, JsonBool):
        return value.value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


# -- JSONPath ---------------------------------------------------------------------------------------

_STEP = re.compile(r"\.\.?([A-Za-z_$][\w$-]*|\*)|\[\s*(?:'([^']*)'|\"([^\"]*)\"|(-?\d+)|(\*))\s*\]")


def json_path(document: Any, path: str) -> Any:
    """The value `path` selects in `document` (None when nothing): `$`, `$.a.b`, `$['a']`, `$.a[0]`,
    `$.a[*].b` (a list)."""
    path = (path or "$").strip()
    if not path.startswith("$"):
        path = "$." + path
    current: list[Any] = [document]
    many = False
    position = 1
    while position < len(path):
        match = _STEP.match(path, position)
        if match is None:
            raise ValueError(f"Invalid JSONPath: {path}")
        position = match.end()
        name = match.group(1) or match.group(2) or match.group(3)
        index, star = match.group(4), match.group(1) == "*" or match.group(5) is not None
        following: list[Any] = []
        for value in current:
            if star:
                many = True
                following.extend(
                    value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
                )
            elif index is not None:
                if isinstance(value, list) and -len(value) <= int(index) < len(value):
                    following.append(value[int(index)])
            elif isinstance(value, dict) and name in value:
                following.append(value[name])
        current = following
    if many:
        return current
    return current[0] if current else None


# -- the scope of a template ------------------------------------------------------------------------


class Input:
    """`$input`: the request (or integration response) payload and the method request's parameters."""

    def __init__(self, body: str, params: dict[str, dict[str, str]]) -> None:
        self.body = body
        self._params = params
        self._parsed: Any = _UNPARSED

    def _document(self) -> Any:
        if self._parsed is _UNPARSED:
            text = self.body.strip()
            try:
                self._parsed = json.loads(text) if text else {}
            except ValueError:
                self._parsed = None  # not JSON: paths select nothing (AWS errors only when a path is used)
        return self._parsed

    def json(self, path: str = "$") -> str:
        document = self._document()
        if document is None:
            raise TemplateFailure("Unable to parse the request body as JSON")
        found = json_path(document, path)
        return json.dumps(found)

    def path(self, path: str = "$") -> Any:
        document = self._document()
        if document is None:
            return self.body if (path or "$").strip() == "$" else None
        return to_template(json_path(document, path))

    def params(self, name: str | None = None) -> Any:
        if name is None:
            return self._params
        for where in ("path", "querystring", "header"):
            found = self._params.get(where, {}).get(name)
            if found is None and where == "header":
                lowered = name.lower()
                found = next(
                    (v for k, v in self._params.get(where, {}).items() if k.lower() == lowered), None
                )
            if found is not None:
                return found
        return ""


_UNPARSED = object()


class Util:
    """`$util`."""

    @staticmethod
    def escapeJavaScript(value: Any) -> str:  # noqa: N802 (the name templates call)
        text = str(value) if value is not None else ""
        text = text.replace("\\", "\\\\").replace('"', '\\"').replace("'", "\\'")
        return text.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")

    @staticmethod
    def parseJson(value: str) -> Any:  # noqa: N802
        try:
            return to_template(json.loads(value))
        except (TypeError, ValueError):
            raise TemplateFailure("Unable to parse JSON") from None

    @staticmethod
    def urlEncode(value: str) -> str:  # noqa: N802
        return quote(str(value), safe="*-._").replace("%20", "+")

    @staticmethod
    def urlDecode(value: str) -> str:  # noqa: N802
        return unquote(str(value).replace("+", " "))

    @staticmethod
    def base64Encode(value: str) -> str:  # noqa: N802
        data = value.encode() if isinstance(value, str) else bytes(value)
        return base64.b64encode(data).decode()

    @staticmethod
    def base64Decode(value: str) -> str:  # noqa: N802
        return base64.b64decode(str(value)).decode("utf-8", "replace")


class TemplateFailure(Exception):
    """A template that cannot be rendered (AWS answers 500 Internal server error)."""


@lru_cache(maxsize=512)
def _compiled(text: str) -> airspeed.Template:
    template = airspeed.Template(text)
    template.ensure_compiled()
    return template


def render(
    text: str,
    *,
    body: str,
    params: dict[str, dict[str, str]] | None = None,
    context: dict[str, Any] | None = None,
    stage_variables: dict[str, str] | None = None,
) -> str:
    """Render a mapping template. `context` is `$context` (a dict; the template may set
    `$context.responseOverride.status` and `.header.X`, read back by the caller from the same dict)."""
    if "$" not in text and "#" not in text:
        return text  # nothing to evaluate (a MOCK's `{"statusCode": 200}`, a CORS response)
    input_ = Input(body, params or {"path": {}, "querystring": {}, "header": {}})
    scope = {
        "input": input_,
        "util": Util(),
        "context": context if context is not None else {},
        "stageVariables": stage_variables or {},
    }
    try:
        return _compiled(text).merge(scope)
    except (airspeed.TemplateSyntaxError, airspeed.TemplateError) as error:
        raise TemplateFailure(f"Invalid mapping template: {error}") from None
    except TemplateFailure:
        raise
    except Exception as error:  # anything a template can make the engine raise
        raise TemplateFailure(f"Mapping template failed: {error}") from None


def check_syntax(text: str) -> None:
    """AWS refuses a template that does not parse when it is put (PutIntegration, PutIntegrationResponse)."""
    try:
        _compiled(text)
    except airspeed.TemplateSyntaxError as error:
        raise ServiceError(
            "BadRequestException", f"Invalid mapping expression specified: {error}", 400
        ) from None


__all__ = ["render", "json_path", "to_template", "check_syntax", "TemplateFailure", "JsonBool", "_plain"]
