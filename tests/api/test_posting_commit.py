"""A posting batch's commit on PostgreSQL: the INSERT and what follows it go in one
round trip with COMMIT, and a batch whose COMMIT loses its connection is looked for before it
runs again, so that it is neither stored twice nor refused for having been stored."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, insert, select, update

from rostra.core.errors import Forbidden
from rostra.core.thread_keys import thread_key as thread_key_of
from rostra.services.comments import NewComment, Posted, RequestContext
from rostra.services.container import Services
from rostra.store.bulk import advance_sequences, allocate_ids
from rostra.store.tables import comments, threads
from tests.conftest import (
    CONNECTION_LOST,
    DEADLOCK,
    ORIGIN,
    CuttingProxy,
    LiveServer,
    RoundTrips,
    first_try_fails,
)

pytestmark = pytest.mark.postgres


def _item(site: str, thread: str, text: str) -> tuple[NewComment, RequestContext]:
    return (NewComment(thread=thread, text=text, site=site, name="Ana"),
            RequestContext(origin=ORIGIN, ip="203.0.113.9"))


def _stored(services: Services, site: str, thread: str) -> list[str]:
    with services.db.read() as conn:
        return list(conn.execute(
            select(comments.c.text).join(threads, threads.c.id == comments.c.thread_id)
            .where(threads.c.site_id == site, threads.c.key == thread_key_of(thread))
            .order_by(comments.c.id)).scalars())


def _thread_count(services: Services, site: str, thread: str) -> int:
    with services.db.read() as conn:
        return int(conn.execute(select(threads.c.comment_count).where(
            threads.c.site_id == site, threads.c.key == thread_key_of(thread))).scalar_one())


def test_a_batch_takes_one_round_trip_whatever_its_size(pg_live_server: LiveServer) -> None:
    # BEGIN, the INSERT (its ids taken ahead; it checks that the thread, as an earlier
    # post found it, is still there and open), the thread's counters, the change bus's
    # NOTIFY and COMMIT, pipelined (BEGIN with the INSERT, then the rest, were two round
    # trips; before, reading the thread and each of the rest were one of their own). The
    # fewest of three batches: the first after the sites' periodic refresh also reads
    # the site's webhooks, and one in a hundred comments takes ids.
    server = pg_live_server
    site = server.add_site("t" + secrets.token_hex(5), [ORIGIN])
    svc = server.services.comments
    svc.post(*_item(site, "/trips/", "the thread exists"))
    for size in (1, 4):
        counted = []
        for attempt in range(3):
            trace = RoundTrips(server.services.db)
            stored = svc.post_many([_item(site, "/trips/", f"{size}: {attempt}, post {i}")
                                    for i in range(size)])
            counted.append(trace.in_transactions())
            assert all(isinstance(result, Posted) for result in stored), stored
        assert min(len(trips) for trips in counted) == 1, counted
    assert _thread_count(server.services, site, "/trips/") == 16


def _close(services: Services, site: str, thread: str, closed: bool = True) -> None:
    # Straight to the table, as another server's moderator would: nothing in this
    # process hears of it.
    with services.db.write() as conn:
        conn.execute(update(threads).where(threads.c.site_id == site,
                                           threads.c.key == thread_key_of(thread))
                     .values(closed=closed))


def test_a_thread_closed_since_the_last_post_refuses_the_next(
    pg_live_server: LiveServer,
) -> None:
    server = pg_live_server
    site = server.add_site("s" + secrets.token_hex(5), [ORIGIN])
    svc = server.services.comments
    svc.post(*_item(site, "/closing/", "while it was open"))
    svc.post(*_item(site, "/open/", "elsewhere"))
    _close(server.services, site, "/closing/")
    stored = svc.post_many([_item(site, "/open/", "still open"),
                            _item(site, "/closing/", "after it closed"),
                            _item(site, "/open/", "and again")])
    assert [type(result) for result in stored] == [Posted, Forbidden, Posted]
    assert _stored(server.services, site, "/closing/") == ["while it was open"]
    assert _stored(server.services, site, "/open/") == ["elsewhere", "still open",
                                                        "and again"]
    assert _thread_count(server.services, site, "/closing/") == 1
    # Opened again, it takes posts again.
    _close(server.services, site, "/closing/", closed=False)
    assert isinstance(svc.post(*_item(site, "/closing/", "open again")), Posted)
    assert _stored(server.services, site, "/closing/") == ["while it was open", "open again"]


def test_a_thread_removed_since_the_last_post_is_made_again_for_the_next(
    pg_live_server: LiveServer,
) -> None:
    # (An import rolled back, say.) The post must not go to the removed thread's id.
    server = pg_live_server
    site = server.add_site("r" + secrets.token_hex(5), [ORIGIN])
    svc = server.services.comments
    svc.post(*_item(site, "/gone/", "in the old thread"))
    with server.services.db.write() as conn:
        conn.execute(delete(threads).where(threads.c.site_id == site,
                                           threads.c.key == thread_key_of("/gone/")))
    posted = svc.post(*_item(site, "/gone/", "in the new one"))
    assert isinstance(posted, Posted)
    assert _stored(server.services, site, "/gone/") == ["in the new one"]
    assert _thread_count(server.services, site, "/gone/") == 1


@pytest.mark.parametrize("failure", [DEADLOCK, CONNECTION_LOST], ids=["deadlock", "lost"])
def test_a_batch_failing_in_the_commits_round_trip_is_stored_once(
    pg_live_server: LiveServer, failure: str,
) -> None:
    # The counters' UPDATE fails in the commit's round trip. As a deadlock's victim, the
    # error still says "deadlock" and the batch runs again. With its connection lost, the
    # batch may have committed or not; it had not (the backend ended on that UPDATE,
    # before COMMIT), which it finds out, and it runs again.
    server = pg_live_server
    site = server.add_site("d" + secrets.token_hex(5), [ORIGIN])
    key = thread_key_of("/counted/")
    server.services.comments.post(*_item(site, "/counted/", "first"))
    with first_try_fails(server, "UPDATE", f"NEW.key = '{key}' AND NEW.site_id = '{site}'",
                         failure, table="threads") as tried:
        stored = server.services.comments.post_many([_item(site, "/counted/", "second"),
                                                     _item(site, "/counted/", "third")])
        assert tried() == 2
    assert all(isinstance(result, Posted) for result in stored), stored
    assert _stored(server.services, site, "/counted/") == ["first", "second", "third"]
    assert _thread_count(server.services, site, "/counted/") == 3


def test_a_batch_whose_commit_failed_with_its_connection_is_stored_at_the_next_try(
    pg_live_server: LiveServer,
) -> None:
    # A deferred constraint trigger ends the backend as the transaction commits: it did
    # not commit, which the batch finds out before it runs again.
    server = pg_live_server
    site = server.add_site("c" + secrets.token_hex(5), [ORIGIN])
    with first_try_fails(server, "INSERT", "NEW.text = 'lost at commit'", CONNECTION_LOST,
                         at_commit=True) as tried:
        stored = server.services.comments.post_many([
            _item(site, "/commit/", "lost at commit"),
            _item(site, "/commit/", "in the same batch")])
        assert tried() == 2
    assert all(isinstance(result, Posted) for result in stored), stored
    assert _stored(server.services, site, "/commit/") == ["lost at commit",
                                                          "in the same batch"]


def test_a_batch_that_committed_but_lost_the_answer_is_answered_and_stored_once(
    proxied: tuple[Services, CuttingProxy],
) -> None:
    services, proxy = proxied
    site = "p" + secrets.token_hex(5)
    services.sites.create(site, "Proxied", [ORIGIN])
    services.comments.post(*_item(site, "/answer/", "first"))
    proxy.cut_answer = CuttingProxy.COMMITTED
    stored = services.comments.post_many([_item(site, "/answer/", "second"),
                                          _item(site, "/answer/", "third")])
    assert proxy.cut == 1
    assert all(isinstance(result, Posted) for result in stored), stored
    assert _stored(services, site, "/answer/") == ["first", "second", "third"]
    assert _thread_count(services, site, "/answer/") == 3


def _written_elsewhere(services: Services, beside: Posted, comment_id: int,
                       text: str) -> None:
    """A comment in ``beside``'s thread with the id given, as another process (a restore,
    another server) writes it, past this process's posting lane."""
    with services.db.write() as conn:
        thread_id = conn.execute(select(comments.c.thread_id).where(
            comments.c.id == beside.comment["id"])).scalar_one()
        conn.execute(insert(comments).values(
            id=comment_id, thread_id=thread_id, depth=0, state="approved", text=text,
            html=f"<p>{text}</p>", created_at=datetime.now(UTC), score=0, upvotes=0,
            downvotes=0, reply_count=0))


