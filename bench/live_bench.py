"""Live pages: how fast a new comment reaches thousands of open pages of one thread.

    .venv/bin/python bench/live_bench.py [--pages 5000] [--posts 10] [--votes 20]

Serves Rostra (`rostra serve`, one worker unless ``--workers``, SQLite) on 127.0.0.1, opens ``--pages``
live streams (GET /api/events) on one thread from one asyncio client process on the
same machine, then posts ``--posts`` comments one second apart and times, for every
page, the moment the event carrying each comment arrives, from the moment the post was
sent. Then casts ``--votes`` votes (each from a reader of its own) on those comments,
``--vote-gap`` apart, and times the event carrying each vote's counts the same way.
Also counts the events that came with neither (a page would fetch the thread for
those) and the thread reads the server answered meanwhile (from /metrics).
The client shares the machine's cores with the server: on two cores, the figures are
the two together.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import re
import resource
import shlex
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _seed import VOCABULARY, JsonClient
from _servers import BENCH_DIR, rostra_server

SITE = "bench"
ORIGIN = "http://127.0.0.1:8999"
THREAD = "/bench/live/"
READS = re.compile(r'rostra_http_requests_total\{method="GET",route="/api/comments",'
                   r'status="(?:200|304)"\} ([0-9.e+]+)')


def _reads(client: JsonClient) -> float:
    _, body = client.call("GET", "/metrics")
    return sum(float(m) for m in READS.findall(body.decode()))


class Page:
    """One open page: a raw HTTP/1.1 connection reading the thread's event stream."""

    def __init__(self) -> None:
        self.arrived: dict[int, float] = {}
        self.voted: dict[tuple[int, int], float] = {}  # (comment, its upvotes): when
        self.bare = 0
        self.ready = asyncio.Event()

    async def run(self, port: int, path: str) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: {ORIGIN}\r\n"
                     "Accept: text/event-stream\r\n\r\n".encode())
        await writer.drain()
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                if line.startswith(b": connected"):
                    self.ready.set()
                elif line.startswith(b"data: "):
                    now = time.perf_counter()
                    data = json.loads(line[6:])
                    comment = data.get("comment")
                    if comment is not None:
                        self.arrived[comment["id"]] = now
                    elif "votes" in data:
                        for v in data["votes"]:
                            self.voted.setdefault((v["id"], v["upvotes"]), now)
                    else:
                        self.bare += 1
        finally:
            writer.close()


def _vote(port: int, comment_id: int) -> tuple[int, int]:
    """Vote a comment up as a reader of an address of their own: (comment, its upvotes)."""
    address = f"198.18.{random.randrange(256)}.{random.randrange(1, 255)}"
    client = JsonClient(port, {"Origin": ORIGIN, "X-Forwarded-For": address})
    _, data = client.call("POST", f"/api/comments/{comment_id}/vote", {"value": 1})
    return comment_id, int(json.loads(data)["upvotes"])


def _percentiles(delays: list[float]) -> tuple[float | None, float | None]:
    if not delays:
        return None, None
    delays = sorted(delays)
    return (round(statistics.median(delays), 1),
            round(delays[min(len(delays) - 1, int(len(delays) * 0.99))], 1))


