"""No acknowledged comment is lost when the server is killed in the middle of writing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import (
    POSTGRES_URL,
    create_postgres_database,
    free_port,
    require,
    wait_ready,
)

ORIGIN = "https://news.example"


def _serve(database_url: str, port: int, cwd: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROSTRA_")}
    env.update(ROSTRA_DATABASE_URL=database_url, ROSTRA_SECRET_KEY="durable",
               ROSTRA_RATE_LIMITS="false", ROSTRA_CLASSIFIER="off", ROSTRA_LOG_LEVEL="warning",
               ROSTRA_WORKER="false")
    return subprocess.Popen([sys.executable, "-m", "rostra.cli", "serve", "--port", str(port)],
                            cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def _kill_while_posting(database_url: str, tmp_path: Path) -> None:
    from rostra.config import Settings
    from rostra.services.container import Services
    from rostra.store import migrate
    from rostra.store.db import Database

    db = Database(database_url)
    migrate.upgrade(db)
    Services.build(Settings(database_url=database_url, secret_key="durable"), db).sites.create(
        "durable", "Durable", [ORIGIN])
    db.dispose()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = _serve(database_url, port, tmp_path)
    wait_ready(base, server)

    acknowledged: list[int] = []
    lock = threading.Lock()
    stop = threading.Event()

    def post_until_refused(worker: int) -> None:
        with httpx.Client(base_url=base, timeout=5) as client:
            for n in range(2000):  # bounded; the kill stops it long before
                if stop.is_set():
                    return
                try:
                    response = client.post("/api/comments", headers={"Origin": ORIGIN}, json={
                        "site": "durable", "thread": f"/kill/{worker % 2}/", "name": "W",
                        "text": f"worker {worker} comment {n}"})
                except httpx.TransportError:
                    return
                if response.status_code == 201:
                    with lock:
                        acknowledged.append(response.json()["comment"]["id"])

    threads = [threading.Thread(target=post_until_refused, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while len(acknowledged) < 60 and time.monotonic() < deadline:
        time.sleep(0.02)
    server.send_signal(signal.SIGKILL)
    server.wait(timeout=10)
    stop.set()
    for thread in threads:
        thread.join(timeout=10)
    assert len(acknowledged) >= 60, "the server acknowledged too few posts to test anything"

    restarted = _serve(database_url, port, tmp_path)
    try:
        wait_ready(base, restarted)
        stored: set[int] = set()
        for key in ("/kill/0/", "/kill/1/"):
            page = httpx.get(f"{base}/api/comments", params={
                "site": "durable", "thread": key, "limit": "all"}).json()
            stored |= {c["id"] for c in page["comments"]}
        lost = set(acknowledged) - stored
        assert not lost, f"{len(lost)} acknowledged comments lost: {sorted(lost)[:10]}"
    finally:
        restarted.terminate()
        restarted.wait(timeout=10)


@pytest.mark.slow
def test_it_keeps_every_acknowledged_comment_when_killed_on_sqlite(tmp_path: Path) -> None:
    _kill_while_posting(f"sqlite:///{tmp_path / 'durable.sqlite3'}", tmp_path)


@pytest.mark.slow
@pytest.mark.postgres
def test_it_keeps_every_acknowledged_comment_when_killed_on_postgres(tmp_path: Path) -> None:
    require(bool(POSTGRES_URL), "ROSTRA_TEST_POSTGRES_URL is not set")
    url, drop = create_postgres_database(POSTGRES_URL)
    try:
        _kill_while_posting(url, tmp_path)
    finally:
        drop()
