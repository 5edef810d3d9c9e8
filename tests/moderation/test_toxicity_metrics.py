"""The score-quality measures the training and evaluation scripts report."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rostra.moderation.toxicity.metrics import at_threshold, roc_auc


@given(st.lists(st.tuples(st.booleans(), st.integers(0, 5)), min_size=2, max_size=60))
def test_it_computes_roc_auc_as_the_share_of_correctly_ordered_pairs(rows: list[tuple[bool, int]]) -> None:
    labels = np.array([r[0] for r in rows])
    scores = np.array([float(r[1]) for r in rows])
    pairs = [(p, n) for p, n in itertools.product(scores[labels], scores[~labels])]
    if not pairs:
        assert np.isnan(roc_auc(labels, scores))
        return
    expected = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p, n in pairs) / len(pairs)
    assert roc_auc(labels, scores) == pytest.approx(expected)


def test_it_reports_precision_and_recall_at_a_threshold() -> None:
    labels = np.array([True, True, False, False, True])
    scores = np.array([0.9, 0.4, 0.8, 0.1, 0.7])
    quality = at_threshold(labels, scores, 0.5)
    assert (quality.precision, quality.recall, quality.false_positive_rate) == pytest.approx((2 / 3, 2 / 3, 0.5))
