"""A shadow-banned reader's widget, on a site that publishes at once: their comment reads
as published (no "awaiting moderation", counted, open to replies), after a reload too,
while nobody else sees it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from widget_page import Discussion, comment, expect, widget

from rostra.services.moderation import BanKind, BanRequest

pytestmark = pytest.mark.browser


def post_via_widget(page: Any, text: str) -> int:
    form = widget(page).locator(".fs form")
    form.get_by_label("Comment").fill(text)
    form.get_by_label("Name").fill("Me")
    form.get_by_role("button", name="Post comment").click()
    mine = widget(page).locator("ol.list > li").filter(has_text=text)
    expect(mine).to_have_count(1)
    return int((mine.get_attribute("id") or "").removeprefix("comment-"))


def test_it_shows_a_shadow_banned_reader_their_comment_as_published(
    discussion: Discussion, live_server: Any, page: Any,
) -> None:
    discussion.post("Someone else's view")
    page.goto(discussion.url())
    first = post_via_widget(page, "My first opinion on this")
    live_server.app.app.state.moderation.service.ban(BanRequest(
        site_id=discussion.site, kind=BanKind.VOTER, comment_id=first, shadow=True),
        actor="test")

    banned = post_via_widget(page, "My second opinion, shadowed")
    status = widget(page).get_by_role("status").first
    expect(status).to_have_text("Your comment was posted.")
    mine = comment(page, banned)
    expect(mine.locator(".badge")).to_have_text("")
    expect(widget(page).locator("h2")).to_have_text("3 comments")

    for _ in range(2):  # as posted, and as read again
        page.reload()
        mine = comment(page, banned)
        expect(mine.locator(":scope > article .body")).to_have_text("My second opinion, shadowed")
        expect(mine.locator(".badge")).to_have_text("")
        expect(mine.get_by_role("button", name="Reply")).to_be_visible()
        expect(widget(page).locator("h2")).to_have_text("3 comments")
        expect(widget(page).locator("ol.list > li")).to_have_count(3)

    # Everyone else reads two comments.
    shown = httpx.get(f"{discussion.server_url}/api/comments",
                      params={"site": discussion.site, "thread": discussion.thread},
                      headers=discussion.other_reader()).json()
    assert shown["thread"]["total"] == 2
    assert banned not in {c["id"] for c in shown["comments"]}


def test_the_authors_count_links_count_their_hidden_comment(
    discussion: Discussion, live_server: Any, page: Any,
) -> None:
    # Index pages show the thread's public count; in the author's browser, their own
    # comment that count leaves out is added, as the thread's own heading adds it.
    discussion.post("Someone else's view")
    page.goto(discussion.url())
    first = post_via_widget(page, "My first opinion on this")
    live_server.app.app.state.moderation.service.ban(BanRequest(
        site_id=discussion.site, kind=BanKind.VOTER, comment_id=first, shadow=True),
        actor="test")
    post_via_widget(page, "My second opinion, shadowed")
    page.reload()
    expect(widget(page).locator("h2")).to_have_text("3 comments")

    index = discussion.host.serve(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Index</title></head>'
        f'<body><main><h1>News</h1><p><a href="{discussion.thread}">Story</a> '
        f'<span data-rostra-count="{discussion.thread}">…</span></p></main>'
        f'<script src="{discussion.server_url}/embed.js" data-site="{discussion.site}" async>'
        "</script></body></html>")
    page.goto(index)
    expect(page.locator("[data-rostra-count]")).to_have_text("3 comments")
    # The counts everyone else reads (and caches share) leave it out.
    counts = httpx.get(f"{discussion.server_url}/api/counts",
                       params={"site": discussion.site, "thread": discussion.thread},
                       headers=discussion.other_reader()).json()
    assert counts["counts"][discussion.thread] == 2
