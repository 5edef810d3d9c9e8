"""The word-by-word walk of py3langid's automaton (rostra.moderation.toxicity.langwalk)
scores every text exactly as py3langid itself does: same features in the same order, so
the same language and the same confidence to the last bit."""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from py3langid.langid import (  # type: ignore[import-untyped]
    MODEL_FILE,
    LanguageIdentifier,
    visit_counts,
)

from rostra.moderation.toxicity import langwalk
from rostra.moderation.toxicity.language import DEFAULT_LANGUAGES, LanguageDetector
from rostra.moderation.toxicity.langwalk import WordWalkIdentifier, load_identifier

WORDS = {
    "en": "the council finally approved new tram line about time and we were waiting for "
          "years but nobody asked people living near station weather is awful today",
    "de": "der Stadtrat hat die neue Straßenbahnlinie endlich genehmigt über Brücke "
          "Wetter schön heute Größe müssen Bürgermeister nicht wirklich",
    "fr": "le conseil municipal a enfin approuvé la nouvelle ligne de tram été où "
          "très déjà garçon français être pourquoi ça",
    "es": "el ayuntamiento por fin aprobó la nueva línea de tranvía año niño "
          "mañana también qué está señor",
    "ru": "городской совет наконец одобрил новую трамвайную линию погода сегодня "
          "ужасная мэр ёлка вопрос",
    "uk": "міська рада нарешті затвердила нову трамвайну лінію їжак ґанок є "
          "погода сьогодні жахлива",
    "sk": "zastupiteľstvo konečne schválilo novú električkovú trať ďakujem mäso "
          "ľudia počasie dnes",
    "cs": "zastupitelstvo konečně schválilo novou tramvajovou trať řeka děkuji "
          "počasí dnes úterý",
    "pl": "rada miasta wreszcie zatwierdziła nową linię tramwajową źdźbło gęś "
          "pogoda dzisiaj łódź",
    "ko": "시의회가 마침내 새 트램 노선을 승인했습니다 오늘 날씨가 정말 나쁘네요 감사합니다",
    "it": "il consiglio comunale ha finalmente approvato la nuova linea del tram "
          "perché città già più",
    "pt": "a câmara finalmente aprovou a nova linha de bonde já era hora ação "
          "coração não também",
    "ar": "وافق مجلس المدينة أخيرا على خط الترام الجديد الطقس سيئ اليوم شكرا",
    "tr": "belediye meclisi sonunda yeni tramvay hattını onayladı hava bugün "
          "çok kötü şehir ığdır",
    "zh": "市议会终于批准了新的有轨电车线路 今天天气很糟糕 谢谢",
    "ja": "市議会はついに新しい路面電車の路線を承認しました 今日は天気が悪い",
    "el": "το δημοτικό συμβούλιο ενέκρινε επιτέλους τη νέα γραμμή τραμ",
    "he": "מועצת העיר אישרה סוף סוף את קו הרכבת הקלה החדש",
}
EXTRAS = ["👍", "👍🏽", "🇸🇰", "😂😂", ":-)", "!!!", "?", "...", "—", "«", "»", "\"", "'",
          "(", ")", "#1", "@anna", "https://example.org/a/b?c=d", "www.example.com",
          "2024", "3.14", "10%", "&", "<b>", "*", "_", "~~", "\t", "\u00a0", "\u200f",
          "\u202e", "e\u0301", "ﬁ", "\u3000", "x" * 40]


def texts(count: int, seed: int) -> Iterator[str]:
    rng = random.Random(seed)
    vocab = {lang: words.split() for lang, words in WORDS.items()}
    langs = sorted(vocab)
    for n in range(count):
        main = rng.choice(langs)
        length = rng.choice([1, 2, 3, 5, 8, 13, 30, 60, 200])
        words = []
        for _ in range(length):
            pick = rng.random()
            if pick < 0.8:
                words.append(rng.choice(vocab[main]))
            elif pick < 0.9:
                words.append(rng.choice(vocab[rng.choice(langs)]))
            else:
                words.append(rng.choice(EXTRAS))
        seps = [rng.choice([" ", " ", " ", " ", "  ", "\n", "\n\n", ", ", ". ", " - ", ""])
                for _ in words]
        text = "".join(w + s for w, s in zip(words, seps, strict=True))
        style = n % 7
        if style == 1:
            text = text.upper()  # py3langid lowers an all-caps text
        elif style == 2:
            text = text.capitalize() + "!"
        elif style == 3:
            text = unicodedata.normalize("NFD", text)  # py3langid composes it again
        elif style == 4:
            text = f"  {text}  "
        yield text


@pytest.fixture(scope="module")
def pairs() -> list[tuple[Any, Any]]:
    """(library's identifier, ours) for a site's languages and for all of them."""
    made = []
    for languages in (list(DEFAULT_LANGUAGES), None):
        theirs = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        if languages is not None:
            theirs.set_languages(languages)
        ours = load_identifier(tuple(languages) if languages is not None else None)
        assert isinstance(ours, WordWalkIdentifier)
        made.append((theirs, ours))
    return made


def test_it_scores_thousands_of_texts_exactly_as_py3langid(pairs: list[tuple[Any, Any]]) -> None:
    corpus = list(texts(3000, seed=14))
    corpus += ["", " ", "a", "  ", "\n", "12345 :-) !!!", "👍", "ALL CAPS SHOUTING HERE"]
    for theirs, ours in pairs:
        for text in corpus:
            data = theirs._encode(text)
            want = visit_counts(theirs.tk_nextmove, theirs._rowbase, theirs.tk_output, data)
            got = ours.visit_counts(data)
            assert got == want, text
            if want:
                assert list(got.items()) == list(want.items()), text  # order: sum order
            mine, library = ours._decide(text), theirs._decide(text)
            assert mine.dtype == library.dtype and np.array_equal(mine, library), text
            assert ours.classify(text) == theirs.classify(text), text
        # A second pass finds every walk kept: still the same answers.
        for text in corpus[:500]:
            assert ours.classify(text) == theirs.classify(text), text


def test_the_detector_answers_as_before(pairs: list[tuple[Any, Any]]) -> None:
    theirs = pairs[0][0]
    detector = LanguageDetector()
    for text in texts(500, seed=15):
        found = detector.detect(text)
        if not text.strip():
            assert (found.code, found.confidence) == ("und", 0.0)
            continue
        code, confidence = theirs.classify(text)
        assert found.confidence == float(confidence)
        assert found.code == (str(code) if confidence >= 0.5 else "und")


def test_it_starts_afresh_when_its_memory_of_words_is_full(
    pairs: list[tuple[Any, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    theirs, ours = pairs[0]
    monkeypatch.setattr(langwalk, "MAX_WORDS", 50)
    for text in texts(300, seed=16):
        assert ours.classify(text) == theirs.classify(text)
        assert len(ours._words) <= 50 + len(text.split(" ")) + 1
        assert len(ours._spaces) <= 50 + len(text.split(" ")) + 1


def test_it_falls_back_to_the_library_when_its_walk_disagrees(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A py3langid release that walks its automaton another way must not get our counts.
    monkeypatch.setattr(langwalk, "visit_counts", lambda *_args: None)
    identifier = load_identifier(("en", "de"))
    assert type(identifier) is LanguageIdentifier
    assert identifier.classify("The council approved the new tram line.")[0] == "en"
