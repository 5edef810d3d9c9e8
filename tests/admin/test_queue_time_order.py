"""The queue lists comments by the time they were posted, never by their ids alone: each
posting process takes ids ahead (a hundred at a time on PostgreSQL), so with two
workers or two servers a comment posted later can have the lower id, and a queue in
id order showed one process's comments before the other's, however old."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from rostra.store.tables import comments
from tests.admin.conftest import Newsroom
from tests.admin.test_queue import _items


def _three_interleaved(room: Newsroom) -> tuple[int, int, int]:
    """Three held comments whose ids are not their order in time: the lowest id was
    posted last (another process had taken it ahead), the others in id order."""
    said = [("Ana", "The bridge closure was announced far too late."),
            ("Ben", "Has anyone asked the council why the budget doubled?"),
            ("Cy", "My street has had no bus for a week now.")]
    ids = [room.held(text, name=name, thread="/interleaved") for name, text in said]
    start = datetime.now(UTC) - timedelta(hours=1)
    minutes = {ids[0]: 3, ids[1]: 1, ids[2]: 2}
    with room.server.services.db.write() as conn:
        for comment_id, after in minutes.items():
            conn.execute(update(comments).where(comments.c.id == comment_id)
                         .values(created_at=start + timedelta(minutes=after)))
    return ids[0], ids[2], ids[1]  # newest first


def test_the_queue_page_lists_by_time_posted(newsroom: Newsroom) -> None:
    room = newsroom
    newest_first = list(_three_interleaved(room))
    assert list(_items(room)) == newest_first
    assert list(_items(room, order="oldest")) == newest_first[::-1]
    # Unread by the classifier, all alike at risk: the newest first, here too.
    assert list(_items(room, order="risk")) == newest_first


def test_the_queue_api_pages_by_time_posted(newsroom: Newsroom) -> None:
    room = newsroom
    newest_first = list(_three_interleaved(room))
    api = room.moderator.http
    seen: list[int] = []
    before: int | None = None
    for _ in range(4):
        params: dict[str, object] = {"site": room.site_a, "limit": 1}
        if before is not None:
            params["before"] = before
        page = api.get("/api/moderation/queue", params=params)
        assert page.status_code == 200, page.text
        body = page.json()
        seen += [c["id"] for c in body["comments"]]
        before = body["next_before"]
        if before is None:
            break
    assert seen == newest_first
