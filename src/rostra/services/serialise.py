"""Public JSON shapes of comments and threads. Email and IP hash never leave here."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from rostra.core.models import CommentState
from rostra.core.thread_keys import public_website


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def avatar_key(row: Any) -> str:
    """Eight hex digits that stay the same for one author (account, else browser, else
    name) and tell nothing about them: the widget draws the avatar from it."""
    account = getattr(row, "account_id", None)
    voter = getattr(row, "voter_id", None)
    who = f"a:{account}" if account else f"v:{voter}" if voter else f"n:{row.author_name or ''}"
    return hashlib.blake2b(who.encode(), digest_size=4, person=b"rostra-avatar").hexdigest()


def shadow_published(moderation: dict[str, Any] | None) -> bool:
    """Whether a comment held for its author's shadow ban would have been published
    without it: its author is shown it published (``comment_json(to_author=True)``)."""
    shadow = ((moderation or {}).get("facts") or {}).get("shadow")
    return isinstance(shadow, dict) and shadow.get("action") == "publish"


def comment_json(
    row: Any, *, reveal_pending: bool = False, to_author: bool = False, staff: bool = False
) -> dict[str, Any]:
    """A comment as readers see it; anything not approved shows as a tombstone, except a
    pending comment shown to its own author (``reveal_pending``). ``to_author``: as its
    author sees it, where a comment stored as spam reads as held (the author is told what
    any held author is told, never "[deleted]" for what they just wrote), and one held for
    a shadow ban reads as what it would have been without the ban (approved, where
    nothing else held it). ``staff``: its author is the site's staff
    (``queries.staff_accounts``)."""
    state = row.state
    if to_author:
        reveal_pending = True
        if state == CommentState.SPAM.value:
            state = CommentState.PENDING.value
        elif state == CommentState.PENDING.value and shadow_published(
                getattr(row, "moderation", None)):
            state = CommentState.APPROVED.value
    if state == CommentState.APPROVED.value or (
        reveal_pending and state == CommentState.PENDING.value
    ):
        author: dict[str, Any] | None = {
            "name": row.author_name, "website": public_website(row.author_website),
            "avatar": avatar_key(row), "signed_in": bool(getattr(row, "account_id", None)),
        }
        html = row.html
        shown_state = state
        anchor = row.anchor
    else:
        author, html, shown_state, anchor = None, "", CommentState.DELETED.value, None
    out: dict[str, Any] = {
        "id": row.id,
        "parent_id": row.parent_id,
        "author": author,
        "html": html,
        "created_at": iso(row.created_at),
        "edited_at": iso(row.edited_at) if author is not None else None,
        "state": shown_state,
        # a tombstone shows no votes (its stored ones stay, should it be approved again)
        "score": row.score if author is not None else 0,
        "upvotes": row.upvotes if author is not None else 0,
        "downvotes": row.downvotes if author is not None else 0,
        "reply_count": row.reply_count,
        "anchor": anchor,
        "replies": [],
    }
    if author is not None and staff:
        out["staff"] = True
    return out


def note_json(row: Any) -> dict[str, Any]:
    """A context note as every reader sees it under its comment."""
    return {
        "id": row.id,
        "html": row.html,
        "sources": list(row.sources or []),
        "by": "staff" if row.staff_author else "readers",
        "created_at": iso(row.created_at),
    }


def thread_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "key": row.key,
        "url": row.url,
        "title": row.title,
        "total": row.comment_count,
        "top_level": row.top_level_count,
        "closed": bool(row.closed),
    }
