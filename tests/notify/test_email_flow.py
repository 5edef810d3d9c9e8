"""Subscriptions by email, end to end: a real server, a real SMTP server, real workers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select

from rostra.core.models import CommentState
from rostra.store.notify_tables import notify_addresses, notify_outbox
from tests.notify.conftest import (
    NotifyServer,
    Page,
    address,
    confirm_address,
    link,
    parts,
    unsubscribe_header,
)

LATER = timedelta(hours=2)  # past the test server's one-hour batch window


def deliver(notify: NotifyServer, *, later: bool = True) -> int:
    """One worker pass, as if run now or after the batch window."""
    at = datetime.now(UTC) + (LATER if later else timedelta(0))
    return notify.run(notify.worker().run_once(now=at))


def subscribed(notify: NotifyServer, http: httpx.Client, site: str, thread: str,
               mail: str, kind: str = "thread", **extra: object) -> None:
    """Subscribe and confirm the subscription, as a reader does."""
    before = len(notify.mailbox.to(mail))
    notify.subscribe(http, site, thread, mail, kind, **extra)
    deliver(notify, later=False)
    new = notify.mailbox.to(mail)[before:]
    if not new:  # an address gets one confirmation an hour: this one comes an hour on
        deliver(notify)
        new = notify.mailbox.to(mail)[before:]
    if new:
        confirm_address(http, new[-1])


def test_it_sends_nothing_but_the_confirmation_until_the_address_is_confirmed(
    notify: NotifyServer, http: httpx.Client
) -> None:
    site, mail = notify.new_site(), address()
    ben = notify.reader(http, site, "Ben")
    notify.subscribe(http, site, "/story/", mail)
    deliver(notify, later=False)
    [confirmation] = notify.mailbox.to(mail)
    assert "confirm" in confirmation["Subject"].lower()
    assert confirmation["From"] == "News Comments <comments@news.example>"
    assert confirmation["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text, html = parts(confirmation)
    assert mail in text and mail in html

    assert ben.post("/story/", "Before confirming").status_code == 201
    deliver(notify)
    assert len(notify.mailbox.to(mail)) == 1  # nothing for an unconfirmed address

    # A link scanner that only GETs the link does not confirm.
    page = Page(http.get(link(confirmation, "/notify/confirm")).text)
    assert "confirmed" not in page.ids and page.forms
    confirm_address(http, confirmation)

    assert ben.post("/story/", "After confirming").status_code == 201
    deliver(notify)
    digest = notify.mailbox.to(mail)[-1]
    text, _html = parts(digest)
    assert "After confirming" in text and "Before confirming" not in text

    # Each subscription is confirmed on its own: a later one is asked for too (at once:
    # the reader answered the last confirmation), and names its thread only.
    notify.subscribe(http, site, "/other-story/", mail)
    deliver(notify, later=False)
    assert len(notify.mailbox.to(mail)) == 3
    again = notify.mailbox.to(mail)[-1]
    assert "confirm" in again["Subject"].lower()
    text, _html = parts(again)
    assert "/other-story" in text and "/story" not in text.replace("/other-story", "")


def test_it_batches_new_comments_into_one_email_per_thread(
    notify: NotifyServer, http: httpx.Client
) -> None:
    site, mail = notify.new_site(), address()
    subscribed(notify, http, site, "/batch/", mail)
    subscribed(notify, http, site, "/batch-2/", mail)
    before = len(notify.mailbox.to(mail))
    ben = notify.reader(http, site, "Ben")
    texts = ["The mayor spoke first", "Rain is expected tomorrow", "Prices rose again in May"]
    for text in texts:
        posted = ben.post("/batch/", text)
        assert posted.status_code == 201 and posted.json()["comment"]["state"] == "approved"
    assert ben.post("/batch-2/", "Elsewhere").status_code == 201

    deliver(notify, later=False)
    assert len(notify.mailbox.to(mail)) == before  # the batch window is still open
    deliver(notify)
    new = notify.mailbox.to(mail)[before:]
    assert len(new) == 2  # one per thread
    by_subject = {m["Subject"]: m for m in new}
    three = next(m for s, m in by_subject.items() if s.startswith("3 new comments"))
    text, html = parts(three)
    assert [t in text for t in texts] == [True] * 3
    page = Page(html)
    assert html.count('class="comment"') == 3 and page is not None
    assert "Elsewhere" not in text
    deliver(notify)
    assert len(notify.mailbox.to(mail)) == before + 2  # nothing twice


def test_it_writes_in_the_language_of_the_subscriber(
    notify: NotifyServer, http: httpx.Client
) -> None:
    site = notify.new_site()
    german, unknown, browser = address(), address(), address()
    notify.subscribe(http, site, "/sprache/", german, language="de-AT")
    notify.subscribe(http, site, "/sprache/", unknown, language="tlh")
    notify.subscribe(http, site, "/sprache/", browser,
                     headers={"Accept-Language": "xx, fr;q=0.8, en;q=0.5"})
    deliver(notify, later=False)
    assert notify.mailbox.to(german)[0]["Subject"].startswith("Bitte bestätigen")
    assert notify.mailbox.to(unknown)[0]["Subject"].startswith("Please confirm")
    assert notify.mailbox.to(browser)[0]["Subject"].startswith("Veuillez confirmer")
    assert notify.mailbox.to(german)[0]["Content-Language"] == "de"
    confirm_address(http, notify.mailbox.to(german)[0])

    assert notify.reader(http, site, "Ben").post("/sprache/", "Hallo").status_code == 201
    deliver(notify)
    digest = notify.mailbox.to(german)[-1]
    assert digest["Subject"] == "Neuer Kommentar zu „/sprache“"
    text, _html = parts(digest)
    assert "Ben schrieb:" in text


def test_it_tells_of_replies_to_my_comments_but_never_of_my_own(
    notify: NotifyServer, http: httpx.Client
) -> None:
    site = notify.new_site()
    ana_mail, ana_no_mail = address(), address()
    ana = notify.reader(http, site, "Ana")
    ben = notify.reader(http, site, "Ben")
    mine = ana.post("/replies/", "My comment", email=ana_mail.upper()).json()["comment"]["id"]
    # A comment posted without an address is followed through its edit token.
    anon = ana.post("/replies/", "Posted without email").json()["comment"]["id"]
    subscribed(notify, http, site, "/replies/", ana_mail, "replies")
    subscribed(notify, http, site, "/replies/", ana_no_mail, "replies", comment_id=anon,
               headers={"X-Rostra-Edit-Token": ana.tokens[anon]})
    before = len(notify.mailbox.to(ana_mail)), len(notify.mailbox.to(ana_no_mail))

    assert ben.post("/replies/", "A top-level comment").status_code == 201
    assert ben.post("/replies/", "Replying to you", parent_id=mine).status_code == 201
    assert ben.post("/replies/", "Replying to the other", parent_id=anon).status_code == 201
    assert ana.post("/replies/", "My own reply", parent_id=mine,
                    email=ana_mail).status_code == 201
    deliver(notify)

    [digest] = notify.mailbox.to(ana_mail)[before[0]:]
    text, _html = parts(digest)
    assert "Ben replied to you:" in text and "Replying to you" in text
    assert "A top-level comment" not in text and "My own reply" not in text
    assert "Replying to the other" not in text
    [other] = notify.mailbox.to(ana_no_mail)[before[1]:]
    assert "Replying to the other" in parts(other)[0]

    # Following a comment needs its edit token.
    refused = http.post("/api/subscriptions", headers={"Origin": "https://news.example"},
                        json={"site": site, "thread": "/replies/", "email": address(),
                              "kind": "replies", "comment_id": mine})
    assert refused.status_code == 403


def test_it_mails_about_a_held_comment_only_once_it_is_approved(
    notify: NotifyServer, http: httpx.Client
) -> None:
    site, mail = notify.new_site(), address()
    subscribed(notify, http, site, "/held/", mail)
    before = len(notify.mailbox.to(mail))
    notify.holds.sites.add(site)
    posted = notify.reader(http, site, "Ben").post("/held/", "Wait for it")
    assert posted.json()["comment"]["state"] == "pending"
    deliver(notify)
    assert len(notify.mailbox.to(mail)) == before

    notify.live.services.comments.set_state(posted.json()["comment"]["id"],
                                            CommentState.APPROVED, actor="mod")
    deliver(notify)
    [digest] = notify.mailbox.to(mail)[before:]
    assert "Wait for it" in parts(digest)[0]

    # Approved again after a round trip through the queue: no second email.
    comment_id = posted.json()["comment"]["id"]
    notify.live.services.comments.set_state(comment_id, CommentState.PENDING, actor="mod")
    notify.live.services.comments.set_state(comment_id, CommentState.APPROVED, actor="mod")
    deliver(notify)
    assert len(notify.mailbox.to(mail)) == before + 1


def test_it_unsubscribes_with_one_click_from_the_list_unsubscribe_header(
    notify: NotifyServer, http: httpx.Client
) -> None:
    site, mail = notify.new_site(), address()
    subscribed(notify, http, site, "/one-click/", mail)
    subscribed(notify, http, site, "/kept/", mail)
    ben = notify.reader(http, site, "Ben")
    ben.post("/one-click/", "First")
    deliver(notify)
    digest = notify.mailbox.to(mail)[-1]
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = unsubscribe_header(digest)

    # A GET (a mail client prefetching) leads to the page, and ends nothing.
    shown = http.get(url, follow_redirects=True)
    assert shown.status_code == 200 and len(Page(shown.text).items) == 2
    # RFC 8058: POST with the body List-Unsubscribe=One-Click.
    done = http.post(url, content=b"List-Unsubscribe=One-Click",
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert done.status_code == 200
    count = len(notify.mailbox.to(mail))
    ben.post("/one-click/", "Second")
    ben.post("/kept/", "Still told")
    deliver(notify)
    [kept] = notify.mailbox.to(mail)[count:]
    assert "Still told" in parts(kept)[0]
    bad = http.post(url[:-3] + "xyz", content=b"List-Unsubscribe=One-Click")
    assert bad.status_code == 400


def test_it_lists_and_ends_subscriptions_on_the_page_linked_from_each_email(
    notify: NotifyServer, http: httpx.Client
) -> None:
    site, mail = notify.new_site(), address()
    subscribed(notify, http, site, "/manage-a/", mail)
    subscribed(notify, http, site, "/manage-b/", mail, "replies")
    notify.reader(http, site, "Ben").post("/manage-a/", "Hello")
    deliver(notify)
    manage_url = link(notify.mailbox.to(mail)[-1], "/notify/manage")

    page = Page(http.get(manage_url).text)
    assert len(page.items) == 2
    first = next(f for f in page.forms if f.fields.get("end") == page.items[0])
    after = Page(http.post(first.action, data=first.fields).text)
    assert after.items == page.items[1:] and "message" in after.ids
    end_all = next(f for f in after.forms if f.fields.get("end") == "all")
    emptied = Page(http.post(end_all.action, data=end_all.fields).text)
    assert emptied.items == [] and "none" in emptied.ids
    assert http.get("/notify/manage?token=forged").status_code == 400


def test_it_stops_mailing_an_address_after_a_permanent_smtp_error(
    notify: NotifyServer, http: httpx.Client
) -> None:
    site = notify.new_site()
    bouncing, busy = address(), address()
    notify.mailbox.refuse[bouncing] = (550, "5.1.1 No such user")
    notify.mailbox.refuse[busy] = (451, "4.3.0 Try again later")
    notify.subscribe(http, site, "/bounce/", bouncing)
    notify.subscribe(http, site, "/bounce/", busy)
    deliver(notify, later=False)
    db = notify.live.services.db
    with db.read() as conn:
        rows = {r.email: r for r in conn.execute(select(notify_addresses).where(
            notify_addresses.c.email.in_([bouncing, busy]))).all()}
        queued = {r.recipient: r for r in conn.execute(select(notify_outbox).where(
            notify_outbox.c.recipient.in_([bouncing, busy]))).all()}
    assert rows[bouncing].bounced_at is not None and "550" in rows[bouncing].bounce_reason
    assert queued[bouncing].failed_at is not None
    assert rows[busy].bounced_at is None  # a 4xx is retried, not a bounce
    assert queued[busy].sent_at is None and queued[busy].failed_at is None
    assert queued[busy].attempts == 1 and queued[busy].claimed_at is None

    del notify.mailbox.refuse[busy]
    deliver(notify)  # the retry is due by then
    assert len(notify.mailbox.to(busy)) == 1
    del notify.mailbox.refuse[bouncing]
    # Subscribing again asks the bounced address to confirm once more; nothing else.
    notify.subscribe(http, site, "/bounce-again/", bouncing)
    deliver(notify)
    [again] = notify.mailbox.to(bouncing)
    assert "confirm" in str(again["Subject"]).lower()


def test_it_refuses_subscriptions_from_foreign_origins_and_bad_input(
    notify: NotifyServer, http: httpx.Client
) -> None:
    site = notify.new_site()
    body = {"site": site, "thread": "/x/", "email": address()}
    assert http.post("/api/subscriptions", json=body,
                     headers={"Origin": "https://evil.example"}).status_code == 403
    bad = http.post("/api/subscriptions", json={**body, "email": "not-an-address"},
                    headers={"Origin": "https://news.example"})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_input"
    kind = http.post("/api/subscriptions", json={**body, "kind": "everything"},
                     headers={"Origin": "https://news.example"})
    assert kind.status_code == 422
