"""A comment an editor pins or features is marked on the pages open on its thread at
once (the change carries the mark), where before every open page was sent a bare
"changed", fetched the newest comments, and showed nothing new: on a hot thread, a
fetch per open page for each pin."""

from __future__ import annotations

from tests.admin.conftest import Newsroom
from tests.api.test_change_bus import Stream, within


def test_open_pages_hear_a_comment_pinned_featured_and_unpinned(newsroom: Newsroom) -> None:
    room = newsroom
    comment_id = room.held("A comment worth reading.", thread="/picks/")
    assert room.moderator.post("/admin/act", {"action": "approve",
                                              "id": [comment_id]}).status_code == 303
    ben = room.reader("Ben")
    assert "pinned" not in ben.page("/picks/")["comments"][0]  # cached now
    stream = Stream(room.server.url, room.site_a, "/picks")
    try:
        for action, kind in (("pinned", "pinned"), ("featured", "featured"), ("unpin", None)):
            done = room.moderator.post("/admin/act", {"action": action, "id": [comment_id]})
            assert done.status_code == 303, done.text[:300]
            within(5, lambda kind=kind: {"thread": "/picks", "pins": [
                {"id": comment_id, "kind": kind}]} in stream.data)
            # A page read now shows the mark too (the cached one was dropped).
            shown = ben.page("/picks/")["comments"][0]
            assert {k for k in ("pinned", "featured") if shown.get(k)} == (
                {kind} if kind else set())
        assert all(set(e) != {"thread"} for e in stream.data), stream.data
    finally:
        stream.close()
