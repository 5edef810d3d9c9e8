"""Without a change bus (SQLite without Redis), the workers of one box learn of each
other's changes by polling threads' ``updated_at``, which holds only the newest stamp.
A thread changed by another worker (an edit, a vote, a moderator's decision) and then
posted to through this one showed only this worker's stamp to its poll, which took it
for its own: its cached pages kept the other worker's change out until the thread was
next read in full. A post now sees that the thread's stamp, as its transaction found
it, is one this worker never saw, and drops the thread's pages."""

from __future__ import annotations

import secrets
import threading
import time
from datetime import UTC, datetime

from sqlalchemy import select, update

from rostra.api.cache import ReadCache
from rostra.api.live import LiveHub
from rostra.cross_worker import CrossWorkerInvalidation
from rostra.services.container import Services
from rostra.store.db import Database
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


def test_a_post_that_waited_for_the_writers_lock_is_seen_by_the_other_workers_poll() -> None:
    """Another worker's poll looks back two seconds from the newest stamp it saw. A post
    stamped its thread when it was prepared; one that then waited longer than that for
    SQLite's writer lock (held by an import's batch, here by a stand-in) committed a
    stamp the poll had already passed: the other workers kept their old pages of the
    thread until its next write. The stamp is now taken as the transaction ends."""
    with running_server("sqlite", cache_poll_seconds=60) as server:
        site = server.add_site("pw" + secrets.token_hex(4), [ORIGIN])
        with server.client() as http:
            ana = Reader("Ana", http, site)
            for thread in ("/waits/", "/elsewhere/"):
                assert ana.post(thread, f"The first comment on {thread}.").status_code == 201
            with server.services.db.read() as conn:
                ids = dict(conn.execute(select(threads.c.key, threads.c.id)
                                        .where(threads.c.site_id == site)).all())
            other = Services.build(server.services.settings,
                                   Database(server.services.db.url))
            worker = CrossWorkerInvalidation(other, ReadCache(10), LiveHub())
            worker.poll()
            held, go_on = threading.Event(), threading.Event()

            def importer() -> None:  # holds the writer's lock, changes another thread
                with other.db.write():
                    held.set()
                    time.sleep(2.5)
                with other.db.write() as conn:
                    conn.execute(update(threads).where(threads.c.id == ids["/elsewhere"])
                                 .values(updated_at=datetime.now(UTC)))
                with other.db.write():
                    held.set()
                    go_on.wait(timeout=30)

            holding = threading.Thread(target=importer)
            holding.start()
            assert held.wait(timeout=10)
            held.clear()
            posting = threading.Thread(
                target=lambda: Reader("Ben", http, site).post("/waits/", "I waited."))
            posting.start()
            assert held.wait(timeout=30)  # the other thread's change committed
            worker.poll()  # the other worker has seen it
            go_on.set()
            posting.join(timeout=30)
            holding.join(timeout=30)
            worker.poll()
            with server.services.db.read() as conn:
                stamp = conn.scalar(select(threads.c.updated_at)
                                    .where(threads.c.id == ids["/waits"]))
        assert worker.seen.get(ids["/waits"]) == stamp
        other.db.dispose()
