"""Undo takes back this moderator's last action, never a later one. The undo kept in a
session can be hours old: a moderator rejected a comment, another marked it spam and
banned its author, and the first one's Undo approved it again, public; undoing an edit
threw away a later edit; undoing a pin put back what another had since changed. A
comment changed since by someone else is now left as it is, and the moderator told."""

from __future__ import annotations

from typing import Any

from tests.admin.conftest import Newsroom, parse
from tests.admin.test_queue import _audit, _items


def _notice(room: Newsroom, response: Any) -> str:
    assert response.status_code == 303, response.text[:300]
    doc = room.moderator.page(response.headers["location"])
    return str(doc.xpath('string(//span[@id="notice-text"])'))


def _alert(response: Any) -> str:
    return str(parse(response).xpath("string(//main)"))


def test_undo_leaves_a_comment_decided_again_since_as_it_is(newsroom: Newsroom) -> None:
    room = newsroom
    kept, changed = room.held("A fair point about parking", name="Ria"), room.held(
        "Buy cheap watches at my shop", name="Sam")
    room.moderator.post("/admin/act", {"action": "approve", "id": [kept, changed]})
    # Another moderator looks again at one of them and marks it spam.
    room.owner.post("/admin/act", {"action": "spam", "id": [changed]})
    undone = room.moderator.post("/admin/undo", {"next": "/admin/queue"})
    assert _notice(room, undone) == (
        "Undid the last action: approve of 1 comment (1 decided again since, left as "
        "decided)")
    assert set(_items(room)) == {kept}
    assert set(_items(room, state="spam")) == {changed}
    assert [e["target"] for e in _audit(room, action="undo")] == [f"comment:{kept}"]


def test_undo_changes_nothing_when_every_comment_was_decided_again(
    newsroom: Newsroom,
) -> None:
    room = newsroom
    comment_id = room.held("You are all idiots", name="Tom")
    room.moderator.post("/admin/act", {"action": "approve", "id": [comment_id]})
    room.owner.post("/admin/act", {"action": "reject", "id": [comment_id]})
    undone = room.moderator.post("/admin/undo", {})
    assert undone.status_code == 409
    assert "decided again since" in _alert(undone)
    assert set(_items(room, state="rejected")) == {comment_id}
    assert _audit(room, action="undo") == []


def test_undo_of_an_edit_keeps_a_later_edit(newsroom: Newsroom) -> None:
    room = newsroom
    comment_id = room.held("Call me on 555-0100 or 555-0199", name="Una")
    room.moderator.post("/admin/act", {"action": "approve", "id": [comment_id]})
    room.moderator.post(f"/admin/comments/{comment_id}/edit",
                        {"text": "Call me on [removed] or 555-0199"})
    room.owner.post(f"/admin/comments/{comment_id}/edit",
                    {"text": "Call me on [removed] or [removed]"})
    undone = room.moderator.post("/admin/undo", {})
    assert undone.status_code == 409
    assert "edited again since" in _alert(undone)
    page = room.reader("Visitor").page("/story/1")
    assert "Call me on [removed] or [removed]" in page["comments"][0]["html"]


def test_undo_of_a_pin_keeps_a_later_choice(newsroom: Newsroom) -> None:
    room = newsroom
    comment_id = room.held("An insightful comment on the budget", name="Vic")
    room.moderator.post(f"/admin/act?only={comment_id}", {"action": "featured"})
    room.owner.post(f"/admin/act?only={comment_id}", {"action": "unpin"})
    undone = room.moderator.post("/admin/undo", {})
    assert undone.status_code == 409
    assert "featured or pinned again since" in _alert(undone)
    head = _items(room)[comment_id].xpath('string(.//div[@class="item-head"])')
    assert "featured" not in head
