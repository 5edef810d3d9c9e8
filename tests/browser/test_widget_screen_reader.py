"""What a screen-reader or keyboard-only reader meets (WCAG 2.2 AA): errors tied to
the fields they are about, controls large enough to hit, states that are said."""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest
from test_widget_accessibility import audit
from test_widget_inline import ARTICLE, PASSAGE, panel, select
from test_widget_notify import mail_discussion, mail_server  # noqa: F401 (fixtures)
from widget_page import Discussion, HostSite, comment, expect, widget

pytestmark = pytest.mark.browser


def test_a_missing_name_is_said_by_the_name_field(discussion: Discussion, page: Any) -> None:
    page.goto(discussion.url())
    form = widget(page).locator(".fs form")
    form.get_by_label("Comment").fill("Who am I?")
    form.get_by_role("button", name="Post comment").click()
    name = form.get_by_label("Name")
    expect(name).to_be_focused()
    # focused, the field says what is wrong with it (WCAG 3.3.1, 1.3.1)
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(name).to_have_accessible_description("Please enter your name.")
    name.fill("Ida")
    form.get_by_role("button", name="Post comment").click()
    expect(widget(page).get_by_role("status")).to_have_text("Your comment was posted.")
    expect(name).not_to_have_attribute("aria-invalid", "true")
    expect(name).to_have_accessible_description("")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_comment_box_keeps_a_visible_label_while_the_reader_types(
    discussion: Discussion, page: Any, axe_source: str, theme: str
) -> None:
    # Only a placeholder said what the box is for, gone once the reader types (WCAG
    # 3.3.2, 1.3.1): its label was for screen readers only.
    page.goto(discussion.url(attrs=f'theme="{theme}"'))
    form = widget(page).locator(".fs form")
    text = form.get_by_role("textbox", name="Comment")
    label = form.locator(f"label[for='{text.get_attribute('id')}']")
    for typed in (None, "Now the placeholder is gone"):  # folded, then as the reader types
        if typed:
            text.fill(typed)
        expect(label).to_have_text("Comment")
        seen, box = label.bounding_box(), text.bounding_box()
        assert seen and box and seen["width"] > 40 and seen["height"] > 12, seen
        assert seen["y"] + seen["height"] <= box["y"]  # above the box it names
    assert audit(page, axe_source) == []  # its contrast, light and dark


def test_a_server_error_on_the_text_is_said_with_the_markdown_hint(
    discussion: Discussion, page: Any
) -> None:
    page.goto(discussion.url())
    form = widget(page).locator(".fs form")
    text = form.get_by_label("Comment")
    hint = "Markdown: *italic*, **bold**, `code`, > quote, links."
    expect(text).to_have_accessible_description(re.compile(re.escape(hint)))
    text.fill("A NUL \x00 the server refuses")
    form.get_by_label("Name").fill("Ida")
    form.get_by_role("button", name="Post comment").click()
    expect(text).to_have_attribute("aria-invalid", "true")
    error = form.locator(".fe")
    expect(error).not_to_be_empty()
    # the error is said first, and the hint (and the character count) still after it
    expect(text).to_have_accessible_description(
        re.compile(re.escape(error.inner_text()) + ".*" + re.escape(hint)))


def test_a_missing_email_is_said_by_the_notify_email_field(
    mail_discussion: Discussion, page: Any  # noqa: F811
) -> None:
    page.goto(mail_discussion.url())
    widget(page).get_by_role("button", name="Name and email").click()
    bar = widget(page).locator("form.nb")
    bar.get_by_role("button", name="Subscribe").click()
    email = bar.get_by_label("Email")
    expect(email).to_be_focused()
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_have_accessible_description("Please enter your email address to be notified.")


def test_a_report_without_a_reason_is_said_by_the_reasons(discussion: Discussion, page: Any) -> None:
    other = discussion.post("Someone else's comment")["comment"]["id"]
    page.goto(discussion.url())
    comment(page, other).get_by_role("button", name="Report").click()
    reasons = comment(page, other).get_by_role("group", name="Why are you reporting this comment?")
    comment(page, other).get_by_role("button", name="Send report").click()
    expect(reasons.get_by_role("radio").first).to_be_focused()
    expect(reasons).to_have_accessible_description("Please choose a reason.")


