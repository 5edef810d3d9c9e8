"""A batch of comments in one INSERT (rostra.store.comment_insert): the rows it writes
are the rows SQLAlchemy's own INSERT writes, and the ids come back in the order given."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import insert, select

from rostra.store.comment_insert import insert_comments
from rostra.store.db import Database
from rostra.store.migrate import upgrade
from rostra.store.tables import comments, sites, threads


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    upgrade(database)
    now = datetime.now(UTC)
    with database.write() as conn:
        conn.execute(insert(sites).values(id="s", name="S", origins=[], settings={},
                                          created_at=now))
        conn.execute(insert(threads).values(
            id=1, site_id="s", key="/k/", created_at=now, updated_at=now, comment_count=0,
            top_level_count=0, closed=False))
    try:
        yield database
    finally:
        database.dispose()


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
        ours = insert_comments(conn, rows)
    with db.write() as conn:
        theirs = [conn.execute(insert(comments).values(**row).returning(comments.c.id))
                  .scalar_one() for row in rows]
    assert _stored(db, ours) == _stored(db, theirs)


def test_ids_come_back_in_the_order_given(db: Database) -> None:
    texts = [f"comment {i}" for i in range(60)]
    with db.write() as conn:
        ids = insert_comments(conn, [_row(text) for text in texts])
        # Another batch in the same transaction continues after it.
        later = insert_comments(conn, [_row("later")])
    with db.read() as conn:
        stored = dict(conn.execute(select(comments.c.id, comments.c.text)
                                   .where(comments.c.id.in_(ids + later))).all())
    assert [stored[i] for i in ids] == texts
    assert len(set(ids)) == 60 and later[0] > max(ids)
    assert stored[later[0]] == "later"


def test_nothing_to_insert_is_no_statement(db: Database) -> None:
    with db.write() as conn:
        assert insert_comments(conn, []) == []
