"""A reader's DSA notice and an author's appeal survive a deadlock or a connection lost
on a statement (a PostgreSQL restart or failover): both ran outside ``attempts`` and
answered 500; each now runs again and is stored once. Neither runs again after a lost
COMMIT (a notice could be filed twice; an appeal would find itself made already)."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import func, select

from rostra.store.dsa_tables import dsa_notices
from tests.admin.conftest import _member
from tests.conftest import CONNECTION_LOST, DEADLOCK, LiveServer, Reader, first_try_fails
from tests.moderation.conftest import STAFF, new_site
from tests.moderation.test_dsa import notice, posted, statements

pytestmark = pytest.mark.postgres

FAILURES = [DEADLOCK, CONNECTION_LOST]
IDS = ["deadlock", "lost on the statement"]


@pytest.mark.parametrize("failure", FAILURES, ids=IDS)
def test_a_notice_whose_transaction_failed_runs_again_and_is_filed_once(
    mod_postgres: LiveServer, failure: str,
) -> None:
    server = mod_postgres
    site = new_site(server)
    with server.client() as http:
        ana, ben = Reader("Ana", http, site), Reader("Ben", http, site)
        comment_id = posted(ana, "Those people should all be driven out of the town.")
        with first_try_fails(server, "INSERT", "true", failure, table="dsa_notices") as tried:
            response = notice(ben, comment_id, ground="illegal_or_harmful_speech")
            assert tried() == 2
    assert response.status_code == 201, response.text
    with server.services.db.read() as conn:
        filed = conn.scalar(select(func.count()).select_from(dsa_notices)
                            .where(dsa_notices.c.comment_id == comment_id))
    assert filed == 1


@pytest.mark.parametrize("failure", FAILURES, ids=IDS)
def test_an_appeal_whose_transaction_failed_runs_again(
    mod_postgres: LiveServer, failure: str,
) -> None:
    server = mod_postgres
    site = new_site(server)
    with server.client() as http:
        ana = Reader("Ana", http, site)
        comment_id = posted(ana, "The mayor is a crook and everyone in the council knows it.")
        rejected = http.post(f"/api/moderation/comments/{comment_id}/reject", headers=STAFF,
                             json={"reason": "Unfounded accusation"})
        assert rejected.status_code == 200, rejected.text
        [statement] = statements(ana, comment_id)
        condition = "NEW.appealed_at IS NOT NULL AND OLD.appealed_at IS NULL"
        with first_try_fails(server, "UPDATE", condition, failure,
                             table="dsa_statements") as tried:
            appeal = ana.http.post(
                f"/api/comments/{comment_id}/appeal", headers=ana.headers(comment_id),
                json={"statement_id": statement["id"],
                      "text": "The minutes of the council meeting say so."})
            assert tried() == 2
        assert appeal.status_code == 201, appeal.text
        [appealed] = statements(ana, comment_id)
    assert appealed["appeal"]["text"].startswith("The minutes")


@pytest.mark.parametrize("failure", FAILURES, ids=IDS)
def test_decisions_on_a_notice_and_on_an_appeal_run_again(
    mod_postgres: LiveServer, failure: str,
) -> None:
    """A moderator's decision on a notice (its comment removed in a transaction of its
    own before it) and another's on the author's appeal each ran outside ``attempts``:
    the comment was removed, and the moderator got a 500 with the notice still open."""
    server = mod_postgres
    site = new_site(server)
    other = _member(server, f"mod-{secrets.token_hex(4)}", roles={site: "moderator"})
    try:
        with server.client() as http:
            ana, ben = Reader("Ana", http, site), Reader("Ben", http, site)
            comment_id = posted(ana, "Those people should all be driven out of the town.")
            filed = notice(ben, comment_id, ground="illegal_or_harmful_speech")
            notice_id = filed.json()["notice"]["id"]
            with first_try_fails(server, "UPDATE", "NEW.status = 'decided'", failure,
                                 table="dsa_notices") as tried:
                decided = http.post(f"/api/moderation/notices/{notice_id}/decision",
                                    headers=STAFF, json={"outcome": "illegal"})
                assert tried() == 2
            assert decided.status_code == 200, decided.text
            assert decided.json()["notice"]["outcome"] == "illegal"
            [statement] = statements(ana, comment_id)
            appeal = ana.http.post(
                f"/api/comments/{comment_id}/appeal", headers=ana.headers(comment_id),
                json={"statement_id": statement["id"], "text": "I quoted a politician."})
            assert appeal.status_code == 201, appeal.text
            condition = "NEW.appeal_outcome IS NOT NULL AND OLD.appeal_outcome IS NULL"
            with first_try_fails(server, "UPDATE", condition, failure,
                                 table="dsa_statements") as tried:
                reversed_ = other.http.post(
                    f"/api/moderation/statements/{statement['id']}/appeal-decision",
                    headers={"X-CSRF-Token": other.csrf}, json={"outcome": "reversed"})
                assert tried() == 2
            assert reversed_.status_code == 200, reversed_.text
            assert comment_id in [c["id"] for c in ana.page("/war-story")["comments"]]
            audit = http.get("/api/moderation/audit", params={"site": site},
                             headers=STAFF).json()
    finally:
        other.http.close()
    actions = [e["action"] for e in audit["entries"]]
    assert actions.count("dsa_notice_decision") == actions.count("dsa_appeal_decision") == 1
