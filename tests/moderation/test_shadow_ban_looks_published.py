"""On a site that publishes at once, a shadow-banned author's comment looks published to
them: the 201 answer, their own reads of it, their edits, a reply to it. Nobody else
sees it, and moderators see it held with the real reasons. Where the site holds every
comment, it looks held, as everyone's does. On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import LiveServer, Reader
from tests.moderation.conftest import STAFF, new_site


def shadow_ban(http: httpx.Client, site: str, comment_id: int) -> None:
    ban = http.post("/api/moderation/shadow-bans", headers=STAFF, json={
        "site": site, "kind": "voter", "comment_id": comment_id})
    assert ban.status_code == 201, ban.text


def as_answered(response: httpx.Response) -> dict[str, Any]:
    """What a 201 tells its author, less what differs between any two comments."""
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return {"state": body["comment"]["state"], "moderation": body["moderation"],
            "keys": sorted(body), "comment_keys": sorted(body["comment"])}


def own_read(http: httpx.Client, author: Reader, comment_id: int) -> dict[str, Any]:
    response = http.get(f"/api/comments/{comment_id}", headers=author.headers(comment_id))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_shadow_banned_author_sees_their_comment_published(
    mserver: LiveServer, http: httpx.Client,
) -> None:
    site = new_site(mserver)  # mode "post": everyone else's comments publish at once
    eve, ben = Reader("Eve", http, site), Reader("Ben", http, site)
    first = eve.post("/s", "An opinion to get banned for, here it is.")
    shadow_ban(http, site, first.json()["comment"]["id"])

    banned = eve.post("/s", "Another opinion of mine for everyone to read.")
    plain = ben.post("/s", "A plain reader comment on the story here.")
    assert as_answered(banned) == as_answered(plain)
    assert as_answered(banned)["state"] == "approved"
    assert as_answered(banned)["moderation"] is None
    banned_id = banned.json()["comment"]["id"]

    # The author's own later reads, as the widget makes them (with the edit token).
    mine, theirs = own_read(http, eve, banned_id), own_read(
        http, ben, plain.json()["comment"]["id"])
    assert mine["comment"]["state"] == theirs["comment"]["state"] == "approved"
    assert mine["moderation_message"] is theirs["moderation_message"] is None
    assert mine["comment"]["html"] == "<p>Another opinion of mine for everyone to read.</p>"

    # An edit reads as an edit of a published comment.
    edited = http.patch(f"/api/comments/{banned_id}", headers=eve.headers(banned_id),
                        json={"text": "Another opinion of mine, for everyone to read."})
    assert edited.status_code == 200, edited.text
    assert edited.json()["comment"]["state"] == "approved"
    assert own_read(http, eve, banned_id)["comment"]["state"] == "approved"

    # Replying to it works as replying to a published comment does.
    reply = eve.post("/s", "And a follow-up to my own point above.", parent_id=banned_id)
    assert as_answered(reply) == as_answered(plain)
    reply_id = reply.json()["comment"]["id"]

    # Nobody else sees either.
    page = ben.page("/s")
    shown = {c["id"] for c in page["comments"]}
    assert banned_id not in shown and plain.json()["comment"]["id"] in shown
    assert page["thread"]["total"] == 2  # Eve's first comment and Ben's
    for hidden in (banned_id, reply_id):
        assert http.get(f"/api/comments/{hidden}", headers=ben.headers()).status_code == 404

    # Moderators see both held, with the real reasons kept for them.
    for hidden in (banned_id, reply_id):
        staff = http.get(f"/api/moderation/comments/{hidden}", headers=STAFF)
        assert staff.status_code == 200, staff.text
        comment = staff.json()["comment"]
        assert comment["state"] == "pending" and comment["shadow"] is True
        assert comment["moderation"]["facts"]["shadow"]["action"] == "publish"
    queue = http.get("/api/moderation/queue", headers=STAFF,
                     params={"site": site, "kind": "shadow"})
    assert queue.status_code == 200, queue.text
    assert {banned_id, reply_id} <= {c["id"] for c in queue.json()["comments"]}


def test_a_comment_an_ordinary_hold_would_hold_looks_held(
    mserver: LiveServer, http: httpx.Client,
) -> None:
    # Where the comment would be held anyway, the author is told so, as anyone is.
    site = new_site(mserver, thresholds={"max_links": 1})
    eve, ben = Reader("Eve", http, site), Reader("Ben", http, site)
    shadow_ban(http, site, eve.post("/s", "A first and harmless comment.").json()["comment"]["id"])
    links = "see https://a.example/ and https://b.example/"
    banned = eve.post("/s", f"Two sources for my view, {links}")
    plain = ben.post("/s", f"Two sources for this too, {links}")
    assert as_answered(banned) == as_answered(plain)
    assert as_answered(banned)["moderation"]["reasons"] == ["too_many_links"]
    banned_id = banned.json()["comment"]["id"]
    assert own_read(http, eve, banned_id)["comment"]["state"] == "pending"
