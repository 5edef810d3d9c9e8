"""Plain comments (paragraphs of text with simple emphasis) skip the Markdown parser and
the cleaner (rostra.core.markup._plain_html): whatever it answers must be, byte for byte,
what the parser and the cleaner make."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from rostra.core import markup

# Characters around which the rules differ: Markdown syntax, line starts, escapes,
# whitespace of every kind, controls, scripts written either way, emoji, and what
# linkify-it looks for.
EDGES = list(
    "aZé\u00df0123456789 \n\n\n  .,;:)(-+*>#<&\"'`_~[]!\\/@=|%$^{}?"
    "\t\r\x00\x01\x0b\x0c\x1f\x7f\x85\x9f\u00a0\u2000\u2028\u2029\u202f\u3000\ufeff"
    "\u200b\u200f\u202e\ufffd\ufffe\ud800\U0001f44d\U0001f3fd\u05d0\u05d1\u0627\u0644\u0663"
    "\u4e2d\ud55c\u0439\u0301"
) + ["1.", "2)", "10.", " 1. ", "   >", "    x", "&amp;", "&#35;", "&x", "Q&A", "www.", "a.b",
     "http://", "x@y", ".sk", "...", "e.g", " \n", "  \n", "\n\n"]


def full(text: str) -> str:
    """What render() makes through the parser and the cleaner."""
    return markup._CLEAN.clean(markup._parser(False).render(text)).strip()


def check(text: str) -> bool:
    plain = markup._plain_html(text)
    if plain is None:
        return False
    assert plain == full(text), repr(text)
    assert markup.render(text) == markup.render(text, images=True) == plain
    return True


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(EDGES), max_size=40).map("".join))
@example("Comment 1-2 on the story: bridge harbour council.")
@example("first line  \nsecond line\n\n\n   third paragraph   ")
@example('She said "no" & left > twice; it\'s 2024.\n3 cats, 2 dogs')
def test_plain_paths_render_as_the_full_path(text: str) -> None:
    check(text)


# The characters a plain text may hold, so that most examples take the plain path.
PLAINISH = [c for c in EDGES if markup._plain_html(f"x{c}x") is not None] + [
    " \n", "\n\n", ".", ". ", "&", " & ", "1.", "10.", ">"]


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PLAINISH), max_size=60).map("".join))
def test_plainish_texts_render_as_the_full_path(text: str) -> None:
    check(text)


# Emphasis delimiters in every position around words, spaces, punctuation and lines.
EMPHASIS = ["*", "**", "_", "__", "***", " *", "* ", " **", "** ", " _", "_ ", "a", "b9", "é",
            "Ж", " ", " ", "\n", "\n\n", ".", ",", ":", "!", "?", ")", "(", "'", "-", "x y",
            "&", ">", "1.", "`", "~", "\\"]


@settings(max_examples=4000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(EMPHASIS), max_size=30).map("".join))
@example("Comment 1000-1 on the *story*: bridge harbour council ferry.")
@example("**bold** and _it_ and __init__, *a > b & c*!\n *x*\n\n*y*.")
@example("*a* b*")
@example("__a_")
def test_emphasised_texts_render_as_the_full_path(text: str) -> None:
    check(text)


@settings(max_examples=1500, deadline=None)
@given(st.text(max_size=80))
def test_any_text_renders_as_the_full_path(text: str) -> None:
    check(text)


def test_most_plain_comments_take_the_plain_path() -> None:
    rng = random.Random(14)
    words = ("the council finally approved tram line über Straßenbahn наконец "
             "električkovú 👍 עברית مجلس 시의회가 2024 3 cats, dogs; it's \"quoted\" "
             "yes! no? why: & 10% > 5").split(" ")
    taken = 0
    for n in range(2000):
        lines = []
        for _ in range(rng.choice([1, 1, 2, 3, 5])):
            line = " ".join(rng.choice(words) for _ in range(rng.randint(1, 25)))
            lines.append(line.capitalize() + rng.choice([".", "!", "?", "", "  ", " "]))
        text = rng.choice(["\n", "\n\n", "\n \n"]).join(lines)
        if n % 5 == 0:
            text = f"  {text}\n\n"
        taken += check(text)
    assert taken > 1700  # lines starting "3 cats" or "- " go the full way, rightly


def test_it_leaves_markdown_and_links_to_the_parser() -> None:
    for text in ("*em *", "a_b_", "a *b*c", "*a\nb*", "***a***", "`x`", "~~s~~", "[a](b)", "<http://x>", "\\*", "&amp;",
                 "&#35;", "1. one", "2) two", "- item", "+ item", "> quote", "    code",
                 "see example.com", "me@example.org", "http://example.org", "//x",
                 "tab\there", "no\u00a0break", "cr\r\nlf", "nul\x00", "e.Go"):
        assert markup._plain_html(text) is None, text


def test_simple_emphasis_takes_the_plain_path() -> None:
    for text in ("Comment 1 on the *story*: bridge.", "**bold** and _it_ and __init__ x",
                 "*a > b & c*!", " *x*\n*y*.", "*é*", "so *very* good (really *much*)"):
        assert check(text), text


def test_sentences_with_emphasis_render_as_the_full_path() -> None:
    rng = random.Random(15)
    words = "the council finally approved über Straßenbahn 2024 it's 3 a_b *x".split()
    marks = ["", "", "", "", "*", "*", "**", "_", "__", "***", "*_"]
    after = ["", "", "", ".", ",", "!", "?", ":", ")", "'", "-", "*"]
    emphasised = 0
    for _ in range(3000):
        parts = []
        for _ in range(rng.randint(1, 10)):
            mark = rng.choice(marks)
            inner = " ".join(rng.choice(words[:-2] if rng.random() < 0.9 else words)
                             for _ in range(rng.choice([1, 1, 2, 3])))
            closing = mark[::-1] if rng.random() < 0.95 else rng.choice(marks)
            opening = "(" if rng.random() < 0.05 else ""
            parts.append(opening + mark + inner + closing + rng.choice(after))
        text = "".join(p + rng.choice([" ", " ", " ", "  ", "\n", "\n\n"]) for p in parts)
        if check(text) and ("<em>" in markup.render(text) or "<strong>" in markup.render(text)):
            emphasised += 1
    assert emphasised > 250  # the rest has a delimiter the plain path leaves to the parser
