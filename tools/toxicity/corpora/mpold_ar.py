"""MPOLD (Chowdhury et al., LREC 2020): Arabic comments on news posts on Twitter, Facebook and
YouTube, labelled offensive or not, with hate speech and vulgarity marked by an expert."""

from __future__ import annotations

import re
from collections.abc import Iterator

from corpora import Reader, Row, Source
from corpora._text import clean_tweet, collapse_mentions
from corpora._xlsx import read_rows

_FILE = "data/Arabic_offensive_comment_detection_annotation_4000_selected.xlsx"

SOURCE = Source(
    name="mpold_ar",
    repo="shammur/Arabic-Offensive-Multi-Platform-SocialMedia-Comment-Dataset",
    commit="7c5a7d23ac03adffedc907ea4a3aef5f01375c5c",
    files=(_FILE,),
    licence="Apache-2.0 (LICENSE in the repository)",
    languages=("ar",),
    domain="news",
    description=(
        "4,000 Arabic comments (Twitter 1,624, YouTube 1,592, Facebook 784) on posts of news "
        "outlets such as Al Jazeera and Al Arabiya, labelled offensive or not by three Mechanical "
        "Turk annotators (majority of two), with the offensive ones sub-typed by an expert as hate "
        "speech or vulgar."
    ),
    label_mapping=(
        "Offensive + HS -> abusive (identity_hate=1); Offensive + V (vulgar, not hate) -> abusive "
        "(profanity=1, identity_hate=0: the vulgar comments are offensive, not marked untargeted); "
        "Offensive + '-' -> abusive (identity_hate=0, profanity=0); Non-Offensive -> civil (all 0). "
        "insult and threat are not annotated for offensive comments (null); spam 0."
    ),
    notes=(
        "Read with the standard-library xlsx reader (_xlsx). '@User.IDX' anonymised handles become "
        "@user; links removed; Facebook comments lose the CSV quoting left in the cells."
    ),
)

_HANDLE = re.compile(r"@User\.IDX", re.IGNORECASE)


def _text(raw: str) -> str:
    raw = raw.strip()
    if len(raw) > 1 and raw[0] == raw[-1] == '"':
        raw = raw[1:-1].replace('""', '"')
    return collapse_mentions(clean_tweet(_HANDLE.sub("@user", raw)))


def load(read: Reader) -> Iterator[Row]:
    rows = read_rows(read(_FILE))
    header = rows[0]
    assert header[:4] == ["Id", "Platform", "Comment", "Majority_Label"], header
    for cells in rows[1:]:
        record = dict(zip(header, cells, strict=False))  # short rows: missing cells
        text = _text(record["Comment"])
        label, kind = record["Majority_Label"], record["Vulgar:V/HateSpeech:HS/None:-"].strip()
        original = f"{label}/{kind}/{record['Platform']}"
        row_id = record["Id"]
        if label == "Non-Offensive":
            zeros = {c: 0 for c in ("threat", "identity_hate", "insult", "profanity", "spam")}
            yield Row(row_id, text, "ar", "civil", zeros, original)
        elif label == "Offensive":
            classes = {
                "identity_hate": 1 if kind == "HS" else 0,
                "profanity": 1 if kind == "V" else (None if kind == "HS" else 0),
                "spam": 0,
            }
            yield Row(row_id, text, "ar", "abusive", classes, original)
        else:
            raise ValueError(f"unknown label {label!r}")
