"""Rule evaluation of an Application Load Balancer (pure): which rule's conditions a request meets.

Rules are tried in ascending priority, the default rule last. Within a rule every condition must hold; within
a condition any of its values may match. `*` matches any characters and `?` one, in host names (any case),
paths (exact case), header values (any case) and query strings (any case). `RegexValues` conditions (host, path, header) hold when one of their
regular expressions is found in the value.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import unquote_plus


@dataclass
class Request:
    method: str
    path: str
    query: str
    host: str  # without the port
    headers: dict[str, list[str]]  # lower-case name -> values
    source_ip: str
    _query: list[tuple[str, str]] | None = field(default=None, repr=False)

    def query_pairs(self) -> list[tuple[str, str]]:
        if self._query is None:
            pairs = []
            for part in self.query.split("&") if self.query else ():
                key, _, value = part.partition("=")
                pairs.append((unquote_plus(key), unquote_plus(value)))
            self._query = pairs
        return self._query


@lru_cache(maxsize=4096)
def _pattern(value: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in value)
    return re.compile(body, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def _like(value: str, text: str, ignore_case: bool) -> bool:
    return _pattern(value, ignore_case).fullmatch(text) is not None


@lru_cache(maxsize=4096)
def _regex(value: str) -> re.Pattern[str]:
    return re.compile(value)


def _matches(regexes: list[str], texts: list[str]) -> bool:
    """A regex condition: any of its expressions found in any of the texts."""
    return any(_regex(value).search(text) is not None for value in regexes for text in texts)


def condition_holds(condition: dict[str, Any], request: Request) -> bool:
    kind = condition["Field"]
    if kind == "path-pattern":
        config = condition["PathPatternConfig"]
        if "RegexValues" in config:
            return _matches(config["RegexValues"], [request.path])
        return any(_like(value, request.path, False) for value in config["Values"])
    if kind == "host-header":
        config = condition["HostHeaderConfig"]
        if "RegexValues" in config:
            return _matches(config["RegexValues"], [request.host])
        return any(_like(value, request.host, True) for value in config["Values"])
    if kind == "http-request-method":
        return request.method in condition["HttpRequestMethodConfig"]["Values"]
    if kind == "http-header":
        config = condition["HttpHeaderConfig"]
        found = request.headers.get(config["HttpHeaderName"].lower(), [])
        if "RegexValues" in config:
            return _matches(config["RegexValues"], found)
        return any(_like(value, got, True) for value in config["Values"] for got in found)
    if kind == "query-string":
        pairs = request.query_pairs()
        for wanted in condition["QueryStringConfig"]["Values"]:
            key = wanted.get("Key")
            for got_key, got_value in pairs:
                if (key is None or _like(key, got_key, True)) and _like(wanted["Value"], got_value, True):
                    return True
        return False
    if kind == "source-ip":
        try:
            address = ipaddress.ip_address(request.source_ip)
        except ValueError:
            return False
        return any(address in _network(value) for value in condition["SourceIpConfig"]["Values"])
    return False


@lru_cache(maxsize=1024)
def _network(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(cidr, strict=False)


def first_match(rules: list[tuple[list[dict[str, Any]], Any]], request: Request) -> Any:
    """The payload of the first rule (conditions, payload) whose conditions all hold; rules with no
    conditions (the default rule) always match."""
    for conditions, payload in rules:
        if all(condition_holds(condition, request) for condition in conditions):
            return payload
    return None
