"""ToLD-Br (Leite et al., AACL-IJCNLP 2020): Brazilian Portuguese tweets, each read by three
annotators for six kinds of toxicity."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

from corpora import Reader, Row, Source
from corpora._text import clean_tweet, collapse_mentions

SOURCE = Source(
    name="told_br",
    repo="JAugusto97/ToLD-Br",
    commit="7804082d06a42b791c456b37a8a80ed9b731198c",
    files=("ToLD-BR.csv",),
    licence=(
        "CC BY-SA 4.0 (README: 'ToLD-Br is licensed under a Creative Commons BY-SA 4.0 license that "
        "can be found in the file LICENSE_ToLD-Br.txt'; the code is MIT)"
    ),
    languages=("pt",),
    domain="tweets",
    description=(
        "21,000 Brazilian Portuguese tweets (2019), each labelled by three annotators from a "
        "demographically varied pool for homophobia, obscene language, insult, racism, misogyny "
        "and xenophobia; a column holds how many of the three flagged the tweet for that aspect."
    ),
    label_mapping=(
        "A class is 1 when at least two of three annotators flagged it, 0 when none did, unknown "
        "(null) on a single flag. Tweets no annotator flagged for anything -> civil (all classes 0). "
        "Majority homophobia, racism, misogyny or xenophobia -> abusive (identity_hate=1); majority "
        "insult -> abusive (insult=1); majority obscene with no majority insult or identity class "
        "-> profanity (profanity=1, insult and identity_hate 0 or null). Tweets flagged by only one "
        "annotator and by no majority (about 5,200) are left out as uncertain. threat is never "
        "annotated (null); spam 0."
    ),
    notes=(
        "The file has no split; the authors' train/dev/test splits live in experiments/data/*.zip. "
        "Tweets come lower-cased with handles already replaced by @user; 'rt' prefixes, handles "
        "and links are removed (clean_tweet). About 1,000 tweets stored as UTF-8 mis-read as GBK "
        "are repaired (undo_mojibake). ToLD-BR_alpha.csv (per-annotator columns) is not read."
    ),
)

_ASPECTS = ("homophobia", "obscene", "insult", "racism", "misogyny", "xenophobia")
_IDENTITY = ("homophobia", "racism", "misogyny", "xenophobia")

# About 1,000 tweets reached the file as UTF-8 read as GBK ("n茫o" for "não"): each accented
# letter became one CJK character, an emoji two. Undo it run by run; what cannot be undone
# (emoji bytes already replaced by U+FFFD) is dropped.
_CJK_RUN = re.compile(
    r"[\u2000-\u206f\u2100-\u33ff\u3400-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]+"
)
_BROKEN = re.compile(r"[\u3400-\u9fff]{0,3}[\ue000-\uf8ff\ufffd]+|[\u9983\u9225](?=\s|$)")
_TAIL = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]+\s*$")


def _undo_run(run: str) -> str:
    try:
        return run.encode("gbk").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        pass
    out = []
    for ch in run:
        try:
            fixed = ch.encode("gbk").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            fixed = ch
        out.append(fixed if all("\u00a0" <= c <= "\u024f" for c in fixed) else ch)
    return "".join(out)


def undo_mojibake(text: str) -> str:
    if not re.search(r"[\u3400-\u9fff]", text):
        return text
    text = _BROKEN.sub("", _CJK_RUN.sub(lambda m: _undo_run(m.group(0)), text))
    return _TAIL.sub("", text)  # a cut-off emoji at the end of a truncated tweet


def _vote(n: int) -> int | None:
    return 1 if n >= 2 else 0 if n == 0 else None


def _text(raw: str) -> str:
    text = clean_tweet(undo_mojibake(raw))
    if text.lower().startswith("rt "):
        text = text[3:]
    return collapse_mentions(text)


def load(read: Reader) -> Iterator[Row]:
    table = csv.DictReader(io.StringIO(read("ToLD-BR.csv").decode("utf-8")))
    for number, record in enumerate(table):
        votes = {a: int(float(record[a])) for a in _ASPECTS}
        majority = [a for a in _ASPECTS if votes[a] >= 2]
        text = _text(record["text"])
        original = ",".join(f"{a}={votes[a]}" for a in _ASPECTS)
        if not any(votes.values()):
            zeros = {c: 0 for c in ("threat", "identity_hate", "insult", "profanity", "spam")}
            yield Row(str(number), text, "pt", "civil", zeros, original)
            continue
        if not majority:
            continue  # one annotator of three: uncertain
        identity = [_vote(votes[a]) for a in _IDENTITY]
        identity_hate = 1 if 1 in identity else (0 if all(v == 0 for v in identity) else None)
        classes = {
            "identity_hate": identity_hate,
            "insult": _vote(votes["insult"]),
            "profanity": _vote(votes["obscene"]),
            "spam": 0,
        }
        label = "abusive" if identity_hate == 1 or classes["insult"] == 1 else "profanity"
        yield Row(str(number), text, "pt", label, classes, original)
