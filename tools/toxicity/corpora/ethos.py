"""ETHOS (Mollas et al. 2022): English YouTube and Reddit comments labelled for hate speech."""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterator

from corpora import Reader, Row, Source

BINARY = "ethos/ethos_data/Ethos_Dataset_Binary.csv"
MULTI = "ethos/ethos_data/Ethos_Dataset_Multi_Label.csv"
IDENTITIES = ("gender", "race", "national_origin", "disability", "religion", "sexual_orientation")

SOURCE = Source(
    name="ethos",
    repo="intelligence-csd-auth-gr/Ethos-Hate-Speech-Dataset",
    commit="705258e118ce9611ebbd5ab2a4841b0066547293",
    files=(BINARY, MULTI),
    licence="GPL-3.0 (LICENSE in the repository; README: 'License: GNU GPLv3')",
    languages=("en",),
    domain="youtube",
    description=(
        "998 English comments from YouTube and Reddit, each rated by several Figure Eight "
        "workers; isHate is the share who judged it hate speech. The 433 hateful ones are also "
        "rated for violence, directed vs generalised, and six target categories."
    ),
    label_mapping=(
        "isHate >= 0.5 -> abusive (the README's split: 565 without hate speech, 433 with); "
        "from the multi-label file, violence >= 0.5 -> threat=1 (else 0), any of gender, race, "
        "national_origin, disability, religion, sexual_orientation >= 0.5 -> identity_hate=1 "
        "(else 0), directed_vs_generalized >= 0.5 (aimed at a person) -> insult=1; "
        "isHate < 0.5 -> civil (threat=0, identity_hate=0; insult and profanity unknown: a "
        "non-hateful comment may still be rude)."
    ),
    notes="Domain is YouTube and Reddit comments together; entities decoded, whitespace collapsed.",
)


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(text)).strip()


def _table(read: Reader, path: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(read(path).decode("utf-8")), delimiter=";"))


def load(read: Reader) -> Iterator[Row]:
    fine = {_clean(r["comment"]): r for r in _table(read, MULTI)}
    for n, record in enumerate(_table(read, BINARY)):
        text = _clean(record["comment"])
        share = float(record["isHate"])
        original = f"isHate={share:.2f}"
        if share >= 0.5:
            classes: dict[str, int | None] = {"spam": 0}
            extra = fine.get(text)
            if extra is not None:
                classes["threat"] = int(float(extra["violence"]) >= 0.5)
                classes["identity_hate"] = int(any(float(extra[k]) >= 0.5 for k in IDENTITIES))
                if float(extra["directed_vs_generalized"]) >= 0.5:
                    classes["insult"] = 1
                original += f" violence={float(extra['violence']):.2f}"
            yield Row(f"all:{n}", text, "en", "abusive", classes, original)
        else:
            classes = {"threat": 0, "identity_hate": 0, "spam": 0}
            yield Row(f"all:{n}", text, "en", "civil", classes, original)
