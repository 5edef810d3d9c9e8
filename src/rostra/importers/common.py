"""Small helpers the format readers share: dates, HTML to text, anchors, thread keys."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

from rostra.core.models import Anchor
from rostra.core.thread_keys import ThreadKeyError, thread_key

_TAG = re.compile(r"<[^>]*>")
ANCHOR_CONTEXT = 32  # characters of prefix and suffix kept around a passage


def html_to_text(markup: str) -> str:
    """Visible text of an HTML fragment (tags dropped, entities decoded)."""
    return html.unescape(_TAG.sub("", markup))


def paragraphs(text: str) -> str:
    """WordPress-style auto-paragraphs: blank lines part paragraphs, newlines break lines."""
    if "<p" in text.lower():
        return text
    parts = [p.strip() for p in re.split(r"\n\s*\n", text.replace("\r\n", "\n")) if p.strip()]
    return "".join(f"<p>{p.replace(chr(10), '<br>' + chr(10))}</p>" for p in parts)


def parse_naive_utc(value: str) -> datetime | None:
    """``2020-01-02 10:11:12`` (UTC by contract) -> aware datetime; None for zero dates."""
    value = value.strip()
    if not value or value.startswith("0000-00-00"):
        return None
    parsed = datetime.fromisoformat(value.replace(" ", "T").replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def key_for(*candidates: str | None) -> str | None:
    """The thread key of the first candidate (URL, path or id) that makes one."""
    for candidate in candidates:
        if candidate and candidate.strip():
            try:
                return thread_key(candidate)
            except ThreadKeyError:
                continue
    return None


def anchor_in(article: str, start: int, end: int, question_id: str | None = None) -> Anchor:
    """A text-quote + text-position selector for ``article[start:end]``."""
    return Anchor(
        exact=article[start:end],
        prefix=article[max(0, start - ANCHOR_CONTEXT):start],
        suffix=article[end:end + ANCHOR_CONTEXT],
        start=start,
        end=end,
        question_id=question_id,
    )


def truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}
