"""The queue's actions refuse what they cannot do and say why, changing nothing: ids
that are not numbers, none or too many, unknown comments, an unknown action, several
comments to pin, an unknown ban kind. The workspace's front page is the queue."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from rostra.store.moderation_tables import bans
from tests.admin.conftest import Newsroom, parse


def _state(room: Newsroom, comment_id: int) -> str:
    item = room.server.app.app.state.admin.reader.item(comment_id)
    return str(item.comment["state"])


def _alert(response: Any) -> str:
    return " ".join(parse(response).xpath("string(//main)").split())


@pytest.mark.parametrize(("form", "only", "status", "message"), [
    ({"action": "approve", "id": ["7", "seven"]}, None, 422, "id: comment ids are numbers"),
    ({"action": "approve"}, None, 422, "select at least one comment"),
    ({"action": "approve", "id": [str(n) for n in range(1, 202)]}, None, 422,
     "at most 200 comments at once"),
    ({"action": "approve"}, "999999999999", 404, "no comment with id 999999999999"),
    ({"action": "publish"}, "HELD", 422,
     "action: approve, reject, spam, delete, featured, pinned or unpin"),
    ({"action": "pinned", "id": ["HELD", "OTHER"]}, None, 422,
     "feature or pin one comment at a time"),
], ids=["not-a-number", "none", "too-many", "unknown", "unknown-action", "pin-two"])
def test_it_refuses_an_action_it_cannot_do_and_changes_nothing(
    newsroom: Newsroom, form: dict[str, Any], only: str | None, status: int, message: str
) -> None:
    room = newsroom
    held, other = room.held("Held for a decision"), room.held("Also held", name="Ben")

    def fill(value: str) -> str:
        return value.replace("HELD", str(held)).replace("OTHER", str(other))

    data = {k: [fill(v) for v in vs] if isinstance(vs, list) else fill(vs)
            for k, vs in form.items()}
    path = "/admin/act" + (f"?only={fill(only)}" if only else "")
    response = room.owner.post(path, data)
    assert response.status_code == status, response.text[:300]
    assert message in _alert(response)
    assert (_state(room, held), _state(room, other)) == ("pending", "pending")


def test_it_refuses_a_ban_of_an_unknown_kind(newsroom: Newsroom) -> None:
    room = newsroom
    held = room.held("Held, from an author no one bans")
    refused = room.owner.post(f"/admin/comments/{held}/ban", {"kind": "planet"})
    assert refused.status_code == 422
    assert "kind: account, email, voter, ip or range" in _alert(refused)
    with room.server.services.db.read() as conn:
        assert conn.execute(select(bans.c.id).where(bans.c.site_id == room.site_a)).all() == []


def test_the_workspace_front_page_is_the_queue(newsroom: Newsroom) -> None:
    for path in ("/admin", "/admin/"):
        response = newsroom.moderator.get(path)
        assert (response.status_code, response.headers["location"]) == (303, "/admin/queue")
