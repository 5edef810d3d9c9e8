"""A new comment that arrives live is offered however its id compares with the page's:
each posting process takes ids ahead in blocks (a hundred at a time on PostgreSQL), so
a comment posted now through one worker or server can have a lower id than one posted
earlier through another. The widget took every live comment with an id under the
page's newest for one from a page not loaded, and dropped it."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select, update
from tests.conftest import LiveServer
from widget_page import TRACK_STREAMS, Discussion, HostSite, expect, widget

from rostra.store.tables import comments, threads

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


def test_a_live_comment_with_a_lower_id_is_offered(
    pg_live_server: LiveServer, host_site: HostSite, page: Any,
) -> None:
    server = pg_live_server
    site = "wl" + secrets.token_hex(4)
    server.add_site(site, [host_site.origin])
    talk = Discussion(server.url.rstrip("/"), host_site, site, f"/news/{site}/story/")
    first = talk.post("The bridge reopens on Monday.")["comment"]
    # A comment posted a moment later through another server: an id from its block.
    db = server.services.db
    with db.write() as conn:
        row = conn.execute(select(comments).where(comments.c.id == first["id"])).one()
        values = {k: v for k, v in row._mapping.items() if k != "id"}
        values.update(id=first["id"] + 1000, text="About time too.",
                      html="<p>About time too.</p>",
                      created_at=datetime.now(UTC) - timedelta(seconds=1))
        conn.execute(insert(comments).values(**values))
        conn.execute(update(threads).where(threads.c.id == row.thread_id).values(
            comment_count=threads.c.comment_count + 1,
            top_level_count=threads.c.top_level_count + 1))
    page.goto(talk.url(head=f"<script>{TRACK_STREAMS}</script>"))
    expect(widget(page).locator("h2")).to_have_text("2 comments")
    page.wait_for_function("window.__streams.some((s) => s.readyState === 1)")
    # Posted now through this server: an id from its own block, under the other's.
    newest = talk.post("Will the buses go back to the old route?")["comment"]
    assert newest["id"] < first["id"] + 1000
    show = widget(page).get_by_role("button", name="1 new comment — show")
    expect(show).to_be_visible()
    show.click()
    expect(widget(page).locator("ol.list > li").first.locator(".body")).to_have_text(
        "Will the buses go back to the old route?")
