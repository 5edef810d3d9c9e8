"""YouTube Spam Collection (Alberto et al. 2015): comments under five music videos, spam/ham."""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterator

from corpora import Reader, Row, Source

FILES = (
    "dataset/Youtube01-Psy.csv",
    "dataset/Youtube02-KatyPerry.csv",
    "dataset/Youtube03-LMFAO.csv",
    "dataset/Youtube04-Eminem.csv",
    "dataset/Youtube05-Shakira.csv",
)

SOURCE = Source(
    name="youtube_spam",
    repo="KayhanB21/YouTube-Spam-Collection",
    commit="e1dcaf0a73d7413db175ed0e9ce72b30cc7bf8dc",
    files=FILES,
    licence=(
        "CC BY 4.0: the UCI Machine Learning Repository, which hosts the collection "
        "(https://archive.ics.uci.edu/dataset/380/youtube+spam+collection), licenses it under "
        "Creative Commons Attribution 4.0; the GitHub repository is a copy of the five UCI CSV "
        "files (its README links the UCI page) and adds no licence of its own."
    ),
    languages=("en",),
    domain="youtube",
    description=(
        "1,956 real comments (2013-2015) from the five YouTube videos Psy, Katy Perry, LMFAO, "
        "Eminem and Shakira, hand-labelled spam or legitimate (ham) by the authors; the file "
        "counts match the UCI page (350/350/438/448/370)."
    ),
    label_mapping=(
        "CLASS 1 -> spam (spam=1, others unknown); CLASS 0 -> civil (spam=0; the ham class "
        "was not checked for rudeness, so the other classes stay unknown)."
    ),
    notes=(
        "HTML markup in comments (<br />, <a> links, &#39;) is removed or decoded, links are "
        "kept as text (they are the main spam signal), byte-order marks stripped."
    ),
)

_TAG = re.compile(r"<[^>]+>")


def _clean(text: str) -> str:
    text = text.replace("<br />", " ").replace("<br>", " ")
    text = html.unescape(_TAG.sub(" ", text)).replace("\ufeff", "")
    return re.sub(r"\s+", " ", text).strip()


def load(read: Reader) -> Iterator[Row]:
    for path in FILES:
        video = path.rsplit("/", 1)[1].split("-")[1].removesuffix(".csv")
        table = csv.DictReader(io.StringIO(read(path).decode("utf-8-sig")))
        for record in table:
            text = _clean(record["CONTENT"])
            rid = f"{video}:{record['COMMENT_ID']}"
            if record["CLASS"].strip() == "1":
                yield Row(rid, text, "en", "spam", {"spam": 1}, "spam")
            else:
                yield Row(rid, text, "en", "civil", {"spam": 0}, "ham")
