"""Reads of a hot thread while comments land: wrk's readers and a paced poster at once.

The readers are one wrk (64 connections, one thread) on the 1,000-comment thread; the
posts come from Python threads at a fixed rate (each post's latency and status kept),
or from a second wrk posting as fast as its connections can ("max"). Everything stays
on 127.0.0.1. Where the paced posts go and what they send is a ``PostTarget``: Rostra's
``POST /api/comments`` or Isso's ``POST /new?uri=…``.
"""

from __future__ import annotations

import http.client
import json
import random
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from _seed import VOCABULARY
from _wrk import Load, WrkResult, run_wrk


@dataclass
class PostStats:
    sent: int = 0
    ok: int = 0
    failed: dict[str, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        lat = sorted(self.latencies_ms)
        return {
            "sent": self.sent, "ok": self.ok, "failed": self.failed,
            "p50_ms": round(statistics.median(lat), 2) if lat else None,
            "p99_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))], 2) if lat else None,
        }


@dataclass(frozen=True)
class PostTarget:
    """Where paced posts go: the request target, and the JSON body for a comment's text."""

    path: str
    body: Callable[[str], dict[str, Any]]
    ok: str = "201"  # the status of a write that worked
    # Each write's own path and headers (a vote: which comment, and a reader of its own).
    vary: Callable[[random.Random], tuple[str, dict[str, str]]] | None = None


def rostra_target(site: str, thread: str) -> PostTarget:
    """Rostra's posting API: ``POST /api/comments`` naming the site and thread."""
    return PostTarget("/api/comments", lambda text: {"site": site, "thread": thread,
                                                     "name": "Hot reader", "text": text})


def rostra_votes(ids: list[int]) -> PostTarget:
    """Rostra's votes, ``POST /api/comments/<id>/vote``: each an upvote on one of
    ``ids`` by a reader of an address of their own (X-Forwarded-For: the server must
    trust 127.0.0.1 as a proxy)."""
    def vary(rng: random.Random) -> tuple[str, dict[str, str]]:
        address = f"198.18.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        return f"/api/comments/{rng.choice(ids)}/vote", {"X-Forwarded-For": address}

    return PostTarget("", lambda _text: {"value": 1}, ok="200", vary=vary)


def isso_target(thread: str) -> PostTarget:
    """Isso's posting API: ``POST /new?uri=<thread>`` with its own JSON fields."""
    return PostTarget(f"/new?uri={quote(thread)}",
                      lambda text: {"author": "Hot reader", "text": text})


class PacedPoster:
    """Posts ``rate`` comments a second to one thread until stopped, from ``lanes``
    connections each sending at its own slots (a slow answer delays only its lane)."""

    def __init__(self, port: int, target: PostTarget, origin: str, rate: float,
                 lanes: int = 4) -> None:
        self.port, self.target, self.origin = port, target, origin
        self.rate = rate
        self.lanes = max(1, min(lanes, int(rate) or 1))
        self.stats = PostStats()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._rng = random.Random()

    def start(self) -> None:
        start = time.monotonic() + 0.05
        for lane in range(self.lanes):
            t = threading.Thread(target=self._run, args=(lane, start), daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self) -> PostStats:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=30)
        return self.stats

    def _body(self) -> bytes:
        words = " ".join(self._rng.choice(VOCABULARY) for _ in range(12))
        return json.dumps(self.target.body(f"On the story: {words}.")).encode()

    def _run(self, lane: int, start: float) -> None:
        interval = self.lanes / self.rate
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Origin": self.origin, "Content-Type": "application/json"}
        n = 0
        while not self._stop.is_set():
            due = start + (lane / self.rate) + n * interval
            n += 1
            wait = due - time.monotonic()
            if wait > 0 and self._stop.wait(wait):
                break
            path, extra = (self.target.vary(self._rng) if self.target.vary
                           else (self.target.path, {}))
            began = time.perf_counter()
            try:
                conn.request("POST", path, self._body(), {**headers, **extra})
                response = conn.getresponse()
                response.read()
                status = str(response.status)
            except (OSError, http.client.HTTPException) as exc:
                status = type(exc).__name__
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            elapsed = (time.perf_counter() - began) * 1000
            with self._lock:
                self.stats.sent += 1
                if status == self.target.ok:
                    self.stats.ok += 1
                    self.stats.latencies_ms.append(elapsed)
                else:
                    self.stats.failed[status] = self.stats.failed.get(status, 0) + 1
        conn.close()


@dataclass
class MixedPoint:
    """One measured point: what the readers got, and what the posts got."""

    label: str
    reads: WrkResult
    posts: dict[str, Any] | None
    server_cpu_s: float

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, "reads": self.reads.as_dict(), "posts": self.posts,
                "server_cpu_s": round(self.server_cpu_s, 3)}


def run_point(base_url: str, port: int, read: Load, *, label: str, duration_s: float,
              script_dir: Path, cpu: Any, origin: str, connections: int = 64,
              post_to: PostTarget | None = None, rate: float = 0.0,
              flood: Load | None = None, flood_connections: int = 4) -> MixedPoint:
    """Readers for ``duration_s`` while posts land: ``rate`` a second (paced, to
    ``post_to``), or as fast as ``flood_connections`` can (``flood``, a second wrk), or
    none."""
    poster = None
    flood_result: list[WrkResult] = []
    flood_thread = None
    cpu_before = cpu()
    if rate and post_to is not None:
        poster = PacedPoster(port, post_to, origin, rate)
        poster.start()
    if flood is not None:
        def flood_run() -> None:
            flood_result.append(run_wrk(base_url, flood, connections=flood_connections,
                                        duration_s=duration_s, timeout_s=10,
                                        script_dir=script_dir))
        flood_thread = threading.Thread(target=flood_run, daemon=True)
        flood_thread.start()
    reads = run_wrk(base_url, read, connections=connections, duration_s=duration_s,
                    timeout_s=10, script_dir=script_dir)
    posts: dict[str, Any] | None = None
    if poster is not None:
        posts = poster.stop().as_dict()
        posts["rate"] = rate
    if flood_thread is not None:
        flood_thread.join(timeout=duration_s + 60)
        if flood_result:
            f = flood_result[0]
            posts = {"sent": f.requests, "ok": f.ok, "failed": f.errors,
                     "rps": round(f.rps, 1), "p50_ms": f.p50_ms, "p99_ms": f.p99_ms,
                     "connections": flood_connections}
    return MixedPoint(label, reads, posts, cpu() - cpu_before)
