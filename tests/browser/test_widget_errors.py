"""What the reader (and the site owner, in the console) is told when something is wrong."""

from __future__ import annotations

import os
from typing import Any

import pytest
from widget_page import Discussion, HostSite, expect, widget

pytestmark = pytest.mark.browser


def test_it_says_once_that_the_page_may_not_embed_the_site(
    live_server: Any, host_site: HostSite, page: Any
) -> None:
    site = f"elsewhere-{os.getpid()}"
    live_server.add_site(site, ["https://news.example"])
    discussion = Discussion(live_server.url.rstrip("/"), host_site, site, "/story/")
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    page.goto(discussion.url())
    alerts = widget(page).get_by_role("alert").filter(has_text="discussion")
    expect(alerts).to_have_text("The discussion cannot be shown on this page.")
    expect(widget(page).get_by_text("cannot be reached")).to_have_count(0)
    expect(widget(page).locator(".fs form")).to_be_hidden()
    page.wait_for_function("() => true")
    advice = [line for line in console if "rostra site origin add" in line]
    assert advice and host_site.origin in advice[0] and site in advice[0], console
