"""Several servers, proven: two `rostra serve` processes on one PostgreSQL and one Redis,
behind a real nginx (Debian's), as docs/deployment.md sets them up.

The test writes the files an operator writes (rostra.toml, nginx.conf), runs the
commands an operator runs (`rostra db upgrade`, `rostra site add`, `rostra serve`,
`nginx`), then shows what several servers must keep: reads and live streams on one
server follow writes on the other within a second, moderation decisions and bans hold
on the other at once, rate limits are shared, every outbox message is sent exactly once
while both run workers, and killing a server loses no comment it acknowledged.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import (
    ORIGIN,
    POSTGRES_URL,
    create_postgres_database,
    free_port,
    require,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ROSTRA = [sys.executable, "-m", "rostra.cli"]
REDIS_URL = "redis://127.0.0.1:6379/0"
ADMIN = "cluster-admin-" + "0123456789abcdef0123"
STAFF = {"Authorization": f"Bearer {ADMIN}"}
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "")

NGINX_CONF = """\
# Two Rostra servers behind one nginx (docs/deployment.md). Only the paths, the ports
# and the realip lines (below) are the test's own.
worker_processes 1;
pid {run}/nginx.pid;
error_log {run}/error.log warn;
{user}
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {run}/body;
    proxy_temp_path {run}/proxy;
    fastcgi_temp_path {run}/fastcgi;
    uwsgi_temp_path {run}/uwsgi;
    scgi_temp_path {run}/scgi;

    upstream rostra {{
        server 127.0.0.1:{a} max_fails=1 fail_timeout=10s;
        server 127.0.0.1:{b} max_fails=1 fail_timeout=10s;
        keepalive 32;
    }}
    server {{
        listen 127.0.0.1:{port};
        # The test's readers come from one machine: it lets them name their address
        # (as a CDN in front of nginx would); an operator without one leaves this out.
        set_real_ip_from 127.0.0.1;
        real_ip_header X-Forwarded-For;

        location / {{
            proxy_pass http://rostra;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto $scheme;
        }}
        location /api/events {{
            proxy_pass http://rostra;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_buffering off;
            proxy_read_timeout 1h;
        }}
    }}
}}
"""


# Texts unlike each other (near-duplicates would be held for a moderator).
TEXTS = ("The bridge reopened on Monday after two years of works.",
         "Parking near the station is still a problem for commuters.",
         "I would like to know what the repairs cost in the end.")


def redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


def within(seconds: float, check: Callable[[], Any], what: str) -> float:
    """Seconds until ``check()`` is true; fails after ``seconds``."""
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < seconds, f"{what}: not within {seconds} s"
        time.sleep(0.01)
    return time.monotonic() - start


def environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("ROSTRA_")}


def rostra(home: Path, *args: str) -> str:
    result = subprocess.run([*ROSTRA, *args], cwd=home, capture_output=True, text=True,
                            timeout=120, env=environment(), check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


@dataclass
class Server:
    """One `rostra serve` process."""

    name: str
    port: int
    process: subprocess.Popen[str]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def serve(home: Path, name: str) -> Server:
    port = free_port()
    log = home / f"{name}.log"
    with open(log, "w") as out:
        process = subprocess.Popen([*ROSTRA, "serve", "--port", str(port)], cwd=home,
                                   stdout=out, stderr=subprocess.STDOUT, text=True,
                                   env=environment())
    return Server(name, port, process, log)


def wait_ready(server: Server) -> None:
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(server.url + "/readyz", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if server.process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"{server.name} did not start: {server.log.read_text()[-3000:]}")
        time.sleep(0.2)


@dataclass
class Hooks:
    """A webhook receiver: every call's delivery id."""

    url: str = ""
    deliveries: list[str] = field(default_factory=list)
    comments: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class Cluster:
    home: Path
    a: Server
    b: Server
    nginx_url: str
    site: str
    hooks: Hooks
    database_url: str


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    require(bool(POSTGRES_URL), "ROSTRA_TEST_POSTGRES_URL is not set")
    require(redis_up(), "Redis is not running on 127.0.0.1:6379")
    require(bool(NGINX), "nginx is not installed (Debian: apt-get install nginx)")
    home = tmp_path_factory.mktemp("cluster")
    url, drop = create_postgres_database(POSTGRES_URL)
    hooks = Hooks()

    class Receive(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
            with hooks.lock:
                hooks.deliveries.append(body["delivery"])
                hooks.comments.append(body["comment"]["id"])
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receive)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    hooks.url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"

    nginx_port = free_port()
    (home / "rostra.toml").write_text(
        f'database_url = "{url}"\n'
        f'redis_url = "{REDIS_URL}"\n'
        'secret_key = "cluster-test-secret-kq3Vd8-Zp1xLw0Ty7Rb2Nc5Hs9Ga4F"\n'
        f'public_url = "http://127.0.0.1:{nginx_port}"\n'
        'trusted_proxies = ["127.0.0.1/32"]\n'
        f'admin_token = "{ADMIN}"\n'
        'classifier = "off"\n'
        'allow_private_webhooks = true\n'
        'log_level = "warning"\n')
    (home / "rostra.toml").chmod(0o600)
    servers: list[Server] = []
    nginx = None
    try:
        rostra(home, "db", "upgrade")
        site = "cluster"
        rostra(home, "site", "add", site, "--name", "Cluster", "--origin", ORIGIN)
        servers = [serve(home, "a"), serve(home, "b")]
        for server in servers:
            wait_ready(server)
        run = home / "nginx"
        run.mkdir()
        (home / "nginx.conf").write_text(NGINX_CONF.format(
            run=run, a=servers[0].port, b=servers[1].port, port=nginx_port,
            user="user root;" if os.geteuid() == 0 else ""))
        nginx = subprocess.Popen([NGINX, "-c", str(home / "nginx.conf"), "-p", str(run),
                                  "-g", "daemon off;"], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.STDOUT)
        nginx_url = f"http://127.0.0.1:{nginx_port}"
        within(20, lambda: _answers(nginx_url + "/readyz"), "nginx")
        added = httpx.post(f"{servers[0].url}/api/admin/sites/{site}/webhooks", headers=STAFF,
                           json={"url": hooks.url, "events": ["comment.created"]})
        assert added.status_code == 201, added.text
        yield Cluster(home, servers[0], servers[1], nginx_url, site, hooks, url)
    finally:
        if nginx is not None:
            nginx.send_signal(signal.SIGQUIT)
            try:
                nginx.wait(timeout=10)
            except subprocess.TimeoutExpired:
                nginx.kill()
                nginx.wait(timeout=10)
        for server in servers:
            server.stop()
        receiver.shutdown()
        receiver.server_close()
        drop()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.TransportError:
        return False


