"""Logistic-regression heads on sentence embeddings, fitted and applied with plain numpy."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Vector = NDArray[np.float64]
Matrix = NDArray[np.float64]


def sigmoid(z: NDArray[np.float64]) -> NDArray[np.float64]:
    """Logistic function, stable for large |z|."""
    return np.exp(-np.logaddexp(0.0, -z))


@dataclass(frozen=True, slots=True)
class Standardizer:
    """Centres and scales embedding dimensions the way the shipped head was trained."""

    mean: Vector
    scale: Vector

    @classmethod
    def fit(cls, x: Matrix) -> Standardizer:
        # Sentence embeddings share a large common direction (all e5 vectors are ~0.8
        # cosine apart); removing it lets a small, well-regularised head separate classes.
        std = x.std(axis=0)
        return cls(mean=x.mean(axis=0), scale=1.0 / np.maximum(std, 1e-6))

    def apply(self, x: NDArray[np.floating]) -> Matrix:
        return (np.asarray(x, dtype=np.float64) - self.mean) * self.scale


@dataclass(frozen=True, slots=True)
class LogisticHead:
    """P(positive | features) = sigmoid(features @ weights + bias)."""

    weights: Vector
    bias: float

    def predict(self, features: Matrix) -> Vector:
        return sigmoid(np.atleast_2d(features) @ self.weights + self.bias)


def fit_logistic(
    features: Matrix,
    labels: NDArray[np.bool_],
    *,
    l2: float = 1.0,
    sample_weight: Vector | None = None,
    iterations: int = 50,
) -> LogisticHead:
    """Fit an L2-regularised logistic regression by Newton's method (exact, a few ms at d=512)."""
    n, d = features.shape
    y = labels.astype(np.float64)
    sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    # Augment with a bias column that is not regularised.
    x = np.hstack([features, np.ones((n, 1))])
    penalty = np.full(d + 1, l2)
    penalty[-1] = 0.0
    theta = np.zeros(d + 1)
    for _ in range(iterations):
        p = sigmoid(x @ theta)
        grad = x.T @ (sw * (p - y)) + penalty * theta
        hess = (x * (sw * p * (1.0 - p))[:, None]).T @ x + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hess, grad)
        theta -= step
        if float(np.max(np.abs(step))) < 1e-7:
            break
    return LogisticHead(weights=theta[:-1].copy(), bias=float(theta[-1]))


def balanced_weights(labels: NDArray[np.bool_]) -> Vector:
    """Sample weights that give both classes equal total weight (mean weight 1)."""
    y = labels.astype(bool)
    n_pos = max(int(y.sum()), 1)
    n_neg = max(int((~y).sum()), 1)
    w = np.where(y, len(y) / (2.0 * n_pos), len(y) / (2.0 * n_neg))
    return w.astype(np.float64)
