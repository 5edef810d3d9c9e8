"""The outbox: messages written with the change that causes them, claimed by workers.

Rows sharing a ``batch_key`` leave as one message once the earliest of them is due.
A worker claims rows with ``UPDATE … WHERE claimed_at IS NULL`` (and, on PostgreSQL,
first ``SELECT … FOR UPDATE SKIP LOCKED`` so that workers pass each other by), so each
row belongs to one worker at a time; a claim older than the lease is taken to be a
dead worker's and may be claimed again. Sent and given-up rows are pruned after the
retention period (``prune``); nothing reads them to decide what to send.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, and_, delete, func, insert, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from rostra.notify.model import Channel, MessageKind
from rostra.store.notify_tables import notify_outbox as outbox
from rostra.store.tables import comments

# The states a comment announced already may come back from (a moderator approves it
# again): a digest row about one waits for the decision instead of leaving without it.
UNDECIDED = ("pending", "spam", "rejected")

# Which threads wrote outbox rows since they last asked: a comment listener wakes the
# worker only after a transaction that gave it work (most posts give it none).
_written = threading.local()


def take_written() -> bool:
    """True when this thread enqueued a message since the last call (then forgets it)."""
    written = getattr(_written, "flag", False)
    _written.flag = False
    return written


def enqueue(
    conn: Connection,
    *,
    channel: Channel,
    kind: MessageKind,
    batch_key: str,
    recipient: str,
    payload: dict[str, Any],
    now: datetime,
    due_at: datetime,
    address_id: int | None = None,
    subscription_id: int | None = None,
    webhook_id: int | None = None,
    site_id: str | None = None,
    thread_id: int | None = None,
    comment_id: int | None = None,
) -> None:
    """Add one message part inside the caller's transaction."""
    conn.execute(
        insert(outbox).values(
            channel=channel.value, kind=kind.value, batch_key=batch_key[:200],
            recipient=recipient, address_id=address_id, subscription_id=subscription_id,
            webhook_id=webhook_id, site_id=site_id, thread_id=thread_id, comment_id=comment_id,
            payload=payload, created_at=now, due_at=due_at, attempts=0,
        )
    )
    _written.flag = True


def _claimable(stale_before: datetime) -> ColumnElement[bool]:
    return and_(
        outbox.c.sent_at.is_(None),
        outbox.c.failed_at.is_(None),
        or_(outbox.c.claimed_at.is_(None), outbox.c.claimed_at < stale_before),
    )


def due_batches(
    conn: Connection, now: datetime, stale_before: datetime, limit: int
) -> list[str]:
    """Batch keys whose earliest claimable row is due, oldest first."""
    earliest = func.min(outbox.c.due_at)
    rows = conn.execute(
        select(outbox.c.batch_key)
        .where(_claimable(stale_before))
        .group_by(outbox.c.batch_key)
        .having(earliest <= now)
        .order_by(earliest)
        .limit(limit)
    ).all()
    return [row.batch_key for row in rows]


def next_due(conn: Connection, stale_before: datetime) -> datetime | None:
    """When the next claimable row falls due (None when there is none)."""
    value: datetime | None = conn.execute(
        select(func.min(outbox.c.due_at)).where(_claimable(stale_before))
    ).scalar()
    return value


def claim(
    conn: Connection,
    batch_key: str,
    worker_id: str,
    now: datetime,
    stale_before: datetime,
    *,
    skip_locked: bool,
) -> list[Row[Any]]:
    """Claim every claimable row of a batch for ``worker_id``; the rows it got."""
    condition = and_(outbox.c.batch_key == batch_key, _claimable(stale_before))
    if skip_locked:
        ids = list(
            conn.execute(
                select(outbox.c.id).where(condition).with_for_update(skip_locked=True)
            ).scalars()
        )
        if not ids:
            return []
        condition = and_(outbox.c.id.in_(ids), _claimable(stale_before))
    rows = conn.execute(
        update(outbox)
        .where(condition)
        .values(claimed_at=now, claimed_by=worker_id)
        .returning(*outbox.c)
    ).all()
    return sorted(rows, key=lambda r: r.id)


def _mine(ids: Sequence[int], worker_id: str) -> ColumnElement[bool]:
    return and_(outbox.c.id.in_(list(ids)), outbox.c.claimed_by == worker_id,
                outbox.c.sent_at.is_(None), outbox.c.failed_at.is_(None))


