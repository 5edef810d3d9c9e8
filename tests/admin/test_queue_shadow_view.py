"""Comments of shadow-banned authors have a view of their own in the queue, and are kept
out of the held one (docs/moderation.md, "Bans and shadow bans"): the point of a shadow
ban is that the troll's stream stops landing among the comments waiting for a decision.
The workspace listed them among the held ones and had no view for them (SQLite and
PostgreSQL)."""

from __future__ import annotations

from typing import Any

from tests.admin.conftest import Newsroom


def _items(room: Newsroom, **params: Any) -> list[int]:
    return room.moderator.queue_ids(site=room.site_a, **params)


def test_it_lists_shadow_banned_comments_apart_from_the_held_ones(newsroom: Newsroom) -> None:
    room = newsroom
    before = room.held("The council is lying to all of you", name="Troll")
    banned = room.moderator.post(f"/admin/comments/{before}/ban",
                                 {"kind": "voter", "duration": "forever", "shadow": "1"})
    assert banned.status_code == 303, banned.text
    hidden = [room.held(f"Still here, comment {n}", name="Troll") for n in range(3)]
    ordinary = room.held("When does the bridge open again?", name="Ana")

    held = _items(room)
    assert set(held) == {before, ordinary}  # posted before the ban: an ordinary hold
    doc = room.moderator.page("/admin/queue", site=room.site_a)
    assert doc.xpath('string(//span[@id="total"])') == "2"

    assert _items(room, state="shadow") == hidden[::-1]
    doc = room.moderator.page("/admin/queue", site=room.site_a, state="shadow")
    assert doc.xpath('string(//span[@id="total"])') == "3"
    shown = doc.xpath(f'//article[@data-id="{hidden[0]}"]//span[@class="badge"]/text()')
    assert "shadow-banned" in shown
    states = doc.xpath('//select[@id="f-state"]/option/@value')
    assert "shadow" in states
    assert doc.xpath('//select[@id="f-state"]/option[@selected]/@value') == ["shadow"]

    # Everything still means everything.
    assert set(_items(room, state="all")) == {before, ordinary, *hidden}
    # Deciding one takes it out of the view, as anywhere else.
    assert room.moderator.post(f"/admin/act?only={hidden[1]}",
                               {"action": "spam"}).status_code == 303
    assert _items(room, state="shadow") == [hidden[2], hidden[0]]
