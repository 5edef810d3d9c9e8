"""Where the keyboard focus goes after each action: a reader using the keyboard or a
screen reader never finds it thrown back to the top of the page (WCAG 2.4.3)."""

from __future__ import annotations

from typing import Any

import pytest
from test_widget_accessibility import audit
from test_widget_notify import mail_discussion, mail_server  # noqa: F401 (fixtures)
from widget_page import Discussion, comment, expect, widget

pytestmark = pytest.mark.browser


def top_form(page: Any) -> Any:
    return widget(page).locator(".fs form")


def test_posting_with_the_button_keeps_the_focus_on_it(discussion: Discussion, page: Any) -> None:
    page.goto(discussion.url())
    form = top_form(page)
    form.get_by_label("Comment").fill("Sent with Enter on the button")
    form.get_by_label("Name").fill("Kay")
    send = form.get_by_role("button", name="Post comment")
    send.focus()
    page.keyboard.press("Enter")
    expect(widget(page).locator("ol.list > li .body")).to_have_text("Sent with Enter on the button")
    expect(widget(page).get_by_role("status")).to_have_text("Your comment was posted.")
    # it was disabled while sending, which sent the focus to the page's <body>
    expect(send).to_be_focused()
    # and a post that fails leaves it there too, next to the message
    page.route("**/api/comments", lambda r: r.abort() if r.request.method == "POST" else r.fallback())
    form.get_by_label("Comment").fill("Sent while the network is down")
    send.focus()
    page.keyboard.press("Enter")
    expect(form.get_by_role("alert")).to_contain_text("cannot be reached")
    expect(send).to_be_focused()
    expect(send).to_be_enabled()


def test_load_more_keeps_the_focus_while_more_pages_wait(discussion: Discussion, page: Any) -> None:
    for i in range(45):
        discussion.post(f"Comment {i}")
    page.goto(discussion.url())
    items = widget(page).locator("ol.list > li")
    expect(items).to_have_count(20)
    more = widget(page).get_by_role("button", name="Load more comments")
    more.focus()
    page.keyboard.press("Enter")
    expect(items).to_have_count(40)
    expect(more).to_be_enabled()
    expect(more).to_be_focused()
    page.keyboard.press("Enter")  # the last page: focus moves to its first comment
    expect(items).to_have_count(45)
    expect(items.nth(40).locator(":scope > article")).to_be_focused()


def test_a_report_that_fails_keeps_the_focus_on_send(discussion: Discussion, page: Any) -> None:
    other = discussion.post("Someone else's comment")["comment"]["id"]
    page.route("**/flag", lambda r: r.abort())
    page.goto(discussion.url())
    li = comment(page, other)
    li.get_by_role("button", name="Report").click()
    li.get_by_label("Spam").check()
    send = li.get_by_role("button", name="Send report")
    send.focus()
    page.keyboard.press("Enter")
    expect(li.get_by_role("alert")).to_contain_text("cannot be reached")
    expect(send).to_be_focused()


def test_subscribing_keeps_the_focus_on_subscribe(
    mail_discussion: Discussion, page: Any  # noqa: F811
) -> None:
    page.goto(mail_discussion.url())
    widget(page).get_by_role("button", name="Name and email").click()
    bar = widget(page).locator("form.nb")
    bar.get_by_label("Email").fill("reader@readers.example")
    subscribe = bar.get_by_role("button", name="Subscribe")
    subscribe.focus()
    page.keyboard.press("Enter")
    expect(bar.locator(".ok")).to_contain_text("check your email")
    expect(subscribe).to_be_focused()


def test_read_more_hands_the_focus_to_the_text_it_opens(discussion: Discussion, page: Any) -> None:
    long = "\n\n".join(f"Paragraph {i}: " + "the tram line will change the city. " * 8 for i in range(12))
    cid = discussion.post(long)["comment"]["id"]
    page.goto(discussion.url())
    body = comment(page, cid).locator(".body")
    more = body.get_by_role("button", name="Read more")
    more.focus()
    page.keyboard.press("Enter")
    expect(more).to_have_count(0)
    # the button goes, its work done: the focus goes on to what it opened, not to <body>
    expect(body).to_be_focused()
    page.keyboard.press("Tab")
    expect(comment(page, cid).get_by_role("button", name="Vote up")).to_be_focused()


