"""PostgreSQL's pool: a connection used a moment ago goes straight to work (no ping, one
round trip less for every transaction); one that sat idle is pinged first, and one the
server closed meanwhile is replaced without the caller seeing an error."""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Connection, text

from rostra.store import db as db_module
from rostra.store.db import Database
from tests.conftest import POSTGRES_URL, create_postgres_database, require

pytestmark = pytest.mark.postgres


@pytest.fixture
def database() -> Iterator[Database]:
    require(bool(POSTGRES_URL), "ROSTRA_TEST_POSTGRES_URL is not set")
    url, drop = create_postgres_database(POSTGRES_URL)
    database = Database(url)
    try:
        yield database
    finally:
        database.dispose()
        drop()


def _backend(database: Database) -> int:
    with database.read() as conn:
        pid: int = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    return pid


def _pings(database: Database, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    seen: list[object] = []
    ping = database.engine.dialect.do_ping

    def counted(dbapi_conn: object) -> bool:
        seen.append(dbapi_conn)
        return ping(dbapi_conn)

    monkeypatch.setattr(database.engine.dialect, "do_ping", counted)
    return seen


def test_a_connection_used_a_moment_ago_is_not_pinged(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _backend(database)
    pings = _pings(database, monkeypatch)
    for _ in range(20):
        with database.write() as conn:
            conn.execute(text("SELECT 1"))
        assert _backend(database) == first
    assert pings == []


def test_an_idle_connection_is_pinged_and_one_the_server_closed_is_replaced(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 0.05)
    pings = _pings(database, monkeypatch)
    first = _backend(database)
    time.sleep(0.1)
    assert _backend(database) == first  # pinged, alive, kept
    assert len(pings) == 1
    assert _after_the_server_closes(database, first) != first


def test_a_connection_the_server_closed_a_moment_ago_is_replaced_without_an_error(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A restart closes every connection at once, most of them used within the last
    # second: their sockets say so (the server's goodbye is waiting to be read), so the
    # pool pings those first instead of trusting them.
    pings = _pings(database, monkeypatch)
    first = _backend(database)
    assert _after_the_server_closes(database, first) != first
    assert len(pings) == 1


def _after_the_server_closes(database: Database, backend: int) -> int:
    """The backend of the next transaction after the server closed ``backend``'s
    connection: it runs without an error (the ping found that one closed)."""
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (backend,))
    time.sleep(0.1)
    with database.write() as conn:
        pid: int = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    return pid


def _in_one_transaction(conn: Connection) -> bool:
    """Whether the block's statements share a transaction: now() is when it began."""
    conn.execute(text("SELECT pg_sleep(0.02)"))
    shared: bool = conn.execute(text("SELECT now() <> statement_timestamp()")).scalar_one()
    return shared


def test_a_read_runs_without_a_transaction_and_a_snapshot_read_in_one(
    database: Database,
) -> None:
    # Without a transaction a read saves BEGIN and ROLLBACK, a round trip each; under
    # READ COMMITTED its statements had a snapshot each anyway.
    with database.read() as conn:
        assert not _in_one_transaction(conn)
    with database.read(snapshot=True) as conn:
        assert _in_one_transaction(conn)


def test_a_snapshot_read_does_not_see_what_commits_meanwhile(database: Database) -> None:
    with database.write() as conn:
        conn.execute(text("CREATE TABLE moments (n int)"))
    with database.read(snapshot=True) as conn:
        assert conn.execute(text("SELECT count(*) FROM moments")).scalar_one() == 0
        with database.write() as other:
            other.execute(text("INSERT INTO moments VALUES (1)"))
        # An export reads every table as of one moment.
        assert conn.execute(text("SELECT count(*) FROM moments")).scalar_one() == 0
    with database.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM moments")).scalar_one() == 1
