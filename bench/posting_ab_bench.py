"""Posting on PostgreSQL against SQLite, with two versions of the code alternated.

    .venv/bin/python bench/posting_ab_bench.py --rounds 2 \\
        before=/path/to/old/checkout/src after=src [--postgres-url URL] [--no-sqlite]

Each NAME=SRC is a source tree (its ``src`` folder) that `rostra serve` runs from
(PYTHONPATH); the first seeds one PostgreSQL database (a template, copied for every run)
and one SQLite file. Every round serves each version on PostgreSQL, then the last one on
SQLite (one uvicorn worker, rate limits and classifier off) and measures:

- **alone**: 200 posts one at a time, the median latency and the CPU each cost the
  worker and its posting process (from /proc);
- **flood**: 4 wrk clients posting as fast as they can, posts/s, p50, and the CPU a
  post cost the worker, the posting process and PostgreSQL's processes;
- **under readers**: the same 4 clients posting to another thread while 64 wrk readers
  read the 1,000-comment thread (bench/server_bench.py --mixed's last row).

The versions alternate within each round, so load from other work on the machine falls
on all alike; PostgreSQL's share of SQLite is per round. Linux only (/proc); needs wrk
and `psql`, and creates and drops the databases ``rostra_ab_template`` and
``rostra_ab_run`` on the server of ``--postgres-url``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _seed import JsonClient, make_dataset, rostra_poster, seed
from _servers import Server, free_port, rostra_cli, rostra_env, rostra_server
from _wrk import Load, run_wrk
from posting_lane_bench import _alone, _children, _cpu_ms, _under_readers, flood_load
from server_bench import ORIGIN, SITE, endpoints

TEMPLATE, RUN = "rostra_ab_template", "rostra_ab_run"


def _database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def _psql(url: str, *statements: str) -> None:
    for statement in statements:
        subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", url, "-c", statement],
                       check=True, capture_output=True)


def _postgres_pids() -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _seed(work: Path, src: str, database_url: str | None) -> None:
    os.environ["PYTHONPATH"] = src
    server = rostra_server(work, SITE, ORIGIN, database_url=database_url)
    server.start()
    try:
        seed(make_dataset(small_threads=0),
             rostra_poster(JsonClient(server.port, {"Origin": ORIGIN}), SITE))
        server.wait_idle()
    finally:
        server.stop()


def _measure(server: Server, work: Path, read: Load, flood: Load,
             duration: float) -> dict[str, Any]:
    run_wrk(server.base_url, read, connections=8, duration_s=1, timeout_s=10,
            script_dir=work)
    alone = _alone(server, 200)
    assert server._proc is not None
    pids = [server._proc.pid, *_children(server._proc.pid)]
    database = _postgres_pids()
    before = [_cpu_ms(pid) for pid in pids]
    before_db = sum(_cpu_ms(pid) for pid in database)
    flooded = run_wrk(server.base_url, flood, connections=4, duration_s=duration,
                      timeout_s=10, script_dir=work)
    posts = max(1.0, flooded.rps * duration)
    cpu = [round((_cpu_ms(pid) - b) / posts, 3) for pid, b in zip(pids, before, strict=True)]
    cpu_db = round((sum(_cpu_ms(pid) for pid in database if Path(f"/proc/{pid}").exists())
                    - before_db) / posts, 3)
    mixed = _under_readers(server, work, read, flood, duration)
    return {"alone_p50_ms": alone["p50_ms"], "alone_cpu_ms": alone["cpu_ms"],
            "flood_posts": round(flooded.rps), "flood_p50_ms": flooded.p50_ms,
            "flood_cpu_ms": cpu, "flood_cpu_ms_postgresql": cpu_db,
            "mixed_posts": mixed["posts"], "mixed_post_p50_ms": mixed["post_p50_ms"],
            "mixed_reads": mixed["reads"], "mixed_read_p99_ms": mixed["read_p99_ms"]}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("versions", nargs="+", metavar="NAME=SRC")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--duration", type=float, default=6.0, help="seconds a load")
    parser.add_argument("--postgres-url", default=os.environ.get(
        "ROSTRA_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args(argv)
    versions = [tuple(v.split("=", 1)) for v in args.versions]
    if any(len(v) != 2 for v in versions):
        parser.error("versions are NAME=SRC")
    for _, src in versions:
        if not (Path(src) / "rostra" / "__init__.py").exists():
            parser.error(f"{src}: not a source tree holding the rostra package")
    admin = args.postgres_url
    work0 = Path(tempfile.mkdtemp(prefix="rostra-ab-"))
    try:
        _psql(admin, f"DROP DATABASE IF EXISTS {RUN}", f"DROP DATABASE IF EXISTS {TEMPLATE}",
              f"CREATE DATABASE {TEMPLATE}")
        _seed(work0, versions[0][1], _database(admin, TEMPLATE))
        if not args.no_sqlite:
            _seed(work0, versions[0][1], None)
        eps = {ep.key: ep for ep in endpoints()}
        read = eps["thread_1000"].loads["rostra"]
        flood = flood_load()
        runs = [(name, src, "postgresql") for name, src in versions]
        if not args.no_sqlite:
            runs.append((versions[-1][0], versions[-1][1], "sqlite"))
        rows = []
        for round_ in range(1, args.rounds + 1):
            for name, src, kind in runs:
                work = Path(tempfile.mkdtemp(prefix="rostra-ab-run-"))
                env = {**rostra_env(work), "PYTHONPATH": src}
                if kind == "postgresql":
                    _psql(admin, f"DROP DATABASE IF EXISTS {RUN}",
                          f"CREATE DATABASE {RUN} TEMPLATE {TEMPLATE}")
                    env["ROSTRA_DATABASE_URL"] = _database(admin, RUN)
                else:
                    shutil.copy(work0 / "rostra.sqlite3", work / "rostra.sqlite3")
                port = free_port()
                server = Server(name=name, argv=[rostra_cli(), "serve", "--host",
                                                 "127.0.0.1", "--port", str(port)],
                                port=port, probe_path="/healthz",
                                log_path=work / "serve.log", env=env)
                server.start()
                try:
                    row = {"round": round_, "version": name, "database": kind,
                           **_measure(server, work, read, flood, args.duration)}
                finally:
                    server.stop()
                    shutil.rmtree(work, ignore_errors=True)
                rows.append(row)
                print(json.dumps(row), flush=True)
        _table(rows)
    finally:
        shutil.rmtree(work0, ignore_errors=True)
        _psql(admin, f"DROP DATABASE IF EXISTS {RUN}", f"DROP DATABASE IF EXISTS {TEMPLATE}")
    return 0


def _table(rows: list[dict[str, Any]]) -> None:
    sqlite = {row["round"]: row for row in rows if row["database"] == "sqlite"}
    print("\n| Round | Version | Database | Alone p50 ms | Flood posts/s (share) | CPU a "
          "post: worker + posting + PostgreSQL, ms | Under readers posts/s (share) | "
          "Post p50 ms | Reads/s |")
    print("|--:|---|---|--:|--:|---|--:|--:|--:|")
    for row in rows:
        base = sqlite.get(row["round"])

        def share(key: str, row: dict[str, Any] = row,
                  base: dict[str, Any] | None = base) -> str:
            if base is None or row["database"] == "sqlite":
                return f"{row[key]:,}"
            return f"{row[key]:,} ({row[key] / base[key]:.0%})"
        cpu = " + ".join(f"{c:.2f}" for c in row["flood_cpu_ms"])
        if row["database"] == "postgresql":
            cpu += f" + {row['flood_cpu_ms_postgresql']:.2f}"
        print(f"| {row['round']} | {row['version']} | {row['database']} | "
              f"{row['alone_p50_ms']} | {share('flood_posts')} | {cpu} | "
              f"{share('mixed_posts')} | {row['mixed_post_p50_ms']} | "
              f"{row['mixed_reads']:,} |")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
