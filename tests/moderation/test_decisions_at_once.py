"""Two decisions on one comment at once (two moderators on one queue page; readers'
flags while a moderator acts) each see the state the other left (PostgreSQL, where
transactions run side by side). A decision read the comment unlocked: two rejections at
once each took the comment off the thread's count, which then stayed one short for
good; two readers flagging at once each counted their flag without the other's, and
the comment stayed up with as many flags as the site's hold line."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from rostra.store import queries
from tests.admin.conftest import _member
from tests.conftest import LiveServer, Reader, side_by_side
from tests.moderation.conftest import STAFF, new_site
from tests.moderation.test_context_notes import ferry, shown_notes
from tests.moderation.test_dsa import notice, posted, statements

pytestmark = pytest.mark.postgres


def _thread_of(server: LiveServer, comment_id: int) -> Any:
    with server.services.db.read() as conn:
        row = queries.comment_row(conn, comment_id)
        assert row is not None
        return queries.thread_by_id(conn, row.thread_id)


def test_two_rejections_at_once_take_the_comment_off_the_count_once(
    mod_postgres: LiveServer,
) -> None:
    server = mod_postgres
    site = new_site(server)
    with server.client() as http, server.client() as other:
        ana = Reader("Ana", http, site)
        posted(ana, "The first comment of the thread, to keep it company.")
        comment_id = posted(ana, "A comment two moderators reject at the same moment.")
        thread = _thread_of(server, comment_id)
        assert thread.comment_count == 2
        # Both decisions wait on the thread's row (the first, having changed the
        # comment) or the comment's (the second), then run one after the other.
        answers = side_by_side(
            server, "SELECT id FROM threads WHERE id = :id FOR UPDATE", {"id": thread.id},
            [lambda c=c: c.post(f"/api/moderation/comments/{comment_id}/reject",
                                headers=STAFF, json={})
             for c in (http, other)])
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    assert _thread_of(server, comment_id).comment_count == 1


def test_two_flags_at_once_reach_the_hold_line_together(mod_postgres: LiveServer) -> None:
    server = mod_postgres
    site = new_site(server, thresholds={"flags_to_hold": 2})
    with server.client() as http, server.client() as other:
        ana = Reader("Ana", http, site)
        comment_id = posted(ana, "An opinion that two readers find offensive at once.")
        flaggers = [Reader("Ben", http, site), Reader("Cy", other, site)]
        for reader in flaggers:
            reader.voter = None

        def flag(reader: Reader) -> httpx.Response:
            return reader.http.post(f"/api/comments/{comment_id}/flag",
                                    json={"reason": "abuse"}, headers=reader.headers())

        # Both flags wait on the comment's row, held here as a moderator's edit would.
        answers = side_by_side(
            server, "SELECT id FROM comments WHERE id = :id FOR UPDATE", {"id": comment_id},
            [lambda r=r: flag(r) for r in flaggers])
    assert [a.status_code for a in answers] == [202, 202], [a.text for a in answers]
    with server.services.db.read() as conn:
        row = queries.comment_row(conn, comment_id)
    assert row is not None and row.state == "pending"


def _notice_of(server: LiveServer, site: str, comment_id: int, http: httpx.Client) -> int:
    ben = Reader("Ben", http, site)
    filed = notice(ben, comment_id, ground="illegal_or_harmful_speech")
    assert filed.status_code == 201, filed.text
    return int(filed.json()["notice"]["id"])


def test_a_notice_decided_twice_at_once_is_decided_by_the_first(
    mod_postgres: LiveServer,
) -> None:
    """The second moderator's removal committed before it found the notice decided:
    a comment removed under a notice decided "no action"."""
    server = mod_postgres
    site = new_site(server)
    with server.client() as http:
        ana = Reader("Ana", http, site)
        comment_id = posted(ana, "Those people should all be driven out of the town.")
        notice_id = _notice_of(server, site, comment_id, http)

        def decide(outcome: str) -> httpx.Response:
            return http.post(f"/api/moderation/notices/{notice_id}/decision",
                             headers=STAFF, json={"outcome": outcome})

        answers = side_by_side(
            server, "SELECT id FROM dsa_notices WHERE id = :id FOR UPDATE", {"id": notice_id},
            [lambda: decide("no_action"), lambda: decide("illegal")], in_order=True)
        assert [a.status_code for a in answers] == [200, 409], [a.text for a in answers]
        assert answers[0].json()["notice"]["outcome"] == "no_action"
        assert comment_id in [c["id"] for c in ana.page("/war-story")["comments"]]


def test_an_appeal_decided_twice_at_once_is_decided_by_the_first(
    mod_postgres: LiveServer,
) -> None:
    server = mod_postgres
    site = new_site(server)
    first = _member(server, f"mod-{secrets.token_hex(4)}", roles={site: "moderator"})
    try:
        with server.client() as http:
            ana = Reader("Ana", http, site)
            comment_id = posted(ana, "The mayor is a crook and everyone knows it.")
            rejected = first.http.post(f"/api/moderation/comments/{comment_id}/reject",
                                       headers={"X-CSRF-Token": first.csrf}, json={})
            assert rejected.status_code == 200, rejected.text
            [statement] = statements(ana, comment_id)
            appealed = ana.http.post(
                f"/api/comments/{comment_id}/appeal", headers=ana.headers(comment_id),
                json={"statement_id": statement["id"], "text": "The minutes say so."})
            assert appealed.status_code == 201, appealed.text

            def decide(outcome: str) -> httpx.Response:
                return http.post(
                    f"/api/moderation/statements/{statement['id']}/appeal-decision",
                    headers=STAFF, json={"outcome": outcome})

            answers = side_by_side(
                server, "SELECT id FROM dsa_statements WHERE id = :id FOR UPDATE",
                {"id": statement["id"]},
                [lambda: decide("upheld"), lambda: decide("reversed")], in_order=True)
            assert [a.status_code for a in answers] == [200, 409], [a.text for a in answers]
            assert comment_id not in [c["id"] for c in ana.page("/war-story")["comments"]]
    finally:
        first.http.close()


def test_a_note_withdrawn_while_a_rating_rescores_it_stays_withdrawn(
    mod_postgres: LiveServer,
) -> None:
    """A rating refits the site's proposed notes and shows those that reach the line;
    it read the note as proposed, a moderator withdrew it meanwhile, and the rating then
    showed it: a withdrawn note on the page."""
    server = mod_postgres
    site = new_site(server)
    with server.client() as http:
        town = ferry(server, http, site)
        ana, ids = town.ana, town.ids
        bridging = town.propose(ids[4], "The timetable changed on 1 May; both are linked.")
        # Rated helpful by one side, then the other, in turn: the fifth rating shows it.
        in_turn = [m for pair in zip(town.left, town.right, strict=True) for m in pair]
        *first, last = in_turn[:5]
        for member in first:
            member.rate(bridging, True)
        assert ids[4] not in shown_notes(ana, "/ferry")

        def withdraw(conn: Any) -> None:
            conn.execute(text("UPDATE comment_notes SET status = 'withdrawn', shown = false "
                              "WHERE id = :id"), {"id": bridging})

        # The moderator's withdrawal holds the note while the last rating is counted.
        [rated] = side_by_side(
            server, "SELECT id FROM comment_notes WHERE id = :id FOR NO KEY UPDATE",
            {"id": bridging}, [lambda: last.rate(bridging, True)], withdraw)
        assert rated.status_code == 200, rated.text
        assert ids[4] not in shown_notes(ana, "/ferry")
