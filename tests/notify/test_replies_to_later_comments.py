"""A "new replies to my comments" subscription covers the reader's comments in the
thread, not only the one it was made with: those posted later from the same browser
(voter id) or signed-in account, with or without an email. A real server, a real SMTP
server, SQLite and PostgreSQL."""

from __future__ import annotations

import httpx

from tests.notify.conftest import NotifyServer, address, parts
from tests.notify.test_email_flow import confirm_address, deliver, subscribed


def test_it_tells_of_replies_to_a_comment_posted_after_subscribing(
    notify: NotifyServer, http: httpx.Client
) -> None:
    site, mail = notify.new_site(), address()
    ana, ben, cleo = (notify.reader(http, site, n) for n in ("Ana", "Ben", "Cleo"))
    first = ana.post("/later/", "My first comment").json()["comment"]["id"]  # no email
    # As the widget does: her newest comment, its edit token, and her browser's voter id.
    subscribed(notify, http, site, "/later/", mail, "replies", comment_id=first,
               headers=ana.headers(first))
    top = ben.post("/later/", "Ben starts another discussion").json()["comment"]["id"]
    second = ana.post("/later/", "Ana answers Ben", parent_id=top).json()["comment"]["id"]
    count = len(notify.mailbox.to(mail))

    assert cleo.post("/later/", "Cleo replies to Ana", parent_id=second).status_code == 201
    assert cleo.post("/later/", "Cleo replies to Ben", parent_id=top).status_code == 201
    deliver(notify)
    [digest] = notify.mailbox.to(mail)[count:]
    text = parts(digest)[0]
    assert "Cleo replied to you" in text and "Cleo replies to Ana" in text
    assert "Cleo replies to Ben" not in text



def test_a_browser_that_subscribes_first_hears_of_replies_to_what_it_posts_next(
    notify: NotifyServer, http: httpx.Client
) -> None:
    """A browser that had never posted or voted had no voter id to subscribe with: its
    comments posted after subscribing (without an email) were never tied to the
    subscription. The answer now gives it a voter id, as a post or a vote does."""
    site, mail = notify.new_site(), address()
    ana, ben = (notify.reader(http, site, n) for n in ("Ana", "Ben"))
    assert ana.voter is None
    before = len(notify.mailbox.to(mail))
    answer = notify.subscribe(http, site, "/first/", mail, "replies", headers=ana.headers())
    assert set(answer.json()) == {"status", "voter"}
    ana.voter = answer.json()["voter"]  # as the widget keeps it
    deliver(notify, later=False)
    [confirmation] = notify.mailbox.to(mail)[before:]
    confirm_address(http, confirmation)
    mine = ana.post("/first/", "My first comment, no email given").json()["comment"]["id"]
    count = len(notify.mailbox.to(mail))
    assert ben.post("/first/", "Ben replies to Ana", parent_id=mine).status_code == 201
    deliver(notify)
    [digest] = notify.mailbox.to(mail)[count:]
    assert "Ben replies to Ana" in parts(digest)[0]


def test_a_browser_with_a_voter_id_keeps_it(notify: NotifyServer, http: httpx.Client) -> None:
    site = notify.new_site()
    ana = notify.reader(http, site, "Ana")
    assert ana.post("/kept/", "A comment first").status_code == 201
    assert ana.voter is not None
    answer = notify.subscribe(http, site, "/kept/", address(), "replies", headers=ana.headers())
    assert answer.json() == {"status": "accepted"}
