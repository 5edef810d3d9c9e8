"""Language: detect the comment's language (kept on the comment) and hold a text in a
language the site does not take, when detection is sure of it."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from rostra.moderation.checks import Finding, Inspection, finding
from rostra.moderation.decision import Action

# text -> (ISO 639-1 code or None, confidence 0..1)
Detector = Callable[[str], "tuple[str | None, float]"]
MIN_CHARS = 20  # shorter texts are too ambiguous to hold for their language


class LanguageCheck:
    name = "language"

    def __init__(self, detect: Detector) -> None:
        self.detect = detect

    def run(self, item: Inspection) -> Iterable[Finding]:
        language, confidence = self.detect(item.draft.text)
        if language is None:
            return
        item.facts["language"] = language
        allowed = item.policy.languages
        if (
            allowed and language not in allowed
            and len(item.draft.text) >= MIN_CHARS
            and confidence >= item.policy.thresholds.language_confidence
        ):
            yield finding(
                self.name, Action.HOLD, "foreign_language",
                f"written in {language!r} ({confidence:.0%} sure); the site takes "
                f"{', '.join(allowed)}", round(confidence, 3),
            )
