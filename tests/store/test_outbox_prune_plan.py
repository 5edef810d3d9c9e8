"""The hourly prune of the notification outbox finds the rows past their retention
through indexes on ``sent_at`` and ``failed_at`` (partial: only rows that have one),
oldest first in the index's order, instead of reading the whole table each hour."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, insert

from rostra.notify import outbox
from rostra.notify.model import MessageKind
from rostra.store.db import Database
from rostra.store.notify_tables import notify_outbox

ROWS = 20_000
RETENTION = timedelta(days=30)  # notify_outbox_retention_days


def _a_month_of_messages(db: Database, now: datetime) -> int:
    """An outbox as a busy site's is: mostly sent within the retention, some given up,
    some waiting, and a few rows of each kind past the retention. Returns how many
    rows are past it and sent or given up (what a prune deletes)."""
    rows, past = [], 0
    for n in range(ROWS):
        at = now - timedelta(minutes=2 * n)  # within the last four weeks
        if n % 500 < 3:
            at -= 2 * RETENTION
        sent = failed = None
        if n % 20 == 1:
            failed = at
        elif n % 20 != 2:
            sent = at
        past += at < now - RETENTION and (sent or failed) is not None
        rows.append({
            "channel": "webhook", "kind": (MessageKind.MODERATOR if n % 40 == 1
                                           else MessageKind.WEBHOOK).value,
            "batch_key": f"call:{n}", "recipient": "https://hooks.example/", "payload": {},
            "created_at": at, "due_at": at, "attempts": 1, "sent_at": sent,
            "failed_at": failed,
        })
    with db.write() as conn:
        conn.execute(insert(notify_outbox), rows)
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE notify_outbox")  # as autovacuum keeps it
    return past


def test_the_prune_reads_the_outbox_through_its_indexes(plan_db: Database) -> None:
    db = plan_db
    now = datetime.now(UTC)
    past = _a_month_of_messages(db, now)
    ran: list[tuple[str, Any]] = []

    def note(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "notify_outbox" in statement:
            ran.append((statement, parameters))

    with db.engine.connect() as conn:
        event.listen(conn, "before_cursor_execute", note)
        deleted = outbox.prune(conn, before=now - RETENTION,
                               staff_failures_before=now - RETENTION, limit=2000)
        event.remove(conn, "before_cursor_execute", note)
        assert deleted == past > 0  # sent or given up; never the waiting ones
        sqlite = conn.dialect.name == "sqlite"
        prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
        plans = [" ".join(str(row[-1]) for row in conn.exec_driver_sql(prefix + s, p))
                 for s, p in ran]
        conn.rollback()
    assert any("ix_notify_outbox_sent" in plan for plan in plans), plans
    assert any("ix_notify_outbox_failed" in plan for plan in plans), plans
    for plan in plans:
        if sqlite:
            assert "SCAN notify_outbox" not in plan and "TEMP B-TREE" not in plan, plan
        else:
            assert "Seq Scan on notify_outbox" not in plan and "Sort" not in plan, plan
