"""Gao & Huang (RANLP 2017): English user comments on Fox News articles, hateful or not."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator

from corpora import Reader, Row, Source

PATH = "fox-news-comments.json"

SOURCE = Source(
    name="foxnews",
    repo="sjtuprog/fox-news-comments",
    commit="914b6bcdff380b16b6a11818e4760529fe23f2f3",
    files=(PATH,),
    licence="MIT (LICENSE in the repository; README: 'The dataset is under MIT License.')",
    languages=("en",),
    domain="news",
    description=(
        "1,528 user comments under 10 Fox News articles (2016), 435 labelled hateful and "
        "1,093 non-hateful by two trained annotators following the paper's guidelines "
        "(AnnotationGuidelineswithExamples.pdf)."
    ),
    label_mapping=(
        "label 1 (hateful) -> abusive (finer classes unknown); label 0 (non-hateful) -> civil "
        "with identity_hate=0 only: the source's clean class still holds some rude comments "
        "('Ignorant troll.') and a few spam-like ones, so insult/profanity/spam stay unknown."
    ),
    notes="Comment text only (article title and neighbouring comments are not used).",
)


def load(read: Reader) -> Iterator[Row]:
    for n, line in enumerate(read(PATH).decode("utf-8").splitlines()):
        if not line.strip():
            continue
        record = json.loads(line)
        text = re.sub(r"\s+", " ", html.unescape(record["text"])).strip()
        if int(record["label"]) == 1:
            yield Row(f"all:{n}", text, "en", "abusive", {}, "hateful")
        else:
            yield Row(f"all:{n}", text, "en", "civil", {"identity_hate": 0}, "non-hateful")
