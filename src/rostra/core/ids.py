"""Ids as they come from outside: text that must name a row, or nothing."""

from __future__ import annotations

# Ids are 64-bit signed integers in SQLite and PostgreSQL alike.
MAX_ID = 2**63 - 1


def parse_id(text: str) -> int | None:
    """The id ``text`` spells in ASCII digits (1 to MAX_ID), else None. ``str.isdigit``
    alone lets through superscripts ("²") that int() refuses, and numbers no column holds."""
    text = text.strip()
    if not (0 < len(text) <= 19 and text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None
