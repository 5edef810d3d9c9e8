"""A moderator's edit of a comment, featuring or pinning it and undoing that survive a
deadlock or a connection lost on a statement (a PostgreSQL restart or failover): each
ran outside ``attempts`` and answered 500. Each now runs again, once: one revision kept,
one audit entry each."""

from __future__ import annotations

import pytest

from tests.admin.conftest import Newsroom
from tests.admin.test_queue import _audit
from tests.conftest import CONNECTION_LOST, DEADLOCK, first_try_fails

pytestmark = pytest.mark.postgres


@pytest.mark.parametrize("server", ["postgres"], indirect=True)
@pytest.mark.parametrize("failure", [DEADLOCK, CONNECTION_LOST],
                         ids=["deadlock", "lost on the statement"])
def test_an_edit_and_a_pin_and_its_undo_run_again(newsroom: Newsroom, failure: str) -> None:
    room = newsroom
    comment_id = room.held("My phone number is 555-0100, call me")
    room.moderator.post("/admin/act", {"action": "approve", "id": [comment_id]})
    with first_try_fails(room.server, "INSERT", f"NEW.comment_id = {comment_id}", failure,
                         table="comment_revisions") as tried:
        edited = room.moderator.post(f"/admin/comments/{comment_id}/edit", {
            "text": "My phone number is [removed], call me", "reason": "personal data"})
        assert tried() == 2
    assert edited.status_code == 303, edited.text[:300]
    assert "[removed]" in room.reader("Visitor").page("/story/1")["comments"][0]["html"]
    pins = f"NEW.comment_id = {comment_id}"
    with first_try_fails(room.server, "INSERT", pins, failure, table="comment_pins") as tried:
        pinned = room.moderator.post(f"/admin/act?only={comment_id}", {"action": "pinned"})
        assert tried() == 2
    assert pinned.status_code == 303, pinned.text[:300]
    with first_try_fails(room.server, "DELETE", f"OLD.comment_id = {comment_id}", failure,
                         table="comment_pins") as tried:
        undone = room.moderator.post("/admin/undo", {})
        assert tried() == 2
    assert undone.status_code == 303, undone.text[:300]
    actions = [e["action"] for e in _audit(room, target=f"comment:{comment_id}")]
    assert actions == ["undo", "pinned", "edit", "approve"], actions
