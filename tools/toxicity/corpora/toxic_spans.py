"""SemEval-2021 Task 5 Toxic Spans: toxic English news-site comments from Civil Comments."""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterator

from corpora import Reader, Row, Source

SPLITS = (
    ("trial", "SemEval2021/data/tsd_trial.csv"),
    ("train", "SemEval2021/data/tsd_train.csv"),
    ("test", "SemEval2021/data/tsd_test.csv"),
)

SOURCE = Source(
    name="toxic_spans",
    repo="ipavlopoulos/toxic_spans",
    commit="beaf170538df8275c3447b2e26070f2f82e55272",
    files=tuple(path for _, path in SPLITS),
    licence=(
        "CC0 1.0 (LICENSE in the repository is the CC0 1.0 Universal text; the texts come "
        "from Civil Comments, itself released CC0)"
    ),
    languages=("en",),
    domain="news",
    description=(
        "About 10,000 English comments from the Civil Comments platform (comment sections "
        "of independent news sites, 2015-2017) that Civil Comments' crowd raters had already "
        "judged toxic; SemEval-2021 annotators then marked the toxic spans in each."
    ),
    label_mapping=(
        "Every row -> abusive with finer classes unknown: the source keeps only comments "
        "rated toxic (Civil Comments' 'toxic' mixes insults, attacks and swearing, and the "
        "span annotation does not say which). No civil rows."
    ),
    notes=(
        "One-sided: all rows are abusive. Use it for recall on news-comment style and "
        "balance it with civil news comments (e.g. foxnews non-hateful), or the model may "
        "learn that long political comments are abusive. The ACL 2022 version "
        "(ACL2022/data/toxic_spans.csv) is over 4 MiB and absent from the snapshot."
    ),
)


def load(read: Reader) -> Iterator[Row]:
    for split, path in SPLITS:
        table = csv.DictReader(io.StringIO(read(path).decode("utf-8")))
        for n, record in enumerate(table):
            text = re.sub(r"\s+", " ", html.unescape(record["text"])).strip()
            spans = "spans" if record["spans"].strip() not in ("", "[]") else "no spans"
            yield Row(f"{split}:{n}", text, "en", "abusive", {"spam": 0}, f"toxic ({spans})")
