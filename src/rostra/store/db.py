"""The database: engine setup, SQLite tuning, and one-writer transactions."""

from __future__ import annotations

import errno
import functools
import logging
import os
import queue
import secrets
import select as os_select
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, DisconnectionError, IntegrityError, StatementError

from rostra.store.tables import meta

READER_CONNECTIONS = 16  # idle SQLite readers kept for reuse; more are opened when busy
# PostgreSQL: a pooled connection idle this long is pinged before use (one round trip);
# one used more recently is trusted unless its socket has news (``_has_news``), as a
# ping before every transaction cost a post on the posting lane about a tenth of its
# time. A restart fails the statements in flight, and their error makes the pool drop
# every older connection; what may simply run again then does (``attempts``).
PING_AFTER_IDLE_SECONDS = 1.0
# PostgreSQL's deadlock_detected and serialization_failure: it rolled the transaction
# back whole, so running it again neither loses nor repeats anything.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
TRANSACTION_ATTEMPTS = 3

log = logging.getLogger(__name__)


class DriverMissing(RuntimeError):
    """The database URL needs a driver that is not installed; the message says which."""


def _engine_url(url: str) -> str:
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


class RolledBack(Exception):
    """A transaction whose COMMIT lost its connection (``commit_unknown``) was looked
    for afterwards and had not committed: it may run again."""


def may_run_again(exc: BaseException) -> bool:
    """Whether ``exc`` ended a transaction that committed nothing and may simply run
    again: PostgreSQL broke a deadlock by failing it or found a serialization conflict,
    or the connection was lost on one of its statements (a restart or failover of the
    server; the pool then replaces every connection it had)."""
    if isinstance(exc, RolledBack):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if getattr(exc.orig, "sqlstate", None) in RETRYABLE_SQLSTATES:
        return True
    return exc.connection_invalidated and exc.statement is not None


def commit_unknown(exc: BaseException) -> bool:
    """Whether ``exc`` lost the connection as the transaction committed: it may have
    committed or not, so running its work again could do it twice."""
    return (isinstance(exc, DBAPIError) and exc.connection_invalidated
            and exc.statement is None)


class Attempt:
    """One try of a transaction (see ``attempts``): leaving it with an error that allows
    another try swallows the error, so the loop goes round again."""

    def __init__(self, what: str, number: int, last: bool, idempotent: bool = False) -> None:
        self.what, self.number, self.last = what, number, last
        self.idempotent = idempotent
        self.succeeded = False

    def __enter__(self) -> Attempt:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 traceback: Any) -> bool:
        if exc is None:
            self.succeeded = True
            return False
        if self.last or not (may_run_again(exc)
                             or self.idempotent and commit_unknown(exc)):
            return False
        log.info("%s: try %d failed (%s); running it again", self.what, self.number,
                 getattr(getattr(exc, "orig", None), "sqlstate", None) or "connection lost")
        return True


def attempts(what: str, tries: int = TRANSACTION_ATTEMPTS, *,
             idempotent: bool = False) -> Iterator[Attempt]:
    """Tries of a transaction that PostgreSQL may fail to break a deadlock, or lose
    with its connection (``may_run_again``)::

        for attempt in attempts("a moderator's decision"):
            with attempt, db.write() as conn:
                ...

    The block runs again (up to ``tries`` times in all) when its transaction ended so;
    any other error, or the last try's, is raised. Start the block's
    state afresh inside it: a failed try's is gone with its transaction. A block that
    is ``idempotent`` (done twice, its work is done once) also runs again when its
    COMMIT lost the connection and may have committed (``commit_unknown``)."""
    for number in range(1, tries + 1):
        attempt = Attempt(what, number, last=number == tries, idempotent=idempotent)
        yield attempt
        if attempt.succeeded:
            return


