"""BAN-PL (Kołos et al., LREC-COLING 2024): Polish posts and comments from Wykop.pl, banned by
the site's professional moderators or left standing."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator

from corpora import Reader, Row, Source

SOURCE = Source(
    name="ban_pl",
    repo="ZILiAT-NASK/BAN-PL",
    commit="2d4417f8f34aa08c4aa9f58b9b9805fbebe506a2",
    files=("data/BAN-PL_1.zip",),
    licence=(
        "CC BY 4.0 (license.txt; README 'Licence': 'The dataset and code in the repository are made "
        "available under a Creative Commons Attribution International 4.0 licence (CC BY)'). The "
        "README also asks that the data not be 'employed in any operational or real-world "
        "applications unless accompanied by thorough filtering and oversight', and data/README says "
        "the zip passwords (published beside them) are there to stop scraping 'particularly for "
        "training language models (LLMs)'. Neither is a licence term; both are recorded here."
    ),
    languages=("pl",),
    domain="forum",
    description=(
        "24,000 anonymised posts and comments from Wykop.pl (a Polish link-sharing and discussion "
        "site, 'the Polish Reddit'): 12,000 banned by Wykop's professional moderators for hatred, "
        "violence or personal attacks (2019-2023) and 12,000 from the main page still standing "
        "after 48 hours (2021-2023)."
    ),
    label_mapping=(
        "Class 1 (banned: 'hatred or violence', 'attacks me / attacks others') -> abusive (finer "
        "classes unknown, spam 0); class 0 (not banned) -> civil with threat, identity_hate and "
        "insult 0 (moderators would have removed them) and profanity and spam unknown (Wykop leaves "
        "swearing standing; the neutral class was not annotated, only not removed)."
    ),
    notes=(
        "Read from the password-protected zip with the password the repository publishes "
        "(data/README.md: 'BAN-PL_1'); BAN-PL_2.zip holds the same 24,000 texts with pseudonymised "
        "moderation reasons and is not read. Anonymisation tags are rewritten so no tag marks a "
        "class: {USERNAME} and [pseudonym] -> @user ([pseudonym] is 7:1 in the banned class), "
        "[surname] -> Kowalski, {URL} and the rare [address]/[email]/[phonenumber] tags dropped. "
        "Texts holding Wykop's swear-word mask '#!$%@?' (364 neutral, 1 banned) are left out: the "
        "mask would mark the neutral class. Labels are moderation decisions, not annotations."
    ),
)

_PASSWORD = b"BAN-PL_1"
_TAGS = (
    (re.compile(r"\{USERNAME\}|\[pseudonym\]"), "@user"),
    (re.compile(r"\[surname\]"), "Kowalski"),
    (re.compile(r"\{URL\}|\[(?:address|email|phonenumber|number)\]"), ""),
)
_SPACES = re.compile(r"\s+")
# Wykop shows some swear words as "#!$%@?"; the standing posts were collected as shown, the banned
# ones raw, so the mask is in 364 neutral texts and one banned one: a class marker. Those rows
# are left out rather than taught.
_CENSORED = "#!$%@?"


def _text(raw: str) -> str:
    for pattern, repl in _TAGS:
        raw = pattern.sub(repl, raw)
    raw = re.sub(r"^(?:@user\W{0,2}\s*){2,}", "@user ", raw.strip())
    return _SPACES.sub(" ", raw).strip()


def load(read: Reader) -> Iterator[Row]:
    with zipfile.ZipFile(io.BytesIO(read("data/BAN-PL_1.zip"))) as archive:
        data = archive.read("BAN-PL.csv", pwd=_PASSWORD).decode("utf-8")
    for record in csv.DictReader(io.StringIO(data)):
        text = _text(record["Text"])
        if _CENSORED in text:
            continue
        if record["Class"] == "1":
            yield Row(record["id"], text, "pl", "abusive", {"spam": 0}, "harmful")
        else:
            classes = {"threat": 0, "identity_hate": 0, "insult": 0}
            yield Row(record["id"], text, "pl", "civil", classes, "neutral")
