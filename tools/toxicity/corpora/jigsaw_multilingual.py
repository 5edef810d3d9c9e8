"""Jigsaw Multilingual Toxic Comment Classification (Kaggle 2020): the validation set of
Spanish, Italian and Turkish Wikipedia talk-page comments labelled toxic or not."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

from corpora import Reader, Row, Source

PATH = "input/validation.csv"

SOURCE = Source(
    name="jigsaw_multilingual",
    repo="SiddeshSambasivam/Mulitilingual-Toxic-Comment-Classification",
    commit="8b422043166456f5568729f3a97bdd06bb5fb826",
    files=(PATH,),
    licence=(
        "Original: Jigsaw / Conversation AI, Kaggle competition 'Jigsaw Multilingual Toxic "
        "Comment Classification' (2020); Jigsaw's Wikipedia talk-page toxicity sets are "
        "released as, in the words of the 2018 set's data page (quoted by the "
        "google/jigsaw_toxicity_pred dataset card and the TFDS catalogue): 'released under "
        "CC0, with the underlying comment text being governed by Wikipedia's CC-SA-3.0' "
        "(comment texts CC BY-SA 3.0, labels CC0). The copy: the repository has no LICENSE "
        "file and adds no terms; its README says it holds notebooks for the Kaggle "
        "competition, and input/validation.csv is the competition's validation.csv unchanged "
        "(8,000 rows, header id,comment_text,lang,toxic). The exact wording of the 2020 "
        "competition's data page could not be read here (Kaggle is out of reach); check it "
        "before redistributing anything built from these rows."
    ),
    languages=("es", "it", "tr"),
    domain="wikipedia",
    description=(
        "8,000 comments from the Spanish, Italian and Turkish Wikipedias' talk pages (2,500 "
        "es, 2,500 it, 3,000 tr), each rated toxic or not by crowd raters for Jigsaw's 2020 "
        "multilingual Kaggle competition (its validation split)."
    ),
    label_mapping=(
        "toxic=1 -> abusive (finer classes unknown: the set has only the one 'toxic' "
        "label, which covers insults, attacks and swearing alike); toxic=0 -> civil (all "
        "classes 0). Language from the `lang` column."
    ),
    notes=(
        "The competition's test.csv with test_labels.csv (63,812 comments in es, fr, it, pt, "
        "ru, tr) has no copy under 4 MiB in git that we found. Texts keep Wikipedia "
        "signatures and timestamps ('17:48 13 mar 2008 (UTC)'), as the source has them; "
        "runs of spaces are collapsed."
    ),
)

_ZEROS = {"threat": 0, "identity_hate": 0, "insult": 0, "profanity": 0, "spam": 0}


def load(read: Reader) -> Iterator[Row]:
    table = csv.DictReader(io.StringIO(read(PATH).decode("utf-8")))
    for record in table:
        text = re.sub(r"\s+", " ", record["comment_text"]).strip()
        lang = record["lang"].strip()
        if record["toxic"].strip() == "1":
            yield Row(f"validation:{record['id']}", text, lang, "abusive", {"spam": 0}, "toxic")
        else:
            yield Row(f"validation:{record['id']}", text, lang, "civil", dict(_ZEROS), "not toxic")
