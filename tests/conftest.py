"""Shared fixtures: real servers on loopback ports, on SQLite and on PostgreSQL."""

from __future__ import annotations

import logging
import os
import secrets
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn
from sqlalchemy import event, text

from rostra.app import create_app
from rostra.cli import SERVER_OPTIONS
from rostra.config import Settings
from rostra.services.container import Services
from rostra.store.db import Database
from rostra.store.migrate import upgrade

IN_CI = os.environ.get("CI", "").lower() == "true"
POSTGRES_URL = os.environ.get("ROSTRA_TEST_POSTGRES_URL", "")


def require(condition: bool, reason: str) -> None:
    """Skip a test whose prerequisite is missing; in CI that is a failure instead."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI=true and {reason}")
    pytest.skip(reason)


def posting_processes(pid: int) -> list[int]:
    """The children of process ``pid`` that are posting processes (`rostra serve`)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"\nPPid:\t{pid}\n" in status and b"rostra.posting_worker" in command:
            found.append(int(entry.name))
    return found


def without_waiting_for_a_reply(server: LiveServer, comment_id: int,
                                action: Callable[[], Any]) -> Any:
    """``action()``'s result, run while another transaction holds the comment FOR KEY
    SHARE, as inserting a reply to it elsewhere does (its foreign key) until that
    commits; fails if the action waited for it (PostgreSQL)."""
    from sqlalchemy import text

    done: list[Any] = []
    with server.services.db.engine.connect() as other:
        other.execute(text("SELECT id FROM comments WHERE id = :id FOR KEY SHARE"),
                      {"id": comment_id})
        acting = threading.Thread(target=lambda: done.append(action()))
        acting.start()
        acting.join(timeout=5)
        waited = acting.is_alive()
        other.rollback()
    acting.join()
    assert not waited, "it waited for the other transaction to end"
    return done[0]


def drop_database_connections(server: LiveServer, *, but_listeners: bool = False) -> None:
    """What a restart or a failover of PostgreSQL does to the server's connections
    (``but_listeners``: the change bus's LISTEN connection survives, so that its
    reconnecting does not replace the pool's connections first)."""
    from sqlalchemy import text

    with server.services.db.engine.connect() as admin:
        admin.execute(text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            + (" AND query NOT LIKE 'LISTEN%'" if but_listeners else "")))


def side_by_side(server: LiveServer | Database, lock: str, params: dict[str, Any],
                 actions: list[Callable[[], Any]],
                 meanwhile: Callable[[Any], None] | None = None,
                 in_order: bool = False) -> list[Any]:
    """Run ``actions`` at once (PostgreSQL) while another transaction holds ``lock`` (a
    SELECT ... FOR UPDATE); once each of them waits for a lock, that transaction does
    ``meanwhile`` and commits (or, without it, rolls back), and their answers (or
    errors) are returned in order. ``in_order``: each starts once the one before waits,
    so that they queue for the lock (and get it) in their order. ``server``: a live
    server's database, or a database itself."""
    db = server if isinstance(server, Database) else server.services.db
    answers: list[Any] = [None] * len(actions)

    def run(n: int) -> None:
        try:
            answers[n] = actions[n]()
        except Exception as exc:  # noqa: BLE001 - returned to the test
            answers[n] = exc

    with db.engine.connect() as holder:
        holder.execute(text(lock), params)
        threads = [threading.Thread(target=run, args=(n,)) for n in range(len(actions))]

        def wait_for(count: int) -> None:
            deadline = time.monotonic() + 10
            while True:
                # pg_stat_activity as it is now (a transaction keeps its first view).
                holder.execute(text("SELECT pg_stat_clear_snapshot()"))
                waiting = holder.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database() AND pid <> pg_backend_pid()"
                )).scalar_one()
                if waiting >= count:
                    return
                assert time.monotonic() < deadline, f"only {waiting} of {count} waited"
                time.sleep(0.02)

        for started, thread in enumerate(threads, start=1):
            thread.start()
            if in_order:
                wait_for(started)
        wait_for(len(threads))
        if meanwhile is None:
            holder.rollback()
        else:
            meanwhile(holder)
            holder.commit()
    for thread in threads:
        thread.join(timeout=30)
    return answers


