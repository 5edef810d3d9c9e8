"""`rostra serve` stores new comments in a posting process of its own (posting_process):
what a reader and an operator see is the same as with the thread lane, and the process
comes and goes with its server."""

from __future__ import annotations

import atexit
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port, posting_processes, wait_ready

ORIGIN = "https://news.example"
SITE = "lanes"
ADMIN_TOKEN = "posting-process-admin-token-0123456789"
STAFF = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
pytestmark = pytest.mark.slow


@dataclass
class Served:
    base: str
    process: subprocess.Popen[bytes]
    log: Path

    def post(self, text: str, thread: str = "/story/", headers: dict[str, str] | None = None,
             **fields: object) -> httpx.Response:
        return httpx.post(f"{self.base}/api/comments", timeout=30,
                          headers={"Origin": ORIGIN, **(headers or {})},
                          json={"site": SITE, "thread": thread, "name": "Ann", "text": text,
                                **fields})

    def page(self, thread: str = "/story/") -> dict[str, object]:
        response = httpx.get(f"{self.base}/api/comments", headers={"Origin": ORIGIN},
                             params={"site": SITE, "thread": thread, "limit": "all"})
        assert response.status_code == 200, response.text
        page: dict[str, object] = response.json()
        return page

    def posting_processes(self) -> list[int]:
        return posting_processes(self.process.pid)


def _prepare(database_url: str) -> None:
    from rostra.config import Settings
    from rostra.services.container import Services
    from rostra.store import migrate
    from rostra.store.db import Database

    db = Database(database_url)
    migrate.upgrade(db)
    Services.build(Settings(database_url=database_url, secret_key="lanes"), db).sites.create(
        SITE, "Lanes", [ORIGIN], {"require_name": True})
    db.dispose()


_TEMPLATE: list[Path] = []  # a migrated SQLite database with the site, made once


def _prepare_copy(database_url: str) -> None:
    """Migrations take about a second: SQLite tests start from a copy of one database."""
    if not database_url.startswith("sqlite:///"):
        _prepare(database_url)
        return
    if not _TEMPLATE:
        folder = tempfile.mkdtemp(prefix="rostra-lanes-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        template = Path(folder) / "template.sqlite3"
        _prepare(f"sqlite:///{template}")
        _TEMPLATE.append(template)
    shutil.copy(_TEMPLATE[0], database_url.removeprefix("sqlite:///"))


@contextmanager
def serving(database_url: str, tmp_path: Path, **env: str) -> Iterator[Served]:
    _prepare_copy(database_url)
    port = free_port()
    log = tmp_path / f"serve-{port}.log"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ROSTRA_")}
    environment.update({"ROSTRA_DATABASE_URL": database_url, "ROSTRA_SECRET_KEY": "lanes",
                        "ROSTRA_RATE_LIMITS": "false", "ROSTRA_CLASSIFIER": "off",
                        "ROSTRA_WORKER": "false", "ROSTRA_LOG_LEVEL": "info",
                        "ROSTRA_ADMIN_TOKEN": ADMIN_TOKEN, **env})
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "rostra.cli", "serve", "--port", str(port)],
            cwd=tmp_path, env=environment, stdout=out, stderr=subprocess.STDOUT)
    served = Served(f"http://127.0.0.1:{port}", process, log)
    try:
        wait_ready(served.base, process, log)
        yield served
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=40)


