"""Validation of inline-feedback anchors (text-quote + text-position selectors).

The browser finds passages again (src/rostra/widget/inline/anchor.js); the server
only checks that a selector is well formed, normalises it, and stores it. The quote
is kept as the reader saw it (typographic quotes and all) because the widget shows
it when the passage can no longer be found.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from rostra.core.errors import InvalidInput
from rostra.core.models import Anchor

EXACT_MAX_CHARS = 2000
"""Longest quote accepted; a reader comments on a passage, not on the article."""

CONTEXT_MAX_CHARS = 64
"""Context kept on each side. The widget sends 32; longer context (from importers)
is cut to the part nearest the quote, which is the only part that helps matching."""

POSITION_MAX = 10_000_000
"""Upper bound on text offsets: far beyond any article, small enough for any column."""

_FIELDS = frozenset({"exact", "prefix", "suffix", "start", "end", "question_id"})
_WHITESPACE = re.compile(r"\s+")
# C0/C1 controls other than whitespace carry nothing a reader saw.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_QUESTION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(f"anchor.{key}: must be a string", field=f"anchor.{key}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(
            f"anchor.{key}: contains invalid characters", field=f"anchor.{key}"
        ) from None
    value = unicodedata.normalize("NFC", _CONTROL.sub("", value))
    return _WHITESPACE.sub(" ", value)


def _position(data: dict[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    # bool is an int in Python; true/false is not an offset.
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidInput(f"anchor.{key}: must be an integer", field=f"anchor.{key}")
    if not 0 <= value <= POSITION_MAX:
        raise InvalidInput(
            f"anchor.{key}: must be between 0 and {POSITION_MAX}", field=f"anchor.{key}"
        )
    return value


def parse_anchor(data: object) -> Anchor:
    """Validates a selector from a client or an importer and returns it normalised.

    Raises InvalidInput, naming the field, for anything malformed.
    """
    if not isinstance(data, dict):
        raise InvalidInput("anchor: must be an object", field="anchor")
    unknown = sorted(str(k) for k in data if k not in _FIELDS)
    if unknown:
        raise InvalidInput(f"anchor.{unknown[0]}: unknown field", field=f"anchor.{unknown[0]}")

    exact = _text(data, "exact").strip()
    if not exact:
        raise InvalidInput("anchor.exact: must not be empty", field="anchor.exact")
    if len(exact) > EXACT_MAX_CHARS:
        raise InvalidInput(
            f"anchor.exact: must be at most {EXACT_MAX_CHARS} characters",
            field="anchor.exact",
        )
    prefix = _text(data, "prefix")[-CONTEXT_MAX_CHARS:]
    suffix = _text(data, "suffix")[:CONTEXT_MAX_CHARS]

    start = _position(data, "start")
    end = _position(data, "end")
    if (start is None) != (end is None):
        raise InvalidInput("anchor.end: start and end go together", field="anchor.end")
    if start is not None and end is not None and end <= start:
        raise InvalidInput("anchor.end: must be greater than start", field="anchor.end")

    question_id = data.get("question_id")
    if question_id is not None and (
        not isinstance(question_id, str) or not _QUESTION_ID.fullmatch(question_id)
    ):
        raise InvalidInput(
            "anchor.question_id: must be 1 to 64 letters, digits or _ . : -",
            field="anchor.question_id",
        )

    return Anchor(
        exact=exact, prefix=prefix, suffix=suffix, start=start, end=end, question_id=question_id
    )


def anchor_to_json(anchor: Anchor) -> dict[str, Any]:
    """The anchor as the API returns it (and as the store keeps it)."""
    return {
        "exact": anchor.exact,
        "prefix": anchor.prefix,
        "suffix": anchor.suffix,
        "start": anchor.start,
        "end": anchor.end,
        "question_id": anchor.question_id,
    }
