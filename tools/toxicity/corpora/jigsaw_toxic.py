"""Jigsaw Toxic Comment Classification Challenge (Kaggle 2018): English Wikipedia talk-page
comments with six crowd-rated labels, from the random and balanced subsets a public
LLM-distillation write-up committed to git."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

from corpora import Reader, Row, Source

# Every subset in the copy that carries the original human labels (the files under
# gpt-* folders hold GPT labels and are not read). train.10k/train.20k and the original
# train.csv/test.csv are over 4 MiB and absent from the snapshot. Rows repeat across
# subsets; load() keeps each comment id once.
FILES = (
    "data/dataset_subsets/train.5k.csv",
    "data/dataset_subsets/train.6.csv",
    "data/dataset_subsets/train.5.a.csv",
    "data/dataset_subsets/train.5.b.csv",
    "data/dataset_subsets/train.5.c.csv",
    "data/dataset_subsets/train.5.d.csv",
    "data/dataset_subsets/test.balanced.csv",
    "data/dataset_subsets/test.indist.1.csv",
    "data/dataset_subsets/test.indist.2.csv",
    "data/dataset_subsets/sample.tiny.csv",
    "data/data_pools/train.a.ok.1k.csv",
    "data/data_pools/train.b.ok.1k.csv",
    "data/data_pools/train.a.bad.1k.csv",
    "data/data_pools/train.b.bad.1k.csv",
    "data/data_pools/train.c.bad.1k.csv",
    "data/data_pools/test.a.ok.200.csv",
    "data/data_pools/test.b.ok.200.csv",
    "data/data_pools/test.c.ok.200.csv",
    "data/data_pools/test.a.bad.200.csv",
    "data/data_pools/test.b.bad.200.csv",
    "data/data_pools/test.c.bad.200.csv",
)

SOURCE = Source(
    name="jigsaw_toxic",
    repo="predibase/llm_distillation_playbook",
    commit="6ccc4707eebbb60bce336e4711b742f9f9342fc8",
    files=FILES,
    licence=(
        "Original: Jigsaw / Conversation AI, Kaggle 'Toxic Comment Classification "
        "Challenge' (2018), whose data page says: 'The \"Toxic Comment Classification\" "
        "dataset is released under CC0, with the underlying comment text being governed by "
        "Wikipedia's CC-SA-3.0' (quoted verbatim by the google/jigsaw_toxicity_pred dataset "
        "card and the TFDS community catalogue). The copy: the repository has no LICENSE "
        "file and adds no terms; its README says the subsets come from 'the Jigsaw toxic "
        "comment classification dataset' (link to the Kaggle competition), and "
        "jigsaw_data_prep/generate_subsets.py shows them cut unchanged from Kaggle's "
        "train.csv and test.csv + test_labels.csv (rows scored -1 dropped), with one added "
        "column is_bad (any label set)."
    ),
    languages=("en",),
    domain="wikipedia",
    description=(
        "About 11,000 distinct English Wikipedia talk-page comments from Jigsaw's 2018 "
        "Kaggle set, each rated by several crowd raters for toxic, severe_toxic, obscene, "
        "threat, insult and identity_hate: a 5,000-row random sample of train.csv plus "
        "balanced pools (half clean, half with some label) from train.csv and the labelled "
        "part of test.csv."
    ),
    label_mapping=(
        "Fine classes straight from the columns: threat, insult, identity_hate, profanity = "
        "obscene (spam 0). Coarse label: no label set -> civil; obscene the only label set "
        "among severe_toxic/obscene/threat/insult/identity_hate -> profanity; any other "
        "labelled row (toxic, or threat/insult/identity_hate, or severe_toxic) -> abusive. "
        "Rows with toxic=0 but a finer label set (about 200: raters' majority said insult "
        "or obscene but not toxic) follow their finer labels rather than becoming civil."
    ),
    notes=(
        "Toxic rows are over-represented (about 37%, against 10% in Kaggle's train.csv) "
        "because half the pools were drawn from labelled comments; 110 threats and 357 "
        "identity_hate rows. Texts keep Wikipedia markup remnants, signatures and IPs; "
        "whitespace collapsed."
    ),
)

_LABELS = ("toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate")


def load(read: Reader) -> Iterator[Row]:
    seen: set[str] = set()
    for path in FILES:
        split = path.rsplit("/", 1)[1].removesuffix(".csv")
        for record in csv.DictReader(io.StringIO(read(path).decode("utf-8"))):
            cid = record["id"].strip()
            if cid in seen:
                continue
            values = {name: int(record[name]) for name in _LABELS}
            if any(v not in (0, 1) for v in values.values()):
                continue  # -1: not scored in the competition (none are expected here)
            seen.add(cid)
            text = re.sub(r"\s+", " ", record["comment_text"]).strip()
            classes = {
                "threat": values["threat"],
                "identity_hate": values["identity_hate"],
                "insult": values["insult"],
                "profanity": values["obscene"],
                "spam": 0,
            }
            marked = [name for name in _LABELS if values[name]]
            fine = [name for name in marked if name != "toxic"]
            if not marked:
                label = "civil"
            elif fine == ["obscene"]:
                label = "profanity"
            else:
                label = "abusive"
            yield Row(f"{split}:{cid}", text, "en", label, classes, ",".join(marked) or "none")
