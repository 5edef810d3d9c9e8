"""Duplicate and near-duplicate texts: the same author again, and copy-paste floods."""

from __future__ import annotations

import random
from collections import deque
from typing import Any

import numpy as np

from rostra.moderation.checks import Inspection
from rostra.moderation.checks.duplicates import (
    AUTHOR_KEYS,
    PERMUTATIONS,
    SHINGLE,
    DuplicateCheck,
    Similar,
    SiteIndex,
    _key_hash,
    bands_of,
    signature,
    similarity,
)
from rostra.moderation.checks.length import LengthCheck
from rostra.moderation.decision import Action
from rostra.moderation.pipeline import Pipeline
from rostra.moderation.policy import parse_policy
from rostra.moderation.textfold import fold_tokens
from tests.moderation.test_content_checks import draft

WORDS = ["council", "budget", "school", "bridge", "road", "mayor", "vote", "tax", "river", "flood", "police", "hospital", "train", "station", "election", "minister", "report", "article", "photo", "street", "market"]
SPAM = "Make 5000 dollars a week from home with this one simple trick, ask me how today"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def codes(check: DuplicateCheck, text: str, policy: dict[str, Any] | None = None,
          **kwargs: Any) -> list[tuple[Action, str]]:
    item = Inspection(draft(text, **kwargs), parse_policy(policy or {}))
    found = [(f.action, f.reason.code) for f in check.run(item)]
    for accept in item.on_accept:  # as the pipeline does for a comment it accepts
        accept()
    return found


def test_it_scores_near_copies_as_similar_and_other_texts_not() -> None:
    a = signature(SPAM)
    b = signature(SPAM.replace("today", "today!!!").upper())
    c = signature("The council voted to keep the library open on Sundays after all")
    assert a is not None and b is not None and c is not None
    assert similarity(a, b) >= 0.8
    assert similarity(a, c) < 0.2


def test_it_holds_the_same_author_repeating_themselves() -> None:
    check = DuplicateCheck()
    assert codes(check, SPAM, voter_id="v1", ip_hash="ip1") == []
    assert codes(check, SPAM + "!", voter_id="v1", ip_hash="ip2", thread_key="/b") == [
        (Action.HOLD, "duplicate")]


def test_it_marks_a_flood_across_authors_and_threads_as_spam() -> None:
    check = DuplicateCheck()
    results = [
        codes(check, SPAM, voter_id=f"v{i}", ip_hash=f"ip{i}", thread_key=f"/t{i}")
        for i in range(3)
    ]
    assert results[0] == [] and results[1] == []
    assert results[2] == [(Action.SPAM, "copy_paste_flood")]


def test_it_ignores_short_common_replies() -> None:
    check = DuplicateCheck()
    for i in range(5):
        assert codes(check, "I agree!", voter_id=f"v{i}") == []


def test_it_forgets_after_the_window() -> None:
    clock = Clock()
    check = DuplicateCheck(clock=clock)
    policy = {"thresholds": {"duplicate_window_seconds": 600}}
    assert codes(check, SPAM, policy) == []
    clock.now += 601
    assert codes(check, SPAM, policy) == []


def test_it_keeps_sites_apart() -> None:
    check = DuplicateCheck()
    assert codes(check, SPAM, site_id="one") == []
    assert codes(check, SPAM, site_id="two") == []


def test_it_does_not_remember_a_refused_draft() -> None:
    check = DuplicateCheck()
    pipeline = Pipeline([check, LengthCheck()])
    refused, _ = pipeline.decide(draft(SPAM), parse_policy({"thresholds": {"min_length": 500}}))
    assert refused.action is Action.REFUSE
    again, _ = pipeline.decide(draft(SPAM), parse_policy({}))
    assert again.action is Action.PUBLISH


def test_it_bounds_the_work_of_a_flood_and_still_calls_it_one() -> None:
    # Each bucket names its bucket_limit newest comments: the 30th copy is compared with
    # 8 of the 29 before it, not with all of them, and is still a flood.
    check = DuplicateCheck(bucket_limit=8)
    for i in range(29):
        codes(check, SPAM, voter_id=f"v{i}", ip_hash=f"ip{i}", thread_key=f"/t{i % 4}")
    item = Inspection(draft(SPAM, voter_id="v99", ip_hash="ip99", thread_key="/t0"),
                      parse_policy({}))
    (flood,) = check.run(item)
    assert (flood.action, flood.reason.code) == (Action.SPAM, "copy_paste_flood")
    assert flood.reason.message.startswith("9 or more near-identical comments in 4 thread(s)")


def test_it_still_finds_an_authors_own_copy_among_many_other_texts() -> None:
    check = DuplicateCheck()
    rng = random.Random(7)
    assert codes(check, SPAM, voter_id="me", ip_hash="mine") == []
    for i in range(300):
        text = " ".join(rng.sample(WORDS, 12))
        assert codes(check, text, voter_id=f"v{i}", ip_hash=f"ip{i}") == []
    assert codes(check, SPAM.replace("simple", "easy"), voter_id="me", ip_hash="other") == [
        (Action.HOLD, "duplicate")]


