"""The shadow view shows moderators why each comment of a shadow-banned author would have
been held: the ban that holds it and what the checks said (kept in its decision's facts).
It showed the disguised reason the author is told ("held for review"), so a moderator
could not tell a troll's spam from a harmless comment (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from tests.admin.conftest import Newsroom


def _item(room: Newsroom, comment_id: int) -> Any:
    doc = room.moderator.page("/admin/queue", site=room.site_a, state="shadow")
    found = doc.xpath(f'//article[@data-id="{comment_id}"]')
    assert found, f"comment {comment_id} is in the shadow view"
    return found[0]


def test_it_shows_moderators_the_real_reasons_of_a_shadow_banned_comment(
        newsroom: Newsroom) -> None:
    room = newsroom
    room.server.services.sites.update(room.site_a, settings={"moderation": {
        "mode": "post", "toxicity": False, "rate_limits": {"post_author": ""},
        "blocklist": ["casino"], "blocklist_action": "spam"}})
    first = room.held("The council is lying to all of you", name="Troll")
    banned = room.moderator.post(f"/admin/comments/{first}/ban",
                                 {"kind": "voter", "duration": "forever", "shadow": "1"})
    assert banned.status_code == 303, banned.text
    spam = room.held("Win big at the casino tonight", name="Troll")
    plain = room.held("I still think the bridge was a mistake", name="Troll")
    record = room.moderator.get(f"/api/moderation/comments/{spam}").json()["comment"]
    shadow = record["moderation"]["facts"]["shadow"]
    assert [r["code"] for r in record["moderation"]["reasons"]] == ["held_for_review"]

    item = _item(room, spam)
    ban = item.xpath('.//*[@class="shadow-ban"]')
    assert ban, "the ban that holds it is named"
    assert ban[0].get("data-ban") == str(shadow["ban"])
    assert ban[0].get("data-kind") == "voter"
    assert ban[0].get("data-action") == "spam"
    assert item.xpath('.//ul[@class="reasons"]/li/@data-code') == ["blocklist"]

    item = _item(room, plain)
    ban = item.xpath('.//*[@class="shadow-ban"]')
    assert ban and ban[0].get("data-action") == "publish"
    assert item.xpath('.//ul[@class="reasons"]/li/@data-code') == []

    # The author is told what an ordinary hold says: no ban, no blocklist.
    troll = room.reader("Troll")
    mine = troll.http.get(f"/api/comments/{spam}", headers=troll.headers(spam))
    said = mine.text if mine.status_code == 200 else ""
    page = troll.page("/story/1")
    for text in (said, str(page)):
        assert "blocklist" not in text and "shadow" not in text
