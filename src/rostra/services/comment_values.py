"""What the comment services take and give: a new comment and who posts it, what a
post returns, and the events of a comment's life that hooks and listeners see."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from rostra.core.models import CommentState
from rostra.moderation.decision import Decision

# The actor of a hold that readers' flags caused (a site's ``flags_to_hold``).
READERS = "readers"


class EventKind(StrEnum):
    CREATED = "created"
    EDITED = "edited"
    STATE_CHANGED = "state_changed"


@dataclass(frozen=True, slots=True)
class CommentEvent:
    """What happened to a comment; hooks see it inside the transaction, listeners after."""

    kind: EventKind
    comment_id: int
    thread_id: int
    site_id: str
    thread_key: str
    parent_id: int | None
    old_state: CommentState | None
    new_state: CommentState
    actor: str | None = None
    # The thread's updated_at as this change set it (new comments; None where not known)
    at: datetime | None = None
    # A comment just published, as a thread's page shows it (new approved comments only):
    # live streams carry it so that open pages need not fetch the page again.
    comment: dict[str, Any] | None = None
    # The comment also gave the thread its title or address (pages show them).
    retitled: bool = False
    # A new comment's row as its transaction wrote it (every CREATED event has it), for
    # that transaction's hooks (reading it back was a round trip a comment on
    # PostgreSQL); not sent to other processes.
    row: Any = None
    # The thread's updated_at as this change found it, where its transaction read the
    # thread (SQLite): another process's change since this one last knew shows as a
    # stamp it never saw. (Last: events are built from positional fields elsewhere.)
    before: datetime | None = None
    # A vote's event: the comment's (score, upvotes, downvotes) as the vote left them.
    votes: tuple[int, int, int] | None = None


@dataclass(frozen=True, slots=True)
class RequestContext:
    """Who is asking: the parts of an HTTP request the services care about."""

    origin: str | None = None
    ip: str | None = None
    voter_token: str | None = None
    edit_token: str | None = None
    account_id: int | None = None
    sso: str | None = None  # the host site's signed sign-on payload (X-Rostra-SSO)
    session: str | None = None  # a session from an OpenID Connect sign-in (X-Rostra-Session)
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NewComment:
    thread: str
    text: str
    site: str | None = None
    name: str | None = None
    email: str | None = None
    website: str | None = None
    parent_id: int | None = None
    title: str | None = None
    url: str | None = None
    anchor: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Posted:
    comment: dict[str, Any]
    edit_token: str
    editable_until: datetime
    voter_token: str | None
    decision: Decision
    site_id: str
    edit_window_seconds: int