class Database:
    """Owns the engine. Writes go through ``write()``: on SQLite one at a time per
    process (``BEGIN IMMEDIATE`` orders them across processes), on PostgreSQL freely."""

    def __init__(self, url: str, *, echo: bool = False,
                 connect_timeout: int | None = None) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            path = url.split("///", 1)[-1]
            if path and path != ":memory:" and not path.startswith("file:"):
                _create_private(Path(path))
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
            kwargs["pool_size"] = 16
            kwargs["max_overflow"] = 48
        else:
            kwargs["pool_size"] = 10
            kwargs["max_overflow"] = 20
            if connect_timeout is not None:
                kwargs["connect_args"] = {"connect_timeout": connect_timeout}
        try:
            self.engine: Engine = create_engine(_engine_url(url), **kwargs)
        except ModuleNotFoundError as exc:
            if self.is_sqlite or not (exc.name or "").startswith("psycopg"):
                raise
            raise DriverMissing(
                "database_url is a PostgreSQL database, but its driver (psycopg) is not "
                "installed: pip install 'rostra[postgres]' (in the environment Rostra runs "
                "from)") from None
        self._write_lock = threading.Lock()
        # Set by the change bus: (connection, changes) inside the committing transaction,
        # and (changes) after it committed.
        self.before_commit: list[Callable[[Connection, list[Any]], None]] = []
        self.after_commit: list[Callable[[list[Any]], None]] = []
        # SQLite: one long-lived writer connection, and reader connections handed from
        # thread to thread. Opening a SQLAlchemy Connection costs more than a query.
        self._writer: Connection | None = None
        self._local = threading.local()
        self._idle_readers: queue.SimpleQueue[Connection] = queue.SimpleQueue()
        self._held: list[Connection] = []
        self._held_lock = threading.Lock()
        # SQLite connections inside a read or write block right now: on any thread, and
        # on this one.
        self._in_use = 0
        self._in_use_here = threading.local()
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_on_connect)
            event.listen(self.engine, "begin", _sqlite_on_begin)
        else:
            event.listen(self.engine, "checkin", _note_checkin)
            event.listen(self.engine, "checkout", self._ping_if_idle)
            for name, run in (
                ("do_execute", lambda cur, sql, params: cur.execute(sql, params)),
                ("do_execute_no_params", lambda cur, sql: cur.execute(sql)),
                ("do_executemany", lambda cur, sql, params: cur.executemany(sql, params)),
            ):
                event.listen(self.engine, name, _begin_with(run))

    def _ping_if_idle(self, dbapi_conn: Any, record: Any, proxy: Any) -> None:
        idle_since = record.info.get("checked_in_at")
        if idle_since is None or (time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS
                                  and not _has_news(dbapi_conn)):
            return
        try:
            self.engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:  # the pool opens a new connection instead
            raise DisconnectionError("the database closed an idle connection") from exc

    def _keep(self, conn: Connection) -> Connection:
        with self._held_lock:
            self._held.append(conn)
        return conn

    def _forget(self, conn: Connection) -> None:
        with self._held_lock:
            if conn in self._held:
                self._held.remove(conn)
        conn.close()

    @contextmanager
    def read(self, *, snapshot: bool = False) -> Iterator[Connection]:
        """The block's queries. On SQLite they share one snapshot. On PostgreSQL they
        run without a transaction (under READ COMMITTED each statement had a snapshot of
        its own anyway, and BEGIN and ROLLBACK cost a round trip each), unless
        ``snapshot``: then in one REPEATABLE READ transaction, as an export needs."""
        if not self.is_sqlite:
            level = "REPEATABLE READ" if snapshot else "AUTOCOMMIT"
            with self.engine.connect() as conn:
                yield conn.execution_options(isolation_level=level)
            return
        current: Connection | None = getattr(self._local, "conn", None)
        if current is not None:  # nested read on this thread: share the snapshot
            yield current
            return
        try:
            conn = self._idle_readers.get_nowait()
        except queue.Empty:
            conn = self._keep(self.engine.connect())
        self._local.conn = conn
        self._using(1)
        try:
            with conn.begin():
                yield conn
        finally:
            self._using(-1)
            self._local.conn = None
            if conn.closed:
                pass
            elif self._idle_readers.qsize() < READER_CONNECTIONS:
                self._idle_readers.put(conn)
            else:
                self._forget(conn)

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One transaction; committed when the block ends without an exception.

        Changes the block recorded (``rostra.store.changes``) go to ``before_commit``
        hooks inside the transaction and to ``after_commit`` hooks once it committed."""
        changes: list[Any] = []
        if self.is_sqlite:
            with self._write_lock:
                if self._writer is None or self._writer.closed:
                    self._writer = self._keep(self.engine.connect())
                    self._writer.info["immediate"] = True
                self._using(1)
                try:
                    with self._writer.begin():
                        yield self._writer
                        changes = self._committing(self._writer)
                finally:
                    self._using(-1)
        else:
            with self.engine.connect() as conn:
                # psycopg would send BEGIN in a round trip of its own before the first
                # statement; in autocommit mode it sends none, and the first statement
                # carries ours (_begin_with).
                conn.execution_options(isolation_level="AUTOCOMMIT", **{_UNSENT: [_BEGIN]})
                with conn.begin():
                    yield conn
                    changes = self._commit_postgresql(conn)
        if changes:
            for hook in self.after_commit:
                hook(changes)

    def _commit_postgresql(self, conn: Connection) -> list[Any]:
        """What is left of the transaction in one round trip: the statements put off to
        its end (``at_commit``), the change bus's NOTIFY and COMMIT, pipelined (each
        was a round trip of its own, a third of a posting batch's). The pipeline's error
        comes as SQLAlchemy's, as any other statement's would."""
        import psycopg

        from rostra.store.changes import pending

        raw = conn.connection.driver_connection
        assert isinstance(raw, psycopg.Connection)
        unsent = conn.get_execution_options()[_UNSENT]
        if unsent == [_BEGIN] and not (transaction_memo(conn).get("at_commit")
                                       or pending(conn)):
            return []  # the block sent and left nothing: there is no transaction
        try:
            with raw.pipeline():  # one Sync, as it ends
                _send(raw, unsent)  # BEGIN (if nothing was sent), statements sent last
                changes = self._committing(conn, raw)
                raw.execute("COMMIT")  # (its commit() would sync once more)
        except psycopg.Error as exc:
            # Lost here, the connection may have been lost at COMMIT: whether the
            # transaction committed is unknown (``commit_unknown``), so nothing runs it
            # again. Otherwise it rolled back whole (a deadlock's victim may run again).
            raise _as_sqlalchemys(conn, raw, exc) from exc
        return changes

    def _committing(self, conn: Connection, raw: Any = None) -> list[Any]:
        _run_put_off(conn, raw)
        if not (self.before_commit or self.after_commit):
            return []
        from rostra.store.changes import pending

        changes = pending(conn)
        if changes:
            for hook in self.before_commit:
                hook(conn, changes)
        return changes

    def _using(self, step: int) -> None:
        with self._held_lock:
            self._in_use += step
        self._in_use_here.n = getattr(self._in_use_here, "n", 0) + step

    def dispose(self, wait_seconds: float = 5.0) -> None:
        """Close every connection. On SQLite, first wait (up to ``wait_seconds``) for
        blocks still running on other threads (not this one's), such as a cancelled task's thread when a
        server stops: closing a SQLite connection under a running query crashes the
        process."""
        deadline = time.monotonic() + wait_seconds
        while (self._in_use - getattr(self._in_use_here, "n", 0) > 0
               and time.monotonic() < deadline):
            time.sleep(0.01)
        with self._held_lock:
            held, self._held = self._held, []
        for conn in held:
            try:
                conn.close()
            except Exception:  # closing from another thread may fail; the engine goes anyway
                pass
        self._writer = None
        self._local = threading.local()
        self._idle_readers = queue.SimpleQueue()
        self.engine.dispose()

    def secret(self, name: str, nbytes: int = 32) -> str:
        """A random secret kept in the database, made on first use (same in all workers)."""
        with self.read() as conn:
            value = conn.scalar(select(meta.c.value).where(meta.c.key == name))
        if value is not None:
            return str(value)
        try:
            with self.write() as conn:
                value = secrets.token_urlsafe(nbytes)
                conn.execute(insert(meta).values(key=name, value=value))
                return value
        except IntegrityError:
            with self.read() as conn:
                return str(conn.scalar(select(meta.c.value).where(meta.c.key == name)))


def _create_private(path: Path) -> None:
    """Create the database file readable and writable by its owner only (it holds email
    addresses and secrets). SQLite gives its -wal and -shm files the mode of the
    database file, so they follow. An existing file keeps its mode (`rostra doctor`
    warns when others may read it). Its folder must exist: a missing one is more likely
    a typo in database_url than a wish, and is refused with its name."""
    if not path.parent.is_dir():
        raise FileNotFoundError(
            errno.ENOENT, "no such folder for the SQLite database of database_url (create "
            "it, or correct the path)", str(path.parent))
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)


def upsert(conn: Connection) -> Any:
    """The dialect's INSERT that can take ON CONFLICT DO UPDATE (PostgreSQL or SQLite)."""
    return postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert


def _has_news(dbapi_conn: Any) -> bool:
    """Whether an idle connection's socket has something to read: the server closed it
    (a restart or failover says goodbye on every connection at once) or sent a notice.
    One system call, no round trip; such a connection is pinged before use."""
    try:
        readable, _, _ = os_select.select([dbapi_conn.fileno()], [], [], 0)
    except (OSError, ValueError):  # closed already
        return True
    return bool(readable)


def transaction_memo(conn: Connection) -> dict[Any, Any]:
    """A dict that lasts as long as the connection's current transaction: facts a batch
    of writes would otherwise read once per write (a group commit's posts)."""
    transaction = conn.get_transaction()
    held = conn.info.get("transaction_memo")
    if held is None or held[0] is not transaction:
        held = conn.info["transaction_memo"] = (transaction, {})
    memo: dict[Any, Any] = held[1]
    return memo


def at_commit(conn: Connection, statement: Any, params: dict[str, Any]) -> None:
    """Run ``statement``, which returns nothing, at the end of the transaction, just
    before it commits, after the ones put off before it. On PostgreSQL it goes in the
    commit's round trip, straight to the driver (SQLAlchemy's events do not see it); its
    error comes at the commit (a deadlock's victim runs again, ``attempts``)."""
    transaction_memo(conn).setdefault("at_commit", []).append((statement, params))


def _run_put_off(conn: Connection, raw: Any = None) -> None:
    """The statements put off to the commit, in order. Given the psycopg connection
    (``raw``, in the commit's pipeline), each goes to it directly, compiled once:
    through SQLAlchemy, a statement cost a posting batch more CPU than the database's work."""
    for statement, params in transaction_memo(conn).pop("at_commit", ()):
        if raw is None:
            conn.execute(statement, params)
            continue
        compiled, convert = _driver_form(statement, conn.dialect, tuple(sorted(params)))
        values = compiled.construct_params(params)
        for name, process in convert:
            values[name] = process(values[name])
        raw.execute(compiled.string, values)


@functools.lru_cache(maxsize=64)
def _driver_form(statement: Any, dialect: Any,
                 keys: tuple[str, ...]) -> tuple[Any, tuple[tuple[str, Any], ...]]:
    """``statement`` compiled for the driver with parameters ``keys`` (as SQLAlchemy's
    execution does: an UPDATE or INSERT sets the columns they name), and the
    conversions of its parameters that SQLAlchemy would apply (a type's bind processor)."""
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))
    if compiled.returning:
        raise ValueError("at_commit takes statements that return nothing")
    return compiled, tuple(compiled._bind_processors.items())


