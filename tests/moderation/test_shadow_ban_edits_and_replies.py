"""A shadow-banned author's edits and the replies to their hidden comments give nothing
away: each edit shows them what an ordinary author's edit would (a published comment
edited into one the checks hold stays held, even once edited back), and nobody but its
author may reply to a hidden comment, as to any held one. On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import LiveServer, Reader
from tests.moderation.conftest import STAFF, new_site
from tests.moderation.test_shadow_ban_looks_published import own_read, shadow_ban

LINKS = "see https://a.example/ and https://b.example/"


def seen_by_author(http: httpx.Client, author: Reader, comment_id: int,
                   text: str) -> dict[str, Any]:
    """What an author is shown of an edit: the PATCH answer, then their own read."""
    edited = http.patch(f"/api/comments/{comment_id}", headers=author.headers(comment_id),
                        json={"text": text})
    assert edited.status_code == 200, edited.text
    read = own_read(http, author, comment_id)
    return {"answer": edited.json()["comment"]["state"], "read": read["comment"]["state"],
            "message": read["moderation_message"]}


def test_an_edit_shows_what_an_ordinary_authors_edit_would(
    mserver: LiveServer, http: httpx.Client,
) -> None:
    site = new_site(mserver, thresholds={"max_links": 1})
    eve, ben = Reader("Eve", http, site), Reader("Ben", http, site)
    shadow_ban(http, site, eve.post("/e", "A first and harmless comment.").json()["comment"]["id"])
    banned = eve.post("/e", "My view on the matter, plainly put.").json()["comment"]["id"]
    plain = ben.post("/e", "Ben's view on the matter, plainly put.").json()["comment"]["id"]

    steps = [
        "My view on the matter, put another way.",  # still published
        f"My view, with two sources: {LINKS}",  # held: too many links
        "My view on the matter, plainly put again.",  # held still, as anyone's would be
    ]
    for text in steps:
        mine = seen_by_author(http, eve, banned, text)
        theirs = seen_by_author(http, ben, plain, text.replace("My", "Ben's"))
        assert mine == theirs, text
    assert theirs["read"] == "pending"  # (what the steps are about)

    # Moderators see what the checks made of the last edit, and the state shown.
    staff = http.get(f"/api/moderation/comments/{banned}", headers=STAFF).json()
    assert staff["comment"]["moderation"]["facts"]["shadow"]["action"] == "hold"


def test_only_its_author_may_reply_to_a_hidden_comment(
    mserver: LiveServer, http: httpx.Client,
) -> None:
    site = new_site(mserver, thresholds={"min_length": 5})
    eve, ben, mal = (Reader(n, http, site) for n in ("Eve", "Ben", "Mal"))
    shadow_ban(http, site, eve.post("/r", "A first and harmless comment.").json()["comment"]["id"])
    shadow_ban(http, site, mal.post("/r", "Another harmless first comment.").json()["comment"]["id"])
    hidden = eve.post("/r", "My view on the matter, plainly put.").json()["comment"]["id"]
    # A comment held the ordinary way (too many links).
    held_site = new_site(mserver, thresholds={"max_links": 1, "min_length": 5})
    ann = Reader("Ann", http, held_site)
    held = ann.post("/r", f"Two sources: {LINKS}").json()["comment"]["id"]
    assert own_read(http, ann, held)["comment"]["state"] == "pending"

    def refusal(who: Reader, parent: int, site_id: str) -> tuple[int, str]:
        who.site = site_id
        response = who.post("/r", "x", parent_id=parent)  # too short: were it checked
        return response.status_code, response.json().get("code", "")

    ordinary = refusal(ben, held, held_site)
    assert ordinary[0] in (404, 422) and ordinary[1] != "comment_refused"
    # Another reader, and another shadow-banned author, are refused as for a held one,
    # before the text is looked at (a different refusal would tell it is hidden).
    assert refusal(ben, hidden, site) == ordinary
    assert refusal(mal, hidden, site) == ordinary
    mal.site = site
    tried = mal.post("/r", "A reply to a comment I should not see.", parent_id=hidden)
    assert (tried.status_code, tried.json()["code"]) == ordinary
    # Its author still may.
    assert eve.post("/r", "And a follow-up to my own point.", parent_id=hidden).status_code == 201
