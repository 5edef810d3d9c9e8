"""Shared helpers for the toxicity scripts: read the seed set, split it, embed it with a cache."""

from __future__ import annotations

import hashlib
import json
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from rostra.moderation.toxicity.encoders import Encoder, load_encoder

HERE = Path(__file__).resolve().parent
SEED_PATH = HERE / "seed.jsonl"
CACHE_DIR = Path(tempfile.gettempdir()) / "rostra-toxicity-cache"
HELD_OUT_FRACTION = 0.3
SPLIT_SEED = 20240611


@dataclass(frozen=True, slots=True)
class Example:
    id: str
    text: str
    lang: str
    label: str  # ok / toxic / spam
    category: str
    group: str


def single_threaded_blas() -> None:
    """Pin numpy's BLAS to one thread for the rest of the process.

    On this 2-core machine, shared with other work, two BLAS threads made a 500 x 384
    Newton fit 15 times slower (2.7 s against 0.18 s): they spin waiting for each other.
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)


def load_seed(path: Path = SEED_PATH) -> list[Example]:
    """Read the labelled seed set from JSON Lines."""
    with path.open(encoding="utf-8") as lines:
        return [Example(**json.loads(line)) for line in lines if line.strip()]


def split(examples: list[Example]) -> tuple[list[Example], list[Example]]:
    """Split into (train, held_out) by group (a comment and its translations), per category."""
    rng = random.Random(SPLIT_SEED)
    strata: dict[str, list[str]] = {}
    for ex in examples:
        groups = strata.setdefault(ex.category, [])
        if ex.group not in groups:
            groups.append(ex.group)
    held_groups: set[str] = set()
    for key in sorted(strata):
        groups = strata[key]
        rng.shuffle(groups)
        held_groups.update(groups[: max(1, round(len(groups) * HELD_OUT_FRACTION))])
    train = [ex for ex in examples if ex.group not in held_groups]
    held = [ex for ex in examples if ex.group in held_groups]
    return train, held


def embed_cached(encoder_name: str, texts: list[str], encoder: Encoder | None = None) -> NDArray[np.float32]:
    """Embed texts with the named encoder, reusing a cache in the temp dir across runs."""
    digest = hashlib.sha256("\x00".join(texts).encode()).hexdigest()[:16]
    path = CACHE_DIR / f"{encoder_name}-{digest}.npy"
    if path.exists():
        return np.load(path)
    enc = encoder or load_encoder(encoder_name)
    # Small batches: the encoders amortise weight reads across a batch.
    parts = [enc.embed(texts[i : i + 32]) for i in range(0, len(texts), 32)]
    vectors = np.vstack(parts).astype(np.float32)
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def labels_of(examples: list[Example], positive: set[str]) -> NDArray[np.bool_]:
    """Boolean array: True where the example's label is in `positive`."""
    return np.array([ex.label in positive for ex in examples], dtype=bool)