def test_a_vote_says_the_new_score_once_and_an_error_by_its_comment(
    discussion: Discussion, page: Any
) -> None:
    other = discussion.post("Vote on me")["comment"]["id"]
    discussion.vote(other, 1)
    page.goto(discussion.url())
    li = comment(page, other)
    status = widget(page).get_by_role("status")
    up = li.get_by_role("button", name="Vote up")
    up.focus()
    page.keyboard.press("Enter")
    expect(up).to_have_attribute("aria-pressed", "true")
    # the pressed state is the button's own; the new score is said by the live region
    expect(status).to_have_text("Score: 2")
    page.route("**/vote", lambda r: r.abort())
    down = li.get_by_role("button", name="Vote down")
    down.focus()
    page.keyboard.press("Enter")
    # the error once, in the comment it concerns, and tied to its buttons
    alert = li.get_by_role("alert")
    expect(alert).to_contain_text("cannot be reached")
    expect(down).to_have_accessible_description(alert.inner_text())
    expect(status).to_have_text("Score: 2")
    expect(widget(page).locator("#rpanel > .err")).to_be_empty()
    expect(down).to_be_focused()
    expect(li.locator(".sc")).to_have_text("2")
    page.unroute("**/vote")
    page.keyboard.press("Enter")
    expect(status).to_have_text("Score: 0")
    expect(alert).to_have_count(0)
    expect(down).to_have_accessible_description("")


def test_preview_takes_the_focus_to_a_labelled_region_and_write_brings_it_back(
    discussion: Discussion, page: Any, axe_source: str
) -> None:
    parent = discussion.post("What do you think?", name="Ana")["comment"]["id"]
    page.goto(discussion.url())
    li = comment(page, parent)
    li.get_by_role("button", name="Reply").click()
    form = li.locator("form")
    box = form.get_by_role("textbox", name="Reply to Ana")
    expect(box).to_be_focused()
    page.keyboard.type("A *quick* look")
    form.get_by_role("button", name="Preview").focus()
    page.keyboard.press("Enter")
    # the preview is announced by taking the focus, as a region named for what it is
    preview = form.get_by_role("region", name="Preview")
    expect(preview).to_be_focused()
    expect(preview.locator("em")).to_have_text("quick")
    # the text box is hidden, and its label with it: no label over nothing
    expect(box).to_be_hidden()
    expect(form.locator("label", has_text="Reply to Ana")).to_be_hidden()
    assert audit(page, axe_source) == []
    # reachable with Tab as long as it is shown
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    expect(preview).to_be_focused()
    form.get_by_role("button", name="Write").focus()
    page.keyboard.press("Enter")
    expect(box).to_be_focused()
    expect(form.locator("label", has_text="Reply to Ana")).to_be_visible()
    expect(preview).to_be_hidden()
    expect(box).to_have_value("A *quick* look")


def test_escape_closes_reply_edit_and_report_and_returns_the_focus(
    discussion: Discussion, page: Any
) -> None:
    other = discussion.post("Someone else's comment", name="Ana")["comment"]["id"]
    page.goto(discussion.url())
    form = top_form(page)
    form.get_by_label("Comment").fill("My own comment")
    form.get_by_label("Name").fill("Kay")
    form.get_by_role("button", name="Post comment").click()
    mine = widget(page).locator("ol.list > li").first
    expect(mine.locator(".body")).to_have_text("My own comment")
    li = comment(page, other)
    for item, opener, inside in [
        (li, "Reply", li.get_by_role("textbox", name="Reply to Ana")),
        (mine, "Edit", mine.get_by_role("textbox", name="Edit your comment")),
        (li, "Report", li.get_by_role("radio", name="Spam")),
    ]:
        button = item.locator(":scope > article > .acts").get_by_role("button", name=opener)
        button.focus()
        page.keyboard.press("Enter")
        expect(inside).to_be_focused()
        page.keyboard.press("Escape")
        expect(item.locator(":scope > article > .slot")).to_be_empty()
        expect(button).to_be_focused()
    expect(mine.locator(":scope > article > .body")).to_be_visible()
