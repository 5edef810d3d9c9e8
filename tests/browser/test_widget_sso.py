"""A reader the host site signed in: the widget posts and votes as the account."""

from __future__ import annotations

import html
from typing import Any

import pytest
from tests.api.test_sso import signed
from widget_page import Discussion, comment, expect, widget

pytestmark = pytest.mark.browser


def test_a_reader_signed_in_by_the_site_posts_and_votes_as_the_account(
    discussion: Discussion, page: Any, live_server: Any
) -> None:
    secret = live_server.services.accounts.make_secret(discussion.site)
    sso = signed(secret, id="member-5", name="Hana Member", email="hana@member.example")
    other = discussion.post("Somebody else's view", name="Gil")["comment"]["id"]
    page.goto(discussion.url(attrs=f'sso="{html.escape(sso)}"'))
    form = widget(page).locator(".fs form")
    expect(form.locator(".signed")).to_have_text("Signed in as Hana Member")
    expect(form.get_by_label("Name")).to_have_count(0)
    expect(form.get_by_label("Email")).to_have_count(0)
    form.get_by_label("Comment").fill("Posted as a **member**.")
    form.get_by_role("button", name="Post comment").click()
    posted = widget(page).locator("ol.list > li").first
    expect(posted.locator(".au")).to_have_text("Hana Member")
    up = comment(page, other).get_by_role("button", name="Vote up")
    up.click()
    expect(up).to_have_attribute("aria-pressed", "true")
    # Another device: a fresh browser context, nothing stored, the same account.
    other_device = page.context.browser.new_context()
    try:
        phone = other_device.new_page()
        phone.goto(discussion.url(attrs=f'sso="{html.escape(sso)}"'))
        expect(comment(phone, other).get_by_role("button", name="Vote up")).to_have_attribute(
            "aria-pressed", "true")
        expect(comment(phone, other).locator(".sc")).to_have_text("1")
    finally:
        other_device.close()


def test_an_expired_sign_in_is_explained_and_the_text_kept(
    discussion: Discussion, page: Any, live_server: Any
) -> None:
    secret = live_server.services.accounts.make_secret(discussion.site)
    stale = signed(secret, id="member-6", name="Ivo", exp=1)
    page.goto(discussion.url(attrs=f'sso="{html.escape(stale)}"'))
    form = widget(page).locator(".fs form")
    expect(form.locator(".signed")).to_have_text("Signed in as Ivo")
    form.get_by_label("Comment").fill("Written before lunch.")
    form.get_by_role("button", name="Post comment").click()
    expect(form.locator(".err")).to_have_text(
        "Your sign-in has expired. Please reload the page.")
    expect(form.get_by_label("Comment")).to_have_value("Written before lunch.")
    expect(widget(page).locator("ol.list > li")).to_have_count(0)
