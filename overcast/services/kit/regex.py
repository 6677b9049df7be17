"""Regular expressions that users write (CloudWatch Logs filter patterns, Logs Insights queries): compiled by
RE2 (the `google-re2` package), which matches in time linear in the input. Python's `re` backtracks, so a
pattern such as `(a+)+$` would take time doubling with every character and freeze the server's event loop;
RE2 refuses what needs backtracking (backreferences, lookarounds), as AWS's own regex engines do.
"""

from __future__ import annotations

from typing import Any

import re2


class RegexError(ValueError):
    """The expression is not one RE2 accepts (the message says why)."""


def compile_linear(source: str, *, dot_all: bool = False, ignore_case: bool = False) -> Any:
    """A compiled pattern with `re`'s interface (search, match, fullmatch, groups, groupindex)."""
    options = re2.Options()
    options.log_errors = False  # the error is the caller's to report, not a line on stderr
    options.dot_nl = dot_all
    options.case_sensitive = not ignore_case
    try:
        return re2.compile(source, options=options)
    except re2.error as error:
        detail = error.args[0] if error.args else error
        raise RegexError(detail.decode() if isinstance(detail, bytes) else str(detail)) from None
