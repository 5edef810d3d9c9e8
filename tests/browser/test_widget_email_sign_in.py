"""A reader signs in from the widget with an email link, sees where they are signed
in, ends another browser's session and signs out; a real SMTP server gets the link."""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from tests.conftest import LiveServer, free_port, running_server
from tests.notify.conftest import Handler, Mailbox, link, wait_for
from widget_page import Discussion, HostSite, expect, widget

pytestmark = pytest.mark.browser
_sites = itertools.count(1)


@pytest.fixture(scope="module")
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(Handler(box), hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture(scope="module")
def mail_live(mailbox: tuple[Mailbox, int]) -> Iterator[LiveServer]:
    with running_server("sqlite", smtp_host="127.0.0.1", smtp_port=mailbox[1],
                        smtp_security="none", mail_from="Comments <c@news.example>",
                        worker=True, notify_batch_seconds=0) as live:
        yield live


@pytest.fixture
def discussion(mail_live: LiveServer, host_site: HostSite) -> Discussion:
    site = f"em{next(_sites)}"
    mail_live.add_site(site, [host_site.origin])
    return Discussion(mail_live.url.rstrip("/"), host_site, site, f"/news/{site}/story/")


def _sign_in_by_email(page: Any, url: str, box: Mailbox, email: str) -> None:
    before = len(box.to(email))
    page.goto(url)
    form = widget(page).locator(".fs form")
    form.get_by_role("button", name="Name and email").click()
    form.get_by_label("Name").fill("Mila Reader")
    form.get_by_role("button", name="Sign in by email").click()
    form.get_by_label("Your email address").fill(email)
    form.get_by_role("button", name="Email me a sign-in link").click()
    expect(form.locator(".em .ok")).to_contain_text("Check your email")
    expect(form.locator(".em .ok")).not_to_contain_text(email)
    mailed = wait_for(lambda: len(box.to(email)) > before and box.to(email),
                      what="the sign-in email")
    page.goto(link(mailed[-1], "/auth/email/link"))
    page.get_by_role("button", name="Sign in").click()
    expect(form.locator(".signed")).to_contain_text("Signed in as Mila Reader")
    assert "rostra-sign-in" not in page.url  # the code left the address bar


def test_a_reader_signs_in_by_email_and_ends_another_browsers_session(
    discussion: Discussion, page: Any, chromium: Any, mailbox: tuple[Mailbox, int]
) -> None:
    box = mailbox[0]
    email = f"mila{secrets.token_hex(4)}@readers.example"
    url = discussion.url()
    other = chromium.new_context()
    try:
        _sign_in_by_email(other.new_page(), url, box, email)
        _sign_in_by_email(page, url, box, email)
        form = widget(page).locator(".fs form")
        form.get_by_label("Comment").fill("Hello, signed in by email")
        form.get_by_role("button", name="Post comment").click()
        expect(widget(page).locator("ol.list > li").first.locator(".au")).to_have_text(
            "Mila Reader")
        form.get_by_role("button", name="Account").click()
        sessions = form.locator(".acct ul.sessions li")
        expect(sessions).to_have_count(2)
        expect(form.locator(".acct")).to_contain_text("this browser")
        form.locator(".acct").get_by_role("button", name="Sign out there").click()
        expect(form.locator(".acct .ok")).to_have_text("That browser is signed out.")
        expect(sessions).to_have_count(1)
        # The other browser finds itself signed out when it next talks to the server.
        theirs = other.pages[0]
        their_form = widget(theirs).locator(".fs form")
        their_form.get_by_label("Comment").fill("Am I still signed in?")
        their_form.get_by_role("button", name="Post comment").click()
        expect(their_form.locator(".err")).to_have_text(
            "Your sign-in has ended. Please sign in again.")
        form.get_by_role("button", name="Sign out", exact=True).click()
        expect(form.get_by_role("button", name="Sign in by email")).to_be_visible()
    finally:
        other.close()


def test_a_used_link_says_so_and_signs_no_one_in(
    discussion: Discussion, page: Any, mailbox: tuple[Mailbox, int]
) -> None:
    box = mailbox[0]
    email = f"used{secrets.token_hex(4)}@readers.example"
    _sign_in_by_email(page, discussion.url(), box, email)
    page.goto(link(box.to(email)[-1], "/auth/email/link"))
    expect(page.get_by_role("alert")).to_contain_text("used already or has expired")


def test_signing_out_leaves_the_focus_in_the_form(
    discussion: Discussion, page: Any, mailbox: tuple[Mailbox, int]
) -> None:
    _sign_in_by_email(page, discussion.url(), mailbox[0], f"out{secrets.token_hex(4)}@readers.example")
    form = widget(page).locator(".fs form")
    form.get_by_role("button", name="Signed in as").click()  # unfolds the form
    form.get_by_role("button", name="Sign out", exact=True).focus()
    page.keyboard.press("Enter")
    expect(form.get_by_role("button", name="Sign in by email")).to_be_visible()
    # the widget is built again signed out; the focus was on a button that went with
    # the old one, and fell to the top of the page
    expect(form.get_by_label("Comment")).to_be_focused()
