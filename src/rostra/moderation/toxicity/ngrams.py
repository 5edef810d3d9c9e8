"""Hashed character and word n-grams of a comment, for the linear heads that read spelling.

Sentence encoders read meaning; they read a new slur, a disguised swear word or a
language they were not trained on poorly. Character n-grams of the folded text carry
exactly that, cheaply: this module turns a comment into a sparse vector of at most
`2**bits` buckets (character 2- to 5-grams across word boundaries, word unigrams and
bigrams), counts log-scaled and the vector L2-normalised, so a short reply and a long
essay land on the same scale. The same function runs in training and at run time.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from numpy.typing import NDArray

DEFAULT_BITS = 18
CHAR_ORDERS = (2, 3, 4, 5)
# What the heads read of a comment: the tone shows long before 2,000 characters, and the
# cost grows with length.
MAX_CHARS = 2000

# Latin look-alikes from other scripts, mapped only inside a word that also has Latin
# letters: "іdіоt" with Cyrillic і and о is an English word in disguise, while a
# Russian word keeps its own letters.
_HOMOGLYPHS = str.maketrans({
    "а": "a", "в": "b", "е": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
    "с": "c", "т": "t", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s",
    "α": "a", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t",
    "υ": "u", "χ": "x",
})
_LEET = str.maketrans({
    "0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s",
    "!": "i", "€": "e",
})
_WORD = re.compile(r"[^\W_]+(?:[@$!€*.'’-][^\W_]+)*|[@$!€]\w+", re.UNICODE)
_LATIN = re.compile(r"[a-z]")
_NON_LATIN_LETTER = re.compile(r"[^\x00-\x7f]")
_RUNS = re.compile(r"(.)\1{2,}")
_DIGITS = re.compile(r"\d")
_LEETISH = re.compile(r"[0134579@$!€]")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_MASKED = re.compile(r"[*#]+")


def _strip_accents(text: str) -> str:
    if text.isascii():
        return text
    out = []
    for ch in unicodedata.normalize("NFKD", text):
        if not unicodedata.combining(ch):
            out.append(ch)
    return "".join(out)


def _fold_word(word: str) -> str:
    if _LEETISH.search(word) and not word.isdigit():
        word = word.translate(_LEET)
    if _NON_LATIN_LETTER.search(word) and _LATIN.search(word):
        word = word.translate(_HOMOGLYPHS)
    word = _MASKED.sub("*", word).replace(".", "").replace("'", "").replace("’", "")
    word = _DIGITS.sub("0", word)
    return _RUNS.sub(r"\1\1", word)


def tokens(text: str) -> list[tuple[str, str]]:
    """(word as written, lower-cased; word as the heads read it) for each word of a comment.

    The heads read: NFKC, case folded, accents dropped, links replaced by a marker,
    leetspeak and look-alike letters undone, long letter runs ("soooo") cut to two,
    every digit read as 0.
    """
    text = unicodedata.normalize("NFKC", text[:MAX_CHARS]).casefold()
    text = _URL.sub(" httplink ", text)
    return [(w, _fold_word(_strip_accents(w))) for w in _WORD.findall(text)]


def fold_words(text: str) -> list[str]:
    """The words of a comment as the heads read them (see `tokens`)."""
    return [folded for _, folded in tokens(text)]


@dataclass(frozen=True, slots=True)
class SparseRow:
    """One comment's n-gram vector: bucket indices (unique, sorted) and their values."""

    index: NDArray[np.int64]
    value: NDArray[np.float32]
    words: tuple[str, ...]  # the folded words, for explaining a score


_M1 = np.uint64(0x9E3779B97F4A7C15)
_M2 = np.uint64(0xBF58476D1CE4E5B9)


def _mix(h: NDArray[np.uint64]) -> NDArray[np.uint64]:
    # splitmix64's finaliser: spreads nearby polynomial hashes over all buckets.
    h = h ^ (h >> np.uint64(30))
    h = h * _M2
    return h ^ (h >> np.uint64(31))


def _char_hashes(codes: NDArray[np.uint64], n: int) -> NDArray[np.uint64]:
    length = len(codes) - n + 1
    if length <= 0:
        return np.zeros(0, dtype=np.uint64)
    h = np.full(length, np.uint64(n) * _M1, dtype=np.uint64)
    for k in range(n):
        h = h * np.uint64(1_000_003) + codes[k : k + length]
    return _mix(h)


def _word_hash(word: str, salt: int) -> int:
    return zlib.crc32(word.encode("utf-8"), salt)


def featurize(text: str, bits: int = DEFAULT_BITS) -> SparseRow:
    """The hashed n-gram vector of one comment (see the module's docstring)."""
    words = fold_words(text)
    if not words:
        return SparseRow(np.zeros(0, np.int64), np.zeros(0, np.float32), ())
    joined = " " + " ".join(words) + " "
    with np.errstate(over="ignore"):
        codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        parts = [_char_hashes(codes, n) for n in CHAR_ORDERS]
    shift = np.uint64(64 - bits)
    hashed = [p >> shift for p in parts if len(p)]
    word_ids = [_word_hash(w, 1) for w in words]
    word_ids += [_word_hash(a + " " + b, 2) for a, b in pairwise(words)]
    if word_ids:
        hashed.append((np.array(word_ids, dtype=np.uint64) * _M1) >> shift)
    if not hashed:
        return SparseRow(np.zeros(0, np.int64), np.zeros(0, np.float32), tuple(words))
    index, counts = np.unique(np.concatenate(hashed).astype(np.int64), return_counts=True)
    value = np.log1p(counts.astype(np.float32))
    value /= np.float32(np.linalg.norm(value))
    return SparseRow(index, value, tuple(words))


def word_buckets(word: str, bits: int = DEFAULT_BITS) -> NDArray[np.int64]:
    """The buckets one folded word fills on its own (its character n-grams with the
    spaces around it, and its unigram): how much a word pushes a head's score."""
    row = featurize(word, bits)
    return row.index


# Comments whose hashed vectors pin the featuriser down: the shipped model records their
# digest, and a change to folding or hashing that would silently scramble the heads'
# weights fails a test instead.
CANARIES = (
    "You are an 1d10t!!! Sooooo STUPID, іdіоt.",
    "Čo to je? Ты дурак. Das ist großartig — http://example.com/x",
    "مقال رائع 👍 #news @user 12345",
)


def fingerprint(bits: int = DEFAULT_BITS) -> str:
    """A digest of the canaries' vectors under this featuriser."""
    import hashlib

    digest = hashlib.sha256()
    for text in CANARIES:
        row = featurize(text, bits)
        digest.update(row.index.astype("<i8").tobytes())
        digest.update(np.round(row.value, 5).astype("<f4").tobytes())
    return digest.hexdigest()[:16]
