"""The change bus: every process serving one database hears of the others' changes at
once, instead of polling for them.

- PostgreSQL: ``NOTIFY rostra_changes`` inside the writing transaction (PostgreSQL
  delivers it when, and only if, the transaction commits), ``LISTEN`` on one connection
  per process.
- Redis (when ``redis_url`` is set): ``PUBLISH`` right after the commit, one
  subscription per process; the channel is named after the database (a random id kept
  in it), so that deployments sharing a Redis do not hear each other.
- SQLite without Redis: no bus; the processes of one box poll ``threads.updated_at``.

Whatever the bus, each process still polls, seldom while the bus is connected (for what
was sent while it reconnected, or written by a process without a bus) and every
``cache_poll_seconds`` while it is not.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import Connection

from rostra.store.changes import Change, ChangeKind
from rostra.store.db import Database

log = logging.getLogger("rostra.bus")

CHANNEL = "rostra_changes"
MAX_PAYLOAD = 7000  # bytes of one message (PostgreSQL allows 8000)
MAX_CHANGES = 500  # more in one transaction (an import): tell the others to look again
RECONNECT_SECONDS = (0.5, 1.0, 2.0, 5.0)
HEALTH_SECONDS = 30.0  # a listening connection quiet this long is checked

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


def bus_for(database_url: str, redis_url: str, db: Database) -> ChangeBus | None:
    """The bus these settings give (None: SQLite without Redis), installed on ``db``."""
    bus: ChangeBus
    if redis_url:
        bus = RedisBus(redis_url, db)
    elif not database_url.startswith("sqlite"):
        bus = PostgresBus(database_url)
    else:
        return None
    bus.install(db)
    return bus
