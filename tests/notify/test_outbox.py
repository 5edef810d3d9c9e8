"""The outbox's claim and its bookkeeping, called as the worker calls them, on a fresh
database of each kind (SQLite and PostgreSQL): which batches are due, who holds a row,
when a dead worker's claim may be taken over, what a failure or a retry records (the
mutation run of notify/outbox.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from rostra.notify import outbox
from rostra.notify.model import Channel, MessageKind
from rostra.store.db import Database
from rostra.store.notify_tables import notify_outbox
from tests.conftest import running_server
from tests.notify.conftest import NotifyServer, address, parts, unsubscribe_header
from tests.notify.test_email_flow import deliver, subscribed

NOW = datetime.now(UTC).replace(microsecond=0)
LEASE = timedelta(minutes=10)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest) -> Iterator[Database]:
    """A fresh database (its outbox empty), as a server of that kind migrated it."""
    with running_server(request.param, worker=False) as live:
        yield live.services.db


def _add(db: Database, batch_key: str, due_in: timedelta, recipient: str = "a@x.example"
         ) -> None:
    with db.write() as conn:
        outbox.enqueue(conn, channel=Channel.EMAIL, kind=MessageKind.DIGEST,
                       batch_key=batch_key, recipient=recipient, payload={"n": 1},
                       now=NOW, due_at=NOW + due_in)


def _claim(db: Database, batch_key: str, worker: str, at: datetime) -> list[Any]:
    with db.write() as conn:
        return outbox.claim(conn, batch_key, worker, at, at - LEASE,
                            skip_locked=not db.is_sqlite)


def _rows(db: Database, batch_key: str) -> list[Any]:
    with db.read() as conn:
        return list(conn.execute(select(notify_outbox).where(
            notify_outbox.c.batch_key == batch_key).order_by(notify_outbox.c.id)).all())


def _due(db: Database, at: datetime, limit: int = 10) -> list[str]:
    with db.read() as conn:
        return outbox.due_batches(conn, at, at - LEASE, limit)


def _next_due(db: Database, at: datetime) -> datetime | None:
    with db.read() as conn:
        return outbox.next_due(conn, at - LEASE)


def test_a_claim_belongs_to_one_worker_until_its_lease_runs_out(db: Database) -> None:
    _add(db, "b", timedelta(minutes=-1), "one@x.example")
    _add(db, "b", timedelta(minutes=-1), "two@x.example")
    ids = [r.id for r in _rows(db, "b")]

    mine = _claim(db, "b", "w1", NOW)
    assert [(r.id, r.claimed_by, r.claimed_at) for r in mine] == [
        (ids[0], "w1", NOW), (ids[1], "w1", NOW)]
    assert _claim(db, "b", "w2", NOW + timedelta(minutes=9)) == []  # held
    assert _due(db, NOW + timedelta(minutes=9)) == []
    assert _claim(db, "b", "w2", NOW + LEASE) == []  # held to the end of the lease
    assert _due(db, NOW + LEASE) == []

    # w1 died: once the lease is over the batch is due again and w2 takes it over.
    later = NOW + timedelta(minutes=11)
    assert _due(db, later) == ["b"]
    taken = _claim(db, "b", "w2", later)
    assert [(r.id, r.claimed_by) for r in taken] == [(ids[0], "w2"), (ids[1], "w2")]
    with db.write() as conn:
        assert outbox.mark_sent(conn, ids, "w1", later) == 0  # no longer w1's
        assert outbox.mark_sent(conn, ids, "w2", later) == 2
        assert outbox.mark_sent(conn, ids, "w2", later + timedelta(seconds=1)) == 0  # once
        # The same record run again (after a COMMIT lost with its connection) answers
        # as the first did, and changes nothing.
        assert outbox.mark_sent(conn, ids, "w2", later) == 2
    assert [r.sent_at for r in _rows(db, "b")] == [later, later]
    assert _claim(db, "b", "w3", later + timedelta(hours=1)) == []
    assert _due(db, later + timedelta(hours=1)) == []


def test_it_lists_due_batches_by_their_earliest_row(db: Database) -> None:
    assert _next_due(db, NOW) is None
    _add(db, "later", timedelta(minutes=5))
    _add(db, "mixed", timedelta(minutes=10))
    _add(db, "mixed", timedelta(minutes=-5))
    _add(db, "oldest", timedelta(minutes=-10))
    _add(db, "exact", timedelta(0))
    assert _due(db, NOW) == ["oldest", "mixed", "exact"]
    assert _due(db, NOW, limit=1) == ["oldest"]
    assert _due(db, NOW + timedelta(minutes=5)) == ["oldest", "mixed", "exact", "later"]
    assert _next_due(db, NOW) == NOW - timedelta(minutes=10)

    _claim(db, "oldest", "w1", NOW)
    assert _due(db, NOW) == ["mixed", "exact"]
    assert _next_due(db, NOW) == NOW - timedelta(minutes=5)  # the claimed row waits
    assert _next_due(db, NOW + timedelta(minutes=11)) == NOW - timedelta(minutes=10)


def test_a_worker_marks_only_the_rows_it_names(db: Database) -> None:
    _add(db, "x", timedelta(minutes=-1))
    _add(db, "y", timedelta(minutes=-1))
    x = [r.id for r in _claim(db, "x", "w1", NOW)]
    y = [r.id for r in _claim(db, "y", "w1", NOW)]
    with db.write() as conn:
        assert outbox.mark_sent(conn, x, "w1", NOW) == 1
    assert [r.sent_at for r in _rows(db, "y")] == [None]
    with db.write() as conn:
        outbox.mark_failed(conn, x, "w1", NOW, "too late: sent")
        outbox.reschedule(conn, x, "w1", NOW, "too late: sent")
        outbox.release(conn, x, "w1")
    [sent] = _rows(db, "x")
    assert (sent.failed_at, sent.last_error, sent.attempts, sent.claimed_by) == (
        None, None, 0, "w1")
    with db.write() as conn:
        assert outbox.mark_sent(conn, y, "w1", NOW) == 1


def test_a_failure_is_recorded_once_and_for_good(db: Database) -> None:
    _add(db, "f", timedelta(minutes=-1))
    ids = [r.id for r in _claim(db, "f", "w1", NOW)]
    reason = "550 no such user " + "x" * 1500
    with db.write() as conn:
        outbox.mark_failed(conn, ids, "w2", NOW, "not w2's to fail")
        outbox.mark_failed(conn, ids, "w1", NOW, reason)
        outbox.mark_failed(conn, ids, "w1", NOW, "failed twice")  # already given up
    [row] = _rows(db, "f")
    assert (row.failed_at, row.last_error, row.attempts, row.sent_at) == (
        NOW, reason[:1000], 1, None)
    assert _due(db, NOW + timedelta(days=1)) == []
    assert _next_due(db, NOW + timedelta(days=1)) is None


def test_a_retry_hands_the_rows_back_for_later(db: Database) -> None:
    _add(db, "r", timedelta(minutes=-1))
    ids = [r.id for r in _claim(db, "r", "w1", NOW)]
    reason = "421 try again later " + "y" * 1500
    retry_at = NOW + timedelta(minutes=2)
    with db.write() as conn:
        outbox.reschedule(conn, ids, "w2", retry_at + timedelta(hours=1), "not w2's")
        outbox.reschedule(conn, ids, "w1", retry_at, reason)
    [row] = _rows(db, "r")
    assert (row.claimed_at, row.claimed_by, row.due_at, row.last_error, row.attempts) == (
        None, None, retry_at, reason[:1000], 1)
    assert _due(db, NOW) == []
    assert _next_due(db, NOW) == retry_at
    assert [r.id for r in _claim(db, "r", "w2", retry_at)] == ids
    with db.write() as conn:
        outbox.reschedule(conn, ids, "w2", retry_at + timedelta(minutes=4), "again")
    assert _rows(db, "r")[0].attempts == 2


def test_a_stopping_worker_releases_its_rows_untried(db: Database) -> None:
    _add(db, "s", timedelta(minutes=-1))
    ids = [r.id for r in _claim(db, "s", "w1", NOW)]
    with db.write() as conn:
        outbox.release(conn, ids, "w2")  # not w2's: still held
    assert _claim(db, "s", "w3", NOW) == []
    with db.write() as conn:
        outbox.release(conn, ids, "w1")
    [row] = _rows(db, "s")
    assert (row.claimed_at, row.claimed_by, row.attempts, row.last_error) == (None, None, 0, None)
    assert _due(db, NOW) == ["s"]


def test_it_tells_the_thread_that_enqueued_and_no_other(db: Database) -> None:
    outbox.take_written()  # forget what earlier tests on this thread wrote
    assert outbox.take_written() is False
    _add(db, "w", timedelta(minutes=1))
    assert outbox.take_written() is True
    assert outbox.take_written() is False
    seen: list[bool] = []
    _add(db, "w", timedelta(minutes=1))
    other = threading.Thread(target=lambda: seen.append(outbox.take_written()))
    other.start()
    other.join()
    assert seen == [False]
    assert outbox.take_written() is True


def test_it_keeps_at_most_200_characters_of_a_batch_key(db: Database) -> None:
    long = "k" * 250
    _add(db, long, timedelta(minutes=-1))
    assert [r.batch_key for r in _rows(db, long[:200])] == [long[:200]]


# -- through the server: what the links a row keeps are for -------------------------------


def test_the_confirmation_names_the_site_it_was_asked_from(notify: NotifyServer,
                                                           http: httpx.Client) -> None:
    site, mail = notify.new_site(), address()
    notify.subscribe(http, site, "/named/", mail)
    deliver(notify, later=False)
    [confirmation] = notify.mailbox.to(mail)
    assert site.title() in confirmation["Subject"]
    assert site.title() in parts(confirmation)[0]


def test_ending_a_subscription_drops_the_mail_it_had_queued(notify: NotifyServer,
                                                            http: httpx.Client) -> None:
    site, mail = notify.new_site(), address()
    subscribed(notify, http, site, "/ended/", mail)
    ben = notify.reader(http, site, "Ben")
    assert ben.post("/ended/", "Sent before the end").status_code == 201
    deliver(notify)
    first = notify.mailbox.to(mail)[-1]
    assert "Sent before the end" in parts(first)[0]
    # Queued for the next batch, then the reader unsubscribes before it leaves.
    assert ben.post("/ended/", "Queued before the end").status_code == 201
    done = http.post(unsubscribe_header(first), content=b"List-Unsubscribe=One-Click",
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert done.status_code == 200
    count = len(notify.mailbox.to(mail))
    deliver(notify)
    assert len(notify.mailbox.to(mail)) == count
