"""What the widget's browser tests share: a host site, a discussion, locators."""

from __future__ import annotations

import html
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

import httpx

try:
    from playwright.sync_api import expect
except ImportError:  # the `chromium` fixture skips (or fails in CI) before any use
    expect = None


# A page script that keeps the page's live streams and the events they bring, for a test
# to wait on (add it with page.add_init_script, or in a <script> of the host page).
TRACK_STREAMS = """
window.__streams = [];
window.__events = [];
const Original = window.EventSource;
window.EventSource = class extends Original {
  constructor(...args) {
    super(...args);
    window.__streams.push(this);
    this.addEventListener("changed", (e) => window.__events.push(JSON.parse(e.data)));
  }
};
"""


@dataclass
class HostSite:
    """A static web server standing in for a news site that embeds the widget."""

    origin: str
    pages: dict[str, bytes] = field(default_factory=dict)
    counter: itertools.count[int] = field(default_factory=itertools.count)

    def serve(self, body: str, path: str | None = None) -> str:
        path = path or f"/page-{next(self.counter)}/"
        self.pages[path] = body.encode()
        return self.origin + path


_addresses = itertools.count(1)


def reader_address() -> str:
    """A made-up client address, so that rate limits count each test's reader apart."""
    n = next(_addresses)
    return f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"


@dataclass
class Discussion:
    """One site and thread on the live server, with a host page that embeds it."""

    server_url: str
    host: HostSite
    site: str
    thread: str

    def page_html(self, *, lang: str = "en", attrs: str = "", head: str = "", before: str = "") -> str:
        return (
            f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
            f"<title>Test article</title>{head}</head><body><main><h1>Test article</h1>"
            f"<p>Some article text.</p>{before}"
            f'<rostra-comments site="{self.site}" thread="{html.escape(self.thread)}" '
            f'title="Test article" {attrs}></rostra-comments></main>'
            f'<script src="{self.server_url}/embed.js" async></script></body></html>'
        )

    def url(self, **kwargs: Any) -> str:
        return self.host.serve(self.page_html(**kwargs))

    def other_reader(self) -> dict[str, str]:
        """Headers of a request from another reader's address (loopback is a trusted proxy)."""
        return {"Origin": self.host.origin, "X-Forwarded-For": reader_address()}

    def post(self, text: str, *, name: str = "Seeder", parent_id: int | None = None,
             website: str | None = None) -> dict[str, Any]:
        """Post through the public API, as another reader would."""
        response = httpx.post(
            f"{self.server_url}/api/comments",
            json={"site": self.site, "thread": self.thread, "title": "Test article",
                  "parent_id": parent_id, "name": name, "text": text, "website": website},
            headers=self.other_reader(),
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    def vote(self, comment_id: int, value: int) -> None:
        """Vote as a new anonymous reader (each call is a different voter)."""
        response = httpx.post(
            f"{self.server_url}/api/comments/{comment_id}/vote",
            json={"value": value}, headers=self.other_reader(),
        )
        assert response.status_code == 200, response.text


def widget(page: Any) -> Any:
    """The <rostra-comments> element (Playwright's CSS pierces its open shadow root)."""
    return page.locator("rostra-comments")


def comment(page: Any, comment_id: int) -> Any:
    return page.locator(f"rostra-comments #comment-{comment_id}")


def problem(code: str, status: int) -> dict[str, Any]:
    """The fulfilment of a route with an RFC 9457 problem, as the server sends them."""
    return {
        "status": status,
        "headers": {"Content-Type": "application/problem+json", "Access-Control-Allow-Origin": "*"},
        "body": json.dumps({"type": f"https://rostra.dev/problems/{code}", "title": code,
                            "status": status, "code": code}),
    }
