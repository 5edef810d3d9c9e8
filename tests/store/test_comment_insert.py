"""A batch of comments in one INSERT (rostra.store.comment_insert): the rows it writes
are the rows SQLAlchemy's own INSERT writes, and the ids come back in the order given.
On PostgreSQL the ids are taken ahead and the INSERT goes with the commit: a row whose
thread was closed or removed fails the transaction, recognisably, as does an id taken
ahead that is in use."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import DBAPIError

from rostra.store.comment_insert import CommentIds, id_taken, insert_comments, stale_thread
from rostra.store.db import Database
from rostra.store.migrate import upgrade
from rostra.store.tables import comments, sites, threads
from tests.conftest import POSTGRES_URL, create_postgres_database, require


def _seeded(url: str) -> Database:
    database = Database(url)
    upgrade(database)
    now = datetime.now(UTC)
    with database.write() as conn:
        conn.execute(insert(sites).values(id="s", name="S", origins=[], settings={},
                                          created_at=now))
        conn.execute(insert(threads).values(
            id=1, site_id="s", key="/k/", created_at=now, updated_at=now, comment_count=0,
            top_level_count=0, closed=False))
    return database


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = _seeded(database_url)
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture
def pg_db() -> Iterator[Database]:
    require(bool(POSTGRES_URL), "ROSTRA_TEST_POSTGRES_URL is not set")
    url, drop = create_postgres_database(POSTGRES_URL)
    database = _seeded(url)
    try:
        yield database
    finally:
        database.dispose()
        drop()


def _row(text: str, **extra: Any) -> dict[str, Any]:
    row = {
        "thread_id": 1, "parent_id": None, "root_id": None, "depth": 0, "state": "approved",
        "author_name": "Ana", "author_email": None, "author_website": None,
        "account_id": None, "voter_id": "v1", "ip_hash": None, "text": text,
        "html": f"<p>{text}</p>", "created_at": datetime.now(UTC), "score": 0,
        "upvotes": 0, "downvotes": 0, "reply_count": 0, "anchor": None,
        "language": "en", "moderation": {"action": "publish", "scores": {"toxic": 0.1}},
    }
    row.update(extra)
    return row


IDS = CommentIds()


def _ided(conn: Connection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` with ids taken ahead, as the posting lane gives them on PostgreSQL."""
    if conn.dialect.name != "postgresql":
        return rows
    return [row | {"id": taken} for row, taken in zip(rows, IDS.take(conn, len(rows)),
                                                        strict=True)]


def _stored(db: Database, ids: list[int]) -> list[dict[str, Any]]:
    with db.read() as conn:
        # (and whether the JSON columns hold SQL NULL or JSON null, which reads the same)
        rows = conn.execute(select(comments, comments.c.anchor.is_(None).label("no_anchor"),
                                   comments.c.moderation.is_(None).label("no_moderation"))
                            .where(comments.c.id.in_(ids))
                            .order_by(comments.c.id)).mappings().all()
    return [{k: v for k, v in row.items() if k != "id"} for row in rows]


def test_the_rows_are_those_sqlalchemys_insert_writes(db: Database) -> None:
    east = timezone(timedelta(hours=5, minutes=30))
    rows = [
        _row("plain"),
        _row("zürich 🙂 \"quoted\" 'single' \\ back", author_email="a@example.org",
             author_website="https://example.org", account_id=7, ip_hash="h" * 64,
             anchor={"quote": "a passage", "prefix": "", "nested": [1, 2.5, None, True]},
             moderation=None, language=None, created_at=datetime(2026, 1, 2, 3, 4, 5, 6,
                                                                 tzinfo=east)),
        _row("reply", parent_id=None, depth=3, state="pending", score=-2, upvotes=1,
             downvotes=3, reply_count=4, voter_id=None),
    ]
    with db.write() as conn:
        ours = insert_comments(conn, _ided(conn, rows))
    with db.write() as conn:
        theirs = [conn.execute(insert(comments).values(**row).returning(comments.c.id))
                  .scalar_one() for row in rows]
    assert _stored(db, ours) == _stored(db, theirs)


def test_ids_come_back_in_the_order_given(db: Database) -> None:
    texts = [f"comment {i}" for i in range(60)]
    with db.write() as conn:
        ids = insert_comments(conn, _ided(conn, [_row(text) for text in texts]))
        # Another batch in the same transaction continues after it.
        later = insert_comments(conn, _ided(conn, [_row("later")]))
    with db.read() as conn:
        stored = dict(conn.execute(select(comments.c.id, comments.c.text)
                                   .where(comments.c.id.in_(ids + later))).all())
    assert [stored[i] for i in ids] == texts
    assert len(set(ids)) == 60 and later[0] > max(ids)
    assert stored[later[0]] == "later"


def test_nothing_to_insert_is_no_statement(db: Database) -> None:
    with db.write() as conn:
        assert insert_comments(conn, []) == []


def _count(db: Database) -> int:
    with db.read() as conn:
        return int(conn.scalar(select(func.count()).select_from(comments)) or 0)


@pytest.mark.postgres
@pytest.mark.parametrize("thread", ["closed", "removed"])
def test_a_row_whose_thread_is_closed_or_gone_fails_the_transaction(
    pg_db: Database, thread: str,
) -> None:
    db = pg_db
    with db.write() as conn:
        if thread == "closed":
            conn.execute(update(threads).where(threads.c.id == 1).values(closed=True))
        else:
            conn.execute(delete(threads).where(threads.c.id == 1))
    with pytest.raises(DBAPIError) as failed, db.write() as conn:
        insert_comments(conn, _ided(conn, [_row("to a closed thread"), _row("and another")]))
    assert stale_thread(failed.value) and not id_taken(failed.value)
    assert _count(db) == 0


@pytest.mark.postgres
def test_an_id_taken_ahead_that_is_in_use_fails_recognisably(pg_db: Database) -> None:
    db = pg_db
    with db.write() as conn:
        first = insert_comments(conn, _ided(conn, [_row("first")]))
    with pytest.raises(DBAPIError) as failed, db.write() as conn:
        insert_comments(conn, [_row("again") | {"id": first[0]}])
    assert id_taken(failed.value) and not stale_thread(failed.value)
    assert _count(db) == 1
