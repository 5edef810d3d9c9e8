"""An edit is moderated again like a new comment; a reply needs a parent that readers can
see, within the site's depth, in a thread that is open. On SQLite and PostgreSQL."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from rostra.store.tables import threads
from tests.conftest import ORIGIN, LiveServer, Reader, like_a_batch_replying_to
from tests.moderation.conftest import STAFF, new_site


def edit(reader: Reader, comment_id: int, text: str) -> httpx.Response:
    return reader.http.patch(f"/api/comments/{comment_id}", json={"text": text},
                             headers=reader.headers(comment_id))


def public_ids(reader: Reader, thread: str) -> list[int]:
    return [c["id"] for c in reader.page(thread, limit="all")["comments"]]


def staff_view(http: httpx.Client, comment_id: int) -> dict[str, Any]:
    response = http.get(f"/api/moderation/comments/{comment_id}", headers=STAFF)
    assert response.status_code == 200, response.text
    comment: dict[str, Any] = response.json()["comment"]
    return comment


def test_it_holds_an_edit_that_a_new_comment_would_have_held(
    mserver: LiveServer, http: httpx.Client
) -> None:
    site = new_site(mserver, blocklist=["jackpot"], blocklist_action="hold")
    ana = Reader("Ana", http, site)
    comment_id = ana.post("/edits/", "A fair point about the budget.").json()["comment"]["id"]
    assert public_ids(ana, "/edits/") == [comment_id]
    changed = edit(ana, comment_id, "Win the jackpot at my site!")
    assert changed.status_code == 200, changed.text
    assert public_ids(Reader("Ben", http, site), "/edits/") == []
    held = staff_view(http, comment_id)
    assert held["state"] == "pending"
    assert [r["code"] for r in held["moderation"]["reasons"]] == ["blocklist"]


@pytest.mark.postgres
def test_an_edit_held_again_and_a_batch_replying_nearby_do_not_deadlock(
    mod_postgres: LiveServer,
) -> None:
    # Holding an edited reply changes its parent's reply count: the edit takes the
    # parent before the reply, as a posting batch replying to both does.
    site = new_site(mod_postgres, blocklist=["jackpot"], blocklist_action="hold")
    with mod_postgres.client() as http:
        ana = Reader("Ana", http, site)
        parent = ana.post("/edits/", "The parent, about the budget.").json()["comment"]["id"]
        reply = ana.post("/edits/", "A fair reply about the budget.",
                         parent_id=parent).json()["comment"]["id"]
        changed = like_a_batch_replying_to(
            mod_postgres, parent, reply, lambda: edit(ana, reply, "Win the jackpot!"))
        assert changed.status_code == 200, changed.text
        assert public_ids(Reader("Ben", http, site), "/edits/") == [parent]


def test_it_refuses_an_edit_that_a_new_comment_would_have_refused(
    mserver: LiveServer, http: httpx.Client
) -> None:
    site = new_site(mserver, blocklist=["jackpot"], blocklist_action="refuse")
    ana = Reader("Ana", http, site)
    comment_id = ana.post("/edits/", "A fair point about the budget.").json()["comment"]["id"]
    refused = edit(ana, comment_id, "Win the jackpot at my site!")
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "comment_refused"
    [shown] = Reader("Ben", http, site).page("/edits/")["comments"]
    assert shown["html"] == "<p>A fair point about the budget.</p>"
    assert staff_view(http, comment_id)["state"] == "approved"


def test_it_refuses_replies_to_comments_readers_cannot_see(
    mserver: LiveServer, http: httpx.Client
) -> None:
    held_site = new_site(mserver, mode="all")
    ana = Reader("Ana", http, held_site)
    pending = ana.post("/replies/", "Waiting for a moderator").json()
    assert pending["comment"]["state"] == "pending"
    reply = Reader("Ben", http, held_site).post("/replies/", "Replying early",
                                               parent_id=pending["comment"]["id"])
    assert reply.status_code == 422 and reply.json()["code"] == "invalid_input", reply.text
    assert "cannot be replied to" in reply.json()["detail"]

    site = new_site(mserver)
    ana = Reader("Ana", http, site)
    gone = ana.post("/replies/", "Soon deleted").json()["comment"]["id"]
    assert http.delete(f"/api/comments/{gone}", headers=ana.headers(gone)).status_code == 200
    reply = Reader("Ben", http, site).post("/replies/", "Too late", parent_id=gone)
    assert reply.status_code == 422 and "cannot be replied to" in reply.json()["detail"]
    # A tombstone kept for its replies cannot be answered either.
    parent = ana.post("/replies/", "Will be a tombstone").json()["comment"]["id"]
    assert Reader("Cy", http, site).post("/replies/", "A reply", parent_id=parent
                                         ).status_code == 201
    assert http.delete(f"/api/comments/{parent}", headers=ana.headers(parent)).status_code == 200
    reply = Reader("Di", http, site).post("/replies/", "To the tombstone", parent_id=parent)
    assert reply.status_code == 422 and "cannot be replied to" in reply.json()["detail"]
    # A parent in another thread is no parent here.
    elsewhere = ana.post("/other-thread/", "Elsewhere").json()["comment"]["id"]
    stray = Reader("Ed", http, site).post("/replies/", "Wrong thread", parent_id=elsewhere)
    assert stray.status_code == 404 and stray.json()["code"] == "parent_not_found"


def test_it_refuses_replies_past_the_maximum_depth(mserver: LiveServer,
                                                   http: httpx.Client) -> None:
    site = "d" + secrets.token_hex(5)
    mserver.add_site(site, [ORIGIN], max_depth=2)
    parent = None
    made = []
    for level in range(3):  # depths 0, 1 and 2
        response = Reader(f"R{level}", http, site).post("/deep/", f"level {level}",
                                                        parent_id=parent)
        assert response.status_code == 201, (level, response.text)
        parent = response.json()["comment"]["id"]
        made.append(parent)
    deeper = Reader("R3", http, site).post("/deep/", "level 3", parent_id=parent)
    assert deeper.status_code == 422 and "nested too deeply" in deeper.json()["detail"]
    sibling = Reader("R4", http, site).post("/deep/", "level 2 again", parent_id=made[1])
    assert sibling.status_code == 201


def test_it_refuses_comments_and_replies_in_a_closed_thread(
    mserver: LiveServer, http: httpx.Client
) -> None:
    site = new_site(mserver)
    ana = Reader("Ana", http, site)
    first = ana.post("/closing/", "Before the close").json()["comment"]["id"]
    with mserver.services.db.write() as conn:
        conn.execute(update(threads).where(threads.c.site_id == site,
                                           threads.c.key == "/closing").values(closed=True))
    for parent in (first, None):
        refused = Reader("Ben", http, site).post("/closing/", "After the close",
                                                 parent_id=parent)
        assert refused.status_code == 403, refused.text
        assert refused.json()["code"] == "thread_closed"
    assert public_ids(ana, "/closing/") == [first]
