"""Does a thread's read time grow with the size of the database? (PRODUCT.md: it must
not, up to 1 M comments.)

Builds one SQLite database in a temporary directory, grows it step by step (filler
threads of 100 comments each, written in bulk), and at each size times the reads the
HTTP cache would have to redo after a write: a 1,000-comment thread (all of it), the
first page of a 20-comment thread, and the counts of 10 threads, straight through
``ReadService`` (no cache in the way). Prints the medians and the ratio to the first
size.

    python bench/scale_bench.py                       # 10 k, 100 k, 1 M comments
    python bench/scale_bench.py --sizes 10000,200000  # quicker
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from _seed import VOCABULARY

from rostra.app import create_app
from rostra.config import Settings
from rostra.services.comments import NewComment, RequestContext
from rostra.services.reading import PageRequest
from rostra.store.bulk import allocate_ids, insert_many
from rostra.store.tables import comments, threads

FILLER_PER_THREAD = 100
SITE = "bench"


def _text(rng: random.Random) -> str:
    return " ".join(rng.choice(VOCABULARY) for _ in range(rng.randint(8, 30))) + "."


def seed_targets(services: Any) -> None:
    """The measured threads, posted through the service like any comment."""
    rng = random.Random(7)
    ctx = RequestContext(ip="198.51.100.7", extras={"nudge_acknowledged": True})
    for key, count in (("/target/big", 1000), ("/target/small", 20)):
        ids: list[int] = []
        batch = []
        for i in range(count):
            parent = rng.choice(ids) if ids and i % 3 == 0 else None
            batch.append((NewComment(thread=key, text=f"{i}: {_text(rng)}", site=SITE,
                                     name=f"Reader {i % 97}", parent_id=parent), ctx))
            if len(batch) == 25 or i == count - 1:
                for result in services.comments.post_many(batch):
                    if isinstance(result, Exception):
                        raise result
                    ids.append(result.comment["id"])
                batch = []


def grow(services: Any, threads_made: int, new_threads: int, rng: random.Random) -> None:
    """``new_threads`` filler threads of FILLER_PER_THREAD comments, written in bulk."""
    now = datetime.now(UTC)
    with services.db.write() as conn:
        thread_ids = allocate_ids(conn, threads, new_threads)
        insert_many(conn, threads, [{
            "id": tid, "site_id": SITE, "key": f"/filler/{threads_made + n}", "url": None,
            "title": None, "created_at": now, "updated_at": now,
            "comment_count": FILLER_PER_THREAD, "top_level_count": FILLER_PER_THREAD // 2,
            "closed": False,
        } for n, tid in enumerate(thread_ids)])
        comment_ids = allocate_ids(conn, comments, new_threads * FILLER_PER_THREAD)
        rows = []
        for n, tid in enumerate(thread_ids):
            own = comment_ids[n * FILLER_PER_THREAD:(n + 1) * FILLER_PER_THREAD]
            for k, cid in enumerate(own):
                top = k % 2 == 0
                root = None if top else own[k - 1]
                text = _text(rng)
                rows.append({
                    "id": cid, "thread_id": tid, "parent_id": root, "root_id": root,
                    "depth": 0 if top else 1, "state": "approved", "author_name": "Filler",
                    "author_email": None, "author_website": None, "account_id": None,
                    "voter_id": None, "ip_hash": None, "text": text, "html": f"<p>{text}</p>",
                    "created_at": now - timedelta(seconds=k), "edited_at": None,
                    "voted_at": None, "score": 0, "upvotes": 0, "downvotes": 0,
                    "reply_count": 0 if not top else 1, "anchor": None, "language": "en",
                    "moderation": None,
                })
        insert_many(conn, comments, rows)


def timed(call: Callable[[], Any], runs: int) -> float:
    """Median milliseconds of ``runs`` calls, after one to warm up."""
    call()
    spent = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        spent.append((time.perf_counter() - started) * 1000)
    return statistics.median(spent)


def measure(services: Any) -> dict[str, float]:
    reading = services.reading
    counts = [f"/filler/{n}" for n in range(9)] + ["/target/small"]
    return {
        "1,000-comment thread": timed(lambda: reading.page(
            PageRequest(thread="/target/big", site=SITE, limit=0)), 30),
        "20-comment thread": timed(lambda: reading.page(
            PageRequest(thread="/target/small", site=SITE)), 300),
        "counts for 10 threads": timed(lambda: reading.counts(counts, SITE, None), 300),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000",
                        help="total comments at each measurement (comma-separated)")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "scale.sqlite3"
        settings = Settings(database_url=f"sqlite:///{path}", secret_key="bench",
                            classifier="off", rate_limits=False, log_level="error")
        services = create_app(settings).app.state.services
        services.sites.create(SITE, "Bench", ["https://news.example"])
        seed_targets(services)
        rng = random.Random(11)
        total, made = 1020, 0
        results: list[tuple[int, float, dict[str, float]]] = []
        for size in sizes:
            started = time.perf_counter()
            while total < size:
                step = min(200, (size - total + FILLER_PER_THREAD - 1) // FILLER_PER_THREAD)
                grow(services, made, step, rng)
                made += step
                total += step * FILLER_PER_THREAD
            with services.db.write() as conn:
                conn.exec_driver_sql("ANALYZE")
            grown = time.perf_counter() - started
            megabytes = path.stat().st_size / 2**20
            print(f"{total:>9,} comments ({megabytes:,.0f} MiB, grown in {grown:.0f} s)",
                  flush=True)
            results.append((total, megabytes, measure(services)))
        services.db.dispose()
    base = results[0][2]
    names = list(base)
    print()
    print("| Comments in the database | File | " + " | ".join(f"{n} (ms)" for n in names) + " |")
    print("|--:|--:|" + "--:|" * len(names))
    for total, megabytes, row in results:
        cells = " | ".join(f"{row[n]:.2f} ({row[n] / base[n]:.2f}×)" for n in names)
        print(f"| {total:,} | {megabytes:,.0f} MiB | {cells} |")
    print()
    print("Medians of direct ReadService calls (no HTTP cache); × is the ratio to the first "
          "size.")


if __name__ == "__main__":
    main()