def _wait_until(condition: object, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_post_is_stored_by_the_posting_process_and_reaches_pages_and_streams(
        database_url: str, tmp_path: Path) -> None:
    with serving(database_url, tmp_path) as served:
        assert len(served.posting_processes()) == 1  # ready before the server says so
        assert served.post("the first").status_code == 201
        assert [c["html"] for c in served.page()["comments"]] == [  # type: ignore[index]
            "<p>the first</p>"]  # now cached by the worker

        lines: queue.Queue[str] = queue.Queue()

        def listen() -> None:
            with httpx.Client(base_url=served.base, timeout=30) as client, client.stream(
                    "GET", "/api/events", params={"site": SITE, "thread": "/story/"}
            ) as response:
                for line in response.iter_lines():
                    lines.put(line)
                    if line.startswith("data:"):
                        return

        listener = threading.Thread(target=listen, daemon=True)
        listener.start()
        assert lines.get(timeout=10).startswith("retry:")
        posted = served.post("a *second* one, while the page is open")
        assert posted.status_code == 201, posted.text
        body = posted.json()
        assert body["comment"]["html"] == "<p>a <em>second</em> one, while the page is open</p>"
        assert body["edit_token"] and body["moderation"] is None
        assert "rostra_edit_" in posted.headers["set-cookie"]

        # The open page hears of it with the comment itself, from the worker that took it.
        while not (line := lines.get(timeout=10)).startswith("data:"):
            pass
        event = json.loads(line.removeprefix("data:"))
        assert event["comment"]["id"] == body["comment"]["id"]
        # The worker's cached page is brought up to date at once, not at its next poll.
        assert [c["id"] for c in served.page()["comments"]] == [  # type: ignore[index]
            body["comment"]["id"], body["comment"]["id"] - 1]
        listener.join(timeout=5)

        # The author edits through the worker (the token came from the posting process).
        edited = httpx.patch(
            f"{served.base}/api/comments/{body['comment']['id']}",
            headers={"Origin": ORIGIN, "X-Rostra-Edit-Token": body["edit_token"]},
            json={"text": "edited"})
        assert edited.status_code == 200, edited.text


def _nice(pid: int) -> int:
    # /proc/PID/stat: the 19th field is the nice value (the command may hold spaces).
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


def test_the_posting_process_runs_ahead_of_its_worker(tmp_path: Path) -> None:
    with serving(f"sqlite:///{tmp_path / 'lanes.sqlite3'}", tmp_path) as served:
        [child] = served.posting_processes()
        worker, posting = _nice(served.process.pid), _nice(child)
        if os.geteuid() == 0:  # (CI; otherwise only with CAP_SYS_NICE or a nice limit)
            assert posting == worker - 5
        else:
            assert posting == worker
            assert "runs at its worker's priority" in served.log.read_text()
        assert served.post("posted from a process ahead of its worker").status_code == 201
    with serving(f"sqlite:///{tmp_path / 'off.sqlite3'}", tmp_path,
                 ROSTRA_POSTING_PRIORITY="0") as served:
        [child] = served.posting_processes()
        assert _nice(child) == _nice(served.process.pid)


def test_refusals_come_back_as_the_same_problems(tmp_path: Path) -> None:
    with serving(f"sqlite:///{tmp_path / 'lanes.sqlite3'}", tmp_path) as served:
        no_name = served.post("who am I", name=None)
        assert no_name.status_code == 422
        assert no_name.headers["content-type"] == "application/problem+json"
        assert no_name.json()["detail"] == "name: required on this site"
        orphan = served.post("a reply", parent_id=999_999)
        assert (orphan.status_code, orphan.json()["code"]) == (404, "parent_not_found")


def test_a_ban_holds_for_the_very_next_post_and_lifting_it_too(
        database_url: str, tmp_path: Path) -> None:
    # One server: the ban is made by the worker and must reach its posting process
    # before the next post, not when the process's view of bans expires.
    with serving(database_url, tmp_path,
                 ROSTRA_TRUSTED_PROXIES='["127.0.0.1/32"]') as served:
        troll = {"X-Forwarded-For": "198.51.100.66"}
        assert served.post("before the ban", headers=troll).status_code == 201
        for attempt in range(3):
            ban = httpx.post(f"{served.base}/api/moderation/bans", headers=STAFF, json={
                "site": SITE, "kind": "ip", "value": "198.51.100.66", "reason": "abuse"})
            assert ban.status_code == 201, ban.text
            refused = served.post(f"right after the ban {attempt}", headers=troll)
            assert refused.status_code == 422, refused.text
            assert refused.json()["reasons"] == ["banned"]
            lifted = httpx.delete(f"{served.base}/api/moderation/bans/{ban.json()['ban']['id']}",
                                  headers=STAFF)
            assert lifted.status_code == 200
            assert served.post(f"allowed again {attempt}", headers=troll).status_code == 201


def test_a_webhook_added_or_removed_holds_for_the_very_next_post(tmp_path: Path) -> None:
    # The posting process keeps the site's webhooks in memory: the worker's change must
    # reach it before the next post.
    path = tmp_path / "lanes.sqlite3"

    def called(comment_id: int) -> list[int]:
        import sqlite3

        with sqlite3.connect(path) as db:
            return [row[0] for row in db.execute(
                "SELECT webhook_id FROM notify_outbox WHERE channel = 'webhook' "
                "AND comment_id = ?", (comment_id,))]

    with serving(f"sqlite:///{path}", tmp_path) as served:
        for attempt in range(3):
            before = served.post(f"before the webhook {attempt}")
            added = httpx.post(f"{served.base}/api/admin/sites/{SITE}/webhooks",
                               headers=STAFF, json={"url": "https://hooks.example/in"})
            assert added.status_code == 201, added.text
            hook = added.json()["webhook"]["id"]
            after = served.post(f"after the webhook {attempt}")
            assert called(before.json()["comment"]["id"]) == []
            # (Removing a webhook removes its undelivered calls: look before.)
            assert called(after.json()["comment"]["id"]) == [hook]
            removed = httpx.delete(f"{served.base}/api/admin/sites/{SITE}/webhooks/{hook}",
                                   headers=STAFF)
            assert removed.status_code == 204, removed.text
            gone = served.post(f"after removing it {attempt}")
            assert called(gone.json()["comment"]["id"]) == []


def test_a_limited_post_keeps_its_retry_after(tmp_path: Path) -> None:
    with serving(f"sqlite:///{tmp_path / 'lanes.sqlite3'}", tmp_path,
                 ROSTRA_RATE_LIMITS="true") as served:
        for n in range(40):  # bounded: the per-address limit is far lower
            response = served.post(f"comment number {n} about the ferry timetable")
            if response.status_code == 429:
                break
            assert response.status_code in (201, 202), response.text
        assert response.status_code == 429
        assert int(response.headers["retry-after"]) >= 1
        assert response.json()["code"] == "rate_limited"


def test_a_fault_in_the_posting_process_is_a_500_problem_and_logged_there(
        tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "lanes.sqlite3"
    with serving(f"sqlite:///{path}", tmp_path) as served:
        with sqlite3.connect(path) as conn:  # the database refuses one text: not a case
            conn.execute(                    # the checks foresee
                "CREATE TRIGGER no_boom BEFORE INSERT ON comments WHEN NEW.text LIKE "
                "'%kaboom%' BEGIN SELECT RAISE(ABORT, 'kaboom refused'); END")
        failed = served.post("kaboom")
        assert failed.status_code == 500
        assert failed.headers["content-type"] == "application/problem+json"
        assert failed.json()["code"] == "internal_error"
        assert served.post("the next one").status_code == 201  # nothing else is lost
        log = served.log.read_text()
        assert "storing a post failed" in log and "kaboom refused" in log


def test_a_posting_process_that_dies_is_started_again(tmp_path: Path) -> None:
    with serving(f"sqlite:///{tmp_path / 'lanes.sqlite3'}", tmp_path) as served:
        [first] = served.posting_processes()
        os.kill(first, signal.SIGKILL)
        _wait_until(lambda: first not in served.posting_processes())
        _wait_until(lambda: "the posting process stopped" in served.log.read_text())
        response = served.post("after the crash")
        assert response.status_code == 201, response.text
        [second] = served.posting_processes()
        assert second != first
        assert "after the crash" in json.dumps(served.page())


def test_stopping_the_server_stops_its_posting_process_after_the_posts_it_took(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lanes.sqlite3'}"
    with serving(url, tmp_path) as served:
        [child] = served.posting_processes()
        acknowledged = [served.post(f"before the stop {n}").json()["comment"]["id"]
                        for n in range(5)]
        served.process.send_signal(signal.SIGTERM)
        # uvicorn shuts down, then dies of the signal it was sent, as its callers expect.
        assert served.process.wait(timeout=40) in (0, -signal.SIGTERM)
        assert "Application shutdown complete" in served.log.read_text()
        _wait_until(lambda: not Path(f"/proc/{child}").exists(), timeout=10)
    import sqlite3

    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        stored = {row[0] for row in conn.execute("SELECT id FROM comments")}
    assert set(acknowledged) <= stored


def test_stopping_the_server_ends_its_readers_live_streams(tmp_path: Path) -> None:
    # Every open page holds a live stream. uvicorn waits for open responses before it
    # stops, and a stream never ends by itself: one reader's page kept the server from
    # stopping at all (until systemd or Docker killed it, past any graceful shutdown).
    url = f"sqlite:///{tmp_path / 'lanes.sqlite3'}"
    with serving(url, tmp_path, ROSTRA_WORKERS="2") as served:
        received: list[bytes] = []
        streams = [threading.Thread(target=_read_stream, args=(served.base, received),
                                    daemon=True) for _ in range(4)]
        for stream in streams:
            stream.start()
        _wait_until(lambda: received.count(b"connected") == 4, timeout=10)
        started = time.monotonic()
        served.process.send_signal(signal.SIGTERM)
        assert served.process.wait(timeout=20) in (0, -signal.SIGTERM)
        stopped_in = time.monotonic() - started
        for stream in streams:
            stream.join(timeout=5)
        assert received.count(b"ended") == 4
        assert stopped_in < 10, stopped_in
        assert "Application shutdown complete" in served.log.read_text()


def _read_stream(base: str, received: list[bytes]) -> None:
    with httpx.stream("GET", f"{base}/api/events", params={"site": SITE, "thread": "/live"},
                      headers={"Origin": ORIGIN}, timeout=60) as response:
        for chunk in response.iter_bytes():
            if b": connected" in chunk:
                received.append(b"connected")
    received.append(b"ended")


def test_the_setting_keeps_posting_in_the_worker(tmp_path: Path) -> None:
    with serving(f"sqlite:///{tmp_path / 'lanes.sqlite3'}", tmp_path,
                 ROSTRA_POSTING_PROCESS="false") as served:
        assert served.post("in a thread").status_code == 201
        assert served.posting_processes() == []
