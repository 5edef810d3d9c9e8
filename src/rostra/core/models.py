"""Domain values shared by every layer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class CommentState(StrEnum):
    APPROVED = "approved"
    PENDING = "pending"
    SPAM = "spam"
    REJECTED = "rejected"
    DELETED = "deleted"


# The key a comment's moderation record carries once its author's data was erased on
# request (rostra.services.personal_data): its value is when.
ERASED = "erased"


def is_erased(moderation: Any) -> bool:
    """Whether a comment's moderation record marks it erased on its author's request: no
    staff action may publish it or put text back into it."""
    return isinstance(moderation, dict) and ERASED in moderation


class SortOrder(StrEnum):
    NEWEST = "newest"
    OLDEST = "oldest"
    VOTES = "votes"


class ThreadCreation(StrEnum):
    """Whether a comment on an unknown page creates its thread."""

    OPEN = "open"  # any page under the site's origins
    CLOSED = "closed"  # only threads an operator or importer created


@dataclass(frozen=True, slots=True)
class Anchor:
    """A W3C Web Annotation text-quote + text-position selector for inline feedback."""

    exact: str
    prefix: str = ""
    suffix: str = ""
    start: int | None = None
    end: int | None = None
    question_id: str | None = None


@dataclass(frozen=True, slots=True)
class Site:
    id: str
    name: str
    origins: tuple[str, ...]
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Thread:
    id: int
    site_id: str
    key: str
    url: str | None
    title: str | None
    created_at: datetime
    comment_count: int = 0
    top_level_count: int = 0
    closed: bool = False


@dataclass(slots=True)
class Comment:
    """A comment as stored. Email and IP hash stay inside the server."""

    id: int
    thread_id: int
    parent_id: int | None
    root_id: int | None
    author_name: str | None
    author_email: str | None
    author_website: str | None
    text: str
    html: str
    state: CommentState
    created_at: datetime
    edited_at: datetime | None = None
    score: int = 0
    upvotes: int = 0
    downvotes: int = 0
    reply_count: int = 0
    anchor: Anchor | None = None
    account_id: int | None = None
    voter_id: str | None = None
    ip_hash: str | None = None
    language: str | None = None
    moderation: dict[str, Any] | None = None
