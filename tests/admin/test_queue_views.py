"""The queue's other views: comments readers flagged, one thread by its id, everything;
and bad filters named in plain words (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from tests.admin.conftest import Newsroom, parse
from tests.conftest import ORIGIN


def _items(room: Newsroom, **params: Any) -> set[int]:
    doc = room.moderator.page("/admin/queue", **params)
    return {int(el.get("data-id")) for el in doc.xpath('//article[contains(@class,"item")]')}


def test_it_shows_flagged_comments_and_one_thread_by_its_id(newsroom: Newsroom) -> None:
    room = newsroom
    first = room.held("On the first story", thread="/story/1")
    second = room.held("On the second story", thread="/story/2")
    assert room.moderator.post(f"/admin/act?only={first}", {"action": "approve"}) \
        .status_code == 303
    ben = room.reader("Ben")
    flagged = ben.http.post(f"/api/comments/{first}/flag", json={"reason": "off-topic"},
                            headers={"Origin": ORIGIN, "X-Forwarded-For": ben.ip})
    assert flagged.status_code == 202, flagged.text
    assert _items(room, state="flagged") == {first}
    assert _items(room, state="all") == {first, second}
    thread_id = room.server.app.app.state.admin.reader.item(second).comment["thread_id"]
    assert _items(room, state="all", thread=str(thread_id)) == {second}


def test_it_names_a_bad_state_or_page(newsroom: Newsroom) -> None:
    for params, message in [({"state": "everything"}, "state: one of pending, "),
                            ({"page": "last"}, "page: a whole number")]:
        page = newsroom.moderator.get("/admin/queue", **params)
        assert page.status_code == 200
        assert parse(page).xpath('string(//p[@role="alert"])').startswith(message)
