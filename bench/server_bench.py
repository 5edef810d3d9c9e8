"""Rostra's server benchmark: Rostra, Isso and a bare ASGI ceiling, side by side.

    .venv/bin/python bench/server_bench.py [--quick]

Seeds the same discussion into Rostra and Isso through their HTTP APIs, serves both
and the ceiling on 127.0.0.1, drives each with wrk (one thread, so the server keeps a
core of this two-core machine) at 8, 32 and 64 connections, prints a Markdown table
and writes JSON and Markdown to bench/results/. See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import os
import platform
import random
import shlex
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from threading import Thread
from typing import Any
from urllib.parse import quote, urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _seed import (
    BIG_THREAD,
    POST_THREAD,
    VOCABULARY,
    JsonClient,
    isso_poster,
    make_dataset,
    rostra_poster,
    seed,
    small_thread_key,
)
from _servers import (
    BENCH_DIR,
    CEILING_UVICORN_FLAGS,
    Server,
    ceiling_server,
    ensure_isso_venv,
    isso_server,
    isso_version,
    rostra_server,
)
from _wrk import Load, WrkResult, run_wrk, wrk_version

SITE = "bench"
# The article pages' origin: allowed for the site in both systems; nothing listens there.
ORIGIN = "http://127.0.0.1:8999"
SMALL_THREAD = small_thread_key(42)
COUNT_THREADS = [small_thread_key(n) for n in range(10)]
SYSTEMS = ("rostra", "ceiling", "isso")

# The bars from PRODUCT.md, checked at 64 clients.
BAR_CLIENTS = 64
BAR_SHARE_OF_CEILING = 0.5
BAR_P99_MS = 50.0
BAR_COUNTS_RPS = 11_000.0
BAR_POST_RPS = 1_000.0

# Different words in every comment: near-copies from one address would rightly be held
# as a copy-paste flood by Rostra's duplicate check, which is not the path to measure.
_POST_TEXT = "Comment {n} on the *story*: {words}."


@dataclass(frozen=True)
class Endpoint:
    key: str
    label: str
    loads: dict[str, Load]  # by system; the ceiling has no load for counts and posting


def _rostra_get(path: str, params: list[tuple[str, str]]) -> Load:
    return Load("GET", f"{path}?{urlencode(params)}", {"Origin": ORIGIN})


def endpoints() -> list[Endpoint]:
    """The four measured requests, written once per system."""
    json_headers = {"Origin": ORIGIN, "Content-Type": "application/json"}
    big = _rostra_get("/api/comments", [("site", SITE), ("thread", BIG_THREAD), ("limit", "all")])
    # The widget's first request for a page: the default page holds all 20 comments.
    small = _rostra_get("/api/comments", [("site", SITE), ("thread", SMALL_THREAD)])
    counts = _rostra_get("/api/counts", [("site", SITE)] + [("thread", t) for t in COUNT_THREADS])
    rostra_post = json.dumps({
        "site": SITE, "thread": POST_THREAD, "title": "Posting", "name": "Reader {n}",
        "email": "reader{n}@example.org", "text": _POST_TEXT,
    })
    isso_post = json.dumps({
        "author": "Reader {n}", "email": "reader{n}@example.org", "text": _POST_TEXT,
        "title": "Posting",
    })
    return [
        Endpoint("thread_1000", "1,000-comment thread", {
            "rostra": big, "ceiling": Load("GET", big.path),
            "isso": Load("GET", f"/?uri={quote(BIG_THREAD)}", {"Origin": ORIGIN}),
        }),
        Endpoint("thread_20", "20-comment thread", {
            "rostra": small, "ceiling": Load("GET", small.path),
            "isso": Load("GET", f"/?uri={quote(SMALL_THREAD)}", {"Origin": ORIGIN}),
        }),
        Endpoint("counts_10", "counts for 10 pages", {
            "rostra": counts,
            "isso": Load("POST", "/count", json_headers, json.dumps(COUNT_THREADS)),
        }),
        Endpoint("post", "posting a comment", {
            "rostra": Load("POST", "/api/comments", json_headers, rostra_post),
            "isso": Load("POST", f"/new?uri={quote(POST_THREAD)}", json_headers, isso_post),
        }),
    ]


def _parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="short points (2 s) for a first look; the full run uses 5 s")
    parser.add_argument("--duration", type=float, help="seconds per measured point")
    parser.add_argument("--connections", default="8,32,64",
                        help="comma-separated wrk connection counts (default 8,32,64)")
    parser.add_argument("--timeout", type=float, default=10.0,
                        help="wrk's per-request timeout in seconds (default 10)")
    parser.add_argument("--systems", default=",".join(SYSTEMS),
                        help="which of rostra,ceiling,isso to measure (rostra is always seeded)")
    parser.add_argument("--endpoints", default="thread_1000,thread_20,counts_10,post",
                        help="which endpoints to measure")
    parser.add_argument("--isso-workers", type=int, default=1,
                        help="gunicorn sync workers for Isso (default 1, like Rostra's one)")
    parser.add_argument("--rostra-env", action="append", default=[], metavar="NAME=VALUE",
                        help="extra environment for `rostra serve` (repeatable)")
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "results",
                        help="where the JSON and Markdown results go")
    parser.add_argument("--mixed", action="store_true",
                        help="hot threads instead: 64 readers of the 1,000-comment thread while "
                        "posts land on it (1, 5, 20/s) or on another thread (Rostra; Isso with "
                        "--systems …,isso)")
    parser.add_argument("--databases", default="sqlite",
                        help="with --mixed: sqlite and/or postgresql (comma-separated)")
    parser.add_argument("--postgres-url", default=os.environ.get(
                            "ROSTRA_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"),
                        help="with --mixed: a PostgreSQL database from which to create (and "
                        "drop) one for the run")
    parser.add_argument("--gzip", action="store_true",
                        help="with --mixed: the readers send Accept-Encoding: gzip, as browsers "
                        "do (Rostra then sends its pages gzipped; Isso compresses nothing)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary directory (databases, logs)")
    args = parser.parse_args(argv)
    if args.duration is None:
        args.duration = 2.0 if args.quick else 5.0
    args.connections = [int(c) for c in args.connections.split(",")]
    args.systems = [s for s in args.systems.split(",") if s]
    args.endpoints = [e for e in args.endpoints.split(",") if e]
    args.databases = [d for d in args.databases.split(",") if d]
    if set(args.databases) - {"sqlite", "postgresql"}:
        parser.error("--databases: sqlite and/or postgresql")
    unknown = set(args.systems) - set(SYSTEMS)
    if unknown:
        parser.error(f"unknown systems: {', '.join(sorted(unknown))}")
    return args


def _machine() -> dict[str, Any]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "loadavg_at_start": Path("/proc/loadavg").read_text().split()[:3],
        "python": platform.python_version(),
        "uvicorn": importlib.metadata.version("uvicorn"),
        "rostra": importlib.metadata.version("rostra"),
        "wrk": wrk_version(),
    }


def _git_commit() -> str | None:
    proc = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=BENCH_DIR,
                          capture_output=True, text=True, check=False)
    return proc.stdout.strip() or None


def _seed_both(rostra: Server, isso: Server | None) -> dict[str, Any]:
    """Seed Rostra and Isso at the same time (each is one process on its own core)."""
    threads = make_dataset()
    timings: dict[str, Any] = {}
    errors: list[BaseException] = []

    def run(name: str, server: Server) -> None:
        client = JsonClient(server.port, {"Origin": ORIGIN})
        post = rostra_poster(client, SITE) if name == "rostra" else isso_poster(client)
        started = time.monotonic()
        try:
            timings[name] = {"comments": seed(threads, post),
                             "seconds": round(time.monotonic() - started, 1)}
        except BaseException as exc:  # noqa: BLE001 (surfaced below, in the main thread)
            errors.append(exc)

    workers = [Thread(target=run, args=("rostra", rostra))]
    if isso is not None:
        workers.append(Thread(target=run, args=("isso", isso)))
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    if errors:
        raise errors[0]
    return timings


def _fetch(server: Server, load: Load) -> bytes:
    client = JsonClient(server.port, load.headers)
    body = None
    if load.body is not None:
        text = load.body.replace("{n}", "0").replace("{words}", "the plans for the budget")
        body = json.loads(text)
    return client.call(load.method, load.path, body)[1]


def _posted_states(work: Path) -> dict[str, int]:
    """How the posting load's comments came out of moderation: measuring posts that are
    all held as a flood would measure another path than a reader's comment."""
    with sqlite3.connect(work / "rostra.sqlite3") as conn:
        rows = conn.execute(
            "SELECT c.state, count(*) FROM comments c JOIN threads t ON t.id = c.thread_id"
            " WHERE t.key IN (?, ?) GROUP BY c.state", (POST_THREAD, POST_THREAD.rstrip("/"))
        ).fetchall()
    return {state: count for state, count in rows}


