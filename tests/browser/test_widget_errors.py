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
    # localhost, not 127.0.0.1: an origin no site of the test server lists
    page.goto(discussion.url().replace("//127.0.0.1:", "//localhost:"))
    alerts = widget(page).get_by_role("alert").filter(has_text="discussion")
    expect(alerts).to_have_text("The discussion cannot be shown on this page.")
    expect(widget(page).get_by_text("cannot be reached")).to_have_count(0)
    expect(widget(page).locator(".fs form")).to_be_hidden()
    advice = [line for line in console if "rostra site origin add" in line]
    origin = host_site.origin.replace("//127.0.0.1:", "//localhost:")
    assert advice and origin in advice[0] and site in advice[0], console


def test_it_shows_the_limit_before_the_reader_hits_it(discussion: Discussion, page: Any) -> None:
    page.goto(discussion.url())
    form = widget(page).locator(".fs form")
    expect(widget(page).locator("h2")).to_have_text("0 comments")
    text = form.get_by_label("Comment")
    text.fill("a" * 9_990)
    form.get_by_label("Name").fill("Verbose")
    expect(form.locator(".cnt")).to_have_text("10 characters left")
    text.fill("a" * 10_050)
    expect(form.locator(".cnt")).to_have_text("50 characters too many")
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    form.get_by_role("button", name="Post comment").click()
    expect(form.get_by_role("alert").first).to_have_text("Your comment is too long: at most 10,000 characters.")
    expect(text).to_be_focused()
    assert not [u for u in posts if u.endswith("/api/comments")]
    text.fill("short")
    expect(form.locator(".cnt")).to_be_hidden()


def test_it_shows_the_servers_field_error_by_the_field(discussion: Discussion, page: Any) -> None:
    page.goto(discussion.url())
    form = widget(page).locator(".fs form")
    form.get_by_label("Comment").fill("Hello there")
    form.get_by_label("Name").fill("Typo")
    form.get_by_label("Email").fill("typo@nowhere")
    form.get_by_role("button", name="Post comment").click()
    email = form.get_by_label("Email")
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_have_accessible_description(
        "Please enter a valid email address, or leave the field empty.")
    expect(email).to_be_focused()
    expect(form.get_by_label("Comment")).to_have_value("Hello there")
    email.fill("typo@nowhere.example")
    form.get_by_role("button", name="Post comment").click()
    expect(widget(page).locator("ol.list > li .body")).to_have_text("Hello there")
    expect(email).not_to_have_attribute("aria-invalid", "true")
