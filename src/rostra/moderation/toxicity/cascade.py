"""The cascade's routing rule: which comments the cheap encoder settles and which go on to
the strong one, and which part of a long comment the strong one reads."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rostra.moderation.toxicity.shipped import DATA_DIR

CASCADE_RULE_PATH = DATA_DIR / "toxicity_cascade.json"
# The strong encoder's cost grows faster than linearly with length (280 ms of CPU for
# 600 characters against 35 ms for 66): past this many characters it reads only the
# sentences the cheap encoder finds most toxic, never more than this many characters
# in all, each sentence on its own.
DEFAULT_WINDOW_CHARS = 320

# The strong encoder reads a long comment in pieces of whole sentences of at least this
# many characters: scored alone, a two-word sentence ("I don't think so.") looked toxic
# to both encoders (the seed comments the heads learned from have a median of 66).
MIN_PIECE_CHARS = 40

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")


@dataclass(frozen=True, slots=True)
class CascadeRule:
    """Cheap toxic score in [low, high): ask the strong encoder; otherwise the cheap score stands."""

    low: float
    high: float
    window_chars: int = DEFAULT_WINDOW_CHARS
    # How the cuts were chosen and what they gave (written by tools/toxicity/cascade.py).
    metadata: dict[str, Any] = field(default_factory=dict)

    def routes(self, cheap_toxic: float) -> bool:
        """Whether a comment with this cheap toxic score goes on to the strong encoder."""
        return self.low <= cheap_toxic < self.high

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def load(cls, path: Path = CASCADE_RULE_PATH) -> CascadeRule:
        """Read the shipped rule; FileNotFoundError if none was chosen."""
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            low=float(data["low"]),
            high=float(data["high"]),
            window_chars=int(data.get("window_chars", DEFAULT_WINDOW_CHARS)),
            metadata=dict(data.get("metadata", {})),
        )


def split_sentences(text: str) -> list[str]:
    """Sentences (or lines) of a comment, stripped, empty ones dropped."""
    return [part.strip() for part in _SENTENCE_END.split(text) if part.strip()]


def select_pieces(
    sentences: Sequence[str], scores: Sequence[float], max_chars: int, min_chars: int = MIN_PIECE_CHARS
) -> list[str]:
    """Pieces around the highest-scoring sentences, at most max_chars in all, in text order.

    Each chosen sentence shorter than min_chars takes its neighbours (the one before
    first) until the piece is long enough, so "I don't think so." is read with what it
    answers (or, hemmed in, joins the chosen piece next to it). Pieces never overlap. The top piece is always kept (cut to max_chars if
    longer), so a long comment whose insult sits in its last paragraph is read there.
    """
    taken = [False] * len(sentences)
    spans: list[tuple[int, int]] = []
    used = 0
    for i in sorted(range(len(sentences)), key=lambda k: -scores[k]):
        if taken[i]:
            continue
        lo = hi = i
        size = len(sentences[i])
        while size < min_chars:
            if lo > 0 and not taken[lo - 1]:
                lo -= 1
                size += len(sentences[lo]) + 1
            elif hi + 1 < len(sentences) and not taken[hi + 1]:
                hi += 1
                size += len(sentences[hi]) + 1
            else:
                break
        if spans and used + size > max_chars:
            continue
        used += size
        # Still too short, hemmed in by chosen pieces: it joins the piece next to it.
        joined = size < min_chars and _join_neighbour(spans, lo, hi)
        if not joined:
            spans.append((lo, hi))
        for k in range(lo, hi + 1):
            taken[k] = True
    return [" ".join(sentences[lo : hi + 1])[:max_chars] for lo, hi in sorted(spans)]


def _join_neighbour(spans: list[tuple[int, int]], lo: int, hi: int) -> bool:
    for k, (a, b) in enumerate(spans):
        if b == lo - 1 or a == hi + 1:
            spans[k] = (min(a, lo), max(b, hi))
            return True
    return False
