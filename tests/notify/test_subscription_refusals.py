"""Subscriptions refuse a thread that is no page and a comment of another thread, and
then store nothing and mail nobody (SQLite and PostgreSQL)."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from rostra.store.notify_tables import notify_addresses, notify_outbox
from tests.conftest import ORIGIN
from tests.notify.conftest import NotifyServer, address


def _nothing_for(notify: NotifyServer, mail: str) -> bool:
    with notify.live.services.db.read() as conn:
        return (conn.execute(select(notify_addresses.c.id)
                             .where(notify_addresses.c.email == mail)).first() is None
                and conn.execute(select(notify_outbox.c.id)
                                 .where(notify_outbox.c.recipient == mail)).first() is None)


def test_it_refuses_a_thread_that_is_no_page(notify: NotifyServer, http: httpx.Client) -> None:
    site, mail = notify.new_site(), address()
    refused = http.post("/api/subscriptions", headers={"Origin": ORIGIN}, json={
        "site": site, "thread": "javascript://news.example/story", "email": mail})
    assert refused.status_code == 422
    assert refused.json()["detail"] == "thread: only http and https URLs can name a thread"
    assert _nothing_for(notify, mail)


def test_it_refuses_to_follow_a_comment_of_another_thread(
    notify: NotifyServer, http: httpx.Client
) -> None:
    site, mail = notify.new_site(), address()
    ana = notify.reader(http, site)
    posted = ana.post("/elsewhere/", "A comment on another story")
    comment_id = posted.json()["comment"]["id"]
    refused = http.post("/api/subscriptions", headers=ana.headers(comment_id), json={
        "site": site, "thread": "/story/", "email": mail, "kind": "replies",
        "comment_id": comment_id})
    assert refused.status_code == 404
    assert refused.json()["detail"] == "comment_id: no such comment in this thread"
    assert _nothing_for(notify, mail)
