"""A batch of new comments in one INSERT.

SQLite: SQLAlchemy's INSERT with RETURNING; the rows of one statement are numbered in
the order given, each past the largest id so far, in whatever order RETURNING lists
them. PostgreSQL: the ids are taken from the sequence ahead (``CommentIds``, a round
trip a hundred comments), so the INSERT need not be waited for: it goes with the
transaction's next statement or its COMMIT (``send_with_next``), a posting batch in one
round trip where it took two. It is one statement whose text is the same for any batch,
the rows sent as one JSON document (``json_to_recordset``). SQLAlchemy's own form there
(a VALUES row per comment, 25 parameters each) had a new text per batch size and too
many parameters for psycopg to keep its conversion: turning that text into PostgreSQL's
was a tenth of a batch of four's time, and the server parsed and planned it each time.
Here psycopg converts the text once, PostgreSQL prepares it once per connection, and
the rows are one string (a list per column cost more to send than it saved).

On PostgreSQL the INSERT also checks each row's thread: the posting lane then need not
read a thread it read in an earlier transaction. A thread closed or removed since fails
the statement, and so the transaction (``stale_thread`` recognises the error): the
batch runs again, reading its threads afresh.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import JSON, Connection, TypeDecorator, insert
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError

from rostra.store.bulk import allocate_ids
from rostra.store.db import send_with_next
from rostra.store.tables import comments

_INSERT_SQLITE = insert(comments).returning(comments.c.id)
_POSTGRESQL = postgresql.dialect()  # type: ignore[no-untyped-call]
ID_BLOCK = 100  # ids taken from PostgreSQL's sequence at once


class CommentIds:
    """Ids for new comments on PostgreSQL, taken from the sequence ``ID_BLOCK`` at a time
    and handed out in order. Ids handed to a transaction that did not commit are not
    handed out again (it may have committed after all: its COMMIT's answer lost), so a
    process leaves gaps, as a sequence does; comments are ordered by their time, not
    their id, so ids taken ahead by two processes may interleave (but a reply's id stays
    above its parent's: ``BatchStorage._give_ids``)."""

    def __init__(self) -> None:
        self._free: deque[int] = deque()
        self._lock = threading.Lock()

    def take(self, conn: Connection, count: int) -> list[int]:
        """``count`` ids, in order; a round trip on ``conn`` when the block is spent."""
        with self._lock:
            if len(self._free) < count:
                self._free.extend(allocate_ids(conn, comments, max(ID_BLOCK, count)))
            return [self._free.popleft() for _ in range(count)]

    def fresh(self, conn: Connection) -> int:
        """One id from the sequence itself: above every id handed out so far, by any
        process (a round trip)."""
        return allocate_ids(conn, comments, 1)[0]

    def forget(self) -> None:
        """Drop the ids taken (the sequence was set back, and hands them out again)."""
        with self._lock:
            self._free.clear()


def stale_thread(exc: BaseException) -> bool:
    """Whether ``exc`` is the PostgreSQL INSERT's refusal of a row whose thread was closed
    or removed (its thread id made NULL, which the column refuses)."""
    diag = getattr(getattr(exc, "orig", None), "diag", None)
    return (isinstance(exc, DBAPIError) and diag is not None
            and getattr(exc.orig, "sqlstate", None) == "23502"  # not_null_violation
            and diag.table_name == "comments" and diag.column_name == "thread_id")


def id_taken(exc: BaseException) -> bool:
    """Whether ``exc`` is an INSERT's clash with a comment id in use (PostgreSQL's
    sequence set back below ids taken ahead, by a restore that wrote ids itself)."""
    diag = getattr(getattr(exc, "orig", None), "diag", None)
    return (isinstance(exc, DBAPIError) and diag is not None
            and getattr(exc.orig, "sqlstate", None) == "23505"  # unique_violation
            and diag.constraint_name == comments.primary_key.name)


def insert_comments(conn: Connection, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` (each with the same columns) and return their ids, in order. On
    PostgreSQL each row holds its id (``CommentIds``), and the INSERT is sent with the
    transaction's next statement or its COMMIT."""
    if not rows:
        return []
    if conn.dialect.name != "postgresql":
        return sorted(conn.execute(_INSERT_SQLITE, list(rows)).scalars())
    names = tuple(rows[0])
    if "id" not in names:
        raise ValueError("on PostgreSQL each row holds its id (CommentIds)")
    as_json = [{name: _bound(name, row[name]) for name in names} for row in rows]
    send_with_next(conn, _recordset_insert(names), {"rows": json.dumps(as_json)})
    return [int(row["id"]) for row in rows]


@lru_cache(maxsize=8)
def _recordset_insert(names: tuple[str, ...]) -> str:
    declared, columns = [], []
    for name in names:
        kind = comments.c[name].type
        if isinstance(kind, JSON):  # sent as its text, read as JSON
            declared.append(f"{name} text")
            columns.append(f"u.{name}::json")
        elif name == "thread_id":  # NULL, which the column refuses, unless open
            declared.append(f"{name} {kind.compile(dialect=_POSTGRESQL)}")
            columns.append("CASE WHEN NOT t.closed THEN u.thread_id END")
        else:
            declared.append(f"{name} {kind.compile(dialect=_POSTGRESQL)}")
            columns.append(f"u.{name}")
    return (f"INSERT INTO comments ({', '.join(names)}) "
            f"SELECT {', '.join(columns)} "
            f"FROM json_to_recordset(%(rows)s::json) AS u({', '.join(declared)}) "
            "LEFT JOIN threads t ON t.id = u.thread_id")


def _bound(name: str, value: Any) -> Any:
    """``value`` as SQLAlchemy would send it for the column ``name``, as JSON."""
    kind = comments.c[name].type
    if isinstance(kind, JSON):
        return json.dumps(value)  # None too: SQLAlchemy's JSON stores it as JSON null
    if isinstance(kind, TypeDecorator):
        value = kind.process_bind_param(value, _POSTGRESQL)
    if isinstance(value, datetime):
        return value.isoformat()
    return value