def send_with_next(conn: Connection, sql: str, params: dict[str, Any]) -> None:
    """Send ``sql`` (psycopg's ``%(name)s`` form; it returns nothing) in a PostgreSQL
    write transaction with whatever goes to the database next: pipelined ahead of the
    block's next statement, or in the commit's round trip. For a statement whose block
    need not wait for it (the posting batch's INSERT, its ids taken ahead): a block that
    sends nothing else is then one round trip. It goes to psycopg directly (SQLAlchemy's
    events do not see it); its error comes with that statement's, or the commit's."""
    conn.get_execution_options()[_UNSENT].append((sql, params))


def _as_sqlalchemys(conn: Connection, raw: Any, exc: Exception) -> StatementError:
    """A psycopg error of the commit's pipeline, as SQLAlchemy would have
    raised it (its class by the error's, the connection invalidated if it was lost), so
    that ``attempts`` and ``commit_unknown`` read it as any statement's."""
    import psycopg

    lost = bool(raw.broken or raw.closed)
    if lost:
        conn.invalidate(exc)
    return DBAPIError.instance(None, None, exc, psycopg.Error, connection_invalidated=lost)


def _unicode_lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _sqlite_on_connect(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy emit BEGIN itself (see _sqlite_on_begin) instead of pysqlite.
    dbapi_conn.isolation_level = None
    # SQLite's lower() folds ASCII letters only: an address typed ÉD@BÜCHER.example was
    # never found as éd@bücher.example (a claim, an export, an erasure), where
    # PostgreSQL's finds it. Python's is used instead, in queries and in the index on
    # lower(author_email) (rebuilt by migration 0117).
    dbapi_conn.create_function("lower", 1, _unicode_lower, deterministic=True)
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    # NORMAL in WAL mode is durable against a killed process (not a power cut).
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA cache_size=-32000")
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.close()


def _sqlite_on_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("immediate") else "BEGIN")


