"""Compiled request-URI templates of rest operations ("/{Bucket}/{Key+}?uploads").

Routing uses `literal_length` and `query_literals` to pick the most specific operation; the protocol layer
uses `match` to extract the path labels of the operation routing picked.
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING
from urllib.parse import unquote

if TYPE_CHECKING:  # pragma: no cover
    from botocore.model import OperationModel

_LABEL = re.compile(r"\{([^}]+)\}")


class UriTemplate:
    __slots__ = (
        "request_uri",
        "path_template",
        "labels",
        "greedy_label",
        "query_literals",
        "literal_length",
        "segment_count",
        "_regex",
        "_names",
    )

    def __init__(self, request_uri: str) -> None:
        self.request_uri = request_uri
        path, _, query = request_uri.partition("?")
        self.path_template = path
        self.query_literals: dict[str, str | None] = {}
        for part in query.split("&"):
            if not part:
                continue
            key, eq, value = part.partition("=")
            self.query_literals[key] = value if eq else None

        pattern = ["^"]
        literal_length = 0
        labels: list[str] = []
        names: dict[str, str] = {}
        greedy = None
        pos = 0
        for i, m in enumerate(_LABEL.finditer(path)):
            literal = path[pos : m.start()]
            literal_length += len(literal)
            pattern.append(re.escape(literal))
            label = m.group(1)
            group = f"g{i}"
            if label.endswith("+"):
                label = label[:-1]
                greedy = label
                pattern.append(f"(?P<{group}>.+)")
            else:
                pattern.append(f"(?P<{group}>[^/]+)")
            names[group] = label
            labels.append(label)
            pos = m.end()
        tail = path[pos:]
        literal_length += len(tail)
        if tail.endswith("/") and len(path) > 1:
            pattern.append(re.escape(tail[:-1]) + "/?")
        else:
            pattern.append(re.escape(tail))
            if tail != "/" and not (path == "/" and not labels):
                pattern.append("/?")
        pattern.append("$")
        self.labels = tuple(labels)
        self.greedy_label = greedy
        self.literal_length = literal_length
        self.segment_count = path.count("/")
        self._names = names
        self._regex = re.compile("".join(pattern), re.DOTALL)

    def match(self, path: str) -> dict[str, str] | None:
        """Percent-decoded label values of raw, percent-encoded `path`; None if it does not match."""
        m = self._regex.match(path)
        if m is None:
            return None
        names = self._names
        return {names[g]: unquote(v) for g, v in m.groupdict().items()}

    def matches_query(self, query_keys: dict[str, str] | set[str]) -> bool:
        """Whether the query literals ('?uploads', '?list-type=2') are present in the parsed query."""
        for key, value in self.query_literals.items():
            if key not in query_keys:
                return False
            if value is not None and isinstance(query_keys, dict) and query_keys[key] != value:
                return False
        return True

    def __repr__(self) -> str:
        return f"UriTemplate({self.request_uri!r})"


@cache
def compile_template(request_uri: str) -> UriTemplate:
    return UriTemplate(request_uri)


def template_for(operation: OperationModel) -> UriTemplate:
    """The (cached) compiled template of `operation`'s http.requestUri."""
    return compile_template(operation.http.get("requestUri", "/"))
