"""GermEval 2018 (Wiegand et al.): German tweets, OFFENSE/OTHER and ABUSE/INSULT/PROFANITY."""

from __future__ import annotations

from collections.abc import Iterator

from corpora import Reader, Row, Source
from corpora._text import clean_tweet, collapse_mentions

SOURCE = Source(
    name="germeval2018",
    repo="uds-lsv/GermEval-2018-Data",
    commit="9877472d39523effd54cd079b4c61157ed141508",
    files=("germeval2018.training.txt", "germeval2018.test.txt"),
    licence=(
        "CC BY 4.0 (LICENSE.md/LICENSE.md in the repository is the Creative Commons "
        "Attribution 4.0 International licence text)"
    ),
    languages=("de",),
    domain="tweets",
    description=(
        "8,541 German tweets (5,009 training, 3,532 test) from the GermEval 2018 shared task on "
        "offensive language, annotated by the organisers (trained linguists) for task 1 "
        "(OFFENSE/OTHER) and task 2 (ABUSE/INSULT/PROFANITY/OTHER)."
    ),
    label_mapping=(
        "OTHER/OTHER -> civil (all classes 0); OFFENSE/INSULT (a negative quality ascribed to a "
        "person or group) -> abusive (insult=1, profanity=0); OFFENSE/ABUSE (degrading a target "
        "for a social identity or group membership, incl. political groups) -> abusive "
        "(profanity=0; identity_hate left unknown because the source's groups are not only "
        "protected identities); OFFENSE/PROFANITY (swearing with no insult or abuse) -> "
        "profanity (profanity=1, insult=0, identity_hate=0)."
    ),
    notes="|LBR| line-break markers become spaces; handles and links removed (clean_tweet).",
)

SPLITS = (("train", "germeval2018.training.txt"), ("test", "germeval2018.test.txt"))


def load(read: Reader) -> Iterator[Row]:
    for split, path in SPLITS:
        for n, line in enumerate(read(path).decode("utf-8").splitlines()):
            if not line.strip():
                continue
            text, coarse, fine = line.rsplit("\t", 2)
            text = collapse_mentions(clean_tweet(text.replace("|LBR|", " ")))
            rid = f"{split}:{n}"
            original = f"{coarse}/{fine}"
            if coarse == "OTHER":
                zeros = {c: 0 for c in ("threat", "identity_hate", "insult", "profanity", "spam")}
                yield Row(rid, text, "de", "civil", zeros, original)
            elif fine == "INSULT":
                classes = {"insult": 1, "profanity": 0, "spam": 0}
                yield Row(rid, text, "de", "abusive", classes, original)
            elif fine == "ABUSE":
                yield Row(rid, text, "de", "abusive", {"profanity": 0, "spam": 0}, original)
            elif fine == "PROFANITY":
                classes = {"profanity": 1, "insult": 0, "identity_hate": 0, "spam": 0}
                yield Row(rid, text, "de", "profanity", classes, original)
            else:
                raise ValueError(f"{path}:{n}: unexpected labels {original!r}")
