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
from array import array
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
BUCKET_LIMIT = 1024  # newest comments per LSH bucket: bounds a flood's comparisons
AUTHOR_KEYS = 3  # account, voter id, IP hash
_rng = np.random.default_rng(20240601)  # fixed: the same signatures in every process
# x -> a*x + b with wrap-around arithmetic and an odd a is a permutation of the 64-bit
# integers: a cheap family for MinHash (its estimates err as the theory says, ~0.075).
_A = _rng.integers(1, 1 << 63, size=PERMUTATIONS, dtype=np.uint64)[:, None] | np.uint64(1)
_B = _rng.integers(0, 1 << 63, size=PERMUTATIONS, dtype=np.uint64)[:, None]
_SHINGLE_MASK = np.uint64((1 << (8 * SHINGLE)) - 1)
_PAD = bytes(8 - SHINGLE)
_ONES = np.ones(PERMUTATIONS, dtype=np.float32)

Signature = NDArray[np.uint64]


def signature(text: str) -> Signature | None:
    """The MinHash signature of ``text`` (folded), or None when it is too short."""
    folded = " ".join(fold_tokens(text))
    if len(folded) < MIN_CHARS:
        return None
    data = folded.encode("utf-8")
    # Each shingle of SHINGLE bytes as one integer: the 8 bytes starting at it, read
    # through one (unaligned) view of the text, cut to SHINGLE bytes. No Python loop, and
    # no need to drop repeated shingles: they do not change a minimum.
    count = len(data) - SHINGLE + 1
    windows = np.ndarray((count,), dtype="<u8", buffer=data + _PAD, strides=(1,))
    sig: Signature = (_A * (windows & _SHINGLE_MASK) + _B).min(axis=1)
    return sig


def similarity(a: Signature, b: Signature) -> float:
    """Estimated Jaccard similarity of the two texts' shingle sets."""
    return float(np.count_nonzero(a == b)) / PERMUTATIONS


@dataclass(frozen=True, slots=True)
class Similar:
    """What the window holds like a new text: near-copies, by whom and where."""

    copies: int  # near-copies found (a bucket names its bucket_limit newest)
    best_own: float | None  # the closest near-copy by the same author, if any
    own: int  # near-copies by the same author
    threads: int  # threads the near-copies were posted in, the new text's own included


def _key_hash(key: str) -> int:
    return hash(key) or 1  # 0 marks "no key" in the author columns


