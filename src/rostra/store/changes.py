"""Changes that every process serving the database must hear of at once: a thread that
changed (caches, live streams), a site's bans, a site's settings or origins, an author's
moderation history, the ways to sign in to a site.

A write records them in its transaction (``record``); ``Database.write`` hands them to
its commit hooks: the change bus (``rostra.store.change_bus``) sends them to the other
processes, over PostgreSQL ``NOTIFY`` (inside the transaction, so they leave exactly
when it commits) or Redis pub/sub (right after the commit).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection

from rostra.store.db import transaction_memo


class ChangeKind(StrEnum):
    THREAD = "thread"  # site_id, key (the thread key), thread_id, at (its updated_at)
    BANS = "bans"  # site_id
    SITES = "sites"  # site_id
    HISTORY = "history"  # site_id, key (the author)
    STAFF = "staff"  # site_id: who is the site's staff changed (the "Staff" badge)
    # site_id: how its readers may sign in changed (its own providers; a reader's passkey
    # added or removed; a reader's account erased), besides its settings (SITES)
    SIGN_IN = "sign_in"
    RESYNC = "resync"  # too many to send one by one: look at everything again


@dataclass(frozen=True, slots=True)
class Change:
    kind: ChangeKind
    site_id: str = ""
    key: str = ""
    thread_id: int = 0
    at: datetime | None = None
    # THREAD: the comments this change posted, so that the other processes can send the
    # approved ones to their open pages (and nothing for held ones) instead of a bare
    # "changed" that every page answers with a fetch of the thread.
    comments: tuple[int, ...] = ()
    # THREAD: the comments this change took out of readers' view (rejected, deleted,
    # filed as spam, held again), so that open pages stop showing them at once.
    removed: tuple[int, ...] = ()
    # THREAD: comments whose text changed and stay in view (open pages show the new
    # text), and comments' vote counts as votes left them, (id, score, upvotes,
    # downvotes): news that a page shows in place, without fetching anything.
    edited: tuple[int, ...] = ()
    votes: tuple[tuple[int, int, int, int], ...] = ()
    # THREAD: the thread was closed to new comments (True) or opened again (False) by
    # this change: open pages stop (or start) offering the comment form.
    closed: bool | None = None
    # THREAD: comments featured or pinned by an editor, or neither any more, (id, kind:
    # "featured", "pinned" or "" for neither): open pages mark them in place.
    pins: tuple[tuple[int, str], ...] = ()

    @property
    def shown_in_place(self) -> bool:
        """Whether what the change did reaches open pages in the news it carries (no
        page need fetch the thread for it)."""
        return bool(self.comments or self.removed or self.edited or self.votes
                    or self.closed is not None or self.pins)

    def to_json(self) -> list[Any]:
        out: list[Any] = [self.kind.value, self.site_id, self.key, self.thread_id,
                          self.at.isoformat() if self.at is not None else None]
        # Lists by position, trailing empty ones left out: a server of an older version
        # reads the ones it knows.
        news: list[Any] = [list(self.comments), list(self.removed), list(self.edited),
                           [list(v) for v in self.votes], self.closed,
                           [list(p) for p in self.pins]]
        while news and (news[-1] is None or news[-1] == []):
            news.pop()
        return out + news

    @classmethod
    def from_json(cls, data: list[Any]) -> Change:
        kind, site_id, key, thread_id, at = data[:5]

        def ids(n: int) -> tuple[int, ...]:
            return tuple(int(i) for i in data[n]) if len(data) > n else ()

        votes = tuple((int(i), int(s), int(u), int(d)) for i, s, u, d in data[8]) \
            if len(data) > 8 else ()
        closed = bool(data[9]) if len(data) > 9 and data[9] is not None else None
        pins = tuple((int(i), str(k)) for i, k in data[10]) if len(data) > 10 else ()
        return cls(ChangeKind(kind), str(site_id), str(key), int(thread_id),
                   datetime.fromisoformat(at) if at else None, ids(5), ids(6), ids(7), votes,
                   closed, pins)


def record(conn: Connection, change: Change) -> None:
    """Note a change made in the connection's current transaction (the last one of a
    thread, site or author wins)."""
    pending: dict[tuple[str, str, str, int], Change] = transaction_memo(conn).setdefault(
        "changes", {})
    pending[(change.kind.value, change.site_id, change.key, change.thread_id)] = change


MAX_PUBLISHED = 32  # comment ids one change carries (each list); past that, pages fetch


def record_published(conn: Connection, thread_id: int, comment_id: int) -> None:
    """Note a comment posted in the connection's current transaction; its thread's
    change carries the id."""
    published: dict[int, list[int]] = transaction_memo(conn).setdefault("published", {})
    published.setdefault(thread_id, []).append(comment_id)


def record_removed(conn: Connection, thread_id: int, comment_id: int) -> None:
    """Note a comment taken out of readers' view in the connection's current
    transaction; its thread's change carries the id."""
    removed: dict[int, list[int]] = transaction_memo(conn).setdefault("removed", {})
    removed.setdefault(thread_id, []).append(comment_id)


