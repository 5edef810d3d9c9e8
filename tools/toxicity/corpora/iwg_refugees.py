"""Ross et al. (NLP4CMC 2016): German tweets on refugees, rated for hate speech by two experts."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from corpora import Reader, Row, Source
from corpora._text import clean_tweet, collapse_mentions

PATH = "german hatespeech refugees.csv"

SOURCE = Source(
    name="iwg_refugees",
    repo="UCSM-DUE/IWG_hatespeech_public",
    commit="e14501bcada5f2d2c5dea7a6d4bca3a873ac4a81",
    files=(PATH,),
    licence=(
        "CC BY-SA 3.0 (README.md: 'This work is licensed under a Creative Commons "
        "Attribution-ShareAlike 3.0 Unported License')"
    ),
    languages=("de",),
    domain="tweets",
    description=(
        "469 German tweets about the 2016 refugee crisis (found by hashtags such as "
        "#rapefugees), each judged hate speech or not by two expert annotators; the second "
        "also rated offensiveness from 1 (not) to 6 (very)."
    ),
    label_mapping=(
        "both experts YES -> abusive (identity_hate=1: the targets are refugees/migrants); "
        "both experts NO and expert 2 rating <= 2 -> civil (identity_hate=0, other classes "
        "unknown); the experts disagree, or agree on NO but rate it 3-6 -> left out (the "
        "source's agreement is low, kappa ~0.2)."
    ),
    notes="Small; hashtags kept (they carry the slurs), handles and links removed.",
)


def load(read: Reader) -> Iterator[Row]:
    table = csv.reader(io.StringIO(read(PATH).decode("utf-8")))
    next(table)
    for n, record in enumerate(table):
        if len(record) < 4:
            continue
        tweet, first, second, rating = record[:4]
        text = collapse_mentions(clean_tweet(tweet))
        original = f"expert1={first} expert2={second} rating={rating}"
        if first == second == "YES":
            yield Row(f"all:{n}", text, "de", "abusive", {"identity_hate": 1, "spam": 0}, original)
        elif first == second == "NO" and rating.strip() and int(rating) <= 2:
            yield Row(f"all:{n}", text, "de", "civil", {"identity_hate": 0, "spam": 0}, original)