def test_an_empty_passage_comment_says_why_nothing_was_posted(discussion: Discussion, page: Any) -> None:
    page.goto(discussion.url(before=ARTICLE))
    select(page, PASSAGE)
    page.get_by_role("button", name="Comment on this passage").click()
    text = panel(page).get_by_role("textbox", name="Comment")
    expect(text).to_be_focused()
    post = panel(page).get_by_role("button", name="Post comment")
    post.focus()
    page.keyboard.press("Enter")
    # only the browser's fading bubble (in the browser's language, not the widget's) said
    # why: the panel's own alert says it, tied to the text box, as the widget's form does
    expect(panel(page).get_by_role("alert")).not_to_be_empty()
    expect(text).to_be_focused()
    expect(text).to_have_attribute("aria-invalid", "true")
    expect(text).not_to_have_accessible_description("")


def test_vote_arrows_are_targets_of_at_least_24_pixels(discussion: Discussion, page: Any) -> None:
    other = discussion.post("Vote on me")["comment"]["id"]
    page.goto(discussion.url())
    for name in ("Vote up", "Vote down"):
        arrow = comment(page, other).get_by_role("button", name=name)
        expect(arrow).to_have_attribute("aria-pressed", "false")
        box = arrow.bounding_box()
        assert box is not None
        # WCAG 2.5.8 (Target Size, Minimum)
        assert box["width"] >= 24 and box["height"] >= 24, (name, box)


def test_reply_and_report_say_whether_their_form_is_open(discussion: Discussion, page: Any) -> None:
    other = discussion.post("Someone else's comment")["comment"]["id"]
    page.goto(discussion.url())
    actions = comment(page, other).locator(":scope > article > .acts")
    reply = actions.get_by_role("button", name="Reply")
    report = actions.get_by_role("button", name="Report")
    expect(reply).to_have_attribute("aria-expanded", "false")
    reply.focus()
    page.keyboard.press("Enter")
    expect(reply).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Escape")
    expect(reply).to_be_focused()
    expect(reply).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Enter")
    form = comment(page, other).locator("form")
    form.get_by_role("textbox", name="Reply to Seeder").fill("An answer")
    form.get_by_label("Name").fill("Ida")
    form.get_by_role("button", name="Post reply").click()
    expect(widget(page).get_by_role("status")).to_have_text("Your comment was posted.")
    expect(reply).to_have_attribute("aria-expanded", "false")
    expect(report).to_have_attribute("aria-expanded", "false")
    report.click()
    expect(report).to_have_attribute("aria-expanded", "true")
    comment(page, other).get_by_role("button", name="Cancel").click()
    expect(report).to_be_focused()
    expect(report).to_have_attribute("aria-expanded", "false")


def test_a_passage_comment_held_for_moderation_keeps_the_focus_in_its_panel(
    live_server: Any, host_site: HostSite, page: Any
) -> None:
    site = "whold-" + secrets.token_hex(4)
    live_server.add_site(site, [host_site.origin], moderation={"mode": "all", "toxicity": False})
    discussion = Discussion(live_server.url.rstrip("/"), host_site, site, f"/news/{site}/story/")
    page.goto(discussion.url(before=ARTICLE))
    select(page, PASSAGE)
    page.get_by_role("button", name="Comment on this passage").click()
    panel(page).get_by_label("Name").fill("Ana")
    panel(page).get_by_role("textbox", name="Comment").fill("Held, as every comment here")
    post = panel(page).get_by_role("button", name="Post comment")
    post.focus()
    page.keyboard.press("Enter")
    status = panel(page).get_by_role("status")
    expect(status).to_have_text("Your comment was received and is awaiting moderation.")
    # the panel was drawn anew and its Post button with it: the focus fell to the page
    assert page.evaluate("document.activeElement.localName") == "rostra-inline-panel"
    expect(status).to_be_focused()
    # said once, by what now has the focus, not a second time by the widget's status line
    expect(widget(page).get_by_role("status")).to_have_text("")


def test_a_text_the_server_refuses_is_not_called_empty(discussion: Discussion, page: Any) -> None:
    # Any invalid_input on the text read "Please write a comment first.", though the
    # reader had written one (here with a NUL character the server refuses).
    page.goto(discussion.url())
    form = widget(page).locator(".fs form")
    form.get_by_label("Comment").fill("A NUL \x00 the server refuses")
    form.get_by_label("Name").fill("Ida")
    form.get_by_role("button", name="Post comment").click()
    error = form.locator(".fe")
    expect(error).to_have_text(
        "This text cannot be posted: contains a NUL character.")
