"""SMS Spam Collection v.1 (Almeida, Gómez Hidalgo, Yamakami 2011): English SMS, spam or ham."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

from corpora import Reader, Row, Source

PATH = "SMSSpamCollection"

SOURCE = Source(
    name="sms_spam",
    repo="hamzaaacodes/sms-spam-collection",
    commit="f3e73e1e74e6330b62d1ee1983bba2a063184c26",
    files=(PATH,),
    licence=(
        "CC BY 4.0: the UCI Machine Learning Repository page of the collection "
        "(https://archive.ics.uci.edu/dataset/228/sms+spam+collection) licenses it under "
        "Creative Commons Attribution 4.0, and the authors' release note says 'The collection "
        "is free for all purposes' (http://jmgomezhidalgo.blogspot.com/2011/06/new-dataset-"
        "released-sms-spam.html). The GitHub repository holds only the UCI file, with a "
        "header line added, and no licence of its own."
    ),
    languages=("en",),
    domain="sms",
    description=(
        "5,574 English SMS messages (4,827 ham, 747 spam) gathered from the Grumbletext forum, "
        "the NUS SMS Corpus, Caroline Tagg's thesis and the SMS Spam Corpus v.0.1, tagged "
        "ham or spam."
    ),
    label_mapping="spam -> spam (spam=1); ham -> civil (spam=0, other classes unknown).",
    notes=(
        "Not comments: text-message register (abbreviations, phone numbers). Useful for the "
        "spam class's vocabulary (prizes, short codes, 'call now'); weight it below "
        "comment-domain spam."
    ),
)


def load(read: Reader) -> Iterator[Row]:
    for n, line in enumerate(read(PATH).decode("utf-8", "replace").splitlines()):
        if "\t" not in line:
            continue
        tag, text = line.split("\t", 1)
        text = re.sub(r"\s+", " ", html.unescape(text)).strip()
        if tag == "spam":
            yield Row(f"all:{n}", text, "en", "spam", {"spam": 1}, "spam")
        elif tag == "ham":
            yield Row(f"all:{n}", text, "en", "civil", {"spam": 0}, "ham")