class Persona:
    """A reader on one address, talking to one server (or to nginx)."""

    def __init__(self, cluster: Cluster, base: str, ip: str, name: str = "Ana") -> None:
        self.cluster = cluster
        self.http = httpx.Client(base_url=base, timeout=30)
        self.ip = ip
        self.name = name

    def close(self) -> None:
        self.http.close()

    def post(self, thread: str, text: str) -> httpx.Response:
        return self.http.post("/api/comments", headers={"Origin": ORIGIN,
                                                        "X-Forwarded-For": self.ip},
                              json={"site": self.cluster.site, "thread": thread,
                                    "name": self.name, "text": text})

    def ids(self, thread: str) -> list[int]:
        response = self.http.get("/api/comments", params={
            "site": self.cluster.site, "thread": thread, "limit": "all"})
        assert response.status_code == 200, response.text
        out: list[int] = []

        def walk(items: list[dict[str, Any]]) -> None:
            for item in items:
                out.append(item["id"])
                walk(item["replies"])

        walk(response.json()["comments"])
        return out


class Stream:
    """A live stream (Server-Sent Events) of one thread, read in a thread."""

    def __init__(self, base: str, site: str, thread: str) -> None:
        self.events: list[float] = []
        self.ready = threading.Event()
        self.client = httpx.Client(base_url=base, timeout=30)
        threading.Thread(target=self._read, args=(site, thread), daemon=True).start()
        assert self.ready.wait(15), "the stream did not open"

    def _read(self, site: str, thread: str) -> None:
        try:
            with self.client.stream("GET", "/api/events",
                                    params={"site": site, "thread": thread}) as response:
                for line in response.iter_lines():
                    if line.startswith(": connected"):
                        self.ready.set()
                    elif line.startswith("event: changed"):
                        self.events.append(time.monotonic())
        except httpx.HTTPError:
            pass

    def close(self) -> None:
        self.client.close()


