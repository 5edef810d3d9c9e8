"""What a hot thread's page costs to rebuild after a write, by the way it is rebuilt.

    .venv/bin/python bench/rebuild_bench.py [--comments 1000] [--rounds 30]

Seeds one thread of ``--comments`` comments (a fifth of them replies) in a SQLite file,
in process, then times the CPU of this thread (``time.thread_time``, so that other work
on the machine does not count) for what the read cache does when a write made the
thread's cached page out of date:

- read it again: the page from the database, serialised (any change it was not told of);
- a vote: the page before, parsed, the comment's counts put in, serialised;
- a new comment: the page before, parsed, the comment put in, serialised.

Newest first, all comments on one page (``limit=all``), as the hot-thread benchmark
reads it. The minimum and median of ``--rounds`` rounds each.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _seed import VOCABULARY

from rostra.config import Settings
from rostra.core.models import SortOrder
from rostra.services.comments import NewComment, RequestContext
from rostra.services.container import Services
from rostra.services.reading import PageRequest
from rostra.store import migrate
from rostra.store.db import Database

SITE, ORIGIN, THREAD = "bench", "https://news.example", "/bench/hot/"


def _post(services: Services, batch: list[tuple[NewComment, RequestContext]]) -> list[int]:
    ids = []
    for result in services.comments.post_many(batch):
        if isinstance(result, Exception):
            raise result
        ids.append(int(result.comment["id"]))
    return ids


def _seed(services: Services, count: int) -> list[int]:
    services.sites.create(SITE, "Benchmark", [ORIGIN], None)
    rng = random.Random(7)
    ids: list[int] = []
    for start in range(0, count, 100):
        batch = []
        for n in range(start, min(count, start + 100)):
            parent = rng.choice(ids) if ids and rng.random() < 0.2 else None
            text = f"Comment {n}: " + " ".join(rng.sample(VOCABULARY, 20)) + "."
            batch.append((NewComment(thread=THREAD, site=SITE, name=f"Reader {n % 50}",
                                     text=text, parent_id=parent),
                          RequestContext(origin=ORIGIN, ip=f"203.0.113.{n % 250 + 1}")))
            if parent is not None:  # a reply's parent is stored before it
                ids += _post(services, batch)
                batch = []
        ids += _post(services, batch)
    return ids


def _cpu_ms(work: Callable[[], object], rounds: int) -> tuple[float, float]:
    times = []
    for _ in range(rounds):
        began = time.thread_time()
        work()
        times.append((time.thread_time() - began) * 1000)
    return min(times), statistics.median(times)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--comments", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="rostra-rebuild-") as work:
        settings = Settings(database_url=f"sqlite:///{work}/rostra.sqlite3", rate_limits=False,
                            classifier="off", log_level="warning")
        db = Database(settings.database_url)
        migrate.upgrade(db)
        services = Services.build(settings, db)
        ids = _seed(services, args.comments)
        req = PageRequest(thread=THREAD, site=SITE, sort=SortOrder.NEWEST, limit=0)
        cached = orjson.dumps(services.reading.page(req, ORIGIN).body)
        rng = random.Random(11)
        new = orjson.loads(cached)["comments"][0] | {"id": max(ids) + 1, "replies": []}

        def read_again() -> bytes:
            return orjson.dumps(services.reading.page(req, ORIGIN).body)

        def vote() -> bytes:
            body = orjson.loads(cached)
            services.reading.votes_into_page(body, req, [(rng.choice(ids), 3, 4, 1)])
            return orjson.dumps(body)

        def comment() -> bytes:
            body = orjson.loads(cached)
            assert services.reading.add_to_page(body, req, [new], ORIGIN)
            return orjson.dumps(body)

        rows = [("read again from the database", read_again), ("a vote's counts put in", vote),
                ("a new comment put in", comment)]
        print(f"One thread of {len(ids):,} comments, its page {len(cached):,} bytes "
              f"(newest first, all on one page); CPU ms of one rebuild, "
              f"{args.rounds} rounds:\n")
        print("| Rebuilt by | min ms | median ms |\n|---|--:|--:|")
        for label, work_fn in rows:
            low, mid = _cpu_ms(work_fn, args.rounds)
            print(f"| {label} | {low:.2f} | {mid:.2f} |")
        services.db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
