"""Folding text so that disguised words compare equal to the words on a list.

``fold_tokens`` turns a text into the tokens word lists are matched against:
Unicode NFKC, case folding, accents dropped, look-alike letters from other scripts
(Cyrillic "а", Greek "ο", fullwidth forms...) mapped to Latin, leetspeak digits and
symbols inside words mapped to letters, letters spaced or dotted apart ("f.u.c.k")
joined, and runs of one letter collapsed ("fuuuck"). The same folding is applied to
the list entries, so both sides meet in the middle.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

# Letters from other scripts that look like Latin ones; folding them makes mixed-script
# spellings ("xуй" with a Latin x, "іdіоt" with Cyrillic і and о) meet their list entry.
HOMOGLYPHS = str.maketrans({
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o",
    "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "і": "i", "ї": "i", "ј": "j",
    "ѕ": "s", "ԁ": "d", "ɡ": "g", "һ": "h", "ӏ": "l", "ԛ": "q", "ԝ": "w",
    # Greek
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
    "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "γ": "y", "ω": "w",
    # Latin look-alikes NFKC leaves alone
    "ı": "i", "ł": "l", "ø": "o", "đ": "d", "ß": "ss", "æ": "ae", "œ": "oe",
})

# Leetspeak: only applied inside tokens that also contain letters, so numbers stay.
LEET = str.maketrans({
    "0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g",
    "@": "a", "$": "s", "!": "i", "|": "i", "€": "e", "+": "t",
})

# A token: letters, digits and the symbols leetspeak uses, joined by nothing else.
TOKEN = re.compile(r"[\w@$!|€+]+", re.UNICODE)
RUNS = re.compile(r"(.)\1+")


def _first_of_run(match: re.Match[str]) -> str:
    return match[1]  # a function: a "\1" template is parsed again for every match


def _strip_accents(text: str) -> str:
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


LEET_CHARS = re.compile(r"[0134578 9@$!|€+]".replace(" ", ""))
HAS_LETTER = re.compile(r"[^\W\d_]")


def fold_word(token: str) -> str:
    """One token folded: homoglyphs, leetspeak (when it has letters), runs collapsed."""
    token = token.translate(HOMOGLYPHS)
    if LEET_CHARS.search(token) and HAS_LETTER.search(token):
        token = token.translate(LEET)
    token = token.replace("_", "")
    return RUNS.sub(_first_of_run, token)


@lru_cache(maxsize=64)
def fold_tokens(text: str) -> tuple[str, ...]:
    """The folded tokens of ``text``, in order. Remembered for the last few texts:
    several checks fold the same comment."""
    text = _strip_accents(unicodedata.normalize("NFKC", text).casefold())
    if not text.isascii():  # every homoglyph is outside ASCII
        text = text.translate(HOMOGLYPHS)
    raw = TOKEN.findall(text)
    # Most texts have no leetspeak character at all: then no token is searched for one.
    leet = LEET_CHARS.search(text) is not None
    tokens: list[str] = []
    # Letters spaced or dotted apart ("f u c k", "f.u.c.k") come out as one-character
    # tokens: runs of three or more are joined into one word.
    run: list[str] = []
    for token in raw:
        if len(token) == 1 and not token.isdigit():
            run.append(token)
            continue
        if run:
            tokens.extend(["".join(run)] if len(run) >= 3 else run)
            run = []
        if leet and LEET_CHARS.search(token) and HAS_LETTER.search(token):
            # "!" or "|" ending a word is punctuation ("1d10t!!"), inside one a letter.
            token = token.strip("!|+").translate(LEET)
        tokens.append(token)
    if run:
        tokens.extend(["".join(run)] if len(run) >= 3 else run)
    # Collapse letter runs once over the whole text: tokens are separated by spaces.
    joined = RUNS.sub(_first_of_run, " ".join(tokens).replace("_", ""))
    return tuple(t for t in joined.split(" ") if t)


def fold_phrase(entry: str) -> tuple[str, ...]:
    """A list entry (a word or a phrase) as the token sequence it matches."""
    return fold_tokens(entry)


class WordList:
    """Exact-word matching of folded phrases; built once per list, matched per comment."""

    def __init__(self, entries: tuple[str, ...]) -> None:
        self.entries = entries
        self._by_first: dict[str, list[tuple[str, ...]]] = {}
        self._original: dict[tuple[str, ...], str] = {}
        for entry in entries:
            phrase = fold_phrase(entry)
            if phrase:
                self._by_first.setdefault(phrase[0], []).append(phrase)
                self._original.setdefault(phrase, entry)

    def __bool__(self) -> bool:
        return bool(self._by_first)

    def matches(self, tokens: Sequence[str]) -> list[str]:
        """The list entries found in ``tokens`` (as written on the list), each once."""
        found: list[str] = []
        for i, token in enumerate(tokens):
            for phrase in self._by_first.get(token, ()):
                if tuple(tokens[i : i + len(phrase)]) == phrase:
                    entry = self._original[phrase]
                    if entry not in found:
                        found.append(entry)
        return found
