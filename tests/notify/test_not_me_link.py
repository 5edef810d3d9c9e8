""""Not me" without a mail client's one-click button: a confirmation email's visible
link opens a page (which changes nothing, since mail scanners fetch every link) whose
button records the reader's "not me" as the one-click unsubscribe does. A real server,
a real SMTP server (aiosmtpd), SQLite and PostgreSQL."""

from __future__ import annotations

import time
from email.message import EmailMessage
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from lxml import html as lxml_html
from sqlalchemy import select

from rostra.notify.tokens import ADDRESS_MAX_AGE
from rostra.store.notify_tables import notify_addresses, notify_refusals, notify_subscriptions
from tests.notify.conftest import NotifyServer, Page, address, link, parts
from tests.notify.test_email_flow import deliver
from tests.notify.test_mail_language import direction, words


def _asked(notify: NotifyServer, http: httpx.Client, site: str, mail: str,
           **headers: str) -> EmailMessage:
    """A stranger's "Notify of" request for ``mail``, and the confirmation it sends."""
    notify.subscribe(http, site, "/planted/", mail, headers=headers)
    deliver(notify, later=False)
    [ask] = notify.mailbox.to(mail)
    return ask


def _refusals(notify: NotifyServer, mail: str) -> list[str]:
    with notify.live.services.db.read() as conn:
        return list(conn.execute(
            select(notify_refusals.c.site_id)
            .join(notify_addresses, notify_addresses.c.id == notify_refusals.c.address_id)
            .where(notify_addresses.c.email == mail)).scalars())


def _press(http: httpx.Client, page: httpx.Response) -> httpx.Response:
    """Press the page's one button, as a reader does."""
    [form] = Page(page.text).forms
    return http.post(form.action, data=form.fields)


def test_the_confirmation_email_shows_the_link_in_both_parts(
    notify: NotifyServer, http: httpx.Client
) -> None:
    site, mail = notify.new_site(), address()
    ask = _asked(notify, http, site, mail)
    text, html = parts(ask)
    url = link(ask, "/notify/not-me")
    words_en = words("en")
    assert words_en["confirm_not_me"].format(site=site.title()) in text
    [anchor] = lxml_html.document_fromstring(html.encode()).xpath(
        '//a[contains(@href, "/notify/not-me?")]')
    assert anchor.get("href") == url
    assert anchor.text_content() == words_en["confirm_not_me"].format(site=site.title())
    # The same signed token as the one-click unsubscribe header.
    token = parse_qs(urlsplit(url).query)["token"][0]
    assert str(ask["List-Unsubscribe"]).endswith(f"?token={token}>")


def test_opening_the_link_changes_nothing(notify: NotifyServer, http: httpx.Client) -> None:
    site, mail = notify.new_site(), address()
    ask = _asked(notify, http, site, mail)
    page = http.get(link(ask, "/notify/not-me"))
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    [form] = Page(page.text).forms
    assert form.action == "/notify/not-me" and form.fields["token"]
    assert _refusals(notify, mail) == []

    # Opened twice (a scanner, then the reader), still nothing: a stranger's next
    # request is asked about an hour later, as ever.
    assert http.get(link(ask, "/notify/not-me")).status_code == 200
    notify.subscribe(http, site, "/planted-again/", mail)
    deliver(notify)
    assert len(notify.mailbox.to(mail)) == 2
    assert "/planted-again" in parts(notify.mailbox.to(mail)[-1])[0]


