"""Ousidhoum et al. (EMNLP 2019) MLMA: English and French tweets, hostility type and target."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator

from corpora import Reader, Row, Source
from corpora._text import clean_tweet, collapse_mentions

ARCHIVE = "hate_speech_mlma.zip"
MEMBERS = (
    ("en", "hate_speech_mlma/en_dataset_with_stop_words.csv"),
    ("fr", "hate_speech_mlma/fr_dataset.csv"),
)
PROTECTED = {"origin", "gender", "sexual_orientation", "religion", "disability"}

SOURCE = Source(
    name="mlma",
    repo="HKUST-KnowComp/MLMA_hate_speech",
    commit="479836984aebfbd8a0270ca92018980f745e4c44",
    files=(ARCHIVE,),
    licence="MIT (LICENSE in the repository: 'MIT License, Copyright (c) 2019 HKUST-KnowComp')",
    languages=("en", "fr"),
    domain="tweets",
    description=(
        "Tweets found with hate-speech keywords, 5,647 English and 4,014 French (the Arabic "
        "part is left to the Arabic sources), labelled by crowd workers (labels kept where "
        "two of three agreed) for hostility type (normal, offensive, abusive, hateful, "
        "disrespectful, fearful; several may apply), directness, target attribute and group."
    ),
    label_mapping=(
        "Following the README's own binary use ('single-labeled normal instances non-toxic, "
        "all the other instances toxic'): sentiment exactly 'normal' -> civil (all classes 0); "
        "any other sentiment -> abusive; identity_hate=1 where the sentiment includes "
        "'hateful' and the target attribute is origin, gender, sexual_orientation, religion "
        "or disability, otherwise unknown. The English 'with_stop_words' file is used (the "
        "other drops stop words); the French file is lower-cased by the source."
    ),
    notes=(
        "Literal '\\u2026' truncation marks, 'rt @user' prefixes and '@url' placeholders are "
        "removed. Mixed labels such as 'offensive_normal' count as abusive, as the authors did."
    ),
)

_ESCAPED = re.compile(r"\\u([0-9a-fA-F]{4})")
_URL_TOKEN = re.compile(r"@url\b", re.IGNORECASE)


def _clean(text: str) -> str:
    text = _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text)
    text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")  # emoji pairs
    text = _URL_TOKEN.sub(" ", text)
    text = re.sub(r"^rt\s+(?=@)", "", text.strip(), flags=re.IGNORECASE)
    text = collapse_mentions(clean_tweet(text))
    return text.rstrip("…").strip()


def load(read: Reader) -> Iterator[Row]:
    archive = zipfile.ZipFile(io.BytesIO(read(ARCHIVE)))
    for lang, member in MEMBERS:
        table = csv.DictReader(io.StringIO(archive.read(member).decode("utf-8")))
        for record in table:
            sentiment = record["sentiment"].strip()
            text = _clean(record["tweet"])
            rid = f"{lang}:{record['HITId']}"
            original = f"{sentiment}|{record['directness']}|{record['target']}|{record['group']}"
            if sentiment == "normal":
                zeros = {c: 0 for c in ("threat", "identity_hate", "insult", "profanity", "spam")}
                yield Row(rid, text, lang, "civil", zeros, original)
            else:
                classes: dict[str, int | None] = {"spam": 0}
                if "hateful" in sentiment.split("_") and record["target"] in PROTECTED:
                    classes["identity_hate"] = 1
                yield Row(rid, text, lang, "abusive", classes, original)
