"""Duplicates: the same or nearly the same text again, from the same author (held) or
from many authors at once across threads (a copy-paste flood: spam).

Texts are compared by MinHash signatures of their character shingles, found through
locality-sensitive hashing (bands of the signature), over the comments each server
process saw in the last ``duplicate_window_seconds``. Kept in memory: several workers
each see part of a flood, and a flood is many copies, so each still notices it.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from rostra.moderation.checks import Finding, Inspection, finding
from rostra.moderation.decision import Action
from rostra.moderation.duplicates_keys import author_keys
from rostra.moderation.textfold import fold_tokens

PERMUTATIONS = 32
BANDS = 8  # 8 bands of 4 rows: pairs above ~0.6 similarity become candidates
ROWS = PERMUTATIONS // BANDS
SHINGLE = 5
MIN_CHARS = 30  # shorter texts ("I agree!") are repeated innocently all the time
MAX_ENTRIES = 20_000  # per site
_PRIME = np.uint64((1 << 61) - 1)
_rng = np.random.default_rng(20240601)  # fixed: signatures compare across restarts
_A = _rng.integers(1, (1 << 61) - 1, size=PERMUTATIONS, dtype=np.uint64)
_B = _rng.integers(0, (1 << 61) - 1, size=PERMUTATIONS, dtype=np.uint64)

Signature = NDArray[np.uint64]


def signature(text: str) -> Signature | None:
    """The MinHash signature of ``text`` (folded), or None when it is too short."""
    folded = " ".join(fold_tokens(text))
    if len(folded) < MIN_CHARS:
        return None
    data = np.frombuffer(folded.encode("utf-8"), dtype=np.uint8).astype(np.uint64)
    # Shingles of SHINGLE bytes, packed into one integer each (vectorised, no Python loop).
    count = len(data) - SHINGLE + 1
    packed = np.zeros(count, dtype=np.uint64)
    for k in range(SHINGLE):
        packed |= data[k : k + count] << np.uint64(8 * k)
    values = np.unique(packed) * np.uint64(0x9E3779B97F4A7C15) % _PRIME
    # (a*x + b) mod p, with wrap-around multiplication: a cheap family of permutations.
    mixed = (_A[:, None] * values[None, :] + _B[:, None]) % _PRIME
    sig: Signature = mixed.min(axis=1)
    return sig


def similarity(a: Signature, b: Signature) -> float:
    """Estimated Jaccard similarity of the two texts' shingle sets."""
    return float(np.count_nonzero(a == b)) / PERMUTATIONS


@dataclass(frozen=True, slots=True)
class Seen:
    at: float
    authors: frozenset[str]
    thread_key: str
    sig: Signature
    bands: tuple[bytes, ...]


class SiteIndex:
    """Recent signatures of one site, with their LSH buckets."""

    def __init__(self) -> None:
        self.entries: dict[int, Seen] = {}
        self.order: deque[int] = deque()
        self.buckets: dict[bytes, set[int]] = {}
        self.next_id = 0

    def expire(self, before: float) -> None:
        while self.order and (
            len(self.order) > MAX_ENTRIES or self.entries[self.order[0]].at < before
        ):
            entry_id = self.order.popleft()
            entry = self.entries.pop(entry_id)
            for band in entry.bands:
                ids = self.buckets.get(band)
                if ids is not None:
                    ids.discard(entry_id)
                    if not ids:
                        del self.buckets[band]

    def similar(self, sig: Signature, bands: tuple[bytes, ...], line: float) -> list[
        tuple[Seen, float]
    ]:
        candidates: set[int] = set()
        for band in bands:
            candidates |= self.buckets.get(band, set())
        out = []
        for entry_id in candidates:
            entry = self.entries[entry_id]
            score = similarity(sig, entry.sig)
            if score >= line:
                out.append((entry, score))
        return out

    def add(self, seen: Seen) -> None:
        entry_id = self.next_id
        self.next_id += 1
        self.entries[entry_id] = seen
        self.order.append(entry_id)
        for band in seen.bands:
            self.buckets.setdefault(band, set()).add(entry_id)


def bands_of(sig: Signature) -> tuple[bytes, ...]:
    return tuple(
        i.to_bytes(1, "big") + sig[i * ROWS : (i + 1) * ROWS].tobytes() for i in range(BANDS)
    )


class DuplicateCheck:
    name = "duplicates"

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        self._sites: dict[str, SiteIndex] = {}
        self._lock = threading.Lock()
        self._clock: Callable[[], float] = clock or time.monotonic

    def run(self, item: Inspection) -> Iterable[Finding]:
        if item.is_edit:
            return []
        draft, t = item.draft, item.policy.thresholds
        sig = signature(draft.text)
        if sig is None:
            return []
        bands = bands_of(sig)
        authors = author_keys(draft)
        now = self._clock()
        findings = []
        with self._lock:
            index = self._sites.setdefault(draft.site_id, SiteIndex())
            index.expire(now - t.duplicate_window_seconds)
            similar = index.similar(sig, bands, t.duplicate_similarity)

        def remember() -> None:
            with self._lock:
                index.add(Seen(now, authors, draft.thread_key, sig, bands))

        item.on_accept.append(remember)
        own = [score for entry, score in similar if entry.authors & authors]
        if own:
            findings.append(finding(
                self.name, Action.HOLD, "duplicate",
                f"{len(own)} similar comment(s) by the same author in the last "
                f"{t.duplicate_window_seconds // 60} minutes", round(max(own), 3),
            ))
        if t.flood_copies and len(similar) + 1 >= t.flood_copies:
            threads = len({entry.thread_key for entry, _ in similar} | {draft.thread_key})
            findings.append(finding(
                self.name, Action.SPAM, "copy_paste_flood",
                f"{len(similar) + 1} near-identical comments in {threads} thread(s) in the "
                f"last {t.duplicate_window_seconds // 60} minutes", float(len(similar) + 1),
            ))
        return findings
