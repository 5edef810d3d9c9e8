"""OffensEval-TR 2020 (Çöltekin, LREC 2020; SemEval-2020 Task 12, Turkish): Turkish tweets labelled
offensive or not."""

from __future__ import annotations

import re
from collections.abc import Iterator

from corpora import Reader, Row, Source
from corpora._text import clean_tweet, collapse_mentions

SOURCE = Source(
    name="offenseval_tr",
    repo="Nickisdope/11785_Baseline_Implementation",
    commit="284e7696fa58705f3dce6020049b731d2ac8d04e",
    files=(
        "offenseval-tr-training-v1.tsv",
        "offenseval-tr-testset-v1.tsv",
        "offenseval-tr-labela-v1.tsv",
    ),
    licence=(
        "CC BY (the corpus's own terms, as distributed by its author at "
        "https://coltekin.github.io/offensive-turkish/ and quoted in the Hugging Face dataset card "
        "huggingface/datasets datasets/offenseval2020_tr/README.md: 'The annotations are distributed "
        "under the terms of Creative Commons Attribution License (CC-BY)', linking "
        "https://creativecommons.org/licenses/by/2.0/). The repository read here is an unmodified "
        "copy of the three release files (no licence of its own; nothing else of it is used)."
    ),
    languages=("tr",),
    domain="tweets",
    description=(
        "35,284 randomly sampled Turkish tweets (2018-2019) annotated by trained annotators "
        "following the OffensEval/GermEval scheme; 31,756 training and 3,528 test tweets with "
        "sub-task A labels (the official SemEval-2020 Turkish data)."
    ),
    label_mapping=(
        "OFF (offensive: profanity or a targeted offence, not separated in the release) -> abusive "
        "(finer classes unknown, spam 0); NOT -> civil (all classes 0)."
    ),
    notes=(
        "Handles were already '@USER' and links 'URL' in the release; both are normalised (@user, "
        "URL dropped) and runs of leading handles collapsed. Test rows carry ids 'test:ID'. The "
        "files have no header line."
    ),
)

_URL_TOKEN = re.compile(r"\bURL\b")


def _text(raw: str) -> str:
    return collapse_mentions(clean_tweet(_URL_TOKEN.sub("", raw)))


def _row(row_id: str, text: str, label: str) -> Row:
    if label == "OFF":
        return Row(row_id, _text(text), "tr", "abusive", {"spam": 0}, "OFF")
    if label == "NOT":
        zeros = {c: 0 for c in ("threat", "identity_hate", "insult", "profanity", "spam")}
        return Row(row_id, _text(text), "tr", "civil", zeros, "NOT")
    raise ValueError(f"unknown label {label!r}")


def _lines(data: bytes) -> list[str]:
    return [line for line in data.decode("utf-8").split("\n") if line.strip()]


def load(read: Reader) -> Iterator[Row]:
    for line in _lines(read("offenseval-tr-training-v1.tsv")):
        tweet_id, text, label = line.rstrip("\r").split("\t")
        yield _row(f"train:{tweet_id}", text, label)
    gold = dict(line.rstrip("\r").split(",") for line in _lines(read("offenseval-tr-labela-v1.tsv")))
    for line in _lines(read("offenseval-tr-testset-v1.tsv")):
        tweet_id, text = line.rstrip("\r").split("\t")
        yield _row(f"test:{tweet_id}", text, gold[tweet_id])
