"""Changes that every process serving the database must hear of at once: a thread that
changed (caches, live streams), a site's bans, a site's settings or origins, an author's
moderation history.

A write records them in its transaction (``record``); ``Database.write`` hands them to
its commit hooks: the change bus (``rostra.store.change_bus``) sends them to the other
processes, over PostgreSQL ``NOTIFY`` (inside the transaction, so they leave exactly
when it commits) or Redis pub/sub (right after the commit).
"""

from __future__ import annotations

from dataclasses import dataclass
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
    RESYNC = "resync"  # too many to send one by one: look at everything again


@dataclass(frozen=True, slots=True)
class Change:
    kind: ChangeKind
    site_id: str = ""
    key: str = ""
    thread_id: int = 0
    at: datetime | None = None

    def to_json(self) -> list[Any]:
        return [self.kind.value, self.site_id, self.key, self.thread_id,
                self.at.isoformat() if self.at is not None else None]

    @classmethod
    def from_json(cls, data: list[Any]) -> Change:
        kind, site_id, key, thread_id, at = data
        return cls(ChangeKind(kind), str(site_id), str(key), int(thread_id),
                   datetime.fromisoformat(at) if at else None)


def record(conn: Connection, change: Change) -> None:
    """Note a change made in the connection's current transaction (the last one of a
    thread, site or author wins)."""
    pending: dict[tuple[str, str, str, int], Change] = transaction_memo(conn).setdefault(
        "changes", {})
    pending[(change.kind.value, change.site_id, change.key, change.thread_id)] = change


def pending(conn: Connection) -> list[Change]:
    """The changes recorded in the connection's current transaction."""
    found: dict[Any, Change] | None = transaction_memo(conn).get("changes")
    return list(found.values()) if found else []
