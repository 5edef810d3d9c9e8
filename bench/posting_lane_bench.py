"""Posting lanes side by side: the posting process against the thread lane.

    .venv/bin/python bench/posting_lane_bench.py [--rounds 3] [--duration 5]

Seeds one SQLite database with the 1,000-comment thread once, then for each round
serves a copy of it twice, once per lane (`rostra serve`, one worker; the setting
`posting_process` true, then false), and measures on each:

- **alone**: 300 posts one at a time, the median latency (client included) and the CPU
  each post cost, by process (the worker; its posting process when there is one), read
  from /proc;
- **under readers**: 64 wrk readers of the 1,000-comment thread while 4 wrk clients post
  to another thread as fast as they can (the mixed table's last row in
  bench/server_bench.py --mixed).

The lanes alternate within each round, so load from other work on the machine falls
on both alike. Linux only (/proc).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _seed import POST_THREAD, VOCABULARY, JsonClient, make_dataset, rostra_poster, seed
from _servers import Server, free_port, rostra_cli, rostra_env, rostra_server
from _wrk import Load, run_wrk
from server_bench import ORIGIN, SITE, endpoints

LANES = {"process": "true", "thread": "false"}


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                status = (entry / "status").read_text()
            except OSError:
                continue
            if f"PPid:\t{pid}\n" in status:
                found.append(int(entry.name))
    return found


def _cpu_ms(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def flood_load() -> Load:
    """wrk posting to another thread than the readers' (the mixed table's last row)."""
    import json

    return Load("POST", "/api/comments", {"Origin": ORIGIN,
                                          "Content-Type": "application/json"},
                json.dumps({"site": SITE, "thread": POST_THREAD, "name": "Flood {n}",
                            "text": "Comment {n} on the *story*: {words}."}))


def _alone(server: Server, n: int = 300) -> dict[str, Any]:
    client = JsonClient(server.port, {"Origin": ORIGIN})

    def body(text: str) -> dict[str, Any]:
        return {"site": SITE, "thread": "/bench/alone/", "name": "Alone", "text": text}

    for i in range(20):
        client.call("POST", "/api/comments", body(f"warm up {i} bridge"))
    server.settle()
    assert server._proc is not None
    pids = [server._proc.pid, *_children(server._proc.pid)]
    before = [_cpu_ms(pid) for pid in pids]
    times = []
    for i in range(n):
        started = time.perf_counter()
        client.call("POST", "/api/comments",
                    body(f"alone {i}: " + " ".join(random.sample(VOCABULARY, 10))))
        times.append((time.perf_counter() - started) * 1000)
    cpu = [(_cpu_ms(pid) - b) / n for pid, b in zip(pids, before, strict=True)]
    return {"p50_ms": round(statistics.median(times), 2),
            "cpu_ms": [round(c, 2) for c in cpu]}


def _under_readers(server: Server, work: Path, read: Load, flood: Load,
                   duration: float) -> dict[str, Any]:
    flooded: list[Any] = []
    poster = threading.Thread(target=lambda: flooded.append(run_wrk(
        server.base_url, flood, connections=4, duration_s=duration, timeout_s=10,
        script_dir=work)))
    poster.start()
    reads = run_wrk(server.base_url, read, connections=64, duration_s=duration, timeout_s=10,
                    script_dir=work)
    poster.join()
    posts = flooded[0]
    return {"reads": round(reads.rps), "read_p99_ms": reads.p99_ms,
            "posts": round(posts.rps), "post_p50_ms": posts.p50_ms}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds under readers")
    args = parser.parse_args(argv)
    import json

    template = Path(tempfile.mkdtemp(prefix="rostra-lanes-"))
    try:
        seeding = rostra_server(template, SITE, ORIGIN)
        seeding.start()
        seed(make_dataset(small_threads=0), rostra_poster(JsonClient(seeding.port, {
            "Origin": ORIGIN}), SITE))
        seeding.wait_idle()
        seeding.stop()
        eps = {ep.key: ep for ep in endpoints()}
        read = eps["thread_1000"].loads["rostra"]
        flood = flood_load()
        rows = []
        for round_ in range(1, args.rounds + 1):
            for lane, setting in LANES.items():
                work = Path(tempfile.mkdtemp(prefix=f"rostra-lane-{lane}-"))
                shutil.copy(template / "rostra.sqlite3", work / "rostra.sqlite3")
                port = free_port()
                server = Server(
                    name=lane, argv=[rostra_cli(), "serve", "--host", "127.0.0.1",
                                     "--port", str(port)],
                    port=port, probe_path="/healthz", log_path=work / "serve.log",
                    env={**rostra_env(work), "ROSTRA_POSTING_PROCESS": setting})
                server.start()
                try:
                    run_wrk(server.base_url, read, connections=8, duration_s=1, timeout_s=10,
                            script_dir=work)
                    row = {"round": round_, "lane": lane, "alone": _alone(server),
                           **_under_readers(server, work, read, flood, args.duration)}
                finally:
                    server.stop()
                    shutil.rmtree(work, ignore_errors=True)
                rows.append(row)
                print(json.dumps(row), flush=True)
        print("\n| Round | Lane | Alone p50 ms | CPU a post alone, ms (worker + posting "
              "process) | Reads/s under posting | Read p99 ms | Posts/s under readers "
              "| Post p50 ms |")
        print("|--:|---|--:|---|--:|--:|--:|--:|")
        for row in rows:
            cpu = " + ".join(f"{c:.2f}" for c in row["alone"]["cpu_ms"])
            print(f"| {row['round']} | {row['lane']} | {row['alone']['p50_ms']} | {cpu} | "
                  f"{row['reads']:,} | {row['read_p99_ms']} | {row['posts']:,} | "
                  f"{row['post_p50_ms']} |")
    finally:
        shutil.rmtree(template, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
