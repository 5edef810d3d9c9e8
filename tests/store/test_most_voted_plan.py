"""A page of Most Voted is read through an index on the score it ranks by (a tombstone's
as none), as it was by the stored score: on SQLite in the index's order, unsorted."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import event

from rostra.core.models import SortOrder
from rostra.store import queries
from rostra.store.db import Database


def test_most_voted_pages_are_read_through_the_ranked_index(plan_db: Database) -> None:
    db = plan_db
    plans: list[str] = []
    after = queries.Keyset(datetime(2026, 1, 1, tzinfo=UTC), 5, score=2)

    def explain(conn: object, cursor: object, statement: str, parameters: object,
                context: object, executemany: bool) -> tuple[str, object]:
        prefix = "EXPLAIN QUERY PLAN " if db.engine.dialect.name == "sqlite" else "EXPLAIN "
        return prefix + statement, parameters

    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET enable_seqscan = off")  # an empty table: ask if it can
        event.listen(conn, "before_cursor_execute", explain, retval=True)
        for keyset in (None, after):
            rows = queries.top_level_page(conn, 1, SortOrder.VOTES, 21, keyset)
            plans.append(" ".join(str(row[-1]) for row in rows))
        rows = queries.voted_since(conn, 1, datetime(2026, 1, 1, tzinfo=UTC), after)
        plans.append(" ".join(str(row[-1]) for row in rows))
        event.remove(conn, "before_cursor_execute", explain)
    for plan in plans:
        assert "ix_comments_thread_top_rank" in plan, plan
        # SQLite reads the page in the index's order. PostgreSQL finds the thread's
        # top-level comments through it and sorts them, as it did by the stored score
        # (``parent_id IS NULL`` does not let it take the order from the index).
        assert "TEMP B-TREE" not in plan, plan