def test_it_reads_and_streams_across_servers_within_a_second(cluster: Cluster) -> None:
    on_a = Persona(cluster, cluster.a.url, "203.0.113.1")
    on_b = Persona(cluster, cluster.b.url, "203.0.113.2")
    through = Persona(cluster, cluster.nginx_url, "203.0.113.3")
    try:
        thread = "/cross"
        first = on_a.post(thread, "The first comment, on server A.")
        assert first.status_code == 201, first.text
        within(1, lambda: first.json()["comment"]["id"] in on_b.ids(thread), "read on B")
        stream = Stream(cluster.b.url, cluster.site, thread)
        proxied = Stream(cluster.nginx_url, cluster.site, thread)
        try:
            for n, text in enumerate(TEXTS):
                posted = time.monotonic()
                second = on_a.post(thread, text)
                assert second.status_code == 201
                assert second.json()["comment"]["state"] == "approved", second.text
                new = second.json()["comment"]["id"]
                within(1, lambda new=new: new in on_b.ids(thread), "read on B")
                read = time.monotonic() - posted
                within(1, lambda n=n: len(stream.events) > n, "live on B")
                within(1, lambda n=n: len(proxied.events) > n, "live through nginx")
                print(f"posted on A: read on B after {read * 1000:.0f} ms, live event on B "
                      f"after {(stream.events[n] - posted) * 1000:.0f} ms")
        finally:
            stream.close()
            proxied.close()
        posted = through.post(thread, "Posted through nginx.")
        assert posted.status_code == 201
        within(1, lambda: posted.json()["comment"]["id"] in on_a.ids(thread), "on A")
        within(1, lambda: posted.json()["comment"]["id"] in on_b.ids(thread), "on B")
    finally:
        for persona in (on_a, on_b, through):
            persona.close()


def test_it_holds_decisions_and_bans_made_on_one_server_on_the_other(cluster: Cluster) -> None:
    # B hears of A's decisions on the change bus, a few milliseconds after A answers: each
    # check below allows it a second (on a loaded machine the test's next request can
    # reach B first), and prints how long it took.
    on_a = Persona(cluster, cluster.a.url, "203.0.113.11")
    on_b = Persona(cluster, cluster.b.url, "203.0.113.12")
    troll = Persona(cluster, cluster.b.url, "198.51.100.66", name="Troll")
    staff_a = httpx.Client(base_url=cluster.a.url, headers=STAFF, timeout=30)
    try:
        thread = "/decisions"
        posted = on_b.post(thread, "A comment a moderator will reject.").json()["comment"]["id"]
        assert posted in on_b.ids(thread) and posted in on_a.ids(thread)  # cached on both
        rejected = staff_a.post(f"/api/moderation/comments/{posted}/reject")
        assert rejected.status_code == 200, rejected.text
        gone = within(1, lambda: posted not in on_b.ids(thread), "rejected on A, gone on B")
        ban = staff_a.post("/api/moderation/bans", json={
            "site": cluster.site, "kind": "ip", "value": troll.ip, "reason": "abuse"})
        assert ban.status_code == 201, ban.text
        answers: list[httpx.Response] = []

        def refused() -> bool:
            answers.append(troll.post(thread, "Trying server B after a ban on A."))
            return answers[-1].status_code == 422
        banned = within(1, refused, "banned on A, refused on B")
        assert answers[-1].json()["reasons"] == ["banned"]
        assert {answer.status_code for answer in answers[:-1]} <= {201}
        lifted = staff_a.delete(f"/api/moderation/bans/{ban.json()['ban']['id']}")
        assert lifted.status_code == 200
        answers.clear()

        def allowed() -> bool:
            answers.append(troll.post(thread, "Allowed again on B."))
            return answers[-1].status_code == 201
        unbanned = within(1, allowed, "ban lifted on A, posts taken on B")
        assert {answer.status_code for answer in answers[:-1]} <= {422}
        print(f"on B after A: rejection {gone * 1000:.0f} ms, ban {banned * 1000:.0f} ms, "
              f"lifting {unbanned * 1000:.0f} ms")
    finally:
        for persona in (on_a, on_b, troll):
            persona.close()
        staff_a.close()