async def _measure(port: int, pages: int, posts: int, gap_s: float, votes: int,
                   vote_gap_s: float) -> dict[str, object]:
    path = "/api/events?" + urlencode({"site": SITE, "thread": THREAD})
    open_pages = [Page() for _ in range(pages)]
    tasks: list[asyncio.Task[None]] = []
    started = time.perf_counter()
    for start in range(0, pages, 250):  # open in waves, as a crowd arriving
        batch = open_pages[start:start + 250]
        tasks += [asyncio.create_task(p.run(port, path)) for p in batch]
        await asyncio.wait_for(asyncio.gather(*(p.ready.wait() for p in batch)), 120)
    opened_s = time.perf_counter() - started
    client = JsonClient(port, {"Origin": ORIGIN})
    reads_before = await asyncio.to_thread(_reads, client)
    sent: dict[int, float] = {}
    acked_ms: list[float] = []
    held = 0
    for n in range(posts):
        await asyncio.sleep(gap_s)
        # Words drawn at random: near-copies would rightly be held as a flood.
        body = {"site": SITE, "thread": THREAD, "name": "Live",
                "text": f"Live {n}: " + " ".join(random.sample(VOCABULARY, 12)) + "."}
        t0 = time.perf_counter()
        _, data = await asyncio.to_thread(client.call, "POST", "/api/comments", body)
        acked_ms.append((time.perf_counter() - t0) * 1000)
        comment = json.loads(data)["comment"]
        if comment["state"] == "approved":
            sent[int(comment["id"])] = t0
        else:
            held += 1
    voted: dict[tuple[int, int], float] = {}
    for n in range(votes if sent else 0):
        await asyncio.sleep(vote_gap_s)
        t0 = time.perf_counter()
        voted[await asyncio.to_thread(_vote, port, list(sent)[n % len(sent)])] = t0
    # Wait for every page to have every comment and vote, or 30 s.
    deadline = time.perf_counter() + 30
    while time.perf_counter() < deadline and any(
            len(p.arrived) < len(sent) or len(p.voted) < len(voted) for p in open_pages):
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.5)  # let a poll pass: any bare "changed" would show up now
    reads_after = await asyncio.to_thread(_reads, client)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    delays = sorted((p.arrived[cid] - t0) * 1000 for p in open_pages
                    for cid, t0 in sent.items() if cid in p.arrived)
    expected = pages * len(sent)
    vote_delays = [(p.voted[key] - t0) * 1000 for p in open_pages
                   for key, t0 in voted.items() if key in p.voted]
    vote_p50, vote_p99 = _percentiles(vote_delays)
    return {
        "pages": pages, "posts": len(sent), "held": held, "opened_s": round(opened_s, 1),
        "delivered": len(delays), "expected": expected,
        "p50_ms": round(statistics.median(delays), 1) if delays else None,
        "p99_ms": round(delays[min(len(delays) - 1, int(len(delays) * 0.99))], 1)
        if delays else None,
        "max_ms": round(delays[-1], 1) if delays else None,
        "post_ack_p50_ms": round(statistics.median(acked_ms), 1),
        "votes": len(voted), "votes_delivered": len(vote_delays),
        "votes_expected": pages * len(voted), "vote_p50_ms": vote_p50, "vote_p99_ms": vote_p99,
        "bare_events": sum(p.bare for p in open_pages),
        "thread_reads_meanwhile": int(reads_after - reads_before),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", default="1000,5000",
                        help="open pages per run, comma-separated (default 1000,5000)")
    parser.add_argument("--posts", type=int, default=10, help="comments posted per run")
    parser.add_argument("--gap", type=float, default=1.0, help="seconds between posts")
    parser.add_argument("--votes", type=int, default=20, help="votes cast per run")
    parser.add_argument("--vote-gap", type=float, default=0.2, help="seconds between votes")
    parser.add_argument("--workers", type=int, default=1,
                        help="`rostra serve` workers on the SQLite file (default 1): with "
                             "more, the pages spread over them and each post lands on one")
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "results")
    args = parser.parse_args(argv)
    pages = [int(p) for p in args.pages.split(",")]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # The server (a child) inherits the limit: each page is a socket on both sides.
    want = min(hard, max(soft, max(pages) * 2 + 1000))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if want < max(pages) * 2 + 100:
        raise SystemExit(f"open files limited to {want}: fewer pages, or raise the limit")
    try:
        import uvloop
        uvloop.install()
        loop_name = "uvloop"
    except ImportError:
        loop_name = "asyncio"
    command = "python bench/live_bench.py" + "".join(f" {shlex.quote(a)}" for a in argv)
    work = Path(tempfile.mkdtemp(prefix="rostra-live-"))
    started = dt.datetime.now(dt.UTC)
    load_start = Path("/proc/loadavg").read_text().split()[:3]
    results = []
    try:
        for n in pages:
            (work / str(n)).mkdir()
            server = rostra_server(work / str(n), SITE, ORIGIN)
            # Each vote comes from an address of its own (X-Forwarded-For): one network
            # votes once on a comment.
            server.env["ROSTRA_TRUSTED_PROXIES"] = '["127.0.0.1"]'
            server.env["ROSTRA_WORKERS"] = str(args.workers)
            server.start()
            try:
                JsonClient(server.port, {"Origin": ORIGIN}).call(
                    "POST", "/api/comments", {"site": SITE, "thread": THREAD, "name": "First",
                                              "text": "The first comment."})
                result = asyncio.run(_measure(server.port, n, args.posts, args.gap,
                                              args.votes, args.vote_gap))
                result["server_cpu_s"] = round(server.cpu_seconds(), 1)
            finally:
                server.stop()
            results.append(result)
            print(json.dumps(result), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rows = [("| Open pages | Delivered | Delivery p50 ms | p99 ms | max ms | Votes delivered "
             "| Vote p50 ms | Vote p99 ms | Events with neither | Thread reads meanwhile "
             "| Post acknowledged, p50 ms |"),
            "|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for r in results:
        rows.append(f"| {r['pages']:,} | {r['delivered']:,} / {r['expected']:,} | {r['p50_ms']} "
                    f"| {r['p99_ms']} | {r['max_ms']} "
                    f"| {r['votes_delivered']:,} / {r['votes_expected']:,} | {r['vote_p50_ms']} "
                    f"| {r['vote_p99_ms']} | {r['bare_events']} "
                    f"| {r['thread_reads_meanwhile']} | {r['post_ack_p50_ms']} |")
    report = "\n\n".join([
        f"Command: `{command}` ({started:%Y-%m-%d %H:%M} UTC)",
        (f"Machine: {os.cpu_count()} cores, load average at start {' '.join(load_start)}, "
         f"at end {' '.join(Path('/proc/loadavg').read_text().split()[:3])}; `rostra "
         f"serve` with {args.workers} worker(s) on SQLite; the pages are one {loop_name} client process on the same "
         f"machine; {args.posts} comments, {args.gap:g} s apart, then {args.votes} votes, "
         f"{args.vote_gap:g} s apart, per run."),
        "\n".join(rows),
    ])
    print("\n" + report)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / f"live-{started:%Y%m%d-%H%M%S}"
    stem.with_suffix(".md").write_text(report + "\n", encoding="utf-8")
    stem.with_suffix(".json").write_text(json.dumps({"command": command, "results": results},
                                                    indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
