"""Rostra on one PostgreSQL and one Redis behind nginx, with 1 and then 2 `rostra serve`
processes: reads, posting, and how long a comment posted on one server takes to show on
the other. docs/deployment.md quotes its table.

    .venv/bin/python bench/cluster_bench.py                  # 1 and 2 servers, 5 s a point
    .venv/bin/python bench/cluster_bench.py --servers 1,2,3 --duration 10

Needs PostgreSQL (--postgres, a user that may create databases), Redis on 127.0.0.1:6379,
nginx and wrk (Debian: apt-get install nginx wrk). Everything runs on 127.0.0.1 in a
temporary directory; each server count gets a fresh database, dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from _seed import VOCABULARY
from _servers import free_port
from _wrk import Load, WrkResult, run_wrk

SITE = "bench"
ORIGIN = "https://news.example"
BIG, SMALL, POSTS = "/big-thread", "/small-thread", "/posting"
_random = random.Random(20261206)
NGINX_CONF = """\
worker_processes 1;
pid {run}/nginx.pid;
error_log {run}/error.log warn;
{user}
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {run}/body;
    proxy_temp_path {run}/proxy;
    fastcgi_temp_path {run}/fastcgi;
    uwsgi_temp_path {run}/uwsgi;
    scgi_temp_path {run}/scgi;
    upstream rostra {{
{servers}
        keepalive 64;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://rostra;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $remote_addr;
            # A 1,000-comment thread is ~450 KB: keep it in memory, not in temp files.
            proxy_buffers 64 16k;
            proxy_busy_buffers_size 64k;
        }}
    }}
}}
"""


def _rostra(home: Path, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROSTRA_")}
    subprocess.run([sys.executable, "-m", "rostra.cli", *args], cwd=home, env=env,
                   check=True, capture_output=True, text=True, timeout=300)


def _database(admin_url: str) -> tuple[str, Any]:
    import psycopg

    name = "rostra_bench_" + secrets.token_hex(5)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return admin_url.rpartition("/")[0] + "/" + name, drop


def _wait(url: str, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if (process is not None and process.poll() is not None) or time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer")
        time.sleep(0.2)


def _post(client: httpx.Client, thread: str, n: int) -> int:
    # Words drawn at random: near-copies of one another would be held as duplicates.
    words = " ".join(_random.choice(VOCABULARY) for _ in range(12))
    response = client.post("/api/comments", headers={"Origin": ORIGIN}, json={
        "site": SITE, "thread": thread, "name": f"Reader {n}", "text": f"{n}: {words}."})
    response.raise_for_status()
    comment = response.json()["comment"]
    if comment["state"] != "approved":
        raise RuntimeError(f"comment {comment['id']} was not published: {response.text}")
    return int(comment["id"])


def _visible(client: httpx.Client, thread: str, comment_id: int) -> bool:
    page = client.get("/api/comments", params={"site": SITE, "thread": thread,
                                                "limit": "all"}).json()
    return any(c["id"] == comment_id for c in page["comments"])


def run_cluster(count: int, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    home = work / f"servers-{count}"
    home.mkdir()
    url, drop = _database(args.postgres)
    processes: list[subprocess.Popen[bytes]] = []
    ports = [free_port() for _ in range(count)]
    nginx_port = free_port()
    try:
        (home / "rostra.toml").write_text(
            f'database_url = "{url}"\nredis_url = "redis://127.0.0.1:6379/0"\n'
            f'secret_key = "{secrets.token_urlsafe(32)}"\n'
            'trusted_proxies = ["127.0.0.1/32"]\nrate_limits = false\nclassifier = "off"\n'
            'log_level = "warning"\n')
        (home / "rostra.toml").chmod(0o600)
        _rostra(home, "db", "upgrade")
        _rostra(home, "site", "add", SITE, "--name", "Bench", "--origin", ORIGIN)
        env = {k: v for k, v in os.environ.items() if not k.startswith("ROSTRA_")}
        for port in ports:
            log = open(home / f"serve-{port}.log", "wb")  # noqa: SIM115 - closed with the process
            processes.append(subprocess.Popen(
                [sys.executable, "-m", "rostra.cli", "serve", "--port", str(port)], cwd=home,
                env=env, stdout=log, stderr=subprocess.STDOUT))
        for port, process in zip(ports, processes, strict=True):
            _wait(f"http://127.0.0.1:{port}/readyz", process)
        run = home / "nginx"
        run.mkdir()
        servers = "\n".join(f"        server 127.0.0.1:{p};" for p in ports)
        (home / "nginx.conf").write_text(NGINX_CONF.format(
            run=run, servers=servers, port=nginx_port,
            user="user root;" if os.geteuid() == 0 else ""))
        nginx = subprocess.Popen([args.nginx, "-c", str(home / "nginx.conf"), "-p", str(run),
                                  "-g", "daemon off;"], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.STDOUT)
        processes.append(nginx)
        base = f"http://127.0.0.1:{nginx_port}"
        _wait(base + "/healthz")
        print(f"{count} server(s): seeding {args.big} + 20 comments through nginx", flush=True)
        with httpx.Client(base_url=base, timeout=30) as client:
            for n in range(args.big):
                _post(client, BIG, n)
            for n in range(20):
                _post(client, SMALL, n)
        out: dict[str, Any] = {"servers": count}
        # wrk leaves Host out of a request built before it starts; nginx refuses those.
        host = {"Host": f"127.0.0.1:{nginx_port}", "Origin": ORIGIN}
        loads = {
            "thread_1000": Load("GET", "/api/comments?" + urlencode(
                {"site": SITE, "thread": BIG, "limit": "all"}), host),
            "thread_20": Load("GET", "/api/comments?" + urlencode(
                {"site": SITE, "thread": SMALL}), host),
            "post": Load("POST", "/api/comments",
                         {"Origin": ORIGIN, "Content-Type": "application/json"},
                         json.dumps({"site": SITE, "thread": POSTS, "name": "Reader {n}",
                                     "text": "Comment {n} on the story: {words}."})),
        }
        for name, load in loads.items():
            if load.method == "GET":  # a request wrk repeats must succeed once first
                check = httpx.get(base + load.path, headers=load.headers, timeout=30)
                if check.status_code != 200:
                    raise RuntimeError(f"{name}: {check.status_code} {check.text[:300]}")
            result: WrkResult = run_wrk(base, load, connections=args.connections,
                                        duration_s=args.duration, timeout_s=10,
                                        script_dir=home)
            out[name] = result.as_dict()
            print(f"  {name}: {result.rps:.0f}/s, p50 {result.p50_ms:.1f} ms, "
                  f"p99 {result.p99_ms:.1f} ms, errors {result.errors}", flush=True)
        if count >= 2:
            delays = []
            with httpx.Client(base_url=f"http://127.0.0.1:{ports[0]}", timeout=30) as on_a, \
                    httpx.Client(base_url=f"http://127.0.0.1:{ports[1]}", timeout=30) as on_b:
                for n in range(args.trials):
                    thread = f"/cross-{n % 3}"
                    _visible(on_b, thread, 0)  # B has the page cached
                    start = time.monotonic()
                    new = _post(on_a, thread, n)
                    while not _visible(on_b, thread, new):
                        if time.monotonic() - start > 10:
                            logs = "\n".join(path.read_text()[-2000:]
                                             for path in sorted(home.glob("serve-*.log")))
                            raise RuntimeError(
                                f"comment {new} did not reach the other server:\n{logs}")
                    delays.append((time.monotonic() - start) * 1000)
            out["cross_server_ms"] = {"median": round(statistics.median(delays), 1),
                                      "max": round(max(delays), 1), "trials": len(delays)}
            print(f"  posted on A, read on B: median {statistics.median(delays):.1f} ms, "
                  f"max {max(delays):.1f} ms", flush=True)
        return out
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        drop()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--servers", default="1,2", help="server counts (default 1,2)")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per point")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--big", type=int, default=1000, help="comments in the big thread")
    parser.add_argument("--trials", type=int, default=30, help="cross-server samples")
    parser.add_argument("--postgres", default=os.environ.get(
        "ROSTRA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--nginx", default=shutil.which("nginx") or "/usr/sbin/nginx")
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory(prefix="rostra-cluster-") as tmp:
        for count in (int(c) for c in args.servers.split(",")):
            results.append(run_cluster(count, args, Path(tmp)))
    print("\n| servers | 1,000-comment thread | 20-comment thread | posting | posted on A, "
          "read on B |\n|---|---|---|---|---|")
    for r in results:
        cross = r.get("cross_server_ms")
        cells = [f"{r[k]['rps']:.0f}/s (p99 {r[k]['p99_ms']:.0f} ms)"
                 for k in ("thread_1000", "thread_20", "post")]
        print(f"| {r['servers']} | " + " | ".join(cells) + " | "
              + (f"median {cross['median']:.0f} ms, max {cross['max']:.0f} ms" if cross else "–")
              + " |")
    machine = f"{platform.node()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
    print(f"\n{args.connections} connections, {args.duration:g} s per point; {machine}")
    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (out / f"cluster-{stamp}.json").write_text(json.dumps(
        {"machine": machine, "args": vars(args), "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
