"""de Gibert et al. (ALW2 2018): sentences from Stormfront forum posts labelled hate / noHate."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

from corpora import Reader, Row, Source

METADATA = "annotations_metadata.csv"

SOURCE = Source(
    name="stormfront",
    repo="Vicomtech/hate-speech-dataset",
    commit="b802137e8314c38a8d4faa965f9908d6c8e7a84d",
    files=(METADATA, "all_files/<file_id>.txt (one per sentence, 10,944 named in the metadata)"),
    licence=(
        "CC BY-SA 3.0 ES (LICENSE and README.md: 'licensed under the Creative Commons "
        "Attribution-ShareAlike 3.0 Spain License')"
    ),
    languages=("en",),
    domain="forum",
    description=(
        "10,944 English sentences from posts on Stormfront, a white-supremacist forum, each "
        "labelled by trained annotators as hate speech or not (with 'relation' where only two "
        "or more sentences together are hateful)."
    ),
    label_mapping=(
        "hate -> abusive (identity_hate=1: the guidelines define hate speech as an attack on "
        "a group for its identity); noHate -> civil (identity_hate=0, other classes unknown); "
        "relation and idk/skip -> left out, as are fragments with fewer than two words "
        "(list numbers, '88', '14': forum codes the sentence-level labels call noHate)."
    ),
    notes=(
        "All annotated sentences are read from all_files/ (the authors' sampled_train/ and "
        "sampled_test/ folders are balanced subsets of the same sentences). The source's "
        "tokenisation is undone ('wo n't' -> 'won't', no space before punctuation). noHate "
        "sentences still carry the forum's ideology: hard negatives, not neutral text."
    ),
)


_CONTRACTIONS = re.compile(r" (n't|'s|'re|'m|'ve|'ll|'d)\b", re.IGNORECASE)
_BEFORE = re.compile(r" ([,.!?;:%)\]])")
_AFTER = re.compile(r"([(\[]) ")


def _detokenise(text: str) -> str:
    """The sentences come tokenised ("wo n't go , ok ?"); put the spaces back as written."""
    text = re.sub(r"\s+", " ", text).strip()
    text = _CONTRACTIONS.sub(r"\1", text)
    text = _BEFORE.sub(r"\1", text)
    return _AFTER.sub(r"\1", text)


def load(read: Reader) -> Iterator[Row]:
    table = csv.DictReader(io.StringIO(read(METADATA).decode("utf-8")))
    for record in table:
        label = record["label"]
        if label not in ("hate", "noHate"):
            continue
        file_id = record["file_id"]
        text = _detokenise(read(f"all_files/{file_id}.txt").decode("utf-8", "replace"))
        if len(re.findall(r"[^\W\d_]{2,}", text)) < 2:
            continue  # fragments such as "88", "14", "2." carry no label of their own
        if label == "hate":
            classes = {"identity_hate": 1, "spam": 0}
            yield Row(f"all:{file_id}", text, "en", "abusive", classes, label)
        else:
            yield Row(f"all:{file_id}", text, "en", "civil", {"identity_hate": 0, "spam": 0}, label)