def like_a_batch_replying_to(server: LiveServer, parent_id: int, reply_id: int,
                             action: Callable[[], Any]) -> Any:
    """``action()``'s result, run while another transaction locks rows as a posting batch
    replying to both comments does (PostgreSQL): it holds the parent to count its replies
    and, once ``action`` waits for it, takes the reply, then their thread. Fails if the
    two deadlocked: whichever PostgreSQL chose failed, or ran again (as
    rostra.store.db.attempts logs)."""
    from sqlalchemy import text

    done: list[Any] = []
    tries = _Records()
    logger = logging.getLogger("rostra.store.db")
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(tries)

    def act() -> None:
        try:
            done.append(action())
        except Exception as exc:  # noqa: BLE001 - reported below
            done.append(exc)

    lock = "SELECT thread_id FROM comments WHERE id = :id FOR NO KEY UPDATE"
    with server.services.db.engine.connect() as batch:
        thread_id = batch.execute(text(lock), {"id": parent_id}).scalar_one()
        acting = threading.Thread(target=act)
        acting.start()
        deadline = time.monotonic() + 10

        def nobody_waits() -> bool:
            # pg_stat_activity as it is now: a transaction keeps the view it first took,
            # and this one must go on holding its lock.
            batch.execute(text("SELECT pg_stat_clear_snapshot()"))
            return not batch.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database() AND pid <> pg_backend_pid()")).scalar_one()
        while nobody_waits():
            assert time.monotonic() < deadline, "the action did not wait for the batch"
            time.sleep(0.02)
        batch.execute(text(lock), {"id": reply_id})
        batch.execute(text("UPDATE threads SET comment_count = comment_count WHERE id = :id"),
                      {"id": thread_id})
        batch.commit()
    acting.join(timeout=30)
    logger.removeHandler(tries)
    logger.setLevel(level)
    assert len(done) == 1 and not isinstance(done[0], Exception), done
    assert tries.messages == [], tries.messages
    return done[0]


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


DEADLOCK = "RAISE EXCEPTION 'deadlock detected' USING ERRCODE = '40P01'"
CONNECTION_LOST = "PERFORM pg_terminate_backend(pg_backend_pid())"


@contextmanager
def first_try_fails(server: LiveServer | Database, event: str, condition: str,
                    failure: str = DEADLOCK, table: str = "comments",
                    at_commit: bool = False) -> Iterator[Callable[[], int]]:
    """Inside the block, the first transaction whose ``event`` (INSERT, UPDATE or
    DELETE) of a row of ``table`` meets ``condition`` fails: as a deadlock's victim
    does, or by losing its connection; with ``at_commit``, as it commits (a deferred
    constraint trigger). The block gets how many tries met the condition so far (a
    sequence counts them: it survives the rollback). ``server``: a live server's
    database, or a database itself."""
    db = server if isinstance(server, Database) else server.services.db
    tries = "victim_tries_" + secrets.token_hex(4)
    with db.write() as conn:
        conn.execute(text(f"CREATE SEQUENCE {tries}"))
        conn.execute(text(f"""
            CREATE FUNCTION {tries}() RETURNS trigger AS $$
            BEGIN
              IF {condition} AND nextval('{tries}') = 1 THEN
                {failure};
              END IF;
              RETURN {"OLD" if event == "DELETE" else "NEW"};
            END $$ LANGUAGE plpgsql"""))
        when = (f"CONSTRAINT TRIGGER {tries} AFTER {event} ON {table} DEFERRABLE "
                "INITIALLY DEFERRED" if at_commit
                else f"TRIGGER {tries} BEFORE {event} ON {table}")
        conn.execute(text(f"CREATE {when} FOR EACH ROW EXECUTE FUNCTION {tries}()"))

    def tried() -> int:
        with db.read() as conn:
            count: int = conn.execute(text(
                f"SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM {tries}")
            ).scalar_one()
        return count

    try:
        yield tried
    finally:
        with db.write() as conn:
            conn.execute(text(f"DROP TRIGGER {tries} ON {table}"))


