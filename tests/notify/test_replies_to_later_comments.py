"""A "new replies to my comments" subscription covers the reader's comments in the
thread, not only the one it was made with: those posted later from the same browser
(voter id) or signed-in account, with or without an email. A real server, a real SMTP
server, SQLite and PostgreSQL."""

from __future__ import annotations

import httpx

from tests.notify.conftest import NotifyServer, address, parts
from tests.notify.test_email_flow import deliver, subscribed


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

