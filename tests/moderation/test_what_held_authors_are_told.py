"""The author of a comment filed as spam, or held for a shadow ban, is told what an
ordinary hold on that site says, and sees it as held when editing it: neither the spam
filter's findings nor the ban show. On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import LiveServer, Reader
from tests.moderation.conftest import STAFF, new_site

HELD = "Your comment is awaiting moderation."


def told(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    assert body["comment"]["state"] == "pending"
    moderation: dict[str, Any] = body["moderation"]
    return moderation


def staff_codes(http: httpx.Client, comment_id: int) -> list[str]:
    response = http.get(f"/api/moderation/comments/{comment_id}", headers=STAFF)
    assert response.status_code == 200, response.text
    return [r["code"] for r in response.json()["comment"]["moderation"]["reasons"]]


def test_a_shadow_banned_author_is_told_what_any_held_author_is_told(
    mserver: LiveServer, http: httpx.Client,
) -> None:
    site = new_site(mserver, mode="all")
    eve, ben = Reader("Eve", http, site), Reader("Ben", http, site)
    first = eve.post("/s", "An opinion to get banned for, here it is.")
    assert told(first) == {"message": HELD, "reasons": ["pre_moderation"]}
    ban = http.post("/api/moderation/shadow-bans", headers=STAFF, json={
        "site": site, "kind": "voter", "comment_id": first.json()["comment"]["id"]})
    assert ban.status_code == 201, ban.text
    banned = eve.post("/s", "Another opinion of mine for everyone to read.")
    plain = ben.post("/s", "A plain reader comment on the story here.")
    assert told(banned) == told(plain) == {"message": HELD, "reasons": ["pre_moderation"]}


def test_a_spam_author_is_told_what_an_ordinary_hold_says(
    mserver: LiveServer, http: httpx.Client,
) -> None:
    spam_site = new_site(mserver, blocklist=["casino"], blocklist_action="spam")
    spam = Reader("Eve", http, spam_site).post("/s", "Best casino deals here, come and see")
    assert told(spam) == {"message": HELD, "reasons": ["held_for_review"]}
    assert "blocklist" in staff_codes(http, spam.json()["comment"]["id"])

    # Where an ordinary hold gives a reason, the spammer is given the same one.
    all_site = new_site(mserver, mode="all", blocklist=["casino"], blocklist_action="spam")
    spam = Reader("Eve", http, all_site).post("/s", "Best casino deals here, come and see")
    plain = Reader("Ben", http, all_site).post("/s", "A plain reader comment on the story.")
    assert told(spam) == told(plain) == {"message": HELD, "reasons": ["pre_moderation"]}

    links_site = new_site(mserver, blocklist=["casino"], blocklist_action="spam",
                          thresholds={"max_links": 1})
    links = "see https://a.example/ and https://b.example/"
    spam = Reader("Eve", http, links_site).post("/s", f"Best casino deals, {links}")
    plain = Reader("Ben", http, links_site).post("/s", f"Two sources for this, {links}")
    assert told(spam) == told(plain) == {"message": HELD, "reasons": ["too_many_links"]}
    assert "blocklist" in staff_codes(http, spam.json()["comment"]["id"])


def test_a_spam_author_editing_their_comment_sees_it_held(
    mserver: LiveServer, http: httpx.Client,
) -> None:
    site = new_site(mserver, blocklist=["casino"], blocklist_action="spam")
    eve = Reader("Eve", http, site)
    comment_id = eve.post("/s", "Visit my casino now please friends").json()["comment"]["id"]
    own = http.get(f"/api/comments/{comment_id}", headers=eve.headers(comment_id))
    assert own.json()["comment"]["state"] == "pending"
    edited = http.patch(f"/api/comments/{comment_id}", headers=eve.headers(comment_id),
                        json={"text": "Visit my casino now please, friends!"})
    assert edited.status_code == 200, edited.text
    comment = edited.json()["comment"]
    assert comment["state"] == "pending"
    assert comment["author"]["name"] == "Eve"
    assert comment["html"] == "<p>Visit my casino now please, friends!</p>"
    assert staff_codes(http, comment_id) == ["blocklist"]
