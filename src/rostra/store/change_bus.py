"""The change bus: every process serving one database hears of the others' changes at
once, instead of polling for them.

- PostgreSQL: ``NOTIFY rostra_changes`` inside the writing transaction (PostgreSQL
  delivers it when, and only if, the transaction commits), ``LISTEN`` on one connection
  per process.
- Redis (when ``redis_url`` is set): ``PUBLISH`` right after the commit, one
  subscription per process; the channel is named after the database (a random id kept
  in it), so that deployments sharing a Redis do not hear each other.
- SQLite without Redis: each commit writes its messages into ``change_log`` (in the
  transaction, so only what commits is there, in commit order: SQLite's writers take
  turns), and every process reads the new rows every ``SQLITE_READ_SECONDS``.

Whatever the bus, each process still polls, seldom while the bus is connected (for what
was sent while it reconnected, or written by a process without a bus) and every
``cache_poll_seconds`` while it is not.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, insert, make_url, select

from rostra.store.changes import Change, ChangeKind
from rostra.store.db import Database
from rostra.store.tables import change_log

log = logging.getLogger("rostra.bus")

CHANNEL = "rostra_changes"
MAX_PAYLOAD = 7000  # bytes of one message (PostgreSQL allows 8000)
MAX_CHANGES = 500  # more in one transaction (an import): tell the others to look again
RECONNECT_SECONDS = (0.5, 1.0, 2.0, 5.0)
HEALTH_SECONDS = 30.0  # a listening connection quiet this long is checked
# SQLite's bus: how often each process reads the new rows of ``change_log`` (a new
# comment reaches other workers' open pages within about this), how many at most at a
# time, how long rows stay, and how often each process prunes them.
SQLITE_READ_SECONDS = 0.1
# ... reading only when the write-ahead log changed (a stat, not a query: idle, the
# reads cost a worker 1.7 % of a core), and at least this often whatever it says (its
# time stamp is coarse: two commits in one tick of it may look the same).
SQLITE_READ_ANYWAY_SECONDS = 1.0
SQLITE_READ_ROWS = 500
SQLITE_KEEP_SECONDS = 300.0
SQLITE_PRUNE_SECONDS = 60.0

Handler = Callable[[list[Change]], None]
OnConnect = Callable[[], Awaitable[None]]


def encode(changes: Sequence[Change]) -> list[str]:
    """Messages carrying ``changes``, each under MAX_PAYLOAD bytes."""
    if len(changes) > MAX_CHANGES:
        return [json.dumps([Change(ChangeKind.RESYNC).to_json()])]
    messages: list[str] = []
    batch: list[list[Any]] = []
    size = 2
    for change in changes:
        item = change.to_json()
        length = len(json.dumps(item, ensure_ascii=False).encode()) + 1
        if length + 2 > MAX_PAYLOAD:  # a giant thread key: the others look again
            return [json.dumps([Change(ChangeKind.RESYNC).to_json()])]
        if batch and size + length > MAX_PAYLOAD:
            messages.append(json.dumps(batch, ensure_ascii=False))
            batch, size = [], 2
        batch.append(item)
        size += length
    if batch:
        messages.append(json.dumps(batch, ensure_ascii=False))
    return messages


def decode(payload: str | bytes) -> list[Change]:
    """The changes of one message; a message this version cannot read asks to look again."""
    try:
        return [Change.from_json(item) for item in json.loads(payload)]
    except (ValueError, TypeError, KeyError):
        log.warning("unreadable change message; looking at everything again")
        return [Change(ChangeKind.RESYNC)]


class ChangeBus:
    """One transport: ``install`` makes the database's commits send their changes;
    ``run`` receives everyone's (this process's own included) until cancelled."""

    name = "none"

    def __init__(self) -> None:
        self.connected = False

    def install(self, db: Database) -> None:
        raise NotImplementedError

    async def listen(self, handle: Handler, on_connect: OnConnect) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Let go of what publishing holds (at shutdown)."""

    async def run(self, handle: Handler, on_connect: OnConnect) -> None:
        """Listen; reconnect after a failure (``connected`` is False meanwhile)."""
        failures = 0
        while True:
            try:
                await self.listen(handle, on_connect)
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database or Redis went away: retry
                log.warning("change bus (%s) lost: %s; polling until it is back", self.name,
                            str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
                failures += 1
            finally:
                self.connected = False
            await asyncio.sleep(RECONNECT_SECONDS[min(failures, len(RECONNECT_SECONDS) - 1)])


class PostgresBus(ChangeBus):
    name = "postgresql"

    def __init__(self, url: str) -> None:
        super().__init__()
        self.conninfo = url.replace("postgresql+psycopg://", "postgresql://", 1)

    def install(self, db: Database) -> None:
        if self._notify not in db.before_commit:
            db.before_commit.append(self._notify)

    @staticmethod
    def _notify(conn: Connection, changes: list[Change]) -> None:
        # Straight to psycopg, in the commit's pipeline (rostra.store.db): through
        # SQLAlchemy the call cost more CPU than the rest of the commit.
        raw = conn.connection.driver_connection
        assert raw is not None
        for payload in encode(changes):
            raw.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))

    async def listen(self, handle: Handler, on_connect: OnConnect) -> None:
        import psycopg

        conn = await psycopg.AsyncConnection.connect(
            self.conninfo, autocommit=True, keepalives=1, keepalives_idle=30,
            keepalives_interval=10, keepalives_count=3)
        try:
            await conn.execute(f"LISTEN {CHANNEL}")
            self.connected = True
            await on_connect()
            while True:
                async for note in conn.notifies(timeout=HEALTH_SECONDS):
                    handle(decode(note.payload))
                # Quiet for a while: make sure the connection is still there (a dead one
                # raises here, and the bus reconnects, polling meanwhile).
                await conn.execute("SELECT 1")
        finally:
            with contextlib.suppress(Exception):
                await conn.close()