def mark_sent(conn: Connection, ids: Sequence[int], worker_id: str, now: datetime) -> int:
    """Record delivery at ``now``; returns how many of the rows were still this worker's.
    Rows it recorded at ``now`` already count too, so that running it again after a
    COMMIT that may have gone through answers as the first run did."""
    return conn.execute(
        update(outbox).where(
            outbox.c.id.in_(list(ids)), outbox.c.claimed_by == worker_id,
            outbox.c.failed_at.is_(None),
            or_(outbox.c.sent_at.is_(None), outbox.c.sent_at == now),
        ).values(sent_at=now)
    ).rowcount


def mark_failed(
    conn: Connection, ids: Sequence[int], worker_id: str, now: datetime, reason: str
) -> None:
    """Give the rows up for good (a permanent error, or nothing left to send)."""
    conn.execute(
        update(outbox).where(_mine(ids, worker_id)).values(
            failed_at=now, last_error=reason[:1000], attempts=outbox.c.attempts + 1
        )
    )


def reschedule(
    conn: Connection, ids: Sequence[int], worker_id: str, due_at: datetime, reason: str
) -> None:
    """Hand the rows back for another attempt at ``due_at``."""
    conn.execute(
        update(outbox).where(_mine(ids, worker_id)).values(
            claimed_at=None, claimed_by=None, due_at=due_at, last_error=reason[:1000],
            attempts=outbox.c.attempts + 1,
        )
    )


def set_aside_undecided(conn: Connection, ids: Sequence[int], worker_id: str,
                        until: datetime, created_after: datetime) -> list[int]:
    """Hand back, due at ``until``, the claimed digest rows among ``ids`` whose comment
    went back to the queue (``UNDECIDED``) after its announcement had reached someone,
    rows written after ``created_after`` (an older one leaves without it, as one about a
    comment rejected for good). Returns their ids. ``bring_forward`` sends them on when
    the comment is approved again. The comment's state is read by this statement, so a
    concurrent approval either comes first (not set aside) or brings them forward after."""
    undecided = select(comments.c.id).where(comments.c.state.in_(UNDECIDED))
    return list(conn.execute(
        update(outbox).where(
            _mine(ids, worker_id), outbox.c.kind == MessageKind.DIGEST.value,
            outbox.c.created_at > created_after, outbox.c.comment_id.in_(undecided),
        ).values(claimed_at=None, claimed_by=None, due_at=until).returning(outbox.c.id)
    ).scalars())


def bring_forward(conn: Connection, comment_id: int, due_at: datetime) -> None:
    """A comment announced before is approved again: its digest rows not sent yet (set
    aside by ``set_aside_undecided``) are due at ``due_at``, if they were due later."""
    conn.execute(update(outbox).where(
        outbox.c.comment_id == comment_id, outbox.c.kind == MessageKind.DIGEST.value,
        outbox.c.sent_at.is_(None), outbox.c.failed_at.is_(None), outbox.c.due_at > due_at,
    ).values(due_at=due_at))


def release(conn: Connection, ids: Sequence[int], worker_id: str) -> None:
    """Hand the rows back untried (the worker is stopping)."""
    conn.execute(
        update(outbox).where(_mine(ids, worker_id)).values(claimed_at=None, claimed_by=None)
    )


def prune(
    conn: Connection, *, before: datetime, staff_failures_before: datetime, limit: int
) -> int:
    """Delete up to ``limit`` rows sent or given up before ``before``, the oldest first
    (sent ones, then given-up ones); a failed moderator alert only once it failed before
    ``staff_failures_before`` too (the admin lists those). Rows not sent yet are never
    touched. Returns how many went. Done twice, it deletes once: the rows of a first run
    are gone for the second."""
    deleted = _prune_oldest(conn, outbox.c.sent_at, outbox.c.sent_at < before, limit)
    if deleted < limit:
        given_up = and_(outbox.c.failed_at < before,
                        or_(outbox.c.kind != MessageKind.MODERATOR.value,
                            outbox.c.failed_at < staff_failures_before))
        deleted += _prune_oldest(conn, outbox.c.failed_at, given_up, limit - deleted)
    return deleted


def _prune_oldest(conn: Connection, stamp: ColumnElement[Any], old: ColumnElement[bool],
                  limit: int) -> int:
    # The ids first, a chunk at a time, so that a huge backlog never holds a long lock.
    # Read in the order of the stamp's index (ix_notify_outbox_sent, _failed), they cost
    # about the rows that go, not the whole table: with one OR over both stamps, or in
    # the order of ids, SQLite scanned the table instead. Deleted by id in a second
    # statement: PostgreSQL may join a subquery of them by scanning the table.
    ids = list(conn.scalars(select(outbox.c.id).where(old).order_by(stamp).limit(limit)))
    if not ids:
        return 0
    return conn.execute(delete(outbox).where(outbox.c.id.in_(ids))).rowcount