def record_edited(conn: Connection, thread_id: int, comment_id: int) -> None:
    """Note a comment whose text changed in the connection's current transaction and
    that stays in readers' view; its thread's change carries the id."""
    edited: dict[int, list[int]] = transaction_memo(conn).setdefault("edited", {})
    edited.setdefault(thread_id, []).append(comment_id)


def record_votes(conn: Connection, thread_id: int, comment_id: int, score: int,
                 upvotes: int, downvotes: int) -> None:
    """Note a comment's vote counts as the connection's current transaction left them;
    its thread's change carries them."""
    votes: dict[int, dict[int, tuple[int, int, int, int]]] = transaction_memo(
        conn).setdefault("votes", {})
    votes.setdefault(thread_id, {})[comment_id] = (comment_id, score, upvotes, downvotes)


def record_closed(conn: Connection, thread_id: int, closed: bool) -> None:
    """Note a thread closed to new comments (or opened again) in the connection's
    current transaction; its change carries it."""
    transaction_memo(conn).setdefault("closed", {})[thread_id] = closed


def record_pin(conn: Connection, thread_id: int, comment_id: int, kind: str | None) -> None:
    """Note a comment featured, pinned or neither any more (``kind`` None) in the
    connection's current transaction; its thread's change carries it."""
    pins: dict[int, dict[int, str]] = transaction_memo(conn).setdefault("pins", {})
    pins.setdefault(thread_id, {})[comment_id] = kind or ""


def note_stamp_before(conn: Connection, thread_id: int, stamp: datetime | None) -> None:
    """Note the thread's stamp as the connection's current transaction found it, read
    inside it where writers take turns (SQLite): a process that knows the stamp knows it
    missed nothing before this change."""
    transaction_memo(conn).setdefault("stamp_before", {})[thread_id] = stamp


def stamp_before(conn: Connection, thread_id: int) -> datetime | None:
    """The stamp ``note_stamp_before`` noted for the thread in this transaction."""
    found: datetime | None = transaction_memo(conn).get("stamp_before", {}).get(thread_id)
    return found


def pending(conn: Connection) -> list[Change]:
    """The changes recorded in the connection's current transaction."""
    memo = transaction_memo(conn)
    found: dict[Any, Change] | None = memo.get("changes")
    if not found:
        return []
    published: dict[int, list[int]] = memo.get("published", {})
    removed: dict[int, list[int]] = memo.get("removed", {})
    edited: dict[int, list[int]] = memo.get("edited", {})
    voted: dict[int, dict[int, tuple[int, int, int, int]]] = memo.get("votes", {})
    closing: dict[int, bool] = memo.get("closed", {})
    pinning: dict[int, dict[int, str]] = memo.get("pins", {})
    out = []
    for change in found.values():
        if change.kind is ChangeKind.THREAD:
            ids = published.get(change.thread_id)
            if ids and len(ids) <= MAX_PUBLISHED:
                change = replace(change, comments=tuple(ids))
            gone = removed.get(change.thread_id)
            if gone and len(gone) <= MAX_PUBLISHED:  # past that, pages fetch
                change = replace(change, removed=tuple(dict.fromkeys(gone)))
            changed = [i for i in dict.fromkeys(edited.get(change.thread_id, ()))
                       if i not in change.removed]
            if changed and len(changed) <= MAX_PUBLISHED:
                change = replace(change, edited=tuple(changed))
            counts = voted.get(change.thread_id)
            if counts and len(counts) <= MAX_PUBLISHED:
                change = replace(change, votes=tuple(counts.values()))
            if change.thread_id in closing:
                change = replace(change, closed=closing[change.thread_id])
            marks = pinning.get(change.thread_id)
            if marks and len(marks) <= MAX_PUBLISHED:
                change = replace(change, pins=tuple(marks.items()))
        out.append(change)
    return out
