"""A page of the queue costs the same few SQL statements however many comments it
shows. Each comment's context (its parent and replies, its author's history, bans and
trust, its flags, pin and staff edits) was read with statements of its own, about seven
a comment: some 190 round trips for a page of 25 on PostgreSQL, so the queue slowed
down exactly when the site was busiest (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from tests.admin.conftest import Newsroom
from tests.conftest import statements_on

BOUND = 20  # statements for a whole page: sign-in, sites, the page, pager and count, undo


def _statements(room: Newsroom, path: str, **params: Any) -> tuple[int, Any]:
    """The statements a request runs: the least of three reads, since the server's
    background work (the posts' and decisions' after-commit reads) may run some at the
    same time; SQLite's BEGINs and the change bus's read of its table (at most once a
    second, by whichever request comes first) are not the page's own."""
    counts = []
    for _ in range(3):
        with statements_on(room.server, "") as seen:  # every statement
            response = room.moderator.get(path, **params)
        assert response.status_code == 200, response.text[:500]
        counts.append(len([s for s in seen if "change_log" not in s and s.strip() != "BEGIN"]))
    return min(counts), response


def _busy_page(room: Newsroom, count: int, start: int = 0) -> list[int]:
    """Comments with every kind of context: replies, authors known by email, voter or
    account, flags, a pin, a staff edit, a ban."""
    ids: list[int] = []
    for n in range(start, start + count):
        extra: dict[str, Any] = {"email": f"writer{n % 3}@example.org"} if n % 2 else {}
        parent = ids[-1] if n % 4 == 3 and ids else None
        if parent is not None:  # a held comment cannot be replied to
            assert room.moderator.post(f"/admin/act?only={parent}",
                                       {"action": "approve"}).status_code == 303
        ids.append(room.held(f"Comment number {n} about the bridge", name=f"Writer{n % 5}",
                             parent_id=parent, **extra))
    return ids


def _decorate(room: Newsroom, ids: list[int]) -> None:
    mod = room.moderator
    assert mod.post(f"/admin/act?only={ids[0]}", {"action": "approve"}).status_code == 303
    flagger = room.reader("Flagger")
    flagged = flagger.http.post(f"/api/comments/{ids[0]}/flag", json={"reason": "abuse"},
                                headers=flagger.headers())
    assert flagged.status_code == 202, flagged.text
    assert mod.post(f"/admin/act?only={ids[1]}", {"action": "pinned"}).status_code == 303
    assert mod.post(f"/admin/comments/{ids[2]}/edit",
                    {"text": "Edited by staff"}).status_code == 303
    troll = room.held("Nobody reads this rag", name="Troll")
    assert mod.post(f"/admin/comments/{troll}/ban",
                    {"kind": "voter", "duration": "forever"}).status_code == 303
    ids.append(troll)


def test_it_reads_a_queue_page_in_as_many_statements_for_25_comments_as_for_6(
        newsroom: Newsroom) -> None:
    room = newsroom
    ids = _busy_page(room, 5)
    _decorate(room, ids)
    few, page = _statements(room, "/admin/queue", site=room.site_a, state="all")
    assert page.text.count('class="item"') == 6
    ids += _busy_page(room, 19, start=5)
    many, page = _statements(room, "/admin/queue", site=room.site_a, state="all")
    assert page.text.count('class="item"') == 25
    assert many == few, f"{few} statements for a few comments, {many} for 25"
    assert many <= BOUND


def test_it_reads_a_comment_page_in_a_few_statements(newsroom: Newsroom) -> None:
    room = newsroom
    ids = _busy_page(room, 8)
    _decorate(room, ids)
    count, _ = _statements(room, f"/admin/comments/{ids[3]}")
    assert count <= BOUND


def test_the_queue_api_reads_a_page_in_as_many_statements_for_25_comments_as_for_6(
        newsroom: Newsroom) -> None:
    room = newsroom
    ids = _busy_page(room, 5)
    _decorate(room, ids)
    params = {"site": room.site_a, "kind": "held", "limit": "25"}
    few, page = _statements(room, "/api/moderation/queue", **params)
    assert len(page.json()["comments"]) == 4  # two approved
    _busy_page(room, 40, start=5)
    many, page = _statements(room, "/api/moderation/queue", **params)
    assert len(page.json()["comments"]) == 25
    assert many == few, f"{few} statements for a few comments, {many} for 25"
    assert many <= BOUND
