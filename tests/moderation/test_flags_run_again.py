"""A reader's flag survives what PostgreSQL may do to any transaction: a deadlock's
victim, a connection lost on a statement (a restart, a failover) or at COMMIT. The flag
ran outside ``attempts`` and answered 500 for each; it now runs again, and is counted
once (a flag set twice is set once)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from rostra.store.moderation_tables import audit_log
from rostra.store.tables import comments
from tests.conftest import CONNECTION_LOST, DEADLOCK, ORIGIN, LiveServer, Reader, first_try_fails
from tests.moderation.conftest import new_site

pytestmark = pytest.mark.postgres

FAILURES = [(DEADLOCK, False), (CONNECTION_LOST, False), (CONNECTION_LOST, True)]
IDS = ["deadlock", "lost on the statement", "lost at commit"]


def _flags(server: LiveServer, comment_id: int) -> int:
    from rostra.store.moderation_tables import flags

    with server.services.db.read() as conn:
        return int(conn.scalar(select(func.count()).select_from(flags)
                               .where(flags.c.comment_id == comment_id)) or 0)


def _flag(http: httpx.Client, comment_id: int) -> httpx.Response:
    return http.post(f"/api/comments/{comment_id}/flag", json={"reason": "abuse"},
                     headers={"Origin": ORIGIN, "X-Forwarded-For": "198.51.100.7"})


@pytest.mark.parametrize(("failure", "at_commit"), FAILURES, ids=IDS)
def test_a_flag_whose_transaction_failed_runs_again_and_counts_once(
    mod_postgres: LiveServer, failure: str, at_commit: bool,
) -> None:
    server = mod_postgres
    site = new_site(server, thresholds={"flags_to_hold": 5})
    with server.client() as http:
        comment_id = Reader("Ana", http, site).post(
            "/flagged", "A comment a reader will report.").json()["comment"]["id"]
        with first_try_fails(server, "INSERT", "true", failure, table="flags",
                             at_commit=at_commit) as tried:
            response = _flag(http, comment_id)
            assert tried() == 2
    assert response.status_code == 202, response.text
    assert _flags(server, comment_id) == 1


@pytest.mark.parametrize(("failure", "at_commit"), FAILURES, ids=IDS)
def test_a_flag_that_holds_the_comment_holds_it_once_after_a_failed_try(
    mod_postgres: LiveServer, failure: str, at_commit: bool,
) -> None:
    # The failure comes on the hold itself (the comment's UPDATE), after the flag's INSERT.
    server = mod_postgres
    site = new_site(server, thresholds={"flags_to_hold": 1})
    with server.client() as http:
        reader = Reader("Ana", http, site)
        comment_id = reader.post("/held", "A comment one report holds.").json()["comment"]["id"]
        condition = f"NEW.id = {comment_id} AND NEW.state = 'pending' AND OLD.state = 'approved'"
        with first_try_fails(server, "UPDATE", condition, failure,
                             at_commit=at_commit) as tried:
            response = _flag(http, comment_id)
            assert tried() == 2
        assert response.status_code == 202, response.text
        assert comment_id not in [c["id"] for c in reader.page("/held")["comments"]]
    assert _flags(server, comment_id) == 1
    with server.services.db.read() as conn:
        state = conn.scalar(select(comments.c.state).where(comments.c.id == comment_id))
        holds: Any = conn.scalar(select(func.count()).select_from(audit_log).where(
            audit_log.c.target == f"comment:{comment_id}", audit_log.c.action == "hold"))
    assert state == "pending"
    assert holds == 1
