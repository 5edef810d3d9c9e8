"""Queries the services run. Every value reaches SQL as a bound parameter."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Row,
    bindparam,
    false,
    func,
    insert,
    or_,
    select,
    true,
    tuple_,
    update,
)

from rostra.core.models import CommentState, SortOrder
from rostra.store import changes
from rostra.store.db import at_commit
from rostra.store.tables import (
    RANKED_SCORE,
    comments,
    sites,
    thread_aliases,
    threads,
    votes,
)

# A comment shows in the tree when approved, or as a tombstone (no author, no text) when
# it is not approved but has visible replies. reply_count counts visible direct replies.
VISIBLE = or_(comments.c.state == CommentState.APPROVED.value, comments.c.reply_count > 0)


def is_visible(state: str, reply_count: int) -> bool:
    return state == CommentState.APPROVED.value or reply_count > 0


def ranked_score(row: Any) -> int:
    """``tables.RANKED_SCORE`` of a row read with ``PUBLIC_COLUMNS``: where its page ends."""
    return int(row.score) if row.state == CommentState.APPROVED.value else 0

PUBLIC_COLUMNS = (
    comments.c.id,
    comments.c.parent_id,
    comments.c.root_id,
    comments.c.state,
    comments.c.author_name,
    comments.c.author_website,
    comments.c.html,
    comments.c.created_at,
    comments.c.edited_at,
    comments.c.score,
    comments.c.upvotes,
    comments.c.downvotes,
    comments.c.reply_count,
    comments.c.anchor,
    comments.c.voter_id,  # never sent: hashed into the author's avatar
    comments.c.account_id,
)


@dataclass(frozen=True, slots=True)
class Keyset:
    """Position after the last top-level comment of a page."""

    created_at: datetime
    id: int
    score: int | None = None


# Statements on the write path are built once: building Core constructs per call costs
# more than running them on SQLite.
_THREAD_BY_KEY = select(threads).where(
    threads.c.site_id == bindparam("site_id"), threads.c.key == bindparam("key")
)
_THREAD_BY_ALIAS = (
    select(threads)
    .join(thread_aliases, thread_aliases.c.thread_id == threads.c.id)
    .where(thread_aliases.c.site_id == bindparam("site_id"),
           thread_aliases.c.key == bindparam("key"))
)
_THREAD_BY_ID = select(threads).where(threads.c.id == bindparam("thread_id"))
_SITE_BY_ID = select(sites).where(sites.c.id == bindparam("site_id"))
_COMMENT_BY_ID = select(comments).where(comments.c.id == bindparam("comment_id"))
_BUMP_READ_THREAD = (
    update(threads)
    .where(threads.c.id == bindparam("thread_id"))
    .values(
        updated_at=bindparam("now"),
        comment_count=threads.c.comment_count + bindparam("d_comments"),
        top_level_count=threads.c.top_level_count + bindparam("d_top"),
    )
)
_BUMP_THREAD = _BUMP_READ_THREAD.returning(threads.c.site_id, threads.c.key)


def find_thread(conn: Connection, site_id: str, key: str) -> Row[Any] | None:
    """The thread stored under ``key`` or one of its aliases."""
    params = {"site_id": site_id, "key": key}
    row = conn.execute(_THREAD_BY_KEY, params).first()
    if row is not None:
        return row
    return conn.execute(_THREAD_BY_ALIAS, params).first()


def count_comments(conn: Connection, ids: Sequence[int]) -> int:
    """How many of the comments ``ids`` are stored."""
    return int(conn.execute(select(func.count()).select_from(comments)
                            .where(comments.c.id.in_(ids))).scalar_one())


def thread_by_id(conn: Connection, thread_id: int) -> Row[Any] | None:
    return conn.execute(_THREAD_BY_ID, {"thread_id": thread_id}).first()


def site_row(conn: Connection, site_id: str) -> Row[Any] | None:
    return conn.execute(_SITE_BY_ID, {"site_id": site_id}).first()


def comment_row(conn: Connection, comment_id: int) -> Row[Any] | None:
    return conn.execute(_COMMENT_BY_ID, {"comment_id": comment_id}).first()


def locked_comment(conn: Connection, row: Row[Any]) -> Row[Any]:
    """The comment of ``row`` read again with its row locked until the transaction ends
    (on PostgreSQL; SQLite's writes go one at a time), so that two decisions on it at
    once (two moderators, a moderator and readers' flags, its author deleting it) each
    see the state the other left: a decision reading it unlocked counted its change
    from a state another had already left, and the thread's and parent's counts
    drifted for good. Its parent is locked first: a posting batch locks parents in the
    order of their ids, replies' ids are above their parents', and the two then never
    wait for each other in a circle. FOR NO KEY UPDATE, as a posting batch's counts:
    a reply being stored holds its parent FOR KEY SHARE, which this does not wait for."""
    if conn.dialect.name != "postgresql":
        return row
    if row.parent_id is not None:
        conn.execute(select(comments.c.id).where(comments.c.id == row.parent_id)
                     .with_for_update(key_share=True))
    fresh = conn.execute(select(comments).where(comments.c.id == row.id)
                         .with_for_update(key_share=True)).first()
    return fresh if fresh is not None else row


def top_level_page(
    conn: Connection,
    thread_id: int,
    sort: SortOrder,
    limit: int | None,
    after: Keyset | None,
    exclude: Sequence[int] = (),
) -> Sequence[Any]:
    """Visible top-level comments in ``sort`` order after ``after``; ``limit`` None is all.
    ``exclude`` leaves out comments shown elsewhere (pinned ones, above the first page)."""
    c = comments.c
    query = select(*PUBLIC_COLUMNS).where(c.thread_id == thread_id, c.parent_id.is_(None), VISIBLE)
    if exclude:
        query = query.where(c.id.not_in(list(exclude)))
    if sort is SortOrder.OLDEST:
        if after is not None:
            query = query.where(tuple_(c.created_at, c.id) > tuple_(after.created_at, after.id))
        query = query.order_by(c.created_at.asc(), c.id.asc())
    elif sort is SortOrder.NEWEST:
        if after is not None:
            query = query.where(tuple_(c.created_at, c.id) < tuple_(after.created_at, after.id))
        query = query.order_by(c.created_at.desc(), c.id.desc())
    else:
        if after is not None:
            query = query.where(
                tuple_(RANKED_SCORE, c.created_at, c.id)
                < tuple_(after.score or 0, after.created_at, after.id)
            )
        query = query.order_by(RANKED_SCORE.desc(), c.created_at.desc(), c.id.desc())
    if limit is not None:
        query = query.limit(limit)
    return conn.execute(query).all()


def voted_since(
    conn: Connection, thread_id: int, since: datetime, before: Keyset
) -> Sequence[Any]:
    """Top-level comments voted on since ``since`` that now rank above ``before``.

    Under Most Voted a comment can climb past the page boundary after the first page
    was read; these are sent again so that none is skipped.
    """
    c = comments.c
    query = (
        select(*PUBLIC_COLUMNS)
        .where(
            c.thread_id == thread_id,
            c.parent_id.is_(None),
            VISIBLE,
            c.voted_at > since,
            tuple_(RANKED_SCORE, c.created_at, c.id)
            >= tuple_(before.score or 0, before.created_at, before.id),
        )
        .order_by(RANKED_SCORE.desc(), c.created_at.desc(), c.id.desc())
    )
    return conn.execute(query).all()


def highlights_in_thread(conn: Connection, thread_id: int) -> dict[int, str]:
    """{comment id: "pinned" | "featured"} for the thread's comments staff picked out."""
    from rostra.store.staff_tables import comment_pins

    rows = conn.execute(
        select(comment_pins.c.comment_id, comment_pins.c.kind)
        .join(comments, comments.c.id == comment_pins.c.comment_id)
        .where(comments.c.thread_id == thread_id)
    )
    return {comment_id: kind for comment_id, kind in rows}


def staff_accounts(conn: Connection, site_id: str, account_ids: Iterable[int]) -> set[int]:
    """The reader accounts among ``account_ids`` that are the site's staff now: tied to
    an enabled staff user with a role on the site, or marked staff by the site's own
    single sign-on. Their comments carry the "Staff" badge."""
    from rostra.store.account_tables import reader_accounts
    from rostra.store.staff_tables import staff_roles, staff_users

    wanted = sorted(set(account_ids))
    if not wanted:
        return set()
    has_role = (
        select(staff_roles.c.user_id)
        .join(staff_users, staff_users.c.id == staff_roles.c.user_id)
        .where(staff_roles.c.user_id == reader_accounts.c.staff_user_id,
               staff_roles.c.site_id == site_id, staff_users.c.disabled == false())
        .exists()
    )
    return set(conn.scalars(
        select(reader_accounts.c.id).where(
            reader_accounts.c.id.in_(wanted), reader_accounts.c.site_id == site_id,
            or_(reader_accounts.c.sso_staff == true(), has_role),
        )
    ))


def authors_of(conn: Connection, ids: Sequence[int]) -> Sequence[Any]:
    """(id, account_id, author_email, voter_id) of comments: who wrote them, for the
    trust a site gives authors (never sent to readers)."""
    if not ids:
        return []
    return conn.execute(
        select(comments.c.id, comments.c.account_id, comments.c.author_email,
               comments.c.voter_id).where(comments.c.id.in_(list(ids)))
    ).all()


def author_histories(conn: Connection, site_id: str, authors: Sequence[str]) -> Sequence[Any]:
    """The decided comments of these authors on the site (author_stats rows)."""
    from rostra.store.moderation_tables import author_stats

    if not authors:
        return []
    return conn.execute(
        select(author_stats).where(author_stats.c.site_id == site_id,
                                   author_stats.c.author.in_(list(authors)))
    ).all()


def notes_in_thread(conn: Connection, thread_id: int) -> Sequence[Any]:
    """The context notes shown under the thread's comments, oldest first."""
    from rostra.store.notes_tables import comment_notes

    return conn.execute(
        select(comment_notes.c.id, comment_notes.c.comment_id, comment_notes.c.html,
               comment_notes.c.sources, comment_notes.c.staff_author,
               comment_notes.c.created_at)
        .join(comments, comments.c.id == comment_notes.c.comment_id)
        .where(comments.c.thread_id == thread_id, comment_notes.c.shown.is_(True))
        .order_by(comment_notes.c.id)
    ).all()


def pinned_top_level(conn: Connection, ids: Sequence[int]) -> Sequence[Any]:
    """The visible top-level comments among ``ids``, oldest first."""
    if not ids:
        return []
    c = comments.c
    return conn.execute(
        select(*PUBLIC_COLUMNS)
        .where(c.id.in_(list(ids)), c.parent_id.is_(None), VISIBLE)
        .order_by(c.created_at.asc(), c.id.asc())
    ).all()


def published_comments(conn: Connection, thread_id: int, ids: Sequence[int]) -> Sequence[Any]:
    """The approved comments of the thread among ``ids``, oldest first."""
    c = comments.c
    return conn.execute(
        select(*PUBLIC_COLUMNS)
        .where(c.id.in_(list(ids)), c.thread_id == thread_id,
               c.state == CommentState.APPROVED.value)
        .order_by(c.created_at.asc(), c.id.asc())
    ).all()


def replies_of_roots(conn: Connection, root_ids: Iterable[int]) -> Sequence[Any]:
    """All visible replies under the given top-level comments, oldest first."""
    ids = list(root_ids)
    if not ids:
        return []
    c = comments.c
    rows: list[Any] = []
    # Bounded IN lists: SQLite caps bound parameters.
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows.extend(
            conn.execute(
                select(*PUBLIC_COLUMNS)
                .where(c.root_id.in_(chunk), c.parent_id.is_not(None), VISIBLE)
                .order_by(c.created_at.asc(), c.id.asc())
            ).all()
        )
    return rows


def counts_for_keys(conn: Connection, site_id: str, keys: Sequence[str]) -> dict[str, int]:
    """Visible comment counts by thread key (aliases included); unknown keys are absent."""
    out: dict[str, int] = {}
    for start in range(0, len(keys), 500):
        chunk = list(keys[start : start + 500])
        for key, count in conn.execute(
            select(threads.c.key, threads.c.comment_count).where(
                threads.c.site_id == site_id, threads.c.key.in_(chunk)
            )
        ):
            out[key] = count
        missing = [k for k in chunk if k not in out]
        if missing:
            for key, count in conn.execute(
                select(thread_aliases.c.key, threads.c.comment_count)
                .join(threads, threads.c.id == thread_aliases.c.thread_id)
                .where(thread_aliases.c.site_id == site_id, thread_aliases.c.key.in_(missing))
            ):
                out[key] = count
    return out


def votes_in_thread(conn: Connection, thread_id: int, voter: str) -> dict[int, int]:
    rows = conn.execute(
        select(votes.c.comment_id, votes.c.value)
        .join(comments, comments.c.id == votes.c.comment_id)
        .where(comments.c.thread_id == thread_id, votes.c.voter == voter)
    )
    return {comment_id: value for comment_id, value in rows}


def bump_thread(
    conn: Connection, thread_id: int, now: datetime, *, comment_count: int = 0,
    top_level_count: int = 0,
) -> None:
    """Mark the thread changed (caches compare updated_at; other processes hear of it when
    the transaction commits) and adjust its counters."""
    row = conn.execute(_BUMP_THREAD, {"thread_id": thread_id, "now": now,
                                      "d_comments": comment_count,
                                      "d_top": top_level_count}).first()
    if row is not None:
        changes.record(conn, changes.Change(changes.ChangeKind.THREAD, row.site_id, row.key,
                                            thread_id, now))


def bump_read_thread(
    conn: Connection, thread: Row[Any], now: datetime, *, comment_count: int = 0,
    top_level_count: int = 0,
) -> None:
    """``bump_thread`` for a thread this transaction has read: its row says what
    changed, and the UPDATE goes with the commit (one round trip on PostgreSQL)."""
    at_commit(conn, _BUMP_READ_THREAD, {"thread_id": thread.id, "now": now,
                                        "d_comments": comment_count,
                                        "d_top": top_level_count})
    changes.record(conn, changes.Change(changes.ChangeKind.THREAD, thread.site_id,
                                        thread.key, thread.id, now))


STAFF_STAMP = "staff_changed"


def staff_changed(conn: Connection, site_id: str) -> None:
    """Note, in the current transaction, that who is the site's staff changed: every page
    of the site showing the "Staff" badge is out of date. Processes hear of it from the
    change bus, and by polling ``staff_stamp`` where there is none."""
    import secrets

    from rostra.store.tables import meta

    changes.record(conn, changes.Change(changes.ChangeKind.STAFF, site_id))
    stamp = secrets.token_hex(8)
    if conn.execute(update(meta).where(meta.c.key == STAFF_STAMP)
                    .values(value=stamp)).rowcount == 0:
        conn.execute(insert(meta).values(key=STAFF_STAMP, value=stamp))


def staff_stamp(conn: Connection) -> str | None:
    """Changes with every ``staff_changed``."""
    from rostra.store.tables import meta

    value: str | None = conn.scalar(select(meta.c.value).where(meta.c.key == STAFF_STAMP))
    return value


def changed_threads(conn: Connection, since: datetime,
                    until: datetime | None = None) -> Sequence[Any]:
    """Threads stamped after ``since`` (and not after ``until``, where given)."""
    query = select(threads.c.id, threads.c.site_id, threads.c.key, threads.c.updated_at).where(
        threads.c.updated_at > since)
    if until is not None:
        query = query.where(threads.c.updated_at <= until)
    return conn.execute(query).all()


def latest_change(conn: Connection) -> datetime | None:
    value: datetime | None = conn.scalar(select(func.max(threads.c.updated_at)))
    return value