class CuttingProxy:
    """PostgreSQL behind a loopback port, cutting one connection when told: the first
    that carries ``cut_answer`` from the server (``COMMITTED``: the transaction
    committed, and the client cannot know), or ``cut_query`` from the client (the
    statement is lost in flight, as in a restart). Each is cleared once used."""

    COMMITTED = b"C\x00\x00\x00\x0bCOMMIT\x00"  # CommandComplete "COMMIT"

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.cut_answer: bytes | None = None
        self.cut_query: bytes | None = None
        self.cut = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            threading.Thread(target=self._pump, args=(client, server, False),
                             daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, True),
                             daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, answers: bool) -> None:
        tail = b""
        try:
            while data := source.recv(65536):
                pattern = self.cut_answer if answers else self.cut_query
                # (a match ending in what came now: the tail was passed on already)
                if pattern is not None and pattern in (tail + data)[
                        max(0, len(tail) - len(pattern) + 1):]:
                    if answers:
                        self.cut_answer = None
                    else:
                        self.cut_query = None
                    self.cut += 1
                    break
                tail = data[-64:]
                sink.sendall(data)
        except OSError:
            pass
        for end in (source, sink):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            end.close()

    def close(self) -> None:
        self.listener.close()


class RoundTrips:
    """What this thread sends PostgreSQL on the engine's connections (libpq's trace,
    from checkout to checkin: the server's background tasks use the engine too): each
    Sync (extended protocol) or Query (simple) is one round trip."""

    def __init__(self, db: Database) -> None:
        self.file = tempfile.TemporaryFile()
        self.thread = threading.get_ident()
        self.engine = db.engine
        event.listen(self.engine, "checkout", self._trace)
        event.listen(self.engine, "checkin", self._untrace)

    def _trace(self, dbapi_conn: Any, *_: Any) -> None:
        if threading.get_ident() == self.thread:
            from psycopg import pq

            dbapi_conn.pgconn.trace(self.file.fileno())
            dbapi_conn.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)

    def _untrace(self, dbapi_conn: Any, *_: Any) -> None:
        if threading.get_ident() == self.thread and not dbapi_conn.closed:
            dbapi_conn.pgconn.untrace()

    def in_transactions(self) -> list[str]:
        """The round trips from the first BEGIN on: what reads before it took (a site's
        settings refreshed now and then, say) left out."""
        trips = self.round_trips()
        begins = [i for i, trip in enumerate(trips) if "BEGIN" in trip]
        return trips[begins[0]:] if begins else []

    def round_trips(self) -> list[str]:
        event.remove(self.engine, "checkout", self._trace)
        event.remove(self.engine, "checkin", self._untrace)
        with self.file:
            self.file.seek(0)
            lines = self.file.read().decode(errors="replace").splitlines()
        # One entry per round trip, naming what it sent: a Sync ends the extended
        # protocol's messages (each Parse names its statement), a Query is one by itself.
        # A trip that only prepares a statement (Parse, no Bind: psycopg prepares one on
        # its fifth use on a connection) is left out: it happens once per connection and
        # statement, so whether a traced transaction meets one depends on the pool's
        # history, not on the code under test.
        trips: list[str] = []
        sent: list[str] = []
        bound = False
        for line in lines:
            fields = line.split("\t")
            if fields[:1] != ["F"] or len(fields) < 3:
                continue
            if fields[2] == "Query":
                trips.append(" ".join(fields[3:]).strip()[:120])
            elif fields[2] == "Parse":
                sent.append(" ".join(fields[3:]).strip()[:120])
            elif fields[2] == "Bind":
                bound = True
            elif fields[2] == "Sync":
                if bound:
                    trips.append(" | ".join(sent) or "(prepared)")
                sent, bound = [], False
        return trips


@pytest.fixture
def proxied() -> Iterator[tuple[Services, CuttingProxy]]:
    """Services on a fresh PostgreSQL database reached through a CuttingProxy."""
    require(bool(POSTGRES_URL), "ROSTRA_TEST_POSTGRES_URL is not set")
    url, drop = create_postgres_database(POSTGRES_URL)
    direct = Database(url)
    upgrade(direct)
    direct.dispose()
    parts = urlsplit(url)
    proxy = CuttingProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    via = url.replace(parts.netloc, f"{parts.username}@127.0.0.1:{proxy.port}", 1)
    services = Services.build(Settings(database_url=via))
    try:
        yield services, proxy
    finally:
        services.db.dispose()
        proxy.close()
        drop()


