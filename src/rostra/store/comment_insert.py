"""A batch of new comments in one INSERT, their ids in the order given.

SQLite: SQLAlchemy's INSERT with RETURNING; the rows of one statement are numbered in
the order given, each past the largest id so far, in whatever order RETURNING lists
them. PostgreSQL: one statement whose text is the same for any batch, the rows sent
as one JSON document (``json_to_recordset``). SQLAlchemy's own form there (a VALUES
row per comment, 25 parameters each) had a new text per batch size and too many
parameters for psycopg to keep its conversion: turning that text into PostgreSQL's
was a tenth of a batch of four's time, and the server parsed and planned it each time.
Here psycopg converts the text once, PostgreSQL prepares it once per connection, and
the rows are one string (a list per column cost more to send than it saved). It goes to
psycopg directly (``driver_rows``): wrapping its one-column answer in SQLAlchemy's
result cost the posting process a sixth of a batch of one's CPU.

On PostgreSQL the INSERT can also check the rows' threads (``check_threads``): the
posting lane then need not read a thread it read in an earlier transaction, and a
thread closed or removed since stops the batch (StaleThreads) instead of taking the
comment.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import JSON, Connection, TypeDecorator, insert
from sqlalchemy.dialects import postgresql

from rostra.store.db import driver_rows
from rostra.store.tables import comments

_INSERT_SQLITE = insert(comments).returning(comments.c.id)
_POSTGRESQL = postgresql.dialect()  # type: ignore[no-untyped-call]


class StaleThreads(Exception):
    """A row's thread was closed or removed since it was read: nothing is to be
    committed (the caller's transaction rolls back), and the threads read again."""


def insert_comments(conn: Connection, rows: Sequence[dict[str, Any]], *,
                    check_threads: bool = False) -> list[int]:
    """Insert ``rows`` (each with the same columns) and return their ids, in order.

    ``check_threads`` (PostgreSQL only): insert a row only if its thread is there and
    open, and raise StaleThreads if one is not."""
    if not rows:
        return []
    if conn.dialect.name != "postgresql":
        if check_threads:
            raise ValueError("check_threads is for PostgreSQL")
        return sorted(conn.execute(_INSERT_SQLITE, list(rows)).scalars())
    names = tuple(rows[0])
    as_json = [{name: _bound(name, row[name]) for name in names} for row in rows]
    # The serial ids are taken in the order of the SELECT's ORDER BY (the guarantee
    # SQLAlchemy's ordered RETURNING relies on too), whatever order RETURNING lists them.
    ids = sorted(row[0] for row in driver_rows(conn, _recordset_insert(names, check_threads),
                                               {"rows": json.dumps(as_json)}))
    if len(ids) != len(rows):
        raise StaleThreads(f"{len(rows) - len(ids)} comment(s) for a thread closed or gone")
    return ids


@lru_cache(maxsize=8)
def _recordset_insert(names: tuple[str, ...], check_threads: bool = False) -> str:
    declared, columns = [], []
    for name in names:
        kind = comments.c[name].type
        if isinstance(kind, JSON):  # sent as its text, read as JSON
            declared.append(f"{name} text")
            columns.append(f"u.{name}::json")
        else:
            declared.append(f"{name} {kind.compile(dialect=_POSTGRESQL)}")
            columns.append(f"u.{name}")
    return (f"INSERT INTO comments ({', '.join(names)}) "
            f"SELECT {', '.join(columns)} "
            f"FROM ROWS FROM (json_to_recordset(%(rows)s::json) AS ({', '.join(declared)})) "
            f"WITH ORDINALITY AS u({', '.join(names)}, n) "
            + ("JOIN threads t ON t.id = u.thread_id AND NOT t.closed " if check_threads else "")
            + "ORDER BY u.n RETURNING id")


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
