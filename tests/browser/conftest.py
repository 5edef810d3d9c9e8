"""Browser tests: Debian's Chromium driven by Playwright, against the real server.

The widget runs cross-origin, as on a real news site: host pages come from a
small static server on one loopback port, the Rostra server (the `live_server`
fixture of tests/conftest.py) listens on another.
"""

from __future__ import annotations

import itertools
import os
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from widget_page import Discussion, HostSite, reader_address

CHROMIUM = os.environ.get("ROSTRA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
VENDOR = Path(__file__).parent / "vendor"
EXPECT_TIMEOUT_MS = 15_000  # a 2-core CI box running server and browser side by side


def missing(reason: str) -> None:
    """Skip for a developer without a browser; in CI a missing part is a failure."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One Chromium per test file (starting one takes about a second). Not one for the
    session: Playwright's sync API keeps its event loop set as running on the thread
    while it is started, so every asyncio.run() after it fails, and when the suite runs
    in parallel (pytest -n) other folders' files run on the same worker between these.
    (A "package" scope is the session's here: tests/ folders are not packages.)"""
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        missing("playwright is not installed (pip install playwright; no browser download needed)")
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        missing(f"no Chromium at {CHROMIUM} (apt install chromium)")
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    pw = sync_playwright().start()
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()
        pw.stop()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    """A fresh browser context per test (empty localStorage), failing on script errors."""
    context = chromium.new_context(viewport={"width": 1000, "height": 900}, locale="en-US")
    # Each test's reader comes from an address of its own, as rate limits count by
    # address. Added below the page (a routed request's headers escape CORS checks).
    address = reader_address()
    context.route(
        "**/api/**",
        lambda route: route.fallback(headers={**route.request.headers, "x-forwarded-for": address}),
    )
    context.set_default_timeout(EXPECT_TIMEOUT_MS)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


def _handler(site: HostSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = site.pages.get(self.path.split("?")[0])
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body or b"not found")

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output readable

    return Handler


@pytest.fixture(scope="session")
def host_site() -> Iterator[HostSite]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(HostSite("")))
    site = HostSite(f"http://127.0.0.1:{server.server_address[1]}")
    server.RequestHandlerClass = _handler(site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield site
    server.shutdown()
    server.server_close()


_site_ids = itertools.count(1)


@pytest.fixture
def discussion(live_server: Any, host_site: HostSite) -> Discussion:
    """A fresh site (allowing the host page's origin) and thread for one test."""
    site = f"wt{next(_site_ids)}-{os.getpid()}"
    live_server.add_site(site, [host_site.origin])
    return Discussion(live_server.url.rstrip("/"), host_site, site, f"/news/{site}/story/")


@pytest.fixture(scope="session")
def axe_source() -> str:
    return (VENDOR / "axe.min.js").read_text(encoding="utf-8")


