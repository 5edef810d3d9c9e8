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
    # added or removed), besides its settings (SITES)
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

    def to_json(self) -> list[Any]:
        out: list[Any] = [self.kind.value, self.site_id, self.key, self.thread_id,
                          self.at.isoformat() if self.at is not None else None]
        if self.comments or self.removed:
            out.append(list(self.comments))
        if self.removed:
            out.append(list(self.removed))
        return out

    @classmethod
    def from_json(cls, data: list[Any]) -> Change:
        kind, site_id, key, thread_id, at = data[:5]
        published = tuple(int(i) for i in data[5]) if len(data) > 5 else ()
        removed = tuple(int(i) for i in data[6]) if len(data) > 6 else ()
        return cls(ChangeKind(kind), str(site_id), str(key), int(thread_id),
                   datetime.fromisoformat(at) if at else None, published, removed)


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


def pending(conn: Connection) -> list[Change]:
    """The changes recorded in the connection's current transaction."""
    memo = transaction_memo(conn)
    found: dict[Any, Change] | None = memo.get("changes")
    if not found:
        return []
    published: dict[int, list[int]] = memo.get("published", {})
    removed: dict[int, list[int]] = memo.get("removed", {})
    out = []
    for change in found.values():
        if change.kind is ChangeKind.THREAD:
            ids = published.get(change.thread_id)
            if ids and len(ids) <= MAX_PUBLISHED:
                change = replace(change, comments=tuple(ids))
            gone = removed.get(change.thread_id)
            if gone and len(gone) <= MAX_PUBLISHED:  # past that, pages fetch
                change = replace(change, removed=tuple(dict.fromkeys(gone)))
        out.append(change)
    return out
