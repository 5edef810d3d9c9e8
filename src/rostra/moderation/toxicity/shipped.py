"""The head we train on the seed set and ship in `rostra/moderation/data/`, one per encoder."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from rostra.moderation.toxicity.linear import LogisticHead, Standardizer

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


def shipped_head_path(encoder_name: str) -> Path:
    """Where the shipped head for an encoder lives inside the installed package."""
    return DATA_DIR / f"toxicity_head_{encoder_name}.npz"


@dataclass(frozen=True, slots=True)
class ShippedHead:
    """Standardiser plus a toxicity head and a spam head for one encoder's embeddings."""

    encoder: str
    standardizer: Standardizer
    toxic: LogisticHead
    spam: LogisticHead
    # Training facts kept beside the weights: seed-set size, held-out AUC, suggested lines.
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def dim(self) -> int:
        return int(self.standardizer.mean.shape[0])

    @property
    def toxic_hold_threshold(self) -> float:
        """Toxicity at or over which a comment should be held (chosen in training)."""
        return float(self.metadata.get("toxic_hold_threshold", 0.5))

    @property
    def spam_hold_threshold(self) -> float:
        """Spam score at or over which a comment should be held (chosen in training)."""
        return float(self.metadata.get("spam_hold_threshold", 0.5))

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            mean=self.standardizer.mean.astype(np.float32),
            scale=self.standardizer.scale.astype(np.float32),
            toxic_w=self.toxic.weights.astype(np.float32),
            toxic_b=np.float32(self.toxic.bias),
            spam_w=self.spam.weights.astype(np.float32),
            spam_b=np.float32(self.spam.bias),
            meta=np.array(json.dumps({"encoder": self.encoder, **self.metadata})),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> ShippedHead:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            encoder = str(meta.pop("encoder"))

            def as64(key: str) -> NDArray[np.float64]:
                return np.asarray(z[key], dtype=np.float64)

            return cls(
                encoder=encoder,
                standardizer=Standardizer(mean=as64("mean"), scale=as64("scale")),
                toxic=LogisticHead(weights=as64("toxic_w"), bias=float(z["toxic_b"])),
                spam=LogisticHead(weights=as64("spam_w"), bias=float(z["spam_b"])),
                metadata=meta,
            )

    @classmethod
    def load(cls, encoder_name: str) -> ShippedHead:
        """Read the head shipped for `encoder_name`; FileNotFoundError if none was trained."""
        return cls.from_bytes(shipped_head_path(encoder_name).read_bytes())
