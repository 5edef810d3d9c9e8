"""The n-gram view: how a comment is folded and hashed, the same in training and at run time."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from rostra.moderation.toxicity.heads import ShippedModel
from rostra.moderation.toxicity.ngrams import featurize, fingerprint, fold_words, tokens


@pytest.mark.parametrize(("text", "words"), [
    ("You are an 1d10t!!!", ["you", "are", "an", "idiot"]),  # leetspeak undone
    ("Sooooo STUPID", ["soo", "stupid"]),  # case folded, long runs cut to two
    ("іdіоt", ["idiot"]),  # Cyrillic look-alikes inside a Latin word
    ("Ты дурак", ["ты", "дурак"]),  # a Russian word keeps its letters
    ("Čo to je, sprostá", ["co", "to", "je", "sprosta"]),  # accents dropped
    ("see https://spam.example/x now", ["see", "httplink", "now"]),
    ("f*ck off in 2024", ["f*ck", "off", "in", "00"]),  # any number reads as 0 or 00
])
def test_it_folds_words_as_the_heads_read_them(text: str, words: list[str]) -> None:
    assert fold_words(text) == words


def test_it_keeps_each_word_as_written_for_explanations() -> None:
    assert tokens("Ty SPROSTÁ krava") == [("ty", "ty"), ("sprostá", "sprosta"), ("krava", "krava")]


def test_a_vector_has_unit_length_whatever_the_comment_length() -> None:
    for text in ("ok", "A fairly ordinary comment about the trams.", "word " * 400):
        row = featurize(text)
        assert float(np.linalg.norm(row.value)) == pytest.approx(1.0, abs=1e-5)
        assert np.all(np.diff(row.index) > 0) and row.index.min() >= 0 and row.index.max() < 2**18
    assert len(featurize("").index) == 0


def test_hashing_does_not_depend_on_the_process() -> None:
    # Python's own str hash is salted per process; the featuriser must not use it.
    code = "from rostra.moderation.toxicity.ngrams import featurize; print(featurize('Du Idiot!').index.tolist())"
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": str(seed), "PATH": ""}).stdout for seed in (1, 2)}
    assert len(runs) == 1 and runs.pop().strip() == str(featurize("Du Idiot!").index.tolist())


def test_the_shipped_model_was_trained_with_this_featuriser() -> None:
    # Changing folding or hashing scrambles what the n-gram heads' weights mean.
    assert ShippedModel.load().metadata["ngram_fingerprint"] == fingerprint()


def test_the_model_round_trips_through_bytes() -> None:
    model = ShippedModel.load()
    again = ShippedModel.from_bytes(model.to_bytes())
    assert again.heads == model.heads and again.metadata == model.metadata
    assert np.allclose(again.use3.weights, model.use3.weights, atol=1e-6)
    row = featurize("Du hirnloser Idiot")
    assert np.allclose(again.ngram.logits([row]), model.ngram.logits([row]), atol=1e-3)
