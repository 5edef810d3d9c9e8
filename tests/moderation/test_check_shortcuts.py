"""The checks' shortcuts for common texts (ASCII letters counted in C, no link search
without "/" or "www.", no leetspeak search without a leetspeak character) answer exactly
as the long way does, which is written out here as it was."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from rostra.moderation.checks.caps import caps_ratio
from rostra.moderation.checks.links import HOST, LINK, hosts_of
from rostra.moderation.textfold import (
    HAS_LETTER,
    HOMOGLYPHS,
    LEET,
    LEET_CHARS,
    RUNS,
    TOKEN,
    _first_of_run,
    _strip_accents,
    fold_tokens,
)

PIECES = list("aAzZ09 .,/:@$!|+€_-\n\tÉéßİıΣσ\u0430\u0410\u2160\u01c5ﬃ①") + [
    "www.", "WWW.", "http://", "https://", "example.com/", "a.b.c/x", "f.u.c.k", "1d10t!!",
    "shiiit", "x" * 3, "Ⓐ", "🙂", "ǅ", "Straße", "İstanbul", "ОЧЕНЬ", "#tag", "me@x.org"]
texts = st.one_of(st.text(max_size=120),
                  st.lists(st.sampled_from(PIECES), max_size=40).map(" ".join),
                  st.lists(st.sampled_from(PIECES), max_size=40).map("".join))


def caps_before(text: str) -> tuple[float, int]:
    upper = sum(map(str.isupper, text))
    cased = upper + sum(map(str.islower, text))
    if not cased:
        return 0.0, 0
    return upper / cased, cased


def hosts_before(text: str) -> list[str]:
    hosts = []
    for match in LINK.finditer(text):
        host = HOST.match(match.group(0))
        if host:
            hosts.append(host.group(1).lower().rstrip("."))
    return hosts


def fold_before(text: str) -> tuple[str, ...]:
    text = _strip_accents(unicodedata.normalize("NFKC", text).casefold())
    text = text.translate(HOMOGLYPHS)
    raw = TOKEN.findall(text)
    tokens: list[str] = []
    run: list[str] = []
    for token in raw:
        if len(token) == 1 and not token.isdigit():
            run.append(token)
            continue
        if run:
            tokens.extend(["".join(run)] if len(run) >= 3 else run)
            run = []
        if LEET_CHARS.search(token) and HAS_LETTER.search(token):
            token = token.strip("!|+").translate(LEET)
        tokens.append(token)
    if run:
        tokens.extend(["".join(run)] if len(run) >= 3 else run)
    joined = RUNS.sub(_first_of_run, " ".join(tokens).replace("_", ""))
    return tuple(t for t in joined.split(" ") if t)


@settings(max_examples=2000, deadline=None)
@given(texts)
def test_the_shortcuts_answer_as_the_long_way(text: str) -> None:
    assert caps_ratio(text) == caps_before(text)
    assert hosts_of(text) == hosts_before(text)
    fold_tokens.cache_clear()
    assert fold_tokens(text) == fold_before(text)


def test_every_ascii_character_is_counted_as_python_cases_it() -> None:
    every = "".join(map(chr, range(128)))
    assert caps_ratio(every) == caps_before(every)
    assert caps_ratio(every * 3 + "É") == caps_before(every * 3 + "É")


def test_links_are_still_found_in_comments() -> None:
    text = "see https://Example.com/a, WWW.x.org and spam.example/buy; not 3.5 or a.b"
    assert hosts_of(text) == hosts_before(text) == ["example.com", "www.x.org",
                                                    "spam.example"]
    assert hosts_of("just words. No links here at all.") == []
    assert re.search("www", "no link: wwwx") and hosts_of("no link: wwwx") == []
