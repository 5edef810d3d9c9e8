"""Writing: posting, replying, preview, keyboard-only use and errors."""

from __future__ import annotations

from typing import Any

import pytest
from widget_page import Discussion, comment, expect, problem, widget

pytestmark = pytest.mark.browser


def top_form(page: Any) -> Any:
    return widget(page).locator(".fs form")


def test_it_posts_a_comment_and_remembers_the_author_without_cookies(
    discussion: Discussion, page: Any
) -> None:
    page.goto(discussion.url())
    form = top_form(page)
    form.get_by_label("Comment").fill("Finally **open** again.")
    form.get_by_label("Name").fill("Dana")
    form.get_by_label("Email").fill("dana@example.com")
    form.get_by_role("button", name="Post comment").click()
    posted = widget(page).locator("ol.list > li").first
    expect(posted.locator(".au")).to_have_text("Dana")
    expect(posted.locator(".body strong")).to_have_text("open")
    expect(widget(page).locator('[role="status"]')).to_have_text("Your comment was posted.")
    expect(form.get_by_label("Comment")).to_have_value("")
    expect(widget(page).locator("h2")).to_have_text("1 comment")
    page.reload()
    expect(top_form(page).get_by_label("Name")).to_have_value("Dana")
    expect(top_form(page).get_by_label("Email")).to_have_value("dana@example.com")
    expect(widget(page).locator("ol.list > li")).to_have_count(1)
    assert page.context.cookies() == []


def test_it_replies_inline_under_the_comment(discussion: Discussion, page: Any) -> None:
    parent = discussion.post("What time do the buses start?", name="Eli")["comment"]["id"]
    page.goto(discussion.url())
    comment(page, parent).get_by_role("button", name="Reply").click()
    reply_form = comment(page, parent).locator("form")
    expect(reply_form.get_by_label("Reply to Eli")).to_be_focused()
    reply_form.get_by_label("Name").fill("Fay")
    reply_form.get_by_label("Reply to Eli").fill("From 6 a.m., I think.")
    reply_form.get_by_role("button", name="Post reply").click()
    reply = comment(page, parent).locator("ol.rp > li")
    expect(reply.locator(".au")).to_have_text("Fay")
    expect(reply.locator(".body")).to_have_text("From 6 a.m., I think.")
    expect(reply_form).to_have_count(0)
    page.reload()
    expect(comment(page, parent).locator("ol.rp > li .au")).to_have_text("Fay")


def test_it_asks_for_a_name_before_posting(discussion: Discussion, page: Any) -> None:
    page.goto(discussion.url())
    form = top_form(page)
    form.get_by_label("Comment").fill("Who am I?")
    form.get_by_role("button", name="Post comment").click()
    expect(form.get_by_role("alert")).to_have_text("Please enter your name.")
    expect(form.get_by_label("Name")).to_be_focused()
    expect(form.get_by_label("Comment")).to_have_value("Who am I?")


def test_it_previews_markdown_as_the_server_renders_it(discussion: Discussion, page: Any) -> None:
    page.goto(discussion.url())
    form = top_form(page)
    form.get_by_label("Comment").fill("A *quick* look")
    form.get_by_role("button", name="Preview").click()
    expect(form.locator(".pv em")).to_have_text("quick")
    form.get_by_role("button", name="Write").click()
    expect(form.get_by_label("Comment")).to_have_value("A *quick* look")


def test_it_posts_with_the_keyboard_alone(discussion: Discussion, page: Any) -> None:
    page.goto(discussion.url())
    expect(widget(page).locator("h2")).to_have_text("0 comments")
    # the text box comes first; the name, email and buttons unfold after it
    page.keyboard.press("Tab")
    expect(top_form(page).get_by_label("Comment")).to_be_focused()
    page.keyboard.type("Typed without a mouse.")
    page.keyboard.press("Tab")
    expect(top_form(page).get_by_label("Name")).to_be_focused()
    page.keyboard.type("Gus")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(top_form(page).get_by_role("button", name="Post comment")).to_be_focused()
    page.keyboard.press("Enter")
    expect(widget(page).locator("ol.list > li .body")).to_have_text("Typed without a mouse.")
    # the sort tabs are one tab stop, moved through with the arrow keys
    widget(page).get_by_role("tab", name="Newest").focus()
    page.keyboard.press("ArrowRight")
    expect(widget(page).get_by_role("tab", name="Oldest")).to_be_focused()
    expect(widget(page).get_by_role("tab", name="Oldest")).to_have_attribute("aria-selected", "true")


def test_it_keeps_the_draft_when_the_server_says_slow_down(discussion: Discussion, page: Any) -> None:
    refused: list[str] = []

    def once_429(route: Any) -> None:
        if route.request.method == "POST" and not refused:
            refused.append(route.request.url)
            answer = problem("rate_limited", 429)
            answer["headers"].update({"Retry-After": "2", "Access-Control-Expose-Headers": "Retry-After"})
            route.fulfill(**answer)
        else:
            route.continue_()

    page.route("**/api/comments", once_429)
    page.goto(discussion.url())
    form = top_form(page)
    form.get_by_label("Comment").fill("My carefully written draft.")
    form.get_by_label("Name").fill("Hal")
    form.get_by_role("button", name="Post comment").click()
    expect(form.get_by_role("alert")).to_have_text(
        "You are posting too quickly. Please wait a moment and try again; your text is kept."
    )
    expect(form.get_by_label("Comment")).to_have_value("My carefully written draft.")
    # Retry-After: the button waits as long as the server asked, then works again
    send = form.get_by_role("button", name="Post comment")
    expect(send).to_be_disabled()
    expect(send).to_be_enabled()
    send.click()
    expect(widget(page).locator("ol.list > li .body")).to_have_text("My carefully written draft.")
    assert len(refused) == 1


def test_it_says_so_in_the_readers_language_when_the_network_is_down(
    discussion: Discussion, page: Any
) -> None:
    page.route("**/api/comments", lambda route: route.abort() if route.request.method == "POST"
               else route.continue_())
    page.goto(discussion.url(lang="de"))
    form = top_form(page)
    form.get_by_label("Kommentar").fill("Entwurf")
    form.get_by_label("Name").fill("Ida")
    form.get_by_role("button", name="Kommentar senden").click()
    expect(form.get_by_role("alert")).to_contain_text("nicht erreichbar")
    expect(form.get_by_label("Kommentar")).to_have_value("Entwurf")
    page.reload()  # the top form's draft also survives a reload
    expect(top_form(page).get_by_label("Kommentar")).to_have_value("Entwurf")
