"""Which language a comment is written in, by py3langid, among the languages a site expects."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

# The languages Rostra's readers write in (the widget's locales, plus close neighbours
# that short comments are easily mistaken for).
DEFAULT_LANGUAGES: tuple[str, ...] = (
    "en", "de", "fr", "es", "ru", "sk", "cs", "uk", "pl", "ko", "it", "pt", "ar", "tr",
)
# Below this confidence the answer is "und" (undetermined): too short or mixed to tell.
DEFAULT_MIN_CONFIDENCE = 0.5
UNDETERMINED = "und"


@dataclass(frozen=True, slots=True)
class DetectedLanguage:
    code: str  # ISO 639-1, or "und"
    confidence: float


class LanguageDetector:
    """Detects a text's language among a fixed set; thread-safe; the model loads on first use."""

    def __init__(
        self,
        languages: Iterable[str] | None = DEFAULT_LANGUAGES,
        min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    ) -> None:
        # Restricting the candidates matters on short comments: among all 97 languages a
        # two-word Slovak reply is often "cs" or "hr"; among a site's few it is "sk".
        self._languages = tuple(languages) if languages is not None else None
        self._min_confidence = min_confidence
        self._identifier: Any = None
        self._lock = threading.Lock()

    def detect(self, text: str) -> DetectedLanguage:
        """The most likely language and its probability among the candidates."""
        if not text.strip():
            return DetectedLanguage(UNDETERMINED, 0.0)
        code, confidence = self._loaded().classify(text)
        confidence = float(confidence)
        if confidence < self._min_confidence:
            return DetectedLanguage(UNDETERMINED, confidence)
        return DetectedLanguage(str(code), confidence)

    def _loaded(self) -> Any:
        with self._lock:
            if self._identifier is None:
                from rostra.moderation.toxicity.langwalk import load_identifier

                self._identifier = load_identifier(self._languages)
            return self._identifier


@lru_cache(maxsize=8)
def _detector(languages: tuple[str, ...] | None, min_confidence: float) -> LanguageDetector:
    return LanguageDetector(languages, min_confidence)


def detect_language(
    text: str,
    languages: Iterable[str] | None = DEFAULT_LANGUAGES,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
) -> tuple[str, float]:
    """(ISO 639-1 code or "und", confidence in [0, 1]) for text, among `languages` (None: all)."""
    key = tuple(sorted(languages)) if languages is not None else None
    found = _detector(key, min_confidence).detect(text)
    return found.code, found.confidence
