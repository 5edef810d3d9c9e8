"""A per-site correction that learns each moderator decision, on top of the shipped score.

The site head does not predict on its own: it learns where this site's moderators
disagree with the shipped model, as a correction to the shipped `abusive` logit
(logistic regression with the shipped logit as an offset). With no decision it changes
nothing; it moves a score only where the site's decisions say the shipped model is off.

Three things keep a score meaning what the policy's lines assume after any number of
decisions (tools/toxicity/learning_curve.py measures it on real sets):
- the correction has no constant term and is measured from the mean of the comments the
  moderators decided: decisions re-rank comments but cannot shift every score at once
  (moderators judge mostly what was held; if they approve half of it, a constant would
  learn "too harsh" and pull every score under the hold line, while how strict to be is
  the policy's lines, the site's explicit say);
- approvals and rejections are weighted to count the same in total, so a site's share of
  rejections does not tilt the weights either;
- the correction is bounded (`MAX_SHIFT` logits), so a site's head can move comments
  across the lines but cannot silence the shipped model on threats and hate.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

from rostra.moderation.toxicity.heads import DenseHeads, sigmoid

# Prior precision of every weight before any decision: how hard the head resists the
# first few decisions. Chosen with tools/toxicity/learning_curve.py on five real sets
# (0.1, 0.3, 1, 3): 1 gained the most ROC AUC after 50 and 200 decisions and never lost
# any; 0.1 and 0.3 lost up to 0.03 on one set.
PRIOR_PRECISION = 1.0
# The correction never moves the shipped logit by more than this (4 logits: 0.5 -> 0.98).
MAX_SHIFT = 4.0
KIND = "correction-v3"  # what a stored head is; an older kind is relearned, not misread


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
    """Online Bayesian logistic regression of the site's decisions, offset by the shipped logit.

    Each weight keeps a Gaussian belief (mean, precision); `update` finds the most
    likely weights for the new decisions under that belief, then tightens the belief
    by the decisions' curvature (Laplace approximation, diagonal). Updating with
    decisions one at a time or all at once gives nearly the same head.
    """

    mean_vec: NDArray[np.float64]  # the standardiser's mean (use3's, from the shipped model)
    scale_vec: NDArray[np.float64]
    mean: NDArray[np.float64]  # the correction's weights
    precision: NDArray[np.float64]
    n_decisions: int = 0
    n_rejections: int = 0
    # Sum of the decided comments' features: the correction is measured from their mean,
    # so on the comments moderators judged it averages to nothing (see `correction`).
    centre_sum: NDArray[np.float64] | None = None

    @property
    def centre(self) -> NDArray[np.float64]:
        if self.centre_sum is None or self.n_decisions == 0:
            return np.zeros(self.dim)
        return self.centre_sum / self.n_decisions

    @classmethod
    def new(cls, basis: DenseHeads, prior_precision: float = PRIOR_PRECISION) -> SiteHead:
        """A head that has seen no decision, reading embeddings the way the shipped use3 heads do."""
        d = basis.dim
        return cls(mean_vec=basis.mean.copy(), scale_vec=basis.scale.copy(), mean=np.zeros(d),
                   precision=np.full(d, prior_precision), centre_sum=np.zeros(d))

    @property
    def dim(self) -> int:
        return int(self.mean_vec.shape[0])

    def correction(self, embeddings: NDArray[np.floating]) -> NDArray[np.float64]:
        """What this site adds to the shipped abusive logit, per embedding (bounded).

        Linear in the comment's embedding measured from the mean of the comments the
        moderators decided, with no constant term: the site's decisions re-rank comments
        (these kinds more, those less) but cannot move every score at once. Moderators
        judge mostly what was held; if they approve half of it, a constant would learn
        "the shipped model is too harsh" and pull every score under the hold line, while
        the policy's lines are the site's explicit say on how strict to be.
        """
        x = self._features(np.atleast_2d(embeddings)) - self.centre
        return np.clip(x @ self.mean, -MAX_SHIFT, MAX_SHIFT)

    def score(self, shipped_logit: float, embedding: NDArray[np.floating]) -> float:
        """P(abusive) for this site: the shipped logit plus the site's correction."""
        return float(sigmoid(np.array([shipped_logit + float(self.correction(embedding)[0])]))[0])

    def update(
        self,
        embeddings: NDArray[np.floating],
        labels: Sequence[Verdict | bool] | NDArray[np.bool_] | Verdict | bool,
        shipped_logits: Sequence[float] | NDArray[np.floating] | float,
    ) -> None:
        """Learn from moderator decisions: embeddings (rows, or one vector), a verdict each
        (a Verdict or a bool, True: rejected) and the shipped logit each comment had."""
        if isinstance(labels, (bool, np.bool_, Verdict)):
            labels = [labels]
        raw = self._features(np.atleast_2d(embeddings))
        y = np.array([v.is_rejection if isinstance(v, Verdict) else bool(v) for v in labels], dtype=np.float64)
        offset = np.atleast_1d(np.asarray(shipped_logits, dtype=np.float64))
        if not len(y) == len(raw) == len(offset):
            raise ValueError(f"{len(raw)} embeddings, {len(y)} labels and {len(offset)} logits")
        if len(y) == 0:
            return
        centre_sum = (self.centre_sum if self.centre_sum is not None else np.zeros(self.dim)) + raw.sum(axis=0)
        n = self.n_decisions + len(y)
        x = raw - centre_sum / n
        rejected = self.n_rejections + int(y.sum())
        # Each class weighs half of all decisions (smoothed: one decision of each kind is
        # assumed), so the site's share of rejections does not shift every score.
        weight = np.where(y > 0, (n + 2) / (2.0 * (rejected + 1)), (n + 2) / (2.0 * (n - rejected + 1)))
        w = self.mean.copy()
        for _ in range(25):
            p = sigmoid(offset + x @ w)
            grad = self.precision * (w - self.mean) + x.T @ (weight * (p - y))
            curvature = weight * p * (1.0 - p)
            # Newton step with the (small) batch's Hessian: diag(precision) + X^T C X,
            # solved through the batch dimension (Woodbury) so it costs O(n^2 d), not O(d^3).
            step = _solve_diag_plus_low_rank(self.precision, x, curvature, grad)
            w -= step
            if float(np.max(np.abs(step))) < 1e-8:
                break
        p = sigmoid(offset + x @ w)
        self.precision = self.precision + (x * x).T @ (weight * p * (1.0 - p))
        self.mean = w
        self.n_decisions = n
        self.n_rejections = rejected
        self.centre_sum = centre_sum

    def to_bytes(self) -> bytes:
        """A compact, self-contained serialisation (about 10 KB) for the database."""
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            std_mean=self.mean_vec.astype(np.float32),
            std_scale=self.scale_vec.astype(np.float32),
            mean=self.mean.astype(np.float32),
            precision=self.precision.astype(np.float32),
            counts=np.array([self.n_decisions, self.n_rejections], dtype=np.int64),
            centre_sum=(self.centre_sum if self.centre_sum is not None else np.zeros(self.dim)).astype(np.float32),
            kind=np.array(KIND),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> SiteHead | None:
        """The stored head, or None for one stored by an older Rostra (a head that predicted
        on its own, not a correction): it is relearned from the next decisions."""
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            if "kind" not in z.files or str(z["kind"]) != KIND:
                return None
            counts = z["counts"]
            return cls(
                mean_vec=z["std_mean"].astype(np.float64),
                scale_vec=z["std_scale"].astype(np.float64),
                mean=z["mean"].astype(np.float64),
                precision=z["precision"].astype(np.float64),
                n_decisions=int(counts[0]),
                n_rejections=int(counts[1]),
                centre_sum=z["centre_sum"].astype(np.float64),
            )

    def _features(self, embeddings: NDArray[np.floating]) -> NDArray[np.float64]:
        x = (np.asarray(embeddings, dtype=np.float64) - self.mean_vec) * self.scale_vec
        # Standardised features have unit variance per dimension; divide by sqrt(d) so a
        # whole vector has unit length and the prior precision means the same at any d.
        out: NDArray[np.float64] = x / np.sqrt(x.shape[1])
        return out


def _solve_diag_plus_low_rank(
    diag: NDArray[np.float64], x: NDArray[np.float64], c: NDArray[np.float64], b: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Solve (diag(diag) + x^T diag(c) x) s = b by the Woodbury identity."""
    inv_d = 1.0 / diag
    xd = x * inv_d  # x D^-1
    inner = np.diag(1.0 / np.maximum(c, 1e-12)) + xd @ x.T
    return inv_d * b - xd.T @ np.linalg.solve(inner, xd @ b)
