"""Bulk writes for imports: rows handed to the driver's executemany with the statement
SQLAlchemy compiles, ids allocated ahead, and PostgreSQL's sequences moved past them."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from functools import lru_cache
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Dialect, Table, delete, func, insert, select, update

from rostra.store.account_tables import reader_accounts
from rostra.store.dsa_tables import dsa_notices, dsa_statements
from rostra.store.moderation_tables import bans
from rostra.store.notes_tables import comment_notes, note_ratings
from rostra.store.notify_tables import notify_addresses, notify_subscriptions
from rostra.store.staff_tables import comment_revisions
from rostra.store.tables import comments, threads

IN_CHUNK = 500  # values in one IN (...) list: well under every database's limit


def chunks(values: Sequence[Any], size: int = IN_CHUNK) -> Iterator[Sequence[Any]]:
    """``values`` in slices of at most ``size``."""
    for start in range(0, len(values), size):
        yield values[start:start + size]


def allocate_ids(conn: Connection, table: Table, count: int) -> list[int]:
    """``count`` fresh ids for ``table``: from its sequence on PostgreSQL; on SQLite, past
    the largest (safe: this transaction holds SQLite's only write lock)."""
    if conn.dialect.name == "postgresql":
        sequence = func.pg_get_serial_sequence(table.name, "id")
        return [int(v) for v in conn.scalars(
            select(func.nextval(sequence)).select_from(func.generate_series(1, count))
        )]
    top = int(conn.scalar(select(func.max(table.c.id))) or 0)
    return list(range(top + 1, top + 1 + count))


def insert_many(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """``conn.execute(insert(table), rows)`` for rows that all have the same keys, handed
    to the driver's executemany with the statement SQLAlchemy compiles and each column
    type's own bind processor: the same values SQLAlchemy would send, without its
    per-row parameter bookkeeping (a fifth of an import's CPU time)."""
    if not rows:
        return
    prepared = prepared_insert(conn.dialect, table, tuple(rows[0]))
    if prepared is None:  # a column default to fill in: let SQLAlchemy do it
        conn.execute(insert(table), rows)
        return
    sql, processors, order = prepared
    for row in rows:
        for name, proc in processors:
            row[name] = proc(row[name])
    if order is None:
        conn.exec_driver_sql(sql, rows)
    elif len(order) == 1:
        conn.exec_driver_sql(sql, [(row[order[0]],) for row in rows])
    else:
        pick = itemgetter(*order)
        conn.exec_driver_sql(sql, [pick(row) for row in rows])


@lru_cache(maxsize=64)
def prepared_insert(
    dialect: Dialect, table: Table, names: tuple[str, ...]
) -> tuple[str, list[tuple[str, Callable[[Any], Any]]], tuple[str, ...] | None] | None:
    """(SQL, bind processors, parameter order for positional drivers), or None when the
    statement needs more than ``names``."""
    compiled = insert(table).compile(dialect=dialect, column_keys=list(names))
    if set(compiled.params) != set(names):
        return None
    processors: list[tuple[str, Callable[[Any], Any]]] = []
    for name in names:
        proc = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if proc is not None:
            processors.append((name, proc))
    order = tuple(compiled.positiontup or ()) if compiled.positional else None
    return compiled.string, processors, order


def advance_sequences(conn: Connection) -> None:
    """PostgreSQL's id sequences must move past ids written explicitly."""
    if conn.dialect.name != "postgresql":
        return
    for table in (threads, comments, notify_addresses, notify_subscriptions, comment_notes,
                  dsa_notices, dsa_statements, reader_accounts, comment_revisions,
                  bans):
        top = conn.scalar(select(func.max(table.c.id)))
        if top is not None:
            conn.execute(select(func.setval(func.pg_get_serial_sequence(table.name, "id"), top)))


def forget_missing_accounts(conn: Connection) -> None:
    """Comments and context notes that name a reader account the database does not
    have (a file written before accounts were exported, or of one site only) are made
    anonymous: a reader who signs in later may get that id, and must not find another
    person's comments theirs. Their ratings of notes are dropped (the account is part of
    a rating's key, so it cannot be anonymous) and the notes' counts follow; a note's
    fitted helpfulness is refitted at its next rating."""
    known = select(reader_accounts.c.id)
    for table in (comments, comment_notes):
        conn.execute(update(table).where(table.c.account_id.is_not(None),
                                         table.c.account_id.not_in(known))
                     .values(account_id=None))
    orphans = note_ratings.c.account_id.not_in(known)
    rated = conn.execute(select(note_ratings.c.note_id).where(orphans).distinct()).scalars().all()
    if rated:
        conn.execute(delete(note_ratings).where(orphans))
        remaining = (select(func.count()).where(note_ratings.c.note_id == comment_notes.c.id)
                     .scalar_subquery())
        for ids in chunks(sorted(rated)):
            conn.execute(update(comment_notes).where(comment_notes.c.id.in_(ids))
                         .values(rating_count=remaining))
