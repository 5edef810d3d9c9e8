"""Without a change bus (SQLite without Redis), the workers of one box learn of each
other's changes by polling threads' ``updated_at``, which holds only the newest stamp.
A thread changed by another worker (an edit, a vote, a moderator's decision) and then
posted to through this one showed only this worker's stamp to its poll, which took it
for its own: its cached pages kept the other worker's change out until the thread was
next read in full. A post now sees that the thread's stamp, as its transaction found
it, is one this worker never saw, and drops the thread's pages."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from sqlalchemy import update

from rostra.store.tables import comments, threads
from tests.conftest import ORIGIN, Reader, running_server


def test_a_post_after_a_change_by_another_worker_shows_that_change() -> None:
    # A poll that would come too late to matter: only the post can tell.
    with running_server("sqlite", cache_poll_seconds=60) as server:
        site = server.add_site("pw" + secrets.token_hex(4), [ORIGIN])
        with server.client() as http:
            ana = Reader("Ana", http, site)
            posted = ana.post("/story/", "The bridge opens on Monday.")
            assert posted.status_code == 201, posted.text
            first = posted.json()["comment"]
            assert [c["id"] for c in ana.page("/story/")["comments"]] == [first["id"]]
            # Another worker edits it (as a moderator would), stamping the thread.
            with server.services.db.write() as conn:
                conn.execute(update(comments).where(comments.c.id == first["id"]).values(
                    text="The bridge opens on Tuesday.",
                    html="<p>The bridge opens on Tuesday.</p>"))
                conn.execute(update(threads).where(threads.c.site_id == site)
                             .values(updated_at=datetime.now(UTC)))
            assert Reader("Ben", http, site).post("/story/", "Good news.").status_code == 201
            shown = {c["id"]: c["html"] for c in ana.page("/story/")["comments"]}
        assert shown[first["id"]] == "<p>The bridge opens on Tuesday.</p>"
