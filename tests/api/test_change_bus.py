"""Two servers on one database hear each other's changes over the change bus (LISTEN/
NOTIFY, or Redis pub/sub with redis_url, or SQLite's change log), not by polling: here polling is slowed to once
a minute, so whatever B knows of A's writes within a second came over the bus."""

from __future__ import annotations

import json
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from tests.conftest import (
    ORIGIN,
    POSTGRES_URL,
    LiveServer,
    Reader,
    _start_live_server,
    create_postgres_database,
    require,
)

ADMIN = "bus-admin-token-0123456789abcdef"
STAFF = {"Authorization": f"Bearer {ADMIN}"}


def redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


def bus_overrides(transport: str) -> dict[str, Any]:
    """``two_servers``' arguments for the change bus ``transport``: "postgresql", "redis"
    (on PostgreSQL) or "sqlite" (two servers on one SQLite file, as the workers of one
    box are)."""
    if transport == "redis":
        require(redis_up(), "Redis is not running on 127.0.0.1:6379")
        return {"redis_url": "redis://127.0.0.1:6379/0"}
    if transport == "sqlite":
        return {"database": "sqlite"}
    return {}


# The transports of the cross-server tests: SQLite's needs no PostgreSQL.
TRANSPORTS = [pytest.param("postgresql", marks=pytest.mark.postgres),
              pytest.param("redis", marks=pytest.mark.postgres),
              "sqlite"]


@contextmanager
def two_servers(database: str = "postgres",
                **overrides: Any) -> Iterator[tuple[LiveServer, LiveServer]]:
    drop = None
    if database == "sqlite":
        url = f"sqlite:///{tempfile.mkdtemp(prefix='rostra-bus-')}/rostra.sqlite3"
    else:
        require(bool(POSTGRES_URL), "ROSTRA_TEST_POSTGRES_URL is not set")
        url, drop = create_postgres_database(POSTGRES_URL)
    started = []
    try:
        for _ in range(2):
            started.append(_start_live_server(url, database, cache_poll_seconds=60,
                                              admin_token=ADMIN, **overrides))
        a, b = (live for live, _ in started)
        for live in (a, b):  # both listening before the test writes
            deadline = time.monotonic() + 10
            while not (live.services.bus and live.services.bus.connected):
                assert time.monotonic() < deadline, "the change bus did not connect"
                time.sleep(0.02)
        yield a, b
    finally:
        for live, server in started:
            server.stop()
            live.services.db.dispose()
        if drop is not None:
            drop()


def within(seconds: float, check: Any) -> float:
    """Seconds until ``check()`` is true; fails after ``seconds``."""
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < seconds, f"not within {seconds} s"
        time.sleep(0.01)
    return time.monotonic() - start


class Stream:
    """A live stream (Server-Sent Events) of one thread on one server, read in a thread."""

    def __init__(self, base: str, site: str, thread: str) -> None:
        self.events: list[str] = []
        self.data: list[dict[str, Any]] = []  # each event's data, parsed
        self.ready = threading.Event()
        self.client = httpx.Client(base_url=base, timeout=30)
        self.thread = threading.Thread(target=self._read, args=(site, thread), daemon=True)
        self.thread.start()
        assert self.ready.wait(10), "the stream did not open"

    def _read(self, site: str, thread: str) -> None:
        try:
            with self.client.stream("GET", "/api/events",
                                    params={"site": site, "thread": thread}) as response:
                for line in response.iter_lines():
                    if line.startswith(": connected"):
                        self.ready.set()
                    elif line.startswith("event: "):
                        self.events.append(line)
                    elif line.startswith("data: "):
                        self.data.append(json.loads(line[6:]))
        except httpx.HTTPError:
            pass

    def close(self) -> None:
        self.client.close()


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_it_tells_the_other_server_at_once(transport: str) -> None:
    with two_servers(**bus_overrides(transport)) as (a, b), a.client() as ha, \
            b.client() as hb:
        assert a.services.bus is not None and a.services.bus.name == transport
        site = a.add_site("bus", [ORIGIN])
        ana, bob = Reader("Ana", ha, site), Reader("Bob", hb, site)
        first = ana.post("/story", "The first comment, posted on A.")
        assert first.status_code == 201
        # B learns of the new site and caches the page with the first comment.
        within(1, lambda: b.services.sites.get(site) is not None)
        assert [c["id"] for c in bob.page("/story")["comments"]] == [first.json()["comment"]["id"]]
        stream = Stream(b.url, site, "/story")
        try:
            second = ana.post("/story", "A second comment, posted on A.").json()["comment"]["id"]
            within(1, lambda: second in [c["id"] for c in bob.page("/story")["comments"]])
            within(1, lambda: stream.events)
        finally:
            stream.close()
        # A staff decision on A holds on B at once (SQLite's bus: within its read
        # interval): no stale page after that.
        rejected = ha.post(f"/api/moderation/comments/{second}/reject", headers=STAFF)
        assert rejected.status_code == 200, rejected.text
        within(1, lambda: second not in [c["id"] for c in bob.page("/story")["comments"]])
        # A ban placed on A holds on B at once.
        cid = Reader("Cid", hb, site, ip="203.0.113.77")
        banned = ha.post("/api/moderation/bans", headers=STAFF, json={
            "site": site, "kind": "ip", "value": "203.0.113.77", "reason": "flooding"})
        assert banned.status_code == 201, banned.text
        refused = cid.post("/story", "Posting on B after a ban on A.")
        assert refused.status_code == 422 and refused.json()["reasons"] == ["banned"]
        lifted = ha.delete(f"/api/moderation/bans/{banned.json()['ban']['id']}", headers=STAFF)
        assert lifted.status_code == 200
        # B kept the site's bans since it refused Cid, and forgets them when the bus
        # brings the lift: a moment after A answered (under a full run's load, after B's
        # next post once). A refused post stores nothing.
        within(1, lambda: cid.post(
            "/story", "Posting on B after the ban was lifted.").status_code == 201)


@pytest.mark.postgres
def test_it_reconnects_the_bus_and_catches_up_with_what_it_missed() -> None:
    import psycopg

    with two_servers() as (a, b), a.client() as ha, b.client() as hb:
        site = a.add_site("reconnect", [ORIGIN])
        ana, bob = Reader("Ana", ha, site), Reader("Bob", hb, site)
        first = ana.post("/story", "Before the listening connections are cut.").json()
        within(1, lambda: first["comment"]["id"] in [c["id"] for c in bob.page("/story")[
            "comments"]])
        bus = b.services.bus
        assert bus is not None
        with psycopg.connect(b.settings.database_url, autocommit=True) as conn:
            cut = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                "datname = current_database() AND query LIKE 'LISTEN%'").fetchall()
        assert len(cut) == 2  # one listener a server
        # Posted while B may not be listening: B finds it when its bus is back.
        missed = ana.post("/story", "While nobody listens.").json()["comment"]["id"]
        within(5, lambda: not bus.connected or missed in [
            c["id"] for c in bob.page("/story")["comments"]])
        within(10, lambda: bus.connected)
        within(1, lambda: missed in [c["id"] for c in bob.page("/story")["comments"]])
        later = ana.post("/story", "After the bus came back.").json()["comment"]["id"]
        within(1, lambda: later in [c["id"] for c in bob.page("/story")["comments"]])