def _check_seeded(rostra: Server, isso: Server | None) -> None:
    """Fail early when the two systems did not store what was posted."""
    client = JsonClient(rostra.port, {"Origin": ORIGIN})
    query = urlencode([("site", SITE), ("thread", BIG_THREAD), ("thread", SMALL_THREAD)])
    counts = json.loads(client.call("GET", f"/api/counts?{query}")[1])["counts"]
    if [counts[BIG_THREAD], counts[SMALL_THREAD]] != [1000, 20]:
        raise RuntimeError(f"Rostra counts after seeding: {counts}")
    if isso is not None:
        isso_client = JsonClient(isso.port, {"Origin": ORIGIN})
        got = json.loads(isso_client.call("POST", "/count", [BIG_THREAD, SMALL_THREAD])[1])
        if got != [1000, 20]:
            raise RuntimeError(f"Isso counts after seeding: {got}")


def _ms(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def _rps(result: WrkResult | None) -> str:
    if result is None:
        return "–"
    mark = "" if not result.errors else "*"
    if result.ok == 0:
        # Nothing finished within the run: all we know is an upper bound.
        return f"< {1 / result.duration_s:.1f}{mark}"
    return f"{result.rps:,.0f}{mark}" if result.rps >= 10 else f"{result.rps:.1f}{mark}"


def _latency(result: WrkResult | None, duration_s: float) -> tuple[str, str]:
    if result is None or result.ok == 0:
        return "–", "–"
    # wrk only records requests that finish within the run: a p99 near the run's
    # length is a floor, not a measurement.
    floor = "≥ " if result.p99_ms >= duration_s * 1000 * 0.5 else ""
    return _ms(result.p50_ms), floor + _ms(result.p99_ms)


def _ratio(a: WrkResult | None, b: WrkResult | None, percent: bool) -> str:
    if a is None or b is None:
        return "–"
    if b.ok == 0:
        # b finished nothing: compare with the most it could have done, a lower bound.
        bound = a.rps * b.duration_s
        return f"> {bound:.0%}" if percent else f"> {bound:,.0f}×"
    value = a.rps / b.rps
    return f"{value:.0%}" if percent else f"{value:,.0f}×" if value >= 10 else f"{value:.1f}×"


def markdown_table(results: dict[str, dict[str, dict[int, WrkResult]]],
                   eps: list[Endpoint], connections: list[int], duration_s: float) -> str:
    rows = [
        ("| Endpoint | Clients | Rostra req/s | p50 ms | p99 ms | Ceiling req/s "
         "| Rostra / ceiling | Isso req/s | Isso p50 ms | Isso p99 ms | Rostra / Isso |"),
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for ep in eps:
        for c in connections:
            r = results.get("rostra", {}).get(ep.key, {}).get(c)
            ceil = results.get("ceiling", {}).get(ep.key, {}).get(c)
            isso = results.get("isso", {}).get(ep.key, {}).get(c)
            r50, r99 = _latency(r, duration_s)
            i50, i99 = _latency(isso, duration_s)
            rows.append(
                f"| {ep.label} | {c} | {_rps(r)} | {r50} | {r99} | {_rps(ceil)} "
                f"| {_ratio(r, ceil, True)} | {_rps(isso)} | {i50} | {i99} | {_ratio(r, isso, False)} |"
            )
    return "\n".join(rows)


def cpu_markdown(results: dict[str, dict[str, dict[int, WrkResult]]], eps: list[Endpoint],
                 clients: int, alone: dict[str, dict[str, float]]) -> str:
    """Server CPU per request at ``clients`` (the comparison that other load on the machine
    moves least; 1000 / ms is the most one fully used core could answer), and the time
    of one request on an idle server, client included."""
    def cpu(system: str, key: str) -> float | None:
        result = results.get(system, {}).get(key, {}).get(clients)
        return None if result is None else result.cpu_ms_per_request

    def cell(value: float | None) -> str:
        return "–" if value is None else f"{value:.3f}" if value < 1 else f"{value:,.1f}"

    rows = [
        (f"| Endpoint | Rostra CPU ms/req ({clients} clients) | Ceiling CPU ms/req "
         "| Rostra / ceiling by CPU | Isso CPU ms/req | One request alone, ms: Rostra "
         "| Ceiling | Isso |"),
        "|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for ep in eps:
        rostra, ceiling, isso = cpu("rostra", ep.key), cpu("ceiling", ep.key), cpu("isso", ep.key)
        share = f"{ceiling / rostra:.0%}" if rostra and ceiling else "–"
        single = [cell(alone.get(system, {}).get(ep.key)) for system in SYSTEMS]
        rows.append(f"| {ep.label} | {cell(rostra)} | {cell(ceiling)} | {share} | {cell(isso)} "
                    f"| {' | '.join(single)} |")
    return "\n".join(rows)


def bars(results: dict[str, dict[str, dict[int, WrkResult]]]) -> list[dict[str, Any]]:
    """PRODUCT.md's server bars at 64 clients, each with what was measured and a verdict."""
    def at(system: str, key: str) -> WrkResult | None:
        return results.get(system, {}).get(key, {}).get(BAR_CLIENTS)

    found: list[dict[str, Any]] = []
    for key, label in (("thread_1000", "1,000-comment thread"), ("thread_20", "20-comment thread")):
        rostra, ceiling = at("rostra", key), at("ceiling", key)
        if rostra and ceiling and ceiling.rps:
            share = rostra.rps / ceiling.rps
            found.append({"bar": f"{label}: ≥ {BAR_SHARE_OF_CEILING:.0%} of the ceiling",
                          "measured": f"{share:.0%} ({rostra.rps:,.0f} of {ceiling.rps:,.0f}/s)",
                          "met": share >= BAR_SHARE_OF_CEILING and not rostra.errors})
        if rostra:
            found.append({"bar": f"{label}: p99 < {BAR_P99_MS:.0f} ms",
                          "measured": f"{rostra.p99_ms:.1f} ms",
                          "met": rostra.p99_ms < BAR_P99_MS and not rostra.errors})
    for key, label, target in (("counts_10", "counts for 10 pages", BAR_COUNTS_RPS),
                               ("post", "posting (no classifier)", BAR_POST_RPS)):
        rostra = at("rostra", key)
        if rostra:
            found.append({"bar": f"{label}: ≥ {target:,.0f}/s",
                          "measured": f"{rostra.rps:,.0f}/s",
                          "met": rostra.rps >= target and not rostra.errors})
    return found


def bars_markdown(found: list[dict[str, Any]]) -> str:
    rows = [f"| Bar (at {BAR_CLIENTS} clients) | Measured | Met |", "|---|--:|:-:|"]
    rows += [f"| {b['bar']} | {b['measured']} | {'yes' if b['met'] else '**no**'} |"
             for b in found]
    return "\n".join(rows)


def _error_notes(results: dict[str, dict[str, dict[int, WrkResult]]]) -> list[str]:
    notes = []
    for system, by_endpoint in results.items():
        for key, by_clients in by_endpoint.items():
            for c, result in by_clients.items():
                if result.errors:
                    detail = ", ".join(f"{k} {v}" for k, v in result.errors.items())
                    notes.append(f"{system} {key} at {c} clients: {detail}")
    return notes


def measure(
    args: argparse.Namespace, servers: dict[str, Server], eps: list[Endpoint], script_dir: Path,
    alone: dict[str, dict[str, float]],
) -> dict[str, dict[str, dict[int, WrkResult]]]:
    """Run every point; ``alone`` gets each system's time for one request with no load."""
    results: dict[str, dict[str, dict[int, WrkResult]]] = {}
    for ep in eps:
        systems = [s for s in args.systems if s in servers and s in ep.loads]
        for system in systems:
            # One request first: fills Rostra's page cache and checks the answer is 2xx.
            servers[system].settle()
            _fetch(servers[system], ep.loads[system])
            # Then timed requests one at a time: the latency floor with no load on the
            # server. Median of five, or of fewer when each takes long (Isso).
            times: list[float] = []
            while len(times) < 5 and sum(times) < 2000:
                started = time.perf_counter()
                _fetch(servers[system], ep.loads[system])
                times.append((time.perf_counter() - started) * 1000)
            alone.setdefault(system, {})[ep.key] = statistics.median(times)
        for c in args.connections:
            # Systems take turns at each load so that drift on the machine hits all alike.
            for system in systems:
                server = servers[system]
                server.settle()
                cpu_before = server.cpu_seconds()
                result = run_wrk(server.base_url, ep.loads[system], connections=c,
                                 duration_s=args.duration, timeout_s=args.timeout,
                                 script_dir=script_dir)
                result = replace(result, server_cpu_s=server.cpu_seconds() - cpu_before)
                results.setdefault(system, {}).setdefault(ep.key, {})[c] = result
                print(f"  {ep.label:22} {system:8} c={c:<3} {_rps(result):>9} req/s  "
                      f"p50 {result.p50_ms:8.1f} ms  p99 {result.p99_ms:8.1f} ms  "
                      f"cpu {result.cpu_ms_per_request or 0:7.3f} ms/req"
                      + (f"  errors {result.errors}" if result.errors else ""), flush=True)
    return results


def main(argv: list[str]) -> int:
    args = _parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    command = "python bench/server_bench.py" + "".join(f" {shlex.quote(a)}" for a in argv)
    eps = [ep for ep in endpoints() if ep.key in args.endpoints]
    machine = _machine()
    work = Path(tempfile.mkdtemp(prefix="rostra-bench-"))
    servers: dict[str, Server] = {}
    started = dt.datetime.now(dt.UTC)
    ok = False
    try:
        print(f"work dir {work}; wrk -t1 (one client thread, so the server keeps a core)",
              flush=True)
        if args.mixed:
            run_mixed(args, work, command, started, machine)
            ok = True
            return 0
        rostra = rostra_server(work, SITE, ORIGIN)
        servers["rostra"] = rostra
        # Seed with the settings of the posting bar (classifier off): the seed's word
        # salad is not what --rostra-env is meant to judge. The extra settings apply
        # from the restart below, before anything is measured.
        rostra.start()
        isso: Server | None = None
        if "isso" in args.systems:
            isso_bin = ensure_isso_venv()
            machine["isso"] = isso_version(isso_bin)
            isso = isso_server(isso_bin, work, ORIGIN, args.isso_workers)
            servers["isso"] = isso
            isso.start()
        print("seeding 1 thread of 1,000 and 100 threads of 20 comments ...", flush=True)
        seeding = _seed_both(rostra, isso)
        _check_seeded(rostra, isso)
        for server in (rostra, isso):
            if server is not None:
                seeding[f"{server.name}_settled_after_s"] = round(server.wait_idle(), 1)
        print(f"  seeded: {seeding}", flush=True)
        if args.rostra_env:
            rostra.stop()
            for name, value in (item.split("=", 1) for item in args.rostra_env):
                rostra.env[name] = value
            rostra.start()

        # The ceiling serves the exact bytes Rostra just answered.
        sizes: dict[str, int] = {}
        manifest: dict[str, str] = {}
        for ep in eps:
            if "ceiling" in ep.loads:
                body = _fetch(rostra, ep.loads["rostra"])
                path = work / f"{ep.key}.json"
                path.write_bytes(body)
                manifest[ep.loads["ceiling"].path] = str(path)
                sizes[f"rostra_{ep.key}_bytes"] = len(body)
                if isso is not None:
                    sizes[f"isso_{ep.key}_bytes"] = len(_fetch(isso, ep.loads["isso"]))
        if "ceiling" in args.systems and manifest:
            manifest_path = work / "ceiling.json"
            manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
            servers["ceiling"] = ceiling_server(work, manifest_path)
            servers["ceiling"].start()
        print(f"  response sizes: {sizes}", flush=True)

        print(f"measuring: {args.duration:g} s per point, connections {args.connections}",
              flush=True)
        alone: dict[str, dict[str, float]] = {}
        results = measure(args, servers, eps, work, alone)
        machine["loadavg_at_end"] = Path("/proc/loadavg").read_text().split()[:3]
        posted_states = _posted_states(work) if "post" in args.endpoints else {}

        table = markdown_table(results, eps, args.connections, args.duration)
        found = bars(results)
        notes = _error_notes(results)
        restarts = {name: s.restarts for name, s in servers.items() if s.restarts}
        report = "\n\n".join(filter(None, [
            f"Command: `{command}` ({started:%Y-%m-%d %H:%M} UTC, commit {_git_commit()})",
            (f"Machine: {machine['cores']} cores ({machine['cpu']}), load average at start "
             f"{' '.join(machine['loadavg_at_start'])}; Python {machine['python']}, "
             f"uvicorn {machine['uvicorn']}, {machine.get('isso', 'Isso not run')}, "
             f"{machine['wrk']}. wrk runs with one thread (-t1) so the server keeps a core; "
             f"{args.duration:g} s per point."),
            table,
            cpu_markdown(results, eps, max(args.connections), alone),
            bars_markdown(found) if found else "",
            ("Errors (marked *): " + "; ".join(notes) + ".") if notes else "",
            (f"Restarted after falling behind: {restarts}.") if restarts else "",
            (f"Comments posted by the posting load, by the state moderation gave them: "
             f"{posted_states}.") if posted_states else "",
        ]))
        print("\n" + report + "\n")

        args.out.mkdir(parents=True, exist_ok=True)
        stem = args.out / f"server-{started:%Y%m%d-%H%M%S}{'-quick' if args.quick else ''}"
        stem.with_suffix(".md").write_text(report + "\n", encoding="utf-8")
        stem.with_suffix(".json").write_text(json.dumps({
            "command": command,
            "started_at": started.isoformat(timespec="seconds"),
            "commit": _git_commit(),
            "machine": machine,
            "settings": {"duration_s": args.duration, "connections": args.connections,
                         "wrk_threads": 1, "wrk_timeout_s": args.timeout,
                         "isso_workers": args.isso_workers, "rostra_env": args.rostra_env,
                         "ceiling_uvicorn_flags": list(CEILING_UVICORN_FLAGS)},
            "seeding": seeding,
            "sizes": sizes,
            "results": {system: {key: {str(c): r.as_dict() for c, r in by_c.items()}
                                 for key, by_c in by_ep.items()}
                        for system, by_ep in results.items()},
            "alone_ms": {system: {key: round(ms, 2) for key, ms in by_key.items()}
                         for system, by_key in alone.items()},
            "bars": found,
            "restarts": restarts,
        }, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {stem}.json and {stem}.md")
        ok = True
    finally:
        for server in servers.values():
            server.stop()
        if ok and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work} (logs and databases)")
    return 0


# -- hot threads: reads while comments land -------------------------------------------

# (label, posts a second on the read thread, clients flooding another thread). With 4
# clients each post waits for the one before it, so that row measures a post's latency
# under the readers as much as the server's room for posts; 16 clients, as many
# readers posting at once do, show the room.
MIXED_LOADS = (
    ("reads alone", 0.0, 0),
    ("1 post/s on the same thread", 1.0, 0),
    ("5 posts/s on the same thread", 5.0, 0),
    ("20 posts/s on the same thread", 20.0, 0),
    ("posts to another thread, 4 clients flat out", 0.0, 4),
    ("posts to another thread, 16 clients flat out", 0.0, 16),
)
# Readers' votes land on a hot thread more often than its comments (Rostra only).
VOTE_LOAD = ("20 votes/s on the same thread", 20.0)


def _comment_ids(page: dict[str, Any]) -> list[int]:
    """Every comment id on a page of Rostra's, replies included."""
    ids, stack = [], list(page["comments"])
    while stack:
        node = stack.pop()
        ids.append(int(node["id"]))
        stack.extend(node.get("replies", ()))
    return ids


def _create_pg_database(base_url: str) -> tuple[str, Any]:
    import secrets

    import psycopg

    name = "rostra_bench_" + secrets.token_hex(4)
    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = base_url.rsplit("/", 1)[0] + "/" + name

    def drop() -> None:
        with psycopg.connect(base_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    return url, drop


def _post_alone(server: Server, path: str = "/api/comments",
                body: Any = None, n: int = 100) -> dict[str, float]:
    """Posts one at a time to an idle server: median latency (client included) and the
    server's CPU per post. ``body`` makes the JSON body from a text (Rostra's by default)."""
    if body is None:
        def body(text: str) -> dict[str, Any]:
            return {"site": SITE, "thread": "/bench/alone/", "name": "Alone", "text": text}
    client = JsonClient(server.port, {"Origin": ORIGIN})
    for i in range(5):
        client.call("POST", path, body(f"warm up {i} bridge"))
    server.settle()
    times: list[float] = []
    cpu_before = server.cpu_seconds()
    for i in range(n):
        started = time.perf_counter()
        client.call("POST", path, body(f"alone {i}: " + " ".join(random.sample(VOCABULARY, 10))))
        times.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": round(statistics.median(times), 2),
            "cpu_ms": round((server.cpu_seconds() - cpu_before) * 1000 / n, 2)}


# Below this many reads in a point, the mixed table gives the count and no share.
MIXED_MIN_READS = 20
# The paced posters' connections (_mixed.PacedPoster's default).
MIXED_LANES = 4
# Isso's rows in the mixed table (it runs on SQLite only).
ISSO_ROWS = "isso (SQLite)"

ISSO_MIXED_NOTE = (
    "Isso runs as the non-mixed mode runs it: {isso}, `gunicorn --preload isso.run` with "
    "{workers} sync worker(s), SQLite, moderation off, guard off; seeded through its API with "
    "the same 1,000-comment thread (Isso keeps one level of replies); readers "
    "`GET /?uri=/bench/big/` ({isso_bytes:,} bytes against Rostra's {rostra_bytes}); posts "
    "`POST /new?uri=…` with Isso's JSON body. What differs: Isso has no read cache, so each "
    "read renders the whole thread again and its reads-alone figure is a read or two a "
    "second against Rostra's thousands (where a point holds fewer than {min_reads} reads "
    "the table gives their count and no share); its worker answers one request at a time, "
    "in the order the connections were accepted, so a post waits behind the readers already "
    "queued. wrk counts only what finishes within the point (its timeout is 10 s), and a "
    "paced post unanswered after 30 s counts as a failed send while its lane sends nothing, "
    "hence the posts due. Isso is restarted between points when it is still working through "
    "its queue (restarts: {restarts})."
)


def _mixed_points(server: Server, read: Load, flood: Load, post_to: Any,
                  args: argparse.Namespace, work: Path, vote_to: Any = None) -> list[Any]:
    """The mixed loads against one seeded server, in MIXED_LOADS order, then VOTE_LOAD
    where ``vote_to`` says where votes go."""
    from _mixed import run_point

    points = []
    loads = [*MIXED_LOADS, (*VOTE_LOAD, -1)] if vote_to is not None else list(MIXED_LOADS)
    for label, rate, flooding in loads:
        server.settle()
        target = vote_to if flooding < 0 else post_to
        point = run_point(
            server.base_url, server.port, read, label=label, duration_s=args.duration,
            script_dir=work, cpu=server.cpu_seconds, origin=ORIGIN,
            connections=BAR_CLIENTS, post_to=target if rate else None, rate=rate,
            flood=flood if flooding > 0 else None, flood_connections=max(flooding, 4))
        points.append(point)
        posts = point.posts or {}
        print(f"  {label:45} reads {point.reads.rps:8,.1f}/s p50 {point.reads.p50_ms:7.1f}"
              f" p99 {point.reads.p99_ms:7.1f} ms  posts {posts}", flush=True)
    return points


def run_mixed(args: argparse.Namespace, work: Path, command: str,
              started: dt.datetime, machine: dict[str, Any]) -> int:
    from _mixed import MixedPoint, isso_target, rostra_target, rostra_votes

    eps = {ep.key: ep for ep in endpoints()}
    read = plain = eps["thread_1000"].loads["rostra"]
    if args.gzip:
        read = Load(read.method, read.path, {**read.headers, "Accept-Encoding": "gzip"},
                    read.body)
    json_headers = {"Origin": ORIGIN, "Content-Type": "application/json"}
    flood = Load("POST", "/api/comments", json_headers,
                 json.dumps({"site": SITE, "thread": POST_THREAD, "name": "Flood {n}",
                             "text": _POST_TEXT}))
    results: dict[str, list[MixedPoint]] = {}
    alone: dict[str, dict[str, float]] = {}
    ceiling_result: WrkResult | None = None
    sizes: dict[str, int] = {}
    for database in args.databases:
        drop = None
        url = None
        if database == "postgresql":
            url, drop = _create_pg_database(args.postgres_url)
        server = rostra_server(work, SITE, ORIGIN, url, name=f"rostra-{database}")
        # Each paced vote comes from an address of its own (X-Forwarded-For).
        server.env["ROSTRA_TRUSTED_PROXIES"] = '["127.0.0.1"]'
        for name, value in (item.split("=", 1) for item in args.rostra_env or ()):
            server.env[name] = value  # e.g. ROSTRA_POSTING_PROCESS=false, to compare
        try:
            server.start()
            print(f"[{database}] seeding the 1,000-comment thread ...", flush=True)
            seed(make_dataset(small_threads=0), rostra_poster(JsonClient(server.port,
                                                                         {"Origin": ORIGIN}), SITE))
            server.wait_idle()
            sizes.setdefault("rostra", len(_fetch(server, read)))
            if database == args.databases[0] and "ceiling" in args.systems:
                path = work / "thread_1000.json"
                path.write_bytes(_fetch(server, read))
                manifest = work / "ceiling.json"
                manifest.write_text(json.dumps({read.path: str(path)}), encoding="utf-8")
                ceiling = ceiling_server(work, manifest)
                ceiling.start()
                try:
                    ceiling_result = run_wrk(ceiling.base_url, Load("GET", read.path),
                                             connections=BAR_CLIENTS, duration_s=args.duration,
                                             timeout_s=args.timeout, script_dir=work)
                finally:
                    ceiling.stop()
                print(f"  ceiling: {ceiling_result.rps:,.0f} reads/s", flush=True)
            alone[database] = _post_alone(server)
            print(f"  one post alone: {alone[database]}", flush=True)
            flat = run_wrk(server.base_url, flood, connections=4, duration_s=args.duration,
                           timeout_s=args.timeout, script_dir=work)
            alone[database]["posts_alone_rps"] = round(flat.rps, 1)
            print(f"  posts alone, 4 clients: {flat.rps:,.0f}/s", flush=True)
            results[database] = _mixed_points(
                server, read, flood, rostra_target(SITE, BIG_THREAD), args, work,
                rostra_votes(_comment_ids(json.loads(_fetch(server, plain)))))
        finally:
            server.stop()
            if drop is not None:
                drop()
    isso_note = ""
    if "isso" in args.systems:
        isso_bin = ensure_isso_venv()
        machine["isso"] = isso_version(isso_bin)
        isso = isso_server(isso_bin, work, ORIGIN, args.isso_workers)
        isso_read = eps["thread_1000"].loads["isso"]
        isso_flood = Load("POST", f"/new?uri={quote(POST_THREAD)}", json_headers,
                          json.dumps({"author": "Flood {n}", "text": _POST_TEXT,
                                      "title": "Posting"}))
        try:
            # Isso creates a thread only for a post with a title (else it fetches the
            # page for one, and there is no page): the alone and flood threads are new.
            isso.start()
            print(f"[{ISSO_ROWS}] seeding the 1,000-comment thread ...", flush=True)
            seed(make_dataset(small_threads=0), isso_poster(JsonClient(isso.port,
                                                                       {"Origin": ORIGIN})))
            count = json.loads(JsonClient(isso.port, {"Origin": ORIGIN})
                               .call("POST", "/count", [BIG_THREAD])[1])
            if count != [1000]:
                raise RuntimeError(f"Isso counts after seeding: {count}")
            isso.wait_idle()
            sizes["isso"] = len(_fetch(isso, isso_read))
            alone[ISSO_ROWS] = _post_alone(
                isso, f"/new?uri={quote('/bench/alone/')}",
                lambda text: {"author": "Alone", "text": text, "title": "Alone"})
            print(f"  one post alone: {alone[ISSO_ROWS]}", flush=True)
            flat = run_wrk(isso.base_url, isso_flood, connections=4, duration_s=args.duration,
                           timeout_s=args.timeout, script_dir=work)
            alone[ISSO_ROWS]["posts_alone_rps"] = round(flat.rps, 1)
            print(f"  posts alone, 4 clients: {flat.rps:,.0f}/s", flush=True)
            results[ISSO_ROWS] = _mixed_points(isso, isso_read, isso_flood,
                                               isso_target(BIG_THREAD), args, work)
        finally:
            isso.stop()
        isso_note = ISSO_MIXED_NOTE.format(
            isso=machine["isso"], workers=args.isso_workers, isso_bytes=sizes["isso"],
            rostra_bytes=f"{sizes['rostra']:,}" if "rostra" in sizes else "–",
            min_reads=MIXED_MIN_READS, restarts=isso.restarts)
    report = "\n\n".join(filter(None, [
        f"Command: `{command}` ({started:%Y-%m-%d %H:%M} UTC, commit {_git_commit()})",
        (f"Machine: {machine['cores']} cores ({machine['cpu']}), load average at start "
         f"{' '.join(machine['loadavg_at_start'])}, at end "
         f"{' '.join(Path('/proc/loadavg').read_text().split()[:3])}; {args.duration:g} s per "
         f"point; readers: wrk -t1 -c{BAR_CLIENTS} on the 1,000-comment thread (limit=all)"
         f"{', Accept-Encoding: gzip' if args.gzip else ''}."),
        mixed_markdown(results, alone, ceiling_result),
        isso_note,
    ]))
    print("\n" + report + "\n")
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / f"mixed-{started:%Y%m%d-%H%M%S}"
    stem.with_suffix(".md").write_text(report + "\n", encoding="utf-8")
    stem.with_suffix(".json").write_text(json.dumps({
        "command": command, "machine": machine, "alone": alone, "sizes": sizes,
        "ceiling": ceiling_result.as_dict() if ceiling_result else None,
        "results": {db: [p.as_dict() for p in points] for db, points in results.items()},
    }, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {stem}.json and {stem}.md")
    return 0


def mixed_markdown(results: dict[str, list[Any]], alone: dict[str, dict[str, float]],
                   ceiling: WrkResult | None) -> str:
    rows = [("| Database | While this lands | Reads/s | Of reads alone | Read p50 ms "
             "| Read p99 ms | Posts ok / sent | Post p50 ms | Post p99 ms |"),
            "|---|---|--:|--:|--:|--:|--:|--:|--:|"]
    failures = []
    for database, points in results.items():
        # A share of a handful of reads says nothing (Isso answers one or two in a point).
        base = points[0].reads.rps if points and points[0].reads.ok >= MIXED_MIN_READS else 0
        for point in points:
            posts = point.posts or {}
            share = f"{point.reads.rps / base:.0%}" if base else "–"
            reads = _rps(point.reads)
            if point.reads.ok < MIXED_MIN_READS:
                reads += f" ({point.reads.ok} in {point.reads.duration_s:.0f} s)"
            flat = (f" ({posts['rps']:,.0f}/s)" if posts.get("rps", 0) >= 10
                    else f" ({posts['rps']:.1f}/s)") if "rps" in posts else ""
            sent = f"{posts.get('ok', 0):,} / {posts.get('sent', 0):,}{flat}" if posts else "–"
            if "rps" in posts and not posts.get("sent"):
                # wrk counts the posts answered; the ones still waiting when it stops are not.
                sent = f"none answered in {point.reads.duration_s:.0f} s"
            due = int(posts.get("rate", 0) * point.reads.duration_s)
            lanes = max(1, min(MIXED_LANES, int(posts.get("rate", 0))))
            if due and posts.get("sent", 0) < due - lanes:
                # A lane waits for each answer before its next post: the rest were never sent.
                sent += f" of {due:,} due"
            done = posts.get("ok", 0) > 0
            p50 = "–" if not done or posts.get("p50_ms") is None else _ms(posts["p50_ms"])
            p99 = "–" if not done or posts.get("p99_ms") is None else _ms(posts["p99_ms"])
            r50, r99 = _latency(point.reads, point.reads.duration_s)
            rows.append(f"| {database} | {point.label} | {reads} | {share} "
                        f"| {r50} | {r99} | {sent} | {p50} | {p99} |")
            if point.reads.errors:
                failures.append(f"{database}, {point.label}: reads "
                                + ", ".join(f"{k} {v}" for k, v in point.reads.errors.items()))
            if posts.get("failed"):
                failures.append(f"{database}, {point.label}: posts "
                                + ", ".join(f"{k} {v}" for k, v in posts["failed"].items()))
    lines = ["\n".join(rows)]
    extra = []
    if ceiling is not None:
        extra.append(f"ceiling (bare ASGI, same bytes): {ceiling.rps:,.0f} reads/s, "
                     f"p99 {ceiling.p99_ms:.1f} ms")
    for database, figures in alone.items():
        rps = figures.get("posts_alone_rps", 0)
        extra.append(f"{database}: one post alone {figures['p50_ms']} ms (median, client "
                     f"included) for {figures['cpu_ms']} ms of server CPU; posts alone, 4 "
                     f"clients flat out: {rps:,.0f}/s")
    if extra:
        lines.append("; ".join(extra) + ".")
    if failures:
        lines.append("Not answered (marked * when reads; wrk counts a read or flood post as "
                     "a timeout after 10 s, a paced post fails after 30 s): "
                     + "; ".join(failures) + ".")
    return "\n\n".join(lines)

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