def wait_ready(base: str, process: Any, log: Path | None = None,
               seconds: float = 60) -> None:
    """Wait until the server started as ``process`` answers /readyz; fail (with its log,
    when it has one) if it stops or takes longer than ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError("server did not start" + (
                f":\n{log.read_text()}" if log is not None else ""))
        time.sleep(0.1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ThreadedServer:
    """uvicorn serving an ASGI app in a background thread, on a free loopback port, with
    the options of `rostra serve` (no proxy headers believed by uvicorn itself)."""

    def __init__(self, app: Any, port: int | None = None) -> None:
        self.port = port or free_port()
        self.config = uvicorn.Config(app, host="127.0.0.1", port=self.port, lifespan="on",
                                     **SERVER_OPTIONS)
        self.server = uvicorn.Server(self.config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("test server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def create_postgres_database(base_url: str) -> tuple[str, Any]:
    """A fresh, empty PostgreSQL database for one test server; returns (url, dropper)."""
    import psycopg

    name = "rostra_test_" + secrets.token_hex(6)
    admin_url = base_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')  # name is ours, not user input
    prefix, _, _ = admin_url.rpartition("/")
    url = f"{prefix}/{name}"

    def drop() -> None:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return url, drop


@dataclass
class LiveServer:
    """A running Rostra with its own database."""

    url: str
    settings: Settings
    services: Services
    app: Any
    backend: str
    _sites: set[str] = field(default_factory=set)

    def add_site(self, site_id: str, origins: list[str] | None = None, **settings: Any) -> str:
        """Create (or reset the settings of) a site; returns its id."""
        from sqlalchemy import update

        from rostra.core.errors import Conflict
        from rostra.store.tables import sites

        try:
            self.services.sites.create(site_id, site_id.title(), [], settings or None)
        except Conflict:
            self.services.sites.update(site_id, settings=settings or {})
        try:
            self.services.sites.update(site_id, origins=origins or [])
        except Conflict as exc:
            if exc.extra.get("code") != "origin_taken":
                raise
            # The session's test sites share one origin, so that one persona can post to
            # any of them; production refuses that (an origin names one site), so the
            # fixture writes it as a database from before the rule would hold it.
            with self.services.db.write() as conn:
                conn.execute(update(sites).where(sites.c.id == site_id).values(
                    origins=sorted(origins or [])))
            self.services.sites.reload()
        return site_id

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, **kwargs)

    def client_from(self, address: str, **kwargs: Any) -> httpx.Client:
        """A client whose connections come from ``address`` (a loopback address other than
        127.0.0.1 is a peer that is not a trusted proxy)."""
        transport = httpx.HTTPTransport(local_address=address)
        return httpx.Client(base_url=self.url, timeout=30, transport=transport, **kwargs)


def _start_live_server(database_url: str, backend: str, **overrides: Any) -> tuple[LiveServer,
                                                                                    ThreadedServer]:
    # 127.0.0.1 is a trusted proxy so that personas can come from addresses of their own
    # (X-Forwarded-For); a client connecting from 127.0.0.2 (``untrusted_client``) is a
    # reader whose X-Forwarded-For must be ignored.
    overrides.setdefault("trusted_proxies", ["127.0.0.1/32"])
    # Core tests post fast from few personas with neutral text: moderation tests turn the
    # rate limits and the classifier on explicitly (pass rate_limits=True, classifier=...).
    overrides.setdefault("rate_limits", False)
    overrides.setdefault("classifier", "off")
    # Links in emails come from public_url only: the server's own address here.
    port = free_port()
    overrides.setdefault("public_url", f"http://127.0.0.1:{port}")
    # Browser tests open the demo pages; production servers do not serve them.
    overrides.setdefault("demo_pages", True)
    overrides.setdefault("cache_poll_seconds", 0.2)
    overrides.setdefault("secret_key", "test-secret-" + backend)
    settings = Settings(database_url=database_url, log_level="warning", **overrides)
    app = create_app(settings)
    server = ThreadedServer(app, port)
    server.start()
    inner = app.app
    return LiveServer(server.url, settings, inner.state.services, app, backend), server


@contextmanager
def running_server(backend: str, **overrides: Any) -> Iterator[LiveServer]:
    """A Rostra server with a database of its own (a temporary SQLite file, or a fresh
    PostgreSQL database), stopped and cleaned up when the block ends."""
    drop = None
    if backend == "postgres":
        require(bool(POSTGRES_URL), "ROSTRA_TEST_POSTGRES_URL is not set")
        url, drop = create_postgres_database(POSTGRES_URL)
    else:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='rostra-test-')}/rostra.sqlite3"
    live, server = _start_live_server(url, backend, **overrides)
    try:
        yield live
    finally:
        server.stop()
        live.services.db.dispose()
        if drop is not None:
            drop()


@contextmanager
def statements_on(server: LiveServer, table: str) -> Iterator[list[str]]:
    """The SQL statements naming ``table`` that the server runs inside the block (for
    counting queries: a page that reads once, not once per row or per request)."""
    from sqlalchemy import event

    seen: list[str] = []
    engine = server.services.db.engine

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if table in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of the test's own: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'rostra.sqlite3'}"
        return
    require(bool(POSTGRES_URL), "ROSTRA_TEST_POSTGRES_URL is not set")
    url, drop = create_postgres_database(POSTGRES_URL)
    try:
        yield url
    finally:
        drop()


@pytest.fixture(scope="module")
def provider() -> Iterator[Any]:
    """An OpenID Connect provider on a loopback port (tests/oidc_provider.py)."""
    from tests.oidc_provider import LoopbackProvider

    started = LoopbackProvider().start()
    yield started
    started.stop()


@pytest.fixture(scope="session")
def live_server() -> Iterator[LiveServer]:
    """Rostra on SQLite, shared by the session: give each test its own site or thread."""
    with running_server("sqlite") as live:
        yield live


@pytest.fixture(scope="session")
def pg_live_server() -> Iterator[LiveServer]:
    """Rostra on PostgreSQL (a fresh database), when ROSTRA_TEST_POSTGRES_URL is set."""
    with running_server("postgres") as live:
        yield live


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def server(request: pytest.FixtureRequest) -> LiveServer:
    """The same test against SQLite and PostgreSQL."""
    name = "live_server" if request.param == "sqlite" else "pg_live_server"
    live: LiveServer = request.getfixturevalue(name)
    return live


@pytest.fixture
def site(server: LiveServer, request: pytest.FixtureRequest) -> str:
    """A fresh site for one test, allowing the origin https://news.example."""
    site_id = "t" + secrets.token_hex(5)
    return server.add_site(site_id, ["https://news.example"])


