"""A staff member's session survives a deadlock or a connection lost on a statement (a
PostgreSQL restart or failover) in its writes: the note of when it was last seen
(written now and then by whatever request the person makes), the last queue action kept
for undo (written after the action committed: the action was done, yet answered 500)
and signing out. Each runs again, also after a COMMIT lost with its connection (done
twice is done once)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from rostra.store.staff_tables import staff_sessions
from tests.admin.conftest import Newsroom
from tests.admin.test_queue import _audit
from tests.conftest import CONNECTION_LOST, DEADLOCK, first_try_fails

pytestmark = pytest.mark.postgres

FAILURES = [(DEADLOCK, False), (CONNECTION_LOST, False), (CONNECTION_LOST, True)]
IDS = ["deadlock", "lost on the statement", "lost at commit"]


@pytest.mark.parametrize("server", ["postgres"], indirect=True)
@pytest.mark.parametrize(("failure", "at_commit"), FAILURES, ids=IDS)
def test_a_queue_action_survives_its_sessions_writes(
    newsroom: Newsroom, failure: str, at_commit: bool,
) -> None:
    room = newsroom
    comment_id = room.held("Waiting for a moderator")
    with room.server.services.db.write() as conn:  # due a note of being seen
        conn.execute(update(staff_sessions).values(
            seen_at=datetime.now(UTC) - timedelta(hours=1)))
    seen = "NEW.seen_at IS DISTINCT FROM OLD.seen_at"
    kept = "NEW.last_action::text IS DISTINCT FROM OLD.last_action::text"
    with first_try_fails(room.server, "UPDATE", seen, failure, table="staff_sessions",
                         at_commit=at_commit) as seen_tried, \
            first_try_fails(room.server, "UPDATE", kept, failure, table="staff_sessions",
                            at_commit=at_commit) as kept_tried:
        approved = room.moderator.post("/admin/act", {"action": "approve",
                                                      "id": [comment_id]})
        assert (seen_tried(), kept_tried()) == (2, 2)
    assert approved.status_code == 303, approved.text[:300]
    undone = room.moderator.post("/admin/undo", {})
    assert undone.status_code == 303, undone.text[:300]
    assert [e["action"] for e in _audit(room, target=f"comment:{comment_id}")] == [
        "undo", "approve"]


@pytest.mark.parametrize("server", ["postgres"], indirect=True)
@pytest.mark.parametrize(("failure", "at_commit"), FAILURES, ids=IDS)
def test_signing_out_runs_again(newsroom: Newsroom, failure: str, at_commit: bool) -> None:
    room = newsroom
    with first_try_fails(room.server, "DELETE", "true", failure, table="staff_sessions",
                         at_commit=at_commit) as tried:
        out = room.owner.post("/admin/logout")
        assert tried() == 2
    assert out.status_code == 303, out.text[:300]
    after = room.owner.get("/admin/queue")
    assert after.status_code == 303 and "/admin/login" in after.headers["location"]
