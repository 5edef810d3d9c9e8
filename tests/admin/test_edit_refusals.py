"""A moderator's edit, ban and undo forms refuse what they cannot do, and change
nothing: an empty or too long text, a ban of an unknown duration, an undo with nothing
to undo."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from rostra.store.moderation_tables import bans
from tests.admin.conftest import Newsroom, parse


def _main(response: Any) -> str:
    return " ".join(parse(response).xpath("string(//main)").split())


def _text(room: Newsroom, comment_id: int) -> str:
    return str(room.server.app.app.state.admin.reader.item(comment_id).comment["text"])


def test_it_refuses_an_empty_or_too_long_edit(newsroom: Newsroom) -> None:
    room = newsroom
    held = room.held("The text as the author wrote it")
    for text, message in [("   ", "text: must not be empty"),
                          ("x" * 10_001, "text: at most 10000 characters")]:
        refused = room.owner.post(f"/admin/comments/{held}/edit", {"text": text})
        assert refused.status_code == 422
        assert message in _main(refused)
    assert _text(room, held) == "The text as the author wrote it"


def test_it_refuses_a_ban_of_an_unknown_duration(newsroom: Newsroom) -> None:
    room = newsroom
    held = room.held("From an author someone wants banned for a fortnight")
    refused = room.owner.post(f"/admin/comments/{held}/ban", {"kind": "email",
                                                             "duration": "14d"})
    assert refused.status_code == 422
    assert "duration: one of 1h, 1d, 7d, 30d, 365d or forever" in _main(refused)
    with room.server.services.db.read() as conn:
        assert conn.execute(select(bans.c.id).where(bans.c.site_id == room.site_a)).all() == []


def test_it_says_when_there_is_nothing_to_undo(newsroom: Newsroom) -> None:
    refused = newsroom.moderator.post("/admin/undo", {})
    assert refused.status_code == 422
    assert "there is nothing to undo" in _main(refused)