def test_it_remembers_at_most_max_entries_per_site() -> None:
    others = [f"Story {n}: " + " ".join(random.Random(n).sample(WORDS, 10)) for n in range(5)]
    for other_texts, expected in ((4, [(Action.HOLD, "duplicate")]), (5, [])):
        check = DuplicateCheck(max_entries=5)
        assert codes(check, SPAM, voter_id="me") == []
        for text in others[:other_texts]:
            assert codes(check, text, voter_id="other", ip_hash="elsewhere") == []
        # Four other texts leave room for the first; a fifth pushes it out.
        assert codes(check, SPAM, voter_id="me", ip_hash="h2") == expected


def test_it_estimates_similarity_as_minhash_should() -> None:
    rng = random.Random(11)
    words = ["the", "a", "of", "and", "to", "in", *WORDS]
    errors = []
    for _ in range(200):
        a = rng.sample(words, 15)
        b = [w if rng.random() < 0.6 else rng.choice(words) for w in a]
        sa, sb = signature(" ".join(a)), signature(" ".join(b))
        assert sa is not None and sb is not None
        true = jaccard(shingles(" ".join(a)), shingles(" ".join(b)))
        errors.append(abs(similarity(sa, sb) - true))
    # 32 permutations: a standard error of at most sqrt(0.25 / 32) = 0.088 per pair.
    assert sum(errors) / len(errors) < 0.08
    assert max(errors) < 0.35


def shingles(text: str) -> set[bytes]:
    folded = " ".join(fold_tokens(text)).encode()
    return {folded[i : i + SHINGLE] for i in range(len(folded) - SHINGLE + 1)}


def jaccard(a: set[bytes], b: set[bytes]) -> float:
    return len(a & b) / len(a | b)


class DequeIndex:
    """SiteIndex as it was: buckets as deques, candidates through np.unique."""

    def __init__(self, max_entries: int, bucket_limit: int) -> None:
        self.max_entries, self.bucket_limit = max_entries, bucket_limit
        self.order: deque[tuple[float, int, tuple[bytes, ...]]] = deque()
        self.buckets: dict[bytes, deque[int]] = {}
        self.sigs = np.zeros((0, PERMUTATIONS), dtype=np.uint64)
        self.authors = np.zeros((0, AUTHOR_KEYS), dtype=np.int64)
        self.threads = np.zeros(0, dtype=np.int64)
        self.free: list[int] = []
        self._grow()

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
            if rows and rows[0] == row:
                rows.popleft()
                if not rows:
                    del self.buckets[band]

    def similar(self, sig: Any, bands: tuple[bytes, ...], line: float,
                authors: frozenset[str], thread_key: str) -> Similar:
        found: list[deque[int]] = []
        for band in bands:
            rows = self.buckets.get(band)
            if rows and not any(len(rows) == len(seen) and rows == seen for seen in found):
                found.append(rows)
        if not found:
            return Similar(0, None, 0, 1)
        arrays = [np.fromiter(rows, dtype=np.intp, count=len(rows)) for rows in found]
        candidates = arrays[0] if len(arrays) == 1 else np.unique(np.concatenate(arrays))
        scores = (self.sigs[candidates] == sig).sum(axis=1) / PERMUTATIONS
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

    def add(self, at: float, sig: Any, bands: tuple[bytes, ...],
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
                rows = self.buckets[band] = deque(maxlen=self.bucket_limit)
            rows.append(row)


def test_its_window_answers_as_the_deques_and_np_unique_did() -> None:
    # SiteIndex keeps its buckets in arrays numpy reads without a conversion per row, and
    # marks the rows of several buckets instead of sorting them (np.unique): the same
    # buckets, the same copies, authors and threads, on a full window that recycles rows.
    rng = random.Random(11)
    for max_entries, bucket_limit in ((600, 40), (200, 1024), (5000, 8)):
        index, before = SiteIndex(max_entries, bucket_limit), DequeIndex(max_entries,
                                                                         bucket_limit)
        checked = found = 0
        for n in range(1500):
            text = " ".join(rng.sample(WORDS[:12], 9)) + f" {n % 7}"
            if n % 5 == 0:
                text = " ".join(rng.choices(WORDS, k=14))
            sig = signature(text)
            assert sig is not None
            bands = bands_of(sig)
            authors = frozenset({f"v:{rng.randrange(40)}", f"i:{rng.randrange(30)}"})
            thread = f"/t/{rng.randrange(6)}"
            for line in (0.5, 0.6, 0.8, 1.0):
                got = index.similar(sig, bands, line, authors, thread)
                assert got == before.similar(sig, bands, line, authors, thread)
                checked += 1
                found += got.copies > 0
            for kept in (index, before):
                kept.add(float(n), sig, bands, authors, thread)
                if n % 50 == 0:
                    kept.expire(n - 300.0)
            assert len(index) == len(before.order)
            assert index.free == before.free
            if n % 100 == 0:
                assert {k: list(v) for k, v in index.buckets.items()} == {
                    k: list(v) for k, v in before.buckets.items()}
        assert found > checked // 10  # near-copies found often enough to test something