def test_ids_taken_ahead_that_a_restore_wrote_since_are_given_up(
    pg_live_server: LiveServer,
) -> None:
    # A restore that writes comment ids itself moves the sequence past them
    # (rostra.store.bulk.advance_sequences): ids this process took ahead may be among
    # them. The batch fails on the first such id, takes new ones, and is stored.
    server = pg_live_server
    site = server.add_site("i" + secrets.token_hex(5), [ORIGIN])
    svc = server.services.comments
    first = svc.post(*_item(site, "/restored/", "first"))
    assert isinstance(first, Posted)
    restored = first.comment["id"] + 1  # the next id this process would give
    _written_elsewhere(server.services, first, restored, "restored")
    with server.services.db.write() as conn:
        advance_sequences(conn)
    stored = svc.post_many([_item(site, "/restored/", "second"),
                            _item(site, "/restored/", "third")])
    assert all(isinstance(result, Posted) for result in stored), stored
    assert _stored(server.services, site, "/restored/") == ["first", "restored", "second",
                                                            "third"]
    assert min(result.comment["id"] for result in stored  # type: ignore[union-attr]
               ) > restored


def test_a_reply_gets_an_id_above_its_parents_whatever_ids_were_taken_ahead(
    pg_live_server: LiveServer,
) -> None:
    # The parent came through another process (another server, an import) after this
    # one took its ids: the reply's id must still be above it, as an export lists
    # comments by id and a restore writes a parent before its replies.
    server = pg_live_server
    site = server.add_site("o" + secrets.token_hex(5), [ORIGIN])
    svc = server.services.comments
    first = svc.post(*_item(site, "/order/", "this process takes its ids"))
    assert isinstance(first, Posted)
    with server.services.db.write() as conn:
        parent_id = allocate_ids(conn, comments, 1)[0]  # as another process would
    _written_elsewhere(server.services, first, parent_id, "from elsewhere")
    stored = svc.post_many([
        (NewComment(thread="/order/", text="a reply", site=site, name="Ana",
                    parent_id=parent_id), RequestContext(origin=ORIGIN, ip="203.0.113.9")),
        _item(site, "/order/", "top-level, beside it")])
    assert all(isinstance(result, Posted) for result in stored), stored
    reply, beside = (result.comment["id"] for result in stored)  # type: ignore[union-attr]
    assert reply > parent_id
    assert beside < parent_id  # the ids taken ahead still serve the rest
