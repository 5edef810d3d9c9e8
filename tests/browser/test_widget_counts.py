"""Comment counts on an index page: every link filled from one request."""

from __future__ import annotations

from typing import Any

import pytest
from widget_page import Discussion, expect

pytestmark = pytest.mark.browser


def test_it_fills_every_count_on_an_index_page_with_one_request(
    discussion: Discussion, page: Any
) -> None:
    discussion.post("One")
    discussion.post("Two")
    quiet = f"/news/{discussion.site}/quiet/"
    index = discussion.host.serve(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Index</title></head>'
        "<body><main><h1>News</h1><ul>"
        f'<li><a href="{discussion.thread}">Story</a> <span data-rostra-count="{discussion.thread}">…</span></li>'
        f'<li><a href="{quiet}">Quiet story</a> <span data-rostra-count="{quiet}">…</span></li>'
        f'<li>Again: <span data-rostra-count="{discussion.thread}">…</span></li>'
        f'</ul></main><script src="{discussion.server_url}/embed.js" data-site="{discussion.site}" async>'
        "</script></body></html>"
    )
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if "/api/counts" in r.url else None)
    page.goto(index)
    spans = page.locator("[data-rostra-count]")
    expect(spans).to_have_text(["2 comments", "0 comments", "2 comments"])
    assert len(requests) == 1
