"""A per-site head that learns each moderator decision, and the rule that blends it in."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

from rostra.moderation.toxicity.linear import Standardizer, sigmoid
from rostra.moderation.toxicity.shipped import ShippedHead

# Prior precision of every weight before any decision: how hard the head resists the
# first few decisions. Chosen with tools/toxicity/learning_curve.py.
PRIOR_PRECISION = 0.3
# blend() gives the site head weight n / (n + BLEND_HALF_WEIGHT_AT): half at this many
# decisions. Chosen with tools/toxicity/learning_curve.py.
BLEND_HALF_WEIGHT_AT = 40
# Even a well-trained site head never fully silences the shipped head, which knows
# threats and slurs in languages the site's moderators may not have seen yet.
BLEND_MAX_SITE_WEIGHT = 0.85


class Verdict(StrEnum):
    """A moderator's decision on a comment, as the site head learns it."""

    APPROVE = "approve"
    REJECT = "reject"
    SPAM = "spam"

    @property
    def is_rejection(self) -> bool:
        return self is not Verdict.APPROVE


@dataclass(slots=True)
class SiteHead:
    """Online Bayesian logistic regression: P(moderators reject | embedding).

    Each weight keeps a Gaussian belief (mean, precision); `update` finds the most
    likely weights for the new decisions under that belief, then tightens the belief
    by the decisions' curvature (Laplace approximation, diagonal). Updating with
    decisions one at a time or all at once gives nearly the same head, so the caller
    may call it after every moderator action.
    """

    standardizer: Standardizer
    mean: NDArray[np.float64]  # weights, with the bias last
    precision: NDArray[np.float64]
    n_decisions: int = 0
    n_rejections: int = 0

    @classmethod
    def new(cls, basis: Standardizer | ShippedHead, prior_precision: float = PRIOR_PRECISION) -> SiteHead:
        """A head that has seen no decision, reading embeddings the way the shipped head does."""
        standardizer = basis.standardizer if isinstance(basis, ShippedHead) else basis
        d = standardizer.mean.shape[0] + 1
        return cls(standardizer=standardizer, mean=np.zeros(d), precision=np.full(d, prior_precision))

    @property
    def dim(self) -> int:
        return int(self.standardizer.mean.shape[0])

    def predict(self, embedding: NDArray[np.floating]) -> float:
        """Probability in [0, 1] that this site's moderators would reject the comment."""
        return float(self.predict_many(np.atleast_2d(embedding))[0])

    def predict_many(self, embeddings: NDArray[np.floating]) -> NDArray[np.float64]:
        x = self._features(embeddings)
        return sigmoid(x @ self.mean)

    def update(
        self,
        embeddings: NDArray[np.floating],
        labels: Sequence[Verdict | bool] | NDArray[np.bool_] | Verdict | bool,
    ) -> None:
        """Learn from moderator decisions: embeddings (rows, or one vector) with a verdict each.

        A label is a Verdict or a bool (True: rejected or spam); one embedding may come
        with one bare label.
        """
        if isinstance(labels, (bool, np.bool_, Verdict)):
            labels = [labels]
        x = self._features(np.atleast_2d(embeddings))
        y = np.array([v.is_rejection if isinstance(v, Verdict) else bool(v) for v in labels], dtype=np.float64)
        if len(y) != len(x):
            raise ValueError(f"{len(x)} embeddings but {len(y)} labels")
        if len(y) == 0:
            return
        w = self.mean.copy()
        for _ in range(25):
            p = sigmoid(x @ w)
            grad = self.precision * (w - self.mean) + x.T @ (p - y)
            curvature = p * (1.0 - p)
            # Newton step with the (small) batch's Hessian: diag(precision) + X^T C X,
            # solved through the batch dimension (Woodbury) so it costs O(n^2 d), not O(d^3).
            step = _solve_diag_plus_low_rank(self.precision, x, curvature, grad)
            w -= step
            if float(np.max(np.abs(step))) < 1e-8:
                break
        p = sigmoid(x @ w)
        self.precision = self.precision + (x * x).T @ (p * (1.0 - p))
        self.mean = w
        self.n_decisions += len(y)
        self.n_rejections += int(y.sum())

    def to_bytes(self) -> bytes:
        """A compact, self-contained serialisation (about 10 KB) for the database."""
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            std_mean=self.standardizer.mean.astype(np.float32),
            std_scale=self.standardizer.scale.astype(np.float32),
            mean=self.mean.astype(np.float32),
            precision=self.precision.astype(np.float32),
            counts=np.array([self.n_decisions, self.n_rejections], dtype=np.int64),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> SiteHead:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            counts = z["counts"]
            return cls(
                standardizer=Standardizer(
                    mean=z["std_mean"].astype(np.float64), scale=z["std_scale"].astype(np.float64)
                ),
                mean=z["mean"].astype(np.float64),
                precision=z["precision"].astype(np.float64),
                n_decisions=int(counts[0]),
                n_rejections=int(counts[1]),
            )

    def _features(self, embeddings: NDArray[np.floating]) -> NDArray[np.float64]:
        x = self.standardizer.apply(embeddings)
        # Standardised features have unit variance per dimension; divide by sqrt(d) so a
        # whole vector has unit length and the prior precision means the same at any d.
        x = x / np.sqrt(x.shape[1])
        return np.hstack([x, np.ones((x.shape[0], 1))])


def _solve_diag_plus_low_rank(
    diag: NDArray[np.float64], x: NDArray[np.float64], c: NDArray[np.float64], b: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Solve (diag(diag) + x^T diag(c) x) s = b by the Woodbury identity."""
    inv_d = 1.0 / diag
    xd = x * inv_d  # x D^-1
    inner = np.diag(1.0 / np.maximum(c, 1e-12)) + xd @ x.T
    return inv_d * b - xd.T @ np.linalg.solve(inner, xd @ b)


def blend(shipped_score: float, site_score: float, n_decisions: int) -> float:
    """Mix the shipped and site scores, trusting the site head more as its decisions accumulate."""
    weight = BLEND_MAX_SITE_WEIGHT * n_decisions / (n_decisions + BLEND_HALF_WEIGHT_AT)
    return (1.0 - weight) * shipped_score + weight * site_score
