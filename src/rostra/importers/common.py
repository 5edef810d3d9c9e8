"""Small helpers the format readers share: dates, HTML to text, anchors, thread keys."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from functools import lru_cache

from rostra.core.markup import sanitise_html
from rostra.core.models import Anchor
from rostra.core.thread_keys import ThreadKeyError, thread_key

_TAG = re.compile(r"<[^>]*>")
ANCHOR_CONTEXT = 32  # characters of prefix and suffix kept around a passage


def html_to_text(markup: str) -> str:
    """Visible text of an HTML fragment (tags dropped, entities decoded)."""
    return html.unescape(_TAG.sub("", markup))


# A <p> the text writes itself (not <pre>, <param>…): its author made the paragraphs.
_PARAGRAPH_TAG = re.compile(r"<p[\s>/]", re.IGNORECASE)


def paragraphs(text: str) -> str:
    """WordPress-style auto-paragraphs: blank lines part paragraphs, newlines break lines."""
    if _PARAGRAPH_TAG.search(text):
        return text
    parts = [p.strip() for p in re.split(r"\n\s*\n", text.replace("\r\n", "\n")) if p.strip()]
    return "".join(f"<p>{p.replace(chr(10), '<br>' + chr(10))}</p>" for p in parts)


CACHED_HTML_LENGTH = 1000  # longer texts are seldom repeated; the cache stays small


# <b> and <i> mean what <strong> and <em> mean in comments (WordPress lets readers use
# both); the sanitiser keeps only the latter, so they are renamed rather than dropped.
_PRESENTATIONAL = re.compile(r"<(/?)(b|i)(?=[\s>/])[^>]*>", re.IGNORECASE)
_RENAMED = {"b": "strong", "i": "em"}


def semantic_tags(markup: str) -> str:
    """``markup`` with <b> as <strong> and <i> as <em> (their attributes dropped)."""
    return _PRESENTATIONAL.sub(lambda m: f"<{m.group(1)}{_RENAMED[m.group(2).lower()]}>",
                               markup)


def wordpress_html(text: str) -> str:
    """The sanitised HTML of a WordPress comment's text (auto-paragraphs, then the same
    sanitiser as new comments). Short texts are cached: exports repeat them ("Thanks!",
    spam runs)."""
    if len(text) <= CACHED_HTML_LENGTH:
        return _wordpress_html(text)
    return sanitise_html(paragraphs(semantic_tags(text)))


def clean_html(markup: str) -> str:
    """``sanitise_html``, cached for short inputs like ``wordpress_html``."""
    if len(markup) <= CACHED_HTML_LENGTH:
        return _clean_html(markup)
    return sanitise_html(semantic_tags(markup))


@lru_cache(maxsize=4096)
def _wordpress_html(text: str) -> str:
    return sanitise_html(paragraphs(semantic_tags(text)))


@lru_cache(maxsize=4096)
def _clean_html(markup: str) -> str:
    return sanitise_html(semantic_tags(markup))


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
