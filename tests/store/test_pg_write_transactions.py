"""A write transaction on PostgreSQL sends its BEGIN with its first statement (one round
trip for both, where psycopg sent BEGIN alone first). It must still be one transaction
whatever the first statement is: what a failed block wrote is gone, a failing first
statement leaves a usable connection (and may run again, as any statement's failure), and
the isolation level is READ COMMITTED whatever the database's default. The statements put
off to the commit go to psycopg directly, as SQLAlchemy would have sent them; so may a
statement of the block sent with whatever goes next (``send_with_next``), and its failure
is any statement's, or the commit's."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, column, insert, table, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.types import TypeDecorator

from rostra.store.db import (
    Database,
    at_commit,
    attempts,
    commit_unknown,
    may_run_again,
    send_with_next,
)
from tests.conftest import (
    CONNECTION_LOST,
    DEADLOCK,
    POSTGRES_URL,
    RoundTrips,
    create_postgres_database,
    require,
)

pytestmark = pytest.mark.postgres

items = table("items", column("id"), column("note"))


@pytest.fixture
def database() -> Iterator[Database]:
    require(bool(POSTGRES_URL), "ROSTRA_TEST_POSTGRES_URL is not set")
    url, drop = create_postgres_database(POSTGRES_URL)
    database = Database(url)
    with database.engine.begin() as conn:
        conn.execute(text("CREATE TABLE items (id integer PRIMARY KEY, note text)"))
    try:
        yield database
    finally:
        database.dispose()
        drop()


def _stored(database: Database) -> list[int]:
    with database.read() as conn:
        return list(conn.execute(text("SELECT id FROM items ORDER BY id")).scalars())


class Failed(Exception):
    pass


@pytest.mark.parametrize("first", ["one row", "many rows", "no parameters", "savepoint",
                                   "sent with the next"])
def test_a_failed_block_leaves_nothing_whatever_its_first_statement(
    database: Database, first: str
) -> None:
    with pytest.raises(Failed), database.write() as conn:
        if first == "one row":
            conn.execute(insert(items).values(id=1, note="a"))
        elif first == "many rows":  # executemany
            conn.execute(insert(items), [{"id": 1, "note": "a"}, {"id": 2, "note": "b"}])
        elif first == "no parameters":
            conn.exec_driver_sql("INSERT INTO items (id, note) VALUES (1, 'a')")
        elif first == "sent with the next":
            send_with_next(conn, _INSERT, {"id": 1, "note": "a"})
        else:
            with conn.begin_nested():
                conn.execute(insert(items).values(id=1, note="a"))
        conn.execute(insert(items).values(id=3, note="c"))
        raise Failed
    assert _stored(database) == []
    with database.write() as conn:
        conn.execute(insert(items).values(id=4, note="d"))
    assert _stored(database) == [4]


_INSERT = "INSERT INTO items (id, note) VALUES (%(id)s, %(note)s)"


def test_a_statement_sent_with_the_next_goes_in_order_and_fails_as_any_other(
    database: Database,
) -> None:
    trace = RoundTrips(database)
    with database.write() as conn:  # alone: with BEGIN and COMMIT
        send_with_next(conn, _INSERT, {"id": 1, "note": "a"})
        send_with_next(conn, _INSERT, {"id": 2, "note": "b"})
    assert len(trace.in_transactions()) == 1
    with database.write() as conn:  # ahead of the next statement, which sees it
        send_with_next(conn, _INSERT, {"id": 3, "note": "c"})
        assert conn.execute(text("SELECT count(*) FROM items")).scalar_one() == 3
    # Its failure comes with the next statement's, or with the commit, as SQLAlchemy's.
    for then in ("a statement", "the commit", "after a statement"):
        with pytest.raises(IntegrityError), database.write() as conn:
            if then == "after a statement":
                conn.execute(insert(items).values(id=5, note="gone with the rest"))
            send_with_next(conn, _INSERT, {"id": 1, "note": "again"})
            if then == "a statement":
                conn.execute(insert(items).values(id=6, note="gone with the rest"))
    for n in range(7, 17):  # the pool's connections, the failed ones among them
        with database.write() as conn:
            send_with_next(conn, _INSERT, {"id": n, "note": "d"})
    assert _stored(database) == [1, 2, 3, *range(7, 17)]


def test_a_failing_first_statement_rolls_back_and_the_connection_goes_on(
    database: Database,
) -> None:
    with database.write() as conn:
        conn.execute(insert(items).values(id=1, note="a"))
    with pytest.raises(IntegrityError), database.write() as conn:
        conn.execute(insert(items).values(id=1, note="again"))
    for n in range(2, 12):  # the pool's connections, the failed one among them
        with database.write() as conn:
            conn.execute(insert(items).values(id=n, note="b"))
            assert conn.execute(text("SELECT count(*) FROM items")).scalar_one() == n
    assert _stored(database) == list(range(1, 12))


def _fail_first_inserts(database: Database, failure: str, count: int) -> None:
    with database.engine.begin() as conn:
        conn.execute(text("CREATE SEQUENCE tries"))
        conn.execute(text(f"""
            CREATE FUNCTION fail_once() RETURNS trigger AS $$
            BEGIN
              IF nextval('tries') <= {count} THEN {failure}; END IF;
              RETURN NEW;
            END $$ LANGUAGE plpgsql"""))
        conn.execute(text("CREATE TRIGGER fail_once BEFORE INSERT ON items "
                          "FOR EACH ROW EXECUTE FUNCTION fail_once()"))


@pytest.mark.parametrize("straight", [False, True], ids=["sqlalchemy", "with the next"])
@pytest.mark.parametrize("failure", [CONNECTION_LOST, DEADLOCK], ids=["lost", "deadlock"])
def test_a_first_statement_failing_with_its_begin_may_run_again(
    database: Database, failure: str, straight: bool
) -> None:
    # The first statement goes in one round trip with BEGIN: lost there (a restart of
    # the server) or a deadlock's victim, the transaction committed nothing, says so as
    # any statement's failure does, and runs again on a good connection.
    _fail_first_inserts(database, failure, 2)
    with pytest.raises(DBAPIError) as failed, database.write() as conn:
        if straight:
            send_with_next(conn, _INSERT, {"id": 1, "note": "failed"})
            conn.execute(text("SELECT 1"))
        else:
            conn.execute(insert(items).values(id=1, note="failed"))
    assert may_run_again(failed.value) and not commit_unknown(failed.value)
    assert failed.value.connection_invalidated == (failure == CONNECTION_LOST)
    tries = 0
    for attempt in attempts("a test"):
        with attempt, database.write() as conn:
            tries += 1
            if straight:
                send_with_next(conn, _INSERT, {"id": 2, "note": "at the second try"})
                conn.execute(text("SELECT 1"))
            else:
                conn.execute(insert(items).values(id=2, note="at the second try"))
    assert tries == 2
    assert _stored(database) == [2]


def test_a_block_of_put_off_statements_alone_commits_them(database: Database) -> None:
    with database.write() as conn:
        at_commit(conn, insert(items).values(id=7, note="late"), {})
    assert _stored(database) == [7]


class Shouted(TypeDecorator[str]):
    """A column type that converts what it stores (as a UTC timestamp's type does)."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: object) -> str | None:
        return None if value is None else value.upper()


typed = Table("items", MetaData(), Column("id", Integer, primary_key=True),
              Column("note", Shouted))


def test_put_off_statements_go_as_sqlalchemy_would_send_them(database: Database) -> None:
    # They go to psycopg directly in the commit's pipeline: the column types' conversions
    # and the statement's own literal values must still apply, in order.
    with database.write() as conn:
        conn.execute(insert(items).values(id=7, note="first"))
        at_commit(conn, update(typed).where(typed.c.id == 7), {"note": "quiet"})
        at_commit(conn, insert(typed), {"id": 8, "note": "later"})
        at_commit(conn, update(typed).where(typed.c.id == 8), {"note": "last"})
    with database.read() as conn:
        rows = conn.execute(text("SELECT id, note FROM items ORDER BY id")).all()
    assert [tuple(row) for row in rows] == [(7, "QUIET"), (8, "LAST")]
    with pytest.raises(ValueError), database.write() as conn:
        at_commit(conn, update(typed).returning(typed.c.id), {"note": "x"})


def test_a_block_that_sends_nothing_costs_nothing(database: Database) -> None:
    # (A server's change bus listens for what transactions change.)
    heard: list[object] = []
    database.before_commit.append(lambda conn, changes: heard.append(changes))
    trace = RoundTrips(database)
    with database.write():
        pass
    assert trace.round_trips() == []
    assert heard == []


def test_the_transaction_is_read_committed_whatever_the_databases_default(
    database: Database,
) -> None:
    with database.engine.begin() as conn:
        name = conn.execute(text("SELECT current_database()")).scalar_one()
        conn.execute(text(
            f'ALTER DATABASE "{name}" SET default_transaction_isolation = \'serializable\''))
    database.engine.dispose()  # new connections take the new default
    with database.read() as conn:
        assert conn.execute(text("SHOW default_transaction_isolation")).scalar_one() == (
            "serializable")
    with database.write() as conn:
        level = conn.execute(text("SHOW transaction_isolation")).scalar_one()
        in_block = conn.execute(text("SELECT now() = statement_timestamp()")).scalar_one()
    assert level == "read committed"
    assert in_block is False  # a transaction's now() is its start, not this statement's
