"""SQLite's change bus (store/change_bus.py, SqliteBus): the processes on one SQLite file
hear each other's commits through ``change_log``, in commit order, and only what
committed; one that fell behind rows already pruned looks at everything again."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from rostra.store import changes, migrate
from rostra.store.change_bus import SqliteBus, bus_for
from rostra.store.changes import Change, ChangeKind
from rostra.store.db import Database


@pytest.fixture
def two_processes(tmp_path: Path) -> Iterator[tuple[Database, Database]]:
    """Two handles on one SQLite file, as two workers have."""
    url = f"sqlite:///{tmp_path / 'bus.sqlite3'}"
    first, second = Database(url), Database(url)
    migrate.upgrade(first)
    try:
        yield first, second
    finally:
        first.dispose()
        second.dispose()


def _commit(db: Database, thread_id: int) -> None:
    with db.write() as conn:
        changes.record(conn, Change(ChangeKind.THREAD, "s", f"/t{thread_id}", thread_id,
                                    datetime.now(UTC), comments=(thread_id * 10,)))


def _rolled_back(db: Database, thread_id: int) -> None:
    with pytest.raises(RuntimeError), db.write() as conn:
        changes.record(conn, Change(ChangeKind.THREAD, "s", f"/t{thread_id}", thread_id,
                                    datetime.now(UTC)))
        raise RuntimeError("the transaction fails")


def _hear(listening: SqliteBus, act: object, until: int) -> list[Change]:
    """What ``listening`` hears while ``act()`` runs, once it heard ``until`` changes."""
    heard: list[Change] = []

    async def main() -> None:
        connected = asyncio.Event()

        async def on_connect() -> None:
            connected.set()

        task = asyncio.create_task(listening.listen(heard.extend, on_connect))
        await asyncio.wait_for(connected.wait(), 5)
        await asyncio.to_thread(act)  # type: ignore[arg-type]
        async with asyncio.timeout(5):
            while len(heard) < until:
                await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    return heard


def test_the_other_process_hears_what_committed_in_order(
        two_processes: tuple[Database, Database]) -> None:
    writer, reader = two_processes
    assert isinstance(bus_for(str(writer.engine.url), "", writer), SqliteBus)
    listening = SqliteBus(reader, read_seconds=0.02)

    def act() -> None:
        _commit(writer, 1)
        _rolled_back(writer, 2)
        _commit(writer, 3)

    heard = _hear(listening, act, until=2)
    assert [(c.kind, c.thread_id, c.comments) for c in heard] == [
        (ChangeKind.THREAD, 1, (10,)), (ChangeKind.THREAD, 3, (30,))]


def test_a_process_behind_pruned_rows_looks_at_everything_again(
        two_processes: tuple[Database, Database]) -> None:
    writer, reader = two_processes
    bus_for(str(writer.engine.url), "", writer)
    # Reads seldom: the rows it has not read yet are pruned before it does.
    listening = SqliteBus(reader, read_seconds=1.0)

    def act() -> None:
        _commit(writer, 1)
        _commit(writer, 2)
        assert SqliteBus(writer, keep_seconds=-60).prune() == 2
        _commit(writer, 3)

    heard = _hear(listening, act, until=2)
    assert [(c.kind, c.thread_id) for c in heard] == [
        (ChangeKind.RESYNC, 0), (ChangeKind.THREAD, 3)]


def test_rows_are_kept_for_a_while_then_pruned(
        two_processes: tuple[Database, Database]) -> None:
    writer, _ = two_processes
    bus_for(str(writer.engine.url), "", writer)
    _commit(writer, 1)
    assert SqliteBus(writer).prune() == 0  # kept SQLITE_KEEP_SECONDS
    assert SqliteBus(writer, keep_seconds=-60).prune() == 1


def test_an_in_memory_database_has_no_bus(two_processes: tuple[Database, Database]) -> None:
    # No other process can open it.
    db, _ = two_processes
    assert bus_for("sqlite://", "", db) is None
    assert bus_for("sqlite:///:memory:", "", db) is None


def test_an_idle_listener_reads_the_table_only_when_the_log_changed(
        two_processes: tuple[Database, Database]) -> None:
    """Idle, a read every 0.1 s cost each worker 1.7 % of a core: it stats the
    write-ahead log instead, and reads when a commit changed it."""
    writer, reader = two_processes
    bus_for(str(writer.engine.url), "", writer)
    _commit(writer, 1)  # the log exists
    listening = SqliteBus(reader, read_seconds=0.01)
    reads: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "FROM change_log" in statement and "max(" not in statement:
            reads.append(statement)

    event.listen(reader.engine, "before_cursor_execute", note)
    try:
        def act() -> None:
            time.sleep(0.5)  # idle: about 50 turns of the listener
            idle_reads.append(len(reads))
            _commit(writer, 2)

        idle_reads: list[int] = []
        heard = _hear(listening, act, until=1)
    finally:
        event.remove(reader.engine, "before_cursor_execute", note)
    assert [c.thread_id for c in heard] == [2]
    assert idle_reads[0] <= 1
