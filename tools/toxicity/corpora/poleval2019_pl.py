"""PolEval 2019 Task 6 (Ptaszynski, Pieciukiewicz, Dybała): Polish tweets labelled harmful
(cyberbullying or hate speech) or not, by expert annotators."""

from __future__ import annotations

import re
from collections.abc import Iterator

from corpora import Reader, Row, Source
from corpora._text import clean_tweet, collapse_mentions

_FILES = {
    "train": ("data/training_set_clean_only_text.txt", "data/training_set_clean_only_tags.txt"),
    "test": (
        "data/evaluation/test_set_clean_only_text.txt",
        "data/evaluation/test_set_clean_only_tags.txt",
    ),
}

SOURCE = Source(
    name="poleval2019_pl",
    repo="aslucki/NLP-PolEval",
    commit="fdd73e6a88df9d58df02807f19ab99232a12e11e",
    files=tuple(path for pair in _FILES.values() for path in pair),
    licence=(
        "BSD-3-Clause, inferred: the dataset's official repository, ptaszynski/cyberbullying-Polish "
        "(commit f0181daf068833376954488e3b9e7360dd0891ef, 'Dataset for Automatic Cyberbullying "
        "Detection in Polish Laguage / Applied in PolEval 2019 Task 6'), carries a BSD 3-Clause "
        "LICENSE (Copyright (c) 2019, Michal Ptaszynski), and the KLEJ benchmark's redistribution "
        "as 'CBD' is listed as bsd-3-clause (huggingface/datasets datasets/cdt/README.md). That "
        "repository holds only tweet ids and tags; the texts come from the PolEval 2019 release "
        "(http://2019.poleval.pl/task6/task_6-1.zip), which states no licence of its own. The "
        "repository read here is an unmodified copy of that release (its tag files are "
        "byte-identical to the official ones); it has no licence itself."
    ),
    languages=("pl",),
    domain="tweets",
    description=(
        "11,041 Polish tweets from public Twitter discussions (10,041 training, 1,000 test), "
        "annotated by experts as harmful (cyberbullying towards private persons or hate speech "
        "towards public persons and groups) or not; handles anonymised as @anonymized_account."
    ),
    label_mapping=(
        "Task 6-1 tag 1 (harmful) -> abusive (finer classes unknown: task 6-2 separates "
        "cyberbullying from hate speech by target, not by type; spam 0); tag 0 -> civil (all "
        "classes 0)."
    ),
    notes=(
        "Ids are 'train:N' / 'test:N' (line numbers). @anonymized_account -> @user, runs of leading "
        "handles collapsed, links removed. The texts still contain the escape '\\n' written by the "
        "release for line breaks; it is turned into a space."
    ),
)


def _lines(data: bytes) -> list[str]:
    lines = data.decode("utf-8").split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def _text(raw: str) -> str:
    raw = raw.replace("\\n", " ").replace("@anonymized_account", "@user")
    return collapse_mentions(clean_tweet(raw))


def load(read: Reader) -> Iterator[Row]:
    for split, (text_path, tag_path) in _FILES.items():
        texts, tags = _lines(read(text_path)), _lines(read(tag_path))
        assert len(texts) == len(tags), (split, len(texts), len(tags))
        for number, (raw, tag) in enumerate(zip(texts, tags)):
            tag = tag.strip()
            if tag == "1":
                yield Row(f"{split}:{number}", _text(raw), "pl", "abusive", {"spam": 0}, "harmful")
            elif tag == "0":
                zeros = {c: 0 for c in ("threat", "identity_hate", "insult", "profanity", "spam")}
                yield Row(f"{split}:{number}", _text(raw), "pl", "civil", zeros, "non-harmful")
            else:
                raise ValueError(f"unknown tag {tag!r} ({split}:{number})")