def test_the_button_says_not_me(notify: NotifyServer, http: httpx.Client) -> None:
    site, other_site, mail = notify.new_site(), notify.new_site(), address()
    ask = _asked(notify, http, site, mail)
    [form] = Page(http.get(link(ask, "/notify/not-me")).text).forms
    done = http.post(form.action, data=form.fields)
    assert done.status_code == 200
    said = Page(done.text).ids["not-me-done"]
    assert said == words("en")["page_not_me_done"].format(site=site.title())
    assert Page(done.text).forms == []
    assert _refusals(notify, mail) == [site]

    # Pressed again (a second tab), or the link opened again: it is done, and stays so.
    again = http.post(form.action, data=form.fields)
    assert again.status_code == 200 and Page(again.text).forms == []
    reopened = http.get(link(ask, "/notify/not-me"))
    assert reopened.status_code == 200 and Page(reopened.text).forms == []

    # The stranger asks again, now and an hour on: nothing goes out.
    with notify.live.client() as stranger:
        for i in range(2):
            answer = notify.subscribe(stranger, site, f"/planted-again-{i}/", mail)
            assert answer.json()["status"] == "accepted"
            deliver(notify, later=False)
            deliver(notify)
        assert len(notify.mailbox.to(mail)) == 1
        # The email's confirmation link asks about nothing any more.
        assert http.get(link(ask, "/notify/confirm")).status_code == 400
        # Another site's form still asks.
        notify.subscribe(stranger, other_site, "/elsewhere/", mail)
        deliver(notify, later=False)
        deliver(notify)
        assert len(notify.mailbox.to(mail)) == 2
    assert _refusals(notify, mail) == [site]


def _token(notify: NotifyServer, mail: str, *, expired: bool = False,
           not_me: bool = True) -> str:
    """A link's token for ``mail``'s subscriptions, signed as the worker signs them:
    longer ago than its life, or without "not me" (a digest's or the manage page's)."""
    with notify.live.services.db.read() as conn:
        address_id = conn.execute(select(notify_addresses.c.id)
                                  .where(notify_addresses.c.email == mail)).scalar_one()
        ids = tuple(conn.execute(select(notify_subscriptions.c.id).where(
            notify_subscriptions.c.address_id == address_id)).scalars())
    lifetime = ADDRESS_MAX_AGE + 3600 if expired else 0
    then = SimpleNamespace(time=lambda: time.time() - lifetime)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("itsdangerous.timed.time", then)
        return notify.runtime.tokens.address_token(address_id, mail, ids, not_me=not_me)


def test_a_forged_or_expired_or_other_link_gets_a_clear_page(
    notify: NotifyServer, http: httpx.Client
) -> None:
    site, mail = notify.new_site(), address()
    ask = _asked(notify, http, site, mail, **{"Accept-Language": "pl"})
    url = link(ask, "/notify/not-me")
    token = parse_qs(urlsplit(url).query)["token"][0]
    # One whole character inside the signature changed (the last one carries padding
    # bits that several characters share).
    forged = token[:-5] + ("A" if token[-5] != "A" else "B") + token[-4:]
    # A digest's or the manage page's link may end subscriptions, but is no "not me".
    digest = _token(notify, mail, not_me=False)
    invalid = words("en")["page_invalid"]
    for bad in (forged, _token(notify, mail, expired=True), digest, ""):
        page = http.get("/notify/not-me", params={"token": bad})
        assert page.status_code == 400, bad
        assert Page(page.text).ids["invalid"] == invalid and Page(page.text).forms == []
        pressed = http.post("/notify/not-me", data={"token": bad})
        assert pressed.status_code == 400
        assert Page(pressed.text).ids["invalid"] == invalid
    assert _refusals(notify, mail) == []
    # The real link still works.
    assert http.get(url).status_code == 200


@pytest.mark.parametrize(("accept", "lang", "rtl"), [("pl-PL,pl;q=0.9", "pl", "ltr"),
                                                     ("he-IL", "he", "rtl")])
def test_the_pages_speak_the_readers_language(
    notify: NotifyServer, http: httpx.Client, accept: str, lang: str, rtl: str
) -> None:
    site, mail = notify.new_site(), address()
    ask = _asked(notify, http, site, mail, **{"Accept-Language": accept})
    own = words(lang)
    text, html = parts(ask)
    assert own["confirm_not_me"].format(site=site.title()) in text
    assert own["confirm_ignore"] in text
    assert direction(html) == (lang, rtl)

    page = http.get(link(ask, "/notify/not-me"))
    assert direction(page.text) == (lang, rtl)
    assert own["page_not_me_title"] in page.text
    [button] = lxml_html.document_fromstring(page.content).xpath("//form//button")
    assert button.text_content() == own["page_not_me_action"].format(site=site.title())

    done = _press(http, page)
    assert direction(done.text) == (lang, rtl)
    assert Page(done.text).ids["not-me-done"] == own["page_not_me_done"].format(
        site=site.title())
