"""Reading a discussion: threads, sorting, paging and permalinks."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from widget_page import Discussion, comment, expect, widget

pytestmark = pytest.mark.browser

HIGHLIGHTED = re.compile(r"\bhl\b")


def shown_ids(page: Any) -> list[int]:
    """Ids of every comment rendered in the widget, in document order."""
    return list(page.evaluate(
        """() => [...document.querySelector('rostra-comments').shadowRoot
                 .querySelectorAll('li.c')].map(li => Number(li.id.slice(8)))"""
    ))


def test_it_shows_the_thread_with_replies_nested(discussion: Discussion, page: Any) -> None:
    first = discussion.post("The bridge looks *great*.", name="Ana")["comment"]
    reply = discussion.post("Agreed!", name="Ben", parent_id=first["id"])["comment"]
    discussion.post("When do the buses return?", name="Cleo")
    page.goto(discussion.url())
    expect(widget(page).locator("h2")).to_have_text("3 comments")
    expect(comment(page, first["id"]).locator(".body em")).to_have_text("great")
    expect(comment(page, first["id"]).locator(f"ol.rp #comment-{reply['id']} .au")).to_have_text("Ben")
    time = comment(page, first["id"]).locator("time").first
    expect(time).to_have_attribute("datetime", first["created_at"])
    assert time.get_attribute("title")  # the exact time, shown on hover


def test_it_links_the_name_to_the_authors_website(discussion: Discussion, page: Any) -> None:
    linked = discussion.post("I write about bridges too.", name="Ana",
                             website="https://ana.example/blog")["comment"]
    plain = discussion.post("No website here.", name="Ben")["comment"]
    page.goto(discussion.url())
    link = comment(page, linked["id"]).locator(".meta .au a")
    expect(link).to_have_text("Ana")
    expect(link).to_have_attribute("href", "https://ana.example/blog")
    expect(link).to_have_attribute("rel", "nofollow ugc noopener")
    expect(comment(page, plain["id"]).locator(".meta .au")).to_have_text("Ben")
    expect(comment(page, plain["id"]).locator(".meta .au a")).to_have_count(0)


def test_it_sorts_newest_oldest_and_most_voted(discussion: Discussion, page: Any) -> None:
    a = discussion.post("First")["comment"]["id"]
    b = discussion.post("Second")["comment"]["id"]
    c = discussion.post("Third")["comment"]["id"]
    discussion.vote(b, 1)
    discussion.vote(c, -1)
    page.goto(discussion.url())
    tabs = widget(page).get_by_role("tab")
    expect(tabs.nth(0)).to_have_text("Newest")
    expect(tabs.nth(1)).to_have_text("Oldest")
    expect(tabs.nth(2)).to_have_text("Most Voted")
    expect(widget(page).locator("ol.list > li")).to_have_count(3)
    assert shown_ids(page) == [c, b, a]
    widget(page).get_by_role("tab", name="Oldest").click()
    expect(widget(page).get_by_role("tab", name="Oldest")).to_have_attribute("aria-selected", "true")
    expect(widget(page).locator("ol.list > li").first).to_have_id(f"comment-{a}")
    assert shown_ids(page) == [a, b, c]
    widget(page).get_by_role("tab", name="Most Voted").click()
    expect(widget(page).locator("ol.list > li").first).to_have_id(f"comment-{b}")
    assert shown_ids(page) == [b, a, c]  # scores 1, 0, -1


def test_it_loads_more_then_all_without_losing_or_repeating(discussion: Discussion, page: Any) -> None:
    posted = [discussion.post(f"Comment number {i}")["comment"]["id"] for i in range(45)]
    page.goto(discussion.url())
    items = widget(page).locator("ol.list > li")
    expect(items).to_have_count(20)
    widget(page).get_by_role("button", name="Load more comments").click()
    expect(items).to_have_count(40)
    assert shown_ids(page) == posted[::-1][:40]
    discussion.post("Posted while reading")
    widget(page).get_by_role("button", name="View all comments").click()
    expect(items).to_have_count(46)
    ids = shown_ids(page)
    assert len(ids) == len(set(ids))
    assert set(posted) <= set(ids)
    expect(widget(page).get_by_role("button", name="View all comments")).to_be_hidden()


def test_it_opens_a_permalink_deep_in_a_long_thread(discussion: Discussion, page: Any) -> None:
    root = discussion.post("The oldest comment, with a long reply chain")["comment"]["id"]
    parent = root
    for depth in range(8):
        parent = discussion.post(f"Reply at depth {depth + 1}", parent_id=parent)["comment"]["id"]
    deepest = parent
    for i in range(40):
        discussion.post(f"Later comment {i}")
    page.goto(discussion.url() + f"#comment-{deepest}")
    target = comment(page, deepest)
    expect(target).to_be_visible()
    expect(target).to_have_class(HIGHLIGHTED)
    expect(target).to_be_in_viewport()
    expect(target.locator(".body")).to_have_text("Reply at depth 8")
    # a permalink clicked inside the page works the same way
    comment(page, root).locator("a.pl").first.click()
    expect(comment(page, root)).to_have_class(HIGHLIGHTED)
    expect(target).not_to_have_class(HIGHLIGHTED)


def test_it_shows_pinned_comments_first_with_a_badge(discussion: Discussion, page: Any,
                                                     live_server: Any) -> None:
    from rostra.store.staff_tables import comment_pins

    older = discussion.post("An editor's favourite")["comment"]["id"]
    newer = discussion.post("A newer comment")["comment"]["id"]
    with live_server.services.db.write() as conn:  # what the admin UI's Pin button stores
        conn.execute(comment_pins.insert().values(
            comment_id=older, site_id=discussion.site, kind="pinned", created_by="test",
            created_at=datetime.now(UTC)))
    page.goto(discussion.url())
    expect(widget(page).locator("ol.list > li")).to_have_count(2)
    assert shown_ids(page) == [older, newer]  # pinned first, although Newest is the sort
    expect(comment(page, older).locator(".badge").first).to_have_text("Pinned")
