"""The bans page for the workspace's script: the site's bans as JSON, extended and lifted
with JSON answers, lifted bans shown only when asked for, and a lifted ban not extended
(SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.admin.conftest import Newsroom

JSON = {"Accept": "application/json"}


def _bans(room: Newsroom, **params: str) -> list[dict[str, Any]]:
    listed = room.owner.http.get(f"/admin/sites/{room.site_a}/bans", params=params,
                                 headers=JSON)
    assert listed.status_code == 200, listed.text
    found: list[dict[str, Any]] = listed.json()["bans"]
    return found


def test_the_bans_page_answers_its_script_in_json(newsroom: Newsroom) -> None:
    room = newsroom
    held = room.held("From an author who gets banned", email="troll@readers.example")
    banned = room.owner.post(f"/admin/comments/{held}/ban",
                             {"kind": "email", "duration": "1d", "reason": "abuse"},
                             headers=JSON)
    assert banned.status_code == 200, banned.text
    [ban] = _bans(room)
    assert ban["id"] == banned.json()["ban"] and ban["active"] is True
    base = f"/admin/sites/{room.site_a}/bans/{ban['id']}"
    extended = room.owner.post(f"{base}/extend", {"duration": "30d"}, headers=JSON)
    assert extended.status_code == 200, extended.text
    later = datetime.fromisoformat(extended.json()["ban"]["expires_at"].replace("Z", "+00:00"))
    first = datetime.fromisoformat(ban["expires_at"].replace("Z", "+00:00"))
    assert (later - first).days >= 28
    lifted = room.owner.post(f"{base}/lift", {"reason": "appeal"}, headers=JSON)
    assert lifted.status_code == 200 and lifted.json()["ban"]["active"] is False
    assert _bans(room) == []
    assert [b["id"] for b in _bans(room, all="1")] == [ban["id"]]
    again = room.owner.post(f"{base}/extend", {"duration": "7d", "all": "1"})
    assert again.status_code == 422
    assert f"ban {ban['id']} was lifted; place a new one instead" in again.text
    back = room.owner.post(f"{base}/lift", {"q": "troll", "all": "1"})
    assert back.status_code == 303
    assert back.headers["location"] == (f"/admin/sites/{room.site_a}/bans?done=lifted&q=troll"
                                        "&all=1")


def test_a_sites_bans_page_changes_only_that_sites_bans(newsroom: Newsroom) -> None:
    room = newsroom
    held = room.held("From an author banned on the other site", site=room.site_b,
                     email="troll@readers.example")
    banned = room.admin.post(f"/admin/comments/{held}/ban", {"kind": "email", "duration": "1d"},
                             headers=JSON)
    assert banned.status_code == 200, banned.text
    ban_id = banned.json()["ban"]
    for action, form in (("lift", {}), ("extend", {"duration": "7d"})):
        refused = room.admin.post(f"/admin/sites/{room.site_a}/bans/{ban_id}/{action}", form,
                                  headers=JSON)
        assert refused.status_code == 404, action
        assert refused.json()["detail"] == f"no ban with id {ban_id}"
    listed = room.admin.http.get(f"/admin/sites/{room.site_b}/bans", headers=JSON)
    assert [(b["id"], b["active"]) for b in listed.json()["bans"]] == [(ban_id, True)]
