"""Folding disguised spellings so word lists catch them, without substring matches."""

from __future__ import annotations

import pytest

from rostra.moderation.textfold import WordList, fold_tokens


@pytest.mark.parametrize(("text", "word"), [
    ("You are an 1d10t!!", "idiot"),
    ("f.u.c.k off", "fuck"),
    ("f u c k off", "fuck"),
    ("FUUUUCK", "fuck"),
    ("іdіоt", "idiot"),  # Cyrillic і and о
    ("ｉｄｉｏｔ", "idiot"),  # fullwidth
    ("Idíót", "idiot"),  # accents
    ("sh!t happens", "shit"),
    ("xуй", "хуй"),  # Latin x with Cyrillic у, against a Cyrillic list entry
])
def test_it_catches_disguised_words(text: str, word: str) -> None:
    assert WordList((word,)).matches(fold_tokens(text)) == [word]


def test_it_matches_whole_words_only() -> None:
    words = WordList(("ass",))
    assert words.matches(fold_tokens("a classic assessment of the class")) == []
    assert words.matches(fold_tokens("what an ass")) == ["ass"]


def test_it_matches_phrases() -> None:
    words = WordList(("go to hell",))
    assert words.matches(fold_tokens("Go   to h3ll, all of you")) == ["go to hell"]
    assert words.matches(fold_tokens("go to the shop")) == []


def test_it_leaves_numbers_alone() -> None:
    assert fold_tokens("In 2024 we had 5 cats") == ("in", "2024", "we", "had", "5", "cats")
