"""Davidson et al. (ICWSM 2017): English tweets labelled hate speech / offensive / neither."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from corpora import Reader, Row, Source
from corpora._text import clean_tweet, collapse_mentions

SOURCE = Source(
    name="davidson",
    repo="t-davidson/hate-speech-and-offensive-language",
    commit="cb50f7e9eb855a99abc51423bf40df0e26d6fe30",
    files=("data/labeled_data.csv",),
    licence="MIT (LICENSE in the repository)",
    languages=("en",),
    domain="tweets",
    description=(
        "24,783 English tweets found by a hate-speech lexicon, each labelled by three or "
        "more CrowdFlower workers as hate speech, offensive language or neither."
    ),
    label_mapping=(
        "class 0 hate speech -> abusive (identity_hate=1); class 1 offensive language -> "
        "abusive (finer classes unknown: the set mixes slurs at women with swearing); "
        "class 2 neither -> civil (all classes 0)."
    ),
    notes="Retweet prefixes, handles and links removed (clean_tweet).",
)


def load(read: Reader) -> Iterator[Row]:
    table = csv.DictReader(io.StringIO(read("data/labeled_data.csv").decode("utf-8")))
    for record in table:
        text = collapse_mentions(clean_tweet(record["tweet"]))
        cls = int(record["class"])
        if cls == 0:
            yield Row(record[""], text, "en", "abusive", {"identity_hate": 1}, "hate_speech")
        elif cls == 1:
            yield Row(record[""], text, "en", "abusive", {"identity_hate": 0, "spam": 0}, "offensive_language")
        else:
            zeros = {c: 0 for c in ("threat", "identity_hate", "insult", "profanity", "spam")}
            yield Row(record[""], text, "en", "civil", zeros, "neither")