def test_it_shares_rate_limits_between_servers(cluster: Cluster) -> None:
    # The default post_author limit is 10 a minute: counted once, whichever server takes
    # the post (in each process's memory, without Redis, it would allow 10 on each).
    ip = "203.0.113.21"
    personas = [Persona(cluster, server.url, ip, name="Quick") for server in
                (cluster.a, cluster.b)]
    try:
        statuses = [personas[n % 2].post("/limits", f"Post {n} of one reader.")
                    .status_code for n in range(12)]
        assert statuses[:10] == [201] * 10 and statuses[10:] == [429, 429], statuses
    finally:
        for persona in personas:
            persona.close()


def test_it_sends_every_outbox_message_once_with_two_workers(cluster: Cluster) -> None:
    personas = [Persona(cluster, server.url, f"203.0.113.{40 + n}", name=f"R{n}")
                for n, server in enumerate((cluster.a, cluster.b, cluster.a, cluster.b))]
    try:
        with cluster.hooks.lock:
            before = len(cluster.hooks.deliveries)
        posted: list[int] = []
        for n in range(8):
            for persona in personas:
                response = persona.post("/outbox", f"Hooked post {n}.")
                assert response.status_code == 201, response.text
                posted.append(response.json()["comment"]["id"])

        mine = set(posted)

        def delivered() -> list[tuple[str, int]]:
            # (An earlier test's comment may still be delivered meanwhile: not counted.)
            with cluster.hooks.lock:
                return [(delivery, comment) for delivery, comment in zip(
                    cluster.hooks.deliveries[before:], cluster.hooks.comments[before:],
                    strict=True) if comment in mine]

        within(30, lambda: mine <= {comment for _, comment in delivered()},
               "every webhook delivered")
        time.sleep(2)  # a second delivery would come now
        assert sorted(comment for _, comment in delivered()) == sorted(posted)
        deliveries = [delivery for delivery, _ in delivered()]
        assert len(deliveries) == len(set(deliveries)) == len(posted)
    finally:
        for persona in personas:
            persona.close()
    import psycopg

    with psycopg.connect(cluster.database_url) as conn:
        workers = conn.execute(
            "SELECT claimed_by, count(*) FROM notify_outbox WHERE sent_at IS NOT NULL "
            "GROUP BY claimed_by").fetchall()
        unsent = conn.execute("SELECT count(*) FROM notify_outbox WHERE sent_at IS NULL"
                              ).fetchone()
    print("deliveries by worker:", dict(workers))
    assert unsent == (0,)


def test_it_loses_no_acknowledged_comment_when_a_server_is_killed(cluster: Cluster) -> None:
    thread = "/killed"
    acknowledged: list[int] = []
    failed: list[str] = []
    killed = threading.Event()

    def write(n: int) -> None:
        # Eight readers of their own, eight posts each: under every rate limit.
        persona = Persona(cluster, cluster.nginx_url, f"203.0.114.{n}", name=f"W{n}")
        try:
            for count in range(8):
                if count == 4:
                    killed.wait(30)  # the second half goes after the kill
                try:
                    response = persona.post(thread, f"Writer {n}, comment {count}.")
                except httpx.TransportError as exc:
                    failed.append(type(exc).__name__)
                    continue
                if response.status_code == 201:
                    acknowledged.append(response.json()["comment"]["id"])
                else:
                    failed.append(str(response.status_code))
        finally:
            persona.close()

    writers = [threading.Thread(target=write, args=(n,)) for n in range(1, 9)]
    for writer in writers:
        writer.start()
    try:
        within(60, lambda: len(acknowledged) >= 16, "posts before the kill")
        cluster.a.process.send_signal(signal.SIGKILL)  # mid-write: no shutdown at all
        cluster.a.process.wait(timeout=10)
        before_kill = len(acknowledged)
    finally:
        killed.set()
        for writer in writers:
            writer.join(timeout=120)
    assert len(acknowledged) >= before_kill + 16, (len(acknowledged), failed)
    reader = Persona(cluster, cluster.b.url, "203.0.113.99")
    try:
        stored = set(reader.ids(thread))
    finally:
        reader.close()
    missing = sorted(set(acknowledged) - stored)
    print(f"acknowledged {len(acknowledged)} ({before_kill} before the kill), "
          f"not acknowledged {len(failed)}: {failed}")
    assert not missing, f"acknowledged but lost: {missing}"
