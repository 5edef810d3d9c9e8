"""Score-quality measures used by the training, evaluation and learning-curve scripts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


def roc_auc(labels: NDArray[np.bool_], scores: NDArray[np.floating]) -> float:
    """Probability that a random positive outscores a random negative (ties count half)."""
    y = np.asarray(labels, dtype=bool)
    s = np.asarray(scores, dtype=np.float64)
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    # Mann-Whitney U from average ranks, so tied scores share their rank.
    _, inverse, counts = np.unique(s, return_inverse=True, return_counts=True)
    upper = np.cumsum(counts)  # the rank of the last member of each group of ties
    average = upper - (counts - 1) / 2.0
    ranks = average[inverse]
    u = ranks[y].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


@dataclass(frozen=True, slots=True)
class ThresholdQuality:
    """Precision and recall of `score >= threshold` as the positive prediction."""

    threshold: float
    precision: float
    recall: float
    false_positive_rate: float


def at_threshold(
    labels: NDArray[np.bool_], scores: NDArray[np.floating], threshold: float
) -> ThresholdQuality:
    """Precision, recall and false-positive rate when flagging scores at or over threshold."""
    y = np.asarray(labels, dtype=bool)
    flagged = np.asarray(scores, dtype=np.float64) >= threshold
    tp = int((flagged & y).sum())
    fp = int((flagged & ~y).sum())
    fn = int((~flagged & y).sum())
    tn = int((~flagged & ~y).sum())
    precision = tp / (tp + fp) if tp + fp else float("nan")
    recall = tp / (tp + fn) if tp + fn else float("nan")
    fpr = fp / (fp + tn) if fp + tn else float("nan")
    return ThresholdQuality(threshold, precision, recall, fpr)
