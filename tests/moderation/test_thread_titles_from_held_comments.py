"""A thread's title and address come from published comments only: a held, spam or
shadow-banned comment's wait with it until a moderator approves it. On SQLite and
PostgreSQL."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import httpx

from tests.conftest import LiveServer, Reader
from tests.moderation.conftest import STAFF, new_site

ATOM = "{http://www.w3.org/2005/Atom}"
SPAM_TITLE = "BUY CHEAP PILLS AT evil.example"


def thread_of(reader: Reader, key: str) -> dict[str, Any]:
    thread: dict[str, Any] = reader.page(key)["thread"]
    return thread


def decide(http: httpx.Client, comment_id: int, action: str) -> None:
    response = http.post(f"/api/moderation/comments/{comment_id}/{action}", headers=STAFF,
                         json={})
    assert response.status_code == 200, response.text


def test_a_spam_comment_never_titles_its_thread(mserver: LiveServer,
                                                http: httpx.Client) -> None:
    site = new_site(mserver, blocklist=["casino"], blocklist_action="spam")
    eve, ben = Reader("Eve", http, site), Reader("Ben", http, site)
    spam = eve.post("/t1", "best casino deals here", title=SPAM_TITLE,
                    url="https://news.example/pills/")
    assert spam.status_code == 201, spam.text
    # Eve's comment made the thread, with no title or address of hers.
    assert thread_of(ben, "/t1") | {"id": 0} == {
        "id": 0, "key": "/t1", "url": None, "title": None, "total": 0, "top_level": 0,
        "closed": False}
    posted = ben.post("/t1", "a normal reader comment", title="Rents and the council",
                      url="https://news.example/t1")
    assert posted.json()["comment"]["state"] == "approved"
    thread = thread_of(ben, "/t1")
    assert (thread["title"], thread["url"]) == ("Rents and the council",
                                                "https://news.example/t1")
    feed = http.get(f"/feeds/{site}.atom")
    assert feed.status_code == 200
    titles = [e.findtext(f"{ATOM}title") for e in
              ET.fromstring(feed.content).findall(f"{ATOM}entry")]
    assert titles == ["Ben: Rents and the council"]
    # Approved by a moderator after all, the spam finds the thread titled: it stays so.
    decide(http, spam.json()["comment"]["id"], "approve")
    assert thread_of(ben, "/t1")["title"] == "Rents and the council"


def test_a_held_comment_titles_its_thread_once_approved(mserver: LiveServer,
                                                        http: httpx.Client) -> None:
    site = new_site(mserver, mode="all")
    ana, ben = Reader("Ana", http, site), Reader("Ben", http, site)
    rejected = ana.post("/t2", "An opinion that will not pass", title="Rejected title",
                        url="https://news.example/rejected/").json()["comment"]["id"]
    decide(http, rejected, "reject")
    assert (thread_of(ben, "/t2")["title"], thread_of(ben, "/t2")["url"]) == (None, None)

    held = ana.post("/t2", "A fair point about rents", title="Rents and the council",
                    url="https://news.example/t2/").json()
    assert held["comment"]["state"] == "pending"
    # An edit while it waits keeps what it brought.
    edited = http.patch(f"/api/comments/{held['comment']['id']}",
                        json={"text": "A fair point about rents, edited"},
                        headers=ana.headers(held["comment"]["id"]))
    assert edited.status_code == 200, edited.text
    assert thread_of(ben, "/t2")["title"] is None
    decide(http, held["comment"]["id"], "approve")
    thread = thread_of(ben, "/t2")
    assert (thread["title"], thread["url"], thread["total"]) == (
        "Rents and the council", "https://news.example/t2", 1)

    later = ana.post("/t2", "Another point", title="Another title").json()["comment"]["id"]
    decide(http, later, "approve")
    assert thread_of(ben, "/t2")["title"] == "Rents and the council"