class RedisBus(ChangeBus):
    name = "redis"

    def __init__(self, url: str, db: Database) -> None:
        super().__init__()
        import redis

        self.url = url
        self.channel = f"rostra:{db.secret('bus_channel', 12)}:changes"
        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)

    def install(self, db: Database) -> None:
        if self._publish not in db.after_commit:
            db.after_commit.append(self._publish)

    def _publish(self, changes: list[Change]) -> None:
        import redis

        try:
            for payload in encode(changes):
                self.client.publish(self.channel, payload)
        except (redis.RedisError, OSError) as exc:
            # The change is committed; the others see it at their next poll.
            log.warning("change bus (redis): cannot publish: %s", exc)

    async def listen(self, handle: Handler, on_connect: OnConnect) -> None:
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(self.url, health_check_interval=15,
                                         socket_connect_timeout=5)
        pubsub = client.pubsub()
        try:
            await pubsub.subscribe(self.channel)
            self.connected = True
            await on_connect()
            while True:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=30)
                if message is not None and message.get("type") == "message":
                    handle(decode(message["data"]))
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()
            with contextlib.suppress(Exception):
                await client.aclose()

    def close(self) -> None:
        self.client.close()


class SqliteBus(ChangeBus):
    """The processes on one SQLite file (the workers of `rostra serve --workers N`, their
    posting processes, commands) tell each other through a table. Reading it costs one
    indexed query every ``read_seconds``; rows stay ``keep_seconds`` (a process that
    falls further behind than that looks at everything again)."""

    name = "sqlite"

    def __init__(self, db: Database, read_seconds: float = SQLITE_READ_SECONDS,
                 keep_seconds: float = SQLITE_KEEP_SECONDS) -> None:
        super().__init__()
        self.db = db
        self.read_seconds = read_seconds
        self.keep_seconds = keep_seconds
        self.wal = f"{make_url(db.url).database}-wal"

    def install(self, db: Database) -> None:
        if self._write not in db.before_commit:
            db.before_commit.append(self._write)

    @staticmethod
    def _write(conn: Connection, changes: list[Change]) -> None:
        now = datetime.now(UTC)
        conn.execute(insert(change_log), [{"at": now, "payload": payload}
                                          for payload in encode(changes)])

    def _newest(self) -> int:
        with self.db.read() as conn:
            return int(conn.scalar(select(func.max(change_log.c.id))) or 0)

    def _after(self, last: int) -> list[tuple[int, str]]:
        with self.db.read() as conn:
            rows = conn.execute(select(change_log.c.id, change_log.c.payload)
                                .where(change_log.c.id > last)
                                .order_by(change_log.c.id).limit(SQLITE_READ_ROWS)).all()
        return [(row.id, row.payload) for row in rows]

    def prune(self) -> int:
        """Forget rows older than ``keep_seconds``; how many went."""
        cutoff = datetime.now(UTC) - timedelta(seconds=self.keep_seconds)
        with self.db.write() as conn:
            return conn.execute(delete(change_log).where(change_log.c.at < cutoff)).rowcount

    def _log_state(self) -> tuple[int, int] | None:
        """When the write-ahead log was last written, and its size: every commit changes
        them."""
        try:
            found = os.stat(self.wal)
        except OSError:
            return None
        return found.st_mtime_ns, found.st_size

    async def listen(self, handle: Handler, on_connect: OnConnect) -> None:
        last = await asyncio.to_thread(self._newest)
        self.connected = True
        await on_connect()  # what was written before ``last`` (or while away)
        pruned_at = read_at = time.monotonic()
        seen = self._log_state()
        while True:
            await asyncio.sleep(self.read_seconds)
            state = self._log_state()
            if state == seen and time.monotonic() - read_at < SQLITE_READ_ANYWAY_SECONDS:
                continue
            seen, read_at = state, time.monotonic()  # before reading: a commit after it reads again
            rows = await asyncio.to_thread(self._after, last)
            if rows and rows[0][0] != last + 1:
                # Rows this process never read were pruned (it was stopped, or far
                # behind): what they said is not known, so look at everything again.
                handle([Change(ChangeKind.RESYNC)])
            for row_id, payload in rows:
                last = row_id
                handle(decode(payload))
            if time.monotonic() - pruned_at > SQLITE_PRUNE_SECONDS:
                pruned_at = time.monotonic()
                await asyncio.to_thread(self.prune)


def bus_for(database_url: str, redis_url: str, db: Database) -> ChangeBus | None:
    """The bus these settings give (None: an in-memory SQLite database, which no other
    process can open), installed on ``db``."""
    bus: ChangeBus
    if redis_url:
        bus = RedisBus(redis_url, db)
    elif not database_url.startswith("sqlite"):
        bus = PostgresBus(database_url)
    elif ":memory:" in database_url or database_url.rstrip("/") == "sqlite:":
        return None
    else:
        bus = SqliteBus(db)
    bus.install(db)
    return bus