# A write transaction on PostgreSQL holds in this execution option what it has not sent
# yet, in order (a list, emptied as sent): its BEGIN until its first statement, and
# statements put off to go with the next one (``send_with_next``).
_UNSENT = "rostra_unsent"
_BEGIN: tuple[str, dict[str, Any] | None] = ("BEGIN ISOLATION LEVEL READ COMMITTED", None)


def _send(raw: Any, unsent: list[tuple[str, dict[str, Any] | None]]) -> None:
    """Send ``unsent`` (emptying it) on ``raw``, a psycopg connection in pipeline mode."""
    while unsent:
        sql, params = unsent.pop(0)
        if params is None:
            raw.execute(sql, prepare=False)  # (BEGIN: seen as BEGIN in a trace)
        else:
            raw.execute(sql, params)


def _begin_with(run: Callable[..., Any]) -> Callable[..., bool]:
    """A ``do_execute*`` hook: the first statement of a write transaction goes out
    pipelined behind its BEGIN, one round trip for the two, as does any statement behind
    those put off to go with it (``send_with_next``). ``run`` executes the statement on
    the cursor; the hook says whether it did (else SQLAlchemy does)."""

    def hook(cursor: Any, statement: str, *args: Any) -> bool:
        unsent: list[tuple[str, dict[str, Any] | None]] | None = (
            args[-1].execution_options.get(_UNSENT))
        if not unsent:
            return False
        raw = cursor.connection
        with raw.pipeline():  # its end sends one Sync and reads every result
            _send(raw, unsent)
            run(cursor, statement, *args[:-1])
        return True

    return hook


def _note_checkin(dbapi_conn: Any, record: Any) -> None:
    record.info["checked_in_at"] = time.monotonic()
