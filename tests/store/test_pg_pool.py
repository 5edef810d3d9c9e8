"""PostgreSQL's pool: a connection used a moment ago goes straight to work (no ping, one
round trip less for every transaction); one that sat idle is pinged first, and one the
server closed meanwhile is replaced without the caller seeing an error."""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import text

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
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (first,))
    time.sleep(0.1)
    with database.write() as conn:  # no error: the ping found it closed
        second = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    assert second != first
