"""Russian Distorted Toxicity (Gorbunova, HSE 2022): comments from the VKontakte pages of three
Russian news media, labelled for toxicity and for deliberately distorted words."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

from corpora import Reader, Row, Source
from corpora._text import clean_tweet, collapse_mentions

SOURCE = Source(
    name="ru_vk_toxicity",
    repo="alla-g/toxicity-detection-thesis",
    commit="651159350f42fef6187c87af732835d46b1ccf60",
    files=("toxicity_corpus/russian_distorted_toxicity.tsv",),
    licence="MIT (toxicity_corpus/DATASTATEMENT.md, section L 'Metadata': 'License: MIT')",
    languages=("ru",),
    domain="news",
    description=(
        "3,000 comments (14 Feb 2022) under posts of the VKontakte pages of Meduza, Lentach and "
        "Dozhd (1,000 latest each), labelled by one native-speaker linguistics student for toxicity "
        "(561 toxic) and for distorted spellings of abusive words ('sh!t')."
    ),
    label_mapping=(
        "toxicity 1 -> abusive (finer classes unknown: the corpus does not separate insults from "
        "obscenity; spam 0); toxicity 0 -> civil (all classes 0)."
    ),
    notes=(
        "Single annotator. VK reply links '[id123|Name]' become @user; links removed. The "
        "training_data/ files of the repository mix in other corpora (2ch/Pikabu, ok.ru) and are "
        "not read. Many comments repeat (bots); build.py keeps the first copy."
    ),
)

_VK_MENTION = re.compile(r"\[(?:id|club|public)\d+\|[^\]]*\]")


def load(read: Reader) -> Iterator[Row]:
    data = read("toxicity_corpus/russian_distorted_toxicity.tsv").decode("utf-8")
    for record in csv.DictReader(io.StringIO(data), delimiter="\t"):
        text = collapse_mentions(clean_tweet(_VK_MENTION.sub("@user", record["comments"])))
        text = re.sub(r"^@user\s*,\s*", "@user ", text)
        original = ",".join(f"{k}={record[k]}" for k in ("source", "toxicity", "distortion"))
        if record["toxicity"] == "1":
            yield Row(record["comment_id"], text, "ru", "abusive", {"spam": 0}, original)
        elif record["toxicity"] == "0":
            zeros = {c: 0 for c in ("threat", "identity_hate", "insult", "profanity", "spam")}
            yield Row(record["comment_id"], text, "ru", "civil", zeros, original)
        else:
            raise ValueError(f"unknown toxicity {record['toxicity']!r}")
