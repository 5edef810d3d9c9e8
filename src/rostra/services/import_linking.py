"""The end of an import from another system: its replies tied to their parents by
source id, then roots and depths, reply counts and thread counts, all in SQL."""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, exists, func, or_, select, update

from rostra.core.models import CommentState
from rostra.store import changes
from rostra.store.bulk import chunks
from rostra.store.changes import Change, ChangeKind
from rostra.store.import_tables import import_items
from rostra.store.tables import comments, threads

ID_RANGE = 20_000  # comments one finishing UPDATE covers
THREAD_CHUNK = 200  # threads one finishing UPDATE covers


@dataclass(frozen=True, slots=True)
class Linked:
    """What tying a run's replies found: replies whose parent was not in the file
    (``missing``; ``skipped_parents`` of them to a comment the import skipped) or formed
    a loop of parents (``looped``) became top-level."""

    missing: int
    looped: int
    skipped_parents: int = 0  # of ``missing``: replies to a comment the import skipped


def _run_comments(run_id: int, low: int | None = None, high: int | None = None) -> Any:
    """Ids of the comments this run wrote (between ``low`` and ``high``)."""
    query = select(import_items.c.target_id).where(
        import_items.c.run_id == run_id, import_items.c.kind == "comment"
    )
    if low is not None and high is not None:
        query = query.where(import_items.c.target_id.between(low, high))
    return query


def link_run_comments(
    conn: Connection, run_id: int, skipped: Container[str] = frozenset()
) -> Linked:
    """Parents from source ids, then roots and depths, reply counts and thread counts,
    for the comments run ``run_id`` wrote.

    Every UPDATE covers one range of ids (or of threads) at a time: on SQLite a
    statement keeps a journal of every page it changes, so one statement over a
    million comments would hold hundreds of MiB."""
    child, parent = import_items.alias("child"), import_items.alias("parent")
    ranges = _id_ranges(conn, run_id)
    parent_target = (
        select(parent.c.target_id)
        .select_from(child.join(parent, and_(
            parent.c.site_id == child.c.site_id, parent.c.source == child.c.source,
            parent.c.kind == "comment", parent.c.source_id == child.c.parent_source_id,
        )))
        .where(child.c.kind == "comment", child.c.target_id == comments.c.id,
               child.c.run_id == run_id)
        .scalar_subquery()
    )
    pc = comments.alias("pc")
    missing = skipped_parents = 0
    for lo, hi in ranges:
        in_range = comments.c.id.between(lo, hi)
        run_comments = _run_comments(run_id, lo, hi)
        with_parent = run_comments.where(import_items.c.parent_source_id.is_not(None))
        conn.execute(update(comments).where(in_range, comments.c.id.in_(with_parent))
                     .values(parent_id=parent_target))
        # A parent in another thread is as good as missing.
        conn.execute(
            update(comments)
            .where(in_range, comments.c.id.in_(with_parent),
                   comments.c.parent_id.is_not(None),
                   select(pc.c.thread_id).where(pc.c.id == comments.c.parent_id)
                   .scalar_subquery() != comments.c.thread_id)
            .values(parent_id=None)
        )
        orphans = list(conn.scalars(
            select(import_items.c.parent_source_id).where(
                import_items.c.run_id == run_id, import_items.c.kind == "comment",
                import_items.c.target_id.between(lo, hi),
                import_items.c.parent_source_id.is_not(None),
                import_items.c.target_id.in_(
                    select(comments.c.id).where(in_range, comments.c.parent_id.is_(None))),
            )
        ))
        missing += len(orphans)
        skipped_parents += sum(1 for p in orphans if p in skipped)
        conn.execute(
            update(comments)
            .where(in_range, comments.c.id.in_(run_comments), comments.c.parent_id.is_(None))
            .values(root_id=comments.c.id, depth=0)
        )
    while True:
        done = 0
        for lo, hi in ranges:
            done += conn.execute(
                update(comments)
                .where(
                    comments.c.id.between(lo, hi),
                    comments.c.id.in_(_run_comments(run_id, lo, hi)),
                    comments.c.root_id.is_(None),
                    exists(select(pc.c.id).where(pc.c.id == comments.c.parent_id,
                                                 pc.c.root_id.is_not(None))),
                )
                .values(
                    root_id=select(pc.c.root_id).where(pc.c.id == comments.c.parent_id)
                    .scalar_subquery(),
                    depth=select(pc.c.depth + 1).where(pc.c.id == comments.c.parent_id)
                    .scalar_subquery(),
                )
            ).rowcount
        if not done:
            break
    looped = 0
    for lo, hi in ranges:
        looped += conn.execute(
            update(comments)
            .where(comments.c.id.between(lo, hi),
                   comments.c.id.in_(_run_comments(run_id, lo, hi)),
                   comments.c.root_id.is_(None))
            .values(parent_id=None, root_id=comments.c.id, depth=0)
        ).rowcount
    touched = sorted(int(t) for t in conn.scalars(
        select(comments.c.thread_id).where(comments.c.id.in_(_run_comments(run_id)))
        .distinct()))
    reply = comments.alias("reply")
    now = datetime.now(UTC)
    for chunk in chunks(touched, THREAD_CHUNK):
        in_chunk = comments.c.thread_id.in_(list(chunk))
        max_depth = conn.scalar(select(func.max(comments.c.depth)).where(in_chunk))
        # Bottom up: a tombstone counts as a reply only while it has visible replies.
        for depth in range(int(max_depth or 0), -1, -1):
            conn.execute(
                update(comments)
                .where(in_chunk, comments.c.depth == depth)
                .values(reply_count=select(func.count()).select_from(reply).where(
                    reply.c.parent_id == comments.c.id,
                    or_(reply.c.state == CommentState.APPROVED.value,
                        reply.c.reply_count > 0),
                ).scalar_subquery())
            )
        conn.execute(update(threads).where(threads.c.id.in_(list(chunk)))
                     .values(recounted(now)))
        # The other processes hear of it at commit (the change bus; past 500 threads,
        # a message to look at everything again), not at their next poll.
        for row in conn.execute(select(threads.c.id, threads.c.site_id, threads.c.key)
                                .where(threads.c.id.in_(list(chunk)))):
            changes.record(conn, Change(ChangeKind.THREAD, row.site_id, row.key, row.id, now))
    return Linked(missing, looped, skipped_parents)


def recounted(now: datetime) -> dict[str, Any]:
    """Values for an UPDATE of threads: their counts as their comments are now, and
    ``now`` as the stamp that tells caches they changed."""
    approved = and_(comments.c.thread_id == threads.c.id,
                    comments.c.state == CommentState.APPROVED.value)
    return {
        "comment_count": select(func.count()).select_from(comments).where(approved)
        .scalar_subquery(),
        "top_level_count": select(func.count()).select_from(comments)
        .where(approved, comments.c.parent_id.is_(None)).scalar_subquery(),
        "updated_at": now,
    }


def _id_ranges(conn: Connection, run_id: int) -> list[tuple[int, int]]:
    """The ids of this run's comments as ranges of at most ID_RANGE ids."""
    low, high = conn.execute(
        select(func.min(import_items.c.target_id), func.max(import_items.c.target_id))
        .where(import_items.c.run_id == run_id, import_items.c.kind == "comment")
    ).one()
    if low is None:
        return []
    return [(start, min(start + ID_RANGE - 1, int(high)))
            for start in range(int(low), int(high) + 1, ID_RANGE)]
