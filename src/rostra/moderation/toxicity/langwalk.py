"""py3langid's identifier with a cheaper walk of its byte automaton, word by word.

py3langid counts a text's features by walking a DFA one byte at a time in Python, over a
table too large for the CPU's caches: about a tenth of a post's CPU. The walk from a
given state over a given word always ends in the same state with the same features, and
comments are made of words that recur, so each (state, word) is walked once and kept.
The features come out in the same order with the same counts, so the scores are the
library's to the last bit (tests/moderation/test_language_walk.py).
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from py3langid.langid import (  # type: ignore[import-untyped]
    MODEL_FILE,
    LanguageIdentifier,
    visit_counts,
)

log = logging.getLogger("rostra.moderation")

# (state, word) walks kept, about 320 bytes each (6 MB). Cleared when full: a few
# thousand words make most of any language's text.
MAX_WORDS = 20_000
# Texts the walk is checked on when the model loads (scripts, spaces, case, bytes).
_SELF_CHECK = (
    "The council approved the new tram line, about time.", "  double  spaces\nand lines ",
    "Zastupiteľstvo konečne schválilo novú trať.", "Городской совет одобрил линию.",
    "시의회가 마침내 새 트램 노선을 승인했습니다.", "وافق مجلس المدينة على خط الترام.",
    "MIXED Case 123 :-) 👍🏽", "", " ", "a",
)


class WordWalkIdentifier(LanguageIdentifier):  # type: ignore[misc]  # py3langid is untyped
    """LanguageIdentifier whose feature counts come from kept (state, word) walks."""

    __slots__ = ("_spaces", "_words")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._words: dict[tuple[int, bytes], tuple[int, tuple[int, ...]]] = {}
        self._spaces: dict[int, tuple[int, tuple[int, ...]]] = {}

    def _step(self, state: int, data: bytes) -> tuple[int, tuple[int, ...]]:
        """The state after walking ``data`` from ``state``, and the features it passed."""
        nextmove, rowbase, output = self.tk_nextmove, self._rowbase, self.tk_output
        found = []
        for letter in data:
            state = nextmove[rowbase[state] + letter]
            feature = output[state]
            if feature >= 0:
                found.append(feature)
        return state, tuple(found)

    def visit_counts(self, text: bytes) -> Counter[int] | None:
        """py3langid's visit_counts(text): the same counts, in the same order."""
        words, spaces = self._words, self._spaces
        if len(words) > MAX_WORDS or len(spaces) > MAX_WORDS:
            words.clear()
            spaces.clear()
        state = 0
        found: list[int] = []
        extend = found.extend
        parts = text.split(b" ")
        for n, word in enumerate(parts):
            if n:
                walked = spaces.get(state)
                if walked is None:
                    walked = spaces[state] = self._step(state, b" ")
                state = walked[0]
                extend(walked[1])
            if word:
                key = (state, word)
                walked = words.get(key)
                if walked is None:
                    walked = words[key] = self._step(state, word)
                state = walked[0]
                extend(walked[1])
        return Counter(found) if found else None

    def _raw_score(self, text: bytes) -> Any:
        visits = self.visit_counts(text)
        if visits:
            return self._sparse_score(visits, self.nb_ptc)
        return super()._raw_score(text)  # no features: the library's own answer

    def agrees_with_library(self) -> bool:
        """Whether this walk counts as py3langid's visit_counts does, on a few texts."""
        for text in _SELF_CHECK:
            data = self._encode(text)
            mine = self.visit_counts(data)
            theirs = visit_counts(self.tk_nextmove, self._rowbase, self.tk_output, data)
            if mine != theirs or (mine and list(mine.items()) != list(theirs.items())):
                return False
        return True


def load_identifier(languages: tuple[str, ...] | None) -> Any:
    """py3langid's identifier over its shipped model, normalised probabilities, restricted
    to ``languages`` (None: all): the word walk's, unless a py3langid release walks
    differently, then the library's own."""
    identifier = WordWalkIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    if not identifier.agrees_with_library():
        log.warning("py3langid walks its automaton differently from ours; using its own")
        identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    if languages is not None:
        identifier.set_languages(list(languages))
    return identifier
