"""Deleted, held and hidden comments: what readers and authors see of them."""

from __future__ import annotations

from typing import Any

import pytest
from widget_page import Discussion, comment, expect, widget

from rostra.core.models import CommentState

pytestmark = pytest.mark.browser


def post_via_widget(page: Any, text: str) -> None:
    form = widget(page).locator(".fs form")
    form.get_by_label("Comment").fill(text)
    form.get_by_label("Name").fill("Me")
    form.get_by_role("button", name="Post comment").click()


def test_it_shows_a_tombstone_without_votes_author_or_grey_replies(
    discussion: Discussion, live_server: Any, page: Any
) -> None:
    parent = discussion.post("Soon gone", name="Gone")["comment"]["id"]
    reply = discussion.post("Still here, in plain type", parent_id=parent)["comment"]["id"]
    live_server.services.comments.set_state(parent, CommentState.DELETED, actor="test")
    page.goto(discussion.url())
    tomb = comment(page, parent).locator(":scope > article")
    expect(tomb.locator(".body")).to_have_text("[deleted]")
    expect(tomb.get_by_role("button", name="Vote up")).to_be_hidden()
    expect(tomb.locator(".sc")).to_be_hidden()
    expect(tomb.locator(".au")).to_be_hidden()
    body = comment(page, reply).locator(".body")
    expect(body).to_have_text("Still here, in plain type")
    expect(body).to_have_css("font-style", "normal")


def test_it_tells_the_author_honestly_that_a_repeat_is_held(discussion: Discussion, page: Any) -> None:
    text = "The council meeting is on Tuesday at seven in the town hall, everyone is welcome."
    page.goto(discussion.url())
    post_via_widget(page, text)
    expect(widget(page).locator('[role="status"]')).to_have_text("Your comment was posted.")
    post_via_widget(page, text + " Really!")
    held = widget(page).locator("ol.list > li").first
    expect(widget(page).locator('[role="status"]')).to_have_text(
        "Your comment was received and is awaiting moderation.")
    expect(held.locator(".badge")).to_have_text("Awaiting moderation")
    expect(held.locator(".body")).to_contain_text("Tuesday at seven")
    expect(held.get_by_role("button", name="Vote up")).to_be_hidden()


def test_it_shows_a_comment_kept_as_spam_to_its_author_as_held(discussion: Discussion, page: Any) -> None:
    # three near-copies in the window: the policy's copy-paste flood line, stored as spam
    text = "Read the full report on our blog, it explains why the bridge closed so suddenly."
    for i in range(3):
        discussion.post(f"{text} ({i})", name=f"Copier {i}")
    page.goto(discussion.url())
    post_via_widget(page, text)
    mine = widget(page).locator("ol.list > li").first
    expect(widget(page).locator('[role="status"]')).to_have_text(
        "Your comment was received and is awaiting moderation.")
    expect(mine.locator(".body")).to_contain_text("bridge closed")
    expect(mine.locator(".badge")).to_have_text("Awaiting moderation")