ORIGIN = "https://news.example"


@dataclass
class Reader:
    """A persona: one browser's worth of identity (voter id and edit tokens)."""

    name: str
    http: httpx.Client
    site: str
    voter: str | None = None
    tokens: dict[int, str] = field(default_factory=dict)
    # Each persona browses from an address of its own (documentation range, RFC 5737).
    ip: str = field(
        default_factory=lambda: f"203.0.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"
    )

    def headers(self, comment_id: int | None = None) -> dict[str, str]:
        headers = {"Origin": ORIGIN, "X-Forwarded-For": self.ip}
        if self.voter:
            headers["X-Rostra-Voter"] = self.voter
        if comment_id is not None and comment_id in self.tokens:
            headers["X-Rostra-Edit-Token"] = self.tokens[comment_id]
        return headers

    def post(self, thread: str, text: str, parent_id: int | None = None,
             **extra: Any) -> httpx.Response:
        body = {"site": self.site, "thread": thread, "name": self.name, "text": text,
                "parent_id": parent_id, **extra}
        response = self.http.post("/api/comments", json=body, headers=self.headers())
        if response.status_code == 201:
            data = response.json()
            self.tokens[data["comment"]["id"]] = data["edit_token"]
            if data.get("voter"):
                self.voter = data["voter"]
        return response

    def vote(self, comment_id: int, value: int) -> httpx.Response:
        response = self.http.post(f"/api/comments/{comment_id}/vote", json={"value": value},
                                  headers=self.headers())
        if response.status_code == 200 and response.json().get("voter"):
            self.voter = response.json()["voter"]
        return response

    def page(self, thread: str, **params: Any) -> dict[str, Any]:
        response = self.http.get("/api/comments", params={"site": self.site, "thread": thread,
                                                           **params},
                                 headers={"X-Forwarded-For": self.ip})
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data


@pytest.fixture
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


@pytest.fixture
def ana(http: httpx.Client, site: str) -> Reader:
    return Reader("Ana", http, site)


@pytest.fixture
def ben(http: httpx.Client, site: str) -> Reader:
    return Reader("Ben", http, site)


def all_ids(comments: list[dict[str, Any]]) -> list[int]:
    """Every comment id in a nested tree, depth first."""
    out: list[int] = []
    for comment in comments:
        out.append(comment["id"])
        out.extend(all_ids(comment["replies"]))
    return out


def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests run last: Playwright's sync API keeps an event loop running in the
    main thread for the whole session, and tests that call asyncio.run must come first."""
    items.sort(key=lambda item: "/tests/browser/" in str(item.path).replace("\\", "/"))
