"""A reader's context note and a rating of one survive what PostgreSQL may do to any
transaction (a deadlock's victim — two ratings rescoring a site's notes at once — or a
connection lost on a statement or at COMMIT). Both ran outside ``attempts`` and
answered 500. A rating runs again even after a lost COMMIT (given twice, it counts
once); a proposal does not (a second try could add the note twice)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import Select, func, select

from rostra.store.notes_tables import comment_notes, note_ratings
from tests.conftest import CONNECTION_LOST, DEADLOCK, LiveServer, Reader, first_try_fails
from tests.moderation.conftest import STAFF, new_site
from tests.moderation.test_context_notes import Member

pytestmark = pytest.mark.postgres

FAILURES = [(DEADLOCK, False), (CONNECTION_LOST, False), (CONNECTION_LOST, True)]
IDS = ["deadlock", "lost on the statement", "lost at commit"]


def _count(server: LiveServer, query: Select[Any]) -> int:
    with server.services.db.read() as conn:
        return int(conn.scalar(query) or 0)


def _comment(http: httpx.Client, site: str) -> int:
    posted = Reader("Ana", http, site).post("/noted", "The bridge opened in 1990.")
    comment_id: int = posted.json()["comment"]["id"]
    return comment_id


@pytest.mark.parametrize(("failure", "at_commit"), FAILURES, ids=IDS)
def test_a_rating_whose_transaction_failed_runs_again_and_counts_once(
    mod_postgres: LiveServer, failure: str, at_commit: bool,
) -> None:
    server = mod_postgres
    site = new_site(server)
    secret = server.services.accounts.make_secret(site)
    with server.client() as http:
        comment_id = _comment(http, site)
        ben = Member(http, secret, "ben", "198.51.100.21")
        cid = Member(http, secret, "cid", "198.51.100.22")
        proposed = ben.propose(comment_id, "It opened in 1992 (city archive).",
                               "https://archive.example/bridge")
        assert proposed.status_code == 201, proposed.text
        note_id = proposed.json()["note"]["id"]
        with first_try_fails(server, "INSERT", "true", failure, table="note_ratings",
                             at_commit=at_commit) as tried:
            rated = cid.rate(note_id, True)
            assert tried() == 2
    assert rated.json()["note"]["id"] == note_id
    ratings = select(func.count()).select_from(note_ratings).where(
        note_ratings.c.note_id == note_id)
    assert _count(server, ratings) == 1


@pytest.mark.parametrize(("failure", "at_commit"), FAILURES[:2], ids=IDS[:2])
def test_a_proposed_note_whose_transaction_failed_runs_again(
    mod_postgres: LiveServer, failure: str, at_commit: bool,
) -> None:
    server = mod_postgres
    site = new_site(server)
    secret = server.services.accounts.make_secret(site)
    with server.client() as http:
        comment_id = _comment(http, site)
        ben = Member(http, secret, "ben", "198.51.100.23")
        with first_try_fails(server, "INSERT", "true", failure, table="comment_notes",
                             at_commit=at_commit) as tried:
            proposed = ben.propose(comment_id, "It opened in 1992 (city archive).",
                                   "https://archive.example/bridge")
            assert tried() == 2
    assert proposed.status_code == 201, proposed.text
    notes = select(func.count()).select_from(comment_notes).where(
        comment_notes.c.comment_id == comment_id)
    assert _count(server, notes) == 1


@pytest.mark.parametrize(("failure", "at_commit"), FAILURES[:2], ids=IDS[:2])
def test_a_staff_note_and_its_decisions_run_again(
    mod_postgres: LiveServer, failure: str, at_commit: bool,
) -> None:
    """A note staff add is published at once; publishing, withdrawing and reopening one
    decide it. Each ran outside ``attempts``; neither runs again after a lost COMMIT
    (a note could be added, a decision audited, twice)."""
    server = mod_postgres
    site = new_site(server)
    with server.client() as http:
        comment_id = _comment(http, site)
        with first_try_fails(server, "INSERT", "true", failure, table="comment_notes",
                             at_commit=at_commit) as tried:
            added = http.post("/api/moderation/notes", headers=STAFF, json={
                "comment_id": comment_id, "text": "It opened in 1992 (city archive).",
                "sources": ["https://archive.example/bridge"]})
            assert tried() == 2
        assert added.status_code == 201, added.text
        note_id = added.json()["note"]["id"]
        for decision, shown in (("withdraw", False), ("publish", True)):
            with first_try_fails(server, "UPDATE", "NEW.status IS DISTINCT FROM OLD.status",
                                 failure, table="comment_notes") as tried:
                decided = http.post(f"/api/moderation/notes/{note_id}/{decision}",
                                    headers=STAFF)
                assert tried() == 2
            assert decided.status_code == 200, decided.text
            assert decided.json()["note"]["shown"] is shown
        audit = http.get("/api/moderation/audit", params={"site": site},
                         headers=STAFF).json()
    notes = select(func.count()).select_from(comment_notes).where(
        comment_notes.c.comment_id == comment_id)
    assert _count(server, notes) == 1
    assert [e["action"] for e in audit["entries"]][:3] == [
        "published_note", "withdrawn_note", "add_note"]
