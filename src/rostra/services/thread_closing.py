"""Closing a discussion to new comments, and opening it again: what an editor does for
a story under a legal hold, or one drawing more abuse than the desk can read.

The thread keeps its comments, votes and replies as they are; new comments and replies
are refused (``thread_closed``, already checked on every post). Open pages hear it at
once (the thread's change carries ``closed``) and stop offering the comment form.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update

from rostra.core.errors import InvalidInput, NotFound
from rostra.core.thread_keys import ThreadKeyError, thread_key
from rostra.services.audit_log import record_audit
from rostra.services.serialise import thread_json
from rostra.store import changes, queries
from rostra.store.db import Database, attempts
from rostra.store.tables import threads


def thread_id_of(db: Database, site_id: str, thread: str) -> int:
    """The id of the site's thread named by ``thread`` (a key, path or URL)."""
    try:
        key = thread_key(thread)
    except ThreadKeyError as exc:
        raise InvalidInput(f"thread: {exc}") from None
    with db.read() as conn:
        row = queries.find_thread(conn, site_id, key)
    if row is None:
        raise NotFound(f"no thread {key} on site {site_id}")
    return int(row.id)


def thread_row(db: Database, thread_id: int) -> Any:
    """The thread's row (its site, whether it is closed), or None."""
    with db.read() as conn:
        return queries.thread_by_id(conn, thread_id)


def set_closed(db: Database, thread_id: int, closed: bool, *, actor: str,
               reason: str | None = None) -> dict[str, Any]:
    """Close the thread to new comments (or open it again); the thread as readers see it.
    Doing it twice changes nothing the second time (and records nothing)."""
    for attempt in attempts("closing a thread", idempotent=True):
        with attempt, db.write() as conn:
            row = queries.thread_by_id(conn, thread_id)
            if row is None:
                raise NotFound(f"no thread with id {thread_id}")
            if bool(row.closed) != closed:
                conn.execute(update(threads).where(threads.c.id == thread_id)
                             .values(closed=closed))
                queries.bump_thread(conn, thread_id, datetime.now(UTC))
                changes.record_closed(conn, thread_id, closed)
                record_audit(conn, actor, "close" if closed else "reopen",
                             f"thread:{thread_id}", {"closed": bool(row.closed)},
                             {"closed": closed}, reason, site_id=row.site_id)
            shown = queries.thread_by_id(conn, thread_id)
    assert shown is not None
    return {**thread_json(shown), "site": shown.site_id}
