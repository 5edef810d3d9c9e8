"""How the discussion looks: avatars, long comments, deep threads, picks, badges."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import insert
from widget_page import Discussion, comment, expect, widget

from rostra.store.staff_tables import comment_pins

pytestmark = pytest.mark.browser


def test_it_draws_an_avatar_per_author_without_asking_anyone(discussion: Discussion, page: Any) -> None:
    first = discussion.post("First", name="Ana Novak")["comment"]["id"]
    other = discussion.post("Second", name="ben")["comment"]["id"]
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(discussion.url())
    avatar = comment(page, first).locator(".av")
    expect(avatar).to_have_text("AN")
    expect(avatar).to_have_attribute("aria-hidden", "true")
    expect(comment(page, other).locator(".av")).to_have_text("B")
    colours = [comment(page, i).locator(".av").evaluate("e => getComputedStyle(e).backgroundColor")
               for i in (first, other)]
    assert colours[0] != colours[1]
    hosts = {u.split("/")[2] for u in requests}
    assert hosts <= {discussion.host.origin.split("/")[2], discussion.server_url.split("/")[2]}


def test_it_folds_a_long_comment_behind_read_more(discussion: Discussion, page: Any) -> None:
    long = "\n\n".join(f"Paragraph {i}: " + "the tram line will change the city. " * 8 for i in range(12))
    cid = discussion.post(long)["comment"]["id"]
    page.goto(discussion.url())
    body = comment(page, cid).locator(".body")
    more = body.get_by_role("button", name="Read more")
    expect(more).to_be_visible()
    clip = body.locator(".clip")
    assert clip.evaluate("e => e.clientHeight < e.scrollHeight")
    more.click()
    expect(more).to_have_count(0)
    expect(body.locator("p").last).to_be_visible()
    assert body.locator(":scope > div").evaluate("e => e.clientHeight >= e.scrollHeight")


def test_it_folds_deep_threads_into_more_replies(discussion: Discussion, page: Any) -> None:
    parent = None
    ids = []
    for depth in range(5):
        parent = discussion.post(f"Depth {depth}", parent_id=parent)["comment"]["id"]
        ids.append(parent)
    page.goto(discussion.url())
    expect(comment(page, ids[2]).locator(":scope > article .body")).to_have_text("Depth 2")
    toggle = comment(page, ids[2]).locator(':scope > article [data-act="toggle"]')
    expect(toggle).to_have_text("2 more replies")
    expect(comment(page, ids[3])).to_have_count(0)
    toggle.click()
    expect(comment(page, ids[3]).locator(":scope > article .body")).to_have_text("Depth 3")


def test_it_shows_pinned_and_picked_comments_first_and_clearly(
    discussion: Discussion, live_server: Any, page: Any
) -> None:
    picked = discussion.post("An editors' pick")["comment"]["id"]
    discussion.post("Newer, plain")
    with live_server.services.db.write() as conn:
        conn.execute(insert(comment_pins).values(comment_id=picked, site_id=discussion.site, kind="featured",
                                                 created_by="test", created_at=datetime.now(UTC)))
    page.goto(discussion.url())
    first = widget(page).locator("ol.list > li").first
    expect(first).to_have_id(f"comment-{picked}")
    expect(first.locator(".badge")).to_have_text("Editors' pick")
    expect(first).to_have_class("c picked")
