"""The "Notify of" choice: subscribing to a thread by email from the bar and from the form."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from tests.conftest import LiveServer, _start_live_server, free_port
from widget_page import Discussion, HostSite, expect, widget

from rostra.store.notify_tables import notify_subscriptions

pytestmark = pytest.mark.browser

CHECK = "Almost done: check your email and confirm to start the notifications."


@pytest.fixture(scope="module")
def mail_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server that sends email (smtp_host set); its worker is off, so the
    confirmation waits in the outbox: the widget only shows the API's answer."""
    path = tmp_path_factory.mktemp("notify-widget") / "rostra.sqlite3"
    live, server = _start_live_server(
        f"sqlite:///{path}", "sqlite", smtp_host="127.0.0.1", smtp_port=free_port(),
        smtp_security="none", mail_from="News Comments <comments@news.example>", worker=False,
    )
    yield live
    server.stop()
    live.services.db.dispose()


@pytest.fixture
def mail_discussion(mail_server: LiveServer, host_site: HostSite) -> Discussion:
    site = "wn-" + secrets.token_hex(4)
    mail_server.add_site(site, [host_site.origin])
    return Discussion(mail_server.url.rstrip("/"), host_site, site, f"/news/{site}/story/")


def kinds(live: LiveServer, site: str) -> list[str]:
    with live.services.db.read() as conn:
        rows = conn.execute(select(notify_subscriptions.c.kind)
                            .where(notify_subscriptions.c.site_id == site)).all()
    return sorted(r.kind for r in rows)


def test_it_subscribes_from_the_bar_without_posting(
    mail_server: LiveServer, mail_discussion: Discussion, page: Any
) -> None:
    page.goto(mail_discussion.url())
    widget(page).get_by_role("button", name="Name and email").click()
    bar = widget(page).locator("form.nb")
    bar.get_by_role("button", name="Subscribe").click()
    expect(bar.get_by_role("alert")).to_have_text("Please enter your email address to be notified.")
    bar.get_by_label("Notify of").select_option(label="new replies to my comments")
    bar.get_by_label("Email").fill("reader@readers.example")
    bar.get_by_role("button", name="Subscribe").click()
    expect(bar.locator(".ok")).to_have_text(CHECK)
    assert kinds(mail_server, mail_discussion.site) == ["replies"]
    # A browser that never posted keeps the voter id the answer gave it: its next posts
    # carry it, and the "replies" subscription finds them by it.
    kept = page.evaluate("localStorage.getItem('rostra:voter')")
    assert kept is not None
    with mail_server.services.db.read() as conn:
        [voter_id] = conn.execute(select(notify_subscriptions.c.voter_id).where(
            notify_subscriptions.c.site_id == mail_discussion.site)).scalars()
    assert voter_id is not None
    assert mail_server.services.tokens.voter_id(json.loads(kept)) == voter_id


def test_it_offers_one_notify_control_and_posts_without_it(
    mail_server: LiveServer, mail_discussion: Discussion, page: Any
) -> None:
    page.goto(mail_discussion.url())
    expect(widget(page).get_by_label("Notify of")).to_have_count(1)
    form = widget(page).locator(".fs form")
    expect(form.get_by_label("Notify of")).to_have_count(0)
    form.get_by_label("Comment").fill("Keep me posted.")
    form.get_by_label("Name").fill("Lea")
    form.get_by_label("Email").fill("lea@readers.example")
    form.get_by_role("button", name="Post comment").click()
    expect(widget(page).locator("ol.list > li .body")).to_have_text("Keep me posted.")
    bar = widget(page).locator("form.nb")
    expect(bar.get_by_label("Email")).to_have_value("lea@readers.example")
    bar.get_by_role("button", name="Subscribe").click()
    expect(bar.locator(".ok")).to_have_text(CHECK)
    assert kinds(mail_server, mail_discussion.site) == ["thread"]


def test_it_offers_no_notifications_where_the_server_sends_no_email(
    discussion: Discussion, page: Any
) -> None:
    page.goto(discussion.url(lang="de"))
    form = widget(page).locator(".fs form")
    form.get_by_label("Kommentar").fill("Ohne Benachrichtigung.")
    form.get_by_label("Name").fill("Leser")
    form.get_by_label("E-Mail").fill("leser@readers.example")
    form.get_by_role("button", name="Kommentar senden").click()
    expect(widget(page).locator("ol.list > li .body")).to_have_text("Ohne Benachrichtigung.")
    expect(widget(page).get_by_label("Benachrichtigen bei")).to_be_hidden()
    expect(widget(page).locator("form.nb")).to_be_hidden()
    expect(widget(page).get_by_role("alert").filter(has_text="E-Mail")).to_have_count(0)
