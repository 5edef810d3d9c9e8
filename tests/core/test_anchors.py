"""Server-side validation of inline-feedback anchors."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rostra.core.anchors import (
    CONTEXT_MAX_CHARS,
    EXACT_MAX_CHARS,
    anchor_to_json,
    parse_anchor,
)
from rostra.core.errors import InvalidInput
from rostra.core.models import Anchor

# What the widget sends for a reader's selection.
SELECTION = {
    "exact": "the largest transport project the city has started in forty years",
    "prefix": "ld a tram line along the river, ",
    "suffix": ". The line will run for 9.4 kilo",
    "start": 155,
    "end": 220,
}


def test_it_accepts_a_selection_from_the_widget() -> None:
    anchor = parse_anchor(SELECTION)
    assert anchor == Anchor(**SELECTION)  # type: ignore[arg-type]
    assert anchor_to_json(anchor) == {**SELECTION, "question_id": None}


def test_it_accepts_a_bare_quote_as_importers_send_it() -> None:
    assert parse_anchor({"exact": "fourteen stops"}) == Anchor(exact="fourteen stops")
    assert parse_anchor({"exact": "x", "prefix": None, "start": None, "end": None}) == Anchor(
        exact="x"
    )


def test_it_keeps_typography_but_composes_and_collapses_whitespace() -> None:
    anchor = parse_anchor(
        {"exact": "  \u201cA tram\u201d\n\tis  Kova\u0301c\u030c  ", "prefix": "said:\u00a0\n"}
    )
    assert anchor.exact == "\u201cA tram\u201d is Kov\u00e1\u010d"
    assert anchor.prefix == "said: "


def test_it_drops_control_characters() -> None:
    assert parse_anchor({"exact": "a\x00b\x07c\x85"}).exact == "abc"


def test_it_cuts_long_context_to_the_part_next_to_the_quote() -> None:
    anchor = parse_anchor(
        {"exact": "q", "prefix": "p" * 100 + "END", "suffix": "BEGIN" + "s" * 100}
    )
    assert len(anchor.prefix) == CONTEXT_MAX_CHARS and anchor.prefix.endswith("END")
    assert len(anchor.suffix) == CONTEXT_MAX_CHARS and anchor.suffix.startswith("BEGIN")


def test_it_accepts_an_editor_question() -> None:
    anchor = parse_anchor({"exact": "the tram line", "question_id": "q-tram.route:1"})
    assert anchor.question_id == "q-tram.route:1"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ("the quote", "anchor"),
        (["the quote"], "anchor"),
        (None, "anchor"),
        ({}, "anchor.exact"),
        ({"exact": "   \n "}, "anchor.exact"),
        ({"exact": 3}, "anchor.exact"),
        ({"exact": "x" * (EXACT_MAX_CHARS + 1)}, "anchor.exact"),
        ({"exact": "a\ud800b"}, "anchor.exact"),
        ({"exact": "x", "prefix": 1}, "anchor.prefix"),
        ({"exact": "x", "suffix": ["y"]}, "anchor.suffix"),
        ({"exact": "x", "start": 1}, "anchor.end"),
        ({"exact": "x", "end": 1}, "anchor.end"),
        ({"exact": "x", "start": 5, "end": 5}, "anchor.end"),
        ({"exact": "x", "start": 6, "end": 5}, "anchor.end"),
        ({"exact": "x", "start": -1, "end": 5}, "anchor.start"),
        ({"exact": "x", "start": 1.5, "end": 5}, "anchor.start"),
        ({"exact": "x", "start": True, "end": 5}, "anchor.start"),
        ({"exact": "x", "start": "1", "end": 5}, "anchor.start"),
        ({"exact": "x", "start": 0, "end": 10**12}, "anchor.end"),
        ({"exact": "x", "question_id": ""}, "anchor.question_id"),
        ({"exact": "x", "question_id": "has space"}, "anchor.question_id"),
        ({"exact": "x", "question_id": "q" * 65}, "anchor.question_id"),
        ({"exact": "x", "question_id": 7}, "anchor.question_id"),
        ({"exact": "x", "type": "TextQuoteSelector"}, "anchor.type"),
    ],
)
def test_it_refuses_a_malformed_anchor_naming_the_field(data: Any, field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_anchor(data)
    assert err.value.extra["field"] == field
    assert err.value.detail.startswith(field + ":")


@given(
    exact=st.text(min_size=1, max_size=200).filter(lambda s: s.strip() != ""),
    prefix=st.text(max_size=100),
    suffix=st.text(max_size=100),
    start=st.integers(min_value=0, max_value=10_000),
    length=st.integers(min_value=1, max_value=1_000),
)
def test_it_gives_back_what_it_accepted(
    exact: str, prefix: str, suffix: str, start: int, length: int
) -> None:
    data = {"exact": exact, "prefix": prefix, "suffix": suffix, "start": start,
            "end": start + length}
    try:
        anchor = parse_anchor(data)
    except InvalidInput as e:
        # Only a quote of nothing but control characters or surrogates may fail.
        assert e.extra["field"] in {"anchor.exact", "anchor.prefix", "anchor.suffix"}
        return
    # Normalising is idempotent: what is stored parses to itself.
    assert parse_anchor(anchor_to_json(anchor)) == anchor
    assert len(anchor.prefix) <= CONTEXT_MAX_CHARS and len(anchor.suffix) <= CONTEXT_MAX_CHARS
