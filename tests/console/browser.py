"""Headless Chromium (Debian's) driven by Playwright for Python, for the console's end-to-end tests.

`npx playwright install` cannot download a browser here: tests launch /usr/bin/chromium (`.ci/run` installs
the `chromium` package) with the flags this machine needs. Each test's page collects its errors: uncaught
exceptions and console messages of type error fail the test. One kind is let through: Chromium's own
"Failed to load resource" line for an AWS API (or internal endpoint) answer with a 4xx or 501 status that the
page asked for and handled (S3 answers a bucket without tags with 404 NoSuchTagSet; EC2 answers 501 until
it lands); a failed load of the console's own files or API, or a 500, still fails the test.

Chromium cancels requests in flight when the machine's network configuration changes
(`net::ERR_NETWORK_CHANGED`): EC2 sandboxes add links on the host while tests run. That is the machine, not the
page: such a failure is not counted, and opening the console is tried again once.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CONSOLE = "/_overcast/console/"
NETWORK_CHANGED = "ERR_NETWORK_CHANGED"
_HANDLED = re.compile(r"Failed to load resource: the server responded with a status of (\d{3})")


class ConsolePage:
    """A console tab on a server: `open("#/s3")`, `shot("s3-buckets")`, `errors`."""

    def __init__(self, page, endpoint: str) -> None:
        self.page = page
        self.endpoint = endpoint
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        page.on("console", self._console)

    def _console(self, message) -> None:
        if message.type != "error" or NETWORK_CHANGED in message.text:
            return
        url = (message.location or {}).get("url", "")
        handled = _HANDLED.search(message.text)
        if handled and not urlsplit(url).path.startswith(CONSOLE):
            status = int(handled.group(1))
            if 400 <= status < 500 or status == 501:
                return  # an AWS API's (or an internal endpoint's) error answer, handled by the page
        self.errors.append(f"console.error: {message.text} ({url})")

    def open(self, fragment: str = "#/") -> None:
        url = f"{self.endpoint}{CONSOLE}{fragment}"
        try:
            self.page.goto(url)
        except Exception as error:  # Playwright's Error
            if NETWORK_CHANGED not in str(error):
                raise
            self.page.goto(url)
        self.page.wait_for_selector("body[data-ready=true]", timeout=20_000)

    def go(self, fragment: str) -> None:
        """Navigate inside the app (a hash change, as a click on a link does)."""
        self.page.evaluate("(hash) => { location.hash = hash }", fragment)

    def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


def launch(playwright):
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium (.ci/run installs it)")
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
