"""BEEP! (Moon et al., SocialNLP 2020): Korean comments on entertainment news, labelled for hate
speech and social bias."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

from corpora import Reader, Row, Source

SOURCE = Source(
    name="beep_ko",
    repo="kocohub/korean-hate-speech",
    commit="f8d05dce2b22007bb149e5139c0060c68ad8f94b",
    files=("labeled/train.tsv", "labeled/dev.tsv"),
    licence=(
        "CC BY-SA 4.0 (LICENSE.md; README 'License': 'This work is licensed under a Creative "
        "Commons Attribution-ShareAlike 4.0 International License')"
    ),
    languages=("ko",),
    domain="news",
    description=(
        "9,381 comments from a Korean online entertainment-news platform (NAVER), each labelled by "
        "three annotators for hate speech (hate / offensive / none) and social bias (gender / "
        "others / none); 8,367 with public labels (train and dev), the 974 test labels are withheld."
    ),
    label_mapping=(
        "hate -> abusive (identity_hate=1 when the comment also carries gender or other social "
        "bias, 0 when it carries none); offensive (rude, sarcastic or aggressive but not hate) -> "
        "abusive (identity_hate=0 when no bias, unknown otherwise); none -> civil (all classes 0; "
        "identity_hate unknown for the 213 unoffensive comments that still carry bias). insult, "
        "threat and profanity are not annotated (null); spam 0."
    ),
    notes="Both labelled files are read (ids train:N, dev:N); test.no_label.tsv has no labels.",
)

_SPACES = re.compile(r"\s+")


def load(read: Reader) -> Iterator[Row]:
    for split in ("train", "dev"):
        data = read(f"labeled/{split}.tsv").decode("utf-8")
        table = csv.DictReader(io.StringIO(data), delimiter="\t", quoting=csv.QUOTE_NONE)
        for number, record in enumerate(table):
            text = _SPACES.sub(" ", record["comments"]).strip()
            hate, bias = record["hate"], record["bias"]
            original = f"hate={hate},bias={bias}"
            row_id = f"{split}:{number}"
            if hate == "none":
                classes = {"threat": 0, "identity_hate": 0 if bias == "none" else None,
                           "insult": 0, "profanity": 0, "spam": 0}
                yield Row(row_id, text, "ko", "civil", classes, original)
            elif hate == "hate":
                yield Row(row_id, text, "ko", "abusive",
                          {"identity_hate": 0 if bias == "none" else 1, "spam": 0}, original)
            elif hate == "offensive":
                yield Row(row_id, text, "ko", "abusive",
                          {"identity_hate": 0 if bias == "none" else None, "spam": 0}, original)
            else:
                raise ValueError(f"unknown hate label {hate!r} in {split}")