class SiteIndex:
    """Recent signatures of one site, with their LSH buckets.

    Each remembered comment is a row of a few arrays (its signature, its author keys and
    its thread, hashed), so the candidates a text's buckets name are compared with it in
    a few numpy operations, however many there are. A bucket holds the rows of its
    ``BUCKET_LIMIT`` newest comments: a flood of copies fills a few buckets, and every
    further copy is compared with at most that many of them, not with the whole window.
    A bucket's rows are an array("q"), which numpy reads at once, where a deque cost a
    conversion per row (most of a lookup's time once the buckets fill).
    """

    def __init__(self, max_entries: int = MAX_ENTRIES, bucket_limit: int = BUCKET_LIMIT) -> None:
        self.max_entries = max_entries
        self.bucket_limit = bucket_limit
        self.order: deque[tuple[float, int, tuple[bytes, ...]]] = deque()  # (at, row, bands)
        self.buckets: dict[bytes, array[int]] = {}
        self.sigs: NDArray[np.uint64] = np.zeros((0, PERMUTATIONS), dtype=np.uint64)
        self.authors: NDArray[np.int64] = np.zeros((0, AUTHOR_KEYS), dtype=np.int64)
        self.threads: NDArray[np.int64] = np.zeros(0, dtype=np.int64)
        self.free: list[int] = []
        self._grow()

    def __len__(self) -> int:
        return len(self.order)

    def _grow(self) -> None:
        size = len(self.sigs)
        new = min(max(size * 2, 64), self.max_entries)
        self.sigs = np.concatenate([self.sigs, np.zeros((new - size, PERMUTATIONS), np.uint64)])
        self.authors = np.concatenate([self.authors, np.zeros((new - size, AUTHOR_KEYS),
                                                              np.int64)])
        self.threads = np.concatenate([self.threads, np.zeros(new - size, np.int64)])
        self.free.extend(range(new - 1, size - 1, -1))

    def expire(self, before: float) -> None:
        while self.order and self.order[0][0] < before:
            self._drop_oldest()

    def _drop_oldest(self) -> None:
        _, row, bands = self.order.popleft()
        self.free.append(row)
        for band in bands:
            rows = self.buckets.get(band)
            # Rows leave in the order they came, so this one is the oldest in every bucket
            # still holding it (a full bucket may have let it go already).
            if rows and rows[0] == row:
                del rows[0]
                if not rows:
                    del self.buckets[band]

    def similar(self, sig: Signature, bands: tuple[bytes, ...], line: float,
                authors: frozenset[str], thread_key: str) -> Similar:
        found: list[array[int]] = []
        for band in bands:
            rows = self.buckets.get(band)
            # Copies of one text share all their buckets: read such a bucket only once.
            if rows and not any(len(rows) == len(seen) and rows == seen for seen in found):
                found.append(rows)
        if not found:
            return Similar(0, None, 0, 1)
        if len(found) == 1:
            candidates = np.array(found[0], dtype=np.intp)
        else:
            # The rows of several buckets, each once and in order, as np.unique of them
            # all would give, without its sort: a mark per row of the index.
            marked = np.zeros(len(self.sigs), dtype=bool)
            for rows in found:
                marked[np.array(rows, dtype=np.intp)] = True
            candidates = np.flatnonzero(marked)
        # Equal minhashes per candidate, summed by a product with ones (exact: at most 32
        # ones; half the time of a count along the axis once there are hundreds).
        equal = (self.sigs[candidates] == sig) @ _ONES
        scores = equal.astype(np.intp) / PERMUTATIONS
        hits = candidates[scores >= line]
        if not len(hits):
            return Similar(0, None, 0, 1)
        scores = scores[scores >= line]
        mine = np.array([_key_hash(a) for a in authors], dtype=np.int64)
        own = (self.authors[hits][:, :, None] == mine[None, None, :]).any(axis=(1, 2))
        threads = np.unique(self.threads[hits])
        thread = _key_hash(thread_key)
        return Similar(
            copies=len(hits),
            best_own=float(scores[own].max()) if own.any() else None,
            own=int(own.sum()),
            threads=len(threads) + int(not np.any(threads == thread)),
        )

    def add(self, at: float, sig: Signature, bands: tuple[bytes, ...],
            authors: frozenset[str], thread_key: str) -> None:
        while len(self.order) >= self.max_entries:
            self._drop_oldest()
        if not self.free:
            self._grow()
        row = self.free.pop()
        self.sigs[row] = sig
        keys = [_key_hash(a) for a in sorted(authors)][:AUTHOR_KEYS]
        self.authors[row] = keys + [0] * (AUTHOR_KEYS - len(keys))
        self.threads[row] = _key_hash(thread_key)
        self.order.append((at, row, bands))
        for band in bands:
            rows = self.buckets.get(band)
            if rows is None:
                rows = self.buckets[band] = array("q")
            rows.append(row)
            if len(rows) > self.bucket_limit:
                del rows[0]  # the oldest goes, as from a full deque


_BAND_BYTES = ROWS * 8
_BAND_TAGS = [i.to_bytes(1, "big") for i in range(BANDS)]


def bands_of(sig: Signature) -> tuple[bytes, ...]:
    """The LSH bucket keys of a signature: each band's rows, tagged with the band."""
    raw = sig.tobytes()
    return tuple(_BAND_TAGS[i] + raw[i * _BAND_BYTES : (i + 1) * _BAND_BYTES]
                 for i in range(BANDS))


class DuplicateCheck:
    name = "duplicates"

    def __init__(self, clock: Callable[[], float] | None = None, *,
                 max_entries: int = MAX_ENTRIES, bucket_limit: int = BUCKET_LIMIT) -> None:
        self.max_entries = max_entries
        self.bucket_limit = bucket_limit
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
            index = self._sites.get(draft.site_id)
            if index is None:
                index = self._sites[draft.site_id] = SiteIndex(self.max_entries,
                                                               self.bucket_limit)
            index.expire(now - t.duplicate_window_seconds)
            similar = index.similar(sig, bands, t.duplicate_similarity, authors,
                                    draft.thread_key)

        def remember() -> None:
            with self._lock:
                index.add(now, sig, bands, authors, draft.thread_key)

        item.on_accept.append(remember)
        minutes = t.duplicate_window_seconds // 60
        if similar.best_own is not None:
            findings.append(finding(
                self.name, Action.HOLD, "duplicate",
                f"{similar.own} similar comment(s) by the same author in the last "
                f"{minutes} minutes", round(similar.best_own, 3),
            ))
        copies = similar.copies + 1
        if t.flood_copies and copies >= t.flood_copies:
            # A bucket keeps its BUCKET_LIMIT newest comments: a larger flood counts that many.
            more = " or more" if similar.copies >= self.bucket_limit else ""
            findings.append(finding(
                self.name, Action.SPAM, "copy_paste_flood",
                f"{copies}{more} near-identical comments in {similar.threads} thread(s) in "
                f"the last {minutes} minutes", float(copies),
            ))
        return findings
