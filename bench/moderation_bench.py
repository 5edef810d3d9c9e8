"""Posting through the whole moderation pipeline on SQLite, with and without the classifier.

    .venv/bin/python bench/moderation_bench.py [--comments 2000] [--classified 300]

Builds the app as `rostra serve` does (so every check is installed: bans, rate limits,
proof of work (off), content rules, duplicates, language, toxicity, reputation), then
posts through CommentService.post — the door the HTTP handler calls — from one thread,
as the server does (`--threads N` to see what more threads cost under the GIL). Authors
come from many addresses so rate limits count but do not refuse. Prints comments/s for
each run, the process's CPU time per comment (time.process_time: less disturbed by other
work on a shared machine than the rate) and the share of it spent deciding
(ModerationEngine.decide), and the classifier's median latency per comment;
`--classified 0` skips the classifier's runs. Prints the load average first: read every
figure next to it. Bars: >= 500/s without the classifier, >= 50/s with it.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from _seed import VOCABULARY

from rostra.app import create_app
from rostra.config import Settings
from rostra.services.comments import NewComment, RequestContext

TEXTS = [
    "I disagree with the council's decision; the budget figures do not add up at all.",
    "Thanks for this report. The photos of the flooded street say more than words.",
    "Wer soll das bezahlen? Die Stadt hat doch schon jetzt kein Geld für die Schulen.",
    "Ďakujem za článok, konečne niekto napísal, ako to s tou cestou naozaj je.",
    "Это уже третий раз за год, когда обещают отремонтировать мост и ничего не делают.",
    "The minister's answer was evasive, and the interviewer should have pressed harder.",
]



@dataclass
class Result:
    rate: float  # comments/s
    published: int
    cpu_ms: float  # process CPU time per comment, every thread
    decide_ms: float  # of which in ModerationEngine.decide (its calling thread's CPU)


def run(classifier: str, count: int, threads: int = 1) -> Result:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite:///{tmp}/bench.sqlite3",
                            secret_key="bench", classifier=classifier, log_level="error")
        app = create_app(settings)
        services = app.app.state.services
        services.sites.create("bench", "Bench", ["https://news.example"])
        if classifier != "off":  # load the encoder before the clock starts
            services.comments.post(
                NewComment(thread="/warm", text="warming up", site="bench", name="W"),
                RequestContext(ip="198.51.100.1"))

        engine = services.comments.moderator
        decide = engine.decide
        deciding = [0.0]
        lock = threading.Lock()

        def timed_decide(draft: Any) -> Any:
            started = time.thread_time()
            try:
                return decide(draft)
            finally:
                spent = time.thread_time() - started
                with lock:
                    deciding[0] += spent

        engine.decide = timed_decide

        def post(i: int) -> str:
            # Different words in every comment: near-copies would be (rightly) a flood.
            rng = random.Random(i)
            words = rng.sample(VOCABULARY, 14)
            text = f"{TEXTS[i % len(TEXTS)].split()[0]} {' '.join(words)}."
            posted = services.comments.post(
                NewComment(thread=f"/story/{i % 50}", text=text, site="bench",
                           name=f"Reader {i}"),
                RequestContext(ip=f"10.{i % 250}.{(i // 250) % 250}.{i % 200 + 1}",
                               extras={"nudge_acknowledged": True}),
            )
            return str(posted.comment["state"])

        started, cpu = time.perf_counter(), time.process_time()
        with ThreadPoolExecutor(threads) as pool:
            states = list(pool.map(post, range(count)))
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        services.db.dispose()
        return Result(count / elapsed, states.count("approved"), cpu / count * 1000,
                      deciding[0] / count * 1000)


def classifier_latency(samples: int = 50) -> float:
    from rostra.moderation.toxicity.classifier import ToxicityClassifier

    clf = ToxicityClassifier("cascade")
    clf.load()
    clf.score("warm up")
    times = []
    for i in range(samples):
        started = time.perf_counter()
        clf.score(TEXTS[i % len(TEXTS)] + f" {i}")
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--comments", type=int, default=2000)
    parser.add_argument("--classified", type=int, default=300)
    parser.add_argument("--threads", type=int, default=1,
                        help="posting threads (the server posts from one per worker)")
    args = parser.parse_args()
    print("load average: " + " ".join(f"{x:.1f}" for x in os.getloadavg()))
    off = run("off", args.comments, args.threads)
    print(f"classifier off: {off.rate:,.0f} comments/s ({off.published}/{args.comments} "
          f"published); CPU {off.cpu_ms:.2f} ms per comment, {off.decide_ms:.2f} ms deciding")
    if args.classified:
        on = run("cascade", args.classified, args.threads)
        print(f"classifier cascade: {on.rate:,.0f} comments/s ({on.published}/{args.classified} "
              f"published); CPU {on.cpu_ms:.1f} ms per comment")
        print(f"classifier alone: {classifier_latency():.1f} ms median per comment")


if __name__ == "__main__":
    main()
