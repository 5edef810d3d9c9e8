"""A reader's own comments: votes, edit and delete within the window, pending ones."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from widget_page import Discussion, comment, expect, widget

from rostra.store.tables import comments

pytestmark = pytest.mark.browser


def post_via_widget(page: Any, text: str) -> Any:
    form = widget(page).locator(".fs form")
    form.get_by_label("Comment").fill(text)
    form.get_by_label("Name").fill("Me")
    form.get_by_role("button", name="Post comment").click()
    mine = widget(page).locator("ol.list > li").filter(has_text=text)
    expect(mine).to_have_count(1)
    return mine


def comment_id(li: Any) -> int:
    return int((li.get_attribute("id") or "").removeprefix("comment-"))


def test_it_votes_and_shows_the_readers_own_vote_after_a_reload(
    discussion: Discussion, page: Any
) -> None:
    other = discussion.post("Vote on me")["comment"]["id"]
    page.goto(discussion.url())
    up = comment(page, other).get_by_role("button", name="Vote up")
    up.click()
    expect(up).to_have_attribute("aria-pressed", "true")
    expect(comment(page, other).locator(".sc")).to_have_text("1")
    page.reload()
    up = comment(page, other).get_by_role("button", name="Vote up")
    expect(up).to_have_attribute("aria-pressed", "true")
    comment(page, other).get_by_role("button", name="Vote down").click()
    expect(comment(page, other).locator(".sc")).to_have_text("-1")
    expect(up).to_have_attribute("aria-pressed", "false")
    comment(page, other).get_by_role("button", name="Vote down").click()  # again: takes it back
    expect(comment(page, other).locator(".sc")).to_have_text("0")


def test_it_edits_an_own_comment_within_the_window(discussion: Discussion, page: Any) -> None:
    someone_else = discussion.post("Not yours")["comment"]["id"]
    page.goto(discussion.url())
    mine = comment(page, comment_id(post_via_widget(page, "Teh bridge is open")))
    expect(comment(page, someone_else).get_by_role("button", name="Edit")).to_be_hidden()
    mine.get_by_role("button", name="Edit").click()
    field = mine.get_by_label("Edit your comment")
    expect(field).to_have_value("Teh bridge is open")
    field.fill("The bridge is open")
    mine.get_by_role("button", name="Save").click()
    expect(mine.locator(":scope > article > .body")).to_have_text("The bridge is open")
    expect(mine.get_by_role("button", name="Edit")).to_be_focused()
    expect(mine.locator(".ed")).to_have_text("· edited")
    page.reload()
    expect(widget(page).locator("ol.list > li").first.locator(".body")).to_have_text("The bridge is open")


def test_it_deletes_an_own_comment_after_asking(discussion: Discussion, page: Any) -> None:
    discussion.post("Stays")
    page.goto(discussion.url())
    mine = post_via_widget(page, "Regrettable")
    expect(widget(page).locator("h2")).to_have_text("2 comments")
    mine.get_by_role("button", name="Delete").click()
    # the question is said aloud too: a focused button's new name is not always read out
    expect(widget(page).get_by_role("status")).to_have_text("Really delete?")
    mine.get_by_role("button", name="Really delete?").click()
    expect(mine).to_have_count(0)
    expect(widget(page).get_by_role("status")).to_have_text("Your comment was deleted.")
    expect(widget(page).locator("h2")).to_have_text("1 comment")
    page.reload()
    expect(widget(page).locator("ol.list > li")).to_have_count(1)


def test_it_leaves_a_tombstone_when_the_deleted_comment_has_replies(
    discussion: Discussion, page: Any
) -> None:
    page.goto(discussion.url())
    my_id = comment_id(post_via_widget(page, "I will regret this"))
    reply = discussion.post("A reply that must stay", parent_id=my_id)["comment"]["id"]
    page.reload()
    mine = comment(page, my_id)
    mine.locator(":scope > article").get_by_role("button", name="Delete").click()
    mine.locator(":scope > article").get_by_role("button", name="Really delete?").click()
    expect(mine.locator(":scope > article .body")).to_have_text("[deleted]")
    expect(comment(page, reply).locator(".body")).to_have_text("A reply that must stay")
    page.reload()
    expect(comment(page, my_id).locator(":scope > article .body")).to_have_text("[deleted]")


def test_it_keeps_one_voter_id_and_offers_no_vote_on_own_comments(
    discussion: Discussion, live_server: Any, page: Any
) -> None:
    page.goto(discussion.url())
    first = comment_id(post_via_widget(page, "My first word"))
    second = comment_id(post_via_widget(page, "My second word"))
    with live_server.services.db.read() as conn:
        voters = conn.execute(select(comments.c.voter_id).where(comments.c.id.in_([first, second]))).all()
    assert len({v.voter_id for v in voters}) == 1, "one browser, one author"
    page.reload()
    mine = comment(page, first)
    expect(mine.locator(".sc")).to_have_text("0")
    expect(mine.get_by_role("button", name="Vote up")).to_have_count(0)
    expect(mine.get_by_role("button", name="Vote down")).to_have_count(0)


def test_it_sends_the_voter_id_and_edit_token_with_a_vote(discussion: Discussion, page: Any) -> None:
    other = discussion.post("Someone else's")["comment"]["id"]
    page.goto(discussion.url())
    mine = comment_id(post_via_widget(page, "Mine"))
    sent: list[dict[str, str]] = []
    page.on("request", lambda r: sent.append(r.all_headers()) if r.url.endswith("/vote") else None)
    comment(page, other).get_by_role("button", name="Vote up").click()
    expect(comment(page, other).locator(".sc")).to_have_text("1")
    voter = page.evaluate("JSON.parse(localStorage.getItem('rostra:voter'))")
    assert voter and sent[-1].get("x-rostra-voter") == voter
    # a vote on one's own comment (the UI offers none) is refused by the server
    status = page.evaluate(
        """async ([base, id, voter]) => (await fetch(base + '/api/comments/' + id + '/vote', {
             method: 'POST', headers: {'Content-Type': 'application/json', 'X-Rostra-Voter': voter},
             body: JSON.stringify({value: 1})})).status""",
        [discussion.server_url, mine, voter])
    assert status == 403


def test_it_keeps_the_newest_own_comments_only(discussion: Discussion, page: Any) -> None:
    """Edit tokens are kept for months (a removed comment's appeal needs them): a
    prolific author's list is capped, the oldest going first, so localStorage holds
    a bounded amount."""
    page.goto(discussion.host.origin + "/nothing-here")  # the host's origin: its localStorage
    page.evaluate("""() => {
      const own = {};
      for (let i = 1; i <= 250; i++) {
        own[i] = {token: "t" + i, thread: "/elsewhere/", pending: false, at: Date.now() - (250 - i) * 3600000};
      }
      localStorage.setItem("rostra:own", JSON.stringify(own));
    }""")
    page.goto(discussion.url())
    expect(widget(page).locator("h2")).to_have_text("0 comments")
    kept = page.evaluate("Object.keys(JSON.parse(localStorage.getItem('rostra:own'))).map(Number)")
    assert sorted(kept) == list(range(51, 251))
