"""Fixtures of the console's browser tests: one Chromium per session, a fresh page per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.console.browser import ConsolePage, launch


@pytest.fixture(scope="module")
def browser():
    """Chromium for one test module. Not for the session: Playwright's sync API runs an asyncio loop in
    this thread while it is open, and later tests that call asyncio.run() would find it running."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is a dev extra")
    with sync_api.sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


def _page(browser, endpoint: str) -> Iterator[ConsolePage]:
    context = browser.new_context(viewport={"width": 1360, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    console = ConsolePage(page, endpoint)
    try:
        yield console
    finally:
        context.close()
    assert console.errors == [], "the console reported errors"


@pytest.fixture
def console(browser, overcast) -> Iterator[ConsolePage]:
    """The console of the session's server, in a fresh browser context (no saved state)."""
    yield from _page(browser, overcast.endpoint)


@pytest.fixture
def enforced_console(browser, enforced) -> Iterator[ConsolePage]:
    """The console of the --iam enforce server."""
    yield from _page(browser, enforced.endpoint)


@pytest.fixture(scope="module")
def soft_server():
    """A server with --iam soft (its report of what each principal needed)."""
    from overcast.config import Config
    from overcast.testing import OvercastServer

    with OvercastServer(Config(ephemeral=True, log_level="warning", iam="soft")) as server:
        yield server


@pytest.fixture
def soft_console(browser, soft_server) -> Iterator[ConsolePage]:
    yield from _page(browser, soft_server.endpoint)
